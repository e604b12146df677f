import { cleanupRuleFor } from '../config/load.ts';
import type { ServiceConfig } from '../config/schema.ts';
import type { EcrGateway } from '../ecr/index.ts';
import type { ServiceEvent } from '../events/publisher.ts';
import { type CleanupWorkItem, DETAIL_TYPES, type ScheduledCleanupDetail } from '../events/schemas.ts';
import { matchesAnyGlob } from '../policy/glob.ts';

export interface CleanupSchedulerDeps {
  config(): Readonly<ServiceConfig>;
  gateway(): EcrGateway;
  publish(events: readonly ServiceEvent[]): Promise<{ calls: number }>;
}

export interface FanOutSummary {
  runId: string;
  plannedAt: string;
  dryRun: boolean;
  repositories: number;
  workItems: number;
  notMatched: number;
  apiCalls: Record<string, number>;
}

/**
 * The nightly fan-out: lists every repository once (DescribeRepositories, pages of 1000) and publishes one work item
 * per repository an enabled rule matches, so that many workers clean in parallel. The run id and the plan's clock
 * come from the triggering event, so a re-delivered schedule event produces the same work items.
 */
export async function fanOutCleanup(
  trigger: { id: string; time: string; detail: ScheduledCleanupDetail },
  deps: CleanupSchedulerDeps,
): Promise<FanOutSummary> {
  const config = deps.config();
  const dryRun = trigger.detail.dryRun ?? config.cleanup.dryRun;
  const gateway = deps.gateway();
  const items: CleanupWorkItem[] = [];
  let repositories = 0;
  for await (const repository of gateway.listRepositories()) {
    repositories++;
    if (trigger.detail.repositories && !matchesAnyGlob(repository.name, trigger.detail.repositories)) continue;
    if (!cleanupRuleFor(config.cleanup, repository.name)) continue;
    items.push({
      runId: trigger.id,
      repositoryName: repository.name,
      dryRun,
      part: 1,
      plannedAt: trigger.time,
      brakeCleared: false,
    });
  }
  const { calls } = await deps.publish(
    items.map((item) => ({ detailType: DETAIL_TYPES.cleanupWorkItem, detail: item })),
  );
  return {
    runId: trigger.id,
    plannedAt: trigger.time,
    dryRun,
    repositories,
    workItems: items.length,
    notMatched: repositories - items.length,
    apiCalls: { ...gateway.callCounts(), PutEvents: calls },
  };
}
