import { z } from 'zod';

/** detail-types of the events the service publishes on its bus. */
export const DETAIL_TYPES = {
  cleanupWorkItem: 'Cleanup Work Item',
  cleanupReport: 'Cleanup Report',
} as const;

const RepositoryName = z
  .string()
  .min(2)
  .max(256)
  .regex(/^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/, 'an ECR repository name');

/** One repository to clean: published by `scheduled-cleanup`, or by a worker handing over before its deadline. */
export const CleanupWorkItemSchema = z.strictObject({
  runId: z.string().min(1).max(128),
  repositoryName: RepositoryName,
  dryRun: z.boolean(),
  /** 1 for the first invocation; a follow-up continues the same plan as part 2, 3, ... */
  part: z.number().int().min(1).max(10_000).default(1),
  /** The plan's clock; follow-ups re-plan with the same instant so decisions do not drift. */
  plannedAt: z.iso.datetime(),
  /** A follow-up of a plan that already passed the safety brake. */
  brakeCleared: z.boolean().default(false),
});
export type CleanupWorkItem = z.infer<typeof CleanupWorkItemSchema>;

/** The schedule's event (`detail: {}`), or a manual run's overrides. */
export const ScheduledCleanupDetailSchema = z.strictObject({
  dryRun: z.boolean().optional(),
  /** Only these repository-name globs (default: every repository a rule matches). */
  repositories: z.array(z.string().min(1).max(256)).min(1).optional(),
});
export type ScheduledCleanupDetail = z.infer<typeof ScheduledCleanupDetailSchema>;
