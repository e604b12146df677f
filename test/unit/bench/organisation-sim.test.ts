import { createHash } from 'node:crypto';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImagesCommand,
  type DescribeImagesCommandOutput,
  type ECRClient,
  type ImageDetail,
} from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import {
  FLEET_PROFILE,
  generateShape,
  type ShapeProfile,
  STALE_PROFILE,
  toImageRecords,
} from '../../../bench/cleanup-lib.ts';
import { VirtualClock } from '../../../bench/org-sim/clock.ts';
import { peakOverlap } from '../../../bench/org-sim/dispatcher.ts';
import { EcrModel } from '../../../bench/org-sim/model.ts';
import { buildOrganisation, type RepositorySpec } from '../../../bench/org-sim/organisation.ts';
import { type SimulationResult, shardOf, simulate } from '../../../bench/org-sim/simulation.ts';
import { simulateInThreads } from '../../../bench/org-sim/threads.ts';
import { prng } from '../../../bench/prng.ts';
import { cleanupRuleFor } from '../../../shared/config/load.ts';
import type { ImageRecord } from '../../../shared/domain/image.ts';
import { createEcrClient } from '../../../shared/ecr/index.ts';
import { toImageRecord } from '../../../shared/ecr/mapping.ts';
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

  it('gives the same figures when its clients serialise their requests as production’s do', async () => {
    const options = { organisation: TINY, workersPerTarget: 2, reservedConcurrency: 100 };
    const modelOnly = await simulate(options);
    const serialised = await simulate({ ...options, serializeRequests: true });

    expect(serialised.imagesDeleted).toBe(modelOnly.imagesDeleted);
    expect(serialised.imagesDeleted).toBeGreaterThan(1_000);
    expect(serialised.callsByOperation).toEqual(modelOnly.callsByOperation);
    expect(serialised.sweepSeconds).toBe(modelOnly.sweepSeconds);
    expect(serialised.reportsByStatus).toEqual({ completed: 40 });
    // And the option does what it says: the clients keep the SDK's request-building middleware.
    const organisation = buildOrganisation(TINY);
    const target = organisation.targets[0];
    if (target === undefined) throw new Error('no target');
    const stackOf = (serializeRequests: boolean) => {
      const epoch = Date.parse('2026-06-01T02:00:00Z');
      const model = new EcrModel(organisation, new VirtualClock(epoch), { epoch, serializeRequests }, () => 'arn');
      const client = createEcrClient({
        region: target.region,
        credentials: { accessKeyId: 'A', secretAccessKey: 'B' },
      });
      model.attach(client, target.account, target.region);
      return client.middlewareStack.identify().join(' ');
    };
    expect(stackOf(true)).toMatch(/contentLengthMiddleware.*organisationModel/s);
    expect(stackOf(false)).not.toContain('contentLengthMiddleware');
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

/** Runs `work` on a virtual clock of its own (the model answers after a virtual latency). */
async function onClock<T>(clock: VirtualClock, work: () => Promise<T>): Promise<T> {
  clock.install();
  try {
    let outcome: { value: T } | { error: unknown } | undefined;
    work().then(
      (value) => {
        outcome = { value };
      },
      (error: unknown) => {
        outcome = { error };
      },
    );
    await clock.run(() => outcome !== undefined);
    if (outcome === undefined || 'error' in outcome) throw outcome?.error;
    return outcome.value;
  } finally {
    clock.uninstall();
  }
}

/** One repository of the tiny organisation behind a real ECR client answered by the model. */
function modelled(pick: (repository: RepositorySpec) => boolean) {
  const organisation = buildOrganisation(TINY);
  const epoch = Date.parse('2026-06-01T02:00:00Z');
  const clock = new VirtualClock(epoch);
  const model = new EcrModel(organisation, clock, { epoch, keepDeleted: true }, () => 'arn:aws:iam::1:role/cleanup');
  const target = organisation.targets.find((candidate) => candidate.repositories.some(pick));
  const spec = target?.repositories.find(pick);
  if (target === undefined || spec === undefined) throw new Error('no such repository in the organisation');
  const client = createEcrClient({
    region: target.region,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDMODEL', secretAccessKey: 'model' },
  });
  model.attach(client, target.account, target.region);
  return { model, clock, client, spec, release: () => model.target(target.account, target.region).release(spec.name) };
}

async function listAll(client: ECRClient, repositoryName: string): Promise<ImageDetail[]> {
  const details: ImageDetail[] = [];
  let nextToken: string | undefined;
  do {
    const page: DescribeImagesCommandOutput = await client.send(
      new DescribeImagesCommand({ repositoryName, maxResults: 1_000, nextToken }),
    );
    details.push(...(page.imageDetails ?? []));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return details;
}

const withoutChildren = ({ childDigests: _, ...record }: ImageRecord) => record;

describe('the model of ECR', () => {
  it('lists, page by page, exactly the images generated for the repository, and each manifest names its children and subject', async () => {
    for (const stale of [false, true]) {
      const { model, clock, client, spec } = modelled((repository) => repository.stale === stale);
      const generated = model.recordsOf(spec);

      const { listed, manifests } = await onClock(clock, async () => {
        const listed = (await listAll(client, spec.name)).map(toImageRecord);
        const indexes = generated.filter((record) => record.childDigests !== undefined);
        const referrers = generated.filter((record) => record.subjectDigest !== undefined).slice(0, 50);
        const manifests = new Map<string, Record<string, unknown>>();
        for (const record of [...indexes, ...referrers]) {
          const got = await client.send(
            new BatchGetImageCommand({ repositoryName: spec.name, imageIds: [{ imageDigest: record.digest }] }),
          );
          manifests.set(record.digest, JSON.parse(got.images?.[0]?.imageManifest ?? '{}'));
        }
        return { listed, manifests };
      });

      expect(listed).toHaveLength(spec.images);
      expect(listed).toEqual(generated.map(withoutChildren));
      for (const record of generated) {
        const manifest = manifests.get(record.digest);
        if (manifest === undefined) continue;
        expect(manifest.mediaType).toBe(record.manifestMediaType);
        if (record.childDigests !== undefined) {
          const listedChildren = manifest.manifests as { digest: string }[];
          expect(listedChildren.map((child) => child.digest)).toEqual(record.childDigests);
        } else {
          expect((manifest.subject as { digest?: string } | undefined)?.digest).toBe(record.subjectDigest);
        }
      }
    }
  });

  it('refuses to delete a child an index still lists, deletes it with its index, and forgets deleted images', async () => {
    const { model, clock, client, spec, release } = modelled((repository) => !repository.stale);
    const generated = model.recordsOf(spec);
    const index = generated.find((record) => (record.childDigests?.length ?? 0) > 0) as ImageRecord;
    const child = index.childDigests?.[0] as string;
    const latest = generated.find((record) => record.tags.includes('latest')) as ImageRecord;

    const answers = await onClock(clock, async () => {
      const remove = (digests: string[]) =>
        client.send(
          new BatchDeleteImageCommand({
            repositoryName: spec.name,
            imageIds: digests.map((imageDigest) => ({ imageDigest })),
          }),
        );
      const alone = await remove([child]);
      const together = await remove([child, index.digest]);
      const again = await remove([index.digest]);
      const byTag = await client.send(
        new DescribeImagesCommand({ repositoryName: spec.name, imageIds: [{ imageTag: 'latest' }] }),
      );
      const gone = await client
        .send(new DescribeImagesCommand({ repositoryName: spec.name, imageIds: [{ imageDigest: index.digest }] }))
        .then(
          () => 'found',
          (error: Error) => error.name,
        );
      return { alone, together, again, byTag, gone, listed: await listAll(client, spec.name) };
    });

    expect(answers.alone.failures?.map((failure) => failure.failureCode)).toEqual(['ImageReferencedByManifestList']);
    expect(answers.alone.imageIds).toEqual([]);
    // The batch's own index goes first, whatever its place in the batch.
    expect(answers.together.imageIds?.map((id) => id.imageDigest)).toEqual([child, index.digest]);
    expect(answers.again.failures?.map((failure) => failure.failureCode)).toEqual(['ImageNotFound']);
    expect(answers.byTag.imageDetails?.map((detail) => detail.imageDigest)).toEqual([latest.digest]);
    expect(answers.gone).toBe('ImageNotFoundException');
    expect(answers.listed.map((detail) => detail.imageDigest)).toEqual(
      generated.map((record) => record.digest).filter((digest) => digest !== child && digest !== index.digest),
    );
    release();
    expect(model.deletedDigests.get(spec.index)).toEqual(
      generated.map((record) => record.digest).filter((digest) => digest === child || digest === index.digest),
    );
    expect(model.deletedByRepository[spec.index]).toBe(2);
  });
});

describe('the generated repositories', () => {
  /** A hash of the images' members in order, an undefined member included (JSON would drop it). */
  const hashOf = (value: unknown) =>
    createHash('sha256')
      .update(JSON.stringify(value, (_key, member: unknown) => (member === undefined ? '<undefined>' : member)))
      .digest('hex')
      .slice(0, 16);

  it('are the images the benchmarks have always generated for the same seed, so that their figures stay comparable', () => {
    // Hashes of generateShape and toImageRecords as they were when the generation became columnar.
    const pinned: [string, ShapeProfile, number, number, string, string][] = [
      ['fleet', FLEET_PROFILE, 1, 1, 'ecc58d2d0b44b930', 'ef1116813b20b9c7'],
      ['fleet', FLEET_PROFILE, 9, 2, 'cc59445cdccf3533', '051942b2aa9b598e'],
      ['fleet', FLEET_PROFILE, 5_000, 3, '55b7778b42cc1855', '7d4cfe0a00fb5984'],
      ['fleet', FLEET_PROFILE, 20_000, 2_026, '34692337f1973f01', '07598ffc6ea8ec41'],
      ['stale', STALE_PROFILE, 1, 1, '9d7972982f05c865', '09644d8c161b15c4'],
      ['stale', STALE_PROFILE, 9, 2, '622124f5c17ecc26', '60ebb2e2cde7f181'],
      ['stale', STALE_PROFILE, 5_000, 3, '48857752901e341f', 'b6b748a831ec672d'],
      ['stale', STALE_PROFILE, 20_000, 2_026, '5e9c79b190024108', 'c52bd6383e751c48'],
    ];
    const generated = pinned.map(([name, profile, count, seed]) => {
      const random = prng(seed);
      const shape = generateShape(count, profile, random);
      const records = toImageRecords(shape, Date.parse('2026-06-01T02:00:00Z'), random);
      return [name, count, seed, hashOf(shape), hashOf(records)];
    });

    expect(generated).toEqual(
      pinned.map(([name, , count, seed, shape, records]) => [name, count, seed, shape, records]),
    );
  });
});
