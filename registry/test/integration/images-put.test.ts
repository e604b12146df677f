import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  type CreateRepositoryCommandInput,
  DescribeImagesCommand,
  type ECRClient,
  PutImageCommand,
  type PutImageCommandInput,
  SetRepositoryPolicyCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BusEvent } from '../../src/bus/event-bus.ts';
import {
  ARTIFACT_TYPES,
  buildImageManifest,
  buildIndexManifest,
  buildReferrerManifest,
  describeManifest,
  MEDIA_TYPES,
  type ParsedManifest,
  sha256,
} from '../../src/model/manifests.ts';
import { newImage } from '../../src/model/records.ts';
import type { RepositoryRecord } from '../../src/model/state.ts';
import { MAX_IMAGES_PER_REPOSITORY } from '../../src/ops/image-push.ts';
import {
  control,
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
/** `ImageManifest` maximum length in characters ([M-ECR]). */
const MAX_MANIFEST_CHARS = 4_194_304;

/** A valid OCI manifest padded (through an annotation) to exactly `length` characters. */
const manifestOfLength = (length: number) => {
  const base = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, annotations: { pad: '' } };
  const padding = length - JSON.stringify(base).length;
  return JSON.stringify({ ...base, annotations: { pad: 'x'.repeat(padding) } });
};

