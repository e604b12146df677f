import { resolveDryRun } from '../config/dry-run.ts';
import { cleanupRuleFor } from '../config/load.ts';
import { selectRepositories } from '../config/rules.ts';
import { targetRoleArn } from '../credentials/assume-role.ts';
import { mapAtMost } from '../domain/at-most.ts';
import { type Target, targetFields } from '../domain/target.ts';
import { sumCallCounts } from '../ecr/calls.ts';
import type { EcrGateway } from '../ecr/index.ts';
import { type CleanupWorkItem, DETAIL_TYPES, type ScheduledCleanupDetail } from '../events/schemas.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import { type RegistryKind, registryField } from './gateway.ts';
import { storeFanOut } from './run-store.ts';

/** ECR Public's call counts beside ECR's, told apart (both have DescribeRepositories). */
const prefixed = (prefix: string, counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).map(([operation, count]) => [`${prefix}${operation}`, count]));

export type CleanupSchedulerDeps = Pick<
  ServiceDeps,
  'config' | 'gateway' | 'publicGateway' | 'publish' | 'workerPrincipalArn' | 'logger' | 'tracer'
> &
  Partial<Pick<ServiceDeps, 'targets' | 'targetGateway' | 'reports'>>;

/** Targets listed at once by the fan-out (each in its own account and region, so no quota is shared). */
const TARGETS_AT_ONCE = 8;

/** One target's share of a fan-out: its repositories listed and work items published, or why it failed. */
export interface TargetFanOut {
  account: string;
  region: string;
  status: 'listed' | 'failed';
  repositories: number;
  workItems: number;
  pullTimeExclusion?: PullTimeExclusionStatus;
  /** Why the target failed (its role could not be assumed, its registry refused the listing). */
  message?: string;
}

export type PullTimeExclusionStatus =
  | 'not-configured'
  | 'not-needed (no rule for the private registry)'
  | 'already-excluded'
  | 'registered'
  | 'missing (dry run registers nothing)'
  | `unavailable: ${string}`;

export interface FanOutSummary {
  runId: string;
  plannedAt: string;
  dryRun: boolean;
  repositories: number;
  workItems: number;
  notMatched: number;
  /** ECR Public's share of the counts above, when a cleanup rule is for the public registry. */
  public?: { repositories: number; workItems: number };
  /** Whether the workers' manifest reads are kept out of `lastRecordedPullTime` (the private registry's only). */
  pullTimeExclusion: PullTimeExclusionStatus;
  /**
   * With the config's `targets`: each account and region, listed or failed (the others go on when one fails). The
   * counts above are then their sums (and the own account's public registry's, when a rule is for it).
   */
  targets?: TargetFanOut[];
  apiCalls: Record<string, number>;
}

