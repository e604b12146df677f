import { resolveDryRun } from '../config/dry-run.ts';
import { cleanupRuleFor } from '../config/load.ts';
import { selectRepositories } from '../config/rules.ts';
import type { EcrGateway } from '../ecr/index.ts';
import { type CleanupWorkItem, DETAIL_TYPES, type ScheduledCleanupDetail } from '../events/schemas.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import { type RegistryKind, registryField } from './gateway.ts';

/** ECR Public's call counts beside ECR's, told apart (both have DescribeRepositories). */
const prefixed = (prefix: string, counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).map(([operation, count]) => [`${prefix}${operation}`, count]));

export type CleanupSchedulerDeps = Pick<
  ServiceDeps,
  'config' | 'gateway' | 'publicGateway' | 'publish' | 'workerPrincipalArn' | 'logger' | 'tracer'
>;

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
 */
export async function runCleanupFanOut(
  trigger: { id: string; time: string; detail: ScheduledCleanupDetail },
  deps: CleanupSchedulerDeps,
): Promise<FanOutSummary> {
  const config = deps.config();
  const dryRun = resolveDryRun(config.cleanup.dryRun, trigger.detail.dryRun);
  const gateway = deps.gateway({ readOnly: dryRun });
  deps.tracer.putAnnotation('dryRun', dryRun);
  // The private registry is listed only when a rule is for it: a public-only config makes no ECR call.
  const cleansPrivate = config.cleanup.rules.some((rule) => rule.registry !== 'public' && rule.enabled);
  const pullTimeExclusion = cleansPrivate
    ? await ensureWorkersExcluded(gateway, deps.workerPrincipalArn, dryRun)
    : 'not-needed (no rule for the private registry)';
  const { selected, listed: repositories } = cleansPrivate
    ? await selectRepositories(
        gateway.listRepositories(),
        (name) => cleanupRuleFor(config.cleanup, name),
        trigger.detail.repositories,
      )
    : { selected: [], listed: 0 };
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
  const itemFor =
    (registry: RegistryKind) =>
    ({ repository }: { repository: { name: string } }): CleanupWorkItem => ({
      runId: trigger.id,
      ...registryField(registry),
      repositoryName: repository.name,
      dryRun,
      part: 1,
      plannedAt: trigger.time,
    });
  const publicItems = (publicSelection?.selected ?? []).map(itemFor('public'));
  const items = [...selected.map(itemFor('private')), ...publicItems];
  const listed = repositories + (publicSelection?.listed ?? 0);
  const { calls } = await deps.publish(
    items.map((item) => ({ detailType: DETAIL_TYPES.cleanupWorkItem, detail: item })),
  );
  return {
    runId: trigger.id,
    plannedAt: trigger.time,
    dryRun,
    repositories: listed,
    workItems: items.length,
    notMatched: listed - items.length,
    ...(publicSelection ? { public: { repositories: publicSelection.listed, workItems: publicItems.length } } : {}),
    pullTimeExclusion,
    apiCalls: {
      ...gateway.callCounts(),
      ...prefixed('ecr-public:', publicGateway?.callCounts() ?? {}),
      PutEvents: calls,
    },
  };
}
