/** What a repository must look like, per the config's `compliance` section (one matched rule over the defaults). */
export interface CompliancePolicy {
  /** report: publish findings only. enforce: also fix what ECR lets the service fix. */
  mode: 'report' | 'enforce';
  /** The required tag mutability (with its exclusion filters); null: not checked. */
  tagMutability: { setting: string; exclusions: string[] } | null;
  /** Images must be scanned on push: the repository's flag, or a registry scanning rule that covers it. */
  scanOnPush: boolean;
  /**
   * The lifecycle policy the repository must have (JSON text), `cleanup-job` when the cleanup job owns the repository
   * (then it must have none, so that two cleaners never fight), or null: not checked.
   */
  lifecyclePolicy: string | 'cleanup-job' | null;
  /** Repository policy checks: no public grant, no principal of an account outside `allowedAccounts`. null: none. */
  repositoryPolicy: { allowedAccounts: string[] } | null;
  /** Resource tags every repository must carry (`team`, `cost-center`). */
  requiredTags: string[];
  /** Values enforce mode sets for missing required tags; a tag with no default is reported only. */
  tagDefaults: Record<string, string>;
  /** The required encryption type (`AES256` or `KMS`; `KMS` accepts `KMS_DSSE`); report only. null: not checked. */
  encryption: string | null;
}

export const DEFAULT_COMPLIANCE_POLICY: CompliancePolicy = {
  mode: 'report',
  tagMutability: null,
  scanOnPush: false,
  lifecyclePolicy: null,
  repositoryPolicy: null,
  requiredTags: [],
  tagDefaults: {},
  encryption: null,
};

export const CLEANUP_JOB_OWNS = 'cleanup-job';
