import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetRegistryScanningConfigurationCommand,
  PutImageCommand,
  PutRegistryScanningConfigurationCommand,
} from '@aws-sdk/client-ecr';
import { buildImageManifest } from '@ecr-automation/local-registry';
import {
  filterMatches,
  matchesPattern,
  wildcardMatches as registryWildcardMatches,
} from '@ecr-automation/local-registry/matching';
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { scanningFilterMatches } from '../../shared/policy/compliance/check.ts';
import { compileGlob, wildcardMatches } from '../../shared/policy/glob.ts';
import { scanFilterMatches } from '../../shared/policy/push/scan.ts';
import { tagMatches } from '../../shared/policy/push/tags.ts';
import { SCANNING_FILTER_PATTERN } from '../../shared/policy/reconcile/limits.ts';
import { MAX_REGEX_PROGRAM_SIZE, regexProblem, regexSizeBound } from '../../shared/policy/regex.ts';
import { declareBlobs, failureOf, TEST_REGION } from '../helpers/registry.ts';
import { type Isolate, type RegistryProcess, startIsolate, startRegistryProcess } from './isolate.ts';

/**
 * Hostile patterns. First each defect that stalled a handler or the registry, replayed in child processes (the
 * registry, and the matchers in `isolate-child.ts`) so that a pattern that backtracks fails its test by the timeout
 * instead of blocking the test run. Then the wildcard, glob and regex matchers against simple reference matchers,
 * with generators that aim at backtracking (many `*`, long runs of one character, near misses), at ECR's maximum
 * lengths; these run in the test's own process, after the replays.
 */

// ECR's bounds (service model): repository name 256, scanning filter 255, tag 300 (OCI: 128), exclusion filter 128.
const MAX_REPOSITORY_NAME = 256;
const MAX_SCANNING_FILTER = 255;
const MAX_TAG = 300;
const MAX_OCI_TAG = 128;
const MAX_EXCLUSION_FILTER = 128;
const RUNS = 200;
const PROPERTY_TIMEOUT = 30_000;
const HANG_GUARD = { timeout: 2000 };

// Reference matchers: dynamic programming over prefixes of the pattern and the text (quadratic, never exponential).

/** A wildcard token: a literal character, or `null` for `*` (any run of characters). */
type WildcardToken = string | null;

const tokensOf = (pattern: string): WildcardToken[] => [...pattern].map((char) => (char === '*' ? null : char));

function referenceWildcard(tokens: readonly WildcardToken[], text: string): boolean {
  let row = Array.from({ length: text.length + 1 }, (_, j) => j === 0);
  for (const token of tokens) {
    const next = new Array<boolean>(text.length + 1).fill(false);
    let reached = false;
    for (let j = 0; j <= text.length; j++) {
      if (token === null) {
        reached ||= row[j] === true;
        next[j] = reached;
      } else next[j] = j > 0 && row[j - 1] === true && text[j - 1] === token;
    }
    row = next;
  }
  return row[text.length] === true;
}

/** A repository-name glob token: `*` (within a segment), `**` (across), `**` + `/` (no segment or several), `?`, a char. */
function globTokens(glob: string): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] === '*' && glob[i + 1] === '*') {
      const withSlash = glob[i + 2] === '/';
      tokens.push(withSlash ? '**/' : '**');
      i += withSlash ? 2 : 1;
    } else tokens.push(glob[i] as string);
  }
  return tokens;
}

function referenceGlob(glob: string, text: string): boolean {
  let row = Array.from({ length: text.length + 1 }, (_, j) => j === 0);
  for (const token of globTokens(glob)) {
    const next = new Array<boolean>(text.length + 1).fill(false);
    let reached = false;
    let reachedBeforeSlash = false;
    for (let j = 0; j <= text.length; j++) {
      const previous = text[j - 1];
      const before = j > 0 && row[j - 1] === true;
      if (token === '*') {
        if (previous === '/') reached = false;
        reached ||= row[j] === true;
        next[j] = reached;
      } else if (token === '**') {
        reached ||= row[j] === true;
        next[j] = reached;
      } else if (token === '**/') {
        next[j] = row[j] === true || (previous === '/' && reachedBeforeSlash);
        reachedBeforeSlash ||= row[j] === true;
      } else if (token === '?') next[j] = before && previous !== '/';
      else next[j] = before && previous === token;
    }
    row = next;
  }
  return row[text.length] === true;
}

const RUN_CHARS = new Set('abcdefghijklmnopqrstuvwxyz0123456789*');
const SEPARATORS = new Set('._-/');

