import { z } from 'zod';
import { type CleanupPlan, decisionView, type KeepReason } from '../policy/cleanup/plan.ts';
import type { ExecutionResult } from './act.ts';
import type { CleanupGateway } from './gateway.ts';

export { type CleanupWorkItem, CleanupWorkItemSchema } from '../events/schemas.ts';

/** Lists in the report event are capped so the event stays well under EventBridge's 256 KB. */
export const REPORT_LIST_LIMIT = 200;

export const CleanupStatusSchema = z.enum([
  'completed',
  'continued',
  'braked',
  /** An in-use provider covering the repository failed: nothing was deleted (fail closed); `message` says why. */
  'in-use-unknown',
  'dry-run',
  'nothing-to-do',
  'repository-gone',
  'not-matched',
  /** The target's role could not be assumed (or its registry refused the service): nothing was done; `message` says why. */
  'target-unavailable',
]);
export type CleanupStatus = z.output<typeof CleanupStatusSchema>;

/** Why an image is kept (the policy's `KeepReason`). */
const KeepReasonSchema = z.discriminatedUnion('code', [
  z.strictObject({ code: z.literal('tagged'), tags: z.array(z.string()) }),
  z.strictObject({ code: z.literal('quiet-period'), pushedAt: z.string() }),
  z.strictObject({ code: z.literal('recently-pushed'), pushedAt: z.string(), olderThanDays: z.number() }),
  z.strictObject({ code: z.literal('recently-pulled'), lastActivityAt: z.string(), notPulledForDays: z.number() }),
  z.strictObject({ code: z.literal('keep-latest-untagged'), rank: z.number().int() }),
  z.strictObject({ code: z.literal('child-of-kept-index'), via: z.string() }),
  z.strictObject({ code: z.literal('referrer-of-kept-image'), via: z.string() }),
  z.strictObject({
    code: z.literal('safety-brake'),
    wouldDelete: z.number().int(),
    total: z.number().int(),
    maxDeleteFraction: z.number(),
  }),
  z.strictObject({
    code: z.literal('retained'),
    tag: z.string(),
    selection: z.number().int().min(0),
    condition: z.enum(['protect', 'keepLast', 'keepNewerThanDays', 'keepPulledWithinDays']),
    explanation: z.string(),
    rank: z.number().int().min(1).optional(),
  }),
  z.strictObject({
    code: z.literal('in-use'),
    usedBy: z.array(z.strictObject({ provider: z.enum(['ecs', 'lambda', 'k8s']), where: z.string() })),
  }),
  z.strictObject({ code: z.literal('in-use-unknown'), message: z.string() }),
  z.strictObject({
    code: z.literal('archived'),
    status: z.enum(['ARCHIVED', 'ACTIVATING']),
    lastArchivedAt: z.string().optional(),
  }),
  z.strictObject({ code: z.literal('may-be-child-of-archived-index'), via: z.string() }),
  z.strictObject({
    code: z.literal('tagged-safety-brake'),
    wouldDelete: z.number().int(),
    total: z.number().int(),
    maxTaggedDeleteFraction: z.number(),
  }),
]);

/** Why an image is deleted (the policy's `DeleteReason`). */
const DeleteReasonSchema = z.discriminatedUnion('code', [
  z.strictObject({ code: z.literal('stale-untagged'), pushedAt: z.string(), lastPulledAt: z.string().optional() }),
  z.strictObject({ code: z.literal('child-of-deleted-index'), via: z.string() }),
  z.strictObject({ code: z.literal('referrer-of-deleted-image'), via: z.string() }),
  z.strictObject({ code: z.literal('orphaned-referrer'), subject: z.string() }),
  z.strictObject({ code: z.literal('released'), tags: z.array(z.string()), explanations: z.array(z.string()) }),
  z.strictObject({ code: z.literal('archive-expired'), lastArchivedAt: z.string(), days: z.number().int() }),
]);

/** Why a planned deletion was not carried out (`act.ts`'s `ChangeReason`). */
const ChangeReasonSchema = z.discriminatedUnion('code', [
  z.strictObject({ code: z.literal('tag-gained'), tags: z.array(z.string()) }),
  z.strictObject({ code: z.literal('pulled'), lastPulledAt: z.string() }),
  z.strictObject({ code: z.literal('changed') }),
  z.strictObject({ code: z.literal('new-parent'), via: z.string() }),
  z.strictObject({ code: z.literal('new-referrer'), via: z.string() }),
  z.strictObject({ code: z.literal('unreadable-new-index'), via: z.string() }),
  z.strictObject({ code: z.literal('kept-with'), via: z.string(), edge: z.enum(['child', 'referrer']) }),
]);

