import { z } from 'zod';
import type { PlannedChange } from '../policy/reconcile/plan.ts';

/** Lists in the report event are capped so the event stays well under EventBridge's 256 KB. */
export const REPORT_LIST_LIMIT = 200;

/**
 * `in-sync`: nothing to change. `planned`: dry run, the changes are listed. `applied`: every change applied.
 * `partial`: some changes failed (`notApplied`); the next run plans exactly those again. `invalid`: the plan would
 * break ECR's limits (`problems`), nothing was applied.
 */
export const ReconcileStatusSchema = z.enum([
  'in-sync',
  'planned',
  'applied',
  'partial',
  'invalid',
  /** A target whose role could not be assumed or whose registry refused the reads: nothing was done; `message` says why. */
  'target-unavailable',
]);
export type ReconcileStatus = z.output<typeof ReconcileStatusSchema>;

const Count = z.number().int().min(0);

/** The policy's `PlannedChange`: one resource to create, update, replace or delete, field by field. */
const PlannedChangeSchema = z.strictObject({
  resource: z.enum([
    'replication-rule',
    'pull-through-cache-rule',
    'creation-template',
    'registry-scanning',
    'registry-policy-statement',
  ]),
  key: z.string(),
  action: z.enum(['create', 'update', 'replace', 'delete']),
  /** Each field's value in the registry (`before`) and in the config (`after`); absent is absent. */
  fields: z.array(z.strictObject({ field: z.string(), before: z.unknown().optional(), after: z.unknown().optional() })),
});

/** The "Registry Reconcile Report" event's detail: what one run planned, applied, and could not apply. */
export const ReconcileReportSchema = z.strictObject({
  runId: z.string().min(1),
  /** The target account and region (the config's `targets`); absent for the deployment's own registry. */
  account: z.string().optional(),
  region: z.string().optional(),
  dryRun: z.boolean(),
  status: ReconcileStatusSchema,
  counts: z.strictObject({ create: Count, update: Count, replace: Count, delete: Count }),
  changes: z.array(PlannedChangeSchema),
  /** Changes ECR accepted, as `<action> <resource> <key>`. */
  applied: z.array(z.string()),
  /** Changes not applied, each with the error of its call. */
  notApplied: z.array(z.strictObject({ change: z.string(), error: z.string() })),
  problems: z.array(z.string()),
  /** Resources left alone because the config neither mentions nor prunes them. */
  unmanaged: z.array(z.string()),
  apiCalls: z.record(z.string(), Count),
  truncated: z.boolean(),
  message: z.string().optional(),
});
export type ReconcileReport = z.output<typeof ReconcileReportSchema>;

export const describeChange = (change: PlannedChange) => `${change.action} ${change.resource} ${change.key}`;