/** ECR's scanning-filter language: runs of a-z 0-9 *, one of . _ - / between two runs. */
function referenceScanningFilter(filter: string): boolean {
  let afterSeparator = true;
  for (const char of filter) {
    if (RUN_CHARS.has(char)) afterSeparator = false;
    else if (SEPARATORS.has(char) && !afterSeparator) afterSeparator = true;
    else return false;
  }
  return filter.length > 0 && !afterSeparator;
}

// Adversarial generators: few distinct characters, so that pieces overlap and almost match.

const clip = (max: number) => (text: string) => text.slice(0, max);

/** Text: random over a small alphabet, or a long run of `a` ending in a near miss. */
const hostileText = (max: number, alphabet = ['a', 'a', 'a', 'b', '/']) =>
  fc.oneof(
    fc.string({ unit: fc.constantFrom(...alphabet), maxLength: max }),
    fc
      .tuple(fc.integer({ min: 0, max: max - 1 }), fc.constantFrom('', 'b', 'c', '/', 'ab'))
      .map(([run, tail]) => clip(max)('a'.repeat(run) + tail)),
  );

/** Wildcard: random over a small alphabet with many `*`, or `*a*a*…*b`, or a run of `a` between stars. */
const hostileWildcard = (max: number, alphabet = ['a', 'a', 'b', '*', '*', '/']) =>
  fc.oneof(
    fc.string({ unit: fc.constantFrom(...alphabet), maxLength: max }),
    fc
      .tuple(fc.integer({ min: 1, max: Math.floor(max / 2) }), fc.constantFrom('', 'b', 'c', 'a', '*'))
      .map(([stars, tail]) => clip(max)('*a'.repeat(stars) + tail)),
    fc
      .tuple(fc.integer({ min: 0, max: max - 2 }), fc.constantFrom('b', 'c', 'ab'))
      .map(([run, tail]) => clip(max)(`*${'a'.repeat(run)}*${tail}`)),
  );

const check = (property: fc.IRawProperty<[string, string]>) => fc.assert(property, { numRuns: RUNS });

