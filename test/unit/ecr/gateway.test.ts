import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  BatchGetRepositoryScanningConfigurationCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetRegistryScanningConfigurationCommand,
  type ImageDetail,
  type ImageIdentifier,
  ImageNotFoundException,
  LimitExceededException,
  ListImageReferrersCommand,
  PutImageTagMutabilityCommand,
  RepositoryNotFoundException,
  ScanNotFoundException,
  StartImageScanCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEcrGateway,
  type EcrGateway,
  type EcrGatewayOptions,
  ImageNotFoundError,
  InvalidRequestError,
  ReadOnlyViolationError,
  RepositoryNotFoundError,
  ScanNotFoundError,
} from '../../../shared/ecr/index.ts';
import { digestOf } from '../../helpers/images.ts';

const REPO = 'team/app';
const ecr = mockClient(ECRClient);

const gatewayWith = (options: EcrGatewayOptions = {}): EcrGateway =>
  createEcrGateway(new ECRClient({ region: 'us-east-1' }), { itemRetryDelayMs: 0, ...options });

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

/** The digests (or tags) of the `n`th (1-based) call of a command that takes `imageIds`. */
const idsSent = (
  command: typeof BatchDeleteImageCommand | typeof DescribeImagesCommand | typeof BatchGetImageCommand,
  n: number,
) => {
  const call = ecr.calls().filter((c) => c.args[0] instanceof command)[n - 1];
  const input = call?.args[0].input as { imageIds?: ImageIdentifier[] } | undefined;
  return (input?.imageIds ?? []).map((id) => id.imageDigest ?? id.imageTag);
};

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

beforeEach(() => {
  ecr.reset();
});

afterEach(() => {
  ecr.reset();
});

describe('createEcrGateway', () => {
  it('rejects options outside their bounds and unknown options', () => {
    // Act & Assess
    expect(() => gatewayWith({ maxItemRetries: -1 })).toThrow(RangeError);
    expect(() => gatewayWith({ readOnIy: true } as EcrGatewayOptions)).toThrow(/readOnIy/);
  });
});

