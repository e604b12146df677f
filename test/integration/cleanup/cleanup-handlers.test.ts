import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutImageCommand } from '@aws-sdk/client-ecr';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  ARTIFACT_TYPES,
  buildIndexManifest,
  buildReferrerManifest,
  MEDIA_TYPES,
  type RegistryServer,
  sha256,
} from '@ecr-automation/local-registry';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createWorkerHandler } from '../../../functions/cleanup-repository/handler.ts';
import { createHandler as createSchedulerHandler } from '../../../functions/scheduled-cleanup/handler.ts';
import { LOCAL_EVENT_BUS, LOCAL_SERVICE_ACCESS_KEY, serviceRules } from '../../../local/service.ts';
import { loadServiceConfig } from '../../../shared/config/file.ts';
import type { ServiceConfig } from '../../../shared/config/schema.ts';
import { createEcrClient, createEcrGateway, type EcrGateway } from '../../../shared/ecr/index.ts';
import { publishEvents } from '../../../shared/events/publisher.ts';
import type { ServiceDeps } from '../../../shared/runtime/service-deps.ts';
import {
  digestsIn,
  EXPECTED_DELETED_IDS,
  type Loaded,
  loadFixture,
  MUTATING_ECR_OPERATIONS,
  pullFailures,
  REALISTIC_FIXTURE,
  reportsOf,
  TEST_CONFIG,
} from '../../helpers/cleanup.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { control, declareBlobs, ecrClient, startTestRegistry } from '../../helpers/registry.ts';
import { testDeps } from '../../helpers/service-deps.ts';