describe('defects replayed, under a hang guard', () => {
  // The registry and the matchers run in child processes, so that a stuck one fails the test by its timeout; a child
  // a test left stuck is replaced before the next test, so that each test fails or passes on its own.
  let registry: RegistryProcess;
  let client: ECRClient;
  let isolate: Isolate;
  const connect = (url: string) =>
    new ECRClient({
      endpoint: url,
      region: TEST_REGION,
      credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret' },
      maxAttempts: 1,
    });
  beforeAll(async () => {
    [registry, isolate] = await Promise.all([startRegistryProcess(), startIsolate()]);
    client = connect(registry.url);
    // The client's first call loads the SDK's lazy parts: not part of any test's time.
    await client.send(new DescribeRepositoriesCommand({}));
  });
  beforeEach(async () => {
    if (isolate.busy()) {
      isolate.stop();
      isolate = await startIsolate();
    }
    if (!(await registry.answers())) {
      client.destroy();
      registry.stop();
      registry = await startRegistryProcess();
      client = connect(registry.url);
    }
  });
  afterAll(() => {
    client?.destroy();
    registry?.stop();
    isolate?.stop();
  });

  const putScanning = (filter: string) =>
    client.send(
      new PutRegistryScanningConfigurationCommand({
        scanType: 'BASIC',
        rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter, filterType: 'WILDCARD' }] }],
      }),
    );

  it(
    'the registry refuses 25- and 29-character scanning filters at once, and accepts one of 255',
    HANG_GUARD,
    async () => {
      // Prepare: runs of valid characters ending in an invalid one (ECR's pattern backtracked through every split).
      const longest = `${'a*'.repeat(127)}a`;
      // Act
      const short = await failureOf(putScanning(`${'a'.repeat(24)}!`));
      const long = await failureOf(putScanning(`${'a'.repeat(28)}!`));
      await putScanning(longest);
      const { scanningConfiguration } = await client.send(new GetRegistryScanningConfigurationCommand({}));
      // Assess
      for (const refused of [short, long]) {
        expect(refused).toMatchObject({ name: 'ValidationException', message: /must satisfy regular expression/ });
      }
      expect(scanningConfiguration?.rules?.[0]?.repositoryFilters).toEqual([
        { filter: longest, filterType: 'WILDCARD' },
      ]);
    },
  );

  it('the registry moves a 300-character tag past a `*a*a*a*a*b` exclusion filter at once', HANG_GUARD, async () => {
    // Prepare
    await client.send(
      new CreateRepositoryCommand({
        repositoryName: 'hostile/exclusions',
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: '*a*a*a*a*b' }],
      }),
    );
    const push = async (seed: string, imageTag: string) => {
      const imageManifest = buildImageManifest({ seed });
      await declareBlobs(registry, 'hostile/exclusions', imageManifest);
      return client.send(new PutImageCommand({ repositoryName: 'hostile/exclusions', imageManifest, imageTag }));
    };
    const nearMiss = 'a'.repeat(MAX_TAG);
    const excluded = `${'a'.repeat(MAX_TAG - 1)}b`;
    await push('first-miss', nearMiss);
    await push('first-excluded', excluded);
    // Act
    const kept = await failureOf(push('second-miss', nearMiss));
    const moved = await push('second-excluded', excluded);
    // Assess
    expect(kept).toMatchObject({ name: 'ImageTagAlreadyExistsException' });
    expect(moved.image?.imageId?.imageTag).toBe(excluded);
  });

  it('the config refuses a 26-character scanning-filter typo at once, naming the rule', HANG_GUARD, async () => {
    // Prepare: a trailing separator after a long run, and the registry's 25- and 29-character cases.
    const typo = 'paymentsservicecheckoutaa_';
    const rules = [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [typo] }];
    const registryCases = [`${'a'.repeat(24)}!`, `${'a'.repeat(28)}!`];
    // Act
    const problems = await isolate.call('declarationProblems', {
      scanning: {
        prune: false,
        rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [typo, ...registryCases] }],
      },
    });
    const issues = await isolate.call('configIssues', { registry: { scanning: { rules } } });
    // Assess
    expect(typo).toHaveLength(26);
    expect(problems).toEqual(
      [typo, ...registryCases].map(
        (filter) => `registry.scanning.rules[0]: '${filter}' is not a scanning filter (a-z 0-9 . _ - / *)`,
      ),
    );
    expect(issues).toEqual([
      { path: 'registry.scanning.rules[0]', message: `'${typo}' is not a scanning filter (a-z 0-9 . _ - / *)` },
    ]);
  });

  it(
    'on-image-push matches a scanning filter with four stars against a 256-character name at once',
    HANG_GUARD,
    async () => {
      // Prepare
      const run = 'a'.repeat(MAX_REPOSITORY_NAME);
      const nearRun = `${'a'.repeat(MAX_REPOSITORY_NAME - 1)}b`;
      // Act
      const answers = await Promise.all([
        isolate.call('scanFilterMatches', '*a*a*a*a*b', run),
        isolate.call('scanFilterMatches', '*a*a*a*a*b', nearRun),
        isolate.call('scanFilterMatches', '*a*a*a*b', run),
        isolate.call('scanningFilterMatches', '*a*a*a*a*b', run),
        isolate.call('filterMatches', '*a*a*a*a*b', run),
      ]);
      // Assess
      expect(answers).toEqual([false, true, false, false, false]);
    },
  );

  it('globs, tag regexes and EventBridge wildcards built for backtracking answer at once', HANG_GUARD, async () => {
    // Prepare
    const run = 'a'.repeat(MAX_REPOSITORY_NAME);
    const tagRun = 'a'.repeat(MAX_OCI_TAG);
    const event = { detail: { 'image-tag': 'a'.repeat(MAX_TAG) } };
    const wildcard = '*a*a*a*a*a*a*b';
    // Act
    const answers = await Promise.all([
      isolate.call('matchesAnyGlob', run, ['*a*a*a*a*b', '**a**a**a**b']),
      isolate.call('tagMatches', '*a*a*a*a*b', tagRun),
      isolate.call('tagMatches', { regex: '(a+)+b' }, tagRun),
      isolate.call('tagMatches', { regex: '(a|aa)*b' }, tagRun),
      isolate.call('tagMatches', { regex: '(a|aa)*' }, tagRun),
      isolate.call('matchesPattern', { detail: { 'image-tag': [{ wildcard }] } }, event),
      isolate.call('matchesPattern', { detail: { 'image-tag': [{ 'anything-but': { wildcard } }] } }, event),
    ]);
    // Assess
    expect(answers).toEqual([false, false, false, false, true, false, true]);
  });

  it('the config refuses regexes RE2 cannot run, or not quickly, naming the field', HANG_GUARD, async () => {
    // Prepare: a backreference, a lookahead, a counted repetition of 1,802 instructions, and a fine pattern.
    const allowed = [{ regex: '(a)\\1' }, { regex: 'v(?=1)' }, { regex: '(?:a{1,30}){1,30}b' }, { regex: 'v\\d+' }];
    // Act
    const issues = await isolate.call('configIssues', {
      push: { rules: [{ repositories: ['a/*'], tags: { allowed } }] },
    });
    // Assess
    expect(issues).toEqual([
      {
        path: 'push.rules[0].tags.allowed[0].regex',
        message: expect.stringMatching(/^not a regular expression in RE2 syntax .*invalid escape sequence: `\\1`$/),
      },
      { path: 'push.rules[0].tags.allowed[1].regex', message: expect.stringMatching(/RE2 syntax .*`\(\?=`$/) },
      {
        path: 'push.rules[0].tags.allowed[2].regex',
        message:
          'too large: it compiles to up to 1802 RE2 instructions, at most 500 (use fewer or smaller counted repetitions)',
      },
    ]);
  });
});

