import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  type ECRClient,
  type ImageIdentifier,
  ListImageReferrersCommand,
  type ListImageReferrersCommandInput,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ARTIFACT_TYPES,
  buildImageManifest,
  buildIndexManifest,
  buildReferrerManifest,
  describeManifest,
  MEDIA_TYPES,
  sha256,
} from '../../src/model/manifests.ts';
import type { RepositoryRecord, StoredImage } from '../../src/model/state.ts';
import {
  declareBlobs,
  ecrClient,
  failureOf,
  rawEcrRequest,
  startTestRegistry,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const REPO = 'team/app';
const MISSING_DIGEST = `sha256:${'0'.repeat(64)}`;

describe('BatchGetImage, BatchDeleteImage and ListImageReferrers', () => {
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
  const record = (digest: string) => repositoryRecord().images.get(digest) as StoredImage;
  const putManifest = async (manifest: string, tag?: string) => {
    await declareBlobs(server, REPO, manifest);
    await client.send(new PutImageCommand({ repositoryName: REPO, imageManifest: manifest, imageTag: tag }));
    return sha256(manifest);
  };
  const push = (seed: string, tag?: string) => putManifest(buildImageManifest({ seed }), tag);
  /** Every image with its tags, in listing order. */
  const snapshot = () =>
    [...repositoryRecord().images.after(0)].map((image) => ({
      digest: image.digest,
      tags: [...image.tags],
      lastPulledAt: image.lastPulledAt,
    }));
  const batchGet = (imageIds: ImageIdentifier[], acceptedMediaTypes?: string[]) =>
    client.send(new BatchGetImageCommand({ repositoryName: REPO, imageIds, acceptedMediaTypes }));
  const batchDelete = (imageIds: ImageIdentifier[]) =>
    client.send(new BatchDeleteImageCommand({ repositoryName: REPO, imageIds }));
  const imageActions = () =>
    server.bus.events.filter((event) => event['detail-type'] === 'ECR Image Action').map((event) => event.detail);
  const deleteActions = () =>
    imageActions().filter((detail) => (detail as Record<string, unknown>)['action-type'] === 'DELETE');
  /** A multi-arch index over two pushed children, tagged `tag`. */
  const pushIndex = async (tag: string) => {
    const amd = buildImageManifest({ seed: `${tag}-amd64` });
    const arm = buildImageManifest({ seed: `${tag}-arm64`, architecture: 'arm64' });
    await putManifest(amd);
    await putManifest(arm);
    const index = await putManifest(buildIndexManifest([describeManifest(amd), describeManifest(arm)]), tag);
    return { index, amd: sha256(amd), arm: sha256(arm) };
  };

  describe('BatchGetImage', () => {
    it('returns the exact manifest with the imageId as asked plus its digest, and no failures', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'get' });
      const digest = await putManifest(manifest, 'v1');
      // Act
      const output = await batchGet([{ imageTag: 'v1' }, { imageDigest: digest }]);
      // Assess
      expect(output.failures).toEqual([]);
      expect(output.images).toEqual([
        {
          registryId: TEST_ACCOUNT,
          repositoryName: REPO,
          imageId: { imageDigest: digest, imageTag: 'v1' },
          imageManifest: manifest,
          imageManifestMediaType: MEDIA_TYPES.ociManifest,
        },
        {
          registryId: TEST_ACCOUNT,
          repositoryName: REPO,
          imageId: { imageDigest: digest },
          imageManifest: manifest,
          imageManifestMediaType: MEDIA_TYPES.ociManifest,
        },
      ]);
    });

    it('reports each id it cannot return with ECR’s failure code and reason', async () => {
      // Prepare
      const first = await push('first', 'v1');
      await push('second', 'v2');
      const before = snapshot();
      // Act
      const output = await batchGet([
        { imageTag: 'v9' },
        { imageDigest: MISSING_DIGEST },
        { imageDigest: 'sha256:not-hex' },
        { imageTag: 'bad tag' },
        {},
        { imageDigest: first, imageTag: 'v2' },
      ]);
      // Assess
      expect(output.images).toEqual([]);
      expect(output.failures).toEqual([
        { imageId: { imageTag: 'v9' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
        {
          imageId: { imageDigest: MISSING_DIGEST },
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found',
        },
        {
          imageId: { imageDigest: 'sha256:not-hex' },
          failureCode: 'InvalidImageDigest',
          failureReason:
            "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
        },
        { imageId: { imageTag: 'bad tag' }, failureCode: 'InvalidImageTag', failureReason: expect.any(String) },
        {
          imageId: {},
          failureCode: 'MissingDigestAndTag',
          failureReason: 'Invalid request parameters: both tag and digest cannot be null',
        },
        {
          imageId: { imageDigest: first, imageTag: 'v2' },
          failureCode: 'ImageTagDoesNotMatchDigest',
          failureReason: expect.any(String),
        },
      ]);
      expect(snapshot()).toEqual(before);
    });

    it('returns only images whose media type is accepted (all when acceptedMediaTypes is omitted)', async () => {
      // Prepare
      const { index } = await pushIndex('multi');
      // Act
      const imagesOnly = await batchGet([{ imageTag: 'multi' }], [MEDIA_TYPES.ociManifest]);
      const withIndex = await batchGet([{ imageTag: 'multi' }], [MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex]);
      const anything = await batchGet([{ imageTag: 'multi' }]);
      // Assess
      expect(imagesOnly.images).toEqual([]);
      expect(imagesOnly.failures).toEqual([
        { imageId: { imageTag: 'multi' }, failureCode: 'ImageNotFound', failureReason: expect.any(String) },
      ]);
      expect(withIndex.images?.[0]?.imageId).toEqual({ imageDigest: index, imageTag: 'multi' });
      expect(anything.images?.[0]?.imageManifestMediaType).toBe(MEDIA_TYPES.ociIndex);
    });

    it('fails an archived image, which cannot be pulled', async () => {
      // Prepare
      const digest = await push('cold', 'v1');
      record(digest).status = 'ARCHIVED';
      // Act
      const output = await batchGet([{ imageTag: 'v1' }]);
      // Assess
      expect(output.images).toEqual([]);
      expect(output.failures?.[0]?.failureCode).toBe('ImageNotFound');
      expect(record(digest).lastPulledAt).toBeUndefined();
    });

    it('records the pull: lastRecordedPullTime is absent before and the registry clock after', async () => {
      // Prepare
      const digest = await push('pulled', 'v1');
      const other = await push('not-pulled', 'v2');
      const describe = async () =>
        (await client.send(new DescribeImagesCommand({ repositoryName: REPO }))).imageDetails ?? [];
      const before = await describe();
      server.advanceClock(3_600_000);
      // Act
      await batchGet([{ imageTag: 'v1' }, { imageTag: 'v9' }]);
      // Assess
      const after = await describe();
      expect(before.every((detail) => detail.lastRecordedPullTime === undefined)).toBe(true);
      const pulled = after.find((detail) => detail.imageDigest === digest);
      expect(pulled?.lastRecordedPullTime?.getTime()).toBe(record(digest).lastPulledAt);
      expect(Math.abs((pulled?.lastRecordedPullTime?.getTime() ?? 0) - server.now())).toBeLessThan(5_000);
      expect(after.find((detail) => detail.imageDigest === other)).not.toHaveProperty('lastRecordedPullTime');
    });

    it('rejects 101 ids, no ids and 101 accepted media types with InvalidParameterException, recording no pull', async () => {
      // Prepare
      const digest = await push('limits', 'v1');
      const ids = [{ imageTag: 'v1' }, ...Array.from({ length: 100 }, (_, i) => ({ imageTag: `t${i}` }))];
      // Act
      const tooManyIds = await failureOf(batchGet(ids));
      const noIds = await failureOf(batchGet([]));
      const tooManyTypes = await failureOf(
        batchGet(
          [{ imageTag: 'v1' }],
          Array.from({ length: 101 }, (_, i) => `application/x-${i}`),
        ),
      );
      // Assess
      for (const error of [tooManyIds, noIds, tooManyTypes]) {
        expect(error).toMatchObject({ name: 'InvalidParameterException' });
      }
      expect(record(digest).lastPulledAt).toBeUndefined();
    });

    it('answers RepositoryNotFoundException for an unknown repository', async () => {
      // Act
      const error = await failureOf(
        client.send(new BatchGetImageCommand({ repositoryName: 'team/nope', imageIds: [{ imageTag: 'v1' }] })),
      );
      // Assess
      expect(error).toMatchObject({ name: 'RepositoryNotFoundException' });
    });
  });

  describe('BatchDeleteImage', () => {
    it('deletes an image and all its tags by digest', async () => {
      // Prepare
      const digest = await push('by-digest', 'v1');
      await putManifest(buildImageManifest({ seed: 'by-digest' }), 'latest');
      const kept = await push('kept', 'v2');
      // Act
      const output = await batchDelete([{ imageDigest: digest }]);
      // Assess
      // As ECR answers: one id per tag the deleted image had.
      expect(output.imageIds).toEqual([
        { imageDigest: digest, imageTag: 'v1' },
        { imageDigest: digest, imageTag: 'latest' },
      ]);
      expect(output.failures).toEqual([]);
      expect(snapshot().map((image) => image.digest)).toEqual([kept]);
      expect(repositoryRecord().images.digestForTag('latest')).toBeUndefined();
    });

    it('removes only the tag when deleting by tag, and the image with its last tag', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'by-tag' });
      const digest = await putManifest(manifest, 'v1');
      await putManifest(manifest, 'v1.0');
      // Act
      const first = await batchDelete([{ imageTag: 'v1.0' }]);
      const afterFirst = snapshot();
      const second = await batchDelete([{ imageTag: 'v1' }]);
      // Assess
      expect(first).toMatchObject({ imageIds: [{ imageDigest: digest, imageTag: 'v1.0' }], failures: [] });
      expect(afterFirst).toEqual([{ digest, tags: ['v1'], lastPulledAt: undefined }]);
      expect(second.imageIds).toEqual([{ imageDigest: digest, imageTag: 'v1' }]);
      expect(snapshot()).toEqual([]);
    });

    it('reports each id it cannot delete with ECR’s failure code, applying the others', async () => {
      // Prepare
      const first = await push('first', 'v1');
      await push('second', 'v2');
      const third = await push('third');
      // Act
      const output = await batchDelete([
        { imageTag: 'v9' },
        { imageDigest: MISSING_DIGEST },
        { imageDigest: 'sha256:ABC' },
        { imageTag: 'not:a:tag' },
        {},
        { imageDigest: first, imageTag: 'v2' },
        { imageDigest: third },
      ]);
      // Assess
      expect(output.imageIds).toEqual([{ imageDigest: third }]);
      expect(output.failures?.map((failure) => [failure.imageId, failure.failureCode])).toEqual([
        [{ imageTag: 'v9' }, 'ImageNotFound'],
        [{ imageDigest: MISSING_DIGEST }, 'ImageNotFound'],
        [{ imageDigest: 'sha256:ABC' }, 'InvalidImageDigest'],
        [{ imageTag: 'not:a:tag' }, 'InvalidImageTag'],
        [{}, 'MissingDigestAndTag'],
        [{ imageDigest: first, imageTag: 'v2' }, 'ImageTagDoesNotMatchDigest'],
      ]);
      expect(output.failures?.[0]?.failureReason).toBe('Requested image not found');
      expect(snapshot().map((image) => image.tags)).toEqual([['v1'], ['v2']]);
    });

    it('refuses to delete a child of an index that stays, by digest or by its last tag', async () => {
      // Prepare
      const { index, amd, arm } = await pushIndex('multi');
      await putManifest(buildImageManifest({ seed: 'multi-arm64', architecture: 'arm64' }), 'arm-only');
      const before = snapshot();
      // Act
      const output = await batchDelete([{ imageDigest: amd }, { imageTag: 'arm-only' }]);
      // Assess
      expect(output.imageIds).toEqual([]);
      expect(output.failures).toEqual([
        {
          imageId: { imageDigest: amd },
          failureCode: 'ImageReferencedByManifestList',
          failureReason: `Requested image referenced by manifest list: [${index}]`,
        },
        {
          imageId: { imageTag: 'arm-only' },
          failureCode: 'ImageReferencedByManifestList',
          failureReason: `Requested image referenced by manifest list: [${index}]`,
        },
      ]);
      expect(snapshot()).toEqual(before);
      expect(record(arm).tags).toEqual(['arm-only']);
      expect(deleteActions()).toEqual([]);
    });

    it('deletes an index and then its children in one request, in the order given', async () => {
      // Prepare
      const { index, amd, arm } = await pushIndex('multi');
      // Act
      const output = await batchDelete([{ imageDigest: index }, { imageDigest: amd }, { imageDigest: arm }]);
      // Assess
      expect(output).toMatchObject({
        imageIds: [{ imageDigest: index }, { imageDigest: amd }, { imageDigest: arm }],
        failures: [],
      });
      expect(snapshot()).toEqual([]);
    });

    it('fails a child listed before its index in one request, deleting the index', async () => {
      // Prepare
      const { index, amd } = await pushIndex('multi');
      // Act
      const output = await batchDelete([{ imageDigest: amd }, { imageTag: 'multi' }]);
      // Assess
      expect(output.imageIds).toEqual([{ imageDigest: index, imageTag: 'multi' }]);
      expect(output.failures?.map((failure) => failure.failureCode)).toEqual(['ImageReferencedByManifestList']);
      expect(record(amd)).toBeDefined();
    });

    it('deletes a child once the index was deleted by an earlier request', async () => {
      // Prepare
      const { amd } = await pushIndex('multi');
      await batchDelete([{ imageTag: 'multi' }]);
      // Act
      const output = await batchDelete([{ imageDigest: amd }]);
      // Assess
      expect(output).toMatchObject({ imageIds: [{ imageDigest: amd }], failures: [] });
    });

    it('keeps a child another index still lists when one of its two indexes is deleted', async () => {
      // Prepare
      const { index, amd, arm } = await pushIndex('multi');
      const amdOnly = buildIndexManifest([describeManifest(buildImageManifest({ seed: 'multi-amd64' }))]);
      const second = await putManifest(amdOnly, 'amd-only');
      // Act
      const output = await batchDelete([{ imageDigest: index }, { imageDigest: amd }, { imageDigest: arm }]);
      // Assess
      expect(output.imageIds).toEqual([{ imageDigest: index, imageTag: 'multi' }, { imageDigest: arm }]);
      expect(output.failures?.[0]?.failureReason).toBe(`Requested image referenced by manifest list: [${second}]`);
    });

    it('rejects 101 ids and no ids with InvalidParameterException, deleting nothing', async () => {
      // Prepare
      await push('stays', 'v1');
      const before = snapshot();
      const ids = [{ imageTag: 'v1' }, ...Array.from({ length: 100 }, (_, i) => ({ imageTag: `t${i}` }))];
      // Act
      const tooMany = await failureOf(batchDelete(ids));
      const none = await failureOf(batchDelete([]));
      const longTag = await failureOf(batchDelete([{ imageTag: 'v1' }, { imageTag: 't'.repeat(301) }]));
      // Assess
      for (const error of [tooMany, none, longTag]) expect(error).toMatchObject({ name: 'InvalidParameterException' });
      expect(snapshot()).toEqual(before);
    });

    it('rejects malformed requests without changing anything', async () => {
      // Prepare
      const digest = await push('raw', 'v1');
      const before = snapshot();
      const raw = (body: unknown) =>
        rawEcrRequest(server, 'BatchDeleteImage', typeof body === 'string' ? body : JSON.stringify(body));
      // Act
      const responses = await Promise.all([
        raw({ repositoryName: REPO }),
        raw({ repositoryName: REPO, imageIds: { imageDigest: digest } }),
        raw({ repositoryName: REPO, imageIds: [{ imageDigest: digest }, 'v1'] }),
        raw({ repositoryName: REPO, imageIds: [{ imageDigest: digest }, { imageTag: 1 }] }),
        raw({ imageIds: [{ imageDigest: digest }] }),
        raw('[{"imageDigest": 1}]'),
      ]);
      // Assess
      expect(responses.map((response) => response.body.__type)).toEqual([
        'InvalidParameterException',
        'SerializationException',
        'SerializationException',
        'SerializationException',
        'InvalidParameterException',
        'SerializationException',
      ]);
      expect(snapshot()).toEqual(before);
      expect(deleteActions()).toEqual([]);
    });

    it('answers RepositoryNotFoundException for an unknown repository', async () => {
      // Act
      const error = await failureOf(
        client.send(new BatchDeleteImageCommand({ repositoryName: 'team/nope', imageIds: [{ imageTag: 'v1' }] })),
      );
      // Assess
      expect(error).toMatchObject({ name: 'RepositoryNotFoundException' });
    });

    it('emits "ECR Image Action" DELETE per deleted id, with image-tag when deleted by tag', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'events' });
      const digest = await putManifest(manifest, 'v1');
      await putManifest(manifest, 'v2');
      const untagged = await push('events-untagged');
      // Act
      await batchDelete([{ imageTag: 'v2' }, { imageDigest: untagged }, { imageTag: 'v9' }, { imageDigest: digest }]);
      // Assess
      expect(deleteActions()).toEqual([
        {
          result: 'SUCCESS',
          'repository-name': REPO,
          'image-digest': digest,
          'action-type': 'DELETE',
          'image-tag': 'v2',
        },
        { result: 'SUCCESS', 'repository-name': REPO, 'image-digest': untagged, 'action-type': 'DELETE' },
        { result: 'SUCCESS', 'repository-name': REPO, 'image-digest': digest, 'action-type': 'DELETE' },
      ]);
      const deletes = server.bus.events.filter(
        (event) => (event.detail as Record<string, unknown>)['action-type'] === 'DELETE',
      );
      expect(deletes.every((event) => event.source === 'aws.ecr' && event.resources.length === 0)).toBe(true);
    });
  });

  describe('ListImageReferrers', () => {
    const listReferrers = (input: Omit<ListImageReferrersCommandInput, 'repositoryName'>) =>
      client.send(new ListImageReferrersCommand({ repositoryName: REPO, ...input }));
    const subjectManifest = buildImageManifest({ seed: 'subject' });
    const referrer = (seed: string, artifactType: string, annotations?: Record<string, string>) =>
      buildReferrerManifest({ seed, subject: describeManifest(subjectManifest), artifactType, annotations });

    it('lists the referrers of a subject with digest, media type, artifact type, size, annotations and status', async () => {
      // Prepare
      const subject = await putManifest(subjectManifest, 'v1');
      const signature = referrer('sig', ARTIFACT_TYPES.cosignSignature, { 'dev.sigstore.cosign/bundle': '{}' });
      const sbom = referrer('sbom', ARTIFACT_TYPES.spdxSbom);
      await putManifest(signature);
      await putManifest(sbom);
      await push('unrelated');
      // Act
      const output = await listReferrers({ subjectId: { imageDigest: subject } });
      // Assess
      expect(output.nextToken).toBeUndefined();
      expect(output.referrers).toEqual([
        {
          digest: sha256(signature),
          mediaType: MEDIA_TYPES.ociManifest,
          artifactType: ARTIFACT_TYPES.cosignSignature,
          size: Buffer.byteLength(signature, 'utf8'),
          annotations: { 'dev.sigstore.cosign/bundle': '{}' },
          artifactStatus: 'ACTIVE',
        },
        {
          digest: sha256(sbom),
          mediaType: MEDIA_TYPES.ociManifest,
          artifactType: ARTIFACT_TYPES.spdxSbom,
          size: Buffer.byteLength(sbom, 'utf8'),
          annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
          artifactStatus: 'ACTIVE',
        },
      ]);
    });

    it('returns an empty list for a subject that is not in the repository, or has no referrers', async () => {
      // Prepare
      await putManifest(referrer('orphan', ARTIFACT_TYPES.cosignSignature));
      const lonely = await push('lonely', 'v1');
      // Act
      const absentWithReferrer = await listReferrers({ subjectId: { imageDigest: sha256(subjectManifest) } });
      const absent = await listReferrers({ subjectId: { imageDigest: MISSING_DIGEST } });
      const none = await listReferrers({ subjectId: { imageDigest: lonely } });
      // Assess
      expect(absentWithReferrer.referrers?.map((r) => r.digest)).toHaveLength(1);
      expect(absent.referrers).toEqual([]);
      expect(none.referrers).toEqual([]);
    });

    it('filters on artifactTypes and artifactStatus (ACTIVE only by default)', async () => {
      // Prepare
      const subject = await putManifest(subjectManifest, 'v1');
      const signature = await putManifest(referrer('sig', ARTIFACT_TYPES.cosignSignature));
      const sbom = await putManifest(referrer('sbom', ARTIFACT_TYPES.spdxSbom));
      const attestation = await putManifest(referrer('att', ARTIFACT_TYPES.inTotoAttestation));
      record(sbom).status = 'ARCHIVED';
      const digests = async (filter: ListImageReferrersCommandInput['filter']) =>
        (await listReferrers({ subjectId: { imageDigest: subject }, filter })).referrers?.map((r) => r.digest);
      // Act
      const byDefault = await digests(undefined);
      const signatures = await digests({ artifactTypes: [ARTIFACT_TYPES.cosignSignature, ARTIFACT_TYPES.spdxSbom] });
      const archived = await digests({ artifactStatus: 'ARCHIVED' });
      const any = await digests({ artifactStatus: 'ANY', artifactTypes: [] });
      // Assess
      expect(byDefault).toEqual([signature, attestation]);
      expect(signatures).toEqual([signature]);
      expect(archived).toEqual([sbom]);
      expect(any).toEqual([signature, sbom, attestation]);
    });

    it('pages 20 referrers at a time by default and maxResults at a time when given', async () => {
      // Prepare
      const subject = await putManifest(subjectManifest, 'v1');
      const expected: string[] = [];
      for (let i = 0; i < 45; i++) expected.push(await putManifest(referrer(`r${i}`, ARTIFACT_TYPES.cosignSignature)));
      const readAll = async (maxResults?: number) => {
        const pages: string[][] = [];
        let nextToken: string | undefined;
        do {
          const page = await listReferrers({ subjectId: { imageDigest: subject }, maxResults, nextToken });
          pages.push((page.referrers ?? []).map((r) => r.digest as string));
          nextToken = page.nextToken;
        } while (nextToken);
        return pages;
      };
      // Act
      const byDefault = await readAll();
      const byFifty = await readAll(50);
      // Assess
      expect(byDefault.map((page) => page.length)).toEqual([20, 20, 5]);
      expect(byDefault.flat()).toEqual(expected);
      expect(byFifty).toEqual([expected]);
    });

    it('rejects maxResults 0 and 51, six artifact types and a bad status with InvalidParameterException', async () => {
      // Prepare
      const subjectId = { imageDigest: MISSING_DIGEST };
      const six = Array.from({ length: 6 }, (_, i) => `application/x-${i}`);
      // Act
      const errors = await Promise.all([
        failureOf(listReferrers({ subjectId, maxResults: 0 })),
        failureOf(listReferrers({ subjectId, maxResults: 51 })),
        failureOf(listReferrers({ subjectId, filter: { artifactTypes: six } })),
        rawEcrRequest(
          server,
          'ListImageReferrers',
          JSON.stringify({ repositoryName: REPO, subjectId, filter: { artifactStatus: 'GONE' } }),
        ).then((response) => ({ name: response.body.__type })),
      ]);
      // Assess
      for (const error of errors) expect(error).toMatchObject({ name: 'InvalidParameterException' });
    });

    it('requires subjectId with an imageDigest', async () => {
      // Act
      const responses = await Promise.all([
        rawEcrRequest(server, 'ListImageReferrers', JSON.stringify({ repositoryName: REPO })),
        rawEcrRequest(server, 'ListImageReferrers', JSON.stringify({ repositoryName: REPO, subjectId: {} })),
        rawEcrRequest(server, 'ListImageReferrers', JSON.stringify({ repositoryName: REPO, subjectId: 'sha256:x' })),
      ]);
      // Assess
      expect(responses.map((response) => response.body.__type)).toEqual([
        'InvalidParameterException',
        'InvalidParameterException',
        'SerializationException',
      ]);
    });

    it('answers RepositoryNotFoundException for an unknown repository', async () => {
      // Act
      const error = await failureOf(
        client.send(
          new ListImageReferrersCommand({ repositoryName: 'team/nope', subjectId: { imageDigest: MISSING_DIGEST } }),
        ),
      );
      // Assess
      expect(error).toMatchObject({ name: 'RepositoryNotFoundException' });
    });
  });
});
