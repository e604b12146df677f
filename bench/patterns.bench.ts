import { performance } from 'node:perf_hooks';
import { compileTagPattern, tagMatchesPattern } from '@ecr-automation/lifecycle';
import {
  filterMatches,
  matchesPattern,
  REPOSITORY_NAME,
  wildcardMatches as registryWildcardMatches,
  SCANNING_FILTER_VALUE,
} from '@ecr-automation/local-registry/matching';
import fc from 'fast-check';
import { scanningFilterMatches } from '../shared/policy/compliance/check.ts';
import { matchesAnyGlob } from '../shared/policy/glob.ts';
import { scanFilterMatches } from '../shared/policy/push/scan.ts';
import { tagMatches } from '../shared/policy/push/tags.ts';
import { declarationProblems } from '../shared/policy/reconcile/limits.ts';
import { buildRegex, regexProblem } from '../shared/policy/regex.ts';
import { emit, intEnv, progress, round } from './lib.ts';

/**
 * The worst case of every pattern matcher and validator that takes user or config input, at ECR's maximum lengths
 * (repository name 256, scanning filter 255, tag 300 (lifecycle tag patterns too), exclusion filter 128, config regex
 * 256). For each, fast-check draws BENCH_PATTERNS_SAMPLES inputs (default 400) from adversarial generators with a
 * fixed seed (BENCH_PATTERNS_SEED) — many `*`, long runs of one character, near misses, nested and counted repetitions — after hand-written worst
 * shapes; each input is timed BENCH_PATTERNS_REPS times (default 3, the median kept), and the slowest input is the
 * figure, in ms (goal: under 10 ms; a backtracking matcher takes seconds to hours on these inputs). The config regex
 * validation bounds each regex's program size in one pass over its source and compiles only those within the limit
 * (RE2 programs of up to 500 instructions): it runs once per config load, and its figure is mostly allocation and
 * garbage collection.
 */
const SAMPLES = intEnv('BENCH_PATTERNS_SAMPLES', 400);
const REPS = intEnv('BENCH_PATTERNS_REPS', 3);
const SEED = intEnv('BENCH_PATTERNS_SEED', 20_261_205);

const MAX_REPOSITORY_NAME = 256;
const MAX_SCANNING_FILTER = 255;
const MAX_TAG = 300;
const MAX_OCI_TAG = 128;
const MAX_EXCLUSION_FILTER = 128;
const MAX_CONFIG_REGEX = 256;

const clip = (max: number) => (text: string) => text.slice(0, max);

/** Text over a small alphabet, or a run of `a` with a near-miss tail. */
const hostileText = (max: number, alphabet: readonly string[]) =>
  fc.oneof(
    fc.string({ unit: fc.constantFrom(...alphabet), minLength: Math.floor(max / 2), maxLength: max }),
    fc
      .tuple(fc.integer({ min: max - 8, max: max - 1 }), fc.constantFrom('', 'b', 'c', '/', 'ab'))
      .map(([run, tail]) => clip(max)('a'.repeat(run) + tail)),
  );

/** A `*` wildcard: many stars over a small alphabet, `*a*a*…*b`, or a run of `a` between stars. */
const hostileWildcard = (max: number, alphabet: readonly string[]) =>
  fc.oneof(
    fc.string({ unit: fc.constantFrom(...alphabet), minLength: Math.floor(max / 2), maxLength: max }),
    fc
      .tuple(fc.integer({ min: 1, max: Math.floor(max / 2) }), fc.constantFrom('', 'b', 'c', 'a'))
      .map(([stars, tail]) => clip(max)('*a'.repeat(stars) + tail)),
    fc
      .tuple(fc.integer({ min: 0, max: max - 2 }), fc.constantFrom('b', 'c', 'ab'))
      .map(([run, tail]) => clip(max)(`*${'a'.repeat(run)}*${tail}`)),
  );

