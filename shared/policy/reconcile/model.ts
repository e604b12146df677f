/**
 * The registry-level settings the reconciler manages, as plain data: what the config declares and what the
 * registry holds use the same shapes (`shared/domain/registry.ts`, which the gateway speaks too), so that a plan is a
 * comparison of like with like.
 */

export type {
  CreationTemplate,
  PullThroughCacheRule,
  ReplicationDestination,
  ReplicationRule,
  ScanningConfiguration,
  ScanningRule,
} from '../../domain/registry.ts';

import type {
  CreationTemplate,
  PullThroughCacheRule,
  ReplicationRule,
  ScanningConfiguration,
  ScanningRule,
} from '../../domain/registry.ts';

/**
 * One statement of the registry policy, as IAM writes it (`Effect`, `Principal`, `Action`, `Condition`, ...). The
 * config requires a `Sid`, unique across every file: it is the statement's identity when plans compare and merge.
 */
export interface PolicyStatement {
  Sid: string;
  [field: string]: unknown;
}

/** What the registry holds now, for the sections the config declares (an undeclared section is not read). */
export interface RegistrySnapshot {
  replication?: ReplicationRule[];
  pullThroughCacheRules?: PullThroughCacheRule[];
  creationTemplates?: CreationTemplate[];
  scanning?: ScanningConfiguration;
  /** The registry policy's JSON text (GetRegistryPolicy); absent: the registry has no policy. */
  registryPolicyText?: string;
}

/**
 * What the config declares. A section that is absent is not managed at all: nothing in it is read, changed or
 * removed (so removing a section from the config never switches an account-wide service off). `prune: true` says the
 * config owns the whole section: what it does not mention is deleted.
 */
export interface RegistryDeclaration {
  replication?: { prune: boolean; rules: ReplicationRule[] };
  pullThroughCache?: { prune: boolean; rules: PullThroughCacheRule[] };
  creationTemplates?: { prune: boolean; templates: CreationTemplate[] };
  /** `scanType` absent: keep the registry's. Rules merge with the registry's per frequency unless `prune`. */
  scanning?: { prune: boolean; scanType?: string; rules: ScanningRule[] };
  /**
   * Statements of the registry policy, by `Sid`. The registry's statements the config does not mention are kept
   * unless `prune`; with `prune` and no statements the policy is deleted.
   */
  registryPolicy?: { prune: boolean; statements: PolicyStatement[] };
}

/** One declaration and the file it came from (several teams may each own a file). */
export interface SourcedDeclaration {
  source: string;
  declaration: RegistryDeclaration;
}
