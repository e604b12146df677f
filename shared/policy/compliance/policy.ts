import type { ComplianceSettings, PublicComplianceSettings } from '../../domain/settings.ts';

/**
 * What a repository must look like, per the config's `compliance` section (one matched rule over the defaults):
 * `mode`, `tagMutability`, `scanOnPush`, `lifecyclePolicy` (JSON text, `cleanup-job` when the cleanup job owns the
 * repository, or null), `repositoryPolicy`, `requiredTags`, `tagDefaults`, `encryption`. Inferred from the schema in
 * `shared/domain/settings.ts`.
 */
export type CompliancePolicy = ComplianceSettings;

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
/** Any lifecycle policy may stay, but none of its rules may break what the cleanup keeps (the linter's findings). */
export const NO_BREAKING_RULES = 'no-breaking-rules';

/**
 * What an ECR Public repository must look like, per the config's `compliance.public` section: `mode`, the
 * `requiredCatalog` fields, the `catalog` values enforce mode fills in, `overwrite`, `forbidPublicWrite`.
 */
export type PublicCompliancePolicy = PublicComplianceSettings;

export const DEFAULT_PUBLIC_COMPLIANCE_POLICY: PublicCompliancePolicy = {
  mode: 'report',
  requiredCatalog: [],
  catalog: {},
  overwrite: false,
  forbidPublicWrite: true,
};