describe('Method: listRepositories', () => {
  it('pages through DescribeRepositories with pages of 1000 and yields each repository', async () => {
    // Prepare
    ecr
      .on(DescribeRepositoriesCommand)
      .resolvesOnce({ repositories: [{ repositoryName: 'a' }, { repositoryName: 'b' }], nextToken: 't1' })
      .resolvesOnce({ repositories: [{ repositoryName: 'c' }] });
    // Act
    const repositories = await collect(gatewayWith().listRepositories());
    // Assess
    expect(repositories.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(ecr).toHaveReceivedNthCommandWith(DescribeRepositoriesCommand, 1, {
      maxResults: 1000,
      nextToken: undefined,
    });
    expect(ecr).toHaveReceivedNthCommandWith(DescribeRepositoriesCommand, 2, { maxResults: 1000, nextToken: 't1' });
  });
});

describe('Method: getRepository', () => {
  it('maps the repository to a summary', async () => {
    // Prepare
    ecr.on(DescribeRepositoriesCommand, { repositoryNames: [REPO] }).resolves({
      repositories: [
        {
          repositoryName: REPO,
          repositoryArn: `arn:aws:ecr:us-east-1:123456789012:repository/${REPO}`,
          repositoryUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${REPO}`,
          registryId: '123456789012',
          createdAt: new Date('2026-01-02T03:04:05Z'),
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filter: 'latest', filterType: 'WILDCARD' }],
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'arn:aws:kms:us-east-1:123456789012:key/k' },
        },
      ],
    });
    // Act
    const repository = await gatewayWith().getRepository(REPO);
    // Assess
    expect(repository).toEqual({
      name: REPO,
      arn: `arn:aws:ecr:us-east-1:123456789012:repository/${REPO}`,
      uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${REPO}`,
      registryId: '123456789012',
      createdAt: Date.parse('2026-01-02T03:04:05Z'),
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filter: 'latest', filterType: 'WILDCARD' }],
      scanOnPush: true,
      encryptionType: 'KMS',
      kmsKey: 'arn:aws:kms:us-east-1:123456789012:key/k',
    });
  });

  it('throws RepositoryNotFoundError naming the operation and repository', async () => {
    // Prepare
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(new RepositoryNotFoundException({ message: 'The repository does not exist', $metadata: {} }));
    // Act
    const attempt = gatewayWith().getRepository(REPO);
    // Assess
    await expect(attempt).rejects.toThrow(RepositoryNotFoundError);
    await expect(attempt).rejects.toThrow(
      "DescribeRepositories on repository 'team/app': RepositoryNotFoundException: The repository does not exist",
    );
  });
});

describe('Method: listImages', () => {
  it('pages through three DescribeImages pages of 1000 and yields each page as domain records', async () => {
    // Prepare
    const [first, second, third] = [digests(1000, 'p1'), digests(1000, 'p2'), digests(7, 'p3')];
    ecr
      .on(DescribeImagesCommand)
      .resolvesOnce({ imageDetails: first.map((d) => detail(d)), nextToken: 'token-1' })
      .resolvesOnce({ imageDetails: second.map((d) => detail(d)), nextToken: 'token-2' })
      .resolvesOnce({ imageDetails: third.map((d) => detail(d)) });
    // Act
    const pages = await collect(gatewayWith().listImages(REPO));
    // Assess
    expect(pages.map((page) => page.length)).toEqual([1000, 1000, 7]);
    expect(pages[2]?.[0]?.digest).toBe(third[0]);
    expect(ecr).toHaveReceivedCommandTimes(DescribeImagesCommand, 3);
    expect(ecr).toHaveReceivedNthCommandWith(DescribeImagesCommand, 1, {
      repositoryName: REPO,
      maxResults: 1000,
      nextToken: undefined,
    });
    expect(ecr).toHaveReceivedNthCommandWith(DescribeImagesCommand, 2, {
      repositoryName: REPO,
      maxResults: 1000,
      nextToken: 'token-1',
    });
    expect(ecr).toHaveReceivedNthCommandWith(DescribeImagesCommand, 3, {
      repositoryName: REPO,
      maxResults: 1000,
      nextToken: 'token-2',
    });
  });

  it('maps an image detail to a record with epoch-millisecond times and no child digests', async () => {
    // Prepare
    const subject = digestOf('subject');
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        detail(digestOf('sbom'), {
          imageTags: ['v1'],
          lastRecordedPullTime: new Date('2026-02-01T00:00:00Z'),
          artifactMediaType: 'text/spdx+json',
          subjectManifestDigest: subject,
        }),
      ],
    });
    // Act
    const [page] = await collect(gatewayWith().listImages(REPO));
    // Assess
    expect(page).toEqual([
      {
        digest: digestOf('sbom'),
        tags: ['v1'],
        pushedAt: Date.parse('2026-01-01T00:00:00Z'),
        lastPulledAt: Date.parse('2026-02-01T00:00:00Z'),
        sizeInBytes: 1000,
        manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactMediaType: 'text/spdx+json',
        subjectDigest: subject,
      },
    ]);
  });

  it('sends the tag status filter when one is given', async () => {
    // Prepare
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] });
    // Act
    await collect(gatewayWith().listImages(REPO, { tagStatus: 'UNTAGGED' }));
    // Assess
    expect(ecr).toHaveReceivedCommandWith(DescribeImagesCommand, { filter: { tagStatus: 'UNTAGGED' } });
  });

  it('throws RepositoryNotFoundError when the repository is gone', async () => {
    // Prepare
    ecr
      .on(DescribeImagesCommand)
      .rejects(new RepositoryNotFoundException({ message: 'The repository does not exist', $metadata: {} }));
    // Act
    const attempt = collect(gatewayWith().listImages(REPO));
    // Assess
    await expect(attempt).rejects.toThrow(RepositoryNotFoundError);
    await expect(attempt).rejects.toMatchObject({ operation: 'DescribeImages', repository: REPO });
  });
});

