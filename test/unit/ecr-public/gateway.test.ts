import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  DescribeRegistriesCommand,
  DescribeRepositoriesCommand,
  ECRPUBLICClient,
  GetRepositoryCatalogDataCommand,
  GetRepositoryPolicyCommand,
  type ImageDetail,
  type ImageIdentifier,
  ImageNotFoundException,
  PutRepositoryCatalogDataCommand,
  RepositoryCatalogDataNotFoundException,
  RepositoryNotFoundException,
  RepositoryPolicyNotFoundException,
} from '@aws-sdk/client-ecr-public';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  EcrUnavailableError,
  ReadOnlyViolationError,
  RepositoryNotFoundError,
  ThrottledError,
} from '../../../shared/ecr/index.ts';
import {
  createEcrPublicClient,
  createEcrPublicGateway,
  type EcrPublicGateway,
  type EcrPublicGatewayOptions,
} from '../../../shared/ecr-public/index.ts';
import { digestOf } from '../../helpers/images.ts';

const REPO = 'team/app';
const ecrPublic = mockClient(ECRPUBLICClient);

const gatewayWith = (options: EcrPublicGatewayOptions = {}): EcrPublicGateway =>
  createEcrPublicGateway(new ECRPUBLICClient({ region: 'us-east-1' }), { itemRetryDelayMs: 0, ...options });

const digests = (count: number, prefix = 'image') =>
  Array.from({ length: count }, (_, index) => digestOf(`${prefix}-${index}`));

const detail = (digest: string, overrides: Partial<ImageDetail> = {}): ImageDetail => ({
  repositoryName: REPO,
  imageDigest: digest,
  imageTags: [],
  imagePushedAt: new Date('2026-01-01T00:00:00Z'),
  imageSizeInBytes: 1000,
  imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  ...overrides,
});

const idsSent = (command: typeof BatchDeleteImageCommand | typeof DescribeImagesCommand, n: number) => {
  const call = ecrPublic.calls().filter((c) => c.args[0] instanceof command)[n - 1];
  const input = call?.args[0].input as { imageIds?: ImageIdentifier[] } | undefined;
  return (input?.imageIds ?? []).map((id) => id.imageDigest);
};

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

beforeEach(() => ecrPublic.reset());
afterEach(() => ecrPublic.reset());

