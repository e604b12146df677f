import { readFileSync } from 'node:fs';
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createHandler as createWorkerHandler,
  WorkItemEventSchema,
} from '../../../functions/cleanup-repository/handler.ts';
import { createHandler as createReconcileHandler } from '../../../functions/reconcile-registry/handler.ts';
import { createHandler as createSchedulerHandler } from '../../../functions/scheduled-cleanup/handler.ts';
import { createHandler as createComplianceHandler } from '../../../functions/scheduled-compliance/handler.ts';
import { resolveDryRun } from '../../../shared/config/dry-run.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { createEcrGateway } from '../../../shared/ecr/index.ts';
import { publishEvents } from '../../../shared/events/publisher.ts';
import { testDeps } from '../../helpers/service-deps.ts';

const ecr = mockClient(ECRClient);
const events = mockClient(EventBridgeClient);

/** Every job of the config in dry run; enforce mode and a registry section, so that a live run would act. */
const DRY = parseConfig({
  cleanup: { dryRun: true, rules: [{ repositories: ['**'] }] },
  compliance: {
    dryRun: true,
    defaults: { mode: 'enforce', tagMutability: { setting: 'IMMUTABLE' }, scanOnPush: true },
    rules: [{ repositories: ['**'] }],
  },
  registry: {
    dryRun: true,
    scanning: { scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['team/*'] }] },
  },
});

const context = { getRemainingTimeInMillis: () => 900_000, awsRequestId: 'unit' } as unknown as Context;

const scheduleEvent = (detail: object) => ({
  version: '0',
  id: 'run-1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-24T03:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail,
});

/** The ECR commands the mock received that change something (names not starting with a read verb). */
const mutatingCommands = () =>
  ecr
    .calls()
    .map((call) => (call.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''))
    .filter((name) => !/^(Describe|Get|List|BatchGet)/.test(name));

describe('dryRun in an event can turn dry run on, never off', () => {
  const requested: boolean[] = [];
  const deps = () =>
    testDeps({
      config: () => DRY,
      gateway: ({ readOnly }: { readOnly: boolean }) => {
        requested.push(readOnly);
        return createEcrGateway(new ECRClient({ region: 'us-east-1' }), { readOnly });
      },
      publish: (entries: Parameters<typeof publishEvents>[2]) =>
        publishEvents(new EventBridgeClient({ region: 'us-east-1' }), 'service-bus', entries),
    });

  beforeEach(() => {
    requested.length = 0;
    ecr.reset();
    events.reset();
    ecr.onAnyCommand().resolves({});
    ecr.on(DescribeRepositoriesCommand).resolves({
      repositories: [
        {
          repositoryName: 'team/app',
          repositoryArn: 'arn:aws:ecr:us-east-1:123456789012:repository/team/app',
          registryId: '123456789012',
          imageTagMutability: 'MUTABLE',
          imageScanningConfiguration: { scanOnPush: false },
        },
      ],
    });
    events.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `e${i}` })),
    }));
  });
  afterEach(() => {
    ecr.reset();
    events.reset();
  });

  it.each([
    [false, false, false],
    [false, true, true],
    [false, undefined, false],
    [true, false, true],
    [true, undefined, true],
    [true, 'false', true],
    [false, 'true', false],
  ])('config %s, event %s: dry run %s', (config, event, expected) => {
    // Assess
    expect(resolveDryRun(config, event)).toBe(expected);
  });

  it('cleanup scheduler: dryRun false under a dry-run config registers nothing and publishes dry-run items', async () => {
    // Act
    const summary = await createSchedulerHandler(() => ({ ...deps(), workerPrincipalArn: 'arn:aws:iam::1:role/w' }))(
      scheduleEvent({ dryRun: false }) as never,
      context,
    );
    // Assess
    expect(summary).toMatchObject({ dryRun: true, workItems: 1 });
    expect(requested).toEqual([true]);
    expect(mutatingCommands()).toEqual([]);
    const entries = events.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
    // The work item and the fan-out's own report, both dry
    expect(entries.map((entry) => [entry.DetailType, JSON.parse(entry.Detail as string).dryRun])).toEqual([
      ['Cleanup Work Item', true],
      ['Cleanup Fan-Out Report', true],
    ]);
  });

  it('cleanup worker: a work item with dryRun false under a dry-run config asks for a read-only gateway', async () => {
    // Act
    await createWorkerHandler(() => ({ ...deps(), reserveMs: 0, now: () => Date.parse('2026-11-24T03:00:00Z') }))(
      {
        ...scheduleEvent({}),
        source: 'ecr-automation',
        'detail-type': 'Cleanup Work Item',
        detail: { runId: 'r', repositoryName: 'team/app', dryRun: false, part: 1, plannedAt: '2026-11-24T03:00:00Z' },
      } as never,
      context,
    );
    // Assess
    expect(requested).toEqual([true]);
    expect(mutatingCommands()).toEqual([]);
  });

  it('compliance: dryRun false under a dry-run config fixes nothing', async () => {
    // Act
    const report = await createComplianceHandler(deps)(scheduleEvent({ dryRun: false }) as never, context);
    // Assess
    expect(report).toMatchObject({ dryRun: true, counts: { changed: 0 } });
    expect(requested).toEqual([true]);
    expect(mutatingCommands()).toEqual([]);
  });

  it('reconcile: dryRun false under a dry-run config applies nothing', async () => {
    // Act
    const reports = await createReconcileHandler(deps)(scheduleEvent({ dryRun: false }) as never, context);
    // Assess
    expect(reports).toMatchObject([{ dryRun: true }]);
    expect(requested).toEqual([true]);
    expect(mutatingCommands()).toEqual([]);
  });
});

describe('the sample work item (events/cleanup-work-item.json)', () => {
  it('parses, and says only what to look at: no brakeCleared', () => {
    // Prepare
    const sample = JSON.parse(readFileSync('events/cleanup-work-item.json', 'utf8'));
    // Act
    const parsed = WorkItemEventSchema.safeParse(sample);
    // Assess
    expect(parsed.success).toBe(true);
    expect(sample.detail).not.toHaveProperty('brakeCleared');
  });
});
