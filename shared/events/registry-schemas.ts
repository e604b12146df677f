import { z } from 'zod';

/** The compliance schedule's event (`detail: {}`), or a manual run's overrides. */
export const ScheduledComplianceDetailSchema = z.strictObject({
  dryRun: z.boolean().optional(),
  /** Only these repository-name globs (default: every repository a compliance rule matches). */
  repositories: z.array(z.string().min(1).max(256)).min(1).optional(),
});
export type ScheduledComplianceDetail = z.infer<typeof ScheduledComplianceDetailSchema>;

/** The reconcile schedule's event (`detail: {}`), or a manual run's override. */
export const ReconcileRegistryDetailSchema = z.strictObject({
  dryRun: z.boolean().optional(),
});
export type ReconcileRegistryDetail = z.infer<typeof ReconcileRegistryDetailSchema>;
