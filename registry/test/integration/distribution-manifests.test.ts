import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  CreateRepositoryCreationTemplateCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  type ECRClient,
  PutImageCommand,
  PutReplicationConfigurationCommand,
  RegisterPullTimeUpdateExclusionCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ARTIFACT_TYPES, EMPTY_CONFIG, MEDIA_TYPES } from '../../src/model/manifests.ts';
import { ecrClient, failureOf, startTestRegistry, TEST_ACCOUNT } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';
import { digestOf, loginHeader, ociManifest, RegistryApi } from './registry-api-client.ts';

const REPO = 'team/app';

describe('registry API (/v2/): manifests, tags and referrers', () => {
  let server: RegistryServer;
  let client: ECRClient;
  let api: RegistryApi;

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
    api = new RegistryApi(server, await loginHeader(client));
  });

  const imageActions = () =>
    server.bus.events
      .filter((event) => event['detail-type'] === 'ECR Image Action')
      .map((event) => event.detail as Record<string, unknown>);
  const pushes = () => imageActions().filter((detail) => detail['action-type'] === 'PUSH');
  const describeImage = async (imageDigest: string, repositoryName = REPO) => {
    const { imageDetails = [] } = await client.send(
      new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest }] }),
    );
    return imageDetails[0];
  };

  describe('push and pull', () => {
    it('stores a pushed manifest byte for byte, as DescribeImages then lists it', async () => {
      // Act
      const { manifest, digest, response } = await api.pushImage(REPO, 'v1', 'one');
      const detail = await describeImage(digest);
      // Assess
      expect(response.status).toBe(201);
      expect(response.headers.get('location')).toBe(`/v2/${REPO}/manifests/${digest}`);
      expect(response.headers.get('docker-content-digest')).toBe(digest);
      expect(response.headers.get('oci-subject')).toBeNull();
      expect(detail?.imageTags).toEqual(['v1']);
      expect(detail?.imageManifestMediaType).toBe(MEDIA_TYPES.ociManifest);
      expect(detail?.artifactMediaType).toBe(MEDIA_TYPES.ociConfig);
      const parsed = JSON.parse(manifest) as { config: { size: number }; layers: { size: number }[] };
      expect(detail?.imageSizeInBytes).toBe(parsed.config.size + (parsed.layers[0]?.size ?? 0));
      expect(pushes().map((detail) => detail['image-tag'])).toEqual(['v1']);
    });

    it('serves a manifest by tag and by digest; GET records a pull, HEAD does not', async () => {
      // Prepare
      const { manifest, digest } = await api.pushImage(REPO, 'v1', 'one');
      // Act
      const head = await api.request('HEAD', `/v2/${REPO}/manifests/v1`);
      const afterHead = (await describeImage(digest))?.lastRecordedPullTime;
      const byTag = await api.request('GET', `/v2/${REPO}/manifests/v1`, {
        headers: { accept: `${MEDIA_TYPES.dockerManifest}, ${MEDIA_TYPES.ociManifest}` },
      });
      const byDigest = await api.request('GET', `/v2/${REPO}/manifests/${digest}`);
      const afterGet = (await describeImage(digest))?.lastRecordedPullTime;
      // Assess
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(manifest)));
      expect(head.headers.get('docker-content-digest')).toBe(digest);
      expect(head.headers.get('content-type')).toBe(MEDIA_TYPES.ociManifest);
      expect(afterHead).toBeUndefined();
      expect(byTag.body.toString('utf8')).toBe(manifest);
      expect(byTag.headers.get('content-type')).toBe(MEDIA_TYPES.ociManifest);
      expect(byDigest.body.toString('utf8')).toBe(manifest);
      expect(afterGet).toBeInstanceOf(Date);
    });

    it('does not record a pull by a principal on the pull-time update exclusion list', async () => {
      // Prepare
      const { digest } = await api.pushImage(REPO, 'v1', 'one');
      await client.send(
        new RegisterPullTimeUpdateExclusionCommand({ principalArn: 'arn:aws:iam::123456789012:role/cleanup' }),
      );
      const automation = new RegistryApi(server, await loginHeader(ecrClient(server, { account: 'cleanup' })));
      // Act
      const pulled = await automation.request('GET', `/v2/${REPO}/manifests/v1`);
      // Assess
      expect(pulled.status).toBe(200);
      expect((await describeImage(digest))?.lastRecordedPullTime).toBeUndefined();
    });

    it('answers MANIFEST_UNKNOWN for an unknown reference or a type the Accept header refuses', async () => {
      // Prepare
      await api.pushImage(REPO, 'v1', 'one');
      // Act
      const unknownTag = await api.request('GET', `/v2/${REPO}/manifests/v9`);
      const unknownDigest = await api.request('GET', `/v2/${REPO}/manifests/${digestOf('none')}`);
      const dockerOnly = await api.request('GET', `/v2/${REPO}/manifests/v1`, {
        headers: { accept: MEDIA_TYPES.dockerManifest },
      });
      const anything = await api.request('GET', `/v2/${REPO}/manifests/v1`, { headers: { accept: '*/*' } });
      // Assess
      expect([unknownTag, unknownDigest, dockerOnly].map((r) => [r.status, r.codes])).toEqual([
        [404, ['MANIFEST_UNKNOWN']],
        [404, ['MANIFEST_UNKNOWN']],
        [404, ['MANIFEST_UNKNOWN']],
      ]);
      expect(anything.status).toBe(200);
    });

    it('answers a second push of the same manifest and tag with 201 and no second PUSH event', async () => {
      // Prepare
      const { manifest, digest } = await api.pushImage(REPO, 'v1', 'one');
      // Act
      const again = await api.pushManifest(REPO, 'v1', manifest);
      const byDigest = await api.pushManifest(REPO, digest, manifest);
      const newTag = await api.pushManifest(REPO, 'latest', manifest);
      // Assess
      expect([again.status, byDigest.status, newTag.status]).toEqual([201, 201, 201]);
      expect(again.headers.get('docker-content-digest')).toBe(digest);
      expect(pushes().map((detail) => detail['image-tag'])).toEqual(['v1', 'latest']);
      expect((await describeImage(digest))?.imageTags).toEqual(['v1', 'latest']);
    });

    it('pushes an index whose children are in the repository, refuses one whose children are not, and keeps listed children', async () => {
      // Prepare
      const amd = await api.pushImage(REPO, 'amd', 'amd');
      const arm = await api.pushImage(REPO, 'arm', 'arm');
      const descriptor = (child: { manifest: string; digest: string }, architecture: string) => ({
        mediaType: MEDIA_TYPES.ociManifest,
        digest: child.digest,
        size: Buffer.byteLength(child.manifest),
        platform: { architecture, os: 'linux' },
      });
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [descriptor(amd, 'amd64'), descriptor(arm, 'arm64')],
      });
      const broken = JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: digestOf('absent'), size: 10 }],
      });
      // Act
      const pushed = await api.pushManifest(REPO, 'multi', index, MEDIA_TYPES.ociIndex);
      const refused = await api.pushManifest(REPO, 'broken', broken, MEDIA_TYPES.ociIndex);
      const pulled = await api.request('GET', `/v2/${REPO}/manifests/multi`, {
        headers: { accept: MEDIA_TYPES.ociIndex },
      });
      const childDeleted = await api.request('DELETE', `/v2/${REPO}/manifests/${amd.digest}`);
      // Assess
      expect(childDeleted.status).toBe(409);
      expect(childDeleted.codes).toEqual(['DENIED']);
      expect(pushed.status).toBe(201);
      expect(pulled.headers.get('content-type')).toBe(MEDIA_TYPES.ociIndex);
      expect(pulled.body.toString()).toBe(index);
      expect(refused.status).toBe(400);
      expect(refused.codes).toEqual(['MANIFEST_BLOB_UNKNOWN']);
      expect((await describeImage(digestOf(index)))?.imageSizeInBytes).toBeGreaterThan(0);
    });
  });

  describe('push errors', () => {
    it('maps PutImage’s refusals to the OCI codes and stores nothing', async () => {
      // Prepare
      const config = await api.pushBlob(REPO, '{"architecture":"amd64","os":"linux"}');
      const missingLayer = ociManifest(config, 37, digestOf('not uploaded'), 10);
      const good = ociManifest(config, 37, config, 37);
      // Act
      const missing = await api.pushManifest(REPO, 'v1', missingLayer);
      const notJson = await api.pushManifest(REPO, 'v1', '{"schemaVersion": 2,');
      const unknownType = await api.pushManifest(
        REPO,
        'v1',
        JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.example+json' }),
        'application/vnd.example+json',
      );
      const untyped = await api.pushManifest(REPO, 'v1', JSON.stringify({ schemaVersion: 2 }), 'application/json');
      const wrongDigest = await api.pushManifest(REPO, digestOf('something else'), good);
      const badTag = await api.pushManifest(REPO, '-bad', good);
      const longTag = await api.pushManifest(REPO, 'a'.repeat(301), good);
      const notUtf8 = await api.request('PUT', `/v2/${REPO}/manifests/v1`, {
        headers: { 'content-type': MEDIA_TYPES.ociManifest },
        body: Buffer.from([0x7b, 0xff, 0x7d]),
      });
      // Assess
      expect(
        [missing, notJson, unknownType, untyped, wrongDigest, badTag, longTag, notUtf8].map((r) => [r.status, r.codes]),
      ).toEqual([
        [400, ['MANIFEST_BLOB_UNKNOWN']],
        [400, ['MANIFEST_INVALID']],
        [400, ['MANIFEST_INVALID']],
        [400, ['MANIFEST_INVALID']],
        [400, ['DIGEST_INVALID']],
        [400, ['TAG_INVALID']],
        [400, ['TAG_INVALID']],
        [400, ['MANIFEST_INVALID']],
      ]);
      const { imageDetails = [] } = await client.send(new DescribeImagesCommand({ repositoryName: REPO }));
      expect(imageDetails).toEqual([]);
      expect(pushes()).toEqual([]);
    });

    it('refuses to move an immutable tag with TAG_INVALID and ECR’s message', async () => {
      // Prepare
      await client.send(new CreateRepositoryCommand({ repositoryName: 'team/fixed', imageTagMutability: 'IMMUTABLE' }));
      await api.pushImage('team/fixed', 'v1', 'one');
      // Act
      const moved = await api.pushImage('team/fixed', 'v1', 'two');
      // Assess
      expect(moved.response.status).toBe(400);
      expect(moved.response.codes).toEqual(['TAG_INVALID']);
      expect(moved.response.json<{ errors: { message: string }[] }>().errors[0]?.message).toBe(
        "The image tag 'v1' already exists in the 'team/fixed' repository and cannot be overwritten because the tag is immutable.",
      );
    });

    it('refuses a manifest larger than ECR’s 4 MiB with 413', async () => {
      // Act
      const huge = await api.pushManifest(REPO, 'v1', `{"pad":"${'x'.repeat(4_194_304)}"}`);
      // Assess
      expect(huge.status).toBe(413);
      expect(huge.codes).toEqual(['MANIFEST_INVALID']);
    });

    it('creates no repository on push (NAME_UNKNOWN) unless a CREATE_ON_PUSH creation template matches', async () => {
      // Prepare
      const before = await api.request('POST', '/v2/auto/app/blobs/uploads/');
      await client.send(
        new CreateRepositoryCreationTemplateCommand({
          prefix: 'auto',
          appliedFor: ['CREATE_ON_PUSH'],
          imageTagMutability: 'IMMUTABLE',
        }),
      );
      await client.send(
        new CreateRepositoryCreationTemplateCommand({ prefix: 'replicated', appliedFor: ['REPLICATION'] }),
      );
      // Act
      const { response } = await api.pushImage('auto/app', 'v1', 'one');
      const notForPush = await api.request('POST', '/v2/replicated/app/blobs/uploads/');
      // Assess
      expect(before.status).toBe(404);
      expect(before.codes).toEqual(['NAME_UNKNOWN']);
      expect(response.status).toBe(201);
      const { repositories = [] } = await client.send(
        new DescribeRepositoriesCommand({ repositoryNames: ['auto/app'] }),
      );
      expect(repositories[0]?.imageTagMutability).toBe('IMMUTABLE');
      expect(notForPush.codes).toEqual(['NAME_UNKNOWN']);
    });
  });

  describe('one state with the ECR API', () => {
    it('pulls over /v2/ an image PutImage stored on blobs uploaded over /v2/', async () => {
      // Prepare
      const config = await api.pushBlob(REPO, '{"os":"linux"}');
      const layer = await api.pushBlob(REPO, 'layer bytes');
      const manifest = ociManifest(config, 14, layer, 11);
      await client.send(new PutImageCommand({ repositoryName: REPO, imageManifest: manifest, imageTag: 'v1' }));
      // Act
      const pulled = await api.request('GET', `/v2/${REPO}/manifests/v1`);
      const blob = await api.request('GET', `/v2/${REPO}/blobs/${layer}`);
      // Assess
      expect(pulled.body.toString()).toBe(manifest);
      expect(blob.body.toString()).toBe('layer bytes');
    });

    it('scans a pushed image on push and replicates it, pullable over /v2/ in the destination region', async () => {
      // Prepare
      await client.send(
        new CreateRepositoryCommand({
          repositoryName: 'team/scanned',
          imageScanningConfiguration: { scanOnPush: true },
        }),
      );
      await client.send(
        new PutReplicationConfigurationCommand({
          replicationConfiguration: { rules: [{ destinations: [{ region: 'eu-west-1', registryId: TEST_ACCOUNT }] }] },
        }),
      );
      const replicaApi = new RegistryApi(server, await loginHeader(ecrClient(server, { region: 'eu-west-1' })));
      // Act
      const { digest, layer } = await api.pushImage('team/scanned', 'v1', 'scanned');
      const scan = await client.send(
        new DescribeImageScanFindingsCommand({ repositoryName: 'team/scanned', imageId: { imageDigest: digest } }),
      );
      const replicaManifest = await replicaApi.request('GET', '/v2/team/scanned/manifests/v1');
      const replicaLayer = await replicaApi.request('GET', `/v2/team/scanned/blobs/${layer}`);
      // Assess
      expect(scan.imageScanStatus?.status).toMatch(/IN_PROGRESS|COMPLETE/);
      expect(replicaManifest.status).toBe(200);
      expect(replicaManifest.headers.get('docker-content-digest')).toBe(digest);
      expect(replicaLayer.body.toString()).toBe('layer of scanned'.repeat(100));
    });

    it('forgets an image BatchDeleteImage deleted', async () => {
      // Prepare
      const { digest } = await api.pushImage(REPO, 'v1', 'one');
      // Act
      await client.send(new BatchDeleteImageCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }] }));
      const byTag = await api.request('GET', `/v2/${REPO}/manifests/v1`);
      const byDigest = await api.request('HEAD', `/v2/${REPO}/manifests/${digest}`);
      // Assess
      expect(byTag.codes).toEqual(['MANIFEST_UNKNOWN']);
      expect(byDigest.status).toBe(404);
    });

    it('deletes a manifest by digest as BatchDeleteImage does, and refuses a delete by tag', async () => {
      // Prepare
      const { digest } = await api.pushImage(REPO, 'v1', 'one');
      // Act
      const byTag = await api.request('DELETE', `/v2/${REPO}/manifests/v1`);
      const byDigest = await api.request('DELETE', `/v2/${REPO}/manifests/${digest}`);
      const again = await api.request('DELETE', `/v2/${REPO}/manifests/${digest}`);
      // Assess
      expect(byTag.status).toBe(405);
      expect(byTag.codes).toEqual(['UNSUPPORTED']);
      expect(byDigest.status).toBe(202);
      expect(again.codes).toEqual(['MANIFEST_UNKNOWN']);
      const error = await failureOf(
        client.send(new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageDigest: digest }] })),
      );
      expect((error as Error).name).toBe('ImageNotFoundException');
      expect(imageActions().some((detail) => detail['action-type'] === 'DELETE')).toBe(true);
    });
  });

  describe('tags list', () => {
    it('lists tags in ASCII order, paged by n and last with a Link to the next page', async () => {
      // Prepare
      const { manifest } = await api.pushImage(REPO, 'b', 'one');
      for (const tag of ['a', 'C', 'c', 'latest']) await api.pushManifest(REPO, tag, manifest);
      // Act
      const all = await api.request('GET', `/v2/${REPO}/tags/list`);
      const first = await api.request('GET', `/v2/${REPO}/tags/list?n=2`);
      const next = first.headers.get('link')?.match(/^<([^>]+)>; rel="next"$/)?.[1] ?? '';
      const second = await api.request('GET', next);
      const last = await api.request('GET', `/v2/${REPO}/tags/list?n=10&last=c`);
      const none = await api.request('GET', `/v2/${REPO}/tags/list?n=0`);
      const badN = await api.request('GET', `/v2/${REPO}/tags/list?n=-1`);
      // Assess
      expect(all.json()).toEqual({ name: REPO, tags: ['C', 'a', 'b', 'c', 'latest'] });
      expect(all.headers.get('link')).toBeNull();
      expect(first.json()).toEqual({ name: REPO, tags: ['C', 'a'] });
      expect(next).toBe(`/v2/${REPO}/tags/list?n=2&last=a`);
      expect(second.json()).toEqual({ name: REPO, tags: ['b', 'c'] });
      expect(last.json()).toEqual({ name: REPO, tags: ['latest'] });
      expect(last.headers.get('link')).toBeNull();
      expect(none.json()).toEqual({ name: REPO, tags: [] });
      expect(none.headers.get('link')).toBeNull();
      expect(badN.status).toBe(400);
    });
  });

  describe('referrers', () => {
    it('answers OCI-Subject on push and lists referrers with artifactType and annotations, filtered on demand', async () => {
      // Prepare
      const subject = await api.pushImage(REPO, 'v1', 'subject');
      const empty = await api.pushBlob(REPO, '{}');
      const payload = await api.pushBlob(REPO, 'signature payload');
      const referrer = (artifactType: string, note: string) =>
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.ociManifest,
          artifactType,
          config: EMPTY_CONFIG,
          layers: [{ mediaType: artifactType, digest: payload, size: 17 }],
          subject: { mediaType: MEDIA_TYPES.ociManifest, digest: subject.digest, size: subject.manifest.length },
          annotations: { note },
        });
      const signature = referrer(ARTIFACT_TYPES.cosignSignature, 'signed');
      const sbom = referrer(ARTIFACT_TYPES.spdxSbom, 'sbom');
      // Act
      const pushed = await api.pushManifest(REPO, digestOf(signature), signature);
      await api.pushManifest(REPO, digestOf(sbom), sbom);
      const all = await api.request('GET', `/v2/${REPO}/referrers/${subject.digest}`);
      const filtered = await api.request(
        'GET',
        `/v2/${REPO}/referrers/${subject.digest}?artifactType=${encodeURIComponent(ARTIFACT_TYPES.spdxSbom)}`,
      );
      const none = await api.request('GET', `/v2/${REPO}/referrers/${digestOf('no subject')}`);
      const invalid = await api.request('GET', `/v2/${REPO}/referrers/sha256:zz`);
      // Assess
      expect(empty).toBe(EMPTY_CONFIG.digest);
      expect(pushed.status).toBe(201);
      expect(pushed.headers.get('oci-subject')).toBe(subject.digest);
      expect(all.headers.get('content-type')).toBe(MEDIA_TYPES.ociIndex);
      expect(all.headers.get('oci-filters-applied')).toBeNull();
      expect(all.json()).toEqual({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [
          {
            mediaType: MEDIA_TYPES.ociManifest,
            digest: digestOf(signature),
            size: Buffer.byteLength(signature),
            artifactType: ARTIFACT_TYPES.cosignSignature,
            annotations: { note: 'signed' },
          },
          {
            mediaType: MEDIA_TYPES.ociManifest,
            digest: digestOf(sbom),
            size: Buffer.byteLength(sbom),
            artifactType: ARTIFACT_TYPES.spdxSbom,
            annotations: { note: 'sbom' },
          },
        ],
      });
      expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
      expect(filtered.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest)).toEqual([
        digestOf(sbom),
      ]);
      expect(none.status).toBe(200);
      expect(none.json()).toEqual({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] });
      expect(invalid.status).toBe(400);
      expect(invalid.codes).toEqual(['DIGEST_INVALID']);
    });
  });
});