describe('wildcard matchers agree with the reference', () => {
  it('shared wildcardMatches, scanning filters against repository names', { timeout: PROPERTY_TIMEOUT }, () => {
    check(
      fc.property(hostileWildcard(MAX_SCANNING_FILTER), hostileText(MAX_REPOSITORY_NAME), (pattern, name) => {
        expect(wildcardMatches(pattern, name)).toBe(referenceWildcard(tokensOf(pattern), name));
      }),
    );
  });

  it('registry wildcardMatches, exclusion filters against tags', { timeout: PROPERTY_TIMEOUT }, () => {
    const tagChars = ['a', 'a', 'a', 'b', '-', '.'];
    check(
      fc.property(
        hostileWildcard(MAX_EXCLUSION_FILTER, ['a', 'a', 'b', '*', '*', '-']),
        hostileText(MAX_TAG, tagChars),
        (filter, tag) => {
          expect(registryWildcardMatches(filter.split('*'), tag)).toBe(referenceWildcard(tokensOf(filter), tag));
        },
      ),
    );
  });

  it('the three scanning-filter matchers: contains without `*`, whole name with it', {
    timeout: PROPERTY_TIMEOUT,
  }, () => {
    check(
      fc.property(hostileWildcard(MAX_SCANNING_FILTER), hostileText(MAX_REPOSITORY_NAME), (filter, name) => {
        const expected = filter.includes('*') ? referenceWildcard(tokensOf(filter), name) : name.includes(filter);
        expect(filterMatches(filter, name)).toBe(expected);
        expect(scanFilterMatches(filter, name)).toBe(expected);
        expect(scanningFilterMatches(filter, name)).toBe(expected);
      }),
    );
  });

  it('EventBridge wildcard and anything-but wildcard, escapes included', { timeout: PROPERTY_TIMEOUT }, () => {
    // A token: `*`, a literal character, or an escaped `*` or backslash; no two `*` in a row (EventBridge refuses it).
    const token = fc.constantFrom<WildcardToken>(null, null, 'a', 'a', 'b', '*', '\\');
    const tokens = fc
      .array(token, { maxLength: MAX_TAG })
      .map((list) => list.filter((item, i) => !(item === null && list[i - 1] === null)));
    const encode = (list: readonly WildcardToken[]) =>
      list.map((item) => (item === null ? '*' : item === '*' || item === '\\' ? `\\${item}` : item)).join('');
    const pair = fc.tuple(tokens, hostileText(MAX_TAG, ['a', 'a', 'a', 'b', '*', '\\']));
    fc.assert(
      fc.property(pair, ([list, text]) => {
        const value = encode(list);
        const expected = referenceWildcard(list, text);
        const event = { detail: { 'image-tag': text } };
        expect(matchesPattern({ detail: { 'image-tag': [{ wildcard: value }] } }, event)).toBe(expected);
        expect(matchesPattern({ detail: { 'image-tag': [{ 'anything-but': { wildcard: value } }] } }, event)).toBe(
          !expected,
        );
      }),
      { numRuns: RUNS },
    );
  });
});

