import { z } from 'zod';

/** Lists in the report event are capped so the event stays well under EventBridge's 256 KB. */
export const REPORT_LIST_LIMIT = 200;

/** The policy's `ComplianceCheck`s. */
const ComplianceCheckSchema = z.enum([
  'tag-mutability',
  'scan-on-push',
  'lifecycle-policy',
  'repository-policy',
  'required-tags',
  'encryption',
]);

/** The kinds of the policy's `ComplianceFix`. */
const ComplianceFixKindSchema = z.enum([
  'put-tag-mutability',
  'put-scan-on-push',
  'put-lifecycle-policy',
  'delete-lifecycle-policy',
  'tag-resource',
]);

/** One repository's result; also the detail of its "Compliance Drift" event when the run changed it. */
export const RepositoryComplianceSchema = z.strictObject({
  runId: z.string().min(1),
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
  }),
  /** Failing findings per check. */
  byCheck: z.record(ComplianceCheckSchema, Count),
  nonCompliant: z.array(RepositoryComplianceSchema),
  apiCalls: z.record(z.string(), Count),
  truncated: z.boolean(),
});
export type ComplianceReport = z.output<typeof ComplianceReportSchema>;
