import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { resolveDryRun } from '../config/dry-run.ts';
import { cleanupRuleFor } from '../config/load.ts';
import { TargetCredentialsError } from '../credentials/errors.ts';
import { isIndex } from '../domain/image.ts';
import type { InUseSnapshot } from '../domain/in-use.ts';
import { type Target, targetFields, targetOf } from '../domain/target.ts';
import { RepositoryNotFoundError } from '../ecr/index.ts';
import type { ServiceEvent } from '../events/publisher.ts';
import { type CleanupWorkItem, DETAIL_TYPES } from '../events/schemas.ts';
import {
  buildImageGraph,
  type CleanupPlan,
  type CleanupRule,
  decisionView,
  planCleanup,
} from '../policy/cleanup/plan.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import { executePlan, imagesLeft, verifyKeptImagesWhole } from './act.ts';
import { type CleanupGateway, cleanupGatewayFor, type RegistryKind, registryField } from './gateway.ts';
import { gatherRepository } from './gather.ts';
import { inUseForRun, inUsePlanOptions, locateRepository, type RepositoryLocation } from './in-use.ts';
import { type CleanupReport, type CleanupStatus, emptyReport, type ReportBase, reportOf } from './report.ts';
import { storeReport } from './run-store.ts';

/** What the worker needs from the outside world; the handler wires the real ones, tests their own. */
export type CleanupWorkerDeps = Pick<
  ServiceDeps,
  'config' | 'gateway' | 'publicGateway' | 'publish' | 'now' | 'reserveMs' | 'logger' | 'metrics' | 'tracer' | 'inUse'
> &
  Partial<Pick<ServiceDeps, 'targets' | 'targetGateway' | 'reports'>>;

/**
 * Why a work item's account and region are not the worker's to clean, or undefined when they are: the item's target
 * must be one its own config's `targets` names (an organisational unit's accounts as the organisation lists them
 * now), and an item without one is the own account's, which a config with `targets` does not clean.
 */
async function refusedTarget(
  item: CleanupWorkItem,
  config: ReturnType<CleanupWorkerDeps['config']>,
  deps: CleanupWorkerDeps,
): Promise<string | undefined> {
  const target = targetOf(item);
  const section = config.targets;
  if (section === undefined) {
    return target === undefined
      ? undefined
      : `The config names no targets, so account ${target.account} in ${target.region} is not cleaned; nothing was done`;
  }
  if (item.registry === 'public') {
    return target === undefined
      ? undefined
      : 'ECR Public is cleaned in the deployment’s own account only; nothing was done';
  }
  if (target === undefined) return 'The config names targets, and this item names none of them; nothing was done';
  if (deps.targets === undefined || deps.targetGateway === undefined) {
    return 'This runtime cannot assume roles in other accounts; nothing was done';
  }
  const targets = await deps.targets(section);
  if (!targets.some((one) => one.account === target.account && one.region === target.region)) {
    return `Account ${target.account} in ${target.region} is not one of the config's targets; nothing was done`;
  }
  return undefined;
}

/** The gateway of an item refused before any call: it makes none, and reports none. */
const NO_CALLS: CleanupGateway = new Proxy({} as CleanupGateway, {
  get: (_target, property) =>
    property === 'callCounts'
      ? () => ({})
      : () => {
          throw new Error('a refused work item makes no registry call');
        },
});

/**
 * `runRepositoryCleanup` in a target account: a role that cannot be assumed for lack of access (missing, untrusting)
 * is the target's report, `target-unavailable`, not a failed invocation (Lambda's retries would not help); a throttled
 * or unavailable STS throws, and Lambda retries.
 */
async function runTargetCleanup(
  gateway: CleanupGateway,
  target: Target | undefined,
  input: CleanupRunInput,
): Promise<CleanupRunResult> {
  try {
    return await runRepositoryCleanup(gateway, input);
  } catch (error) {
    if (target === undefined || !(error instanceof TargetCredentialsError) || error.retryable) throw error;
    const { ruleIndex: _planned, ...unplanned } = input;
    const base = reportBaseOf(unplanned);
    return { report: emptyReport(base, 'target-unavailable', gateway, `${error.message}; nothing was done`) };
  }
}

/** Decisions are logged in chunks of this many, so that every image's fate is in the run's record. */
const DECISIONS_PER_LOG_LINE = 500;