describe('Method: describeImages', () => {
  it('splits 250 digests into three DescribeImages calls of 100, 100 and 50', async () => {
    // Prepare
    const ids = digests(250);
    ecr.on(DescribeImagesCommand).callsFake((input: { imageIds: { imageDigest: string }[] }) => ({
      imageDetails: input.imageIds.map((id) => detail(id.imageDigest)),
    }));
    // Act
    const result = await gatewayWith().describeImages(REPO, ids);
    // Assess
    expect(ecr).toHaveReceivedCommandTimes(DescribeImagesCommand, 3);
    expect(idsSent(DescribeImagesCommand, 1)).toEqual(ids.slice(0, 100));
    expect(idsSent(DescribeImagesCommand, 2)).toEqual(ids.slice(100, 200));
    expect(idsSent(DescribeImagesCommand, 3)).toEqual(ids.slice(200));
    expect(result.images.map((image) => image.digest)).toEqual(ids);
    expect(result.missing).toEqual([]);
  });

  it('splits a batch on ImageNotFoundException, returns the present images and reports the missing ones', async () => {
    // Prepare
    const ids = digests(100);
    const gone = new Set([ids[17], ids[80]]);
    ecr.on(DescribeImagesCommand).callsFake((input: { imageIds: { imageDigest: string }[] }) => {
      if (input.imageIds.some((id) => gone.has(id.imageDigest))) {
        throw new ImageNotFoundException({ message: 'The image does not exist', $metadata: {} });
      }
      return { imageDetails: input.imageIds.map((id) => detail(id.imageDigest)) };
    });
    // Act
    const result = await gatewayWith().describeImages(REPO, ids);
    // Assess
    expect(result.missing).toEqual([ids[17], ids[80]]);
    expect(result.images.map((image) => image.digest)).toEqual(ids.filter((id) => !gone.has(id)));
    expect(ecr.commandCalls(DescribeImagesCommand).length).toBeLessThanOrEqual(1 + 2 * 2 * Math.ceil(Math.log2(100)));
  });

  it('reports a digest the response leaves out as missing', async () => {
    // Prepare
    const [present, absent] = digests(2);
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [detail(present as string)] });
    // Act
    const result = await gatewayWith().describeImages(REPO, [present as string, absent as string]);
    // Assess
    expect(result).toMatchObject({ images: [{ digest: present }], missing: [absent] });
  });
});

describe('Method: findImageByTag', () => {
  it('describes the image a tag names', async () => {
    // Prepare
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [detail(digestOf('a'), { imageTags: ['v1', 'latest'] })] });
    // Act
    const image = await gatewayWith().findImageByTag(REPO, 'latest');
    // Assess
    expect(ecr).toHaveReceivedCommandWith(DescribeImagesCommand, {
      repositoryName: REPO,
      imageIds: [{ imageTag: 'latest' }],
    });
    expect(image).toMatchObject({ digest: digestOf('a'), tags: ['v1', 'latest'] });
  });

  it('answers undefined when no image carries the tag (ImageNotFoundException)', async () => {
    // Prepare
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'not found', $metadata: {} }));
    // Act
    const image = await gatewayWith().findImageByTag(REPO, 'gone');
    // Assess
    expect(image).toBeUndefined();
  });

  it('throws RepositoryNotFoundError when the repository is gone', async () => {
    // Prepare
    ecr.on(DescribeImagesCommand).rejects(new RepositoryNotFoundException({ message: 'no repo', $metadata: {} }));
    // Act
    const attempt = gatewayWith().findImageByTag(REPO, 'v1');
    // Assess
    await expect(attempt).rejects.toThrow(RepositoryNotFoundError);
  });
});

