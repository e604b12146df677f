/**
 * Registry-level settings as plain data (replication, pull-through cache rules, creation templates, registry scanning):
 * the gateway reads and writes these shapes, and the reconciler compares a config's with the registry's in them.
 */

export interface ReplicationDestination {
  region: string;
  registryId: string;
}

/** A replication rule; `repositoryFilters` are name prefixes (`PREFIX_MATCH`), none meaning every repository. */
export interface ReplicationRule {
  destinations: ReplicationDestination[];
  repositoryFilters: string[];
}

export interface PullThroughCacheRule {
  /** `ecrRepositoryPrefix` without the trailing `/` ECR always assumes. */
  prefix: string;
  upstreamRegistryUrl: string;
  upstreamRegistry?: string;
  credentialArn?: string;
  customRoleArn?: string;
  upstreamRepositoryPrefix?: string;
}

export interface CreationTemplate {
  /** Without a trailing `/`, or `ROOT`. */
  prefix: string;
  appliedFor: string[];
  description?: string;
  imageTagMutability: string;
  imageTagMutabilityExclusionFilters: string[];
  encryptionType: string;
  kmsKey?: string;
  /** JSON text. */
  lifecyclePolicy?: string;
  /** JSON text. */
  repositoryPolicy?: string;
  resourceTags: Record<string, string>;
  customRoleArn?: string;
}

export interface ScanningRule {
  /** `SCAN_ON_PUSH` or `CONTINUOUS_SCAN`. */
  scanFrequency: string;
  /** `WILDCARD` filters. */
  repositoryFilters: string[];
}

export interface ScanningConfiguration {
  /** `BASIC` or `ENHANCED`. */
  scanType: string;
  rules: ScanningRule[];
}
