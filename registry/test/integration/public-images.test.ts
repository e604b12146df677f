import { createHash } from 'node:crypto';
import {
  CreateRepositoryCommand as CreatePrivateRepositoryCommand,
  InitiateLayerUploadCommand as InitiatePrivateLayerUploadCommand,
  UploadLayerPartCommand as UploadPrivateLayerPartCommand,
} from '@aws-sdk/client-ecr';
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeImageTagsCommand,
  DescribeRepositoriesCommand,
  type ECRPUBLICClient,
  GetRepositoryCatalogDataCommand,
  InitiateLayerUploadCommand,
  PutImageCommand,
  paginateDescribeImages,
  paginateDescribeImageTags,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr-public';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoFixture } from '../../src/control/demo.ts';
import type { LoadedFixture } from '../../src/control/fixtures.ts';
import {
  control,
  ecrClient,
  ecrPublicClient,
  failureOf,
  rawPublicRequest,
  startTestRegistry,
} from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const nameOf = (error: unknown) => (error as { name?: string } | undefined)?.name;
const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** An OCI image manifest naming `config` and `layers` (their bytes). */
function manifestOf(config: Buffer, layers: Buffer[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: layers.map((layer) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: sha256(layer),
      size: layer.length,
    })),
  });
}

describe('ECR Public: pushing, reading and deleting the images of a repository', () => {
  let server: RegistryServer;
  let client: ECRPUBLICClient;

  /** Uploads `bytes` as one layer with the layer API; answers its digest. */
  const upload = async (bytes: Buffer, repositoryName = 'app') => {
    const { uploadId } = await client.send(new InitiateLayerUploadCommand({ repositoryName }));
    await client.send(
      new UploadLayerPartCommand({
        repositoryName,
        uploadId,
        partFirstByte: 0,
        partLastByte: bytes.length - 1,
        layerPartBlob: bytes,
      }),
    );
    const done = await client.send(
      new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha256(bytes)] }),
    );
    return done.layerDigest as string;
  };
  /** Pushes an image of fresh blobs with the layer API and PutImage. */
  const push = async (seed: string, imageTag?: string, repositoryName = 'app') => {
    const config = Buffer.from(`{"seed":"${seed}"}`);
    const layer = Buffer.from(`layer of ${seed}`);
    await upload(config, repositoryName);
    await upload(layer, repositoryName);
    const manifest = manifestOf(config, [layer]);
    await client.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag }));
    return { manifest, digest: sha256(manifest), config, layer };
  };
  const load = (fixture: Record<string, unknown>) =>
    control<LoadedFixture>(server, 'load', { repositories: [], ...fixture });

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrPublicClient(server);
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });
  beforeEach(async () => {
    await control(server, 'reset', {});
    await client.send(new CreateRepositoryCommand({ repositoryName: 'app' }));
  });

  describe('pushing', () => {
    it('pushes an image with the layer API and PutImage, and describes it, its tags and its layers', async () => {
      // Act
      const { manifest, digest, config, layer } = await push('one', 'v1');
      const put = await client.send(
        new PutImageCommand({ repositoryName: 'app', imageManifest: manifest, imageTag: 'latest' }),
      );
      const images = await client.send(new DescribeImagesCommand({ repositoryName: 'app' }));
      const tags = await client.send(new DescribeImageTagsCommand({ repositoryName: 'app' }));
      const layers = await client.send(
        new BatchCheckLayerAvailabilityCommand({
          repositoryName: 'app',
          layerDigests: [sha256(config), sha256(layer), DIGEST],
        }),
      );
      // Assess
      expect(put.image).toEqual({
        registryId: '123456789012',
        repositoryName: 'app',
        imageId: { imageDigest: digest, imageTag: 'latest' },
        imageManifest: manifest,
        imageManifestMediaType: OCI_MANIFEST,
      });
      expect(images.imageDetails).toHaveLength(1);
      const detail = images.imageDetails?.[0];
      expect(Object.keys(detail ?? {}).sort()).toEqual([
        'artifactMediaType',
        'imageDigest',
        'imageManifestMediaType',
        'imagePushedAt',
        'imageSizeInBytes',
        'imageTags',
        'registryId',
        'repositoryName',
      ]);
      expect(detail).toMatchObject({
        imageDigest: digest,
        imageTags: ['v1', 'latest'],
        imageSizeInBytes: config.length + layer.length,
        imageManifestMediaType: OCI_MANIFEST,
        artifactMediaType: 'application/vnd.oci.image.config.v1+json',
      });
      expect(detail?.imagePushedAt).toBeInstanceOf(Date);
      expect(tags.imageTagDetails?.map((t) => t.imageTag)).toEqual(['v1', 'latest']);
      expect(tags.imageTagDetails?.[0]?.createdAt).toBeInstanceOf(Date);
      expect(tags.imageTagDetails?.[0]?.imageDetail).toEqual({
        imageDigest: digest,
        imageSizeInBytes: config.length + layer.length,
        imagePushedAt: detail?.imagePushedAt,
        imageManifestMediaType: OCI_MANIFEST,
        artifactMediaType: 'application/vnd.oci.image.config.v1+json',
      });
      expect(layers.layers?.map((l) => [l.layerDigest, l.layerAvailability, l.layerSize])).toEqual([
        [sha256(config), 'AVAILABLE', config.length],
        [sha256(layer), 'AVAILABLE', layer.length],
      ]);
      expect(layers.failures?.map((f) => f.failureCode)).toEqual(['MissingLayerDigest']);
    });

    it('moves a tag to the image pushed with it and dates the tag from then', async () => {
      // Arrange
      await push('one', 'latest');
      await control(server, 'clock', { advanceSeconds: 3600 });
      // Act
      const second = await push('two', 'latest');
      const tags = await client.send(new DescribeImageTagsCommand({ repositoryName: 'app' }));
      const images = await client.send(new DescribeImagesCommand({ repositoryName: 'app' }));
      // Assess
      expect(tags.imageTagDetails).toHaveLength(1);
      expect(tags.imageTagDetails?.[0]?.imageDetail?.imageDigest).toBe(second.digest);
      expect(tags.imageTagDetails?.[0]?.createdAt?.getTime()).toBe(images.imageDetails?.[1]?.imagePushedAt?.getTime());
      expect(images.imageDetails?.map((d) => d.imageTags)).toEqual([undefined, ['latest']]);
    });

    it("answers PutImage's exceptions, changing nothing", async () => {
      // Arrange
      const { manifest, digest, config } = await push('one', 'v1');
      const missingLayer = manifestOf(config, [Buffer.from('never uploaded')]);
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: DIGEST, size: 10 }],
      });
      const before = await client.send(new DescribeImagesCommand({ repositoryName: 'app' }));
      const put = (input: Partial<ConstructorParameters<typeof PutImageCommand>[0]>) =>
        failureOf(client.send(new PutImageCommand({ repositoryName: 'app', imageManifest: manifest, ...input })));
      // Act
      const again = await put({ imageTag: 'v1' });
      const againUntagged = await put({});
      const layers = await put({ imageManifest: missingLayer, imageTag: 'x' });
      const children = await put({ imageManifest: index, imageTag: 'x' });
      const mismatch = await put({ imageTag: 'x', imageDigest: DIGEST });
      const notJson = await put({ imageManifest: '{not json', imageTag: 'x' });
      const badTag = await put({ imageTag: '.bad' });
      const noRepository = await put({ repositoryName: 'nope' });
      const otherAlias = await put({ registryId: 'nosuchalias', imageTag: 'x' });
      const otherAccount = await put({ registryId: '210987654321', imageTag: 'x' });
      const after = await client.send(new DescribeImagesCommand({ repositoryName: 'app' }));
      // Assess
      expect(nameOf(again)).toBe('ImageAlreadyExistsException');
      expect((again as Error).message).toContain(digest);
      expect(nameOf(againUntagged)).toBe('ImageAlreadyExistsException');
      expect(nameOf(layers)).toBe('LayersNotFoundException');
      expect(nameOf(children)).toBe('ReferencedImagesNotFoundException');
      expect(nameOf(mismatch)).toBe('ImageDigestDoesNotMatchException');
      expect(nameOf(notJson)).toBe('InvalidParameterException');
      expect(nameOf(badTag)).toBe('InvalidParameterException');
      expect(nameOf(noRepository)).toBe('RepositoryNotFoundException');
      expect(nameOf(otherAlias)).toBe('RegistryNotFoundException');
      expect(nameOf(otherAccount)).toBe('AccessDeniedException');
      expect(after.imageDetails).toEqual(before.imageDetails);
    });

    it('takes the registry alias as registryId of the push operations', async () => {
      // Arrange
      const alias = server.publicRegistries.existing('123456789012')?.alias as string;
      const config = Buffer.from('{"alias":true}');
      // Act
      const { uploadId } = await client.send(
        new InitiateLayerUploadCommand({ registryId: alias, repositoryName: 'app' }),
      );
      const part = await client.send(
        new UploadLayerPartCommand({
          registryId: alias,
          repositoryName: 'app',
          uploadId,
          partFirstByte: 0,
          partLastByte: config.length - 1,
          layerPartBlob: config,
        }),
      );
      const done = await client.send(
        new CompleteLayerUploadCommand({
          registryId: alias,
          repositoryName: 'app',
          uploadId,
          layerDigests: [sha256(config)],
        }),
      );
      const put = await client.send(
        new PutImageCommand({ registryId: alias, repositoryName: 'app', imageManifest: manifestOf(config, []) }),
      );
      // Assess
      expect(part).toMatchObject({ registryId: '123456789012', repositoryName: 'app', uploadId, lastByteReceived: 13 });
      expect(done).toMatchObject({ registryId: '123456789012', uploadId, layerDigest: sha256(config) });
      expect(put.image?.imageId?.imageDigest).toBe(sha256(manifestOf(config, [])));
    });
  });

  describe('the layer upload', () => {
    it('takes a layer in several parts, those before the last of at least 5 MiB', async () => {
      // Arrange
      const first = Buffer.alloc(5 * 1024 * 1024, 7);
      const last = Buffer.from('the end');
      const whole = Buffer.concat([first, last]);
      const { uploadId, partSize } = await client.send(new InitiateLayerUploadCommand({ repositoryName: 'app' }));
      // Act
      const parts = [];
      for (const [bytes, at] of [
        [first, 0],
        [last, first.length],
      ] as const) {
        parts.push(
          await client.send(
            new UploadLayerPartCommand({
              repositoryName: 'app',
              uploadId,
              partFirstByte: at,
              partLastByte: at + bytes.length - 1,
              layerPartBlob: bytes,
            }),
          ),
        );
      }
      const done = await client.send(
        new CompleteLayerUploadCommand({ repositoryName: 'app', uploadId, layerDigests: [DIGEST, sha256(whole)] }),
      );
      const checked = await client.send(
        new BatchCheckLayerAvailabilityCommand({ repositoryName: 'app', layerDigests: [sha256(whole)] }),
      );
      // Assess
      expect(partSize).toBe(10 * 1024 * 1024);
      expect(parts.map((p) => p.lastByteReceived)).toEqual([first.length - 1, whole.length - 1]);
      expect(done.layerDigest).toBe(sha256(whole));
      expect(checked.layers?.[0]?.layerSize).toBe(whole.length);
      expect(server.registry.blobs.has(sha256(whole))).toBe(true);
    });

    it("answers CompleteLayerUpload's exceptions", async () => {
      // Arrange
      const start = async () =>
        (await client.send(new InitiateLayerUploadCommand({ repositoryName: 'app' }))).uploadId as string;
      const part = (uploadId: string, bytes: Buffer, first: number) =>
        client.send(
          new UploadLayerPartCommand({
            repositoryName: 'app',
            uploadId,
            partFirstByte: first,
            partLastByte: first + bytes.length - 1,
            layerPartBlob: bytes,
          }),
        );
      const complete = (uploadId: string, digest: string) =>
        failureOf(
          client.send(new CompleteLayerUploadCommand({ repositoryName: 'app', uploadId, layerDigests: [digest] })),
        );
      const bytes = Buffer.from('some layer');
      // Act
      const empty = await complete(await start(), sha256(bytes));
      const wrong = await start();
      await part(wrong, bytes, 0);
      const invalid = await complete(wrong, DIGEST);
      const gone = await complete(wrong, sha256(bytes));
      const small = await start();
      await part(small, Buffer.from('a'), 0);
      await part(small, Buffer.from('b'), 1);
      const tooSmall = await complete(small, sha256('ab'));
      await upload(bytes);
      const twice = await start();
      await part(twice, bytes, 0);
      const exists = await complete(twice, sha256(bytes));
      const unknown = await complete('00000000-0000-0000-0000-000000000000', sha256(bytes));
      const badId = await complete('not-a-uuid', sha256(bytes));
      // Assess
      expect(nameOf(empty)).toBe('EmptyUploadException');
      expect(nameOf(invalid)).toBe('InvalidLayerException');
      expect(nameOf(gone)).toBe('UploadNotFoundException');
      expect(nameOf(tooSmall)).toBe('LayerPartTooSmallException');
      expect(nameOf(exists)).toBe('LayerAlreadyExistsException');
      expect(nameOf(unknown)).toBe('UploadNotFoundException');
      expect(nameOf(badId)).toBe('InvalidParameterException');
    });

    it('answers a part out of order with InvalidLayerPartException and its members, and keeps uploads apart', async () => {
      // Arrange
      await client.send(new CreateRepositoryCommand({ repositoryName: 'other' }));
      const { uploadId } = await client.send(new InitiateLayerUploadCommand({ repositoryName: 'app' }));
      const send = (repositoryName: string, first: number) =>
        failureOf(
          client.send(
            new UploadLayerPartCommand({
              repositoryName,
              uploadId,
              partFirstByte: first,
              partLastByte: first + 2,
              layerPartBlob: Buffer.from('abc'),
            }),
          ),
        );
      const ecr = ecrClient(server);
      await ecr.send(new CreatePrivateRepositoryCommand({ repositoryName: 'app' }));
      const privateUpload = await ecr.send(new InitiatePrivateLayerUploadCommand({ repositoryName: 'app' }));
      // Act
      const ok = await send('app', 0);
      const gap = await send('app', 10);
      const otherRepository = await send('other', 3);
      const privateId = await failureOf(
        client.send(
          new UploadLayerPartCommand({
            repositoryName: 'app',
            uploadId: privateUpload.uploadId,
            partFirstByte: 0,
            partLastByte: 0,
            layerPartBlob: Buffer.from('a'),
          }),
        ),
      );
      const publicIdInPrivate = await failureOf(
        ecr.send(
          new UploadPrivateLayerPartCommand({
            repositoryName: 'app',
            uploadId,
            partFirstByte: 3,
            partLastByte: 3,
            layerPartBlob: Buffer.from('d'),
          }),
        ),
      );
      ecr.destroy();
      // Assess
      expect(ok).toBeUndefined();
      expect(nameOf(gap)).toBe('InvalidLayerPartException');
      expect(gap).toMatchObject({
        registryId: '123456789012',
        repositoryName: 'app',
        uploadId,
        lastValidByteReceived: 2,
      });
      expect(nameOf(otherRepository)).toBe('UploadNotFoundException');
      expect(nameOf(privateId)).toBe('UploadNotFoundException');
      expect(nameOf(publicIdInPrivate)).toBe('UploadNotFoundException');
    });
  });

  describe('listing', () => {
    const many = (count: number) =>
      load({
        publicRepositories: [
          {
            name: 'many',
            images: Array.from({ length: count }, (_, i) => ({
              id: `i${i}`,
              tags: i % 3 === 0 ? [] : i % 3 === 1 ? [`t${i}`] : [`t${i}`, `u${i}`],
              layerSizes: [100 + i],
            })),
          },
        ],
      });

    it('pages DescribeImages and DescribeImageTags with maxResults and nextToken, each once', async () => {
      // Arrange
      await many(250);
      // Act
      const imagePages: number[] = [];
      const digests: string[] = [];
      for await (const page of paginateDescribeImages({ client, pageSize: 100 }, { repositoryName: 'many' })) {
        imagePages.push(page.imageDetails?.length ?? 0);
        digests.push(...(page.imageDetails ?? []).map((d) => d.imageDigest as string));
      }
      const tagPages: number[] = [];
      const tags: string[] = [];
      for await (const page of paginateDescribeImageTags({ client, pageSize: 7 }, { repositoryName: 'many' })) {
        tagPages.push(page.imageTagDetails?.length ?? 0);
        tags.push(...(page.imageTagDetails ?? []).map((t) => t.imageTag as string));
      }
      const firstPage = await client.send(new DescribeImagesCommand({ repositoryName: 'many' }));
      const oneTag = await client.send(new DescribeImageTagsCommand({ repositoryName: 'many', maxResults: 1 }));
      const lastTags = await client.send(new DescribeImageTagsCommand({ repositoryName: 'many', maxResults: 1000 }));
      // Assess
      expect(imagePages).toEqual([100, 100, 50]);
      expect(new Set(digests).size).toBe(250);
      expect(tags).toHaveLength(83 + 83 * 2);
      expect(new Set(tags).size).toBe(tags.length);
      expect(tagPages.every((n) => n <= 7)).toBe(true);
      expect(firstPage.imageDetails).toHaveLength(100);
      expect(firstPage.nextToken).toBeTruthy();
      expect(oneTag.imageTagDetails?.map((t) => t.imageTag)).toEqual(['t1']);
      expect(lastTags.nextToken).toBeUndefined();
    });

    it('describes images by id, once per image, and refuses a missing or malformed id', async () => {
      // Arrange
      const loaded = await many(4);
      const [first, second] = loaded.images;
      // Act
      const byIds = await client.send(
        new DescribeImagesCommand({
          repositoryName: 'many',
          imageIds: [{ imageDigest: second?.imageDigest }, { imageTag: 't1' }, { imageDigest: first?.imageDigest }],
        }),
      );
      const missing = await failureOf(
        client.send(new DescribeImagesCommand({ repositoryName: 'many', imageIds: [{ imageDigest: DIGEST }] })),
      );
      const mismatch = await failureOf(
        client.send(
          new DescribeImagesCommand({
            repositoryName: 'many',
            imageIds: [{ imageDigest: first?.imageDigest, imageTag: 't1' }],
          }),
        ),
      );
      const malformed = await failureOf(
        client.send(new DescribeImagesCommand({ repositoryName: 'many', imageIds: [{ imageDigest: 'sha256:xyz' }] })),
      );
      // Assess
      expect(byIds.imageDetails?.map((d) => d.imageDigest)).toEqual([second?.imageDigest, first?.imageDigest]);
      expect(nameOf(missing)).toBe('ImageNotFoundException');
      expect(nameOf(mismatch)).toBe('ImageNotFoundException');
      expect(nameOf(malformed)).toBe('InvalidParameterException');
    });

    it('refuses maxResults out of 1–1,000, paging with ids, a forged token and an unknown repository', async () => {
      // Act
      const calls = [
        client.send(new DescribeImagesCommand({ repositoryName: 'app', maxResults: 0 })),
        client.send(new DescribeImagesCommand({ repositoryName: 'app', maxResults: 1001 })),
        client.send(new DescribeImageTagsCommand({ repositoryName: 'app', maxResults: 0 })),
        client.send(new DescribeImageTagsCommand({ repositoryName: 'app', maxResults: 1001 })),
        client.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'x' }], maxResults: 5 })),
        client.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds: [] })),
        client.send(new DescribeImagesCommand({ repositoryName: 'app', nextToken: 'x.y' })),
        client.send(new DescribeImageTagsCommand({ repositoryName: 'app', nextToken: 'x.y' })),
      ];
      const failures = await Promise.all(calls.map(failureOf));
      const unknown = await failureOf(client.send(new DescribeImageTagsCommand({ repositoryName: 'nope' })));
      // Assess
      expect(failures.map(nameOf)).toEqual(Array(calls.length).fill('InvalidParameterException'));
      expect(nameOf(unknown)).toBe('RepositoryNotFoundException');
    });
  });

  describe('deleting', () => {
    const graph = () =>
      load({
        publicRepositories: [
          {
            name: 'graph',
            images: [
              { id: 'amd64', architecture: 'amd64' },
              { id: 'arm64', architecture: 'arm64' },
              { id: 'index', kind: 'index', children: ['amd64', 'arm64'], tags: ['v1', 'latest'] },
              { id: 'sig', tagConvention: { subject: 'index', suffix: '.sig' } },
              { id: 'sbom', kind: 'sbom', subject: 'index' },
              { id: 'old', tags: ['old'], pushedAt: '-400d' },
            ],
          },
        ],
      });

    it('deletes by tag and by digest, refuses an index child, reports a failure per id, and keeps the blobs', async () => {
      // Arrange
      const loaded = await graph();
      const digest = (id: string) => loaded.images.find((i) => i.id === id)?.imageDigest as string;
      // Act
      const answer = await client.send(
        new BatchDeleteImageCommand({
          repositoryName: 'graph',
          imageIds: [
            { imageTag: 'latest' },
            { imageDigest: digest('amd64') },
            { imageDigest: digest('old') },
            { imageDigest: DIGEST },
            { imageTag: 'missing' },
            { imageDigest: 'md5:zz' },
            { imageTag: '.bad' },
            {},
            { imageDigest: digest('index'), imageTag: 'old' },
          ],
        }),
      );
      const tags = await client.send(new DescribeImageTagsCommand({ repositoryName: 'graph' }));
      const images = await client.send(new DescribeImagesCommand({ repositoryName: 'graph' }));
      const layers = await client.send(
        new BatchCheckLayerAvailabilityCommand({
          repositoryName: 'graph',
          layerDigests: [
            ...(server.publicRegistries.existing('123456789012')?.repositories.get('graph')?.content.layers.keys() ??
              []),
          ],
        }),
      );
      // Assess
      expect(answer.imageIds).toEqual([
        { imageTag: 'latest', imageDigest: digest('index') },
        { imageDigest: digest('old'), imageTag: 'old' },
      ]);
      expect(answer.failures?.map((f) => [f.imageId, f.failureCode])).toEqual([
        [{ imageDigest: digest('amd64') }, 'ImageReferencedByManifestList'],
        [{ imageDigest: DIGEST }, 'ImageNotFound'],
        [{ imageTag: 'missing' }, 'ImageNotFound'],
        [{ imageDigest: 'md5:zz' }, 'InvalidImageDigest'],
        [{ imageTag: '.bad' }, 'InvalidImageTag'],
        [{}, 'MissingDigestAndTag'],
        [{ imageDigest: digest('index'), imageTag: 'old' }, 'ImageNotFound'],
      ]);
      expect(tags.imageTagDetails?.map((t) => t.imageTag)).toEqual(['v1', `${digest('index').replace(':', '-')}.sig`]);
      expect(images.imageDetails).toHaveLength(5);
      expect(layers.failures).toEqual([]);
      expect(server.publicRegistries.existing('123456789012')?.repositories.get('graph')?.tagTimes.has('old')).toBe(
        false,
      );
    });

    it('refuses DeleteRepository on a repository holding images unless force', async () => {
      // Arrange
      await push('one', 'v1');
      // Act
      const refused = await failureOf(client.send(new DeleteRepositoryCommand({ repositoryName: 'app' })));
      const forced = await client.send(new DeleteRepositoryCommand({ repositoryName: 'app', force: true }));
      const listed = await failureOf(client.send(new DescribeImagesCommand({ repositoryName: 'app' })));
      // Assess
      expect(nameOf(refused)).toBe('RepositoryNotEmptyException');
      expect(forced.repository?.repositoryName).toBe('app');
      expect(nameOf(listed)).toBe('RepositoryNotFoundException');
    });
  });

  describe('hostile input', () => {
    it('answers a client error and changes nothing for malformed, oversized and mistyped members', async () => {
      // Arrange
      await push('one', 'v1');
      const snapshot = async () => [
        await client.send(new DescribeImagesCommand({ repositoryName: 'app' })).then((o) => o.imageDetails),
        await client.send(new DescribeImageTagsCommand({ repositoryName: 'app' })).then((o) => o.imageTagDetails),
      ];
      const before = await snapshot();
      const bodies: [string, unknown][] = [
        ['PutImage', { repositoryName: 'app', imageManifest: 5 }],
        ['PutImage', { repositoryName: 'app', imageManifest: 'x'.repeat(4_194_305) }],
        ['PutImage', { repositoryName: 'app', imageManifest: '{}', imageTag: 'x'.repeat(301) }],
        ['PutImage', { repositoryName: 'app', imageManifest: '{}', imageDigest: ['x'] }],
        ['PutImage', { repositoryName: 'app', imageManifest: '[]' }],
        ['BatchDeleteImage', { repositoryName: 'app', imageIds: Array(101).fill({ imageTag: 'v1' }) }],
        ['BatchDeleteImage', { repositoryName: 'app', imageIds: [{ imageTag: 5 }] }],
        ['BatchDeleteImage', { repositoryName: 'app', imageIds: 'v1' }],
        ['DescribeImages', { repositoryName: 'app', maxResults: '5' }],
        ['DescribeImages', { repositoryName: 'app', imageIds: Array(101).fill({ imageTag: 'v1' }) }],
        ['DescribeImageTags', { repositoryName: 'app', nextToken: 7 }],
        ['BatchCheckLayerAvailability', { repositoryName: 'app', layerDigests: Array(101).fill(DIGEST) }],
        ['BatchCheckLayerAvailability', { repositoryName: 'app', layerDigests: ['x'.repeat(1001)] }],
        ['InitiateLayerUpload', { repositoryName: 'app', registryId: 'x'.repeat(51) }],
        [
          'UploadLayerPart',
          { repositoryName: 'app', uploadId: DIGEST, partFirstByte: 0, partLastByte: 0, layerPartBlob: 'AA==' },
        ],
        [
          'UploadLayerPart',
          {
            repositoryName: 'app',
            uploadId: '00000000-0000-0000-0000-000000000000',
            partFirstByte: -1,
            partLastByte: 0,
            layerPartBlob: 'AA==',
          },
        ],
        [
          'UploadLayerPart',
          {
            repositoryName: 'app',
            uploadId: '00000000-0000-0000-0000-000000000000',
            partFirstByte: 0,
            partLastByte: 0,
            layerPartBlob: '%%%',
          },
        ],
        [
          'CompleteLayerUpload',
          { repositoryName: 'app', uploadId: '00000000-0000-0000-0000-000000000000', layerDigests: ['not a digest'] },
        ],
        [
          'CompleteLayerUpload',
          {
            repositoryName: 'app',
            uploadId: '00000000-0000-0000-0000-000000000000',
            layerDigests: Array(101).fill(DIGEST),
          },
        ],
        ['DeleteRepository', { repositoryName: 'app', force: 'yes' }],
      ];
      // Act
      const answers = [];
      for (const [operation, body] of bodies)
        answers.push(await rawPublicRequest(server, operation, JSON.stringify(body)));
      // Assess
      for (const [i, answer] of answers.entries()) {
        expect([i, answer.status]).toEqual([i, 400]);
        expect(answer.body.__type).toBeTruthy();
      }
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('faults and fixtures', () => {
    it('throttles, fails and counts public calls as public:<Op>, apart from ECR operations of the same name', async () => {
      // Arrange
      await control(server, 'faults', { operation: 'public:DescribeImages', throttleRate: 1 });
      await control(server, 'faults', { operation: 'public:DescribeImageTags', serverErrorRate: 1 });
      // Act
      const throttled = await failureOf(client.send(new DescribeImagesCommand({ repositoryName: 'app' })));
      const failed = await failureOf(client.send(new DescribeImageTagsCommand({ repositoryName: 'app' })));
      const calls = await control<{ operations: Record<string, number> }>(server, 'calls');
      await control(server, 'faults/clear', {});
      const after = await failureOf(client.send(new DescribeImagesCommand({ repositoryName: 'app' })));
      // Assess
      expect(nameOf(throttled)).toBe('ThrottlingException');
      expect(nameOf(failed)).toBe('ServerException');
      expect(calls.operations['public:DescribeImages']).toBe(1);
      expect(calls.operations.DescribeImages).toBeUndefined();
      expect(after).toBeUndefined();
    });

    it("lets a client's retries get through throttling and server errors on public operations", async () => {
      // Arrange
      await control(server, 'faults', { operation: 'public:DescribeImages', throttleRate: 0.5, latencyMs: 5 });
      await control(server, 'faults', { operation: 'public:PutImage', serverErrorRate: 0.5 });
      const retrying = ecrPublicClient(server, { maxAttempts: 3 });
      // Act
      const listed = [];
      for (let i = 0; i < 4; i++)
        listed.push(await retrying.send(new DescribeImagesCommand({ repositoryName: 'app' })));
      const config = Buffer.from('{"retried":true}');
      await upload(config);
      const manifest = manifestOf(config, []);
      await retrying.send(new PutImageCommand({ repositoryName: 'app', imageManifest: manifest }));
      // The second call fails (a rate of 0.5 fails every second call) and its retry succeeds.
      const put = await retrying.send(
        new PutImageCommand({ repositoryName: 'app', imageManifest: manifest, imageTag: 'r' }),
      );
      const calls = await control<{ operations: Record<string, number> }>(server, 'calls');
      retrying.destroy();
      // Assess
      expect(listed.every((page) => Array.isArray(page.imageDetails))).toBe(true);
      expect(put.image?.imageId?.imageDigest).toBe(sha256(manifestOf(config, [])));
      // Calls 2, 4 and 6 of DescribeImages are throttled: 4 answers take 7 calls.
      expect(calls.operations['public:DescribeImages']).toBe(7);
      expect(calls.operations['public:PutImage']).toBe(3);
    });

    it("loads the demo's public registry: catalog data in full, in part and none, a signed multi-arch release, stale images", async () => {
      // Act
      await control(server, 'reset', {});
      await control(server, 'load', demoFixture());
      const repositories = await client.send(new DescribeRepositoriesCommand({}));
      const catalogs = await Promise.all(
        ['tools/cli', 'samples/hello', 'mirror/base'].map((repositoryName) =>
          client.send(new GetRepositoryCatalogDataCommand({ repositoryName })).then((o) => o.catalogData, nameOf),
        ),
      );
      const cli = await client.send(new DescribeImagesCommand({ repositoryName: 'tools/cli' }));
      const tags = await client.send(new DescribeImageTagsCommand({ repositoryName: 'tools/cli' }));
      // Assess
      expect(repositories.repositories?.map((r) => r.repositoryName)).toEqual([
        'tools/cli',
        'samples/hello',
        'mirror/base',
      ]);
      expect(catalogs[0]).toMatchObject({ description: expect.any(String), architectures: ['x86-64', 'ARM 64'] });
      expect(catalogs[1]).toEqual({ description: 'A sample image', marketplaceCertified: false });
      expect(catalogs[2]).toBe('RepositoryCatalogDataNotFoundException');
      expect(cli.imageDetails?.some((d) => d.imageManifestMediaType === OCI_INDEX)).toBe(true);
      expect(tags.imageTagDetails?.some((t) => /^sha256-[0-9a-f]{64}\.sig$/.test(t.imageTag ?? ''))).toBe(true);
      const stale = cli.imageDetails?.filter(
        (d) => !d.imageTags && (d.imagePushedAt?.getTime() ?? Date.now()) < Date.now() - 40 * 86_400_000,
      );
      expect(stale?.length).toBeGreaterThanOrEqual(6);
    });

    it('loads a public repository of 20,000 images in a few seconds, with stale untagged images and real content', async () => {
      // Act
      const started = performance.now();
      const big = await load({
        publicRepositories: [
          {
            name: 'big',
            catalogData: { description: 'many images' },
            images: Array.from({ length: 20_000 }, (_, i) => ({
              tags: i % 2 === 0 ? [`v${i}`] : [],
              pushedAt: i % 2 === 0 ? '-1d' : '-200d',
            })),
          },
        ],
      });
      const elapsed = performance.now() - started;
      const withContent = await load({
        content: true,
        publicRepositories: [{ name: 'real', images: [{ id: 'a', tags: ['latest'] }] }],
      });
      const page = await client.send(new DescribeImagesCommand({ repositoryName: 'big', maxResults: 1000 }));
      const real = server.publicRegistries.existing('123456789012')?.repositories.get('real')?.content;
      // Assess
      expect(big.images).toHaveLength(20_000);
      expect(big.images[0]?.public).toBe(true);
      expect(elapsed).toBeLessThan(10_000);
      expect(page.imageDetails).toHaveLength(1000);
      expect(page.imageDetails?.[1]?.imagePushedAt?.getTime()).toBeLessThan(Date.now() - 199 * 86_400_000);
      expect(withContent.images[0]?.imageTags).toEqual(['latest']);
      for (const digest of real?.layers.keys() ?? []) expect(server.registry.blobs.has(digest)).toBe(true);
    });
  });
});
