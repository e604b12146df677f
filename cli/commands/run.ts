import { runRepositoryCleanup } from '../../shared/cleanup/entry.ts';
import type { RegistryKind } from '../../shared/cleanup/gateway.ts';
import type { CleanupReport } from '../../shared/cleanup/report.ts';
import { resolveDryRun } from '../../shared/config/dry-run.ts';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import type { InUseSnapshot } from '../../shared/domain/in-use.ts';
import type { CleanupPlan } from '../../shared/policy/cleanup/plan.ts';
import { EXIT, UsageError } from './errors.ts';
import { formatBytes, formatReason, renderPlan, shortDigest } from './format.ts';
import { type CliGateway, selectRepositories } from './select.ts';

export interface RunDeps {
  /** Read-only for a dry run (the caller decides from `dryRun` and the config). */
  gateway: CliGateway;
  config: Readonly<ServiceConfig>;
  now: number;
  out: (line: string) => void;
  err: (line: string) => void;
  interactive: boolean;
  confirm: (question: string) => Promise<boolean>;
  /**
   * Reads what runs (the config's in-use providers), once for the whole run, after the confirmation; undefined when
   * the config names none. Every repository's `runRepositoryCleanup` takes it, as the worker's does: images in use
   * are kept, and a failed provider keeps everything it covers.
   */
  readInUse?: () => Promise<InUseSnapshot | undefined>;
}

export interface RunOptions {
  repositories?: readonly string[];
  /** `--public`: the repositories of ECR Public, with the config's public rules. */
  registry?: RegistryKind;
  /** `--dry-run`; the config's `cleanup.dryRun` also makes the run dry. */
  dryRun: boolean;
  yes: boolean;
  runId?: string;
}

export interface RunResult {
  exitCode: number;
  dryRun: boolean;
  reports: CleanupReport[];
}

/** Whether a run is dry: asked for on the command line, or set in the config (which the Lambda honours too). */
export const isDryRun = (config: Readonly<ServiceConfig>, requested: boolean): boolean =>
  resolveDryRun(config.cleanup.dryRun, requested);

/**
 * `cleanup run`: plans and applies in one go per repository with `runRepositoryCleanup`, the very code the Lambda
 * worker runs (gather, plan, re-read, delete parents first, verify kept images). A dry run plans and prints, and
 * its gateway refuses every mutating call.
 */
export async function runCleanup(deps: RunDeps, options: RunOptions): Promise<RunResult> {
  const { gateway, config, now, out } = deps;
  const dryRun = isDryRun(config, options.dryRun);
  if (dryRun && !gateway.readOnly) throw new Error('invariant: a dry run needs a read-only gateway');
  if (!dryRun && !options.yes) {
    if (!deps.interactive) {
      throw new UsageError(
        'run deletes images without a saved plan and needs a confirmation: standard input is not a terminal, so there is no one to ask',
        'Preview with --dry-run (or plan), then pass --yes.',
      );
    }
    if (!(await deps.confirm('Delete what the cleanup rules select now, without a saved plan to review?'))) {
      deps.err('Not run: nothing was deleted.');
      return { exitCode: EXIT.failed, dryRun, reports: [] };
    }
  }
  const runId = options.runId ?? `cli-${new Date(now).toISOString()}`;
  const why = options.dryRun ? '' : ' (the config sets cleanup.dryRun)';
  out(`Cleanup run ${runId}${dryRun ? `: dry run${why}, nothing is deleted` : ''}`);
  out('');

  // What runs is read before the repositories, so that an image a workload starts on later was pushed or tagged
  // after the read began, and the quiet period and the re-read before deleting see it (as in the worker).
  const inUse = await deps.readInUse?.();
  const selection = await selectRepositories(gateway, config, options.repositories, options.registry);
  const reports: CleanupReport[] = [];
  const notes: string[] = [];
  for (const { repositoryName, rule, ruleIndex } of selection.selected) {
    const result = await runRepositoryCleanup(gateway, {
      ...(options.registry === undefined ? {} : { registry: options.registry }),
      runId,
      repositoryName,
      dryRun,
      part: 1,
      now,
      rule,
      ruleIndex,
      ...(inUse === undefined ? {} : { inUse }),
    });
    const { report } = result;
    reports.push(report);
    if (report.status === 'repository-gone') out(`${repositoryName}: gone; ${report.message ?? ''}`.trimEnd());
    else if (report.status === 'completed' || report.status === 'continued') {
      for (const line of renderDeleted(report, now, result.changedSincePlan ?? [])) out(line);
    } else if (result.plan) {
      for (const line of renderPlan(result.plan, `rule #${ruleIndex}, ${report.status}`, now)) out(line);
      if (report.status === 'in-use-unknown')
        notes.push(`${repositoryName}: every image kept: ${report.message ?? ''}`);
      if (dryRun) notes.push(...(await indexNote(gateway, result.plan)));
    }
    out('');
  }
  for (const name of selection.withoutRule) {
    notes.push(`${name}: matches --repository but no enabled cleanup rule; left alone`);
  }
  for (const note of notes) deps.err(`note: ${note}`);
  const sum = (pick: (report: CleanupReport) => number) => reports.reduce((n, report) => n + pick(report), 0);
  const failed = sum((report) => report.counts.failed);
  const calls = Object.entries(gateway.callCounts())
    .map(([operation, count]) => `${operation} ${count}`)
    .join(', ');
  const toArchive = sum((r) => r.counts.toArchive ?? 0);
  const archived = sum((r) => r.counts.archived ?? 0);
  out(
    dryRun
      ? `Dry run: ${reports.length} of ${selection.listed} repositories, ${sum((r) => r.counts.toDelete)} images would be deleted (${formatBytes(sum((r) => r.bytesReclaimed))})${toArchive > 0 ? ` and ${toArchive} archived` : ''}; nothing was deleted.`
      : `Run: ${reports.length} of ${selection.listed} repositories, deleted ${sum((r) => r.counts.deleted)} images (${formatBytes(sum((r) => r.bytesReclaimed))})${toArchive > 0 ? `, archived ${archived}` : ''}, ${failed} failed.`,
  );
  out(`ECR calls: ${calls || 'none'}`);
  return { exitCode: failed > 0 ? EXIT.failed : EXIT.ok, dryRun, reports };
}