describe('Method: getManifests', () => {
  it('asks for every manifest and index media type, in batches of 100', async () => {
    // Prepare
    const ids = digests(150);
    ecr.on(BatchGetImageCommand).callsFake((input: { imageIds: { imageDigest: string }[] }) => ({
      images: input.imageIds.map((id) => ({
        imageId: id,
        imageManifest: '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
        imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
      })),
    }));
    // Act
    const result = await gatewayWith().getManifests(REPO, ids);
    // Assess
    expect(ecr).toHaveReceivedCommandTimes(BatchGetImageCommand, 2);
    expect(ecr).toHaveReceivedNthCommandWith(BatchGetImageCommand, 1, {
      repositoryName: REPO,
      acceptedMediaTypes: expect.arrayContaining([
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
      ]),
    });
    expect(result.manifests).toHaveLength(150);
    expect(result.manifests[0]).toMatchObject({ digest: ids[0], mediaType: 'application/vnd.oci.image.index.v1+json' });
  });

  it('returns per-id failures next to the manifests it got', async () => {
    // Prepare
    const [found, gone] = digests(2) as [string, string];
    ecr.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: found }, imageManifest: '{"schemaVersion":2}' }],
      failures: [
        { imageId: { imageDigest: gone }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
      ],
    });
    // Act
    const result = await gatewayWith().getManifests(REPO, [found, gone]);
    // Assess
    expect(result.manifests).toEqual([
      { digest: found, mediaType: 'application/vnd.oci.image.manifest.v1+json', manifest: '{"schemaVersion":2}' },
    ]);
    expect(result.failures).toEqual([
      { digest: gone, code: 'ImageNotFound', reason: 'Requested image not found', retryable: false },
    ]);
  });

  it('re-tries an id that failed with UpstreamTooManyRequests', async () => {
    // Prepare
    const [digest] = digests(1) as [string];
    ecr
      .on(BatchGetImageCommand)
      .resolvesOnce({ failures: [{ imageId: { imageDigest: digest }, failureCode: 'UpstreamTooManyRequests' }] })
      .resolvesOnce({ images: [{ imageId: { imageDigest: digest }, imageManifest: '{"schemaVersion":2}' }] });
    // Act
    const result = await gatewayWith().getManifests(REPO, [digest]);
    // Assess
    expect(result.failures).toEqual([]);
    expect(result.manifests.map((m) => m.digest)).toEqual([digest]);
  });
});