const calls = async (server: RegistryServer) =>
  (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;

const mutatingCalls = (operations: Record<string, number>) =>
  Object.fromEntries(MUTATING_ECR_OPERATIONS.filter((op) => operations[op]).map((op) => [op, operations[op]]));

const lambdaContext = (remaining: () => number = () => 900_000) =>
  ({
    getRemainingTimeInMillis: remaining,
    awsRequestId: 'test',
    functionName: 'cleanupRepository',
  }) as unknown as Context;

describe('scheduled cleanup through the handlers and the local bus', () => {
  let server: RegistryServer;
  let loaded: Loaded;

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    for (const rule of server.bus.listRules()) server.bus.removeRule(rule.name, rule.eventBusName);
    loaded = await loadFixture(server);
  });
  afterEach(() => {
    server.bus.stopSchedules();
    expectPublishedEventsParse(server.bus.events);
  });

  const wire = (config: Readonly<ServiceConfig> = TEST_CONFIG, options: { ecrMaxAttempts?: number } = {}) => {
    for (const rule of serviceRules(server, { config, ...options })) server.bus.addRule(rule);
  };
  const runNightly = async () => {
    const { deliveries } = await control<{ deliveries: { ok: boolean; error?: string }[] }>(server, 'bus/fire', {
      rule: 'scheduled-cleanup',
    });
    await server.bus.drain();
    return deliveries;
  };
  const digestOf = (repositoryName: string, id: string) =>
    loaded.images.find((image) => image.repositoryName === repositoryName && image.id === id)?.imageDigest as string;

  it('deletes exactly the stale untagged images, and every tagged image still pulls whole', async () => {
    // Prepare
    wire();
    const client = ecrClient(server);
    const before = await digestsIn(client, 'app/api');
    // Act
    const deliveries = await runNightly();
    // Assess
    expect(deliveries).toEqual([expect.objectContaining({ ok: true })]);
    const after = await digestsIn(client, 'app/api');
    const deleted = [...before].filter((digest) => !after.has(digest)).sort();
    expect(deleted).toEqual(EXPECTED_DELETED_IDS.map((id) => digestOf('app/api', id)).sort());
    expect(await pullFailures(client, 'app/api')).toEqual([]);
    expect(await digestsIn(client, 'app/worker')).toEqual(new Set([digestOf('app/worker', 'w')]));
    expect((await digestsIn(client, 'platform/keep')).size).toBe(1);
    expect(server.bus.deadLetters).toEqual([]);
    const api = reportsOf(server).find((report) => report.repositoryName === 'app/api');
    expect(api).toMatchObject({ status: 'completed', dryRun: false, counts: { deleted: 7, failed: 0 } });
    expect(api?.deleted.map((entry) => entry.reason.code).sort()).toEqual(
      [
        'child-of-deleted-index',
        'child-of-deleted-index',
        'orphaned-referrer',
        'referrer-of-deleted-image',
        'stale-untagged',
        'stale-untagged',
        'stale-untagged',
      ].sort(),
    );
    expect(api?.kept.find((entry) => entry.digest === digestOf('app/api', 'v1-amd64'))?.reason).toEqual({
      code: 'child-of-kept-index',
      via: digestOf('app/api', 'v1'),
    });
    expect(api?.apiCalls.BatchDeleteImage).toBe(1);
  });

  it('plans on the registry clock: moved 40 days ahead, the reports are dated then', async () => {
    // Prepare
    wire();
    await control(server, 'clock', { advanceSeconds: 40 * 86_400 });
    const registryNow = server.now();
    // Act
    const deliveries = await runNightly();
    // Assess
    expect(deliveries).toEqual([expect.objectContaining({ ok: true })]);
    const reports = reportsOf(server);
    expect(reports.length).toBeGreaterThan(0);
    for (const report of reports) {
      expect(Date.parse(report.plannedAt)).toBeGreaterThanOrEqual(registryNow - 1_000);
    }
  });

  it('deletes nothing on a second run', async () => {
    // Prepare
    wire();
    await runNightly();
    const deletesBefore = (await calls(server)).BatchDeleteImage ?? 0;
    // Act
    await runNightly();
    // Assess
    expect((await calls(server)).BatchDeleteImage ?? 0).toBe(deletesBefore);
    const second = reportsOf(server).slice(-2);
    expect(second.map((report) => report.counts.deleted)).toEqual([0, 0]);
  });

  it('makes no mutating call at all in dry run, and reports what it would delete', async () => {
    // Prepare
    wire({ ...TEST_CONFIG, cleanup: { ...TEST_CONFIG.cleanup, dryRun: true } });
    const client = ecrClient(server);
    const before = await digestsIn(client, 'app/api');
    // Act
    await runNightly();
    // Assess
    expect(mutatingCalls(await calls(server))).toEqual({});
    expect(await digestsIn(client, 'app/api')).toEqual(before);
    const api = reportsOf(server).find((report) => report.repositoryName === 'app/api');
    expect(api).toMatchObject({ status: 'dry-run', dryRun: true, counts: { toDelete: 7, deleted: 0 } });
    expect(api?.deleted).toHaveLength(7);
  });

  it('ends with the same result when 30% of ECR calls are throttled', async () => {
    // Prepare
    wire(TEST_CONFIG, { ecrMaxAttempts: 8 });
    for (const operation of ['DescribeRepositories', 'DescribeImages', 'BatchGetImage', 'BatchDeleteImage']) {
      await control(server, 'faults', { operation, throttleRate: 0.3 });
    }
    const client = ecrClient(server);
    // Act
    await runNightly();
    // Assess
    await control(server, 'faults/clear', {});
    const after = await digestsIn(client, 'app/api');
    for (const id of EXPECTED_DELETED_IDS) expect(after.has(digestOf('app/api', id))).toBe(false);
    expect(after.size).toBe((REALISTIC_FIXTURE.repositories[0]?.images?.length ?? 0) - EXPECTED_DELETED_IDS.length);
    expect(await pullFailures(client, 'app/api')).toEqual([]);
    expect(server.bus.deadLetters).toEqual([]);
  });

  it('reports a repository deleted mid-run and goes on with the others', async () => {
    // Prepare: the scheduler makes 3 ECR calls (exclusions, register, repositories); then app/api vanishes.
    wire();
    await control(server, 'faults', { repositoryName: 'app/api', afterCalls: 3 });
    // Act
    await runNightly();
    // Assess
    const reports = reportsOf(server);
    expect(reports.find((report) => report.repositoryName === 'app/api')).toMatchObject({ status: 'repository-gone' });
    expect(reports.find((report) => report.repositoryName === 'app/worker')).toMatchObject({
      status: 'completed',
      counts: { deleted: 2 },
    });
    expect(server.bus.deadLetters).toEqual([]);
  });
});

