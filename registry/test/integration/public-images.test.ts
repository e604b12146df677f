import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeImageTagsCommand,
  type ECRPUBLICClient,
  PutImageCommand,
  paginateDescribeImages,
  paginateDescribeImageTags,
} from '@aws-sdk/client-ecr-public';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { control, ecrPublicClient, failureOf, rawPublicRequest, startTestRegistry } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const nameOf = (error: unknown) => (error as { name?: string } | undefined)?.name;
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;

describe('ECR Public: reading and deleting the images of a repository', () => {
  let server: RegistryServer;
  let client: ECRPUBLICClient;

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

  it('describes the images and tags of a repository that holds none, in one page', async () => {
    // Act
    const images = await client.send(new DescribeImagesCommand({ repositoryName: 'app', maxResults: 1000 }));
    const tags = await client.send(new DescribeImageTagsCommand({ repositoryName: 'app', maxResults: 1 }));
    const imagePages = [];
    for await (const page of paginateDescribeImages({ client, pageSize: 5 }, { repositoryName: 'app' })) {
      imagePages.push(page.imageDetails);
    }
    const tagPages = [];
    for await (const page of paginateDescribeImageTags({ client, pageSize: 5 }, { repositoryName: 'app' })) {
      tagPages.push(page.imageTagDetails);
    }
    // Assess
    expect(images.imageDetails).toEqual([]);
    expect(images.nextToken).toBeUndefined();
    expect(tags.imageTagDetails).toEqual([]);
    expect(tags.nextToken).toBeUndefined();
    expect(imagePages).toEqual([[]]);
    expect(tagPages).toEqual([[]]);
  });

  it('answers ImageNotFoundException for an image asked by id, and InvalidParameterException for a malformed id', async () => {
    // Act
    const byDigest = await failureOf(
      client.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageDigest: DIGEST }] })),
    );
    const byTag = await failureOf(
      client.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'latest' }] })),
    );
    const malformed = await failureOf(
      client.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageDigest: 'sha256:xyz' }] })),
    );
    const neither = await failureOf(client.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{}] })));
    // Assess
    expect(nameOf(byDigest)).toBe('ImageNotFoundException');
    expect((byDigest as Error).message).toContain(DIGEST);
    expect(nameOf(byTag)).toBe('ImageNotFoundException');
    expect(nameOf(malformed)).toBe('InvalidParameterException');
    expect(nameOf(neither)).toBe('InvalidParameterException');
  });

  it('refuses paging members the model does not allow, a token it did not give, and an unknown repository', async () => {
    // Act
    const pagingWithIds = await failureOf(
      client.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'x' }], maxResults: 5 })),
    );
    const tooMany = await failureOf(
      client.send(new DescribeImagesCommand({ repositoryName: 'app', maxResults: 1001 })),
    );
    const noIds = await failureOf(client.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds: [] })));
    const forged = await failureOf(
      client.send(new DescribeImageTagsCommand({ repositoryName: 'app', nextToken: 'x.y' })),
    );
    const forgedImages = await failureOf(
      client.send(new DescribeImagesCommand({ repositoryName: 'app', nextToken: 'x.y' })),
    );
    const unknown = await failureOf(client.send(new DescribeImageTagsCommand({ repositoryName: 'nope' })));
    const unknownImages = await failureOf(client.send(new DescribeImagesCommand({ repositoryName: 'nope' })));
    // Assess
    expect(nameOf(pagingWithIds)).toBe('InvalidParameterException');
    expect(nameOf(tooMany)).toBe('InvalidParameterException');
    expect(nameOf(noIds)).toBe('InvalidParameterException');
    expect(nameOf(forged)).toBe('InvalidParameterException');
    expect(nameOf(forgedImages)).toBe('InvalidParameterException');
    expect(nameOf(unknown)).toBe('RepositoryNotFoundException');
    expect(nameOf(unknownImages)).toBe('RepositoryNotFoundException');
  });

  it('reports a failure for every id BatchDeleteImage cannot delete, with the code for its kind', async () => {
    // Act
    const answer = await client.send(
      new BatchDeleteImageCommand({
        repositoryName: 'app',
        imageIds: [
          { imageTag: 'latest' },
          { imageDigest: DIGEST },
          { imageDigest: OTHER_DIGEST, imageTag: 'v1' },
          { imageDigest: 'md5:zz' },
          { imageTag: '.bad' },
          {},
          { imageTag: 'latest' },
        ],
      }),
    );
    // Assess
    expect(answer.imageIds).toEqual([]);
    expect(answer.failures?.map((f) => [f.imageId, f.failureCode])).toEqual([
      [{ imageTag: 'latest' }, 'ImageNotFound'],
      [{ imageDigest: DIGEST }, 'ImageNotFound'],
      [{ imageDigest: OTHER_DIGEST, imageTag: 'v1' }, 'ImageNotFound'],
      [{ imageDigest: 'md5:zz' }, 'InvalidImageDigest'],
      [{ imageTag: '.bad' }, 'InvalidImageTag'],
      [{}, 'MissingDigestAndTag'],
    ]);
    for (const failure of answer.failures ?? []) expect(failure.failureReason).toBeTruthy();
  });

  it('refuses a BatchDeleteImage without ids, with too many, or on an unknown repository', async () => {
    // Act
    const none = await failureOf(client.send(new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [] })));
    const tooMany = await failureOf(
      client.send(
        new BatchDeleteImageCommand({
          repositoryName: 'app',
          imageIds: Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` })),
        }),
      ),
    );
    const unknown = await failureOf(
      client.send(new BatchDeleteImageCommand({ repositoryName: 'nope', imageIds: [{ imageTag: 'x' }] })),
    );
    const missing = await rawPublicRequest(server, 'BatchDeleteImage', JSON.stringify({ repositoryName: 'app' }));
    // Assess
    expect(nameOf(none)).toBe('InvalidParameterException');
    expect(nameOf(tooMany)).toBe('InvalidParameterException');
    expect(nameOf(unknown)).toBe('RepositoryNotFoundException');
    expect(missing.status).toBe(400);
    expect(missing.body.__type).toBeTruthy();
  });

  it('reports every layer as missing, or invalid when its digest is malformed, once per digest', async () => {
    // Act
    const answer = await client.send(
      new BatchCheckLayerAvailabilityCommand({
        repositoryName: 'app',
        layerDigests: [DIGEST, 'not a digest', DIGEST],
      }),
    );
    const none = await failureOf(
      client.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: 'app', layerDigests: [] })),
    );
    const unknown = await failureOf(
      client.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: 'nope', layerDigests: [DIGEST] })),
    );
    // Assess
    expect(answer.layers).toEqual([]);
    expect(answer.failures?.map((f) => [f.layerDigest, f.failureCode])).toEqual([
      [DIGEST, 'MissingLayerDigest'],
      ['not a digest', 'InvalidLayerDigest'],
    ]);
    expect(nameOf(none)).toBe('InvalidParameterException');
    expect(nameOf(unknown)).toBe('RepositoryNotFoundException');
  });

  it('still answers PutImage as not served, and deletes a repository without images without force', async () => {
    // Act
    const put = await failureOf(
      client.send(new PutImageCommand({ repositoryName: 'app', imageManifest: '{}', imageTag: 'latest' })),
    );
    const deleted = await client.send(new DeleteRepositoryCommand({ repositoryName: 'app' }));
    // Assess
    expect(nameOf(put)).toBe('UnsupportedCommandException');
    expect(deleted.repository?.repositoryName).toBe('app');
  });
});
