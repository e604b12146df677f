import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  type ECRClient,
  type ImageIdentifier,
  ListImagesCommand,
  type ListImagesCommandInput,
  PutImageCommand,
  paginateDescribeImages,
  paginateListImages,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ARTIFACT_TYPES,
  buildImageManifest,
  buildReferrerManifest,
  describeManifest,
  MEDIA_TYPES,
  sha256,
} from '../../src/model/manifests.ts';
import { newImage, parseManifest } from '../../src/model/records.ts';
import type { RepositoryRecord, StoredImage } from '../../src/model/state.ts';
import {
  declareBlobs,
  ecrClient,
  failureOf,
  fillInBatches,
  rawEcrRequest,
  startTestRegistry,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const REPO = 'team/app';

describe('DescribeImages and ListImages', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    await client.send(new CreateRepositoryCommand({ repositoryName: REPO }));
  });

  const repositoryRecord = () =>
    server.registry.state(TEST_ACCOUNT, TEST_REGION).repositories.get(REPO) as RepositoryRecord;
  const push = async (seed: string, tag?: string) => {
    const manifest = buildImageManifest({ seed });
    await declareBlobs(server, REPO, manifest);
    await client.send(new PutImageCommand({ repositoryName: REPO, imageManifest: manifest, imageTag: tag }));
    return sha256(manifest);
  };
  /** Stores images straight into the registry state (fast set-up for large listings); returns their digests. */
  const load = (count: number, tagsFor: (i: number) => string[] = () => [], prefix = 'load') => {
    const repository = repositoryRecord();
    const digests: string[] = [];
    for (let i = 0; i < count; i++) {
      const manifest = buildImageManifest({ seed: `${prefix}-${i}` });
      const image = newImage(repository, manifest, parseManifest(manifest), server.now(), tagsFor(i));
      repository.images.add(image);
      digests.push(image.digest);
    }
    return digests;
  };
  const record = (digest: string) => repositoryRecord().images.get(digest) as StoredImage;
  const describeImages = (input: Omit<DescribeImagesCommandInput, 'repositoryName'> = {}) =>
    client.send(new DescribeImagesCommand({ repositoryName: REPO, ...input }));
  const listImages = (input: Omit<ListImagesCommandInput, 'repositoryName'> = {}) =>
    client.send(new ListImagesCommand({ repositoryName: REPO, ...input }));
  const allIds = async (input: Omit<ListImagesCommandInput, 'repositoryName'> = {}, pageSize = 1000) => {
    const found: ImageIdentifier[] = [];
    for await (const page of paginateListImages({ client, pageSize }, { repositoryName: REPO, ...input })) {
      found.push(...(page.imageIds ?? []));
    }
    return found;
  };

  describe('DescribeImages details', () => {
    it('returns every ImageDetail member ECR returns for a tagged image, and only those present', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'detail', layerSizes: [1_000, 2_000] });
      const before = Date.now();
      await declareBlobs(server, REPO, manifest);
      await client.send(new PutImageCommand({ repositoryName: REPO, imageManifest: manifest, imageTag: 'v1' }));
      // Act
      const { imageDetails, nextToken } = await describeImages();
      // Assess
      expect(nextToken).toBeUndefined();
      expect(imageDetails).toEqual([
        {
          registryId: TEST_ACCOUNT,
          repositoryName: REPO,
          imageDigest: sha256(manifest),
          imageTags: ['v1'],
          imageSizeInBytes: 1_472 + 1_000 + 2_000,
          imagePushedAt: expect.any(Date),
          imageManifestMediaType: MEDIA_TYPES.ociManifest,
          artifactMediaType: MEDIA_TYPES.ociConfig,
          imageStatus: 'ACTIVE',
        },
      ]);
      expect(imageDetails?.[0]?.imagePushedAt?.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    });

    it('leaves imageTags out for an untagged image and sets subjectManifestDigest on a referrer', async () => {
      // Prepare
      const subject = await push('subject');
      const signature = buildReferrerManifest({
        seed: 'sig',
        subject: describeManifest(buildImageManifest({ seed: 'subject' })),
        artifactType: ARTIFACT_TYPES.notationSignature,
      });
      await declareBlobs(server, REPO, signature);
      await client.send(new PutImageCommand({ repositoryName: REPO, imageManifest: signature }));
      // Act
      const { imageDetails = [] } = await describeImages({ imageIds: [{ imageDigest: sha256(signature) }] });
      // Assess
      expect(imageDetails[0]).not.toHaveProperty('imageTags');
      expect(imageDetails[0]).not.toHaveProperty('lastRecordedPullTime');
      expect(imageDetails[0]).toMatchObject({
        subjectManifestDigest: subject,
        artifactMediaType: ARTIFACT_TYPES.notationSignature,
      });
    });

    it('reports the scan status, and a summary counting only the severities found once the scan completed', async () => {
      // Prepare
      const scanned = await push('scanned', 'v1');
      const scanning = await push('scanning', 'v2');
      const completedAt = Date.parse('2026-11-20T10:00:00Z');
      record(scanned).scan = {
        status: 'COMPLETE',
        description: 'The scan was completed successfully.',
        startedAt: completedAt - 5_000,
        completedAt,
        findings: {
          findings: [{ severity: 'HIGH' }, { severity: 'HIGH' }, { severity: 'LOW' }],
          enhancedFindings: [{ severity: 'CRITICAL' }],
        },
      };
      record(scanning).scan = {
        status: 'IN_PROGRESS',
        description: 'Scan in progress',
        startedAt: completedAt,
        findings: { findings: [], enhancedFindings: [] },
      };
      // Act
      const { imageDetails = [] } = await describeImages({ imageIds: [{ imageTag: 'v1' }, { imageTag: 'v2' }] });
      // Assess
      expect(imageDetails[0]).toMatchObject({
        imageScanStatus: { status: 'COMPLETE', description: 'The scan was completed successfully.' },
        imageScanFindingsSummary: {
          imageScanCompletedAt: new Date(completedAt),
          vulnerabilitySourceUpdatedAt: new Date(completedAt),
          findingSeverityCounts: { HIGH: 2, LOW: 1, CRITICAL: 1 },
        },
      });
      expect(imageDetails[1]?.imageScanStatus).toEqual({ status: 'IN_PROGRESS', description: 'Scan in progress' });
      expect(imageDetails[1]).not.toHaveProperty('imageScanFindingsSummary');
    });
  });

  describe('DescribeImages by imageIds', () => {
    it('returns one detail for a tag and a digest of the same image', async () => {
      // Prepare
      const digest = await push('same', 'v1');
      // Act
      const { imageDetails = [] } = await describeImages({
        imageIds: [{ imageTag: 'v1' }, { imageDigest: digest }, { imageDigest: digest, imageTag: 'v1' }],
      });
      // Assess
      expect(imageDetails.map((detail) => detail.imageDigest)).toEqual([digest]);
    });

    it('answers ImageNotFoundException naming an id that is not there', async () => {
      // Prepare
      await push('present', 'v1');
      // Act
      const error = await failureOf(describeImages({ imageIds: [{ imageTag: 'v1' }, { imageTag: 'v9' }] }));
      // Assess
      expect(error).toMatchObject({
        name: 'ImageNotFoundException',
        message: `The image with imageId {imageDigest:'null', imageTag:'v9'} does not exist within the repository with name '${REPO}' in the registry with id '${TEST_ACCOUNT}'`,
      });
    });

    it('answers ImageNotFoundException for a tag and a digest that name different images', async () => {
      // Prepare
      const first = await push('first', 'v1');
      await push('second', 'v2');
      // Act
      const error = await failureOf(describeImages({ imageIds: [{ imageDigest: first, imageTag: 'v2' }] }));
      // Assess
      expect(error).toMatchObject({ name: 'ImageNotFoundException' });
    });

    it('rejects 101 ids, and ids with maxResults or nextToken, with InvalidParameterException', async () => {
      // Prepare
      const ids = Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` }));
      // Act
      const tooMany = await failureOf(describeImages({ imageIds: ids }));
      const withMax = await failureOf(describeImages({ imageIds: [{ imageTag: 'v1' }], maxResults: 5 }));
      const withToken = await failureOf(describeImages({ imageIds: [{ imageTag: 'v1' }], nextToken: 'abc' }));
      // Assess
      expect(tooMany).toMatchObject({
        name: 'InvalidParameterException',
        message: expect.stringContaining('imageIds'),
      });
      expect(withMax).toMatchObject({ name: 'InvalidParameterException' });
      expect(withToken).toMatchObject({ name: 'InvalidParameterException' });
    });

    it('rejects an id with neither digest nor tag and a malformed digest with InvalidParameterException', async () => {
      // Act
      const empty = await failureOf(describeImages({ imageIds: [{}] }));
      const malformed = await failureOf(describeImages({ imageIds: [{ imageDigest: 'sha256:abc' }] }));
      // Assess
      expect(empty).toMatchObject({ name: 'InvalidParameterException' });
      expect(malformed).toMatchObject({ name: 'InvalidParameterException' });
    });
  });

  describe('filters', () => {
    it('filters on tagStatus TAGGED, UNTAGGED and ANY (the default)', async () => {
      // Prepare
      const tagged = await push('tagged', 'v1');
      const untagged = await push('untagged');
      // Act
      const onlyTagged = await describeImages({ filter: { tagStatus: 'TAGGED' } });
      const onlyUntagged = await describeImages({ filter: { tagStatus: 'UNTAGGED' } });
      const any = await describeImages({ filter: { tagStatus: 'ANY' } });
      const listedUntagged = await listImages({ filter: { tagStatus: 'UNTAGGED' } });
      const listedTagged = await listImages({ filter: { tagStatus: 'TAGGED' } });
      // Assess
      expect(onlyTagged.imageDetails?.map((detail) => detail.imageDigest)).toEqual([tagged]);
      expect(onlyUntagged.imageDetails?.map((detail) => detail.imageDigest)).toEqual([untagged]);
      expect(any.imageDetails?.map((detail) => detail.imageDigest)).toEqual([tagged, untagged]);
      expect(listedUntagged.imageIds).toEqual([{ imageDigest: untagged }]);
      expect(listedTagged.imageIds).toEqual([{ imageDigest: tagged, imageTag: 'v1' }]);
    });

    it('lists ACTIVE images only unless imageStatus asks for ARCHIVED, ACTIVATING or ANY', async () => {
      // Prepare
      const active = await push('active', 'v1');
      const archived = await push('archived', 'v2');
      const activating = await push('activating');
      record(archived).status = 'ARCHIVED';
      record(activating).status = 'ACTIVATING';
      const digests = async (imageStatus?: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING' | 'ANY') =>
        (await describeImages(imageStatus ? { filter: { imageStatus } } : {})).imageDetails?.map((d) => d.imageDigest);
      // Act
      const byDefault = await digests();
      const onlyArchived = await digests('ARCHIVED');
      const onlyActivating = await digests('ACTIVATING');
      const any = await digests('ANY');
      const listedArchived = await listImages({ filter: { imageStatus: 'ARCHIVED' } });
      const listedDefault = await listImages();
      // Assess
      expect(byDefault).toEqual([active]);
      expect(onlyArchived).toEqual([archived]);
      expect(onlyActivating).toEqual([activating]);
      expect(any).toEqual([active, archived, activating]);
      expect(listedArchived.imageIds).toEqual([{ imageDigest: archived, imageTag: 'v2' }]);
      expect(listedDefault.imageIds).toEqual([{ imageDigest: active, imageTag: 'v1' }]);
      const explicit = await describeImages({ imageIds: [{ imageTag: 'v2' }] });
      expect(explicit.imageDetails?.[0]?.imageStatus).toBe('ARCHIVED');
    });

    it('rejects filter values outside the enums with InvalidParameterException', async () => {
      // Act
      const responses = await Promise.all([
        rawEcrRequest(
          server,
          'DescribeImages',
          JSON.stringify({ repositoryName: REPO, filter: { tagStatus: 'SOME' } }),
        ),
        rawEcrRequest(server, 'ListImages', JSON.stringify({ repositoryName: REPO, filter: { imageStatus: 'GONE' } })),
        rawEcrRequest(server, 'ListImages', JSON.stringify({ repositoryName: REPO, filter: 'TAGGED' })),
      ]);
      // Assess
      expect(responses.map((response) => response.body.__type)).toEqual([
        'InvalidParameterException',
        'InvalidParameterException',
        'SerializationException',
      ]);
    });
  });

  describe('ListImages entries', () => {
    it('returns one entry per tag, and an untagged image once with its digest only', async () => {
      // Prepare
      const multi = await push('multi', 'v1');
      await client.send(
        new PutImageCommand({
          repositoryName: REPO,
          imageManifest: buildImageManifest({ seed: 'multi' }),
          imageTag: 'latest',
        }),
      );
      const bare = await push('bare');
      // Act
      const { imageIds, nextToken } = await listImages();
      // Assess
      expect(nextToken).toBeUndefined();
      expect(imageIds).toEqual([
        { imageDigest: multi, imageTag: 'v1' },
        { imageDigest: multi, imageTag: 'latest' },
        { imageDigest: bare },
      ]);
    });

    it('pages by entries, resuming inside an image’s tag list', async () => {
      // Prepare
      const [five] = load(1, () => ['a', 'b', 'c', 'd', 'e'], 'five');
      const [bare] = load(1, () => [], 'bare');
      const pages: ImageIdentifier[][] = [];
      let nextToken: string | undefined;
      // Act
      do {
        const page = await listImages({ maxResults: 2, nextToken });
        pages.push(page.imageIds ?? []);
        nextToken = page.nextToken;
      } while (nextToken);
      // Assess
      expect(pages).toEqual([
        [
          { imageDigest: five, imageTag: 'a' },
          { imageDigest: five, imageTag: 'b' },
        ],
        [
          { imageDigest: five, imageTag: 'c' },
          { imageDigest: five, imageTag: 'd' },
        ],
        [{ imageDigest: five, imageTag: 'e' }, { imageDigest: bare }],
      ]);
    });

    it('lists 2,500 images of mixed tags through paginateListImages, each entry once', async () => {
      // Prepare
      const digests = load(2_500, (i) => (i % 3 === 0 ? [] : i % 3 === 1 ? [`t${i}`] : [`t${i}`, `u${i}`]));
      // Act
      const ids = await allIds({}, 333);
      // Assess
      const expected = digests.flatMap((digest, i) =>
        i % 3 === 0
          ? [{ imageDigest: digest }]
          : i % 3 === 1
            ? [{ imageDigest: digest, imageTag: `t${i}` }]
            : [
                { imageDigest: digest, imageTag: `t${i}` },
                { imageDigest: digest, imageTag: `u${i}` },
              ],
      );
      expect(ids).toEqual(expected);
    });

    it('returns each entry present throughout once while tags and images change between pages', async () => {
      // Prepare
      const digests = load(600, (i) => [`t${i}`, `u${i}`]);
      const removed = new Set<string>();
      const seen: string[] = [];
      let nextToken: string | undefined;
      let round = 0;
      // Act
      do {
        const page = await listImages({ maxResults: 97, nextToken });
        const ids = page.imageIds ?? [];
        expect(ids.length).toBeLessThanOrEqual(97);
        seen.push(...ids.map((id) => `${id.imageDigest}/${id.imageTag ?? ''}`));
        nextToken = page.nextToken;
        // Untag the image the page ended in, delete one further on, and push a new one.
        const boundary = digests.indexOf(ids[ids.length - 1]?.imageDigest ?? '');
        const ahead = digests[boundary + 40];
        const changes: ImageIdentifier[] = [{ imageTag: `t${boundary}` }];
        removed.add(`${digests[boundary]}/t${boundary}`);
        if (ahead && !removed.has(`${ahead}/u${boundary + 40}`)) {
          changes.push({ imageDigest: ahead });
          removed.add(`${ahead}/t${boundary + 40}`).add(`${ahead}/u${boundary + 40}`);
        }
        await client.send(new BatchDeleteImageCommand({ repositoryName: REPO, imageIds: changes }));
        await push(`late-${round}`, `late-${round}`);
        round++;
      } while (nextToken);
      // Assess
      expect(new Set(seen).size).toBe(seen.length);
      const throughout = digests.flatMap((digest, i) => [`${digest}/t${i}`, `${digest}/u${i}`]);
      const seenSet = new Set(seen);
      expect(throughout.filter((entry) => !removed.has(entry) && !seenSet.has(entry))).toEqual([]);
      expect(round).toBeGreaterThanOrEqual(12);
    });
  });

  describe('paging', () => {
    it('pages through 2,500 images with paginateDescribeImages, every page within maxResults, none missed or repeated', async () => {
      // Prepare
      const digests = load(2_500, (i) => (i % 2 === 0 ? [`v${i}`] : []));
      for (const pageSize of [1000, 7, 100]) {
        const sizes: number[] = [];
        const found: string[] = [];
        // Act
        for await (const page of paginateDescribeImages({ client, pageSize }, { repositoryName: REPO })) {
          sizes.push(page.imageDetails?.length ?? 0);
          found.push(...(page.imageDetails ?? []).map((detail) => detail.imageDigest as string));
        }
        // Assess
        expect(Math.max(...sizes)).toBeLessThanOrEqual(pageSize);
        expect(found).toEqual(digests);
      }
    });

    it('answers 100 details per page when maxResults is omitted', async () => {
      // Prepare
      load(250);
      // Act
      const first = await describeImages();
      const second = await describeImages({ nextToken: first.nextToken });
      const third = await describeImages({ nextToken: second.nextToken });
      // Assess
      expect([first, second, third].map((page) => page.imageDetails?.length)).toEqual([100, 100, 50]);
      expect(third.nextToken).toBeUndefined();
    });

    it('returns each image present throughout exactly once while images are pushed and deleted between pages', async () => {
      // Prepare
      const digests = load(2_500);
      const deleted = new Set<string>();
      const seen: string[] = [];
      let nextToken: string | undefined;
      let round = 0;
      // Act
      do {
        const page = await describeImages({ maxResults: 250, nextToken });
        expect(page.imageDetails?.length ?? 0).toBeLessThanOrEqual(250);
        seen.push(...(page.imageDetails ?? []).map((detail) => detail.imageDigest as string));
        nextToken = page.nextToken;
        // Delete two images already listed and two not yet listed; push three new ones.
        const victims = [digests[round * 250 + 10], digests[round * 250 + 20], digests[round * 250 + 600]];
        const last = digests[round * 250 + 249];
        const ids = [...victims, last].filter((d): d is string => d !== undefined && !deleted.has(d));
        for (const digest of ids) deleted.add(digest);
        if (ids.length > 0) {
          await client.send(
            new BatchDeleteImageCommand({
              repositoryName: REPO,
              imageIds: ids.map((imageDigest) => ({ imageDigest })),
            }),
          );
        }
        for (let i = 0; i < 3; i++) await push(`concurrent-${round}-${i}`);
        round++;
      } while (nextToken);
      // Assess
      expect(new Set(seen).size).toBe(seen.length);
      const throughout = digests.filter((digest) => !deleted.has(digest));
      const seenSet = new Set(seen);
      expect(throughout.filter((digest) => !seenSet.has(digest))).toEqual([]);
      expect(round).toBeGreaterThanOrEqual(10);
    });

    it('reads a page of 1,000 from 100,000 images without walking the whole store', async () => {
      // Prepare
      const repository = repositoryRecord();
      await fillInBatches(100_000, (i) => {
        const text = `{"schemaVersion":2,"mediaType":"${MEDIA_TYPES.ociManifest}","i":${i}}`;
        repository.images.add(newImage(repository, text, parseManifest(text), 0));
      });
      const middle = await describeImages({ maxResults: 1000 });
      let token = middle.nextToken;
      for (let i = 0; i < 49; i++) token = (await describeImages({ maxResults: 1000, nextToken: token })).nextToken;
      let visited = 0;
      const original = repository.images.after.bind(repository.images);
      const spy = vi.spyOn(repository.images, 'after').mockImplementation(function* (afterSeq?: number) {
        for (const image of original(afterSeq)) {
          visited++;
          yield image;
        }
      });
      // Act
      const page = await describeImages({ maxResults: 1000, nextToken: token });
      spy.mockRestore();
      // Assess
      expect(page.imageDetails).toHaveLength(1000);
      expect(page.imageDetails?.[0]?.imageDigest).toBe(repository.images.after(50_000).next().value?.digest);
      // The page is read from where the token points: at most one image past the page, not the 50,000 before it.
      expect(visited).toBeLessThanOrEqual(1001);
    });

    it('rejects a nextToken from another filter or listing, and garbage, with InvalidParameterException', async () => {
      // Prepare
      load(5, () => [], 'token');
      const tagged = await describeImages({ maxResults: 2, filter: { tagStatus: 'ANY' } });
      const listed = await listImages({ maxResults: 2 });
      // Act
      const otherFilter = await failureOf(
        describeImages({ maxResults: 2, nextToken: tagged.nextToken, filter: { tagStatus: 'UNTAGGED' } }),
      );
      const otherListing = await failureOf(describeImages({ maxResults: 2, nextToken: listed.nextToken }));
      const garbage = await failureOf(listImages({ nextToken: 'not-a-token' }));
      // Assess
      for (const error of [otherFilter, otherListing, garbage]) {
        expect(error).toMatchObject({ name: 'InvalidParameterException' });
      }
    });

    it('rejects maxResults 0 and 1001 with InvalidParameterException', async () => {
      // Act
      const errors = await Promise.all([
        failureOf(describeImages({ maxResults: 0 })),
        failureOf(describeImages({ maxResults: 1001 })),
        failureOf(listImages({ maxResults: 0 })),
        failureOf(listImages({ maxResults: 1001 })),
      ]);
      // Assess
      for (const error of errors) {
        expect(error).toMatchObject({
          name: 'InvalidParameterException',
          message: expect.stringContaining('maxResults'),
        });
      }
      expect((await describeImages({ maxResults: 1000 })).imageDetails).toEqual([]);
    });
  });

  describe('errors and bad input', () => {
    it('answers RepositoryNotFoundException for an unknown repository', async () => {
      // Act
      const described = await failureOf(client.send(new DescribeImagesCommand({ repositoryName: 'team/nope' })));
      const listed = await failureOf(client.send(new ListImagesCommand({ repositoryName: 'team/nope' })));
      // Assess
      expect(described).toMatchObject({ name: 'RepositoryNotFoundException' });
      expect(listed).toMatchObject({ name: 'RepositoryNotFoundException' });
    });

    it('rejects malformed requests and changes nothing (reads never record a pull)', async () => {
      // Prepare
      const digest = await push('untouched', 'v1');
      await describeImages();
      await listImages();
      const raw = (operation: string, body: string) => rawEcrRequest(server, operation, body);
      // Act
      const responses = await Promise.all([
        raw('DescribeImages', '{}'),
        raw('DescribeImages', JSON.stringify({ repositoryName: REPO, imageIds: { imageTag: 'v1' } })),
        raw('DescribeImages', JSON.stringify({ repositoryName: REPO, maxResults: '5' })),
        raw('DescribeImages', JSON.stringify({ repositoryName: REPO, imageIds: [{ imageTag: 5 }] })),
        raw('ListImages', JSON.stringify({ repositoryName: REPO, maxResults: 2.5 })),
        raw('ListImages', '{"repositoryName": '),
      ]);
      // Assess
      expect(responses.map((response) => response.body.__type)).toEqual([
        'InvalidParameterException',
        'SerializationException',
        'SerializationException',
        'SerializationException',
        'SerializationException',
        'SerializationException',
      ]);
      expect(record(digest).lastPulledAt).toBeUndefined();
      expect(record(digest).tags).toEqual(['v1']);
      expect(repositoryRecord().images.size).toBe(1);
      const fetched = await client.send(
        new BatchGetImageCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }] }),
      );
      expect(fetched.images).toHaveLength(1);
    });
  });
});
