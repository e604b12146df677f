import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { resolveDryRun } from '../config/dry-run.ts';
import { cleanupRuleFor } from '../config/load.ts';
import type { ServiceEvent } from '../events/publisher.ts';
import { type CleanupWorkItem, DETAIL_TYPES } from '../events/schemas.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import type { CleanupReport } from './report.ts';
import { emptyReport, runRepositoryCleanup } from './run.ts';

/** What the worker needs from the outside world; the handler wires the real ones, tests their own. */
export type CleanupWorkerDeps = Pick<
  ServiceDeps,
  'config' | 'gateway' | 'publish' | 'now' | 'reserveMs' | 'logger' | 'metrics' | 'tracer'
>;

/** Decisions are logged in chunks of this many, so that every image's fate is in the run's record. */
const DECISIONS_PER_LOG_LINE = 500;

/**
 * One work item: plan one repository and carry the plan out (or only report it in dry run), publish the
 * "Cleanup Report", and hand over to a follow-up work item when the deadline comes near.
 *
 * Anyone allowed to put events on the bus can forge a work item, so the item says only what to look at (repository,
 * run id, part) and may turn dry run on. The plan, the quiet period and the safety brake come from the config, the
 * registry's state and the worker's own clock. A follow-up part re-plans on the current state with the brake in
 * force: after d of s doomed images out of n are deleted, (s − d)/(n − d) ≤ s/n, so a continuation of a plan that
 * passed the brake passes it again unless the repository changed in between (then holding is the safe outcome).
 */
export async function runCleanup(
  item: CleanupWorkItem,
  context: { getRemainingTimeInMillis(): number },
  deps: CleanupWorkerDeps,
): Promise<CleanupReport> {
  const config = deps.config();
  const dryRun = resolveDryRun(config.cleanup.dryRun, item.dryRun);
  const gateway = deps.gateway({ readOnly: dryRun });
  deps.tracer.putAnnotation('repository', item.repositoryName);
  deps.tracer.putAnnotation('dryRun', dryRun);
  const match = cleanupRuleFor(config.cleanup, item.repositoryName);
  const now = deps.now();
  let report: CleanupReport;
  const events: ServiceEvent[] = [];
  if (!match) {
    report = emptyReport(
      {
        runId: item.runId,
        repositoryName: item.repositoryName,
        dryRun,
        part: item.part,
        plannedAt: new Date(now).toISOString(),
      },
      'not-matched',
      gateway,
      'No enabled cleanup rule matches this repository any more; nothing was done',
    );
  } else {
    const result = await runRepositoryCleanup(gateway, {
      runId: item.runId,
      repositoryName: item.repositoryName,
      dryRun,
      part: item.part,
      now,
      rule: match.rule,
      ruleIndex: match.index,
      remainingMs: () => context.getRemainingTimeInMillis(),
      reserveMs: deps.reserveMs,
    });
    report = result.report;
    if (result.plan) {
      for (let start = 0; start < result.plan.decisions.length; start += DECISIONS_PER_LOG_LINE) {
        deps.logger.info('cleanup decisions', {
          runId: item.runId,
          repositoryName: item.repositoryName,
          part: item.part,
          dryRun,
          decisions: result.plan.decisions.slice(start, start + DECISIONS_PER_LOG_LINE).map((decision) => ({
            digest: decision.digest,
            action: decision.action,
            reason: decision.reason,
          })),
        });
      }
    }
    if (result.continueFrom) {
      const next: CleanupWorkItem = {
        runId: item.runId,
        repositoryName: item.repositoryName,
        dryRun,
        part: result.continueFrom.part,
        plannedAt: item.plannedAt,
      };
      events.push({ detailType: DETAIL_TYPES.cleanupWorkItem, detail: next });
    }
  }
  events.unshift({ detailType: DETAIL_TYPES.cleanupReport, detail: report });
  const published = await deps.publish(events);
  report.apiCalls = { ...report.apiCalls, PutEvents: published.calls };

  deps.metrics.addMetric('ImagesDeleted', MetricUnit.Count, report.counts.deleted);
  deps.metrics.addMetric('ImagesKept', MetricUnit.Count, report.counts.kept);
  deps.metrics.addMetric('DeleteFailures', MetricUnit.Count, report.counts.failed);
  deps.metrics.addMetric('BytesReclaimed', MetricUnit.Bytes, report.bytesReclaimed);
  deps.metrics.addMetric(
    'EcrCalls',
    MetricUnit.Count,
    Object.values(report.apiCalls).reduce((sum, n) => sum + n, 0),
  );
  if (report.status === 'braked') deps.metrics.addMetric('SafetyBrakeHeld', MetricUnit.Count, 1);
  deps.logger.info('cleanup report', { report: { ...report, deleted: undefined, kept: undefined } });
  return report;
}