describe('Method: deleteImages', () => {
  it('splits 250 digests into three BatchDeleteImage calls, in the order given', async () => {
    // Prepare
    const ids = digests(250);
    ecr.on(BatchDeleteImageCommand).callsFake((input: { imageIds: { imageDigest: string }[] }) => ({
      imageIds: input.imageIds,
      failures: [],
    }));
    // Act
    const outcome = await gatewayWith().deleteImages(REPO, ids);
    // Assess
    expect(ecr).toHaveReceivedCommandTimes(BatchDeleteImageCommand, 3);
    expect(idsSent(BatchDeleteImageCommand, 1)).toEqual(ids.slice(0, 100));
    expect(idsSent(BatchDeleteImageCommand, 2)).toEqual(ids.slice(100, 200));
    expect(idsSent(BatchDeleteImageCommand, 3)).toEqual(ids.slice(200));
    expect(outcome).toEqual({ deleted: ids, alreadyGone: [], failed: [] });
  });

  it('keeps non-retryable per-id failures and does not re-try them', async () => {
    // Prepare
    const [ok, bad] = digests(2) as [string, string];
    ecr.on(BatchDeleteImageCommand).resolves({
      imageIds: [{ imageDigest: ok }],
      failures: [{ imageId: { imageDigest: bad }, failureCode: 'InvalidImageDigest', failureReason: 'Invalid digest' }],
    });
    // Act
    const outcome = await gatewayWith().deleteImages(REPO, [ok, bad]);
    // Assess
    expect(outcome).toEqual({
      deleted: [ok],
      alreadyGone: [],
      failed: [{ digest: bad, code: 'InvalidImageDigest', reason: 'Invalid digest', retryable: false }],
    });
    expect(ecr).toHaveReceivedCommandTimes(BatchDeleteImageCommand, 1);
  });

  it('counts ImageNotFound as already gone, not as a failure', async () => {
    // Prepare
    const [gone] = digests(1) as [string];
    ecr.on(BatchDeleteImageCommand).resolves({
      imageIds: [],
      failures: [
        { imageId: { imageDigest: gone }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
      ],
    });
    // Act
    const outcome = await gatewayWith().deleteImages(REPO, [gone]);
    // Assess
    expect(outcome).toEqual({ deleted: [], alreadyGone: [gone], failed: [] });
  });

  it('re-tries a retryable failure and succeeds in the second round', async () => {
    // Prepare
    const [parent, child] = digests(2) as [string, string];
    ecr
      .on(BatchDeleteImageCommand)
      .resolvesOnce({
        imageIds: [{ imageDigest: parent }],
        failures: [{ imageId: { imageDigest: child }, failureCode: 'ImageReferencedByManifestList' }],
      })
      .resolvesOnce({ imageIds: [{ imageDigest: child }] });
    // Act
    const outcome = await gatewayWith().deleteImages(REPO, [parent, child]);
    // Assess
    expect(outcome).toEqual({ deleted: [parent, child], alreadyGone: [], failed: [] });
    expect(ecr).toHaveReceivedCommandTimes(BatchDeleteImageCommand, 2);
    expect(idsSent(BatchDeleteImageCommand, 2)).toEqual([child]);
  });

  it('gives up after maxItemRetries rounds and reports the last failure', async () => {
    // Prepare
    const [digest] = digests(1) as [string];
    ecr.on(BatchDeleteImageCommand).resolves({
      failures: [{ imageId: { imageDigest: digest }, failureCode: 'KmsError', failureReason: 'KMS unavailable' }],
    });
    // Act
    const outcome = await gatewayWith({ maxItemRetries: 2 }).deleteImages(REPO, [digest]);
    // Assess
    expect(ecr).toHaveReceivedCommandTimes(BatchDeleteImageCommand, 3);
    expect(outcome.failed).toEqual([{ digest, code: 'KmsError', reason: 'KMS unavailable', retryable: true }]);
  });

  it('asks again about a digest the response does not mention, instead of assuming it deleted', async () => {
    // Prepare
    const [digest] = digests(1) as [string];
    ecr
      .on(BatchDeleteImageCommand)
      .resolvesOnce({ imageIds: [], failures: [] })
      .resolvesOnce({ imageIds: [{ imageDigest: digest }] });
    // Act
    const outcome = await gatewayWith().deleteImages(REPO, [digest]);
    // Assess
    expect(outcome.deleted).toEqual([digest]);
    expect(ecr).toHaveReceivedCommandTimes(BatchDeleteImageCommand, 2);
  });

  it('sends a digest given twice only once', async () => {
    // Prepare
    const [digest] = digests(1) as [string];
    ecr.on(BatchDeleteImageCommand).resolves({ imageIds: [{ imageDigest: digest }] });
    // Act
    await gatewayWith().deleteImages(REPO, [digest, digest]);
    // Assess
    expect(idsSent(BatchDeleteImageCommand, 1)).toEqual([digest]);
  });
});

describe('Method: untagImages', () => {
  it('sends tags as image ids and reports the tags removed and the ones already gone', async () => {
    // Prepare
    ecr.on(BatchDeleteImageCommand).resolves({
      imageIds: [{ imageDigest: digestOf('a'), imageTag: 'v1' }],
      failures: [
        { imageId: { imageTag: 'v0' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
      ],
    });
    // Act
    const outcome = await gatewayWith().untagImages(REPO, ['v1', 'v0']);
    // Assess
    expect(ecr).toHaveReceivedCommandWith(BatchDeleteImageCommand, {
      repositoryName: REPO,
      imageIds: [{ imageTag: 'v1' }, { imageTag: 'v0' }],
    });
    expect(outcome).toEqual({ untagged: ['v1'], alreadyGone: ['v0'], failed: [] });
  });
});

describe('Read-only mode', () => {
  const mutations: [string, (gateway: EcrGateway) => Promise<unknown>][] = [
    ['deleteImages', (gateway) => gateway.deleteImages(REPO, [digestOf('a')])],
    ['untagImages', (gateway) => gateway.untagImages(REPO, ['v1'])],
    ['startImageScan', (gateway) => gateway.startImageScan(REPO, digestOf('a'))],
    ['putTagMutability', (gateway) => gateway.putTagMutability(REPO, 'IMMUTABLE')],
  ];

  it.each(mutations)('refuses %s before sending anything', async (_name, mutate) => {
    // Prepare
    const gateway = gatewayWith({ readOnly: true });
    // Act
    const attempt = mutate(gateway);
    // Assess
    await expect(attempt).rejects.toThrow(ReadOnlyViolationError);
    await expect(attempt).rejects.toThrow(/on repository 'team\/app'.*read-only/);
    expect(ecr).not.toHaveReceivedAnyCommand();
  });

  it('refuses even an empty delete, so that dry run cannot mutate by construction', async () => {
    // Act
    const attempt = gatewayWith({ readOnly: true }).deleteImages(REPO, []);
    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'ReadOnlyViolationError', operation: 'BatchDeleteImage' });
  });

  it('still reads', async () => {
    // Prepare
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [detail(digestOf('a'))] });
    const gateway = gatewayWith({ readOnly: true });
    // Act
    const pages = await collect(gateway.listImages(REPO));
    // Assess
    expect(gateway.readOnly).toBe(true);
    expect(pages.flat()).toHaveLength(1);
  });
});

