import { describe, expect, it } from 'vitest';
import { peakOverlap } from '../../../bench/org-sim/dispatcher.ts';
import { buildOrganisation } from '../../../bench/org-sim/organisation.ts';
import { type SimulationResult, shardOf, simulate } from '../../../bench/org-sim/simulation.ts';
import { simulateInThreads } from '../../../bench/org-sim/threads.ts';
import { cleanupRuleFor } from '../../../shared/config/load.ts';
import { planCleanup } from '../../../shared/policy/cleanup/plan.ts';

/**
 * The organisation simulation (bench/organisation.bench.ts) at a tiny scale: 2 accounts × 2 regions, 40
 * repositories, 8,000 images. What a user of its figures relies on: the sweep deletes what the policy selects and
 * nothing it keeps, its virtual time is no shorter than the modelled rates allow, the per-target bound holds, and
 * throttled calls are retried by the SDK until the run completes.
 */
const TINY = { accounts: 2, regions: ['us-east-1', 'eu-west-1'], repositories: 40, images: 8_000, seed: 42 };

/** Each repository's plan at its report's time, against the digests the model saw deleted. */
function checkAgainstPolicy(result: SimulationResult): { planned: number; deleted: number } {
  let planned = 0;
  let deleted = 0;
  const byName = new Map(result.organisation.repositories.map((repository) => [repository.name, repository]));
  expect(result.reports).toHaveLength(result.repositories);
  for (const report of result.reports) {
    expect(report.status).toBe('completed');
    const repository = byName.get(report.repositoryName);
    if (repository === undefined) throw new Error(`no repository ${report.repositoryName}`);
    const match = cleanupRuleFor(result.config.cleanup, repository.name);
    if (match === undefined) throw new Error(`no rule for ${repository.name}`);
    const plan = planCleanup(
      repository.name,
      result.model.recordsOf(repository),
      match.rule,
      Date.parse(report.plannedAt),
    );
    const gone = result.model.deletedDigests.get(repository.index) ?? [];
    expect(new Set(gone)).toEqual(new Set(plan.toDelete));
    const kept = new Set(plan.decisions.filter((decision) => decision.action === 'keep').map((d) => d.digest));
    expect(gone.filter((digest) => kept.has(digest))).toEqual([]);
    planned += plan.toDelete.length;
    deleted += gone.length;
  }
  return { planned, deleted };
}

describe('the organisation simulation', () => {
  it('deletes every image the policy selects and none it keeps, in no less time than the rates allow', async () => {
    const result = await simulate({ organisation: TINY, workersPerTarget: 2, reservedConcurrency: 100, keep: true });

    const { planned, deleted } = checkAgainstPolicy(result);
    expect(planned).toBeGreaterThan(1_000);
    expect(deleted).toBe(planned);
    expect(result.imagesDeleted).toBe(planned);
    expect(result.images).toBe(8_000);
    expect(result.workItems).toBe(40);
    expect(result.sweepSeconds).toBeGreaterThanOrEqual(result.throttleBoundSeconds);
    expect(result.failedInvocations).toBe(0);
  });

  it('runs at most one work item of an account and region at once with one worker each', async () => {
    const result = await simulate({ organisation: TINY, workersPerTarget: 1, reservedConcurrency: 100 });

    expect(result.peakWorkersPerTarget).toBe(1);
    expect(result.peakWorkers).toBeLessThanOrEqual(4);
    expect(result.reportsByStatus).toEqual({ completed: 40 });
  });

  it('hands a repository over to a follow-up work item when the deadline comes near, and finishes it', async () => {
    const unhurried = await simulate({ organisation: TINY, workersPerTarget: 2, reservedConcurrency: 100 });
    // 62 seconds with the manifest's 60 kept in reserve: two seconds per invocation, for listing and deleting.
    const hurried = await simulate({
      organisation: TINY,
      workersPerTarget: 2,
      reservedConcurrency: 100,
      timeoutMs: 62_000,
    });

    expect(hurried.followUps).toBeGreaterThan(0);
    expect(hurried.reportsByStatus.continued).toBe(hurried.followUps);
    expect(hurried.reportsByStatus.completed).toBe(40);
    expect(hurried.failedInvocations).toBe(0);
    expect(hurried.abandonedRepositories).toBe(0);
    expect(hurried.imagesDeleted).toBe(unhurried.imagesDeleted);
  });

  it('retries throttled calls through the SDK and still completes the run', async () => {
    const result = await simulate({
      organisation: TINY,
      workersPerTarget: 8,
      reservedConcurrency: 100,
      keep: true,
      rates: {
        DescribeImages: { perSecond: 2, burst: 2 },
        BatchDeleteImage: { perSecond: 2, burst: 2 },
        BatchGetImage: { perSecond: 2, burst: 2 },
      },
    });

    expect(result.throttledCalls).toBeGreaterThan(0);
    expect(result.failedInvocations).toBe(0);
    expect(result.droppedItems).toBe(0);
    const { planned, deleted } = checkAgainstPolicy(result);
    expect(deleted).toBe(planned);
    expect(result.sweepSeconds).toBeGreaterThanOrEqual(result.throttleBoundSeconds);
  });
});