describe('glob and regex matchers agree with the reference', () => {
  it('repository-name globs (`*`, `**`, `**/`, `?`)', { timeout: PROPERTY_TIMEOUT }, () => {
    const glob = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', 'b', '/', '*', '*', '?', '.'), maxLength: MAX_REPOSITORY_NAME }),
      fc.integer({ min: 1, max: 120 }).map((stars) => `${'*a'.repeat(stars)}*b`),
    );
    check(
      fc.property(glob, hostileText(MAX_REPOSITORY_NAME, ['a', 'a', 'b', '/', '.']), (pattern, name) => {
        expect(compileGlob(pattern).test(name)).toBe(referenceGlob(pattern, name));
      }),
    );
  });

  it('tag globs and config regexes: RE2 agrees with RegExp on short tags', { timeout: PROPERTY_TIMEOUT }, () => {
    // Regexes from a small grammar (alternation, groups, nested quantifiers); tags short enough for RegExp to finish.
    const regex: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom('a', 'b', '[ab]', '.', '\\d'),
        fc.tuple(tie('node'), tie('node')).map(([left, right]) => `${left}${right}`),
        fc.tuple(tie('node'), tie('node')).map(([left, right]) => `(?:${left}|${right})`),
        fc
          .tuple(tie('node'), fc.constantFrom('*', '+', '?', '{1,3}'))
          .map(([node, quantifier]) => `(${node})${quantifier}`),
      ),
    })).node;
    const tag = fc.string({ unit: fc.constantFrom('a', 'a', 'b', '1'), maxLength: 12 });
    check(
      fc.property(regex, tag, (source, text) => {
        expect(tagMatches({ regex: source }, text)).toBe(new RegExp(`^(?:${source})$`).test(text));
      }),
    );
  });

  it('config regexes: the bit-state match agrees with the DFA on accepted regexes and long tags', {
    timeout: PROPERTY_TIMEOUT,
  }, () => {
    // Counted and nested repetitions, up to the size the config accepts, against tags up to ECR's 300 characters.
    const regex = fc.oneof(
      fc.integer({ min: 1, max: 15 }).map((k) => `(?:a{1,${k}}){1,${k}}b?`),
      fc.integer({ min: 1, max: 160 }).map((n) => `(?:a?){${n}}a{${n}}`),
      fc.integer({ min: 1, max: 60 }).map((n) => `(?:.*a){${n}}`),
      fc.integer({ min: 1, max: 240 }).map((n) => `[ab]{1,${n}}`),
      fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '+', '?', '|', '(?:', ')', '{2,9}'), maxLength: 40 }),
    );
    check(
      fc.property(regex, hostileText(MAX_TAG, ['a', 'a', 'a', 'b']), (source, tag) => {
        if (regexProblem(source) !== undefined) return;
        expect(tagMatches({ regex: source }, tag)).toBe(RE2JS.compile(source).matches(tag));
      }),
    );
  });

  it('scanning-filter validation accepts the language of ECR’s pattern', { timeout: PROPERTY_TIMEOUT }, () => {
    // ECR's own pattern, on filters short enough for it to finish.
    const ecr = /^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$/;
    const filterChars = ['a', 'a', '*', '0', '.', '_', '-', '/', 'A', ' '];
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...filterChars), maxLength: 14 }), (filter) => {
        expect(SCANNING_FILTER_PATTERN.test(filter)).toBe(ecr.test(filter));
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: fc.constantFrom(...filterChars), maxLength: MAX_SCANNING_FILTER }),
          fc
            .tuple(fc.integer({ min: 1, max: MAX_SCANNING_FILTER - 1 }), fc.constantFrom('', '!', '_', '-a', '..a'))
            .map(([run, tail]) => clip(MAX_SCANNING_FILTER)('a'.repeat(run) + tail)),
        ),
        (filter) => {
          expect(SCANNING_FILTER_PATTERN.test(filter)).toBe(referenceScanningFilter(filter));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('config regex validation: bounded before RE2 compiles', () => {
  it('accepts real tag patterns, with a bound at or near their program size', () => {
    // Prepare: semantic versions (the semver.org pattern among them), branch-and-commit tags, bounded runs.
    const patterns = [
      'v\\d+\\.\\d+\\.\\d+',
      '^(main|release)-[0-9a-f]{7,40}$',
      'v?\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z.-]+)?',
      '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$',
      '[a-z0-9]{1,64}',
      '[a-z0-9][a-z0-9._-]{0,127}',
      '(?i)^(?:dev|staging|prod)-\\d{8}(?:-[a-f0-9]{7,12})?$',
      '(?P<env>prod|stage)-(?P<date>\\d{4}-\\d{2}-\\d{2})',
      '\\Qv1.2\\E(?:\\.\\d+)*',
      '[[:alnum:]]{1,32}',
    ];
    // Act
    const answers = patterns.map((source) => ({
      problem: regexProblem(source),
      bound: regexSizeBound(source),
      size: RE2JS.compile(source).programSize(),
    }));
    // Assess
    for (const { problem, bound, size } of answers) {
      expect(problem).toBeUndefined();
      expect(bound).toBeGreaterThanOrEqual(size);
      expect(bound).toBeLessThanOrEqual(size * 1.5);
    }
  });

  it('refuses nested and long counted repetitions by the bound alone, without compiling', () => {
    // Prepare: each would take RE2 milliseconds to compile (or refuse) before its size showed.
    const hostile = [
      '(?:a{1,30}){1,30}b',
      '(?:a{1,40}){1,40}b',
      '[\\p{L}\\p{N}]{1,600}',
      '(?:a?){500}a{500}',
      '(?:(?:(?:a{1,10}){1,10}){1,10}){1,10}',
      '(?:\\pL|\\d|x){1,1000}',
      `(?:${'[a-z]?'.repeat(40)}){1,30}`,
    ];
    // Act
    const answers = hostile.map((source) => ({ problem: regexProblem(source), bound: regexSizeBound(source) }));
    // Assess
    for (const { problem, bound } of answers) {
      expect(bound).toBeGreaterThan(MAX_REGEX_PROGRAM_SIZE);
      expect(problem).toBe(
        `too large: it compiles to up to ${bound} RE2 instructions, at most 500 (use fewer or smaller counted repetitions)`,
      );
    }
  });

  it('refuses more than sixteen Unicode classes, with repetitions counted', () => {
    // Prepare: sixty `\pL` under `(?i)` are 62 instructions, but each is a case-folded table of hundreds of ranges;
    // a repetition copies its class into every instruction.
    const sources = [
      `(?i)${'\\pL'.repeat(60)}`,
      '[\\p{L}\\p{N}]{1,200}',
      '(?:\\pL|_){17,}',
      '[\\p{Lu}\\p{Nd}]{1,8}',
      '[\\pL\\pN._-]+',
      `${'\\\\p'.repeat(20)}`,
    ];
    // Act
    const problems = sources.map(regexProblem);
    // Assess: escaped backslashes before a `p` are not classes.
    const tooMany = (count: number) =>
      `too many Unicode classes: ${count} \\p or \\P with repetitions counted, at most 16 (tags are ASCII: use classes such as [A-Za-z0-9])`;
    expect(problems).toEqual([tooMany(60), tooMany(400), tooMany(17), undefined, undefined, undefined]);
  });

  it('refuses a regex longer than 256 characters before reading it', () => {
    expect(regexProblem('a'.repeat(257))).toBe('too long: 257 characters, at most 256');
    expect(regexProblem('a'.repeat(256))).toBeUndefined();
  });

  it('the bound is never below the size RE2 compiles to', { timeout: PROPERTY_TIMEOUT }, () => {
    // Regexes from RE2's grammar: groups of every kind, alternation, classes, escapes, counted repetitions.
    const atom = fc.constantFrom(
      'a',
      'b',
      '.',
      '[ab]',
      '[^a]',
      '[]a]',
      '\\d',
      '\\pL',
      '\\p{Greek}',
      '\\x41',
      '\\x{42}',
      '\\Qa.\\E',
      '^',
      '$',
      '\\b',
      '{',
      '[[:alpha:]]',
    );
    const quantifier = fc.constantFrom('', '', '*', '+', '?', '*?', '{2}', '{0,3}', '{2,}', '{1,5}?', '{0}');
    const regex: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        atom,
        fc.tuple(tie('node'), tie('node')).map(([left, right]) => `${left}${right}`),
        fc
          .tuple(fc.constantFrom('(', '(?:', '(?i:', '(?P<n>', '(?<m>'), tie('node'), tie('node'))
          .map(([open, left, right]) => `${open}${left}|${right})`),
        fc.tuple(fc.constantFrom('(', '(?:'), tie('node'), quantifier).map(([open, node, q]) => `${open}${node})${q}`),
        fc.tuple(atom, quantifier).map(([node, q]) => `${node}${q}`),
        fc.tuple(fc.constantFrom('(?i)', '(?s)'), tie('node')).map(([flags, node]) => `${flags}${node}`),
      ),
    })).node;
    fc.assert(
      fc.property(regex, (source) => {
        let size: number;
        try {
          size = RE2JS.compile(source).programSize();
        } catch {
          return; // RE2 refuses it: the compile says why.
        }
        expect(regexSizeBound(source)).toBeGreaterThanOrEqual(size);
      }),
      { numRuns: 1000 },
    );
  });
});