/** A scanning filter that almost validates: runs of valid characters, separators, and an invalid ending. */
const hostileScanningFilter = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'a', '*', '0', '.', '_', '-', '/'), maxLength: MAX_SCANNING_FILTER }),
  fc
    .tuple(fc.integer({ min: 1, max: MAX_SCANNING_FILTER - 1 }), fc.constantFrom('!', '_', '-', 'A', '..a'))
    .map(([run, tail]) => clip(MAX_SCANNING_FILTER)('a'.repeat(run) + tail)),
);

/** A repository name that almost validates (ECR's grammar: runs, one separator or `__` or `-` runs, `/`). */
const hostileRepositoryName = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'a', '0', '.', '_', '-', '/'), maxLength: MAX_REPOSITORY_NAME }),
  fc
    .tuple(fc.integer({ min: 1, max: MAX_REPOSITORY_NAME - 1 }), fc.constantFrom('_', '-', '/', '.', '__', 'A'))
    .map(([run, tail]) => clip(MAX_REPOSITORY_NAME)(`${'a-'.repeat(Math.floor(run / 2))}${tail}`)),
);

/** A config regex built to be expensive: nested and counted repetitions, alternations, classes. */
const hostileRegex: fc.Arbitrary<string> = fc
  .oneof(
    fc.integer({ min: 1, max: 40 }).map((k) => `(?:a{1,${k}}){1,${k}}b`),
    fc.integer({ min: 1, max: 600 }).map((n) => `[\\p{L}\\p{N}]{1,${n}}`),
    fc.integer({ min: 1, max: 200 }).map((n) => `(?:a?){${n}}a{${n}}`),
    fc.integer({ min: 1, max: 60 }).map((n) => `(?:.*a){${n}}`),
    fc.integer({ min: 1, max: 40 }).map((n) => `${'(?:a|aa)*'.repeat(n)}b`),
    fc.integer({ min: 1, max: 30 }).map((n) => `${'('.repeat(n)}a+${')+'.repeat(n)}b`),
    fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '+', '?', '|', '(', ')', '{2,9}'), maxLength: 60 }),
    // Few instructions, but each Unicode class is a table RE2 builds (and case-folds under `(?i)`) while parsing.
    fc
      .tuple(
        fc.constantFrom('', '(?i)'),
        fc.constantFrom('\\pL', '[\\p{L}\\p{N}]', '[^\\pL\\pN\\pS\\pP]', '\\p{Greek}'),
      )
      .chain(([flags, unit]) => fc.integer({ min: 1, max: 60 }).map((n) => `${flags}${unit.repeat(n)}`)),
    // Just under the size bound: the largest programs the config accepts, compiled in full.
    fc.integer({ min: 200, max: 260 }).map((n) => `[a-z0-9]{1,${n}}`),
    fc.integer({ min: 1, max: 20 }).map((n) => `(?i)[\\p{L}\\p{N}]{1,${n}}`),
    fc.integer({ min: 14, max: 17 }).map((k) => `(?:a{1,${k}}){1,${k}}b`),
    fc.integer({ min: 1, max: 260 }).map((n) => `(?:a|b|c){1,${n}}x?`),
  )
  .map(clip(MAX_CONFIG_REGEX));

interface Target {
  readonly name: string;
  /** Hand-written worst shapes, timed before the drawn inputs. */
  readonly worst: readonly (readonly unknown[])[];
  readonly inputs: fc.Arbitrary<readonly unknown[]>;
  readonly run: (...args: never[]) => unknown;
}

const nameRun = 'a'.repeat(MAX_REPOSITORY_NAME);
const tagRun = 'a'.repeat(MAX_TAG);
const eventOf = (tag: string) => ({ detail: { 'image-tag': tag } });
const declaration = (filter: string) => ({
  scanning: { prune: false, rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [filter] }] },
});