/**
 * One work item: plan one repository and carry the plan out (or only report it in dry run), publish the
 * "Cleanup Report", and hand over to a follow-up work item when the deadline comes near.
 *
 * Anyone allowed to put events on the bus can forge a work item, so the item says only what to look at (registry,
 * repository, run id, part) and may turn dry run on: a repository is cleaned only when a rule of the config for
 * that registry matches it. The plan, the quiet period and the safety brake come from the config, the
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
  const registry = item.registry ?? 'private';
  const target = targetOf(item);
  const refused = await refusedTarget(item, config, deps);
  const section = config.targets;
  const gateway =
    refused === undefined && target !== undefined && section !== undefined && deps.targetGateway !== undefined
      ? deps.targetGateway(section, target, { readOnly: dryRun })
      : refused === undefined
        ? cleanupGatewayFor(deps, registry, { readOnly: dryRun })
        : NO_CALLS;
  deps.tracer.putAnnotation('repository', item.repositoryName);
  deps.tracer.putAnnotation('registry', registry);
  deps.tracer.putAnnotation('dryRun', dryRun);
  if (target !== undefined) {
    deps.tracer.putAnnotation('account', target.account);
    deps.tracer.putAnnotation('region', target.region);
  }
  const match = cleanupRuleFor(config.cleanup, item.repositoryName, registry);
  const now = deps.now();
  let report: CleanupReport;
  const events: ServiceEvent[] = [];
  const base = reportBaseOf({
    runId: item.runId,
    ...(target === undefined ? {} : { target }),
    registry,
    repositoryName: item.repositoryName,
    dryRun,
    part: item.part,
    now,
  });
  if (refused !== undefined) {
    report = emptyReport(base, 'not-matched', gateway, refused);
  } else if (!match) {
    report = emptyReport(
      base,
      'not-matched',
      gateway,
      'No enabled cleanup rule matches this repository any more; nothing was done',
    );
  } else {
    // What runs is read before the repository, so that an image a workload starts on later was pushed or tagged
    // after the read began, and the quiet period and the re-read before deleting see it.
    const inUse = await inUseForRun(config.cleanup.inUse, deps.inUse, section);
    if (inUse && inUse.failures.length > 0) {
      deps.logger.warn('in-use providers failed: nothing is deleted in the repositories they cover', {
        failures: inUse.failures,
      });
    }
    const result = await runTargetCleanup(gateway, target, {
      runId: item.runId,
      ...(target === undefined ? {} : { target }),
      registry,
      repositoryName: item.repositoryName,
      dryRun,
      part: item.part,
      now,
      rule: match.rule,
      ruleIndex: match.index,
      remainingMs: () => context.getRemainingTimeInMillis(),
      reserveMs: deps.reserveMs,
      ...(inUse === undefined ? {} : { inUse }),
    });
    report = result.report;
    // Built only for a logger that prints them: a repository of 100,000 images makes 100,000 log entries.
    const logsDecisions = !(typeof deps.logger.level === 'number' && deps.logger.level > LogLevelThreshold.INFO);
    if (result.plan && logsDecisions) {
      // Made a line at a time (`decisionView`): the plan need not hold every decision at once.
      let chunk: { digest: string; action: string; reason: unknown }[] = [];
      const logChunk = () =>
        deps.logger.info('cleanup decisions', {
          runId: item.runId,
          repositoryName: item.repositoryName,
          part: item.part,
          dryRun,
          decisions: chunk,
        });
      for (const decision of decisionView(result.plan).all()) {
        chunk.push({ digest: decision.digest, action: decision.action, reason: decision.reason });
        if (chunk.length < DECISIONS_PER_LOG_LINE) continue;
        logChunk();
        chunk = [];
      }
      if (chunk.length > 0) logChunk();
    }
    if (result.continueFrom) {
      const next: CleanupWorkItem = {
        runId: item.runId,
        ...targetFields(target),
        ...registryField(registry),
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
  if (deps.reports !== undefined) {
    // For the run's organisation report; a failure here leaves that report incomplete, never the cleanup undone.
    try {
      await storeReport(deps.reports, report);
    } catch (error) {
      deps.logger.warn('the report could not be stored for the run’s organisation report', {
        error: error instanceof Error ? error.message : String(error),
      });
      deps.metrics.addMetric('RunReportNotStored', MetricUnit.Count, 1);
    }
  }

  deps.metrics.addMetric('ImagesDeleted', MetricUnit.Count, report.counts.deleted);
  deps.metrics.addMetric('ImagesKept', MetricUnit.Count, report.counts.kept);
  if (report.counts.archived !== undefined) {
    deps.metrics.addMetric('ImagesArchived', MetricUnit.Count, report.counts.archived);
  }
  deps.metrics.addMetric('DeleteFailures', MetricUnit.Count, report.counts.failed);
  deps.metrics.addMetric('BytesReclaimed', MetricUnit.Bytes, report.bytesReclaimed);
  deps.metrics.addMetric(
    'EcrCalls',
    MetricUnit.Count,
    Object.values(report.apiCalls).reduce((sum, n) => sum + n, 0),
  );
  if (report.status === 'braked') deps.metrics.addMetric('SafetyBrakeHeld', MetricUnit.Count, 1);
  if (target !== undefined) {
    // Per account and region too (EMF, dimensions Account and Region): what an organisation's dashboard sums.
    const perTarget = deps.metrics.singleMetric();
    perTarget.addDimensions({ Account: target.account, Region: target.region });
    perTarget.addMetric('TargetImagesDeleted', MetricUnit.Count, report.counts.deleted);
    const perTargetBytes = deps.metrics.singleMetric();
    perTargetBytes.addDimensions({ Account: target.account, Region: target.region });
    perTargetBytes.addMetric('TargetBytesReclaimed', MetricUnit.Bytes, report.bytesReclaimed);
    if (report.status === 'target-unavailable') {
      const unavailable = deps.metrics.singleMetric();
      unavailable.addDimensions({ Account: target.account, Region: target.region });
      unavailable.addMetric('TargetUnavailable', MetricUnit.Count, 1);
    }
  }
  deps.logger.info('cleanup report', { report: { ...report, deleted: undefined, kept: undefined } });
  return report;
}

export interface CleanupRunInput {
  runId: string;
  /** The target account and region (the config's `targets`), reported with the results; absent: the own. */
  target?: Target;
  /** The repository's registry (default private); a public one is reported as such. */
  registry?: RegistryKind;
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
  /**
   * What runs (the in-use providers' snapshot), when the config names providers: images in use are kept with their
   * children and referrers, and a failed provider covering the repository keeps everything (fail closed).
   */
  inUse?: InUseSnapshot;
}

