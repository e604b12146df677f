import type { z } from 'zod';
import { type CleanupRule, DEFAULT_CLEANUP_RULE } from '../policy/cleanup/plan.ts';
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
  const match = resolveRule<CleanupRule>(rules, config.defaults, DEFAULT_CLEANUP_RULE, repositoryName);
  if (match === undefined || registry === 'private') return match;
  return { rule: { ...match.rule, notPulledForDays: 0 }, index: match.index };
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