const TARGETS: readonly Target[] = [
  {
    name: 'on_image_push_scan_filter',
    worst: [['*a*a*a*a*b', nameRun]],
    inputs: fc.tuple(
      hostileWildcard(MAX_SCANNING_FILTER, ['a', 'a', 'b', '*', '*', '/']),
      hostileText(MAX_REPOSITORY_NAME, ['a', 'a', 'a', 'b', '/']),
    ),
    run: scanFilterMatches,
  },
  {
    name: 'compliance_scan_filter',
    worst: [['*a*a*a*a*b', nameRun]],
    inputs: fc.tuple(
      hostileWildcard(MAX_SCANNING_FILTER, ['a', 'a', 'b', '*', '*', '/']),
      hostileText(MAX_REPOSITORY_NAME, ['a', 'a', 'a', 'b', '/']),
    ),
    run: scanningFilterMatches,
  },
  {
    name: 'registry_scan_filter',
    worst: [['*a*a*a*a*b', nameRun]],
    inputs: fc.tuple(
      hostileWildcard(MAX_SCANNING_FILTER, ['a', 'a', 'b', '*', '*', '/']),
      hostileText(MAX_REPOSITORY_NAME, ['a', 'a', 'a', 'b', '/']),
    ),
    run: filterMatches,
  },
  {
    name: 'registry_exclusion_filter',
    worst: [['*a*a*a*a*b'.split('*'), tagRun]],
    inputs: fc
      .tuple(
        hostileWildcard(MAX_EXCLUSION_FILTER, ['a', 'a', 'b', '*', '*', '-']),
        hostileText(MAX_TAG, ['a', 'a', 'a', 'b', '-']),
      )
      .map(([filter, tag]) => [filter.split('*'), tag]),
    run: registryWildcardMatches,
  },
  {
    // A lifecycle rule's tagPatternList entry, compiled and matched (the policy checker allows four `*` per entry;
    // the matcher is timed on more).
    name: 'lifecycle_tag_pattern',
    worst: [
      ['*a*a*a*a*b', tagRun],
      [`*${'a'.repeat(150)}b*a`, tagRun],
    ],
    inputs: fc.tuple(
      hostileWildcard(MAX_TAG, ['a', 'a', 'b', '*', '*', '-']),
      hostileText(MAX_TAG, ['a', 'a', 'a', 'b', '-']),
    ),
    run: (pattern: string, tag: string) => tagMatchesPattern(compileTagPattern(pattern), tag),
  },
  {
    name: 'eventbridge_wildcard',
    worst: [
      [{ detail: { 'image-tag': [{ wildcard: '*a*a*a*a*a*a*b' }] } }, eventOf(tagRun)],
      [{ detail: { 'image-tag': [{ 'anything-but': { wildcard: '*a*a*a*a*a*a*b' } }] } }, eventOf(tagRun)],
    ],
    inputs: fc
      .tuple(
        hostileWildcard(MAX_TAG, ['a', 'a', 'b', '*', '-']).map((value) => value.replace(/\*{2,}/g, '*')),
        hostileText(MAX_TAG, ['a', 'a', 'a', 'b', '-']),
        fc.boolean(),
      )
      .map(([wildcard, tag, negated]) => [
        { detail: { 'image-tag': [negated ? { 'anything-but': { wildcard } } : { wildcard }] } },
        eventOf(tag),
      ]),
    run: matchesPattern,
  },
  {
    name: 'repository_glob',
    worst: [[nameRun, ['*a*a*a*a*b', '**a**a**a**b']]],
    inputs: fc
      .tuple(
        hostileText(MAX_REPOSITORY_NAME, ['a', 'a', 'b', '/']),
        hostileWildcard(MAX_REPOSITORY_NAME, ['a', 'b', '*', '*', '?', '/']),
      )
      .map(([name, glob]) => [name, [glob]]),
    run: matchesAnyGlob,
  },
  {
    name: 'tag_glob',
    worst: [['*a*a*a*a*b', 'a'.repeat(MAX_OCI_TAG)]],
    inputs: fc.tuple(
      hostileWildcard(MAX_OCI_TAG, ['a', 'a', 'b', '*', '*', '?', '-']),
      hostileText(MAX_OCI_TAG, ['a', 'a', 'a', 'b', '-']),
    ),
    run: tagMatches,
  },
  {
    name: 'tag_regex',
    worst: [
      [{ regex: '(a+)+b' }, 'a'.repeat(MAX_OCI_TAG)],
      [{ regex: '(?:a{1,15}){1,15}b' }, `${'a'.repeat(MAX_OCI_TAG - 1)}c`],
    ],
    // Only the regexes the config accepts (at most 500 RE2 instructions, 16 Unicode classes) reach the matcher.
    inputs: fc
      .tuple(hostileRegex, hostileText(MAX_OCI_TAG, ['a', 'a', 'a', 'b']))
      .filter(([source]) => regexProblem(source) === undefined)
      .map(([regex, tag]) => [{ regex }, tag]),
    run: tagMatches,
  },
  {
    // A cold handler's first tag: the regex compiled and matched once (the figure above times a compiled regex, kept by
    // `compileRegex`, as the median of three runs).
    name: 'tag_regex_first_match',
    worst: [['(?:a{1,15}){1,15}b', `${'a'.repeat(MAX_OCI_TAG - 1)}c`]],
    inputs: fc
      .tuple(hostileRegex, hostileText(MAX_OCI_TAG, ['a', 'a', 'a', 'b']))
      .filter(([source]) => regexProblem(source) === undefined),
    run: (source: string, tag: string) => buildRegex(source).test(tag),
  },
  {
    name: 'config_tag_regex_validation',
    worst: [['(?:a{1,30}){1,30}b'], ['[\\p{L}\\p{N}]{1,1000}'], [`(?i)${'\\pL'.repeat(60)}`]],
    inputs: hostileRegex.map((source) => [source]),
    run: regexProblem,
  },
  {
    name: 'config_scanning_filter_validation',
    worst: [[declaration(`${'a'.repeat(25)}_`)], [declaration(`${'a'.repeat(254)}!`)]],
    inputs: hostileScanningFilter.map((filter) => [declaration(filter)]),
    run: declarationProblems,
  },
  {
    name: 'registry_scanning_filter_validation',
    worst: [[`${'a'.repeat(28)}!`], [`${'a'.repeat(254)}!`]],
    inputs: hostileScanningFilter.map((filter) => [filter]),
    run: (filter: string) => SCANNING_FILTER_VALUE.pattern?.test(filter),
  },
  {
    name: 'registry_repository_name_validation',
    worst: [[`${'a-'.repeat(127)}_`], [`${'a_'.repeat(127)}/`]],
    inputs: hostileRepositoryName.map((name) => [name]),
    run: (name: string) => REPOSITORY_NAME.pattern?.test(name),
  },
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** A short, printable form of an input: strings as their length and first characters. */
const describe = (args: readonly unknown[]) =>
  JSON.stringify(args, (_key, value) =>
    typeof value === 'string' && value.length > 24 ? `${value.slice(0, 24)}…(${value.length})` : value,
  );

const started = performance.now();
for (const target of TARGETS) {
  const call = target.run as (...args: readonly unknown[]) => unknown;
  const drawn = fc.sample(target.inputs, { seed: SEED, numRuns: SAMPLES });
  // Warm-up: the JIT and the compiled-pattern caches, on inputs of the same kind (another seed).
  for (const args of fc.sample(target.inputs, { seed: SEED + 1, numRuns: 50 })) call(...args);
  let worstMs = 0;
  let worstInput: readonly unknown[] = [];
  for (const args of [...target.worst, ...drawn]) {
    const times: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const before = performance.now();
      call(...args);
      times.push(performance.now() - before);
    }
    const ms = median(times);
    if (ms > worstMs) {
      worstMs = ms;
      worstInput = args;
    }
  }
  emit({
    name: `pattern_${target.name}_worst_ms`,
    value: round(worstMs, 3),
    unit: 'ms',
    goal: '< 10',
    inputs: target.worst.length + drawn.length,
    seed: SEED,
    worst: describe(worstInput),
  });
}
progress(`patterns: ${TARGETS.length} matchers and validators in ${round((performance.now() - started) / 1000, 1)} s`);