describe('cleanup-repository handler', () => {
  let server: RegistryServer;
  let loaded: Loaded;
  const events = () =>
    new EventBridgeClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: LOCAL_SERVICE_ACCESS_KEY, secretAccessKey: 'x' },
    });

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => expectPublishedEventsParse(server.bus.events));
  beforeEach(async () => {
    server.reset();
    for (const rule of server.bus.listRules()) server.bus.removeRule(rule.name, rule.eventBusName);
    loaded = await loadFixture(server);
  });

  const digestOf = (id: string) => loaded.images.find((image) => image.id === id)?.imageDigest as string;
  const ecr = () =>
    createEcrClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: LOCAL_SERVICE_ACCESS_KEY, secretAccessKey: 'x' },
    });
  const deps = (overrides: Partial<ServiceDeps> = {}, wrap = (gateway: EcrGateway) => gateway): ServiceDeps => {
    const client = ecr();
    const bus = events();
    return testDeps({
      config: () => TEST_CONFIG,
      gateway: ({ readOnly }) => wrap(createEcrGateway(client, { readOnly })),
      publish: (entries) => publishEvents(bus, LOCAL_EVENT_BUS, entries),
      reserveMs: 0,
      now: () => server.now(),
      ...overrides,
    });
  };
  const workItem = (detail: Record<string, unknown>) => ({
    version: '0',
    id: 'run-1',
    'detail-type': 'Cleanup Work Item',
    source: 'ecr-automation',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      runId: 'run-1',
      repositoryName: 'app/api',
      dryRun: false,
      part: 1,
      plannedAt: new Date().toISOString(),
      ...detail,
    },
  });

  it('keeps an image that gained a tag between planning and deleting, and what it protects', async () => {
    // Prepare: tag the stale untagged index right after the plan is made (when the act lists the repository, which
    // is also its re-read of the candidates: the second listing, after the gather's).
    const client = ecrClient(server);
    const oldIndex = loaded.images.find((image) => image.id === 'old');
    let listings = 0;
    const handler = createWorkerHandler(() =>
      deps({}, (gateway) => ({
        ...gateway,
        async *listImages(repositoryName, options) {
          if (++listings !== 2) {
            yield* gateway.listImages(repositoryName, options);
            return;
          }
          const manifest = (
            await client.send(
              new (
                await import('@aws-sdk/client-ecr')
              ).BatchGetImageCommand({ repositoryName, imageIds: [{ imageDigest: oldIndex?.imageDigest }] }),
            )
          ).images?.[0]?.imageManifest as string;
          await client.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'rescued' }));
          yield* gateway.listImages(repositoryName, options);
        },
      })),
    );
    // Act
    const report = (await handler(workItem({}) as never, lambdaContext())) as { counts: { changedSincePlan: number } };
    // Assess
    const after = await digestsIn(client, 'app/api');
    for (const id of ['old', 'old-amd64', 'old-arm64', 'old-sig']) expect(after.has(digestOf(id))).toBe(true);
    expect(after.has(digestOf('stale-1'))).toBe(false);
    expect(report.counts.changedSincePlan).toBe(1);
    expect(await pullFailures(client, 'app/api')).toEqual([]);
  });

  it('keeps planned images that an index or a referrer pushed after the plan names, and reports why', async () => {
    // Prepare: just after the plan (when the act lists the repository, the second listing), a tagged index listing
    // stale-1 and a signature of stale-2 are pushed. The plan's graph cannot know them; the act's look at images pushed since does.
    const client = ecrClient(server);
    const index = buildIndexManifest([{ mediaType: MEDIA_TYPES.ociManifest, digest: digestOf('stale-1'), size: 1 }]);
    const signature = buildReferrerManifest({
      seed: 'late-signature',
      subject: { mediaType: MEDIA_TYPES.ociManifest, digest: digestOf('stale-2'), size: 1 },
      artifactType: ARTIFACT_TYPES.cosignSignature,
    });
    let listings = 0;
    const handler = createWorkerHandler(() =>
      deps({}, (gateway) => ({
        ...gateway,
        async *listImages(repositoryName, options) {
          if (++listings === 2) {
            await client.send(
              new PutImageCommand({
                repositoryName,
                imageManifest: index,
                imageManifestMediaType: MEDIA_TYPES.ociIndex,
                imageTag: 'late',
              }),
            );
            await declareBlobs(server, repositoryName, signature);
            await client.send(
              new PutImageCommand({
                repositoryName,
                imageManifest: signature,
                imageManifestMediaType: MEDIA_TYPES.ociManifest,
              }),
            );
          }
          yield* gateway.listImages(repositoryName, options);
        },
      })),
    );
    // Act
    const report = (await handler(workItem({}) as never, lambdaContext())) as {
      counts: { changedSincePlan: number };
      changedSincePlan: unknown[];
    };
    // Assess
    const after = await digestsIn(client, 'app/api');
    expect(after.has(digestOf('stale-1'))).toBe(true);
    expect(after.has(digestOf('stale-2'))).toBe(true);
    for (const id of EXPECTED_DELETED_IDS.filter((id) => !id.startsWith('stale-'))) {
      expect(after.has(digestOf(id))).toBe(false);
    }
    expect(report.counts.changedSincePlan).toBe(2);
    expect(report.changedSincePlan).toHaveLength(2);
    expect(report.changedSincePlan).toEqual(
      expect.arrayContaining([
        { digest: digestOf('stale-1'), reason: { code: 'new-parent', via: sha256(index) } },
        { digest: digestOf('stale-2'), reason: { code: 'new-referrer', via: sha256(signature) } },
      ]),
    );
    expect(await pullFailures(client, 'app/api')).toEqual([]);
  });

  it('hands over to a follow-up work item before the deadline, without repeating or skipping an image', async () => {
    // Prepare: 250 stale images; the deadline is near after the first batch of 100.
    await control(server, 'load', {
      repositories: [
        { name: 'big/repo', images: Array.from({ length: 250 }, (_, i) => ({ id: `s${i}`, pushedAt: '-100d' })) },
      ],
    });
    // middy reads the remaining time too, so the clock here is the registry's count of delete batches.
    const context = lambdaContext(() => ((server.calls.get('BatchDeleteImage') ?? 0) >= 1 ? 1_000 : 900_000));
    const config = {
      ...TEST_CONFIG,
      cleanup: {
        ...TEST_CONFIG.cleanup,
        rules: [
          { registry: 'private' as const, repositories: ['big/**'], exclude: [], enabled: true, allowMassDelete: true },
        ],
      },
    };
    const handler = createWorkerHandler(() => deps({ config: () => config, reserveMs: 5_000 }));
    const followUps: unknown[] = [];
    server.bus.addRule({
      name: 'follow-ups',
      eventBusName: LOCAL_EVENT_BUS,
      eventPattern: { 'detail-type': ['Cleanup Work Item'] },
      target: async (event) => {
        followUps.push(event.detail);
        await createWorkerHandler(() => deps({ config: () => config }))(event as never, lambdaContext());
      },
    });
    // Act
    const first = (await handler(workItem({ repositoryName: 'big/repo' }) as never, context)) as {
      status: string;
      counts: { deleted: number; remaining: number };
    };
    await server.bus.drain();
    // Assess
    expect(first).toMatchObject({ status: 'continued', counts: { deleted: 100, remaining: 150 } });
    expect(followUps).toEqual([expect.objectContaining({ repositoryName: 'big/repo', part: 2 })]);
    expect(followUps[0]).not.toHaveProperty('brakeCleared');
    expect((await digestsIn(ecrClient(server), 'big/repo')).size).toBe(0);
    const deletions = server.bus.events.filter(
      (event) =>
        event['detail-type'] === 'ECR Image Action' &&
        (event.detail as { 'repository-name': string })['repository-name'] === 'big/repo',
    );
    const digests = deletions.map((event) => (event.detail as { 'image-digest': string })['image-digest']);
    expect(new Set(digests).size).toBe(250);
    expect(digests).toHaveLength(250);
  });

  it('hands over with the safety brake in force: a continuation re-plans and passes it again', async () => {
    // Prepare: 250 stale of 400 images (62.5%, under TEST_CONFIG's 75%); the config does not allow a mass delete.
    await control(server, 'load', {
      repositories: [
        {
          name: 'app/big',
          images: [
            ...Array.from({ length: 250 }, (_, i) => ({ id: `s${i}`, pushedAt: '-100d' })),
            ...Array.from({ length: 150 }, (_, i) => ({ id: `t${i}`, tags: [`t${i}`], pushedAt: '-100d' })),
          ],
        },
      ],
    });
    const context = lambdaContext(() => ((server.calls.get('BatchDeleteImage') ?? 0) >= 1 ? 1_000 : 900_000));
    const handler = createWorkerHandler(() => deps({ reserveMs: 5_000 }));
    const followUps: unknown[] = [];
    const reports: unknown[] = [];
    server.bus.addRule({
      name: 'follow-ups',
      eventBusName: LOCAL_EVENT_BUS,
      eventPattern: { 'detail-type': ['Cleanup Work Item'] },
      target: async (event) => {
        followUps.push(event.detail);
        reports.push(await createWorkerHandler(() => deps())(event as never, lambdaContext()));
      },
    });
    // Act
    const first = await handler(workItem({ repositoryName: 'app/big' }) as never, context);
    await server.bus.drain();
    // Assess
    expect(first).toMatchObject({ status: 'continued', counts: { deleted: 100, remaining: 150 } });
    expect(followUps).toEqual([expect.objectContaining({ repositoryName: 'app/big', part: 2 })]);
    expect(reports).toEqual([
      expect.objectContaining({ status: 'completed', part: 2, counts: expect.objectContaining({ deleted: 150 }) }),
    ]);
    expect((await digestsIn(ecrClient(server), 'app/big')).size).toBe(150);
  });

  it('fails loudly, naming the broken edge, when a kept image no longer resolves whole', async () => {
    // Prepare: something else deletes a child of the kept release while the cleanup runs.
    const handler = createWorkerHandler(() =>
      deps({}, (gateway) => ({
        ...gateway,
        deleteImages: async (repositoryName, digests) => {
          const outcome = await gateway.deleteImages(repositoryName, digests);
          server.registry
            .state('123456789012', 'us-east-1')
            .repositories.get('app/api')
            ?.images.delete(digestOf('v1-arm64'));
          return outcome;
        },
      })),
    );
    // Act
    const attempt = handler(workItem({}) as never, lambdaContext());
    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'IntegrityError',
      message: expect.stringContaining(`${digestOf('v1')} -child-> ${digestOf('v1-arm64')}`),
    });
  });

  it('rejects a malformed work item with a clear error and makes no ECR call', async () => {
    // Prepare
    const handler = createWorkerHandler(() => deps());
    // Act
    const missing = handler(workItem({ repositoryName: undefined }) as never, lambdaContext());
    const badName = handler(workItem({ repositoryName: 'Not/Valid' }) as never, lambdaContext());
    const notAnEvent = handler({ hello: 'world' } as never, lambdaContext());
    // Assess
    await expect(missing).rejects.toThrow(/repositoryName/);
    await expect(badName).rejects.toThrow(/an ECR repository name/);
    await expect(notAnEvent).rejects.toThrow();
    expect(await calls(server)).toEqual({});
  });

  it('rejects a malformed schedule event and an invalid config file, changing nothing', async () => {
    // Prepare
    const client = ecr();
    const bus = events();
    const scheduler = createSchedulerHandler(() =>
      testDeps({
        config: () => TEST_CONFIG,
        gateway: ({ readOnly }) => createEcrGateway(client, { readOnly }),
        publish: (entries) => publishEvents(bus, LOCAL_EVENT_BUS, entries),
      }),
    );
    const badFile = join(tmpdir(), `bad-config-${Date.now()}.json`);
    writeFileSync(
      badFile,
      JSON.stringify({ cleanup: { rules: [{ repositories: ['app/**'], olderThanDays: 'soon' }] } }),
    );
    const worker = createWorkerHandler(() => deps({ config: () => loadServiceConfig({ CONFIG_FILE: badFile }) }));
    // Act
    const badSchedule = scheduler(
      { ...workItem({}), 'detail-type': 'Scheduled Event', detail: { dryRun: 'yes' } } as never,
      lambdaContext(),
    );
    const badConfig = worker(workItem({}) as never, lambdaContext());
    // Assess
    await expect(badSchedule).rejects.toThrow(/dryRun/);
    await expect(badConfig).rejects.toThrow(/cleanup\.rules\[0\]\.olderThanDays/);
    expect(await calls(server)).toEqual({});
    expect(server.bus.events.filter((event) => event.source === 'ecr-automation')).toEqual([]);
  });
});
