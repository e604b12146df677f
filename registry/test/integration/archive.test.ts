import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  type ECRClient,
  ListImagesCommand,
  PutImageCommand,
  StartImageScanCommand,
  UpdateImageStorageClassCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildImageManifest, buildIndexManifest, describeManifest, sha256 } from '../../src/model/manifests.ts';
import { declareBlobs, ecrClient, failureOf, startTestRegistry } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';
import { loginHeader, RegistryApi } from './registry-api-client.ts';

const REPO = 'team/app';
const RESTORE_MS = 20 * 60_000;

describe('the archive storage class: UpdateImageStorageClass, imageStatus, and what an archived image refuses', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry({ restoreDurationMs: RESTORE_MS });
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    await client.send(new CreateRepositoryCommand({ repositoryName: REPO }));
  });

  const push = async (manifest: string, tag?: string) => {
    await declareBlobs(server, REPO, manifest);
    await client.send(new PutImageCommand({ repositoryName: REPO, imageManifest: manifest, imageTag: tag }));
    return sha256(manifest);
  };
  const storage = (imageDigest: string, targetStorageClass: 'ARCHIVE' | 'STANDARD') =>
    client.send(
      new UpdateImageStorageClassCommand({ repositoryName: REPO, imageId: { imageDigest }, targetStorageClass }),
    );
  const detailOf = async (imageDigest: string) =>
    (await client.send(new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageDigest }] })))
      .imageDetails?.[0];
  const listed = async (imageStatus?: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING' | 'ANY') =>
    (
      await client.send(
        new DescribeImagesCommand({ repositoryName: REPO, ...(imageStatus ? { filter: { imageStatus } } : {}) }),
      )
    ).imageDetails?.map((detail) => detail.imageDigest);

  it('archives at once, lists the image only when the filter asks, and refuses to pull or scan it', async () => {
    // Prepare
    const manifest = buildImageManifest({ seed: 'archived' });
    const digest = await push(manifest, 'v1');
    const kept = await push(buildImageManifest({ seed: 'kept' }), 'v2');
    // Act
    const answer = await storage(digest, 'ARCHIVE');
    // Assess
    expect(answer).toMatchObject({ repositoryName: REPO, imageId: { imageDigest: digest }, imageStatus: 'ARCHIVED' });
    const event = server.bus.events.find(
      (candidate) =>
        candidate['detail-type'] === 'ECR Image Action' &&
        (candidate.detail as Record<string, unknown>)['action-type'] === 'UPDATE_STORAGE_CLASS',
    );
    expect(event?.detail).toMatchObject({
      'action-type': 'UPDATE_STORAGE_CLASS',
      result: 'SUCCESS',
      'repository-name': REPO,
      'image-digest': digest,
      'image-tag': 'v1',
      'manifest-media-type': 'application/vnd.oci.image.manifest.v1+json',
      'target-storage-class': 'ARCHIVE',
    });
    expect(await listed()).toEqual([kept]);
    expect(await listed('ARCHIVED')).toEqual([digest]);
    expect(await listed('ANY')).toEqual([digest, kept]);
    const listing = await client.send(
      new ListImagesCommand({ repositoryName: REPO, filter: { imageStatus: 'ARCHIVED' } }),
    );
    expect(listing.imageIds).toEqual([{ imageDigest: digest, imageTag: 'v1' }]);
    const detail = await detailOf(digest);
    expect(detail?.imageStatus).toBe('ARCHIVED');
    expect(Math.abs((detail?.lastArchivedAt?.getTime() ?? 0) - server.now())).toBeLessThan(10_000);
    expect(detail?.lastActivatedAt).toBeUndefined();
    const pulled = await client.send(
      new BatchGetImageCommand({ repositoryName: REPO, imageIds: [{ imageDigest: digest }] }),
    );
    expect(pulled.images).toEqual([]);
    expect(pulled.failures?.[0]).toMatchObject({ failureCode: 'ImageNotFound' });
    const scan = await failureOf(
      client.send(new StartImageScanCommand({ repositoryName: REPO, imageId: { imageDigest: digest } })),
    );
    expect(scan).toMatchObject({ name: 'ImageArchivedException' });
    const api = new RegistryApi(server, await loginHeader(client));
    const v2 = await api.request('GET', `/v2/${REPO}/manifests/v1`, {
      headers: { accept: describeManifest(manifest).mediaType },
    });
    expect(v2.status).toBe(404);
    expect(v2.codes).toEqual(['MANIFEST_UNKNOWN']);
  });

  it('restores through ACTIVATING, which ends when the registry clock has moved on by the restore duration', async () => {
    // Prepare
    const digest = await push(buildImageManifest({ seed: 'restored' }), 'v1');
    await storage(digest, 'ARCHIVE');
    // Act
    const restoring = await storage(digest, 'STANDARD');
    const during = await detailOf(digest);
    const listedDuring = await listed('ACTIVATING');
    const pulledDuring = await client.send(
      new BatchGetImageCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }] }),
    );
    server.advanceClock(RESTORE_MS - 1_000);
    const almost = await detailOf(digest);
    server.advanceClock(1_000);
    const after = await detailOf(digest);
    const pulledAfter = await client.send(
      new BatchGetImageCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }] }),
    );
    // Assess
    expect(restoring.imageStatus).toBe('ACTIVATING');
    expect(during?.imageStatus).toBe('ACTIVATING');
    expect(listedDuring).toEqual([digest]);
    expect(await listed('ACTIVATING')).toEqual([]);
    expect(pulledDuring.failures?.[0]?.failureCode).toBe('ImageNotFound');
    expect(almost?.imageStatus).toBe('ACTIVATING');
    expect(after?.imageStatus).toBe('ACTIVE');
    expect(after?.lastActivatedAt).toBeInstanceOf(Date);
    expect((after?.lastActivatedAt?.getTime() ?? 0) - (after?.lastArchivedAt?.getTime() ?? 0)).toBeGreaterThanOrEqual(
      RESTORE_MS - 1_000,
    );
    expect(pulledAfter.images).toHaveLength(1);
    expect(await listed()).toEqual([digest]);
  });

  it('keeps an image an active index lists in standard storage until the index is archived', async () => {
    // Prepare
    const amdManifest = buildImageManifest({ seed: 'multi', architecture: 'amd64' });
    const armManifest = buildImageManifest({ seed: 'multi', architecture: 'arm64' });
    const amd = await push(amdManifest);
    const arm = await push(armManifest);
    const index = await push(
      buildIndexManifest([
        describeManifest(amdManifest, { platform: { architecture: 'amd64', os: 'linux' } }),
        describeManifest(armManifest, { platform: { architecture: 'arm64', os: 'linux' } }),
      ]),
      'multi',
    );
    // Act
    const refused = await failureOf(storage(amd, 'ARCHIVE'));
    await storage(index, 'ARCHIVE');
    const child = await storage(amd, 'ARCHIVE');
    // Assess
    expect(refused).toMatchObject({
      name: 'ImageStorageClassUpdateNotSupportedException',
      message: expect.stringContaining(index),
    });
    expect(child.imageStatus).toBe('ARCHIVED');
    expect((await detailOf(arm))?.imageStatus).toBe('ACTIVE');
  });

  it('restores an archived image at once when it is pushed again, and refuses what ECR refuses', async () => {
    // Prepare
    const manifest = buildImageManifest({ seed: 'pushed-again' });
    const digest = await push(manifest, 'v1');
    await storage(digest, 'ARCHIVE');
    // Act
    await client.send(new PutImageCommand({ repositoryName: REPO, imageManifest: manifest, imageTag: 'v1' }));
    const detail = await detailOf(digest);
    const archivedAgain = await storage(digest, 'ARCHIVE');
    const restoring = await storage(digest, 'STANDARD');
    const archiveWhileRestoring = await failureOf(storage(digest, 'ARCHIVE'));
    const badClass = await failureOf(
      client.send(
        new UpdateImageStorageClassCommand({
          repositoryName: REPO,
          imageId: { imageDigest: digest },
          targetStorageClass: 'GLACIER' as 'ARCHIVE',
        }),
      ),
    );
    const missing = await failureOf(storage(`sha256:${'0'.repeat(64)}`, 'ARCHIVE'));
    // Assess
    expect(detail).toMatchObject({ imageStatus: 'ACTIVE', lastActivatedAt: expect.any(Date) });
    expect(archivedAgain.imageStatus).toBe('ARCHIVED');
    expect(restoring.imageStatus).toBe('ACTIVATING');
    expect(archiveWhileRestoring).toMatchObject({ name: 'ImageStorageClassUpdateNotSupportedException' });
    expect(badClass).toMatchObject({ name: 'InvalidParameterException' });
    expect(missing).toMatchObject({ name: 'ImageNotFoundException' });
  });
});