const Count = z.number().int().min(0);

/** The "Cleanup Report" event's detail: what one invocation decided and did for one repository. */
export const CleanupReportSchema = z.strictObject({
  runId: z.string().min(1),
  /** The target account and region (the config's `targets`); absent for the deployment's own. */
  account: z.string().optional(),
  region: z.string().optional(),
  /** `public` for a repository of ECR Public; absent for the private registry. */
  registry: z.literal('public').optional(),
  repositoryName: z.string().min(1),
  dryRun: z.boolean(),
  part: z.number().int().min(1),
  status: CleanupStatusSchema,
  plannedAt: z.string(),
  /** The config rule that matched (index into cleanup.rules). */
  ruleIndex: z.number().int().min(0).optional(),
  counts: z.strictObject({
    images: Count,
    toDelete: Count,
    deleted: Count,
    alreadyGone: Count,
    failed: Count,
    kept: Count,
    /** Candidates that changed since the plan (a tag, a pull, a push naming them) and were kept. */
    changedSincePlan: Count,
    /** Candidates kept with those: their children and referrers. */
    keptWithChanged: Count,
    remaining: Count,
    /** Planned archivings (a rule with `action: 'archive'`); absent when the plan archives nothing. */
    toArchive: Count.optional(),
    /** Images moved to ECR's archive; absent when the plan archives nothing. */
    archived: Count.optional(),
  }),
  bytesReclaimed: Count,
  brake: z
    .strictObject({
      wouldDelete: Count,
      total: Count,
      maxDeleteFraction: z.number(),
      message: z.string(),
      /** The tagged brake (maxTaggedDeleteFraction of the tagged images) held, not the untagged one. */
      tagged: z.literal(true).optional(),
    })
    .optional(),
  /** Deleted images (a dry run's or a braked run's: the ones it would delete), each with the policy's reason. */
  deleted: z.array(
    z.strictObject({
      digest: z.string(),
      reason: z.union([DeleteReasonSchema, KeepReasonSchema]),
      /** Why deleting, in storage terms (`shared/policy/cleanup/cost.ts`). */
      cost: z.string().optional(),
    }),
  ),
  /**
   * Archived images (a dry run's or a braked run's: the ones it would archive), each with the policy's reason and
   * why archiving, in storage terms; absent when the plan archives nothing.
   */
  archived: z
    .array(z.strictObject({ digest: z.string(), reason: DeleteReasonSchema, cost: z.string().optional() }))
    .optional(),
  kept: z.array(z.strictObject({ digest: z.string(), tags: z.array(z.string()).readonly(), reason: KeepReasonSchema })),
  failures: z.array(z.strictObject({ digest: z.string().optional(), code: z.string(), reason: z.string() })),
  /** The planned deletions not carried out because the registry changed since the plan, each with why. */
  changedSincePlan: z.array(z.strictObject({ digest: z.string(), reason: ChangeReasonSchema })),
  /** ECR calls per operation made by this invocation (the SDK's re-sends included), and PutEvents calls. */
  apiCalls: z.record(z.string(), Count),
  /** The lists above hold at most REPORT_LIST_LIMIT entries each; the log has every decision. */
  truncated: z.boolean(),
  message: z.string().optional(),
});
export type CleanupReport = z.output<typeof CleanupReportSchema>;

export type ReportBase = Pick<
  CleanupReport,
  'runId' | 'account' | 'region' | 'registry' | 'repositoryName' | 'dryRun' | 'part' | 'plannedAt' | 'ruleIndex'
>;

/** The report of a run that looked at no image (repository gone, no rule matching). */
export function emptyReport(
  base: ReportBase,
  status: CleanupStatus,
  gateway: Pick<CleanupGateway, 'callCounts'>,
  message?: string,
): CleanupReport {
  return {
    ...base,
    status,
    counts: {
      images: 0,
      toDelete: 0,
      deleted: 0,
      alreadyGone: 0,
      failed: 0,
      kept: 0,
      changedSincePlan: 0,
      keptWithChanged: 0,
      remaining: 0,
    },
    bytesReclaimed: 0,
    deleted: [],
    kept: [],
    failures: [],
    changedSincePlan: [],
    apiCalls: gateway.callCounts(),
    truncated: false,
    ...(message ? { message } : {}),
  };
}

