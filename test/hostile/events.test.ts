import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_EVENT_BUS, serviceRules } from '../../local/service.ts';
import { parseConfig } from '../../shared/config/load.ts';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import { digestsIn, type Loaded, MUTATING_ECR_OPERATIONS, reportsOf } from '../helpers/cleanup.ts';
import { control, ecrClient, eventBridgeClient, startTestRegistry } from '../helpers/registry.ts';

/**
 * Regression tests replaying hostile events: whoever can put events on the service's bus (or invoke a handler)
 * must not be able to lift the safety brake, shorten the quiet period, switch dry run off, or make a handler act on
 * an event it does not own. Each test has its own short timeout so that a hang fails fast.
 */

const HOSTILE_TIMEOUT_MS = 15_000;
const DAY_MS = 86_400_000;

/** Every mutating call the service's handlers could make, cleanup, compliance and reconcile alike. */
const MUTATING = [
  ...MUTATING_ECR_OPERATIONS,
  'DeleteLifecyclePolicy',
  'PutReplicationConfiguration',
  'CreatePullThroughCacheRule',
  'UpdatePullThroughCacheRule',
  'DeletePullThroughCacheRule',
  'CreateRepositoryCreationTemplate',
  'UpdateRepositoryCreationTemplate',
  'DeleteRepositoryCreationTemplate',
  'PutRegistryScanningConfiguration',
  'PutRegistryPolicy',
  'DeleteRegistryPolicy',
];

/** A repository the brake protects (6 of 10 images stale > 50%), three of them pushed seconds ago. */
const BRAKED = 'braked/app';
/** A repository whose cleanup passes the brake (3 of 10 stale); three images are in the quiet period. */
const QUIET = 'quiet/app';
const FIXTURE: Fixture = {
  repositories: [
    {
      name: BRAKED,
      images: [
        { id: 'b-tagged', tags: ['v1'], pushedAt: '-200d' },
        ...['b-1', 'b-2', 'b-3', 'b-4', 'b-5', 'b-6'].map((id) => ({ id, pushedAt: '-100d' })),
        ...['b-new-1', 'b-new-2', 'b-new-3'].map((id) => ({ id, pushedAt: '-5s' })),
      ],
    },
    {
      name: QUIET,
      images: [
        ...['q-v1', 'q-v2', 'q-v3', 'q-v4'].map((id, i) => ({ id, tags: [`v${i + 1}`], pushedAt: '-200d' })),
        ...['q-1', 'q-2', 'q-3'].map((id) => ({ id, pushedAt: '-100d' })),
        ...['q-new-1', 'q-new-2', 'q-new-3'].map((id) => ({ id, pushedAt: '-5s' })),
      ],
    },
  ],
};

const CONFIG = parseConfig({
  cleanup: {
    defaults: { olderThanDays: 14, notPulledForDays: 30, quietPeriodMinutes: 60, maxDeleteFraction: 0.5 },
    rules: [{ repositories: ['**'] }],
  },
  compliance: {
    defaults: { mode: 'enforce', tagMutability: { setting: 'IMMUTABLE' }, scanOnPush: true },
    rules: [{ repositories: ['**'] }],
  },
  registry: {
    scanning: { scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['braked/*'] }] },
  },
});

/** The same config with every job in dry run. */
const DRY_CONFIG = parseConfig({
  ...CONFIG,
  cleanup: { ...CONFIG.cleanup, dryRun: true },
  compliance: { ...CONFIG.compliance, dryRun: true },
  registry: { ...CONFIG.registry, dryRun: true },
});

const lambdaContext = { getRemainingTimeInMillis: () => 900_000, awsRequestId: 'hostile' } as unknown as Context;

