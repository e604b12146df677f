import { z } from 'zod';

/** Lists in the report event are capped so the event stays well under EventBridge's 256 KB. */
export const REPORT_LIST_LIMIT = 200;

/** The policy's `ComplianceCheck`s, and `PublicComplianceCheck`'s `catalog-data` (ECR Public repositories). */
const ComplianceCheckSchema = z.enum([
  'tag-mutability',
  'scan-on-push',
  'lifecycle-policy',
  'repository-policy',
  'required-tags',
  'encryption',
  'catalog-data',
]);
export type ReportedCheck = z.output<typeof ComplianceCheckSchema>;

/** The kinds of the policy's `ComplianceFix`. */
const ComplianceFixKindSchema = z.enum([
  'put-tag-mutability',
  'put-scan-on-push',
  'put-lifecycle-policy',
  'delete-lifecycle-policy',
  'tag-resource',
  /** ECR Public: the whole catalog data, what the repository had kept (PutRepositoryCatalogData). */
  'put-catalog-data',
]);

/** One repository's result; also the detail of its "Compliance Drift" event when the run changed it. */
export const RepositoryComplianceSchema = z.strictObject({
  runId: z.string().min(1),
  /** The target account and region (the config's `targets`); absent for the deployment's own. */
  account: z.string().optional(),
  region: z.string().optional(),
  /** `private`: an ECR repository of the function's region; `public`: an ECR Public repository of the account. */
  registry: z.enum(['private', 'public']),
  repositoryName: z.string().min(1),
  mode: z.enum(['report', 'enforce']),
  ruleIndex: z.number().int().min(0),
  compliant: z.boolean(),
  findings: z.array(
    z.strictObject({ check: ComplianceCheckSchema, reason: z.string(), detail: z.string(), fixable: z.boolean() }),
  ),
  /** Fixes ECR accepted (enforce mode, not dry run). */
  fixed: z.array(ComplianceFixKindSchema),
  /** Fixes ECR refused, with the error. */
  fixFailures: z.array(z.strictObject({ fix: ComplianceFixKindSchema, error: z.string() })),
});
export type RepositoryCompliance = z.output<typeof RepositoryComplianceSchema>;

const Count = z.number().int().min(0);

/** The "Compliance Report" event's detail: one per run. */
export const ComplianceReportSchema = z.strictObject({
  runId: z.string().min(1),
  dryRun: z.boolean(),
  counts: z.strictObject({
    repositories: Count,
    checked: Count,
    compliant: Count,
    nonCompliant: Count,
    /** Repositories the run changed (enforce mode). */
    changed: Count,
    fixFailures: Count,
    /** Repositories deleted while the run was reading them. */
    gone: Count,
    /** Repositories that could not be read (a gateway error), listed in `failed`; the others were still checked. */
    failed: Count,
  }),
  /** Failing findings per check. */
  byCheck: z.record(ComplianceCheckSchema, Count),
  nonCompliant: z.array(RepositoryComplianceSchema),
  failed: z.array(
    z.strictObject({
      account: z.string().optional(),
      region: z.string().optional(),
      registry: z.enum(['private', 'public']),
      repositoryName: z.string().min(1),
      error: z.string(),
    }),
  ),
  /**
   * With the config's `targets`: each account and region, checked (with its counts) or failed (its role could not
   * be assumed, its registry refused the listing) and why; the others are checked when one fails.
   */
  targets: z
    .array(
      z.strictObject({
        account: z.string(),
        region: z.string(),
        status: z.enum(['checked', 'failed']),
        repositories: Count,
        checked: Count.optional(),
        nonCompliant: Count.optional(),
        changed: Count.optional(),
        failed: Count.optional(),
        message: z.string().optional(),
      }),
    )
    .optional(),
  failedTargets: Count.optional(),
  /** Calls per operation; ECR Public's as `public:<Operation>`. */
  apiCalls: z.record(z.string(), Count),
  truncated: z.boolean(),
});
export type ComplianceReport = z.output<typeof ComplianceReportSchema>;