/** The report of a run that planned (and, unless `execution` is absent, acted). */
export function reportOf(
  base: ReportBase,
  status: CleanupStatus,
  plan: CleanupPlan,
  gateway: Pick<CleanupGateway, 'callCounts'>,
  indexes: ReadonlySet<string>,
  execution?: ExecutionResult,
): CleanupReport {
  const deletedDigests = execution ? execution.deleted : [];
  // Only the listed entries are built: a repository of 100,000 images would otherwise make 100,000 to keep 1,000.
  const deletions = execution ? deletedDigests : plan.toDelete;
  const plannedArchive = plan.toArchive ?? [];
  const archivedDigests = execution ? execution.archived : plannedArchive;
  // The plan's decisions are read one by one (`decisionView`): the kept ones up to the list's limit, the deleted
  // ones' sizes, and the listed digests'.
  const view = decisionView(plan);
  const kept: { digest: string; tags: readonly string[]; reason: KeepReason }[] = [];
  for (const decision of view.kept()) {
    if (kept.length >= REPORT_LIST_LIMIT) break;
    if (decision.action === 'keep')
      kept.push({ digest: decision.digest, tags: decision.tags, reason: decision.reason });
  }
  let deletedBytes = 0;
  for (const digest of deletedDigests) {
    // An index owns no layers: its reported size is its largest child's, so it reclaims nothing itself.
    if (!indexes.has(digest)) deletedBytes += view.sizeInBytes(digest) ?? 0;
  }
  // Every planned digest has a decision; the fallback only keeps the report's shape if one ever had none.
  const fallback = { code: 'stale-untagged' as const, pushedAt: '' };
  const entryOf = (digest: string) => {
    const decision = view.get(digest);
    const cost = decision?.action === 'keep' ? undefined : decision?.cost;
    return { digest, reason: decision?.reason ?? fallback, ...(cost === undefined ? {} : { cost }) };
  };
  // One entry beyond the limit tells that the list is truncated.
  const archived: NonNullable<CleanupReport['archived']> = [];
  for (const digest of archivedDigests) {
    if (archived.length > REPORT_LIST_LIMIT) break;
    const decision = view.get(digest);
    if (decision === undefined || decision.action === 'keep') continue;
    archived.push({ digest, reason: decision.reason, ...(decision.cost === undefined ? {} : { cost: decision.cost }) });
  }
  const archiving = plannedArchive.length > 0;
  const changed = new Set(execution?.changedSincePlan ?? []);
  const listed = deletions.slice(0, REPORT_LIST_LIMIT).map(entryOf);
  const bytesReclaimed = execution ? deletedBytes : plan.bytesReclaimed;
  return {
    ...base,
    status,
    counts: {
      images: view.size,
      toDelete: plan.toDelete.length,
      deleted: deletedDigests.length,
      alreadyGone: execution?.alreadyGone.length ?? 0,
      failed: execution?.failed.length ?? 0,
      kept: view.keptCount,
      changedSincePlan: changed.size,
      keptWithChanged: execution?.keptWithChanged.length ?? 0,
      remaining: execution?.remaining.length ?? 0,
      ...(archiving ? { toArchive: plannedArchive.length, archived: execution?.archived.length ?? 0 } : {}),
    },
    bytesReclaimed,
    ...(plan.brake ? { brake: plan.brake } : {}),
    deleted: listed,
    ...(archiving ? { archived: archived.slice(0, REPORT_LIST_LIMIT) } : {}),
    kept,
    failures: (execution?.failed ?? []).map((failure) => ({
      ...(failure.digest ? { digest: failure.digest } : {}),
      code: failure.code,
      reason: failure.reason,
    })),
    changedSincePlan: (execution?.changes ?? []).slice(0, REPORT_LIST_LIMIT),
    apiCalls: gateway.callCounts(),
    truncated:
      deletions.length > REPORT_LIST_LIMIT ||
      archived.length > REPORT_LIST_LIMIT ||
      view.keptCount > REPORT_LIST_LIMIT ||
      (execution?.changes.length ?? 0) > REPORT_LIST_LIMIT,
  };
}

