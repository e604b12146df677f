import { describe, expect, it } from 'vitest';
import { executePlan, IntegrityError, verifyKeptImagesWhole } from '../../../shared/cleanup/act.ts';
import type { ImageRecord } from '../../../shared/domain/image.ts';
import type { EcrGateway } from '../../../shared/ecr/index.ts';
import { type CleanupPlan, DEFAULT_CLEANUP_RULE, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import { DAY, digestOf, image, MINUTE, NOW } from '../../helpers/images.ts';

const REPO = 'team/app';
const RULE = { ...DEFAULT_CLEANUP_RULE, maxDeleteFraction: 1 };

/**
 * A repository in memory behind the gateway calls the act makes: DescribeImages (by digest and paged), BatchGetImage
 * of indexes (their manifests list their children), BatchDeleteImage. Records come back without `childDigests`,
 * as from ECR.
 */
function fakeRepository(initial: readonly ImageRecord[]) {
  const images = new Map(initial.map((record) => [record.digest, record]));
  const unreadable = new Set<string>();
  const deleteCalls: string[][] = [];
  const manifestReads: string[] = [];
  const listed = (record: ImageRecord): ImageRecord => {
    const { childDigests: _children, ...rest } = record;
    return rest;
  };
  const gateway = {
    readOnly: false,
    async describeImages(_repositoryName: string, digests: readonly string[]) {
      const found = digests.flatMap((digest) => {
        const record = images.get(digest);
        return record ? [listed(record)] : [];
      });
      return { images: found, missing: digests.filter((digest) => !images.has(digest)) };
    },
    async *listImages() {
      yield [...images.values()].map(listed);
    },
    async getManifests(_repositoryName: string, digests: readonly string[]) {
      manifestReads.push(...digests);
      const manifests = digests.flatMap((digest) => {
        const record = images.get(digest);
        if (!record || unreadable.has(digest)) return [];
        const manifest = JSON.stringify({ manifests: (record.childDigests ?? []).map((child) => ({ digest: child })) });
        return [{ digest, manifest, mediaType: record.manifestMediaType }];
      });
      const failures = digests
        .filter((digest) => !images.has(digest) || unreadable.has(digest))
        .map((digest) => ({
          digest,
          code: images.has(digest) ? 'KmsError' : 'ImageNotFound',
          reason: 'test',
          retryable: false,
        }));
      return { manifests, failures };
    },
    async deleteImages(_repositoryName: string, digests: readonly string[]) {
      deleteCalls.push([...digests]);
      const deleted = digests.filter((digest) => images.delete(digest));
      return { deleted, alreadyGone: digests.filter((digest) => !deleted.includes(digest)), failed: [] };
    },
  } as unknown as EcrGateway;
  return {
    gateway,
    images,
    unreadable,
    deleteCalls,
    manifestReads,
    /** Changes a record in place, as a tag, a pull or a push would. */
    update(name: string, change: Partial<ImageRecord>) {
      const record = images.get(digestOf(name));
      if (!record) throw new Error(`no ${name}`);
      images.set(record.digest, { ...record, ...change });
    },
    push(record: ImageRecord) {
      images.set(record.digest, record);
    },
  };
}

/**
 * The snapshot: a stale untagged index `old` (two children, a signature of one child), its signature `old-sig`,
 * stale untagged `stale-1` and `stale-2`, and a tagged release with its child.
 */
const SNAPSHOT: ImageRecord[] = [
  image('old', { children: ['old-amd64', 'old-arm64'] }),
  image('old-amd64'),
  image('old-arm64'),
  image('old-sig', { subjectDigest: digestOf('old') }),
  image('old-amd64-att', { subjectDigest: digestOf('old-amd64') }),
  image('stale-1'),
  image('stale-2'),
  image('release', { tags: ['v1'], children: ['release-amd64'], ageDays: 5 }),
  image('release-amd64', { ageDays: 5 }),
];

const CANDIDATES = ['old', 'old-amd64', 'old-arm64', 'old-sig', 'old-amd64-att', 'stale-1', 'stale-2'];

function setUp(): { plan: CleanupPlan; repository: ReturnType<typeof fakeRepository> } {
  const plan = planCleanup(REPO, SNAPSHOT, RULE, NOW);
  expect([...plan.toDelete].sort()).toEqual(CANDIDATES.map(digestOf).sort());
  return { plan, repository: fakeRepository(SNAPSHOT) };
}

const NAME_OF = new Map(
  [...CANDIDATES, 'release', 'release-amd64', 'new-index', 'new-sig', 'new-cosign'].map((name) => [
    digestOf(name),
    name,
  ]),
);
const names = (digests: readonly string[]) => digests.map((digest) => NAME_OF.get(digest) ?? digest).sort();

describe('executePlan: the act carries out the plan it is given', () => {
  it('deletes exactly the plan when nothing changed, parents before children, reporting no change', async () => {
    // Prepare
    const { plan, repository } = setUp();
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan);
    // Assess
    expect(result.deleted).toEqual(plan.toDelete);
    expect(repository.deleteCalls).toEqual([plan.toDelete]);
    expect(result.changes).toEqual([]);
    expect(result.plan).toBe(plan);
  });

  it('keeps a candidate that gained a tag, with its children and referrers, and says why', async () => {
    // Prepare
    const { plan, repository } = setUp();
    repository.update('old', { tags: ['rescued'] });
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan);
    // Assess
    expect(names(result.changedSincePlan)).toEqual(['old']);
    expect(names(result.keptWithChanged)).toEqual(['old-amd64', 'old-amd64-att', 'old-arm64', 'old-sig']);
    expect(result.changes).toContainEqual({
      digest: digestOf('old'),
      reason: { code: 'tag-gained', tags: ['rescued'] },
    });
    expect(result.changes).toContainEqual({
      digest: digestOf('old-amd64'),
      reason: { code: 'kept-with', via: digestOf('old'), edge: 'child' },
    });
    expect(result.changes).toContainEqual({
      digest: digestOf('old-amd64-att'),
      reason: { code: 'kept-with', via: digestOf('old-amd64'), edge: 'referrer' },
    });
    expect(names(result.deleted)).toEqual(['stale-1', 'stale-2']);
  });

  it('keeps a candidate somebody pulled since the plan, but not for the gather’s own manifest read', async () => {
    // Prepare
    const { plan, repository } = setUp();
    repository.update('stale-1', { lastPulledAt: NOW + MINUTE });
    repository.update('old', { lastPulledAt: NOW + MINUTE });
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan, {
      ownReads: { digests: new Set([digestOf('old')]), since: NOW },
    });
    // Assess
    expect(result.changes).toEqual([
      { digest: digestOf('stale-1'), reason: { code: 'pulled', lastPulledAt: new Date(NOW + MINUTE).toISOString() } },
    ]);
    expect(names(result.deleted)).toEqual(CANDIDATES.filter((name) => name !== 'stale-1').sort());
  });

  it('keeps a candidate that a new index pushed after the plan lists, and what that candidate protects', async () => {
    // Prepare: the plan's graph does not know this index; only the act's look at new pushes does.
    const { plan, repository } = setUp();
    repository.push(image('new-index', { tags: ['v2'], children: ['old-amd64', 'stale-2'], ageDays: 0 }));
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan);
    // Assess
    expect(result.changes).toEqual([
      { digest: digestOf('old-amd64'), reason: { code: 'new-parent', via: digestOf('new-index') } },
      { digest: digestOf('stale-2'), reason: { code: 'new-parent', via: digestOf('new-index') } },
      {
        digest: digestOf('old-amd64-att'),
        reason: { code: 'kept-with', via: digestOf('old-amd64'), edge: 'referrer' },
      },
    ]);
    expect(names(result.deleted)).toEqual(['old', 'old-arm64', 'old-sig', 'stale-1']);
    expect(repository.manifestReads).toEqual([digestOf('new-index')]);
    expect(repository.images.has(digestOf('old-amd64'))).toBe(true);
  });

  it('keeps a candidate a referrer pushed after the plan names, by subject or by cosign tag', async () => {
    // Prepare
    const { plan, repository } = setUp();
    repository.push(image('new-sig', { subjectDigest: digestOf('stale-1'), ageDays: 0 }));
    repository.push(image('new-cosign', { tags: [`${digestOf('stale-2').replace(':', '-')}.sig`], ageDays: 0 }));
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan);
    // Assess
    expect(result.changes).toEqual([
      { digest: digestOf('stale-1'), reason: { code: 'new-referrer', via: digestOf('new-sig') } },
      { digest: digestOf('stale-2'), reason: { code: 'new-referrer', via: digestOf('new-cosign') } },
    ]);
    expect(names(result.deleted)).toEqual(['old', 'old-amd64', 'old-amd64-att', 'old-arm64', 'old-sig']);
  });

  it('deletes nothing when an index pushed after the plan cannot be read', async () => {
    // Prepare
    const { plan, repository } = setUp();
    repository.push(image('new-index', { tags: ['v2'], children: ['stale-1'], ageDays: 0 }));
    repository.unreadable.add(digestOf('new-index'));
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan);
    // Assess
    expect(result.deleted).toEqual([]);
    expect(repository.deleteCalls).toEqual([]);
    expect(new Set(result.changes.map((change) => change.reason.code))).toEqual(new Set(['unreadable-new-index']));
  });

  it('ignores an index pushed after the plan and gone again before it could be read', async () => {
    // Prepare
    const { plan, repository } = setUp();
    const gone = image('new-index', { tags: ['v2'], children: ['stale-1'], ageDays: 0 });
    repository.push(gone);
    const getManifests = repository.gateway.getManifests.bind(repository.gateway);
    repository.gateway.getManifests = async (repositoryName, digests) => {
      repository.images.delete(gone.digest);
      return getManifests(repositoryName, digests);
    };
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan);
    // Assess
    expect(result.changes).toEqual([]);
    expect(result.deleted).toEqual(plan.toDelete);
  });

  it('keeps the closure through nested indexes and referrers of children', async () => {
    // Prepare: outer → inner → leaf, a signature of leaf; the outer index is pulled after the plan.
    const nested = [
      image('outer', { children: ['inner'] }),
      image('inner', { children: ['leaf'] }),
      image('leaf'),
      image('leaf-sig', { subjectDigest: digestOf('leaf') }),
      image('loner'),
    ];
    const plan = planCleanup(REPO, nested, RULE, NOW);
    expect(plan.toDelete).toHaveLength(5);
    const repository = fakeRepository(nested);
    repository.update('outer', { lastPulledAt: NOW + DAY });
    // Act
    const result = await executePlan(repository.gateway, nested, plan);
    // Assess
    expect(result.changedSincePlan).toEqual([digestOf('outer')]);
    expect(new Set(result.keptWithChanged)).toEqual(new Set(['inner', 'leaf', 'leaf-sig'].map(digestOf)));
    expect(result.deleted).toEqual([digestOf('loner')]);
  });

  it('never deletes a digest the plan did not select, whatever changed', async () => {
    // Prepare
    const { plan, repository } = setUp();
    repository.update('stale-1', { tags: ['x'] });
    repository.push(image('new-index', { children: ['old-arm64'], ageDays: 0 }));
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan);
    // Assess
    const selected = new Set(plan.toDelete);
    for (const call of repository.deleteCalls) for (const digest of call) expect(selected.has(digest)).toBe(true);
    expect(result.deleted.every((digest) => selected.has(digest))).toBe(true);
  });

  it('counts an image already gone as such, and keeps the plan order for the rest', async () => {
    // Prepare
    const { plan, repository } = setUp();
    repository.images.delete(digestOf('stale-2'));
    // Act
    const result = await executePlan(repository.gateway, SNAPSHOT, plan);
    // Assess
    expect(result.alreadyGone).toEqual([digestOf('stale-2')]);
    expect(result.deleted).toEqual(plan.toDelete.filter((digest) => digest !== digestOf('stale-2')));
  });
});

describe('verifyKeptImagesWhole: also the candidates kept since the plan', () => {
  it('names a broken edge of a candidate kept because it changed', async () => {
    // Prepare: `old` was kept since the plan; its child then vanished.
    const { plan, repository } = setUp();
    repository.images.delete(digestOf('old-arm64'));
    // Act
    const attempt = verifyKeptImagesWhole(repository.gateway, SNAPSHOT, plan, new Set(), new Set([digestOf('old')]));
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(IntegrityError);
    await expect(verifyKeptImagesWhole(repository.gateway, SNAPSHOT, plan, new Set())).resolves.toEqual({
      checked: 1,
    });
  });
});