/** What every report of a run starts with: the run, where (target, registry, repository), the part and the plan's time. */
function reportBaseOf(
  input: Pick<
    CleanupRunInput,
    'runId' | 'target' | 'registry' | 'repositoryName' | 'dryRun' | 'part' | 'now' | 'ruleIndex'
  >,
): ReportBase {
  return {
    runId: input.runId,
    ...targetFields(input.target),
    ...registryField(input.registry ?? 'private'),
    repositoryName: input.repositoryName,
    dryRun: input.dryRun,
    part: input.part,
    plannedAt: new Date(input.now).toISOString(),
    ...(input.ruleIndex === undefined ? {} : { ruleIndex: input.ruleIndex }),
  };
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
 * plan), act (the plan as made: re-read the candidates, look at images pushed since, keep what changed with what it
 * protects, delete parents first; nothing in dry run), verify (kept images resolve whole), report. A repository that
 * vanished is reported, not fatal.
 */
export async function runRepositoryCleanup(gateway: CleanupGateway, input: CleanupRunInput): Promise<CleanupRunResult> {
  const base = reportBaseOf(input);
  const registry = input.registry ?? 'private';
  let snapshot: Awaited<ReturnType<typeof gatherRepository>>;
  let location: RepositoryLocation | undefined;
  try {
    if (input.inUse !== undefined) location = await locateRepository(gateway, registry, input.repositoryName);
    snapshot = await gatherRepository(gateway, input.repositoryName, input.now);
  } catch (error) {
    if (error instanceof RepositoryNotFoundError) {
      return { report: emptyReport(base, 'repository-gone', gateway, error.message) };
    }
    throw error;
  }
  const inUseOptions =
    input.inUse === undefined ? {} : inUsePlanOptions(input.inUse, location, input.repositoryName, snapshot.images);
  // One graph of the snapshot for the plan, the act and the verification.
  const graph = buildImageGraph(snapshot.images);
  const plan = planCleanup(input.repositoryName, snapshot.images, input.rule, input.now, { ...inUseOptions, graph });
  const indexes = new Set(snapshot.images.filter(isIndex).map((image) => image.digest));
  const status = (s: CleanupStatus) => s;
  if (inUseOptions.inUseUnavailable !== undefined) {
    const report = reportOf(base, status('in-use-unknown'), plan, gateway, indexes);
    return { report: { ...report, message: inUseOptions.inUseUnavailable }, plan };
  }
  if (plan.brake) return { report: reportOf(base, status('braked'), plan, gateway, indexes), plan };
  if (input.dryRun) return { report: reportOf(base, status('dry-run'), plan, gateway, indexes), plan };
  if (plan.toDelete.length === 0 && (plan.toArchive ?? []).length === 0)
    return { report: reportOf(base, status('nothing-to-do'), plan, gateway, indexes), plan };

  let execution: Awaited<ReturnType<typeof executePlan>>;
  try {
    execution = await executePlan(gateway, snapshot.images, plan, {
      remainingMs: input.remainingMs,
      reserveMs: input.reserveMs,
      ownReads: snapshot.ownReads,
      graph,
    });
  } catch (error) {
    if (error instanceof RepositoryNotFoundError) {
      return { report: emptyReport(base, 'repository-gone', gateway, error.message), plan };
    }
    throw error;
  }
  if (execution.remaining.length === 0) {
    const keptSincePlan = new Set([...execution.changedSincePlan, ...execution.keptWithChanged]);
    const left = imagesLeft(execution);
    // The check asks what was deleted only about the images the plan keeps and those kept since (the act deletes none
    // of them), and about every image only to count what is left when the listing did not: it is given what was
    // deleted of the images it asks about, not a set of every deletion (most of a large repository).
    const view = decisionView(execution.plan);
    const asked =
      left.repositoryImages === undefined
        ? () => true
        : (digest: string) => view.keeps(digest) || keptSincePlan.has(digest);
    const deleted = new Set<string>();
    for (const gone of [execution.deleted, execution.alreadyGone])
      for (const digest of gone) if (asked(digest)) deleted.add(digest);
    await verifyKeptImagesWhole(gateway, snapshot.images, execution.plan, deleted, keptSincePlan, { ...left, graph });
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