const PullTimeExclusionSchema = z.string().max(2000);

/**
 * The "Cleanup Fan-Out Report" event's detail: what the nightly fan-out listed and handed to the workers, and, with
 * the config's `targets`, each account and region listed or failed and why. Each work item's outcome is its own
 * "Cleanup Report", carrying the same `runId`.
 */
export const CleanupFanOutReportSchema = z.strictObject({
  runId: z.string().min(1),
  plannedAt: z.string(),
  dryRun: z.boolean(),
  repositories: Count,
  workItems: Count,
  notMatched: Count,
  public: z.strictObject({ repositories: Count, workItems: Count }).optional(),
  pullTimeExclusion: PullTimeExclusionSchema,
  targets: z
    .array(
      z.strictObject({
        account: z.string(),
        region: z.string(),
        status: z.enum(['listed', 'failed']),
        repositories: Count,
        workItems: Count,
        pullTimeExclusion: PullTimeExclusionSchema.optional(),
        message: z.string().optional(),
      }),
    )
    .optional(),
  /** Targets that failed, of `targets`. */
  failedTargets: Count.optional(),
  apiCalls: z.record(z.string(), Count),
});
export type CleanupFanOutReport = z.output<typeof CleanupFanOutReportSchema>;

/**
 * What a worker stores of its "Cleanup Report" for the run's organisation report (`shared/cleanup/run-store.ts`): the
 * figures, not the lists.
 */
export const StoredCleanupReportSchema = z.strictObject({
  runId: z.string().min(1).max(128),
  account: z.string().optional(),
  region: z.string().optional(),
  registry: z.literal('public').optional(),
  repositoryName: z.string().min(1).max(256),
  part: z.number().int().min(1),
  dryRun: z.boolean(),
  status: CleanupStatusSchema,
  images: Count,
  toDelete: Count,
  deleted: Count,
  archived: Count,
  failed: Count,
  bytesReclaimed: Count,
  message: z.string().max(2000).optional(),
});
export type StoredCleanupReport = z.output<typeof StoredCleanupReportSchema>;

/** A repository the organisation report names: it failed, held, or never reported. */
const ReportedRepositorySchema = z.strictObject({
  account: z.string().optional(),
  region: z.string().optional(),
  registry: z.literal('public').optional(),
  repositoryName: z.string(),
  status: z.union([CleanupStatusSchema, z.literal('not-reported')]),
  failed: Count.optional(),
  message: z.string().optional(),
});

/**
 * The "Organisation Cleanup Report" event's detail: one per cleanup run, once every work item the fan-out published
 * has its final report (or a day after the run was planned, with what is missing), aggregating every target: bytes
 * reclaimed and images deleted per account, the repositories that failed, held or never reported and why, the
 * targets the fan-out could not list, and totals. Written once to the reports bucket
 * (`cleanup-runs/<runId>/organisation-report.json`) and published once.
 */
export const OrganisationCleanupReportSchema = z.strictObject({
  runId: z.string().min(1),
  plannedAt: z.string(),
  dryRun: z.boolean(),
  /** Every work item reported its end; false when the report was made a day after the run without some. */
  complete: z.boolean(),
  totals: z.strictObject({
    targets: Count,
    failedTargets: Count,
    workItems: Count,
    reported: Count,
    notReported: Count,
    images: Count,
    toDelete: Count,
    deleted: Count,
    archived: Count,
    failed: Count,
    bytesReclaimed: Count,
  }),
  /** Per account (`own` for the deployment's own account and ECR Public), its regions and figures. */
  accounts: z.array(
    z.strictObject({
      account: z.string(),
      regions: z.array(z.string()),
      repositories: Count,
      deleted: Count,
      archived: Count,
      failed: Count,
      bytesReclaimed: Count,
      failedTargets: Count,
      failedRepositories: Count,
    }),
  ),
  failedTargets: z.array(z.strictObject({ account: z.string(), region: z.string(), message: z.string() })),
  /** Repositories that failed (a deletion refused, a role unassumable), held (brake, in-use unknown) or never reported. */
  repositories: z.array(ReportedRepositorySchema),
  truncated: z.boolean(),
});
export type OrganisationCleanupReport = z.output<typeof OrganisationCleanupReportSchema>;
