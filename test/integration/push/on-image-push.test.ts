import { readFileSync } from 'node:fs';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  type ECRClient,
  PutImageCommand,
  PutRegistryScanningConfigurationCommand,
  type PutRegistryScanningConfigurationCommandInput,
} from '@aws-sdk/client-ecr';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { BusEvent, RegistryServer } from '@ecr-automation/local-registry';
import {
  ARTIFACT_TYPES,
  buildImageManifest,
  buildIndexManifest,
  buildReferrerManifest,
  describeManifest,
  sha256,
} from '@ecr-automation/local-registry';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../../functions/on-image-push/handler.ts';
import { LOCAL_EVENT_BUS, LOCAL_SERVICE_ACCESS_KEY, serviceRules } from '../../../local/service.ts';
import { loadServiceConfig } from '../../../shared/config/file.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import type { ServiceConfig } from '../../../shared/config/schema.ts';
import { createEcrClient, createEcrGateway } from '../../../shared/ecr/index.ts';
import { publishEvents } from '../../../shared/events/publisher.ts';
import { type PushVerdict, PushVerdictSchema } from '../../../shared/push/report.ts';
import { MUTATING_ECR_OPERATIONS } from '../../helpers/cleanup.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { control, declareBlobs, ecrClient, startTestRegistry } from '../../helpers/registry.ts';
import { testDeps } from '../../helpers/service-deps.ts';

/**
 * The push policy end to end: images pushed through the real ECRClient to the local registry, which emits "ECR Image
 * Action"; the bus runs the on-image-push handler (wired by `serviceRules`, as `npm start` wires it), which calls the
 * registry through its own ECRClient and publishes an "Image Push Verdict".
 */
const PUSH_CONFIG = parseConfig({
  push: {
    rules: [
      {
        repositories: ['payments/**'],
        mode: 'enforce',
        tags: { forbidden: ['latest'], required: { form: 'semver' } },
        tagMutability: { setting: 'IMMUTABLE' },
      },
      { repositories: ['undo/**'], mode: 'enforce', undoPush: true, tags: { forbidden: ['latest'] } },
      { repositories: ['**'], mode: 'report', tags: { required: { form: 'semver' } } },
    ],
  },
});

const REPOSITORIES = {
  repositories: [
    { name: 'payments/api' },
    { name: 'payments/worker', scanOnPush: true, imageTagMutability: 'IMMUTABLE' },
    { name: 'team/app' },
    { name: 'team/scanned' },
    { name: 'undo/app' },
  ],
};

const lambdaContext = { getRemainingTimeInMillis: () => 60_000, functionName: 'onImagePush' } as unknown as Context;