/**
 * The gather reads every index manifest (BatchGetImage), which ECR records as a pull unless this principal is
 * excluded from pull-time updates. Within one run that read is known to be the run's own; but a dry run leaves the
 * pull recorded, so a later run sees those indexes as recently pulled and keeps them with their children: say so.
 * Whether ECR recorded it is read back (DescribeImages of the indexes it would delete): for an excluded principal
 * their pull times did not move, and there is nothing to say.
 */
async function indexNote(gateway: CliGateway, plan: CleanupPlan): Promise<string[]> {
  const indexes = [
    ...new Set(
      plan.decisions.flatMap((decision) =>
        decision.reason.code === 'child-of-deleted-index' ? [decision.reason.via] : [],
      ),
    ),
  ];
  if (indexes.length === 0) return [];
  const plannedPull = new Map(
    plan.decisions.flatMap((decision) =>
      decision.reason.code === 'stale-untagged' ? [[decision.digest, decision.reason.lastPulledAt] as const] : [],
    ),
  );
  const { images } = await gateway.describeImages(plan.repositoryName, indexes);
  const pulled = images
    .filter((image) => {
      const before = plannedPull.get(image.digest);
      return image.lastPulledAt !== undefined && (before === undefined || image.lastPulledAt > Date.parse(before));
    })
    .map((image) => image.digest);
  if (pulled.length === 0) return [];
  return [
    `${plan.repositoryName}: this dry run read the manifests of ${pulled.length} index(es) it would delete (${pulled
      .map(shortDigest)
      .join(', ')}), and ECR recorded the reads as pulls: they now look recently pulled, and a later run keeps them, ` +
      'with their children, until notPulledForDays pass. Excluding this principal from pull-time updates ' +
      '(RegisterPullTimeUpdateExclusion) keeps its reads from counting.',
  ];
}

/** What a run deleted in one repository, and what it kept that changed between planning and deleting (as `apply`). */
function renderDeleted(report: CleanupReport, now: number, changedSincePlan: readonly string[]): string[] {
  const { counts } = report;
  const unlisted = counts.deleted - report.deleted.length;
  return [
    `${report.repositoryName}  rule #${report.ruleIndex ?? '?'}, ${report.status}: deleted ${counts.deleted} of ${counts.toDelete} selected (${formatBytes(report.bytesReclaimed)}), ${counts.kept} kept`,
    ...report.deleted.map((entry) => `  deleted  ${shortDigest(entry.digest)}  ${formatReason(entry.reason, now)}`),
    ...(unlisted > 0 ? [`  … and ${unlisted} more (the report lists at most ${report.deleted.length})`] : []),
    ...(counts.toArchive === undefined ? [] : [`  archived ${counts.archived ?? 0} of ${counts.toArchive} selected`]),
    ...(report.archived ?? []).map(
      (entry) => `  archived ${shortDigest(entry.digest)}  ${formatReason(entry.reason, now)}`,
    ),
    ...(counts.alreadyGone > 0 ? [`  ${counts.alreadyGone} already deleted by someone else`] : []),
    ...changedSincePlan.map(
      (digest) =>
        `  kept     ${shortDigest(digest)}  gained a tag or a pull between planning and deleting: kept, with what it protects`,
    ),
    ...report.failures.map(
      (failure) =>
        `  FAILED   ${failure.digest ? shortDigest(failure.digest) : '?'}  ${failure.code}: ${failure.reason}`,
    ),
  ];
}