async function ensureWorkersExcluded(
  gateway: EcrGateway,
  principalArn: string | undefined,
  dryRun: boolean,
): Promise<PullTimeExclusionStatus> {
  if (!principalArn) return 'not-configured';
  try {
    if ((await gateway.listPullTimeExclusions()).includes(principalArn)) return 'already-excluded';
    if (dryRun) return 'missing (dry run registers nothing)';
    await gateway.excludeFromPullTime(principalArn);
    return 'registered';
  } catch (error) {
    // A registry without the feature (or without the permission) still gets cleaned; the report says what is missing.
    return `unavailable: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * The nightly fan-out: makes sure the workers' manifest reads do not count as pulls, lists every repository once
 * (DescribeRepositories, pages of 1000; ECR Public's too when a rule is for the public registry) and publishes one
 * work item per repository an enabled rule of its registry matches (`registry: 'public'` for a public one), so that
 * many workers clean in parallel. The run id and the plan's clock come from the triggering event, so a re-delivered schedule event produces the same work items.
 *
 * With the config's `targets`, it does so in every account and region the section names (accounts of organisational
 * units discovered by `deps.targets`), through each account's role, several targets at once; each work item names
 * its account and region, the workers' exclusion from pull times is the target role's, and a target that fails
 * (its role cannot be assumed, its registry refuses) is reported in `targets` while the others are cleaned. ECR
 * Public rules stay the deployment's own account's.
 */
export async function runCleanupFanOut(
  trigger: { id: string; time: string; detail: ScheduledCleanupDetail },
  deps: CleanupSchedulerDeps,
): Promise<FanOutSummary> {
  const config = deps.config();
  const dryRun = resolveDryRun(config.cleanup.dryRun, trigger.detail.dryRun);
  deps.tracer.putAnnotation('dryRun', dryRun);
  // The private registry is listed only when a rule is for it: a public-only config makes no ECR call.
  const cleansPrivate = config.cleanup.rules.some((rule) => rule.registry !== 'public' && rule.enabled);
  const itemFor =
    (registry: RegistryKind, target?: Target) =>
    ({ repository }: { repository: { name: string } }): CleanupWorkItem => ({
      runId: trigger.id,
      ...targetFields(target),
      ...registryField(registry),
      repositoryName: repository.name,
      dryRun,
      part: 1,
      plannedAt: trigger.time,
    });
  let privateItems: CleanupWorkItem[] = [];
  let privateListed = 0;
  let pullTimeExclusion: PullTimeExclusionStatus = 'not-needed (no rule for the private registry)';
  let targets: TargetFanOut[] | undefined;
  /** The gateways the private listing went through (the own account's, or each target's), for the call counts. */
  const listedThrough: Pick<EcrGateway, 'callCounts'>[] = [];
  if (config.targets !== undefined) {
    // Across an organisation: every target account and region, each through its own role; one that fails is
    // reported and the others go on. An unknown account or unit throws before anything is listed.
    const section = config.targets;
    if (deps.targets === undefined || deps.targetGateway === undefined) {
      throw new Error('the config names targets, but this runtime cannot assume roles in other accounts');
    }
    const resolved = cleansPrivate ? await deps.targets(section) : [];
    const targetGateway = deps.targetGateway;
    const fanOuts = await mapAtMost(resolved, TARGETS_AT_ONCE, async (target) => {
      const gateway = targetGateway(section, target, { readOnly: dryRun });
      try {
        const exclusion = await ensureWorkersExcluded(
          gateway,
          deps.workerPrincipalArn === undefined
            ? undefined
            : targetRoleArn(target.account, target.region, section.roleName),
          dryRun,
        );
        const selection = await selectRepositories(
          gateway.listRepositories(),
          (name) => cleanupRuleFor(config.cleanup, name),
          trigger.detail.repositories,
        );
        return {
          items: selection.selected.map(itemFor('private', target)),
          fanOut: {
            ...target,
            status: 'listed' as const,
            repositories: selection.listed,
            workItems: selection.selected.length,
            pullTimeExclusion: exclusion,
          },
        };
      } catch (error) {
        deps.logger.warn('cleanup target failed: its repositories are not cleaned in this run', {
          account: target.account,
          region: target.region,
          error: error instanceof Error ? error.message : String(error),
        });
        return {
          items: [],
          fanOut: {
            ...target,
            status: 'failed' as const,
            repositories: 0,
            workItems: 0,
            message: error instanceof Error ? error.message : String(error),
          },
        };
      } finally {
        listedThrough.push(gateway);
      }
    });
    targets = fanOuts.map((result) => result.fanOut);
    // Round-robin over the targets: the workers taking the items about in order work in many accounts at once, not
    // all in the first account's quota.
    privateItems = interleave(fanOuts.map((result) => result.items));
    privateListed = targets.reduce((sum, target) => sum + target.repositories, 0);
    if (cleansPrivate) pullTimeExclusion = summariseExclusions(targets);
  } else if (cleansPrivate) {
    const gateway = deps.gateway({ readOnly: dryRun });
    pullTimeExclusion = await ensureWorkersExcluded(gateway, deps.workerPrincipalArn, dryRun);
    const selection = await selectRepositories(
      gateway.listRepositories(),
      (name) => cleanupRuleFor(config.cleanup, name),
      trigger.detail.repositories,
    );
    privateItems = selection.selected.map(itemFor('private'));
    privateListed = selection.listed;
    listedThrough.push(gateway);
  }
  // ECR Public is listed only when a rule is for it: a private-only config makes no ECR Public call.
  const publicGateway = config.cleanup.rules.some((rule) => rule.registry === 'public' && rule.enabled)
    ? deps.publicGateway({ readOnly: dryRun })
    : undefined;
  const publicSelection = publicGateway
    ? await selectRepositories(
        publicGateway.listRepositories(),
        (name) => cleanupRuleFor(config.cleanup, name, 'public'),
        trigger.detail.repositories,
      )
    : undefined;
  const publicItems = (publicSelection?.selected ?? []).map(itemFor('public'));
  const items = [...privateItems, ...publicItems];
  const listed = privateListed + (publicSelection?.listed ?? 0);
  const summary: FanOutSummary = {
    runId: trigger.id,
    plannedAt: trigger.time,
    dryRun,
    repositories: listed,
    workItems: items.length,
    notMatched: listed - items.length,
    ...(publicSelection ? { public: { repositories: publicSelection.listed, workItems: publicItems.length } } : {}),
    pullTimeExclusion,
    ...(targets === undefined ? {} : { targets }),
    apiCalls: {
      ...sumCallCounts(listedThrough.map((gateway) => gateway.callCounts())),
      ...prefixed('ecr-public:', publicGateway?.callCounts() ?? {}),
    },
  };
  const failedTargets = targets?.filter((target) => target.status === 'failed').length;
  const report = {
    ...summary,
    ...(failedTargets === undefined ? {} : { failedTargets }),
    apiCalls: { ...summary.apiCalls, PutEvents: Math.ceil((items.length + 1) / 10) },
  };
  // Stored before the work items go out, so that the run's organisation report knows how many to wait for. A store
  // that fails costs the run its organisation report, never its cleanup.
  if (deps.reports !== undefined) {
    try {
      await storeFanOut(deps.reports, report);
    } catch (error) {
      deps.logger.warn('the fan-out report could not be stored: this run gets no organisation report', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  // The work items, then the fan-out's report (its PutEvents calls are the ones that publish it too).
  const { calls } = await deps.publish([
    ...items.map((item) => ({ detailType: DETAIL_TYPES.cleanupWorkItem, detail: item })),
    { detailType: DETAIL_TYPES.cleanupFanOutReport, detail: report },
  ]);
  summary.apiCalls.PutEvents = calls;
  return summary;
}

/** The targets' pull-time exclusions in one status: the same for all, or the first that differs from `registered`. */
function summariseExclusions(targets: readonly TargetFanOut[]): PullTimeExclusionStatus {
  const statuses = targets.flatMap((target) =>
    target.pullTimeExclusion === undefined ? [] : [target.pullTimeExclusion],
  );
  const first = statuses[0];
  if (first === undefined) return 'not-configured';
  return statuses.find((status) => status !== 'registered' && status !== 'already-excluded') ?? first;
}

/** The lists' items taken one from each list in turn: `[[a1, a2], [b1]]` → `[a1, b1, a2]`. */
export function interleave<T>(lists: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  const longest = lists.reduce((max, list) => Math.max(max, list.length), 0);
  for (let index = 0; index < longest; index += 1) {
    for (const list of lists) {
      const item = list[index];
      if (item !== undefined) out.push(item);
    }
  }
  return out;
}
