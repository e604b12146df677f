import type { z } from 'zod';
import type { SelectionPattern, TagSelection } from '../domain/settings.ts';
import { ARCHIVE_MINIMUM_DAYS } from '../policy/cleanup/cost.ts';
import { type CleanupRule, DEFAULT_CLEANUP_RULE } from '../policy/cleanup/plan.ts';
import { describeSelectionPattern, selectionMatcher } from '../policy/cleanup/retention.ts';
import { DEFAULT_PUSH_POLICY, type PushPolicy } from '../policy/push/policy.ts';
import { DEFAULT_SCAN_POLICY, type ScanPolicy } from '../policy/scan/policy.ts';
import { resolveRule } from './rules.ts';
import {
  type CleanupConfig,
  type PushConfig,
  type ScanConfig,
  type ServiceConfig,
  ServiceConfigSchema,
} from './schema.ts';

/** A config that does not satisfy the schema. Never retried: the file has to change. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

const pathOf = (path: readonly PropertyKey[]) =>
  path.length === 0
    ? '(root)'
    : path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`)).join('');

/** Parses and validates a config document; the error names the path of every bad field. */
export function parseConfig(document: unknown, source = 'config'): Readonly<ServiceConfig> {
  const result = ServiceConfigSchema.safeParse(document);
  if (!result.success) {
    const issues = result.error.issues.map((issue: z.core.$ZodIssue) => ({
      path: pathOf(issue.path),
      message: issue.message,
    }));
    throw new ConfigError(
      `Invalid ${source}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      issues,
    );
  }
  return Object.freeze(result.data);
}

/** Parses config text (JSON). */
export function parseConfigText(text: string, source = 'config'): Readonly<ServiceConfig> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Invalid ${source}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return parseConfig(document, source);
}

/**
 * The cleanup settings for one repository of a registry (private by default): the first enabled rule of that
 * registry whose globs match, over the defaults. A public rule plans with `notPulledForDays: 0`: ECR Public records
 * no pull time, and the config refuses the setting on a public rule (`CleanupConfigSchema`).
 */
export function cleanupRuleFor(
  config: CleanupConfig,
  repositoryName: string,
  registry: 'private' | 'public' = 'private',
): { rule: CleanupRule; index: number } | undefined {
  // Rules of the other registry match nothing, so that the index stays the rule's place in the config.
  const rules = config.rules.map((rule) => (rule.registry === registry ? rule : { ...rule, repositories: [] }));
  const resolved = resolveRule<CleanupRule>(rules, config.defaults, DEFAULT_CLEANUP_RULE, repositoryName);
  // The optional settings the built-in rule has no value for (`resolveRule` takes only its keys), over the defaults.
  const match =
    resolved === undefined
      ? undefined
      : { ...resolved, rule: withOptionalSettings(resolved.rule, config, resolved.index) };
  if (match === undefined || registry === 'private') return match;
  return { rule: { ...match.rule, notPulledForDays: 0 }, index: match.index };
}

/** The archive settings of the matched rule, else of the defaults; absent when neither sets them. */
function withOptionalSettings(rule: CleanupRule, config: CleanupConfig, index: number): CleanupRule {
  const matched = config.rules[index];
  const action = matched?.action ?? config.defaults.action;
  const deleteArchivedAfterDays = matched?.deleteArchivedAfterDays ?? config.defaults.deleteArchivedAfterDays;
  return {
    ...rule,
    ...(action === undefined ? {} : { action }),
    ...(deleteArchivedAfterDays === undefined ? {} : { deleteArchivedAfterDays }),
  };
}

/**
 * The push policy for one repository: the first rule whose globs match (and whose excludes do not), over the
 * defaults; undefined when no rule matches or the matching rule is disabled. A rule's `tags` replaces the defaults'
 * `tags` as a whole.
 */
export function pushRuleFor(
  config: PushConfig,
  repositoryName: string,
): { rule: PushPolicy; index: number } | undefined {
  return resolveRule<PushPolicy>(config.rules, config.defaults, DEFAULT_PUSH_POLICY, repositoryName);
}

/**
 * The scan policy for one repository: the first rule whose globs match (and whose excludes do not), over the
 * defaults; undefined when no rule matches or the matching rule is disabled. A rule's `maxFindings` replaces the
 * defaults' as a whole.
 */
export function scanRuleFor(
  config: ScanConfig,
  repositoryName: string,
): { rule: ScanPolicy; index: number } | undefined {
  return resolveRule<ScanPolicy>(config.rules, config.defaults, DEFAULT_SCAN_POLICY, repositoryName);
}

/** Something in a valid config that probably does not do what its author meant: printed by `cleanup plan`. */
export interface ConfigWarning {
  path: string;
  message: string;
}

/** Tags a release pattern matches: a selection that matches one of these holds releases. */
const RELEASE_SAMPLES = ['v1.0.0', '1.0.0', 'v1.2.3', '1.2.3', 'v2.0.0-rc.1'];
/** ECR's tag syntax: a tag starts with a letter, digit or `_`. */
const TAG_START = /^[A-Za-z0-9_*?]/;

const isGlob = (pattern: SelectionPattern): pattern is string => typeof pattern === 'string';
const hasWildcard = (glob: string) => /[*?]/.test(glob);

/** Whether every tag `later` matches is matched by `earlier` (a conservative check: true only when certain). */
function shadows(earlier: SelectionPattern, later: SelectionPattern): boolean {
  if (!isGlob(earlier) && 'form' in earlier && earlier.form === 'any') return true;
  if (earlier === '*') return true;
  if (!isGlob(later)) return false;
  if (!hasWildcard(later)) return selectionMatcher(earlier).test(later);
  if (!isGlob(earlier)) return false;
  // `pr-*` shadows `pr-1*`, `pr-?x`: a prefix then one trailing `*`.
  const prefix = earlier.slice(0, -1);
  return earlier.endsWith('*') && !hasWildcard(prefix) && later.startsWith(prefix);
}

/** Why a pattern can never match a tag, or undefined. */
function neverMatches(pattern: SelectionPattern): string | undefined {
  if (isGlob(pattern) && !TAG_START.test(pattern)) {
    return `the glob ${pattern} can never match: a tag starts with a letter, a digit or _`;
  }
  return undefined;
}

/**
 * The cleanup section's warnings: a tag selection that can never match (its patterns invalid as tags, or every one
 * shadowed by an earlier selection, which claims those tags first), a pattern an earlier selection shadows, and
 * `keepLast: 0` on a release pattern (semver, `v*`) without `protect`, which keeps no release. Each with its path.
 */
export function cleanupConfigWarnings(config: CleanupConfig): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const check = (selections: readonly TagSelection[] | undefined, at: string) => {
    (selections ?? []).forEach((selection, index) => {
      const path = `${at}.tagSelections[${index}]`;
      const earlier = (selections ?? []).slice(0, index).flatMap((other, o) => other.tags.map((p) => ({ p, o })));
      let dead = 0;
      selection.tags.forEach((pattern, k) => {
        const never = neverMatches(pattern);
        if (never !== undefined) {
          dead++;
          warnings.push({ path: `${path}.tags[${k}]`, message: never });
          return;
        }
        const shadow = earlier.find(({ p }) => shadows(p, pattern));
        if (shadow !== undefined) {
          dead++;
          warnings.push({
            path: `${path}.tags[${k}]`,
            message: `${describeSelectionPattern(pattern)} is shadowed by ${describeSelectionPattern(shadow.p)} of tagSelections[${shadow.o}], which claims its tags first`,
          });
        }
      });
      if (dead === selection.tags.length) {
        warnings.push({ path, message: 'this selection can never match: no tag reaches it' });
      }
      const release = selection.tags.find((pattern) =>
        RELEASE_SAMPLES.some((tag) => selectionMatcher(pattern).test(tag)),
      );
      if (selection.keepLast === 0 && selection.protect !== true && release !== undefined) {
        warnings.push({
          path: `${path}.keepLast`,
          message: `keepLast 0 on the release pattern ${describeSelectionPattern(release)} keeps no release by count`,
        });
      }
    });
  };
  const archiveMinimum = (days: number | undefined, at: string) => {
    if (days !== undefined && days < ARCHIVE_MINIMUM_DAYS) {
      warnings.push({
        path: `${at}.deleteArchivedAfterDays`,
        message: `deleteArchivedAfterDays ${days} is under ECR's ${ARCHIVE_MINIMUM_DAYS}-day minimum archive storage charge: an image deleted sooner is still charged for ${ARCHIVE_MINIMUM_DAYS} days`,
      });
    }
  };
  archiveMinimum(config.defaults.deleteArchivedAfterDays, 'cleanup.defaults');
  for (const [index, rule] of config.rules.entries()) {
    archiveMinimum(rule.deleteArchivedAfterDays, `cleanup.rules[${index}]`);
  }
  check(config.defaults.tagSelections, 'cleanup.defaults');
  for (const [index, rule] of config.rules.entries()) check(rule.tagSelections, `cleanup.rules[${index}]`);
  return warnings;
}
