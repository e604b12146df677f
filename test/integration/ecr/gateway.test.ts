import { createHash } from 'node:crypto';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImageRecord } from '../../../shared/domain/image.ts';
import {
  createEcrClient,
  createEcrGateway,
  ECR_CLIENT_MAX_ATTEMPTS,
  type ECRClient,
  type EcrGateway,
  type EcrGatewayOptions,
  ReadOnlyViolationError,
  RepositoryNotFoundError,
  ScanNotFoundError,
} from '../../../shared/ecr/index.ts';
import { control, startTestRegistry, TEST_REGION } from '../../helpers/registry.ts';

const REPO = 'team/app';
const CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret' };
const MISSING = `sha256:${'0'.repeat(64)}`;

interface LoadedImage {
  id?: string;
  imageDigest: string;
  imageTags: string[];
}

interface FixtureImage {
  id: string;
  tags?: string[];
  kind?: 'image' | 'index' | 'signature' | 'attestation' | 'sbom';
  children?: string[];
  subject?: string;
  pushedAt?: string;
  scanned?: boolean;
  findings?: Record<string, unknown>[];
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe('EcrGateway against the local registry', () => {
  let server: RegistryServer;
  let client: ECRClient;

  /** Loads one repository through the control API; returns each image's digest by fixture id. */
  async function seed(images: FixtureImage[], name = REPO): Promise<Map<string, string>> {
    const loaded = await control<{ images: LoadedImage[] }>(server, 'load', { repositories: [{ name, images }] });
    return new Map(loaded.images.map((image) => [image.id ?? image.imageDigest, image.imageDigest]));
  }

  const plainImages = (count: number, prefix = 'img'): FixtureImage[] =>
    Array.from({ length: count }, (_, index) => ({ id: `${prefix}-${index}` }));

  const gatewayWith = (options: EcrGatewayOptions = {}): EcrGateway =>
    createEcrGateway(client, { itemRetryDelayMs: 10, ...options });

  const registryCalls = async () => (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;

  beforeAll(async () => {
    server = await startTestRegistry();
    // AWS_MAX_ATTEMPTS is 1 in the test environment; the product's default is what these tests exercise.
    client = createEcrClient({
      endpoint: server.url,
      region: TEST_REGION,
      credentials: CREDENTIALS,
      maxAttempts: ECR_CLIENT_MAX_ATTEMPTS,
    });
  });

  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  beforeEach(async () => {
    server.reset();
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  describe('listing', () => {
    it('lists 2,100 images in three DescribeImages pages of at most 1000', async () => {
      // Prepare
      const digests = await seed(plainImages(2100));
      const gateway = gatewayWith();
      // Act
      const pages = await collect(gateway.listImages(REPO));
      // Assess
      expect(pages.map((page) => page.length)).toEqual([1000, 1000, 100]);
      expect(new Set(pages.flat().map((image) => image.digest))).toEqual(new Set(digests.values()));
      expect(gateway.callCounts()).toEqual({ DescribeImages: 3 });
    });

    it('completes a full listing while DescribeImages is throttled, thanks to the adaptive retries', async () => {
      // Prepare: 4,100 images are five pages; with a 0.3 rate the registry throttles its 4th, 7th, ... call
      const digests = await seed(plainImages(4100));
      await control(server, 'faults', { operation: 'DescribeImages', throttleRate: 0.3 });
      // A client of its own, with the product's retry settings (AWS_MAX_ATTEMPTS unset): the adaptive rate limiter
      // it slows down must not slow the other tests.
      vi.stubEnv('AWS_MAX_ATTEMPTS', '');
      const throttled = createEcrClient({ endpoint: server.url, region: TEST_REGION, credentials: CREDENTIALS });
      const gateway = createEcrGateway(throttled);
      const before = (await registryCalls()).DescribeImages ?? 0;
      // Act
      const images = (await collect(gateway.listImages(REPO))).flat();
      throttled.destroy();
      // Assess
      expect(images).toHaveLength(4100);
      expect(new Set(images.map((image) => image.digest))).toEqual(new Set(digests.values()));
      const served = ((await registryCalls()).DescribeImages ?? 0) - before;
      expect(served).toBeGreaterThan(5); // the SDK re-sent the throttled pages
      expect(gateway.callCounts()).toEqual({ DescribeImages: served }); // and the gateway counted the re-sends
    });

    it('reads 1,000 images by digest while DescribeImages is throttled', async () => {
      // Prepare: 10 batches of 100; the registry throttles calls 4, 7, 10, 14, ... (a deterministic 30%)
      const digests = [...(await seed(plainImages(1000))).values()];
      await control(server, 'faults', { operation: 'DescribeImages', throttleRate: 0.3 });
      vi.stubEnv('AWS_MAX_ATTEMPTS', '');
      const throttled = createEcrClient({ endpoint: server.url, region: TEST_REGION, credentials: CREDENTIALS });
      const gateway = createEcrGateway(throttled);
      const before = (await registryCalls()).DescribeImages ?? 0;
      // Act
      const result = await gateway.describeImages(REPO, digests);
      throttled.destroy();
      // Assess
      expect(result.missing).toEqual([]);
      expect(result.images.map((image) => image.digest)).toEqual(digests);
      const served = ((await registryCalls()).DescribeImages ?? 0) - before;
      expect(served).toBeGreaterThanOrEqual(13); // each throttled call re-sent
      expect(gateway.callCounts()).toEqual({ DescribeImages: served });
    });

    it('maps tags, push times and media types of the images it lists', async () => {
      // Prepare
      const digests = await seed([
        { id: 'amd64' },
        { id: 'arm64' },
        { id: 'multi', kind: 'index', children: ['amd64', 'arm64'], tags: ['v1', 'latest'], pushedAt: '-3d' },
      ]);
      // Act
      const images = (await collect(gatewayWith().listImages(REPO, { tagStatus: 'TAGGED' }))).flat();
      // Assess
      expect(images).toHaveLength(1);
      const [index] = images as [ImageRecord];
      expect(index).toMatchObject({
        digest: digests.get('multi'),
        manifestMediaType: 'application/vnd.oci.image.index.v1+json',
      });
      expect([...index.tags].sort()).toEqual(['latest', 'v1']);
      expect(Math.abs(Date.now() - 3 * 86_400_000 - index.pushedAt)).toBeLessThan(60_000);
      expect(index.childDigests).toBeUndefined();
    });

    it('lists repositories and reads one by name', async () => {
      // Prepare
      await control(server, 'load', {
        repositories: [{ name: 'team/a' }, { name: 'team/b', imageTagMutability: 'IMMUTABLE', scanOnPush: true }],
      });
      const gateway = gatewayWith();
      // Act
      const names = (await collect(gateway.listRepositories())).map((repository) => repository.name);
      const b = await gateway.getRepository('team/b');
      // Assess
      expect(names.sort()).toEqual(['team/a', 'team/b']);
      expect(b).toMatchObject({ name: 'team/b', imageTagMutability: 'IMMUTABLE', scanOnPush: true });
      expect(b.uri).toContain('team/b');
    });

    it('throws RepositoryNotFoundError for a repository that does not exist', async () => {
      // Act
      const attempt = gatewayWith().getRepository('team/none');
      // Assess
      await expect(attempt).rejects.toThrow(RepositoryNotFoundError);
      await expect(attempt).rejects.toThrow(/DescribeRepositories on repository 'team\/none'/);
    });

    it('reaches the registry named by AWS_ENDPOINT_URL_ECR without an explicit endpoint', async () => {
      // Prepare
      await control(server, 'load', { repositories: [{ name: 'team/env' }] });
      vi.stubEnv('AWS_ENDPOINT_URL_ECR', server.url);
      const fromEnvironment = createEcrClient({ region: TEST_REGION, credentials: CREDENTIALS });
      // Act
      const repositories = await collect(createEcrGateway(fromEnvironment).listRepositories());
      // Assess
      expect(repositories.map((repository) => repository.name)).toEqual(['team/env']);
      fromEnvironment.destroy();
    });
  });

  describe('reading by digest', () => {
    it('returns the present images and reports the missing ones when some digests are gone', async () => {
      // Prepare
      const digests = [...(await seed(plainImages(150))).values()];
      const asked = [...digests.slice(0, 120), MISSING, ...digests.slice(120)];
      const gateway = gatewayWith();
      // Act
      const result = await gateway.describeImages(REPO, asked);
      // Assess
      expect(result.missing).toEqual([MISSING]);
      expect(result.images.map((image) => image.digest)).toEqual(digests);
      expect(gateway.callCounts().DescribeImages).toBeGreaterThan(2);
    });

    it('returns manifests byte for byte, index included, and reports the missing digest', async () => {
      // Prepare
      const digests = await seed([
        { id: 'amd64' },
        { id: 'arm64' },
        { id: 'multi', kind: 'index', children: ['amd64', 'arm64'] },
      ]);
      const multi = digests.get('multi') as string;
      // Act
      const result = await gatewayWith().getManifests(REPO, [multi, MISSING]);
      // Assess
      const [manifest] = result.manifests;
      expect(manifest?.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      expect(
        `sha256:${createHash('sha256')
          .update(manifest?.manifest ?? '')
          .digest('hex')}`,
      ).toBe(multi);
      expect(JSON.parse(manifest?.manifest ?? '{}').manifests).toHaveLength(2);
      expect(result.failures).toEqual([
        expect.objectContaining({ digest: MISSING, code: 'ImageNotFound', retryable: false }),
      ]);
    });
  });

  describe('deleting', () => {
    it('deletes children listed before their index by re-trying them once the index is gone', async () => {
      // Prepare
      const digests = await seed([
        { id: 'amd64' },
        { id: 'arm64' },
        { id: 'multi', kind: 'index', children: ['amd64', 'arm64'], tags: ['v1'] },
      ]);
      const order = ['amd64', 'arm64', 'multi'].map((id) => digests.get(id) as string);
      const gateway = gatewayWith();
      // Act
      const outcome = await gateway.deleteImages(REPO, [...order, MISSING]);
      // Assess
      expect(outcome).toEqual({ deleted: order, alreadyGone: [MISSING], failed: [] });
      expect(gateway.callCounts()).toEqual({ BatchDeleteImage: 2 });
      expect((await collect(gateway.listImages(REPO))).flat()).toEqual([]);
    });

    it('reports a child whose index stays as failed after the re-try rounds', async () => {
      // Prepare
      const digests = await seed([{ id: 'amd64' }, { id: 'multi', kind: 'index', children: ['amd64'], tags: ['v1'] }]);
      const child = digests.get('amd64') as string;
      const gateway = gatewayWith({ maxItemRetries: 2, itemRetryDelayMs: 1 });
      // Act
      const outcome = await gateway.deleteImages(REPO, [child]);
      // Assess
      expect(outcome.failed).toEqual([
        expect.objectContaining({ digest: child, code: 'ImageReferencedByManifestList', retryable: true }),
      ]);
      expect(gateway.callCounts()).toEqual({ BatchDeleteImage: 3 });
    });

    it('removes only the tag when the image has others', async () => {
      // Prepare
      const digests = await seed([{ id: 'app', tags: ['v1', 'latest'] }]);
      const gateway = gatewayWith();
      // Act
      const outcome = await gateway.untagImages(REPO, ['latest', 'gone']);
      // Assess
      expect(outcome).toEqual({ untagged: ['latest'], alreadyGone: ['gone'], failed: [] });
      const { images } = await gateway.describeImages(REPO, [digests.get('app') as string]);
      expect(images[0]?.tags).toEqual(['v1']);
    });

    it('sends nothing when read-only', async () => {
      // Prepare
      const digests = await seed([{ id: 'app' }]);
      const gateway = gatewayWith({ readOnly: true });
      // Act
      const attempt = gateway.deleteImages(REPO, [...digests.values()]);
      // Assess
      await expect(attempt).rejects.toThrow(ReadOnlyViolationError);
      expect(await registryCalls()).toEqual({});
      expect((await collect(gateway.listImages(REPO))).flat()).toHaveLength(1);
    });
  });

  describe('scanning and referrers', () => {
    it('starts a scan once, then answers scan-quota-exceeded for the same image the same day', async () => {
      // Prepare
      const digests = await seed([{ id: 'app', tags: ['v1'] }]);
      const digest = digests.get('app') as string;
      const gateway = gatewayWith();
      // Act
      const first = await gateway.startImageScan(REPO, digest);
      const second = await gateway.startImageScan(REPO, digest);
      // Assess
      expect(first).toEqual({ started: true, status: 'IN_PROGRESS' });
      expect(second).toMatchObject({ started: false, reason: 'scan-quota-exceeded' });
      // The SDK takes LimitExceededException for throttling; the client keeps it from re-sending the request.
      expect((await registryCalls()).StartImageScan).toBe(2);
    });

    it('reads the findings of a scanned image and throws ScanNotFoundError for one never scanned', async () => {
      // Prepare
      const digests = await seed([
        {
          id: 'scanned',
          scanned: true,
          findings: [
            { name: 'CVE-2026-0001', severity: 'HIGH', attributes: [{ key: 'package_name', value: 'openssl' }] },
          ],
        },
        { id: 'fresh' },
      ]);
      const gateway = gatewayWith();
      // Act
      const pages = await collect(gateway.getScanFindings(REPO, digests.get('scanned') as string));
      const never = collect(gateway.getScanFindings(REPO, digests.get('fresh') as string));
      // Assess
      expect(pages).toHaveLength(1);
      expect(pages[0]).toMatchObject({
        status: 'COMPLETE',
        severityCounts: { HIGH: 1 },
        findings: [{ name: 'CVE-2026-0001', severity: 'HIGH', attributes: { package_name: 'openssl' } }],
      });
      await expect(never).rejects.toThrow(ScanNotFoundError);
    });

    it('reads the registry and repository scanning configurations', async () => {
      // Prepare
      await control(server, 'load', { repositories: [{ name: 'team/a', scanOnPush: true }] });
      const gateway = gatewayWith();
      // Act
      const registry = await gateway.getRegistryScanningConfiguration();
      const repositories = await gateway.getRepositoryScanningConfigurations(['team/a', 'team/none']);
      // Assess
      expect(registry.scanType).toBe('BASIC');
      expect(repositories.configurations).toEqual([expect.objectContaining({ repositoryName: 'team/a' })]);
      expect(repositories.failures).toEqual([
        expect.objectContaining({ repositoryName: 'team/none', code: 'REPOSITORY_NOT_FOUND' }),
      ]);
    });

    it('lists the OCI referrers of an image', async () => {
      // Prepare
      const digests = await seed([
        { id: 'app', tags: ['v1'] },
        { id: 'sig', kind: 'signature', subject: 'app' },
        { id: 'sbom', kind: 'sbom', subject: 'app' },
      ]);
      // Act
      const referrers = await collect(gatewayWith().listImageReferrers(REPO, digests.get('app') as string));
      // Assess
      expect(referrers.map((referrer) => referrer.digest).sort()).toEqual(
        [digests.get('sig'), digests.get('sbom')].sort(),
      );
    });

    it('sets tag mutability with exclusion filters', async () => {
      // Prepare
      await seed([{ id: 'app' }]);
      const gateway = gatewayWith();
      // Act
      const settings = await gateway.putTagMutability(REPO, 'IMMUTABLE_WITH_EXCLUSION', ['latest', 'dev-*']);
      // Assess
      expect(settings.imageTagMutability).toBe('IMMUTABLE_WITH_EXCLUSION');
      expect((await gateway.getRepository(REPO)).imageTagMutabilityExclusionFilters).toEqual([
        { filter: 'latest', filterType: 'WILDCARD' },
        { filter: 'dev-*', filterType: 'WILDCARD' },
      ]);
    });
  });
});
