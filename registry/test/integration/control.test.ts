import {
  BatchCheckLayerAvailabilityCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetDownloadUrlForLayerCommand,
  PutImageCommand,
  StartImageScanCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoFixture } from '../../src/control/demo.ts';
import type { Fixture } from '../../src/control/fixtures.ts';
import { buildImageManifest, sha256 } from '../../src/model/manifests.ts';
import { control, declareBlobs, ecrClient, failureOf, startTestRegistry } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

interface Loaded {
  repositories: number;
  images: { repositoryName: string; id?: string; imageDigest: string; imageTags: string[] }[];
}

const DAY_MS = 86_400_000;

describe('control API', () => {
  let server: RegistryServer;

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  const fixture: Fixture = {
    repositories: [
      {
        name: 'ctl/app',
        tags: { team: 'ctl' },
        images: [
          { id: 'amd64', architecture: 'amd64', pushedAt: '-10d' },
          { id: 'arm64', architecture: 'arm64', pushedAt: '-10d' },
          {
            id: 'index',
            kind: 'index',
            children: ['amd64', 'arm64'],
            tags: ['v1'],
            pushedAt: '-10d',
            lastPulledAt: '-2d',
          },
          { id: 'sig', kind: 'signature', subject: 'index' },
          { id: 'old', pushedAt: '2026-01-01T00:00:00Z' },
          { id: 'legacy-sig', tagConvention: { subject: 'index', suffix: '.sig' } },
        ],
      },
    ],
  };

  it('loads a fixture with indexes, referrers, tags and times that ECR clients then see', async () => {
    // Act
    const loaded = await control<Loaded>(server, 'load', fixture);
    // Assess
    const digest = (id: string) => loaded.images.find((image) => image.id === id)?.imageDigest as string;
    const { imageDetails = [] } = await ecrClient(server).send(
      new DescribeImagesCommand({ repositoryName: 'ctl/app' }),
    );
    const byDigest = new Map(imageDetails.map((detail) => [detail.imageDigest, detail]));
    expect(loaded.repositories).toBe(1);
    expect(imageDetails).toHaveLength(6);
    expect(byDigest.get(digest('index'))).toMatchObject({
      imageTags: ['v1'],
      imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
    });
    expect(byDigest.get(digest('index'))?.lastRecordedPullTime?.getTime()).toBeLessThan(Date.now() - DAY_MS);
    expect(byDigest.get(digest('sig'))?.subjectManifestDigest).toBe(digest('index'));
    expect(byDigest.get(digest('old'))?.imagePushedAt?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(byDigest.get(digest('legacy-sig'))?.imageTags).toEqual([`${digest('index').replace(':', '-')}.sig`]);
  });

  it('rejects a fixture that references a missing child and loads nothing of it', async () => {
    // Prepare
    const broken: Fixture = {
      repositories: [
        { name: 'ctl/fine', images: [{ id: 'a' }] },
        { name: 'ctl/broken', images: [{ id: 'i', kind: 'index', children: ['nope'] }] },
      ],
    };
    // Act
    const attempt = control(server, 'load', broken);
    // Assess
    await expect(attempt).rejects.toThrow(/no image nope/);
    const { repositories = [] } = await ecrClient(server).send(new DescribeRepositoriesCommand({}));
    expect(repositories).toHaveLength(0);
  });

  it('moves an image’s push and pull times', async () => {
    // Prepare
    await control(server, 'load', fixture);
    // Act
    await control(server, 'image-times', {
      repositoryName: 'ctl/app',
      imageTag: 'v1',
      pushedAt: '-400d',
      lastPulledAt: 1_700_000_000,
    });
    // Assess
    const { imageDetails = [] } = await ecrClient(server).send(
      new DescribeImagesCommand({ repositoryName: 'ctl/app', imageIds: [{ imageTag: 'v1' }] }),
    );
    expect(imageDetails[0]?.lastRecordedPullTime?.getTime()).toBe(1_700_000_000_000);
    expect(imageDetails[0]?.imagePushedAt?.getTime()).toBeLessThan(Date.now() - 399 * DAY_MS);
  });

  it('advances the registry clock, which BatchGetImage records as the pull time', async () => {
    // Prepare
    await control(server, 'load', fixture);
    // Act
    await control(server, 'clock', { advanceSeconds: 3 * 86_400 });
    await ecrClient(server).send(
      new BatchGetImageCommand({ repositoryName: 'ctl/app', imageIds: [{ imageTag: 'v1' }] }),
    );
    // Assess
    const { imageDetails = [] } = await ecrClient(server).send(
      new DescribeImagesCommand({ repositoryName: 'ctl/app', imageIds: [{ imageTag: 'v1' }] }),
    );
    expect(imageDetails[0]?.lastRecordedPullTime?.getTime()).toBeGreaterThan(Date.now() + 2.9 * DAY_MS);
  });

  it('refuses bad control input with a clear message', async () => {
    // Act and Assess
    await expect(control(server, 'clock', { advanceSeconds: -1 })).rejects.toThrow(/advanceSeconds/);
    await expect(control(server, 'faults', { operation: 'PutImage', throttleRate: 2 })).rejects.toThrow(
      /between 0 and 1/,
    );
    await expect(control(server, 'image-times', { repositoryName: 'nope', imageTag: 'x' })).rejects.toThrow(
      /No repository/,
    );
    await expect(control(server, 'load', { repositories: [{ name: 'Bad/Name' }] })).rejects.toThrow(
      /Invalid repository name/,
    );
    await expect(control(server, 'nothing-here', {})).rejects.toThrow(/404/);
  });

  it('loads the demo registry: teams, multi-arch indexes, referrers, stale and recently pulled images', async () => {
    // Act
    const loaded = await control<Loaded>(server, 'load', demoFixture());
    // Assess
    const client = ecrClient(server);
    const { repositories = [] } = await client.send(new DescribeRepositoriesCommand({}));
    expect(repositories.length).toBeGreaterThanOrEqual(5);
    const { imageDetails = [] } = await client.send(
      new DescribeImagesCommand({ repositoryName: 'payments/api', maxResults: 1000 }),
    );
    expect(imageDetails.some((d) => d.imageManifestMediaType === 'application/vnd.oci.image.index.v1+json')).toBe(true);
    expect(imageDetails.some((d) => d.subjectManifestDigest)).toBe(true);
    expect(imageDetails.some((d) => !d.imageTags && (d.imagePushedAt?.getTime() ?? 0) < Date.now() - 60 * DAY_MS)).toBe(
      true,
    );
    const digests = loaded.images.map((image) => image.imageDigest);
    expect(digests.every((digest) => /^sha256:[0-9a-f]{64}$/.test(digest))).toBe(true);
    expect(sha256('{}')).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('shows the bus’s events, deliveries, dead letters and rules, and fires a schedule on demand', async () => {
    // Prepare
    for (const rule of server.bus.listRules()) server.bus.removeRule(rule.name, rule.eventBusName);
    const fired: string[] = [];
    server.bus.addRule({
      name: 'nightly',
      scheduleExpression: 'cron(0 3 * * ? *)',
      target: (event) => {
        fired.push(event['detail-type']);
      },
    });
    server.bus.addRule({
      name: 'always-fails',
      eventPattern: { source: ['ecr-automation'] },
      maximumRetryAttempts: 1,
      retryDelayMs: 1,
      target: () => {
        throw new Error('target is down');
      },
    });
    // Act
    const { deliveries } = await control<{ deliveries: { ok: boolean }[] }>(server, 'bus/fire', { rule: 'nightly' });
    server.bus.emit({ source: 'ecr-automation', detailType: 'Cleanup Report', detail: { n: 1 } });
    await server.bus.drain();
    const events = await control<{ events: { 'detail-type': string }[] }>(server, 'bus/events');
    const deadLetters = await control<{ deadLetters: { ruleName: string; error: string; attempts: number }[] }>(
      server,
      'bus/dead-letters',
    );
    const rules = await control<{ rules: { name: string; nextFireTime?: string }[] }>(server, 'bus/rules');
    // Assess
    expect(fired).toEqual(['Scheduled Event']);
    expect(deliveries).toEqual([expect.objectContaining({ ok: true })]);
    expect(events.events.map((event) => event['detail-type'])).toContain('Cleanup Report');
    expect(deadLetters.deadLetters).toEqual([
      expect.objectContaining({
        ruleName: 'always-fails',
        attempts: 2,
        error: expect.stringContaining('target is down'),
      }),
    ]);
    expect(rules.rules.find((rule) => rule.name === 'nightly')?.nextFireTime).toMatch(/T03:00:00/);
  });

  it('keeps findings for a digest not pushed yet, and a scan of the pushed image reports them', async () => {
    // Prepare
    const client = ecrClient(server);
    await client.send(new CreateRepositoryCommand({ repositoryName: 'ctl/pending' }));
    const manifest = buildImageManifest({ seed: 'pending-findings' });
    // Act
    const stored = await control<{ pending: boolean }>(server, 'findings', {
      repositoryName: 'ctl/pending',
      imageDigest: sha256(manifest),
      findings: [{ name: 'CVE-2024-3094', severity: 'CRITICAL', attributes: [] }],
    });
    await declareBlobs(server, 'ctl/pending', manifest);
    await client.send(new PutImageCommand({ repositoryName: 'ctl/pending', imageManifest: manifest, imageTag: '1.0' }));
    await client.send(new StartImageScanCommand({ repositoryName: 'ctl/pending', imageId: { imageTag: '1.0' } }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const findings = await client.send(
      new DescribeImageScanFindingsCommand({ repositoryName: 'ctl/pending', imageId: { imageTag: '1.0' } }),
    );
    // Assess
    expect(stored.pending).toBe(true);
    expect(findings.imageScanFindings?.findingSeverityCounts).toEqual({ CRITICAL: 1 });
  });
});

describe('control API: blobs', () => {
  let server: RegistryServer;

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  /** Every config and layer digest an image's manifest names. */
  const blobsOf = (manifest: string) => {
    const { config, layers = [] } = JSON.parse(manifest) as {
      config?: { digest: string };
      layers?: { digest: string }[];
    };
    return [...(config ? [config.digest] : []), ...layers.map((layer) => layer.digest)];
  };

  it('loads a fixture with content: every blob of every image downloads and hashes to its digest', async () => {
    // Prepare
    const client = ecrClient(server);
    const loaded = await control<Loaded>(server, 'load', demoFixture());
    const etl = loaded.images.filter((image) => image.repositoryName === 'data/etl');
    // Act
    const { images = [] } = await client.send(
      new BatchGetImageCommand({
        repositoryName: 'data/etl',
        imageIds: etl.map((image) => ({ imageDigest: image.imageDigest })),
      }),
    );
    const digests = [...new Set(images.flatMap((image) => blobsOf(image.imageManifest as string)))];
    const downloaded: string[] = [];
    for (const layerDigest of digests) {
      const { downloadUrl } = await client.send(
        new GetDownloadUrlForLayerCommand({ repositoryName: 'data/etl', layerDigest }),
      );
      downloaded.push(sha256(Buffer.from(await (await fetch(downloadUrl as string)).arrayBuffer())));
    }
    // Assess
    expect(images).toHaveLength(etl.length);
    expect(digests.length).toBeGreaterThan(etl.length);
    expect(downloaded).toEqual(digests);
  });

  it('loads a fixture without content as placeholders: listed for PutImage, not downloadable', async () => {
    // Prepare
    const client = ecrClient(server);
    const loaded = await control<Loaded>(server, 'load', {
      repositories: [{ name: 'ctl/bare', images: [{ id: 'a', tags: ['v1'] }] }],
    });
    const [image] = await client
      .send(
        new BatchGetImageCommand({
          repositoryName: 'ctl/bare',
          imageIds: [{ imageDigest: loaded.images[0]?.imageDigest }],
        }),
      )
      .then((out) => out.images ?? []);
    const [layerDigest] = blobsOf(image?.imageManifest as string);
    // Act
    const available = await client.send(
      new BatchCheckLayerAvailabilityCommand({ repositoryName: 'ctl/bare', layerDigests: [layerDigest as string] }),
    );
    const download = await failureOf(
      client.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'ctl/bare', layerDigest })),
    );
    // Assess
    expect(available.layers?.[0]).toMatchObject({ layerDigest, layerAvailability: 'AVAILABLE' });
    expect(download).toMatchObject({ name: 'LayerInaccessibleException' });
  });

  it('declares blobs of a manifest or a list, and refuses a bad declaration changing nothing', async () => {
    // Prepare
    const client = ecrClient(server);
    await client.send(new CreateRepositoryCommand({ repositoryName: 'ctl/declared' }));
    const manifest = buildImageManifest({ seed: 'declared' });
    const post = (body: unknown) =>
      fetch(`${server.url}/_local/blobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // Act
    const bad = await Promise.all([
      post({ repositoryName: 'ctl/declared', blobs: [{ digest: 'sha256:xyz', size: 1 }] }),
      post({ repositoryName: 'ctl/declared', blobs: [{ digest: sha256('x'), size: -1 }] }),
      post({ repositoryName: 'ctl/missing', manifest }),
      post({ repositoryName: 'ctl/declared', manifest: 'not json' }),
    ]);
    const before = server.registry.existing('123456789012', 'us-east-1')?.repositories.get('ctl/declared')?.layers.size;
    const declared = await control<{ blobs: number; placeholders: number }>(server, 'blobs', {
      repositoryName: 'ctl/declared',
      manifest,
    });
    const pushed = await client.send(new PutImageCommand({ repositoryName: 'ctl/declared', imageManifest: manifest }));
    // Assess
    expect(bad.map((response) => response.status)).toEqual([400, 400, 400, 400]);
    expect(before).toBe(0);
    expect(declared).toMatchObject({ blobs: 3, placeholders: 3 });
    expect(pushed.image?.imageId?.imageDigest).toBe(sha256(manifest));
  });
});