describe('Method: callCounts', () => {
  it('counts every page, batch and re-try round per operation', async () => {
    // Prepare
    const [a, b] = digests(2) as [string, string];
    ecr
      .on(DescribeImagesCommand)
      .resolvesOnce({ imageDetails: [detail(a)], nextToken: 'next' })
      .resolvesOnce({ imageDetails: [detail(b)] });
    ecr
      .on(BatchDeleteImageCommand)
      .resolvesOnce({ failures: [{ imageId: { imageDigest: a }, failureCode: 'UpstreamUnavailable' }] })
      .resolvesOnce({ imageIds: [{ imageDigest: a }] });
    const gateway = gatewayWith();
    // Act
    await collect(gateway.listImages(REPO));
    await gateway.deleteImages(REPO, [a]);
    // Assess
    expect(gateway.callCounts()).toEqual({ DescribeImages: 2, BatchDeleteImage: 2 });
  });

  it('counts a call that failed', async () => {
    // Prepare
    ecr.on(DescribeRepositoriesCommand).rejects(new RepositoryNotFoundException({ message: 'gone', $metadata: {} }));
    const gateway = gatewayWith();
    // Act
    await gateway.getRepository(REPO).catch(() => undefined);
    // Assess
    expect(gateway.callCounts()).toEqual({ DescribeRepositories: 1 });
  });
});

