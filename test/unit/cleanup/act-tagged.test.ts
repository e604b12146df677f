import { describe, expect, it } from 'vitest';
import { executePlan } from '../../../shared/cleanup/act.ts';
import type { ImageRecord } from '../../../shared/domain/image.ts';
import type { EcrGateway } from '../../../shared/ecr/index.ts';
import { DEFAULT_CLEANUP_RULE, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import { digestOf, image, NOW } from '../../helpers/images.ts';

const REPO = 'team/app';
const RULE = {
  ...DEFAULT_CLEANUP_RULE,
  maxDeleteFraction: 1,
  maxTaggedDeleteFraction: 1,
  tagSelections: [{ tags: ['pr-*'], keepLast: 1 }],
};

/** A repository in memory behind the calls the act makes (image manifests only: no index is read). */
function fakeRepository(initial: readonly ImageRecord[]) {
  const images = new Map(initial.map((record) => [record.digest, record]));
  const deleteCalls: string[][] = [];
  const gateway = {
    readOnly: false,
    async describeImages(_repositoryName: string, digests: readonly string[]) {
      const found = digests.flatMap((digest) => images.get(digest) ?? []);
      return { images: found, missing: digests.filter((digest) => !images.has(digest)) };
    },
    async *listImages() {
      yield [...images.values()];
    },
    async getManifests() {
      return { manifests: [], failures: [] };
    },
    async deleteImages(_repositoryName: string, digests: readonly string[]) {
      deleteCalls.push([...digests]);
      const deleted = digests.filter((digest) => images.delete(digest));
      return { deleted, alreadyGone: digests.filter((digest) => !deleted.includes(digest)), failed: [] };
    },
  } as unknown as EcrGateway;
  return {
    gateway,
    deleteCalls,
    update(name: string, change: Partial<ImageRecord>) {
      const record = images.get(digestOf(name)) as ImageRecord;
      images.set(record.digest, { ...record, ...change });
    },
  };
}

const SNAPSHOT: ImageRecord[] = [
  image('new', { tags: ['pr-2'], ageDays: 10 }),
  image('old', { tags: ['pr-1', 'pr-1-rc'], ageDays: 20 }),
];

describe('executePlan with a tagged image released by its selection', () => {
  it('deletes it by digest with the tags it had when planned', async () => {
    // Prepare
    const plan = planCleanup(REPO, SNAPSHOT, RULE, NOW);
    const repository = fakeRepository(SNAPSHOT);
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan);
    // Assess
    expect(plan.toDelete).toEqual([digestOf('old')]);
    expect(result.changes).toEqual([]);
    expect(repository.deleteCalls).toEqual([[digestOf('old')]]);
  });

  it('keeps it when it gained a tag since the plan', async () => {
    // Prepare
    const plan = planCleanup(REPO, SNAPSHOT, RULE, NOW);
    const repository = fakeRepository(SNAPSHOT);
    repository.update('old', { tags: ['pr-1', 'pr-1-rc', 'v1.0.0'] });
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan);
    // Assess
    expect(result.changes).toEqual([{ digest: digestOf('old'), reason: { code: 'tag-gained', tags: ['v1.0.0'] } }]);
    expect(repository.deleteCalls).toEqual([]);
  });
});