describe('createEcrPublicClient', () => {
  it('talks to us-east-1 whatever the region around it, with adaptive retries', async () => {
    // Prepare
    const previous = process.env.AWS_REGION;
    process.env.AWS_REGION = 'eu-west-1';
    try {
      // Act
      const client = createEcrPublicClient({ maxAttempts: 5 });
      // Assess
      expect(await client.config.region()).toBe('us-east-1');
      expect(await client.config.maxAttempts()).toBe(5);
      expect(client.config.retryMode).toBe('adaptive');
    } finally {
      if (previous === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = previous;
    }
  });
});

describe('createEcrPublicGateway', () => {
  it('rejects options outside their bounds and unknown options', () => {
    // Act & Assess
    expect(() => gatewayWith({ manifestConcurrency: 0 })).toThrow(RangeError);
    expect(() => gatewayWith({ registryUrl: 'ftp://example.com' })).toThrow(RangeError);
    expect(() => gatewayWith({ unknown: true } as EcrPublicGatewayOptions)).toThrow(RangeError);
  });
});

describe('Method: listRepositories', () => {
  it('asks for pages of 1000 and follows the tokens to the end', async () => {
    // Prepare
    ecrPublic
      .on(DescribeRepositoriesCommand)
      .resolvesOnce({
        repositories: [{ repositoryName: 'a', repositoryUri: 'public.ecr.aws/alias/a' }],
        nextToken: 't1',
      })
      .resolvesOnce({ repositories: [{ repositoryName: 'b', repositoryUri: 'public.ecr.aws/alias/b' }] });
    const gateway = gatewayWith();
    // Act
    const names = (await collect(gateway.listRepositories())).map((r) => r.name);
    // Assess
    expect(names).toEqual(['a', 'b']);
    const inputs = ecrPublic.commandCalls(DescribeRepositoriesCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([{ maxResults: 1000 }, { maxResults: 1000, nextToken: 't1' }]);
    expect(gateway.callCounts()).toEqual({ DescribeRepositories: 2 });
  });
});

describe('Method: getRepository', () => {
  it('throws RepositoryNotFoundError when ECR Public does not know the name', async () => {
    // Prepare
    ecrPublic
      .on(DescribeRepositoriesCommand)
      .rejects(new RepositoryNotFoundException({ message: 'no such repository', $metadata: {} }));
    // Act & Assess
    await expect(gatewayWith().getRepository('gone')).rejects.toBeInstanceOf(RepositoryNotFoundError);
  });
});

describe('Method: getRegistry', () => {
  it('names the default alias and asks once', async () => {
    // Prepare
    ecrPublic.on(DescribeRegistriesCommand).resolves({
      registries: [
        {
          registryId: '123456789012',
          registryArn: 'arn',
          registryUri: 'public.ecr.aws/other',
          verified: false,
          aliases: [
            { name: 'other', status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: false },
            { name: 'mine', status: 'ACTIVE', primaryRegistryAlias: false, defaultRegistryAlias: true },
          ],
        },
      ],
    });
    const gateway = gatewayWith();
    // Act
    const first = await gateway.getRegistry();
    await gateway.getRegistry();
    // Assess
    expect(first).toEqual({ registryId: '123456789012', alias: 'mine', uri: 'public.ecr.aws/mine' });
    expect(gateway.callCounts()).toEqual({ DescribeRegistries: 1 });
  });
});

describe('Method: listImages', () => {
  it('asks for pages of 1000 and maps images without pull time, scan status or subject', async () => {
    // Prepare
    const [a, b] = digests(2);
    ecrPublic
      .on(DescribeImagesCommand)
      .resolvesOnce({ imageDetails: [detail(a as string, { imageTags: ['v1'] })], nextToken: 'n' })
      .resolvesOnce({ imageDetails: [], nextToken: 'm' })
      .resolvesOnce({ imageDetails: [detail(b as string, { artifactMediaType: 'application/vnd.example+json' })] });
    const gateway = gatewayWith();
    // Act
    const pages = await collect(gateway.listImages(REPO));
    // Assess
    expect(pages).toEqual([
      [
        {
          digest: a,
          tags: ['v1'],
          pushedAt: Date.parse('2026-01-01T00:00:00Z'),
          sizeInBytes: 1000,
          manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        },
      ],
      [expect.objectContaining({ digest: b, artifactMediaType: 'application/vnd.example+json' })],
    ]);
    expect(ecrPublic.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input.maxResults)).toEqual([
      1000, 1000, 1000,
    ]);
    expect(gateway.callCounts()).toEqual({ DescribeImages: 3 });
  });
});

describe('Method: describeImages', () => {
  it('asks in batches of 100 and splits a batch in halves when an image is missing', async () => {
    // Prepare
    const ids = digests(150);
    const gone = ids[120] as string;
    ecrPublic.on(DescribeImagesCommand).callsFake((input: { imageIds: ImageIdentifier[] }) => {
      const asked = input.imageIds.map((id) => id.imageDigest as string);
      if (asked.includes(gone)) throw new ImageNotFoundException({ message: 'missing', $metadata: {} });
      return { imageDetails: asked.map((digest) => detail(digest)) };
    });
    const gateway = gatewayWith();
    // Act
    const { images, missing } = await gateway.describeImages(REPO, ids);
    // Assess
    expect(missing).toEqual([gone]);
    expect(images.map((i) => i.digest)).toEqual(ids.filter((d) => d !== gone));
    expect(idsSent(DescribeImagesCommand, 1)).toHaveLength(100);
    expect(idsSent(DescribeImagesCommand, 2)).toHaveLength(50);
    expect(gateway.callCounts().DescribeImages).toBeGreaterThan(2);
  });
});

describe('Method: deleteImages', () => {
  it('refuses when read-only, before sending anything', async () => {
    // Prepare
    const gateway = gatewayWith({ readOnly: true });
    // Act & Assess
    await expect(gateway.deleteImages(REPO, digests(3))).rejects.toBeInstanceOf(ReadOnlyViolationError);
    await expect(gateway.putCatalogData(REPO, { description: 'x' })).rejects.toBeInstanceOf(ReadOnlyViolationError);
    expect(ecrPublic.calls()).toHaveLength(0);
    expect(gateway.callCounts()).toEqual({});
  });

  it('deletes in batches of 100 in order, counts ImageNotFound as gone and re-tries retryable failures', async () => {
    // Prepare
    const ids = digests(230);
    const gone = ids[5] as string;
    const busy = ids[150] as string;
    const broken = ids[200] as string;
    let busyOnce = true;
    ecrPublic.on(BatchDeleteImageCommand).callsFake((input: { imageIds: ImageIdentifier[] }) => {
      const asked = input.imageIds.map((id) => id.imageDigest as string);
      const failures = [];
      const done = [];
      for (const digest of asked) {
        if (digest === gone) failures.push({ imageId: { imageDigest: digest }, failureCode: 'ImageNotFound' });
        else if (digest === busy && busyOnce) {
          busyOnce = false;
          failures.push({ imageId: { imageDigest: digest }, failureCode: 'ImageReferencedByManifestList' });
        } else if (digest === broken) {
          failures.push({ imageId: { imageDigest: digest }, failureCode: 'InvalidImageDigest', failureReason: 'no' });
        } else done.push({ imageDigest: digest });
      }
      return { imageIds: done, failures };
    });
    const gateway = gatewayWith();
    // Act
    const outcome = await gateway.deleteImages(REPO, ids);
    // Assess
    expect(outcome.alreadyGone).toEqual([gone]);
    expect(outcome.failed).toEqual([{ digest: broken, code: 'InvalidImageDigest', reason: 'no', retryable: false }]);
    expect(outcome.deleted).toEqual(ids.filter((d) => d !== gone && d !== broken));
    expect([1, 2, 3, 4].map((n) => idsSent(BatchDeleteImageCommand, n).length)).toEqual([100, 100, 30, 1]);
    expect(idsSent(BatchDeleteImageCommand, 1)[0]).toBe(ids[0]);
    expect(idsSent(BatchDeleteImageCommand, 4)).toEqual([busy]);
    expect(gateway.callCounts()).toEqual({ BatchDeleteImage: 4 });
  });

  it('stops re-trying after maxItemRetries rounds and reports what is left', async () => {
    // Prepare
    const [only] = digests(1);
    ecrPublic.on(BatchDeleteImageCommand).resolves({ imageIds: [], failures: [] });
    const gateway = gatewayWith({ maxItemRetries: 2 });
    // Act
    const outcome = await gateway.deleteImages(REPO, [only as string]);
    // Assess
    expect(outcome.failed).toEqual([expect.objectContaining({ digest: only, code: 'NotInResponse' })]);
    expect(gateway.callCounts()).toEqual({ BatchDeleteImage: 3 });
  });
});

describe('error mapping', () => {
  it('maps ECR Public exceptions into the gateway error tree, with the operation and repository', async () => {
    // Prepare
    ecrPublic
      .on(DescribeImagesCommand)
      .rejects({ name: 'ThrottlingException', message: 'slow down', $metadata: { httpStatusCode: 400 } });
    ecrPublic
      .on(GetRepositoryPolicyCommand)
      .rejects({ name: 'AccessDeniedException', message: 'no', $metadata: { httpStatusCode: 403 } });
    ecrPublic.on(GetRepositoryCatalogDataCommand).rejects({ name: 'ServerException', $metadata: {} });
    const gateway = gatewayWith();
    // Act & Assess
    const throttled = await collect(gateway.listImages(REPO)).catch((error: unknown) => error);
    expect(throttled).toBeInstanceOf(ThrottledError);
    expect(throttled).toMatchObject({ operation: 'DescribeImages', repository: REPO });
    await expect(gateway.getRepositoryPolicy(REPO)).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(gateway.getCatalogData(REPO)).rejects.toBeInstanceOf(EcrUnavailableError);
  });
});

describe('catalog data and policy', () => {
  it('answers undefined for a repository without catalog data or policy', async () => {
    // Prepare
    ecrPublic
      .on(GetRepositoryCatalogDataCommand)
      .rejects(new RepositoryCatalogDataNotFoundException({ message: 'none', $metadata: {} }));
    ecrPublic
      .on(GetRepositoryPolicyCommand)
      .rejects(new RepositoryPolicyNotFoundException({ message: 'none', $metadata: {} }));
    const gateway = gatewayWith();
    // Act & Assess
    expect(await gateway.getCatalogData(REPO)).toBeUndefined();
    expect(await gateway.getRepositoryPolicy(REPO)).toBeUndefined();
    expect(gateway.callCounts()).toEqual({ GetRepositoryCatalogData: 1, GetRepositoryPolicy: 1 });
  });

  it('sends the whole catalog data and maps the answer', async () => {
    // Prepare
    ecrPublic.on(PutRepositoryCatalogDataCommand).resolves({
      catalogData: { description: 'd', architectures: ['ARM 64'], operatingSystems: ['Linux'] },
    });
    const gateway = gatewayWith();
    // Act
    const data = await gateway.putCatalogData(REPO, { description: 'd', architectures: ['ARM 64'] });
    // Assess
    expect(data).toEqual({ description: 'd', architectures: ['ARM 64'], operatingSystems: ['Linux'] });
    expect(ecrPublic.commandCalls(PutRepositoryCatalogDataCommand)[0]?.args[0].input).toEqual({
      repositoryName: REPO,
      catalogData: { description: 'd', architectures: ['ARM 64'] },
    });
  });
});
