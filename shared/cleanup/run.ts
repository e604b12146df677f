import { isIndex } from '../domain/image.ts';
import type { EcrGateway } from '../ecr/index.ts';
import { RepositoryNotFoundError } from '../ecr/index.ts';
import { type CleanupPlan, type CleanupRule, planCleanup } from '../policy/cleanup/plan.ts';
import { executePlan, verifyKeptImagesWhole } from './act.ts';
import { gatherRepository } from './gather.ts';
import { type CleanupReport, type CleanupStatus, REPORT_LIST_LIMIT } from './report.ts';

export interface CleanupRunInput {
  runId: string;
  repositoryName: string;
  dryRun: boolean;
  part: number;
  /** The plan's clock, epoch ms. */
  now: number;
  rule: CleanupRule;
  ruleIndex?: number;
  /** Milliseconds left in this invocation, and how many to keep in hand for the report and the hand-over. */
  remainingMs?: () => number;
  reserveMs?: number;
}

export interface CleanupRunResult {
  report: CleanupReport;
  plan?: CleanupPlan;
  /** Set when the deadline came near: a follow-up must continue this plan. */
  continueFrom?: { part: number };
  /** Planned deletions kept because they gained a tag or a pull between planning and deleting (the report counts them). */
  changedSincePlan?: readonly string[];
}

/**
 * One repository's cleanup, the same for the Lambda worker and the CLI: gather (list, read indexes), decide (pure
 * plan), act (re-read, delete parents first; nothing in dry run), verify (kept images resolve whole), report.
 * A repository that vanished is reported, not fatal.
 */
export async function runRepositoryCleanup(gateway: EcrGateway, input: CleanupRunInput): Promise<CleanupRunResult> {
  const base = {
    runId: input.runId,
    repositoryName: input.repositoryName,
    dryRun: input.dryRun,
    part: input.part,
    plannedAt: new Date(input.now).toISOString(),
    ...(input.ruleIndex === undefined ? {} : { ruleIndex: input.ruleIndex }),
  };
  let snapshot: Awaited<ReturnType<typeof gatherRepository>>;
  try {
    snapshot = await gatherRepository(gateway, input.repositoryName, input.now);
  } catch (error) {
    if (error instanceof RepositoryNotFoundError) {
      return { report: emptyReport(base, 'repository-gone', gateway, error.message) };
    }
    throw error;
  }
  const plan = planCleanup(input.repositoryName, snapshot.images, input.rule, input.now);
  const indexes = new Set(snapshot.images.filter(isIndex).map((image) => image.digest));
  const status = (s: CleanupStatus) => s;
  if (plan.brake) return { report: reportOf(base, status('braked'), plan, gateway, indexes), plan };
  if (input.dryRun) return { report: reportOf(base, status('dry-run'), plan, gateway, indexes), plan };
  if (plan.toDelete.length === 0)
    return { report: reportOf(base, status('nothing-to-do'), plan, gateway, indexes), plan };

  let execution: Awaited<ReturnType<typeof executePlan>>;
  try {
    execution = await executePlan(gateway, snapshot.images, plan, {
      remainingMs: input.remainingMs,
      reserveMs: input.reserveMs,
      ownReads: snapshot.ownReads,
    });
  } catch (error) {
    if (error instanceof RepositoryNotFoundError) {
      return { report: emptyReport(base, 'repository-gone', gateway, error.message), plan };
    }
    throw error;
  }
  const deleted = new Set([...execution.deleted, ...execution.alreadyGone]);
  if (execution.remaining.length === 0) {
    const keptSincePlan = new Set([...execution.changedSincePlan, ...execution.keptWithChanged]);
    await verifyKeptImagesWhole(gateway, snapshot.images, execution.plan, deleted, keptSincePlan);
  }
  const report = reportOf(
    base,
    execution.remaining.length > 0 ? 'continued' : 'completed',
    execution.plan,
    gateway,
    indexes,
    execution,
  );
  return {
    report,
    plan: execution.plan,
    ...(execution.remaining.length > 0 ? { continueFrom: { part: input.part + 1 } } : {}),
    ...(execution.changedSincePlan.length > 0 ? { changedSincePlan: execution.changedSincePlan } : {}),
  };
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

function reportOf(
  base: ReportBase,
  status: CleanupStatus,
  plan: CleanupPlan,
  gateway: EcrGateway,
  indexes: ReadonlySet<string>,
  execution?: Awaited<ReturnType<typeof executePlan>>,
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