describe('on-image-push through the local registry and bus', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => expectPublishedEventsParse(server.bus.events));
  beforeEach(async () => {
    server.reset();
    for (const rule of server.bus.listRules()) server.bus.removeRule(rule.name, rule.eventBusName);
    await control(server, 'load', REPOSITORIES);
  });

  const wire = (config: Readonly<ServiceConfig> = PUSH_CONFIG, options: { dryRun?: boolean } = {}) => {
    for (const rule of serviceRules(server, { config, ...options })) server.bus.addRule(rule);
  };
  /** The push handler with the same dependencies `serviceRules` gives it, to deliver an event by hand. */
  const handler = (config: Readonly<ServiceConfig> = PUSH_CONFIG) => {
    const credentials = { accessKeyId: LOCAL_SERVICE_ACCESS_KEY, secretAccessKey: 'local' };
    const ecr = createEcrClient({ endpoint: server.url, region: 'us-east-1', credentials });
    const events = new EventBridgeClient({ endpoint: server.url, region: 'us-east-1', credentials });
    return createHandler(() =>
      testDeps({
        config: () => config,
        gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
        publish: (entries) => publishEvents(events, LOCAL_EVENT_BUS, entries),
      }),
    );
  };
  const deliver = async (event: unknown, config?: Readonly<ServiceConfig>) =>
    (await handler(config)(event as never, lambdaContext)) as PushVerdict;

  const push = async (repositoryName: string, manifest: string, tag?: string) => {
    await declareBlobs(server, repositoryName, manifest);
    await client.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: tag }));
    await server.bus.drain();
    return sha256(manifest);
  };
  const calls = async () => (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;
  const mutatingCalls = async () => {
    const operations = await calls();
    return Object.fromEntries(
      MUTATING_ECR_OPERATIONS.filter((op) => op !== 'PutImage' && operations[op]).map((op) => [op, operations[op]]),
    );
  };
  const verdicts = () =>
    server.bus.events
      .filter((event) => event['detail-type'] === 'Image Push Verdict')
      .map((event) => PushVerdictSchema.parse(event.detail));
  const verdictFor = (digest: string, tag?: string) => {
    const found = verdicts().filter((v) => v.digest === digest && (tag === undefined || v.pushedTag === tag));
    expect(found.length, `verdicts for ${digest} ${tag ?? ''}`).toBeGreaterThan(0);
    return found[found.length - 1] as PushVerdict;
  };
  const pushEvents = () =>
    server.bus.events.filter(
      (event) =>
        event['detail-type'] === 'ECR Image Action' &&
        (event.detail as { 'action-type': string })['action-type'] === 'PUSH',
    );
  const imageOf = async (repositoryName: string, digest: string) =>
    (await client.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: digest }] })))
      .imageDetails?.[0];
  const scanning = (input: PutRegistryScanningConfigurationCommandInput) =>
    client.send(new PutRegistryScanningConfigurationCommand(input));

  describe('scan', () => {
    it('starts exactly one scan of an image the registry does not scan on push', async () => {
      // Prepare
      wire();
      // Act
      const digest = await push('team/app', buildImageManifest({ seed: 'plain' }), 'v1.0.0');
      // Assess
      expect((await calls()).StartImageScan).toBe(1);
      expect(verdictFor(digest)).toMatchObject({
        status: 'compliant',
        checks: { scan: { outcome: 'pass', reason: { code: 'service-scans' } } },
        actions: [{ action: 'start-scan', result: 'done' }],
      });
      expect((await imageOf('team/app', digest))?.imageScanStatus?.status).toMatch(/IN_PROGRESS|COMPLETE/);
    });

    it("starts none where the repository's scan on push is on: ECR scans it", async () => {
      // Prepare
      wire();
      // Act
      const digest = await push('payments/worker', buildImageManifest({ seed: 'worker' }), '2.5.0');
      // Assess
      expect((await calls()).StartImageScan ?? 0).toBe(0);
      expect((await imageOf('payments/worker', digest))?.imageScanStatus).toBeDefined();
      expect(verdictFor(digest).checks?.scan).toEqual({
        outcome: 'pass',
        reason: { code: 'ecr-scans-on-push', scanType: 'BASIC', via: 'repository-setting' },
      });
    });

    it('starts none where a BASIC registry rule scans the repository on push, and one where its filter misses', async () => {
      // Prepare
      wire();
      await scanning({
        scanType: 'BASIC',
        rules: [
          { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'team/scan*', filterType: 'WILDCARD' }] },
        ],
      });
      // Act
      const covered = await push('team/scanned', buildImageManifest({ seed: 'covered' }), 'v1.0.0');
      const missed = await push('team/app', buildImageManifest({ seed: 'missed' }), 'v1.0.0');
      // Assess
      expect((await calls()).StartImageScan).toBe(1);
      expect(verdictFor(covered).checks?.scan.reason).toEqual({
        code: 'ecr-scans-on-push',
        scanType: 'BASIC',
        via: 'registry-rule',
        filter: 'team/scan*',
      });
      expect(verdictFor(missed).actions).toEqual([{ action: 'start-scan', result: 'done', message: 'IN_PROGRESS' }]);
    });

    it('starts none under ENHANCED scanning, and reports a repository no rule covers', async () => {
      // Prepare
      wire();
      await scanning({
        scanType: 'ENHANCED',
        rules: [
          { scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: 'team/scanned', filterType: 'WILDCARD' }] },
        ],
      });
      // Act
      const covered = await push('team/scanned', buildImageManifest({ seed: 'enhanced' }), 'v1.0.0');
      const uncovered = await push('team/app', buildImageManifest({ seed: 'uncovered' }), 'v1.0.0');
      // Assess
      expect((await calls()).StartImageScan ?? 0).toBe(0);
      expect(verdictFor(covered).checks?.scan).toEqual({
        outcome: 'pass',
        reason: { code: 'ecr-scans-continuously', filter: 'team/scanned' },
      });
      expect(verdictFor(uncovered)).toMatchObject({
        status: 'violations',
        checks: { scan: { outcome: 'violation', reason: { code: 'enhanced-scanning-not-covering' } } },
      });
    });

    it('scans two pushes of the same digest once, one after the other or at the same time', async () => {
      // Prepare
      wire();
      const sequential = buildImageManifest({ seed: 'twice' });
      const concurrent = buildImageManifest({ seed: 'together' });
      // Act
      await push('team/app', sequential, 'v1.0.0');
      await push('team/app', sequential, 'v1.0');
      await declareBlobs(server, 'team/app', concurrent);
      await client.send(
        new PutImageCommand({ repositoryName: 'team/app', imageManifest: concurrent, imageTag: 'v2.0.0' }),
      );
      await declareBlobs(server, 'team/app', concurrent);
      await client.send(
        new PutImageCommand({ repositoryName: 'team/app', imageManifest: concurrent, imageTag: 'v2.0' }),
      );
      await server.bus.drain();
      // Assess
      for (const digest of [sha256(sequential), sha256(concurrent)]) {
        const scans = verdicts()
          .filter((verdict) => verdict.digest === digest)
          .flatMap((verdict) => verdict.actions.filter((action) => action.action === 'start-scan'));
        expect(scans.map((scan) => scan.result).sort()).toEqual(['already-done', 'done']);
      }
      expect((await calls()).StartImageScan).toBeLessThanOrEqual(3);
    });
  });

  describe('tags and mutability (enforce mode)', () => {
    it('removes a forbidden tag while the image stays, reachable by digest and by its other tags', async () => {
      // Prepare
      wire();
      const manifest = buildImageManifest({ seed: 'release' });
      const digest = await push('payments/api', manifest, 'v1.2.3');
      // Act
      await push('payments/api', manifest, 'latest');
      // Assess
      expect((await imageOf('payments/api', digest))?.imageTags).toEqual(['v1.2.3']);
      const pulled = await client.send(
        new BatchGetImageCommand({ repositoryName: 'payments/api', imageIds: [{ imageTag: 'v1.2.3' }] }),
      );
      expect(pulled.images?.[0]?.imageId?.imageDigest).toBe(digest);
      expect(verdictFor(digest, 'latest')).toMatchObject({
        status: 'corrected',
        tags: ['latest', 'v1.2.3'],
        checks: {
          tags: {
            outcome: 'corrected',
            violations: [{ code: 'forbidden', tag: 'latest', resolution: 'removed' }],
          },
        },
        actions: [
          { action: 'remove-tag', tag: 'latest', result: 'done' },
          expect.objectContaining({ action: 'start-scan', result: 'already-done' }),
        ],
      });
      expect((await calls()).BatchDeleteImage).toBe(1);
    });

    it("leaves a forbidden tag that is the image's only tag in place, and reports it", async () => {
      // Prepare
      wire();
      // Act
      const digest = await push('payments/api', buildImageManifest({ seed: 'only-latest' }), 'latest');
      // Assess
      expect((await imageOf('payments/api', digest))?.imageTags).toEqual(['latest']);
      expect((await calls()).BatchDeleteImage ?? 0).toBe(0);
      expect(verdictFor(digest)).toMatchObject({
        status: 'violations',
        checks: {
          tags: {
            violations: [
              { code: 'forbidden', tag: 'latest', resolution: 'left-in-place' },
              { code: 'missing-required-tag', required: 'semver', resolution: 'reported' },
            ],
          },
        },
      });
    });

    it('undoes such a push where the policy says so: the image goes with its last tag', async () => {
      // Prepare
      wire();
      // Act
      const digest = await push('undo/app', buildImageManifest({ seed: 'undo' }), 'latest');
      // Assess
      await expect(imageOf('undo/app', digest)).rejects.toMatchObject({ name: 'ImageNotFoundException' });
      expect((await calls()).StartImageScan ?? 0).toBe(0);
      expect(verdictFor(digest).checks?.tags.violations).toEqual([
        { code: 'forbidden', tag: 'latest', pattern: 'latest', resolution: 'undone' },
      ]);
    });

    it('corrects a MUTABLE repository under an IMMUTABLE policy and reports the drift', async () => {
      // Prepare
      wire();
      // Act
      const digest = await push('payments/api', buildImageManifest({ seed: 'drift' }), 'v1.0.0');
      // Assess
      const { repositories } = await client.send(
        new DescribeRepositoriesCommand({ repositoryNames: ['payments/api'] }),
      );
      expect(repositories?.[0]?.imageTagMutability).toBe('IMMUTABLE');
      expect(verdictFor(digest)).toMatchObject({
        status: 'corrected',
        checks: {
          tagMutability: {
            outcome: 'corrected',
            reason: {
              code: 'drift',
              found: { setting: 'MUTABLE', exclusions: [] },
              required: { setting: 'IMMUTABLE', exclusions: [] },
            },
          },
        },
        actions: [expect.objectContaining({ action: 'set-tag-mutability', result: 'done' }), expect.anything()],
      });
      // The next push finds the repository as the policy says.
      const next = await push('payments/api', buildImageManifest({ seed: 'after-drift' }), 'v1.0.1');
      expect(verdictFor(next).checks?.tagMutability.outcome).toBe('pass');
      expect((await calls()).PutImageTagMutability).toBe(1);
    });

    it('changes nothing more when the same event is delivered again, and reaches the same judgement', async () => {
      // Prepare
      wire();
      const manifest = buildImageManifest({ seed: 'duplicate' });
      const digest = await push('payments/api', manifest, 'v1.2.3');
      await push('payments/api', manifest, 'latest');
      const event = pushEvents().find(
        (e) => (e.detail as { 'image-tag'?: string })['image-tag'] === 'latest',
      ) as BusEvent;
      const first = verdictFor(digest, 'latest');
      const before = await mutatingCalls();
      // Act
      const again = await deliver(event);
      // Assess
      expect(await mutatingCalls()).toEqual(before);
      expect(again.eventId).toBe(first.eventId);
      expect({ ...again, actions: [] }).toEqual({ ...first, actions: [] });
      expect(again.actions).toEqual([
        { action: 'remove-tag', tag: 'latest', result: 'already-done' },
        expect.objectContaining({ action: 'start-scan', result: 'already-done' }),
      ]);
      expect((await imageOf('payments/api', digest))?.imageTags).toEqual(['v1.2.3']);
    });

    it('makes no mutating call at all in dry run', async () => {
      // Prepare
      wire(PUSH_CONFIG, { dryRun: true });
      // Act
      const digest = await push('payments/api', buildImageManifest({ seed: 'dry' }), 'latest');
      // Assess
      expect(await mutatingCalls()).toEqual({});
      expect(verdictFor(digest)).toMatchObject({ dryRun: true, status: 'violations' });
      expect(verdictFor(digest).actions.every((action) => action.result === 'planned')).toBe(true);
    });
  });

  it('publishes the verdict of events/image-push-verdict.json under the shipped config', async () => {
    // Prepare: v1.6.0 is pushed before the handler is wired; then `latest` is pushed onto the same image.
    const sample = JSON.parse(readFileSync('events/image-push-verdict.json', 'utf8')) as BusEvent;
    const manifest = buildImageManifest({ seed: 'payments-api-1.6.0' });
    await push('payments/api', manifest, 'v1.6.0');
    wire(loadServiceConfig({}));
    // Act
    await push('payments/api', manifest, 'latest');
    // Assess
    const event = server.bus.events.find((e) => e['detail-type'] === 'Image Push Verdict') as BusEvent;
    expect(event).toMatchObject({ source: sample.source, 'detail-type': sample['detail-type'] });
    const ignore = { eventId: expect.any(String), eventTime: expect.any(String) };
    expect(event.detail).toEqual({ ...(sample.detail as object), ...ignore });
  });

  describe('untagged pushes, indexes and referrers', () => {
    it('does not judge the untagged children of an index or a referrer, and scans only the images', async () => {
      // Prepare: `**` requires a semver tag, which untagged children and a signature cannot have.
      wire();
      const amd64 = buildImageManifest({ seed: 'multi', architecture: 'amd64' });
      const arm64 = buildImageManifest({ seed: 'multi', architecture: 'arm64' });
      const index = buildIndexManifest([describeManifest(amd64), describeManifest(arm64)]);
      const signature = buildReferrerManifest({
        seed: 'multi-sig',
        subject: describeManifest(index),
        artifactType: ARTIFACT_TYPES.cosignSignature,
      });
      const cosignTag = `sha256-${sha256(index).slice('sha256:'.length)}.sig`;
      const cosign = buildImageManifest({ seed: 'multi-cosign', layerSizes: [300] });
      // Act
      for (const child of [amd64, arm64]) await push('team/app', child);
      await push('team/app', index, 'v3.0.0');
      await push('team/app', signature);
      await push('team/app', cosign, cosignTag);
      // Assess
      const of = (manifest: string) => verdictFor(sha256(manifest));
      for (const child of [amd64, arm64]) {
        expect(of(child)).toMatchObject({
          kind: 'image',
          status: 'compliant',
          checks: {
            tags: { outcome: 'not-applicable', reason: { code: 'untagged-push', kind: 'image' } },
            scan: { outcome: 'pass', reason: { code: 'service-scans' } },
          },
        });
      }
      expect(of(index)).toMatchObject({
        kind: 'index',
        status: 'compliant',
        checks: { tags: { outcome: 'pass' }, scan: { outcome: 'not-applicable', reason: { code: 'not-an-image' } } },
      });
      for (const referrer of [signature, cosign]) {
        expect(of(referrer)).toMatchObject({
          kind: 'referrer',
          status: 'compliant',
          checks: {
            tags: { outcome: 'not-applicable', reason: { code: 'referrer' } },
            scan: { outcome: 'not-applicable' },
          },
        });
      }
      expect((await calls()).StartImageScan).toBe(2);
    });
  });

  describe('events the handler cannot judge', () => {
    it('rejects a malformed event with a clear error and calls nothing', async () => {
      // Prepare
      const event = {
        version: '0',
        id: 'bad',
        'detail-type': 'ECR Image Action',
        source: 'aws.ecr',
        account: '123456789012',
        time: '2026-11-24T07:45:10Z',
        region: 'us-east-1',
        resources: [],
        detail: { 'action-type': 'PUSH', result: 'SUCCESS', 'repository-name': 'Team/App' },
      };
      // Act
      const attempt = deliver(event);
      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'InvalidEventError',
        message: expect.stringMatching(
          /detail\.repository-name.*detail\.image-digest|detail\.image-digest.*detail\.repository-name/s,
        ),
      });
      expect(await calls()).toEqual({});
    });

    it('gives a skipped verdict for an image deleted before the handler ran, with no mutating call', async () => {
      // Prepare: the rule is not wired, so the handler runs only when delivered by hand.
      const digest = await push('payments/api', buildImageManifest({ seed: 'vanishing' }), 'latest');
      const [event] = pushEvents();
      await client.send(
        new BatchDeleteImageCommand({ repositoryName: 'payments/api', imageIds: [{ imageDigest: digest }] }),
      );
      const before = await mutatingCalls();
      // Act
      const verdict = await deliver(event);
      // Assess
      expect(await mutatingCalls()).toEqual(before);
      expect(verdict).toMatchObject({ status: 'skipped', skipped: { code: 'image-gone' }, actions: [] });
      expect(verdicts()).toEqual([verdict]);
    });

    it('gives a skipped verdict for a repository that no longer exists, with no mutating call', async () => {
      // Prepare
      await push('team/app', buildImageManifest({ seed: 'orphan' }), 'v1.0.0');
      const [event] = pushEvents();
      await client.send(new DeleteRepositoryCommand({ repositoryName: 'team/app', force: true }));
      const before = await mutatingCalls();
      // Act
      const verdict = await deliver(event);
      // Assess
      expect(await mutatingCalls()).toEqual(before);
      expect(verdict).toMatchObject({ status: 'skipped', skipped: { code: 'repository-gone' } });
      expect(verdict.skipped?.message).toMatch(/RepositoryNotFoundException/);
    });
  });
});