describe('Scanning', () => {
  it('maps the registry scanning configuration', async () => {
    // Prepare
    ecr.on(GetRegistryScanningConfigurationCommand).resolves({
      registryId: '123456789012',
      scanningConfiguration: {
        scanType: 'BASIC',
        rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'team/*', filterType: 'WILDCARD' }] }],
      },
    });
    // Act
    const settings = await gatewayWith().getRegistryScanningConfiguration();
    // Assess
    expect(settings).toEqual({
      registryId: '123456789012',
      scanType: 'BASIC',
      rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'team/*', filterType: 'WILDCARD' }] }],
    });
  });

  it('reads repository scanning configurations in batches of 25 and keeps failures', async () => {
    // Prepare
    const names = Array.from({ length: 30 }, (_, index) => `repo-${index}`);
    ecr.on(BatchGetRepositoryScanningConfigurationCommand).callsFake((input: { repositoryNames: string[] }) => ({
      scanningConfigurations: input.repositoryNames
        .filter((name) => name !== 'repo-29')
        .map((name) => ({ repositoryName: name, scanOnPush: false, scanFrequency: 'MANUAL' })),
      failures: input.repositoryNames.includes('repo-29')
        ? [{ repositoryName: 'repo-29', failureCode: 'REPOSITORY_NOT_FOUND', failureReason: 'not found' }]
        : [],
    }));
    // Act
    const result = await gatewayWith().getRepositoryScanningConfigurations(names);
    // Assess
    expect(ecr).toHaveReceivedCommandTimes(BatchGetRepositoryScanningConfigurationCommand, 2);
    expect(ecr).toHaveReceivedNthCommandWith(BatchGetRepositoryScanningConfigurationCommand, 2, {
      repositoryNames: names.slice(25),
    });
    expect(result.configurations).toHaveLength(29);
    expect(result.failures).toEqual([{ repositoryName: 'repo-29', code: 'REPOSITORY_NOT_FOUND', reason: 'not found' }]);
  });

  it('starts a scan', async () => {
    // Prepare
    ecr.on(StartImageScanCommand).resolves({ imageScanStatus: { status: 'IN_PROGRESS' } });
    // Act
    const outcome = await gatewayWith().startImageScan(REPO, digestOf('a'));
    // Assess
    expect(outcome).toEqual({ started: true, status: 'IN_PROGRESS' });
    expect(ecr).toHaveReceivedCommandWith(StartImageScanCommand, {
      repositoryName: REPO,
      imageId: { imageDigest: digestOf('a') },
    });
  });

  it('answers started: false when the image was already scanned today (LimitExceededException)', async () => {
    // Prepare
    ecr
      .on(StartImageScanCommand)
      .rejects(new LimitExceededException({ message: 'The scan quota per image has been exceeded', $metadata: {} }));
    // Act
    const outcome = await gatewayWith().startImageScan(REPO, digestOf('a'));
    // Assess
    expect(outcome).toMatchObject({ started: false, reason: 'scan-quota-exceeded' });
  });

  it('throws ImageNotFoundError when the image to scan is gone', async () => {
    // Prepare
    ecr.on(StartImageScanCommand).rejects(new ImageNotFoundException({ message: 'gone', $metadata: {} }));
    // Act
    const attempt = gatewayWith().startImageScan(REPO, digestOf('a'));
    // Assess
    await expect(attempt).rejects.toThrow(ImageNotFoundError);
  });

  it('pages through scan findings with pages of 1000 and maps basic and enhanced findings', async () => {
    // Prepare
    const completedAt = new Date('2026-03-01T00:00:00Z');
    ecr
      .on(DescribeImageScanFindingsCommand)
      .resolvesOnce({
        imageScanStatus: { status: 'COMPLETE', description: 'done' },
        imageScanFindings: {
          imageScanCompletedAt: completedAt,
          findingSeverityCounts: { HIGH: 1 },
          findings: [{ name: 'CVE-2026-1', severity: 'HIGH', attributes: [{ key: 'package_name', value: 'openssl' }] }],
        },
        nextToken: 'more',
      })
      .resolvesOnce({
        imageScanStatus: { status: 'COMPLETE' },
        imageScanFindings: {
          enhancedFindings: [
            {
              findingArn: 'arn:finding',
              severity: 'CRITICAL',
              status: 'ACTIVE',
              packageVulnerabilityDetails: {
                vulnerabilityId: 'CVE-2026-2',
                vulnerablePackages: [{ name: 'glibc', version: '2.1', fixedInVersion: '2.2' }],
              },
            },
          ],
        },
      });
    // Act
    const pages = await collect(gatewayWith().getScanFindings(REPO, digestOf('a')));
    // Assess
    expect(ecr).toHaveReceivedNthCommandWith(DescribeImageScanFindingsCommand, 1, {
      repositoryName: REPO,
      imageId: { imageDigest: digestOf('a') },
      maxResults: 1000,
    });
    expect(ecr).toHaveReceivedNthCommandWith(DescribeImageScanFindingsCommand, 2, { nextToken: 'more' });
    expect(pages[0]).toEqual({
      status: 'COMPLETE',
      statusDescription: 'done',
      completedAt: completedAt.getTime(),
      severityCounts: { HIGH: 1 },
      findings: [{ name: 'CVE-2026-1', severity: 'HIGH', attributes: { package_name: 'openssl' } }],
      enhancedFindings: [],
    });
    expect(pages[1]?.enhancedFindings).toEqual([
      {
        findingArn: 'arn:finding',
        severity: 'CRITICAL',
        status: 'ACTIVE',
        vulnerabilityId: 'CVE-2026-2',
        packages: [{ name: 'glibc', version: '2.1', fixedInVersion: '2.2' }],
      },
    ]);
  });

  it('throws ScanNotFoundError for an image never scanned', async () => {
    // Prepare
    ecr
      .on(DescribeImageScanFindingsCommand)
      .rejects(new ScanNotFoundException({ message: 'No scan found', $metadata: {} }));
    // Act
    const attempt = collect(gatewayWith().getScanFindings(REPO, digestOf('a')));
    // Assess
    await expect(attempt).rejects.toThrow(ScanNotFoundError);
  });
});

