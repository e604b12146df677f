import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  ECRClient,
  type ImageDetail,
  type ImageIdentifier,
  ImageNotFoundException,
} from '@aws-sdk/client-ecr';
import {
  ECRPUBLICClient,
  BatchDeleteImageCommand as PublicBatchDeleteImageCommand,
  DescribeImagesCommand as PublicDescribeImagesCommand,
  ImageNotFoundException as PublicImageNotFoundException,
} from '@aws-sdk/client-ecr-public';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cheaperRead,
  executePlan,
  IntegrityError,
  imagesLeft,
  verifyKeptImagesWhole,
} from '../../../shared/cleanup/act.ts';
import type { CleanupGateway } from '../../../shared/cleanup/gateway.ts';
import type { ImageRecord } from '../../../shared/domain/image.ts';
import { createEcrGateway } from '../../../shared/ecr/index.ts';
import { createEcrPublicGateway } from '../../../shared/ecr-public/index.ts';
import { DEFAULT_CLEANUP_RULE, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import { digestOf, image, MINUTE, NOW } from '../../helpers/images.ts';

/**
 * Which way the act reads what it must know before and after deleting, counted in the calls the real gateways send
 * (their SDK clients mocked over a repository in memory): the re-read of the candidates comes from the listing the
 * act makes anyway for images pushed since the plan, and the verification reads the kept images' children and
 * referrers by id (100 a call) or lists the repository (1,000 a page), whichever is fewer calls.
 */

const REPO = 'team/app';
const RULE = { ...DEFAULT_CLEANUP_RULE, maxDeleteFraction: 1, allowMassDelete: true };

const ecr = mockClient(ECRClient);
const ecrPublic = mockClient(ECRPUBLICClient);

beforeEach(() => {
  ecr.reset();
  ecrPublic.reset();
});
afterEach(() => {
  ecr.reset();
  ecrPublic.reset();
});

/** The ECR DescribeImages detail of a record (no `childDigests`: ECR lists none). */
const detailOf = (record: ImageRecord): ImageDetail => ({
  repositoryName: REPO,
  imageDigest: record.digest,
  ...(record.tags.length > 0 ? { imageTags: [...record.tags] } : {}),
  imagePushedAt: new Date(record.pushedAt),
  ...(record.lastPulledAt === undefined ? {} : { lastRecordedPullTime: new Date(record.lastPulledAt) }),
  imageSizeInBytes: record.sizeInBytes,
  ...(record.manifestMediaType ? { imageManifestMediaType: record.manifestMediaType } : {}),
  ...(record.subjectDigest ? { subjectManifestDigest: record.subjectDigest } : {}),
});

/**
 * A repository in memory behind a mocked DescribeImages (by id: ImageNotFoundException when any id is missing, as
 * ECR answers; listed: pages of `maxResults` with an offset token) and BatchDeleteImage, counting each kind of call.
 */
function repository(
  records: readonly ImageRecord[],
  registry: 'private' | 'public' = 'private',
  /** Called before each page of a listing is served, with the page's number (from 1). */
  beforePage?: (page: number) => void,
) {
  const held = new Map(records.map((record) => [record.digest, detailOf(record)]));
  const calls = { byId: 0, pages: 0, deletes: 0 };
  const describe = (input: { imageIds?: ImageIdentifier[]; nextToken?: string; maxResults?: number }) => {
    if (input.imageIds !== undefined) {
      calls.byId++;
      if (input.imageIds.some((id) => !held.has(id.imageDigest ?? ''))) {
        const Exception = registry === 'public' ? PublicImageNotFoundException : ImageNotFoundException;
        throw new Exception({ message: 'The image does not exist', $metadata: {} });
      }
      return { imageDetails: input.imageIds.map((id) => held.get(id.imageDigest ?? '')) };
    }
    calls.pages++;
    beforePage?.(calls.pages);
    const all = [...held.values()];
    const start = Number(input.nextToken ?? 0);
    const end = start + (input.maxResults ?? 100);
    return { imageDetails: all.slice(start, end), ...(end < all.length ? { nextToken: String(end) } : {}) };
  };
  const remove = (input: { imageIds?: ImageIdentifier[] }) => {
    calls.deletes++;
    const ids = input.imageIds ?? [];
    for (const id of ids) held.delete(id.imageDigest ?? '');
    return { imageIds: ids, failures: [] };
  };
  if (registry === 'public') {
    ecrPublic.on(PublicDescribeImagesCommand).callsFake(describe);
    ecrPublic.on(PublicBatchDeleteImageCommand).callsFake(remove);
  } else {
    ecr.on(DescribeImagesCommand).callsFake(describe);
    ecr.on(BatchDeleteImageCommand).callsFake(remove);
  }
  const gateway: CleanupGateway =
    registry === 'public'
      ? createEcrPublicGateway(new ECRPUBLICClient({ region: 'us-east-1' }), {
          registryUrl: 'http://127.0.0.1:9',
          itemRetryDelayMs: 0,
        })
      : createEcrGateway(new ECRClient({ region: 'us-east-1' }), { itemRetryDelayMs: 0 });
  return {
    gateway,
    calls,
    held,
    /** Changes an image's detail in place, as a tag, a pull or a push would. */
    update(name: string, change: Partial<ImageDetail>) {
      const detail = held.get(digestOf(name));
      if (!detail) throw new Error(`no ${name}`);
      held.set(detail.imageDigest ?? '', { ...detail, ...change });
    },
  };
}

/** `count` recent tagged images: kept by the plan, and only there to make the repository that big. */
const fillers = (count: number) =>
  Array.from({ length: count }, (_, n) => image(`filler-${n}`, { tags: [`f${n}`], ageDays: 1 }));

describe('cheaperRead: the listing only when it takes strictly fewer calls', () => {
  it('prices ids at 100 a call and the listing at 1,000 images a page', () => {
    expect(cheaperRead(100, 1_000)).toBe('by-id'); // 1 call either way: by id
    expect(cheaperRead(101, 1_000)).toBe('listing'); // 2 calls by id, 1 page
    expect(cheaperRead(101, 1_001)).toBe('by-id'); // 2 either way
    expect(cheaperRead(201, 1_001)).toBe('listing'); // 3 by id, 2 pages
    expect(cheaperRead(1, 0)).toBe('by-id'); // an empty listing is still one call
  });
});

describe('executePlan: the re-read of the candidates is the act’s one listing', () => {
  /** Stale untagged candidates `stale-0`… and a recent release. */
  const snapshot = (candidates: number, extra: readonly ImageRecord[] = []) => [
    ...Array.from({ length: candidates }, (_, n) => image(`stale-${n}`)),
    image('release', { tags: ['v1'], ageDays: 1 }),
    ...extra,
  ];

  it('keeps a candidate that gained a tag, a pull or a new push time, counts one that vanished as gone', async () => {
    // Prepare
    const images = snapshot(5);
    const plan = planCleanup(REPO, images, RULE, NOW);
    expect(plan.toDelete).toHaveLength(5);
    const repo = repository(images);
    repo.update('stale-0', { imageTags: ['rescued'] });
    repo.update('stale-1', { lastRecordedPullTime: new Date(NOW + MINUTE) });
    repo.update('stale-2', { imagePushedAt: new Date(NOW) });
    repo.held.delete(digestOf('stale-3'));
    // Act
    const result = await executePlan(repo.gateway, images, plan);
    // Assess
    expect(result.changes).toEqual([
      { digest: digestOf('stale-0'), reason: { code: 'tag-gained', tags: ['rescued'] } },
      { digest: digestOf('stale-1'), reason: { code: 'pulled', lastPulledAt: new Date(NOW + MINUTE).toISOString() } },
      { digest: digestOf('stale-2'), reason: { code: 'changed' } },
    ]);
    expect(result.alreadyGone).toEqual([digestOf('stale-3')]);
    expect(result.deleted).toEqual([digestOf('stale-4')]);
    expect(result.listedImages).toBe(5);
    expect(repo.calls).toEqual({ byId: 0, pages: 1, deletes: 1 });
  });

  it('reads no candidate by id even when there are few: the listing is made anyway for images pushed since', async () => {
    // Prepare: one candidate in a repository of 2,501 images (3 pages); by id it would be 1 call more.
    const images = snapshot(1, fillers(2_499));
    const plan = planCleanup(REPO, images, RULE, NOW);
    expect(plan.toDelete).toEqual([digestOf('stale-0')]);
    const repo = repository(images);
    // Act
    const result = await executePlan(repo.gateway, images, plan);
    // Assess
    expect(result.deleted).toEqual([digestOf('stale-0')]);
    expect(result.listedImages).toBe(2_501);
    expect(repo.calls).toEqual({ byId: 0, pages: 3, deletes: 1 });
    expect(repo.gateway.callCounts()).toEqual({ DescribeImages: 3, BatchDeleteImage: 1 });
  });

  it.each([
    { boundary: 'stale-0', what: 'a candidate' },
    { boundary: 'filler-998', what: 'a kept image' },
  ])(
    'counts $what listed on two pages (a push between pages shifts the listing) once, and deletes each candidate once',
    async ({ boundary }) => {
      // Prepare: the image at the end of the first page of 1,000 is listed again at the start of the second, because
      // an image pushed in between comes first in the listing.
      const late = image('pushed-late', { tags: ['late'], ageDays: 0 });
      const images = [
        ...fillers(998),
        ...(boundary === 'stale-0'
          ? [image('filler-998', { tags: ['f998'], ageDays: 1 }), image('stale-0')]
          : [image('stale-0'), image('filler-998', { tags: ['f998'], ageDays: 1 })]),
        image('stale-1'),
        image('release', { tags: ['v1'], ageDays: 1 }),
      ];
      const plan = planCleanup(REPO, images, RULE, NOW);
      expect(plan.toDelete).toEqual([digestOf('stale-0'), digestOf('stale-1')]);
      let repo: ReturnType<typeof repository> | undefined;
      repo = repository(images, 'private', (page) => {
        if (page !== 2 || repo === undefined) return;
        const listed = [...repo.held];
        repo.held.clear();
        repo.held.set(late.digest, detailOf(late));
        for (const [digest, detail] of listed) repo.held.set(digest, detail);
      });
      // Act
      const result = await executePlan(repo.gateway, images, plan);
      // Assess: the 1,002 images planned, the boundary's once (the late one, listed first, falls before the second
      // page's start: this listing never sees it; the next run will).
      expect(result.listedImages).toBe(1_002);
      expect(result.deleted).toEqual([digestOf('stale-0'), digestOf('stale-1')]);
      expect(result.changes).toEqual([]);
      expect(repo.calls).toEqual({ byId: 0, pages: 2, deletes: 1 });
    },
  );

  it('does the same through the ECR Public gateway: a tag gained keeps, a vanished candidate is gone', async () => {
    // Prepare
    const images = snapshot(3);
    const plan = planCleanup(REPO, images, { ...RULE, notPulledForDays: 0 }, NOW);
    expect(plan.toDelete).toHaveLength(3);
    const repo = repository(images, 'public');
    repo.update('stale-0', { imageTags: ['rescued'] });
    repo.held.delete(digestOf('stale-1'));
    // Act
    const result = await executePlan(repo.gateway, images, plan);
    // Assess
    expect(result.changes).toEqual([
      { digest: digestOf('stale-0'), reason: { code: 'tag-gained', tags: ['rescued'] } },
    ]);
    expect(result.alreadyGone).toEqual([digestOf('stale-1')]);
    expect(result.deleted).toEqual([digestOf('stale-2')]);
    expect(repo.calls).toEqual({ byId: 0, pages: 1, deletes: 1 });
  });
});

describe('verifyKeptImagesWhole: by id or by listing, whichever is fewer calls', () => {
  /** A kept release index with `children` children and one signature: `children + 1` edge targets. */
  const release = (children: number) => {
    const names = Array.from({ length: children }, (_, n) => `release-child-${n}`);
    return [
      image('release', { tags: ['v1'], ageDays: 1, children: names }),
      ...names.map((name) => image(name, { ageDays: 1 })),
      image('release-sig', { subjectDigest: digestOf('release'), ageDays: 1 }),
    ];
  };
  const verify = (
    repo: ReturnType<typeof repository>,
    images: readonly ImageRecord[],
    options?: Parameters<typeof verifyKeptImagesWhole>[5],
    deleted: ReadonlySet<string> = new Set(),
  ) => verifyKeptImagesWhole(repo.gateway, images, planCleanup(REPO, images, RULE, NOW), deleted, new Set(), options);

  it('reads 100 targets by id in a repository of 1,000 images (1 call either way)', async () => {
    const images = release(99);
    const repo = repository([...images, ...fillers(1_000 - images.length)]);
    await expect(verify(repo, images, { repositoryImages: 1_000 })).resolves.toEqual({ checked: 100 });
    expect(repo.calls).toEqual({ byId: 1, pages: 0, deletes: 0 });
  });

  it('lists a repository of 1,000 images for 101 targets (1 page instead of 2 calls by id)', async () => {
    const images = release(100);
    const repo = repository([...images, ...fillers(1_000 - images.length)]);
    await expect(verify(repo, images, { repositoryImages: 1_000 })).resolves.toEqual({ checked: 101 });
    expect(repo.calls).toEqual({ byId: 0, pages: 1, deletes: 0 });
  });

  it('reads 101 targets by id in a repository of 1,001 images (2 calls either way)', async () => {
    const images = release(100);
    const repo = repository([...images, ...fillers(1_001 - images.length)]);
    await expect(verify(repo, images, { repositoryImages: 1_001 })).resolves.toEqual({ checked: 101 });
    expect(repo.calls).toEqual({ byId: 2, pages: 0, deletes: 0 });
  });

  it('prices the listing at the snapshot less what was deleted when not told the size', async () => {
    // Prepare: 102 images left of 1,302 (1,200 deleted): 1 page instead of 2 calls by id.
    const images = [...release(100), ...Array.from({ length: 1_200 }, (_, n) => image(`gone-${n}`))];
    const gone = new Set(
      images
        .filter((record) => record.digest !== digestOf('release'))
        .slice(101)
        .map((r) => r.digest),
    );
    expect(gone.size).toBe(1_200);
    const repo = repository(images.filter((record) => !gone.has(record.digest)));
    // Act and assess
    await expect(verify(repo, images, undefined, gone)).resolves.toEqual({ checked: 101 });
    expect(repo.calls).toEqual({ byId: 0, pages: 1, deletes: 0 });
    // Without the deletions the listing would be 2 pages: by id then (2 calls).
    const whole = repository(images);
    await expect(verify(whole, images)).resolves.toEqual({ checked: 101 });
    expect(whole.calls).toEqual({ byId: 2, pages: 0, deletes: 0 });
  });

  it('finds a missing child and a missing referrer by listing, and names the broken edges', async () => {
    // Prepare
    const images = release(100);
    const repo = repository([...images, ...fillers(1_000 - images.length)]);
    repo.held.delete(digestOf('release-child-7'));
    repo.held.delete(digestOf('release-sig'));
    // Act
    const attempt = verify(repo, images, { repositoryImages: 1_000 });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(IntegrityError);
    const error = (await attempt.catch((caught: unknown) => caught)) as IntegrityError;
    expect(error.brokenEdges).toEqual([
      { from: digestOf('release'), to: digestOf('release-child-7'), edge: 'child' },
      { from: digestOf('release'), to: digestOf('release-sig'), edge: 'referrer' },
    ]);
    expect(repo.calls).toEqual({ byId: 0, pages: 1, deletes: 0 });
  });

  it('finds a missing child by listing through the ECR Public gateway', async () => {
    const images = release(100);
    const repo = repository([...images, ...fillers(500)], 'public');
    repo.held.delete(digestOf('release-child-0'));
    const attempt = verifyKeptImagesWhole(
      repo.gateway,
      images,
      planCleanup(REPO, images, { ...RULE, notPulledForDays: 0 }, NOW),
      new Set(),
      new Set(),
      { repositoryImages: 601 },
    );
    await expect(attempt).rejects.toMatchObject({
      brokenEdges: [{ from: digestOf('release'), to: digestOf('release-child-0'), edge: 'child' }],
    });
    expect(repo.calls).toEqual({ byId: 0, pages: 1, deletes: 0 });
  });

  it('sizes the repository after an execution as what its listing saw less what it deleted', () => {
    expect(imagesLeft({ listedImages: 2_500, deleted: ['a', 'b'] })).toEqual({ repositoryImages: 2_498 });
    expect(imagesLeft({ deleted: [] })).toEqual({});
  });
});
