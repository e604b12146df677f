import type { EcrGateway } from '../ecr/index.ts';
import type { CleanupPlan, Decision } from '../policy/cleanup/plan.ts';
import type { ChangedSincePlan, ExecutionResult } from './act.ts';

/** Lists in the report event are capped so the event stays well under EventBridge's 256 KB. */
export const REPORT_LIST_LIMIT = 200;

export type CleanupStatus =
  | 'completed'
  | 'continued'
  | 'braked'
  | 'dry-run'
  | 'nothing-to-do'
  | 'repository-gone'
  | 'not-matched';

/** The "Cleanup Report" event's detail: what one invocation decided and did for one repository. */
export interface CleanupReport {
  runId: string;
  repositoryName: string;
  dryRun: boolean;
  part: number;
  status: CleanupStatus;
  plannedAt: string;
  /** The config rule that matched (index into cleanup.rules). */
  ruleIndex?: number;
  counts: {
    images: number;
    toDelete: number;
    deleted: number;
    alreadyGone: number;
    failed: number;
    kept: number;
    /** Candidates that changed since the plan (a tag, a pull, a push naming them) and were kept. */
    changedSincePlan: number;
    /** Candidates kept with those: their children and referrers. */
    keptWithChanged: number;
    remaining: number;
  };
  bytesReclaimed: number;
  brake?: { wouldDelete: number; total: number; maxDeleteFraction: number; message: string };
  deleted: { digest: string; reason: Decision['reason'] }[];
  kept: { digest: string; tags: readonly string[]; reason: Decision['reason'] }[];
  failures: { digest?: string; code: string; reason: string }[];
  /** The planned deletions not carried out because the registry changed since the plan, each with why. */
  changedSincePlan: ChangedSincePlan[];
  /** ECR calls per operation made by this invocation (the SDK's re-sends included), and PutEvents calls. */
  apiCalls: Record<string, number>;
  /** The lists above hold at most REPORT_LIST_LIMIT entries each; the log has every decision. */
  truncated: boolean;
  message?: string;
}

export type ReportBase = Pick<
  CleanupReport,
  'runId' | 'repositoryName' | 'dryRun' | 'part' | 'plannedAt' | 'ruleIndex'
>;

/** The report of a run that looked at no image (repository gone, no rule matching). */
export function emptyReport(
  base: ReportBase,
  status: CleanupStatus,
  gateway: Pick<EcrGateway, 'callCounts'>,
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
  gateway: EcrGateway,
  indexes: ReadonlySet<string>,
  execution?: ExecutionResult,
): CleanupReport {
  const byDigest = new Map(plan.decisions.map((decision) => [decision.digest, decision]));
  const deletedDigests = execution ? execution.deleted : [];
  const done = new Set(deletedDigests);
  const deleted = deletedDigests.map((digest) => ({
    digest,
    reason: byDigest.get(digest)?.reason ?? { code: 'stale-untagged' as const, pushedAt: '' },
  }));
  const wouldDelete = execution
    ? []
    : plan.toDelete.map((digest) => ({ digest, reason: byDigest.get(digest)?.reason }));
  const kept = plan.decisions
    .filter((decision) => decision.action === 'keep' && !done.has(decision.digest))
    .map((decision) => ({ digest: decision.digest, tags: decision.tags, reason: decision.reason }));
  const changed = new Set(execution?.changedSincePlan ?? []);
  const listed = (execution ? deleted : (wouldDelete as typeof deleted)).slice(0, REPORT_LIST_LIMIT);
  // An index owns no layers: its reported size is its largest child's, so it reclaims nothing itself.
  const bytesReclaimed = execution
    ? deletedDigests.reduce(
        (sum, digest) => sum + (indexes.has(digest) ? 0 : (byDigest.get(digest)?.sizeInBytes ?? 0)),
        0,
      )
    : plan.bytesReclaimed;
  return {
    ...base,
    status,
    counts: {
      images: plan.decisions.length,
      toDelete: plan.toDelete.length,
      deleted: deletedDigests.length,
      alreadyGone: execution?.alreadyGone.length ?? 0,
      failed: execution?.failed.length ?? 0,
      kept: kept.length,
      changedSincePlan: changed.size,
      keptWithChanged: execution?.keptWithChanged.length ?? 0,
      remaining: execution?.remaining.length ?? 0,
    },
    bytesReclaimed,
    ...(plan.brake ? { brake: plan.brake } : {}),
    deleted: listed,
    kept: kept.slice(0, REPORT_LIST_LIMIT),
    failures: (execution?.failed ?? []).map((failure) => ({
      ...(failure.digest ? { digest: failure.digest } : {}),
      code: failure.code,
      reason: failure.reason,
    })),
    changedSincePlan: (execution?.changes ?? []).slice(0, REPORT_LIST_LIMIT),
    apiCalls: gateway.callCounts(),
    truncated:
      (execution ? deleted : wouldDelete).length > REPORT_LIST_LIMIT ||
      kept.length > REPORT_LIST_LIMIT ||
      (execution?.changes.length ?? 0) > REPORT_LIST_LIMIT,
  };
}