describe('the organisation simulation in threads', () => {
  it('splits the account-regions into shards of about equal images, the same way every time', () => {
    const organisation = buildOrganisation({ ...TINY, accounts: 5, repositories: 100, images: 50_000 });
    const shards = shardOf(organisation, 2);

    expect(shards).toEqual(shardOf(organisation, 2));
    expect(new Set(shards)).toEqual(new Set([0, 1]));
    const imagesOf = (shard: number) =>
      organisation.targets
        .filter((_, i) => shards[i] === shard)
        .reduce((sum, target) => sum + target.repositories.reduce((n, repository) => n + repository.images, 0), 0);
    const largest = Math.max(
      ...organisation.targets.map((target) => target.repositories.reduce((n, repository) => n + repository.images, 0)),
    );
    expect(Math.abs(imagesOf(0) - imagesOf(1))).toBeLessThanOrEqual(largest);
    expect(imagesOf(0) + imagesOf(1)).toBe(50_000);
  });

  it('counts the most invocations running at once over threads, an end at a start freeing its place', () => {
    const one = { startedAt: [0, 10, 20], endedAt: [15, 20, 30] };
    const two = { startedAt: [5, 12], endedAt: [12, 25] };

    // At 12: 0–15 and 10–20 of the first, and 12–25 of the second (5–12 ended as it started).
    expect(peakOverlap([one, two])).toBe(3);
    expect(peakOverlap([one])).toBe(2);
    expect(peakOverlap([])).toBe(0);
  });

  it('gives the figures of one thread when run in two: the same images, deletions and work items', async () => {
    const options = { organisation: TINY, workersPerTarget: 2, reservedConcurrency: 100 };
    const single = await simulateInThreads(options, 1);
    const split = await simulateInThreads(options, 2);

    expect(single.threads).toBe(1);
    expect(split.threads).toBe(2);
    expect(split.images).toBe(8_000);
    expect(split.repositories).toBe(40);
    expect(split.imagesDeleted).toBe(single.imagesDeleted);
    expect(split.workItems).toBe(single.workItems);
    expect(split.reportsByStatus).toEqual({ completed: 40 });
    expect(split.peakWorkersPerTarget).toBe(2);
    expect(split.peakWorkers).toBeLessThanOrEqual(8);
    expect(split.sweepSeconds).toBeGreaterThanOrEqual(split.throttleBoundSeconds);
  }, 120_000);

  it('runs in one thread when the worker function’s concurrency over the organisation could bind', async () => {
    const result = await simulateInThreads({ organisation: TINY, workersPerTarget: 2, reservedConcurrency: 3 }, 2);

    expect(result.threads).toBe(1);
    expect(result.peakWorkers).toBeLessThanOrEqual(3);
    expect(result.reportsByStatus).toEqual({ completed: 40 });
  });
});