describe('Method: putTagMutability', () => {
  it('sends the mutability with WILDCARD exclusion filters', async () => {
    // Prepare
    ecr.on(PutImageTagMutabilityCommand).resolves({
      repositoryName: REPO,
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filter: 'dev-*', filterType: 'WILDCARD' }],
    });
    // Act
    const settings = await gatewayWith().putTagMutability(REPO, 'IMMUTABLE_WITH_EXCLUSION', ['dev-*']);
    // Assess
    expect(ecr).toHaveReceivedCommandWith(PutImageTagMutabilityCommand, {
      repositoryName: REPO,
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filter: 'dev-*', filterType: 'WILDCARD' }],
    });
    expect(settings).toEqual({
      repositoryName: REPO,
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filter: 'dev-*', filterType: 'WILDCARD' }],
    });
  });

  it('rejects more than five exclusion filters without calling ECR', async () => {
    // Act
    const attempt = gatewayWith().putTagMutability(REPO, 'MUTABLE_WITH_EXCLUSION', ['a', 'b', 'c', 'd', 'e', 'f']);
    // Assess
    await expect(attempt).rejects.toThrow(InvalidRequestError);
    expect(ecr).not.toHaveReceivedAnyCommand();
  });
});

describe('Method: listImageReferrers', () => {
  it('loops on nextToken with pages of 50', async () => {
    // Prepare
    const subject = digestOf('subject');
    ecr
      .on(ListImageReferrersCommand)
      .resolvesOnce({
        referrers: [
          {
            digest: digestOf('sig'),
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
            size: 500,
          },
        ],
        nextToken: 'page-2',
      })
      .resolvesOnce({
        referrers: [{ digest: digestOf('sbom'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 700 }],
      });
    // Act
    const referrers = await collect(gatewayWith().listImageReferrers(REPO, subject));
    // Assess
    expect(referrers.map((r) => r.digest)).toEqual([digestOf('sig'), digestOf('sbom')]);
    expect(referrers[0]).toMatchObject({
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      sizeInBytes: 500,
    });
    expect(ecr).toHaveReceivedNthCommandWith(ListImageReferrersCommand, 1, {
      repositoryName: REPO,
      subjectId: { imageDigest: subject },
      maxResults: 50,
    });
    expect(ecr).toHaveReceivedNthCommandWith(ListImageReferrersCommand, 2, { nextToken: 'page-2', maxResults: 50 });
  });
});
