import { z } from 'zod';

/** The compliance schedule's event (`detail: {}`), or a manual run's overrides. */
export const ScheduledComplianceDetailSchema = z.strictObject({
  /** May turn dry run on, never off: the config's `compliance.dryRun: true` stands. */
  dryRun: z.boolean().optional(),
  /** Only these repository-name globs (default: every repository a compliance rule matches). */
  repositories: z.array(z.string().min(1).max(256)).min(1).optional(),
});
export type ScheduledComplianceDetail = z.infer<typeof ScheduledComplianceDetailSchema>;

/** The reconcile schedule's event (`detail: {}`), or a manual run's override. */
export const ReconcileRegistryDetailSchema = z.strictObject({
  /** May turn dry run on, never off: the config's `registry.dryRun: true` stands. */
  dryRun: z.boolean().optional(),
});
export type ReconcileRegistryDetail = z.infer<typeof ReconcileRegistryDetailSchema>;
