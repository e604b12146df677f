import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BusEvent, EventBus } from '../../src/bus/event-bus.ts';
import { eventBridgeClient, startTestRegistry } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

/** The real EventBridge SDK client publishing over HTTP to the local bus that the registry server serves. */

let server: RegistryServer;
let bus: EventBus;
let client: EventBridgeClient;

function makeClient(accessKeyId = 'AKIDTEST', region = 'us-east-1'): EventBridgeClient {
  return eventBridgeClient(server, { account: accessKeyId, region });
}

const entry = (detail: object, overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  Source: 'ecr-automation',
  DetailType: 'Cleanup Report',
  Detail: JSON.stringify(detail),
  ...overrides,
});

function collect(name: string, eventPattern: object): BusEvent[] {
  const received: BusEvent[] = [];
  bus.addRule({ name, eventPattern, target: (event) => void received.push(event) });
  return received;
}

beforeAll(async () => {
  server = await startTestRegistry();
  bus = server.bus;
  client = makeClient();
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

beforeEach(() => {
  server.reset();
  for (const rule of bus.listRules()) bus.removeRule(rule.name, rule.eventBusName);
});

describe('PutEvents through the EventBridge SDK', () => {
  it('publishes ten entries and routes every one', async () => {
    // Prepare
    const received = collect('reports', { source: ['ecr-automation'] });
    const entries = Array.from({ length: 10 }, (_, index) => entry({ index }));

    // Act
    const output = await client.send(new PutEventsCommand({ Entries: entries }));
    await bus.drain();

    // Assess
    expect(output.FailedEntryCount).toBe(0);
    expect(output.Entries).toHaveLength(10);
    const ids = output.Entries?.map((result) => result.EventId);
    expect(new Set(ids).size).toBe(10);
    expect(received.map((event) => event.id).sort()).toEqual([...(ids ?? [])].sort());
    expect(received.map((event) => (event.detail as { index: number }).index).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(received[0]).toMatchObject({
      version: '0',
      source: 'ecr-automation',
      'detail-type': 'Cleanup Report',
      account: '123456789012',
      region: 'us-east-1',
      resources: [],
    });
  });

  it('rejects eleven entries as a whole with ValidationException', async () => {
    // Prepare
    const received = collect('reports', { source: ['ecr-automation'] });
    const entries = Array.from({ length: 11 }, (_, index) => entry({ index }));

    // Act
    const result = client.send(new PutEventsCommand({ Entries: entries }));

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining(
        "at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10",
      ),
      $metadata: { httpStatusCode: 400 },
    });
    await bus.drain();
    expect(received).toEqual([]);
    expect(bus.events).toEqual([]);
  });

  it('fails a malformed Detail entry alone and delivers the others', async () => {
    // Prepare
    const received = collect('reports', { source: ['ecr-automation'] });
    const entries = [entry({ index: 0 }), { ...entry({}), Detail: '{"index": 1' }, entry({ index: 2 })];

    // Act
    const output: PutEventsCommandOutput = await client.send(new PutEventsCommand({ Entries: entries }));
    await bus.drain();

    // Assess
    expect(output.FailedEntryCount).toBe(1);
    expect(output.Entries?.[1]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    expect(output.Entries?.[0]?.EventId).toEqual(expect.any(String));
    expect(output.Entries?.[2]?.EventId).toEqual(expect.any(String));
    expect(received.map((event) => (event.detail as { index: number }).index).sort()).toEqual([0, 2]);
  });

  it('fails an entry without Source as InvalidArgument', async () => {
    // Prepare
    const entries = [{ DetailType: 'Cleanup Report', Detail: '{}' }, entry({ index: 1 })];

    // Act
    const output = await client.send(new PutEventsCommand({ Entries: entries }));

    // Assess
    expect(output.FailedEntryCount).toBe(1);
    expect(output.Entries?.[0]).toEqual({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
    });
  });

  it('fails a Detail that is JSON but not an object as MalformedDetail', async () => {
    // Act
    const output = await client.send(new PutEventsCommand({ Entries: [{ ...entry({}), Detail: '[1, 2]' }] }));

    // Assess
    expect(output.FailedEntryCount).toBe(1);
    expect(output.Entries?.[0]?.ErrorCode).toBe('MalformedDetail');
  });

  it('accepts a request just under 256 KB and rejects one at the limit', async () => {
    // Prepare: Source (14 bytes) + DetailType (14 bytes) + Detail, no Time.
    const detailOfSize = (bytes: number) => `{"pad":"${'x'.repeat(bytes - 10)}"}`;
    const fixed = 'ecr-automation'.length + 'Cleanup Report'.length;
    const underLimit = entry({}, { Detail: detailOfSize(256 * 1024 - 1 - fixed) });
    const atLimit = entry({}, { Detail: detailOfSize(256 * 1024 - fixed) });

    // Act
    const accepted = await client.send(new PutEventsCommand({ Entries: [underLimit] }));
    const rejected = client.send(new PutEventsCommand({ Entries: [atLimit] }));

    // Assess
    expect(accepted.FailedEntryCount).toBe(0);
    await expect(rejected).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
  });

  it('routes only the events whose detail matches a rule pattern', async () => {
    // Prepare
    const critical = collect('critical', { source: ['ecr-automation'], detail: { severity: ['CRITICAL'] } });
    const large = collect('large', { detail: { count: [{ numeric: ['>=', 10] }] } });
    const entries = [
      entry({ severity: 'LOW', count: 1 }),
      entry({ severity: 'CRITICAL', count: 2 }),
      entry({ severity: 'HIGH', count: 30 }),
    ];

    // Act
    const output = await client.send(new PutEventsCommand({ Entries: entries }));
    await bus.drain();

    // Assess
    expect(critical.map((event) => event.id)).toEqual([output.Entries?.[1]?.EventId]);
    expect(large.map((event) => event.id)).toEqual([output.Entries?.[2]?.EventId]);
  });

  it('keeps Time, Resources and the account and region of the caller', async () => {
    // Prepare
    const received = collect('reports', { source: ['ecr-automation'] });
    const regional = makeClient('210987654321', 'eu-west-1');
    const resources = ['arn:aws:ecr:eu-west-1:210987654321:repository/team-a/api'];

    // Act
    await regional.send(
      new PutEventsCommand({
        Entries: [entry({ index: 0 }, { Time: new Date('2026-11-24T07:30:00.750Z'), Resources: resources })],
      }),
    );
    regional.destroy();
    await bus.drain();

    // Assess
    expect(received).toEqual([
      expect.objectContaining({
        time: '2026-11-24T07:30:00Z',
        resources,
        account: '210987654321',
        region: 'eu-west-1',
      }),
    ]);
  });

  it('publishes to the bus named in EventBusName', async () => {
    // Prepare
    const onDefault = collect('on-default', { source: ['ecr-automation'] });
    const onCustom: BusEvent[] = [];
    bus.addRule({
      name: 'on-custom',
      eventBusName: 'automation',
      eventPattern: { source: ['ecr-automation'] },
      target: (event) => void onCustom.push(event),
    });

    // Act
    await client.send(new PutEventsCommand({ Entries: [entry({ index: 0 }, { EventBusName: 'automation' })] }));
    await bus.drain();

    // Assess
    expect(onDefault).toEqual([]);
    expect(onCustom).toHaveLength(1);
  });
});