describe('hostile events', () => {
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
    loaded = await control<Loaded>(server, 'load', FIXTURE);
  });

  const calls = async () => (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;
  const mutatingCalls = (operations: Record<string, number>) =>
    Object.fromEntries(MUTATING.filter((op) => operations[op]).map((op) => [op, operations[op]]));
  const digestOf = (id: string) => loaded.images.find((image) => image.id === id)?.imageDigest as string;

  /** The service's rules on the local bus, as `serverless.ts` deploys them. */
  const wire = (config: Readonly<ServiceConfig>) => {
    const rules = serviceRules(server, { config });
    for (const rule of rules) server.bus.addRule(rule);
    return rules;
  };
  /** Invokes the handler behind a rule directly, as `lambda:InvokeFunction` (or a matched event) would. */
  const invoke = (rules: ReturnType<typeof wire>, name: string, event: object) => {
    const rule = rules.find((candidate) => candidate.name === name);
    if (!rule) throw new Error(`no rule ${name}`);
    return rule.target(event as never, lambdaContext as never);
  };
  /** A forged event, put on the service's bus with the service's own credentials' reach (PutEvents). */
  const putOnServiceBus = async (detailType: string, detail: object, source = 'ecr-automation') => {
    const bus = eventBridgeClient(server, {});
    const response = await bus.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: LOCAL_EVENT_BUS, Source: source, DetailType: detailType, Detail: JSON.stringify(detail) },
        ],
      }),
    );
    expect(response.FailedEntryCount ?? 0).toBe(0);
    await server.bus.drain();
  };
  const envelope = (source: string, detailType: string, detail: object) => ({
    version: '0',
    id: `hostile-${Math.random().toString(36).slice(2)}`,
    'detail-type': detailType,
    source,
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail,
  });
  const forgedWorkItem = (repositoryName: string, extra: object = {}) => ({
    runId: 'forged',
    repositoryName,
    dryRun: false,
    part: 2,
    // Sixty days ahead: every untagged image would look stale, the ones pushed seconds ago included.
    plannedAt: new Date(Date.now() + 60 * DAY_MS).toISOString(),
    brakeCleared: true,
    ...extra,
  });

  describe('a forged Cleanup Work Item', () => {
    it(
      'does not lift the safety brake: brakeCleared and a future plannedAt delete nothing',
      async () => {
        // Prepare
        wire(CONFIG);
        const before = await digestsIn(ecrClient(server), BRAKED);
        // Act
        await putOnServiceBus('Cleanup Work Item', forgedWorkItem(BRAKED));
        // Assess
        expect(await digestsIn(ecrClient(server), BRAKED)).toEqual(before);
        expect((await calls()).BatchDeleteImage ?? 0).toBe(0);
        const report = reportsOf(server).find((candidate) => candidate.repositoryName === BRAKED);
        expect(report).toMatchObject({
          status: 'braked',
          counts: { deleted: 0 },
          brake: { wouldDelete: 6, total: 10 },
        });
        expect(server.bus.deadLetters).toEqual([]);
      },
      HOSTILE_TIMEOUT_MS,
    );

    it(
      'does not shorten the quiet period: images pushed seconds ago are kept whatever plannedAt says',
      async () => {
        // Prepare
        wire(CONFIG);
        // Act
        await putOnServiceBus('Cleanup Work Item', forgedWorkItem(QUIET));
        // Assess: only the really stale images go.
        const after = await digestsIn(ecrClient(server), QUIET);
        for (const id of ['q-1', 'q-2', 'q-3']) expect(after.has(digestOf(id))).toBe(false);
        for (const id of ['q-new-1', 'q-new-2', 'q-new-3', 'q-v1', 'q-v2', 'q-v3', 'q-v4']) {
          expect(after.has(digestOf(id))).toBe(true);
        }
        const report = reportsOf(server).find((candidate) => candidate.repositoryName === QUIET);
        expect(report).toMatchObject({ status: 'completed', counts: { deleted: 3 } });
        expect(Date.parse(report?.plannedAt as string)).toBeLessThan(Date.now() + 60_000);
        expect(report?.kept.filter((entry) => entry.reason.code === 'quiet-period')).toHaveLength(3);
      },
      HOSTILE_TIMEOUT_MS,
    );

    it(
      'cannot switch dry run off: dryRun false under a dry-run config makes no mutating call',
      async () => {
        // Prepare
        wire(DRY_CONFIG);
        // Act
        await putOnServiceBus('Cleanup Work Item', forgedWorkItem(QUIET, { brakeCleared: false }));
        // Assess
        expect(mutatingCalls(await calls())).toEqual({});
        expect(reportsOf(server).find((candidate) => candidate.repositoryName === QUIET)).toMatchObject({
          status: 'dry-run',
          dryRun: true,
        });
      },
      HOSTILE_TIMEOUT_MS,
    );

    it(
      'from a foreign source is ignored by the worker (no ECR call, no error, no retry)',
      async () => {
        // Prepare: the rule's pattern already filters on the source; this is the handler's own check behind it.
        const rules = wire(CONFIG);
        // Act
        const result = await invoke(
          rules,
          'cleanup-repository',
          envelope('evil.corp', 'Cleanup Work Item', forgedWorkItem(QUIET)),
        );
        // Assess
        expect(result).toMatchObject({ ignored: 'foreign-source', source: 'evil.corp' });
        expect(await calls()).toEqual({});
      },
      HOSTILE_TIMEOUT_MS,
    );
  });

  describe('a forged Cleanup Work Item naming an account', () => {
    it(
      'cleans nothing in an account the config does not target, even where a role would let it',
      async () => {
        // Prepare: account 999999999999 has a stale repository and a role trusting the service, but the config
        // targets 111111111111 only
        const OTHER = '999999999999';
        await control(server, 'load', {
          account: OTHER,
          region: 'us-east-1',
          repositories: [{ name: QUIET, images: [{ id: 'o-1', pushedAt: '-300d' }] }],
          iam: { roles: [{ account: OTHER, name: 'EcrAutomation', trust: ['123456789012'] }] },
        });
        const targeted = parseConfig({
          ...CONFIG,
          targets: { accounts: ['111111111111'], regions: ['us-east-1'], roleName: 'EcrAutomation' },
        });
        wire(targeted);
        // Act
        await putOnServiceBus(
          'Cleanup Work Item',
          forgedWorkItem(QUIET, { account: OTHER, region: 'us-east-1', brakeCleared: false }),
        );
        // Assess
        expect(await digestsIn(ecrClient(server, { account: OTHER }), QUIET)).toHaveProperty('size', 1);
        expect(mutatingCalls(await calls())).toEqual({});
        expect(reportsOf(server).find((candidate) => candidate.account === OTHER)).toMatchObject({
          status: 'not-matched',
          message: expect.stringContaining('not one of the config'),
        });
      },
      HOSTILE_TIMEOUT_MS,
    );

    it(
      'cleans nothing in another account when the config names no targets, and not its own instead',
      async () => {
        // Prepare
        wire(CONFIG);
        const before = await digestsIn(ecrClient(server), QUIET);
        // Act
        await putOnServiceBus(
          'Cleanup Work Item',
          forgedWorkItem(QUIET, { account: '999999999999', region: 'us-east-1', brakeCleared: false }),
        );
        // Assess
        expect(await digestsIn(ecrClient(server), QUIET)).toEqual(before);
        expect(mutatingCalls(await calls())).toEqual({});
        expect(reportsOf(server)).toEqual([
          expect.objectContaining({ status: 'not-matched', account: '999999999999' }),
        ]);
      },
      HOSTILE_TIMEOUT_MS,
    );

    it(
      'with an account and no region, or a malformed account, is refused at the edge and does nothing',
      async () => {
        // Prepare
        wire(CONFIG);
        // Act
        await putOnServiceBus('Cleanup Work Item', forgedWorkItem(QUIET, { account: '999999999999' }));
        await putOnServiceBus('Cleanup Work Item', forgedWorkItem(QUIET, { account: '9'.repeat(5000), region: 'x' }));
        // Assess: the test's own two PutEvents, and nothing else: no ECR call, no report
        expect(await calls()).toEqual({ 'events:PutEvents': 2 });
        expect(reportsOf(server)).toEqual([]);
      },
      HOSTILE_TIMEOUT_MS,
    );
  });

  describe('dryRun false in a run event under a dry-run config', () => {
    it(
      'makes no mutating call in the cleanup scheduler or the workers it fans out to',
      async () => {
        // Prepare
        const rules = wire(DRY_CONFIG);
        // Act
        const summary = await invoke(
          rules,
          'scheduled-cleanup',
          envelope('aws.events', 'Scheduled Event', { dryRun: false }),
        );
        await server.bus.drain();
        // Assess
        expect(summary).toMatchObject({ dryRun: true, workItems: 2 });
        expect(mutatingCalls(await calls())).toEqual({});
        expect(
          reportsOf(server)
            .map((report) => [report.repositoryName, report.dryRun])
            .sort(),
        ).toEqual([
          [BRAKED, true],
          [QUIET, true],
        ]);
      },
      HOSTILE_TIMEOUT_MS,
    );

    it(
      'makes no mutating call in the compliance job',
      async () => {
        // Prepare: every repository is out of policy in enforce mode, so a live run would fix them.
        const rules = wire(DRY_CONFIG);
        // Act
        const report = await invoke(
          rules,
          'scheduled-compliance',
          envelope('aws.events', 'Scheduled Event', { dryRun: false }),
        );
        // Assess
        expect(report).toMatchObject({ dryRun: true, counts: { nonCompliant: 2, changed: 0 } });
        expect(mutatingCalls(await calls())).toEqual({});
      },
      HOSTILE_TIMEOUT_MS,
    );

    it(
      'makes no mutating call in the registry reconcile',
      async () => {
        // Prepare: the registry's scanning configuration differs from the config's.
        const rules = wire(DRY_CONFIG);
        // Act
        const reports = await invoke(
          rules,
          'reconcile-registry',
          envelope('aws.events', 'Scheduled Event', { dryRun: false }),
        );
        // Assess
        expect(reports).toMatchObject([{ dryRun: true, status: 'planned' }]);
        expect((reports as { changes: unknown[] }[])[0]?.changes.length).toBeGreaterThan(0);
        expect(mutatingCalls(await calls())).toEqual({});
      },
      HOSTILE_TIMEOUT_MS,
    );
  });

  describe('a malformed or foreign push event', () => {
    const push = (detail: object) =>
      envelope('aws.ecr', 'ECR Image Action', {
        'action-type': 'PUSH',
        result: 'SUCCESS',
        'repository-name': QUIET,
        'image-tag': 'v9',
        ...detail,
      });

    it(
      'with image-digest sha256:xyz is rejected at the edge, naming the field, without an ECR call',
      async () => {
        // Prepare
        const rules = wire(CONFIG);
        // Act
        const attempt = invoke(rules, 'on-image-push', push({ 'image-digest': 'sha256:xyz' }));
        // Assess
        await expect(attempt).rejects.toMatchObject({
          name: 'InvalidEventError',
          message: expect.stringMatching(/detail\.image-digest: an image digest/),
        });
        expect(await calls()).toEqual({});
      },
      HOSTILE_TIMEOUT_MS,
    );

    it.each([
      ['an uppercase digest', { 'image-digest': `sha256:${'AB'.repeat(32)}` }, /detail\.image-digest/],
      ['a short digest', { 'image-digest': `sha256:${'ab'.repeat(31)}` }, /detail\.image-digest/],
      ['an unknown algorithm', { 'image-digest': `md5:${'ab'.repeat(16)}` }, /detail\.image-digest/],
      ['a tag with a slash', { 'image-digest': `sha256:${'ab'.repeat(32)}`, 'image-tag': 'a/b' }, /detail\.image-tag/],
    ])(
      'with %s is rejected at the edge without an ECR call',
      async (_name, detail, message) => {
        // Prepare
        const rules = wire(CONFIG);
        // Act
        const attempt = invoke(rules, 'on-image-push', push(detail));
        // Assess
        await expect(attempt).rejects.toMatchObject({
          name: 'InvalidEventError',
          message: expect.stringMatching(message),
        });
        expect(await calls()).toEqual({});
      },
      HOSTILE_TIMEOUT_MS,
    );

    it(
      'from a foreign source is ignored by on-image-push and on-scan-result (no ECR call, no error)',
      async () => {
        // Prepare
        const rules = wire(CONFIG);
        const digest = digestOf('q-new-1');
        // Act
        const pushed = await invoke(rules, 'on-image-push', {
          ...push({ 'image-digest': digest }),
          source: 'my.ecr',
        });
        const scanned = await invoke(
          rules,
          'on-scan-result-1',
          envelope('not.aws.ecr', 'ECR Image Scan', {
            'scan-status': 'COMPLETE',
            'repository-name': QUIET,
            'image-digest': digest,
            'image-tags': [],
            'finding-severity-counts': {},
          }),
        );
        // Assess
        expect(pushed).toMatchObject({ ignored: 'foreign-source', source: 'my.ecr' });
        expect(scanned).toMatchObject({ ignored: 'foreign-source', source: 'not.aws.ecr' });
        expect(await calls()).toEqual({});
      },
      HOSTILE_TIMEOUT_MS,
    );
  });
});