describe('PutImage', () => {
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
    await createRepository({ repositoryName: REPO });
  });

  const createRepository = (input: CreateRepositoryCommandInput) => client.send(new CreateRepositoryCommand(input));
  /** PutImage of a hand-made manifest whose blobs are declared first (as if its layers had been uploaded). */
  const put = async (input: Omit<PutImageCommandInput, 'repositoryName'> & { repositoryName?: string }) => {
    const repositoryName = input.repositoryName ?? REPO;
    // A manifest that does not parse or a repository that does not exist: the push itself must fail.
    await declareBlobs(server, repositoryName, input.imageManifest ?? '').catch(() => undefined);
    return client.send(new PutImageCommand({ repositoryName, ...input }));
  };
  const repositoryRecord = (name = REPO) =>
    server.registry.state(TEST_ACCOUNT, TEST_REGION).repositories.get(name) as RepositoryRecord;
  /** Every image of a repository with its tags and status, in listing order. */
  const snapshot = (name = REPO) =>
    [...repositoryRecord(name).images.after(0)].map((image) => ({
      digest: image.digest,
      tags: [...image.tags],
      status: image.status,
    }));
  const tagsOf = async (digest: string, name = REPO) => {
    const { imageDetails } = await client.send(
      new DescribeImagesCommand({ repositoryName: name, imageIds: [{ imageDigest: digest }] }),
    );
    return imageDetails?.[0]?.imageTags;
  };
  const imageActions = () => server.bus.events.filter((event) => event['detail-type'] === 'ECR Image Action');

  describe('success', () => {
    it('returns the image with the exact manifest, its sha256 digest and the tag', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'put-1' });
      // Act
      const { image } = await put({ imageManifest: manifest, imageTag: 'v1' });
      // Assess
      expect(image).toEqual({
        registryId: TEST_ACCOUNT,
        repositoryName: REPO,
        imageId: { imageDigest: sha256(manifest), imageTag: 'v1' },
        imageManifest: manifest,
        imageManifestMediaType: MEDIA_TYPES.ociManifest,
      });
    });

    it('stores an untagged image and answers an imageId without imageTag', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'put-untagged', mediaType: MEDIA_TYPES.dockerManifest });
      // Act
      const { image } = await put({ imageManifest: manifest });
      // Assess
      expect(image?.imageId).toEqual({ imageDigest: sha256(manifest) });
      expect(image?.imageManifestMediaType).toBe(MEDIA_TYPES.dockerManifest);
      expect(snapshot()).toEqual([{ digest: sha256(manifest), tags: [], status: 'ACTIVE' }]);
    });

    it('keeps the manifest byte for byte: odd whitespace, key order and non-ASCII text round-trip', async () => {
      // Prepare
      const manifest =
        '{\n\t"layers" : [ ],   "config":{"size":7,"digest":"sha256:' +
        'a'.repeat(64) +
        '","mediaType":"application/vnd.oci.image.config.v1+json"},\r\n' +
        '"annotations": {"note": "café ☕ \\u00e9"}, "schemaVersion":2,\n  "mediaType": "application/vnd.oci.image.manifest.v1+json"  }\n\n';
      // Act
      const { image } = await put({ imageManifest: manifest, imageTag: 'odd' });
      const fetched = await client.send(
        new BatchGetImageCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'odd' }] }),
      );
      // Assess
      const stored = fetched.images?.[0]?.imageManifest as string;
      expect(stored).toBe(manifest);
      expect(Buffer.from(stored, 'utf8').equals(Buffer.from(manifest, 'utf8'))).toBe(true);
      expect(sha256(stored)).toBe(image?.imageId?.imageDigest);
    });

    it('takes the media type from imageManifestMediaType when the manifest has none', async () => {
      // Prepare
      const manifest = JSON.stringify({ schemaVersion: 2, config: { mediaType: MEDIA_TYPES.dockerConfig, size: 3 } });
      // Act
      const { image } = await put({ imageManifest: manifest, imageManifestMediaType: MEDIA_TYPES.dockerManifest });
      // Assess
      expect(image?.imageManifestMediaType).toBe(MEDIA_TYPES.dockerManifest);
    });

    it('accepts an imageDigest that matches the manifest', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'put-digest' });
      // Act
      const { image } = await put({ imageManifest: manifest, imageDigest: sha256(manifest), imageTag: 'v1' });
      // Assess
      expect(image?.imageId?.imageDigest).toBe(sha256(manifest));
    });

    it('adds a new tag to an image already in the repository', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'put-retag' });
      await put({ imageManifest: manifest, imageTag: 'v1' });
      // Act
      const { image } = await put({ imageManifest: manifest, imageTag: 'latest' });
      // Assess
      expect(image?.imageId).toEqual({ imageDigest: sha256(manifest), imageTag: 'latest' });
      expect(await tagsOf(sha256(manifest))).toEqual(['v1', 'latest']);
      expect(repositoryRecord().images.size).toBe(1);
    });

    it('tags an untagged image when its manifest is pushed again with a tag', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'put-later-tag' });
      await put({ imageManifest: manifest });
      // Act
      await put({ imageManifest: manifest, imageTag: 'v2' });
      // Assess
      expect(await tagsOf(sha256(manifest))).toEqual(['v2']);
    });

    it('moves a tag in a MUTABLE repository: the old image keeps its other tags or becomes untagged', async () => {
      // Prepare
      const first = buildImageManifest({ seed: 'mutable-1' });
      const second = buildImageManifest({ seed: 'mutable-2' });
      const third = buildImageManifest({ seed: 'mutable-3' });
      await put({ imageManifest: first, imageTag: 'latest' });
      await put({ imageManifest: first, imageTag: 'v1' });
      await put({ imageManifest: second, imageTag: 'edge' });
      // Act
      await put({ imageManifest: second, imageTag: 'latest' });
      await put({ imageManifest: third, imageTag: 'edge' });
      // Assess
      expect(await tagsOf(sha256(first))).toEqual(['v1']);
      expect(await tagsOf(sha256(second))).toEqual(['latest']);
      expect(await tagsOf(sha256(third))).toEqual(['edge']);
      await put({ imageManifest: third, imageTag: 'latest' });
      expect(await tagsOf(sha256(second))).toBeUndefined();
    });

    it('stores an index whose children are in the repository, sized as its largest child', async () => {
      // Prepare
      const small = buildImageManifest({ seed: 'arm', architecture: 'arm64', layerSizes: [100] });
      const large = buildImageManifest({ seed: 'amd', layerSizes: [5_000] });
      await put({ imageManifest: small });
      await put({ imageManifest: large });
      const index = buildIndexManifest([describeManifest(small), describeManifest(large)]);
      // Act
      const { image } = await put({ imageManifest: index, imageTag: 'v1' });
      // Assess
      expect(image?.imageManifestMediaType).toBe(MEDIA_TYPES.ociIndex);
      const { imageDetails } = await client.send(
        new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }] }),
      );
      expect(imageDetails?.[0]?.imageSizeInBytes).toBe(1_472 + 5_000);
    });

    it('stores a referrer whose subject is not in the repository (OCI 1.1)', async () => {
      // Prepare
      const absentSubject = describeManifest(buildImageManifest({ seed: 'never-pushed' }));
      const signature = buildReferrerManifest({
        seed: 'sig',
        subject: absentSubject,
        artifactType: ARTIFACT_TYPES.cosignSignature,
      });
      // Act
      const { image } = await put({ imageManifest: signature });
      // Assess
      const { imageDetails } = await client.send(
        new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageDigest: image?.imageId?.imageDigest }] }),
      );
      expect(imageDetails?.[0]?.subjectManifestDigest).toBe(absentSubject.digest);
      expect(imageDetails?.[0]?.artifactMediaType).toBe(ARTIFACT_TYPES.cosignSignature);
    });

    it('accepts a 300-character tag and a manifest of exactly 4,194,304 characters', async () => {
      // Prepare
      const manifest = manifestOfLength(MAX_MANIFEST_CHARS);
      // Act
      const { image } = await put({ imageManifest: manifest, imageTag: 't'.repeat(300) });
      // Assess
      expect(manifest).toHaveLength(MAX_MANIFEST_CHARS);
      expect(image?.imageId).toEqual({ imageDigest: sha256(manifest), imageTag: 't'.repeat(300) });
    });

    it('restores an archived image pushed again', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'archived' });
      await put({ imageManifest: manifest, imageTag: 'old' });
      const record = repositoryRecord().images.get(sha256(manifest));
      if (record) record.status = 'ARCHIVED';
      // Act
      await put({ imageManifest: manifest });
      // Assess
      expect(snapshot()).toEqual([{ digest: sha256(manifest), tags: ['old'], status: 'ACTIVE' }]);
    });

    it('pushes into the registry that registryId names when its repository policy allows the caller', async () => {
      // Prepare
      const other = ecrClient(server, { account: '210987654321' });
      await other.send(new CreateRepositoryCommand({ repositoryName: 'shared/app' }));
      await other.send(
        new SetRepositoryPolicyCommand({
          repositoryName: 'shared/app',
          policyText: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` },
                Action: ['ecr:PutImage', 'ecr:BatchGet*'],
              },
            ],
          }),
        }),
      );
      const manifest = buildImageManifest({ seed: 'cross-account' });
      await declareBlobs(server, 'shared/app', manifest, { account: '210987654321' });
      // Act
      const { image } = await client.send(
        new PutImageCommand({ registryId: '210987654321', repositoryName: 'shared/app', imageManifest: manifest }),
      );
      // Assess
      expect(image?.registryId).toBe('210987654321');
      expect(server.registry.state('210987654321', TEST_REGION).repositories.get('shared/app')?.images.size).toBe(1);
    });
  });

  describe('tag immutability', () => {
    const pushTwice = async (tag: string) => {
      await put({ imageManifest: buildImageManifest({ seed: `${tag}-a` }), imageTag: tag });
      return put({ imageManifest: buildImageManifest({ seed: `${tag}-b` }), imageTag: tag });
    };

    it('rejects moving a tag in an IMMUTABLE repository and changes nothing', async () => {
      // Prepare
      await createRepository({ repositoryName: 'team/immutable', imageTagMutability: 'IMMUTABLE' });
      const first = buildImageManifest({ seed: 'imm-1' });
      await put({ repositoryName: 'team/immutable', imageManifest: first, imageTag: 'v1' });
      const before = snapshot('team/immutable');
      // Act
      const attempt = put({
        repositoryName: 'team/immutable',
        imageManifest: buildImageManifest({ seed: 'imm-2' }),
        imageTag: 'v1',
      });
      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'ImageTagAlreadyExistsException',
        message:
          "The image tag 'v1' already exists in the 'team/immutable' repository and cannot be overwritten because the tag is immutable.",
      });
      expect(snapshot('team/immutable')).toEqual(before);
    });

    it('still adds a new tag to an existing image in an IMMUTABLE repository', async () => {
      // Prepare
      await createRepository({ repositoryName: 'team/immutable', imageTagMutability: 'IMMUTABLE' });
      const manifest = buildImageManifest({ seed: 'imm-tags' });
      await put({ repositoryName: 'team/immutable', imageManifest: manifest, imageTag: 'v1' });
      // Act
      await put({ repositoryName: 'team/immutable', imageManifest: manifest, imageTag: 'stable' });
      // Assess
      expect(await tagsOf(sha256(manifest), 'team/immutable')).toEqual(['v1', 'stable']);
    });

    it('lets tags matching an IMMUTABLE_WITH_EXCLUSION filter move, and no others', async () => {
      // Prepare
      await client.send(
        new CreateRepositoryCommand({
          repositoryName: 'team/app-ex',
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [
            { filterType: 'WILDCARD', filter: 'latest' },
            { filterType: 'WILDCARD', filter: 'dev-*' },
          ],
        }),
      );
      const putIn = (seed: string, tag: string) =>
        put({ repositoryName: 'team/app-ex', imageManifest: buildImageManifest({ seed }), imageTag: tag });
      for (const tag of ['latest', 'dev-42', 'v1', 'latest-old']) await putIn(`${tag}-a`, tag);
      // Act
      const latest = await putIn('latest-b', 'latest');
      const dev = await putIn('dev-42-b', 'dev-42');
      const release = await failureOf(putIn('v1-b', 'v1'));
      const prefixOnly = await failureOf(putIn('latest-old-b', 'latest-old'));
      // Assess
      expect(latest.image?.imageId?.imageTag).toBe('latest');
      expect(dev.image?.imageId?.imageTag).toBe('dev-42');
      expect(release).toMatchObject({ name: 'ImageTagAlreadyExistsException' });
      expect(prefixOnly).toMatchObject({ name: 'ImageTagAlreadyExistsException' });
    });

    it('keeps tags matching a MUTABLE_WITH_EXCLUSION filter immutable, and lets others move', async () => {
      // Prepare
      await createRepository({
        repositoryName: 'team/app-mx',
        imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }],
      });
      const putIn = (seed: string, tag: string) =>
        put({ repositoryName: 'team/app-mx', imageManifest: buildImageManifest({ seed }), imageTag: tag });
      await putIn('r-a', 'release-1.0');
      await putIn('l-a', 'latest');
      // Act
      const release = await failureOf(putIn('r-b', 'release-1.0'));
      const latest = await putIn('l-b', 'latest');
      // Assess
      expect(release).toMatchObject({ name: 'ImageTagAlreadyExistsException' });
      expect(latest.image?.imageId?.imageTag).toBe('latest');
    });

    it('moves any tag in a MUTABLE repository', async () => {
      // Act
      const moved = await pushTwice('release-1.0');
      // Assess
      expect(moved.image?.imageId?.imageTag).toBe('release-1.0');
      expect(repositoryRecord().images.size).toBe(2);
    });
  });

  describe('errors', () => {
    it('rejects the same digest and tag pushed again with ImageAlreadyExistsException', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'dup' });
      await put({ imageManifest: manifest, imageTag: 'v1' });
      // Act
      const attempt = put({ imageManifest: manifest, imageTag: 'v1' });
      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'ImageAlreadyExistsException',
        message: `Image with digest '${sha256(manifest)}' and tag 'v1' already exists in the repository with name '${REPO}' in registry with id '${TEST_ACCOUNT}'`,
      });
    });

    it('rejects an existing digest pushed again without a tag with ImageAlreadyExistsException', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'dup-untagged' });
      await put({ imageManifest: manifest, imageTag: 'v1' });
      // Act
      const attempt = put({ imageManifest: manifest });
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'ImageAlreadyExistsException' });
      expect(snapshot()).toEqual([{ digest: sha256(manifest), tags: ['v1'], status: 'ACTIVE' }]);
    });

    it('rejects an imageDigest that is not the manifest’s with ImageDigestDoesNotMatchException', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'wrong-digest' });
      // Act
      const attempt = put({ imageManifest: manifest, imageDigest: `sha256:${'1'.repeat(64)}` });
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'ImageDigestDoesNotMatchException' });
      expect(snapshot()).toEqual([]);
    });

    it('rejects a new image whose config or layers are not in the repository with LayersNotFoundException, naming each', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'no-layers', layerSizes: [10, 20] });
      const { config, layers } = JSON.parse(manifest) as { config: { digest: string }; layers: { digest: string }[] };
      const [first, second] = layers as [{ digest: string }, { digest: string }];
      await declareBlobs(server, REPO, manifest);
      await createRepository({ repositoryName: 'team/bare' });
      await control(server, 'blobs', { repositoryName: 'team/bare', blobs: [{ digest: first.digest, size: 10 }] });
      // Act
      const attempt = client.send(
        new PutImageCommand({ repositoryName: 'team/bare', imageManifest: manifest, imageTag: 'v1' }),
      );
      // Assess
      const error = (await failureOf(attempt)) as Error;
      expect(error.name).toBe('LayersNotFoundException');
      expect(error.message).toBe(
        `Layers with digests '[${config.digest}, ${second.digest}]' required for pushing image into repository with name 'team/bare' in registry with id '${TEST_ACCOUNT}' do not exist`,
      );
      expect(snapshot('team/bare')).toEqual([]);
      expect(imageActions()).toEqual([]);
    });

    it('needs no layers to tag an image already in the repository, nor for an index over present children', async () => {
      // Prepare
      const child = buildImageManifest({ seed: 'has-layers' });
      await put({ imageManifest: child, imageTag: 'v1' });
      repositoryRecord().layers.clear();
      const index = buildIndexManifest([describeManifest(child)]);
      // Act
      const retag = await client.send(
        new PutImageCommand({ repositoryName: REPO, imageManifest: child, imageTag: 'v2' }),
      );
      const indexed = await client.send(
        new PutImageCommand({ repositoryName: REPO, imageManifest: index, imageTag: 'multi' }),
      );
      // Assess
      expect(retag.image?.imageId?.imageTag).toBe('v2');
      expect(indexed.image?.imageId?.imageDigest).toBe(sha256(index));
      expect(snapshot()).toHaveLength(2);
    });

    it('rejects an index whose children are not all in the repository', async () => {
      // Prepare
      const present = buildImageManifest({ seed: 'child-present' });
      const absent = buildImageManifest({ seed: 'child-absent' });
      await put({ imageManifest: present });
      const index = buildIndexManifest([describeManifest(present), describeManifest(absent)]);
      // Act
      const attempt = put({ imageManifest: index, imageTag: 'v1' });
      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'ReferencedImagesNotFoundException',
        message: expect.stringContaining(sha256(absent)),
      });
      expect(snapshot()).toHaveLength(1);
    });

    it('rejects a push beyond 100,000 images with LimitExceededException', async () => {
      // Prepare
      const repository = repositoryRecord();
      await fillInBatches(MAX_IMAGES_PER_REPOSITORY, (i) => {
        const text = `{"i":${i}}`;
        const parsed: ParsedManifest = {
          digest: sha256(text),
          mediaType: MEDIA_TYPES.ociManifest,
          isIndex: false,
          children: [],
          sizeInBytes: 0,
          blobs: [],
        };
        repository.images.add(newImage(repository, text, parsed, 0));
      });
      // Act
      const attempt = put({ imageManifest: buildImageManifest({ seed: 'one-too-many' }), imageTag: 'v1' });
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'LimitExceededException' });
      expect(repository.images.size).toBe(MAX_IMAGES_PER_REPOSITORY);
      expect(repository.images.digestForTag('v1')).toBeUndefined();
    });

    it('rejects a 301-character tag and a manifest of 4,194,305 characters with InvalidParameterException', async () => {
      // Act
      const longTag = await failureOf(
        put({ imageManifest: buildImageManifest({ seed: 'long-tag' }), imageTag: 't'.repeat(301) }),
      );
      const longManifest = await failureOf(put({ imageManifest: manifestOfLength(MAX_MANIFEST_CHARS + 1) }));
      // Assess
      expect(longTag).toMatchObject({
        name: 'InvalidParameterException',
        message: expect.stringContaining("'imageTag'"),
      });
      expect(longManifest).toMatchObject({
        name: 'InvalidParameterException',
        message: expect.stringContaining("'imageManifest'"),
      });
      expect(snapshot()).toEqual([]);
    });

    it('rejects a tag outside the OCI tag grammar with InvalidParameterException', async () => {
      // Act
      const attempt = put({ imageManifest: buildImageManifest({ seed: 'bad-tag' }), imageTag: 'has space' });
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidParameterException' });
      expect(snapshot()).toEqual([]);
    });

    it('rejects a manifest that is not JSON and a media type that contradicts the manifest', async () => {
      // Act
      const notJson = await failureOf(put({ imageManifest: 'not json' }));
      const contradicting = await failureOf(
        put({
          imageManifest: buildImageManifest({ seed: 'contradiction' }),
          imageManifestMediaType: MEDIA_TYPES.dockerManifest,
        }),
      );
      // Assess
      expect(notJson).toMatchObject({ name: 'InvalidParameterException' });
      expect(contradicting).toMatchObject({ name: 'InvalidParameterException' });
      expect(snapshot()).toEqual([]);
    });

    it('rejects a manifest with no mediaType and no imageManifestMediaType as ECR does, and stores nothing', async () => {
      // Prepare: a schema-2 manifest without its mediaType member.
      const { mediaType: _, ...untyped } = JSON.parse(buildImageManifest({ seed: 'untyped' })) as Record<
        string,
        unknown
      >;
      // Act
      const attempt = put({ imageManifest: JSON.stringify(untyped) });
      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message: "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'",
      });
      expect(snapshot()).toEqual([]);
    });

    it('answers RepositoryNotFoundException for an unknown repository', async () => {
      // Act
      const attempt = put({ repositoryName: 'team/nope', imageManifest: buildImageManifest({ seed: 'x' }) });
      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'RepositoryNotFoundException',
        message: `The repository with name 'team/nope' does not exist in the registry with id '${TEST_ACCOUNT}'`,
      });
    });

    it('rejects malformed requests without changing the repository', async () => {
      // Prepare
      await put({ imageManifest: buildImageManifest({ seed: 'kept' }), imageTag: 'v1' });
      const before = snapshot();
      const manifest = buildImageManifest({ seed: 'raw' });
      const raw = (body: unknown) =>
        rawEcrRequest(server, 'PutImage', typeof body === 'string' ? body : JSON.stringify(body));
      // Act
      const responses = await Promise.all([
        raw({ repositoryName: REPO }),
        raw({ imageManifest: manifest }),
        raw({ repositoryName: REPO, imageManifest: manifest, imageTag: 7 }),
        raw({ repositoryName: REPO, imageManifest: { schemaVersion: 2 } }),
        raw({ repositoryName: REPO, imageManifest: '' }),
        raw({ repositoryName: REPO, imageManifest: manifest, imageTag: '' }),
        raw({ repositoryName: 'Team/App', imageManifest: manifest }),
        raw(`{"repositoryName": "${REPO}", "imageManifest": `),
      ]);
      // Assess
      expect(responses.map((response) => [response.status, response.body.__type])).toEqual([
        [400, 'InvalidParameterException'],
        [400, 'InvalidParameterException'],
        [400, 'SerializationException'],
        [400, 'SerializationException'],
        [400, 'InvalidParameterException'],
        [400, 'InvalidParameterException'],
        [400, 'InvalidParameterException'],
        [400, 'SerializationException'],
      ]);
      expect(snapshot()).toEqual(before);
      expect(imageActions()).toHaveLength(1);
    });
  });

  describe('events', () => {
    it('emits "ECR Image Action" PUSH with the digest, tag and manifest media type', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'event-push' });
      // Act
      await put({ imageManifest: manifest, imageTag: 'v1' });
      // Assess
      const [push] = imageActions() as [BusEvent];
      expect(imageActions()).toHaveLength(1);
      expect(push).toMatchObject({ source: 'aws.ecr', account: TEST_ACCOUNT, region: TEST_REGION, resources: [] });
      expect(push.detail).toEqual({
        result: 'SUCCESS',
        'repository-name': REPO,
        'image-digest': sha256(manifest),
        'action-type': 'PUSH',
        'image-tag': 'v1',
        'manifest-media-type': MEDIA_TYPES.ociManifest,
      });
    });

    it('emits PUSH without image-tag for an untagged push, with the artifact type of an artifact', async () => {
      // Prepare
      const subject = describeManifest(buildImageManifest({ seed: 'subject' }));
      const sbom = buildReferrerManifest({ seed: 'sbom', subject, artifactType: ARTIFACT_TYPES.spdxSbom });
      // Act
      await put({ imageManifest: sbom });
      // Assess
      expect(imageActions().map((event) => event.detail)).toEqual([
        {
          result: 'SUCCESS',
          'repository-name': REPO,
          'image-digest': sha256(sbom),
          'action-type': 'PUSH',
          'manifest-media-type': MEDIA_TYPES.ociManifest,
          'artifact-media-type': ARTIFACT_TYPES.spdxSbom,
        },
      ]);
    });

    it('emits PUSH when a tag is added to an existing image, and nothing for a rejected push', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'event-retag' });
      await put({ imageManifest: manifest, imageTag: 'v1' });
      // Act
      await put({ imageManifest: manifest, imageTag: 'v1.0' });
      const rejected = put({ imageManifest: manifest, imageTag: 'v1' });
      // Assess
      await expect(rejected).rejects.toMatchObject({ name: 'ImageAlreadyExistsException' });
      expect(imageActions().map((event) => (event.detail as Record<string, unknown>)['image-tag'])).toEqual([
        'v1',
        'v1.0',
      ]);
    });
  });
});
