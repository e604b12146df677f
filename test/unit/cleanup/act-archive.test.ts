import { describe, expect, it } from 'vitest';
import { executePlan } from '../../../shared/cleanup/act.ts';
import { reportOf } from '../../../shared/cleanup/report.ts';
import type { ImageRecord } from '../../../shared/domain/image.ts';
import { type EcrGateway, ImageNotFoundError, InvalidRequestError } from '../../../shared/ecr/index.ts';
import { DEFAULT_CLEANUP_RULE, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import { DAY, digestOf, image, NOW } from '../../helpers/images.ts';

const REPO = 'team/app';
const RULE = { ...DEFAULT_CLEANUP_RULE, maxDeleteFraction: 1, action: 'archive' as const };

/** A repository in memory behind the calls the act makes, UpdateImageStorageClass included. */
function fakeRepository(initial: readonly ImageRecord[]) {
  const images = new Map(initial.map((record) => [record.digest, record]));
  const archiveCalls: string[] = [];
  const refuse = new Map<string, Error>();
  const gateway = {
    readOnly: false,
    callCounts: () => ({}),
    async *listImages() {
      yield [...images.values()].map(({ childDigests: _children, ...rest }) => rest);
    },
    async getManifests(_repositoryName: string, digests: readonly string[]) {
      const manifests = digests.map((digest) => ({
        digest,
        manifest: JSON.stringify({
          manifests: (images.get(digest)?.childDigests ?? []).map((child) => ({ digest: child })),
        }),
      }));
      return { manifests, failures: [] };
    },
    async deleteImages() {
      throw new Error('an archiving plan deletes nothing here');
    },
    async updateImageStorageClass(_repositoryName: string, target: { digest: string }, storageClass: string) {
      archiveCalls.push(target.digest);
      const error = refuse.get(target.digest);
      if (error) throw error;
      const record = images.get(target.digest);
      if (record) images.set(target.digest, { ...record, imageStatus: 'ARCHIVED', lastArchivedAt: NOW });
      return { digest: target.digest, status: storageClass === 'ARCHIVE' ? 'ARCHIVED' : 'ACTIVE' };
    },
  } as unknown as EcrGateway;
  return { gateway, images, archiveCalls, refuse };
}

const SNAPSHOT = [
  image('amd64'),
  image('arm64'),
  image('index', { children: ['amd64', 'arm64'] }),
  image('plain'),
  image('gone'),
];

describe('executePlan with a plan that archives', () => {
  it('archives parents first, one call per image, keeps what changed since the plan, and reports failures', async () => {
    // Prepare
    const plan = planCleanup(REPO, SNAPSHOT, RULE, NOW);
    const repository = fakeRepository(SNAPSHOT);
    const pulled = repository.images.get(digestOf('plain'));
    if (pulled) repository.images.set(pulled.digest, { ...pulled, lastPulledAt: NOW - DAY });
    repository.refuse.set(
      digestOf('arm64'),
      new InvalidRequestError('refused', { operation: 'UpdateImageStorageClass', code: 'ValidationException' }),
    );
    repository.refuse.set(
      digestOf('gone'),
      new ImageNotFoundError('gone', { operation: 'UpdateImageStorageClass', code: 'ImageNotFoundException' }),
    );
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan);
    // Assess
    expect(plan.toArchive?.[0]).toBe(digestOf('index'));
    expect(repository.archiveCalls).toEqual((plan.toArchive ?? []).filter((digest) => digest !== digestOf('plain')));
    expect(result.archived).toEqual([digestOf('index'), digestOf('amd64')]);
    expect(result.changedSincePlan).toEqual([digestOf('plain')]);
    expect(result.alreadyGone).toEqual([digestOf('gone')]);
    expect(result.failed).toEqual([
      expect.objectContaining({ digest: digestOf('arm64'), code: 'ValidationException', retryable: false }),
    ]);
    const report = reportOf(
      { runId: 'r', repositoryName: REPO, dryRun: false, part: 1, plannedAt: plan.plannedAt },
      'completed',
      plan,
      repository.gateway,
      new Set([digestOf('index')]),
      result,
    );
    expect(report.counts).toMatchObject({ toDelete: 0, deleted: 0, toArchive: 5, archived: 2, failed: 1 });
    expect(report.archived?.map((entry) => entry.digest)).toEqual(result.archived);
  });

  it('stops archiving when the deadline comes near and leaves the rest for a follow-up', async () => {
    // Prepare
    const plan = planCleanup(REPO, SNAPSHOT, RULE, NOW);
    const repository = fakeRepository(SNAPSHOT);
    let budget = 2;
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan, {
      remainingMs: () => (budget-- > 0 ? 10_000 : 0),
      reserveMs: 1_000,
    });
    // Assess
    expect(result.archived).toEqual(plan.toArchive?.slice(0, 2));
    expect(result.remaining).toEqual(plan.toArchive?.slice(2));
  });
});
