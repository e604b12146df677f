import { describe, expect, it, vi } from 'vitest';
import {
  BusApiError,
  type BusEvent,
  type Delivery,
  EventBus,
  type LambdaLikeContext,
} from '../../../src/bus/event-bus.ts';

const FIXED_NOW = Date.parse('2026-11-24T07:30:00.456Z');

const imageAction = (action: string, repositoryName = 'team-a/api') => ({
  source: 'aws.ecr',
  detailType: 'ECR Image Action',
  detail: { 'action-type': action, result: 'SUCCESS', 'repository-name': repositoryName, 'image-digest': 'sha256:1' },
});

function recorder() {
  const calls: { event: BusEvent; context: LambdaLikeContext }[] = [];
  const target = (event: BusEvent, context: LambdaLikeContext) => {
    calls.push({ event, context });
    return { handled: event.id };
  };
  return { calls, target };
}

describe('EventBus', () => {
  describe('emit and routing', () => {
    it('builds the EventBridge envelope', () => {
      // Prepare
      const bus = new EventBus({ now: () => FIXED_NOW, defaultAccount: '111122223333', defaultRegion: 'eu-west-1' });

      // Act
      const event = bus.emit({ ...imageAction('PUSH'), resources: ['arn:aws:ecr:eu-west-1:111122223333:x'] });

      // Assess
      expect(event).toEqual({
        version: '0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        'detail-type': 'ECR Image Action',
        source: 'aws.ecr',
        account: '111122223333',
        time: '2026-11-24T07:30:00Z',
        region: 'eu-west-1',
        resources: ['arn:aws:ecr:eu-west-1:111122223333:x'],
        detail: imageAction('PUSH').detail,
      });
      expect(bus.events).toEqual([event]);
    });

    it('uses the given time, account and region', () => {
      // Prepare
      const bus = new EventBus({ now: () => FIXED_NOW });

      // Act
      const event = bus.emit({
        ...imageAction('PUSH'),
        time: new Date('2027-01-02T03:04:05.999Z'),
        account: '444455556666',
        region: 'ap-south-1',
      });

      // Assess
      expect(event).toMatchObject({ time: '2027-01-02T03:04:05Z', account: '444455556666', region: 'ap-south-1' });
    });

    it('delivers to the matching rules only, asynchronously', async () => {
      // Prepare
      const bus = new EventBus();
      const pushes = recorder();
      const deletes = recorder();
      const everything = recorder();
      bus.addRule({ name: 'on-push', eventPattern: { detail: { 'action-type': ['PUSH'] } }, target: pushes.target });
      bus.addRule({
        name: 'on-delete',
        eventPattern: { detail: { 'action-type': ['DELETE'] } },
        target: deletes.target,
      });
      bus.addRule({ name: 'on-ecr', eventPattern: { source: ['aws.ecr'] }, target: everything.target });

      // Act
      const pushed = bus.emit(imageAction('PUSH'));
      const beforeDrain = pushes.calls.length;
      await bus.drain();

      // Assess
      expect(beforeDrain).toBe(0);
      expect(pushes.calls.map((call) => call.event)).toEqual([pushed]);
      expect(deletes.calls).toEqual([]);
      expect(everything.calls.map((call) => call.event.id)).toEqual([pushed.id]);
      expect(bus.deliveries).toEqual(
        expect.arrayContaining([
          { ruleName: 'on-push', eventId: pushed.id, attempts: 1, ok: true, result: { handled: pushed.id } },
          { ruleName: 'on-ecr', eventId: pushed.id, attempts: 1, ok: true, result: { handled: pushed.id } },
        ]),
      );
      expect(bus.deliveries).toHaveLength(2);
    });

    it('routes by event bus name', async () => {
      // Prepare
      const bus = new EventBus();
      const onDefault = recorder();
      const onCustom = recorder();
      bus.addRule({ name: 'all', eventPattern: { source: ['app'] }, target: onDefault.target });
      bus.addRule({ name: 'all', eventBusName: 'custom', eventPattern: { source: ['app'] }, target: onCustom.target });

      // Act
      bus.emit({
        source: 'app',
        detailType: 'x',
        detail: {},
        eventBusName: 'arn:aws:events:us-east-1:1:event-bus/custom',
      });
      await bus.drain();

      // Assess
      expect(onDefault.calls).toHaveLength(0);
      expect(onCustom.calls).toHaveLength(1);
    });

    it('gives each target its own copy of the event', async () => {
      // Prepare
      const bus = new EventBus();
      const seen: unknown[] = [];
      bus.addRule({
        name: 'mutator',
        eventPattern: { source: ['aws.ecr'] },
        target: (event) => {
          (event.detail as Record<string, unknown>)['action-type'] = 'CHANGED';
        },
      });
      bus.addRule({
        name: 'reader',
        eventPattern: { source: ['aws.ecr'] },
        target: async (event) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          seen.push((event.detail as Record<string, unknown>)['action-type']);
        },
      });

      // Act
      bus.emit(imageAction('PUSH'));
      await bus.drain();

      // Assess
      expect(seen).toEqual(['PUSH']);
      expect(bus.events[0]?.detail).toMatchObject({ 'action-type': 'PUSH' });
    });

    it('gives the target a Lambda-like context', async () => {
      // Prepare
      const bus = new EventBus({ defaultAccount: '111122223333' });
      const { calls, target } = recorder();
      bus.addRule({
        name: 'ctx',
        eventPattern: { source: ['aws.ecr'] },
        target,
        targetName: 'cleanup',
        timeoutMs: 5000,
      });

      // Act
      bus.emit(imageAction('PUSH'));
      await bus.drain();

      // Assess
      const context = calls[0]?.context;
      expect(context).toMatchObject({
        functionName: 'cleanup',
        functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:cleanup',
        logGroupName: '/aws/lambda/cleanup',
        awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(context?.getRemainingTimeInMillis()).toBeGreaterThan(4000);
      expect(context?.getRemainingTimeInMillis()).toBeLessThanOrEqual(5000);
    });

    it('reports each finished delivery to onDelivery', async () => {
      // Prepare
      const reported: Delivery[] = [];
      const bus = new EventBus({ onDelivery: (delivery) => reported.push(delivery) });
      bus.addRule({ name: 'r', eventPattern: { source: ['aws.ecr'] }, target: () => 'done' });

      // Act
      const event = bus.emit(imageAction('PUSH'));
      await bus.drain();

      // Assess
      expect(reported).toEqual([{ ruleName: 'r', eventId: event.id, attempts: 1, ok: true, result: 'done' }]);
    });
  });

  describe('retries and dead letters', () => {
    it('retries a failing target, then succeeds', async () => {
      // Prepare
      const bus = new EventBus();
      let calls = 0;
      bus.addRule({
        name: 'flaky',
        eventPattern: { source: ['aws.ecr'] },
        retryDelayMs: 1,
        target: () => {
          calls++;
          if (calls < 3) throw new Error(`boom ${calls}`);
          return 'ok';
        },
      });

      // Act
      const event = bus.emit(imageAction('PUSH'));
      await bus.drain();

      // Assess
      expect(calls).toBe(3);
      expect(bus.deliveries).toEqual([{ ruleName: 'flaky', eventId: event.id, attempts: 3, ok: true, result: 'ok' }]);
      expect(bus.deadLetters).toEqual([]);
    });

    it('sends the event to the dead letters after the retries are spent', async () => {
      // Prepare
      const bus = new EventBus({ now: () => FIXED_NOW });
      let calls = 0;
      bus.addRule({
        name: 'broken',
        eventPattern: { source: ['aws.ecr'] },
        maximumRetryAttempts: 1,
        retryDelayMs: 1,
        target: async () => {
          calls++;
          throw new TypeError('cannot read repository');
        },
      });

      // Act
      const event = bus.emit(imageAction('PUSH'));
      await bus.drain();

      // Assess
      expect(calls).toBe(2);
      expect(bus.deadLetters).toEqual([
        {
          ruleName: 'broken',
          event,
          error: 'TypeError: cannot read repository',
          attempts: 2,
          at: '2026-11-24T07:30:00.456Z',
        },
      ]);
      expect(bus.deliveries).toEqual([
        { ruleName: 'broken', eventId: event.id, attempts: 2, ok: false, error: 'TypeError: cannot read repository' },
      ]);
    });

    it('waits with exponential back-off between attempts', async () => {
      // Prepare
      const bus = new EventBus();
      const times: number[] = [];
      bus.addRule({
        name: 'slow-retry',
        eventPattern: { source: ['aws.ecr'] },
        maximumRetryAttempts: 2,
        retryDelayMs: 40,
        target: () => {
          times.push(performance.now());
          throw new Error('no');
        },
      });

      // Act
      bus.emit(imageAction('PUSH'));
      await bus.drain();

      // Assess
      const [first = 0, second = 0, third = 0] = times;
      expect(times).toHaveLength(3);
      expect(second - first).toBeGreaterThanOrEqual(35);
      expect(third - second).toBeGreaterThanOrEqual(75);
    });

    it('fails an attempt that exceeds its deadline', async () => {
      // Prepare
      const bus = new EventBus();
      let remainingAtStart = -1;
      bus.addRule({
        name: 'sleepy',
        eventPattern: { source: ['aws.ecr'] },
        timeoutMs: 50,
        maximumRetryAttempts: 0,
        target: async (_event, context) => {
          remainingAtStart = context.getRemainingTimeInMillis();
          await new Promise((resolve) => setTimeout(resolve, 300));
          return 'too late';
        },
      });

      // Act
      const event = bus.emit(imageAction('PUSH'));
      await bus.drain();

      // Assess
      expect(remainingAtStart).toBeGreaterThan(0);
      expect(remainingAtStart).toBeLessThanOrEqual(50);
      expect(bus.deliveries).toEqual([
        { ruleName: 'sleepy', eventId: event.id, attempts: 1, ok: false, error: 'Task timed out after 0.05 seconds' },
      ]);
      expect(bus.deadLetters.map((letter) => letter.error)).toEqual(['Task timed out after 0.05 seconds']);
    });

    it('honours the legacy context callbacks', async () => {
      // Prepare
      const bus = new EventBus();
      bus.addRule({
        name: 'callbacks',
        eventPattern: { source: ['aws.ecr'] },
        maximumRetryAttempts: 0,
        target: (_event, context) =>
          new Promise(() => {
            setTimeout(() => context.fail(new Error('failed through context')), 1);
          }),
      });

      // Act
      bus.emit(imageAction('PUSH'));
      await bus.drain();

      // Assess
      expect(bus.deadLetters.map((letter) => letter.error)).toEqual(['failed through context']);
    });
  });

  describe('drain', () => {
    it('resolves at once when nothing is in flight', async () => {
      // Prepare
      const bus = new EventBus();

      // Act
      const drained = bus.drain();

      // Assess
      await expect(drained).resolves.toBeUndefined();
    });

    it('waits for deliveries of events emitted by targets', async () => {
      // Prepare
      const bus = new EventBus();
      const second = recorder();
      bus.addRule({
        name: 'relay',
        eventPattern: { source: ['first'] },
        target: async () => {
          await new Promise((resolve) => setTimeout(resolve, 10));
          bus.emit({ source: 'second', detailType: 'relayed', detail: {} });
        },
      });
      bus.addRule({ name: 'sink', eventPattern: { source: ['second'] }, target: second.target });

      // Act
      bus.emit({ source: 'first', detailType: 'start', detail: {} });
      await bus.drain();

      // Assess
      expect(second.calls.map((call) => call.event['detail-type'])).toEqual(['relayed']);
      expect(bus.deliveries).toHaveLength(2);
    });
  });

  describe('schedules', () => {
    it('fires a schedule rule as a Scheduled Event to its target only', async () => {
      // Prepare
      const bus = new EventBus({ now: () => FIXED_NOW, defaultAccount: '111122223333' });
      const nightly = recorder();
      const other = recorder();
      bus.addRule({ name: 'nightly', scheduleExpression: 'cron(0 3 * * ? *)', target: nightly.target });
      bus.addRule({ name: 'other', scheduleExpression: 'rate(5 minutes)', target: other.target });
      bus.addRule({ name: 'catch-all', eventPattern: { source: ['aws.events'] }, target: other.target });

      // Act
      const deliveries = await bus.fireSchedule('nightly');

      // Assess
      const event = nightly.calls[0]?.event;
      expect(event).toEqual({
        version: '0',
        id: expect.any(String),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '111122223333',
        time: '2026-11-24T07:30:00Z',
        region: 'us-east-1',
        resources: ['arn:aws:events:us-east-1:111122223333:rule/nightly'],
        detail: {},
      });
      expect(deliveries).toEqual([
        { ruleName: 'nightly', eventId: event?.id, attempts: 1, ok: true, result: expect.anything() },
      ]);
      expect(other.calls).toEqual([]);
    });

    it("fires a schedule rule with a manual run's detail, and logs the event with it", async () => {
      // Prepare
      const bus = new EventBus({ now: () => FIXED_NOW });
      const nightly = recorder();
      bus.addRule({ name: 'nightly', scheduleExpression: 'cron(0 3 * * ? *)', target: nightly.target });
      const detail = { dryRun: true };

      // Act
      await bus.fireSchedule('nightly', undefined, detail);
      detail.dryRun = false;

      // Assess
      expect(nightly.calls[0]?.event.detail).toEqual({ dryRun: true });
      expect(bus.events.at(-1)?.detail).toEqual({ dryRun: true });
    });

    it('rejects firing a rule that does not exist or has no schedule', async () => {
      // Prepare
      const bus = new EventBus();
      bus.addRule({ name: 'pattern-only', eventPattern: { source: ['x'] }, target: () => undefined });

      // Act
      const missing = bus.fireSchedule('nope');
      const unscheduled = bus.fireSchedule('pattern-only');

      // Assess
      await expect(missing).rejects.toThrow('No rule named nope on event bus default');
      await expect(unscheduled).rejects.toThrow('has no scheduleExpression');
    });

    it('lists rules with their next fire time', () => {
      // Prepare
      const bus = new EventBus({ now: () => FIXED_NOW });
      bus.addRule({ name: 'nightly', scheduleExpression: 'cron(0 3 * * ? *)', target: () => undefined });
      bus.addRule({ name: 'pushes', eventPattern: { detail: { 'action-type': ['PUSH'] } }, target: () => undefined });

      // Act
      const rules = bus.listRules();

      // Assess
      expect(rules).toEqual([
        {
          name: 'nightly',
          eventBusName: 'default',
          scheduleExpression: 'cron(0 3 * * ? *)',
          nextFireTime: '2026-11-25T03:00:00Z',
        },
        { name: 'pushes', eventBusName: 'default', eventPattern: { detail: { 'action-type': ['PUSH'] } } },
      ]);
    });

    it('fires schedules on the clock once started, and no more once stopped', async () => {
      // Prepare
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: FIXED_NOW });
      const bus = new EventBus();
      const ticks = recorder();
      bus.addRule({ name: 'tick', scheduleExpression: 'rate(1 minute)', target: ticks.target });
      const scheduled = () => bus.events.filter((event) => event['detail-type'] === 'Scheduled Event').length;

      // Act
      let beforeFirstMinute: number;
      let afterTwoMinutes: number;
      let nextFireTime: string | undefined;
      try {
        bus.startSchedules();
        nextFireTime = bus.listRules()[0]?.nextFireTime;
        await vi.advanceTimersByTimeAsync(59_000);
        beforeFirstMinute = scheduled();
        await vi.advanceTimersByTimeAsync(61_000);
        afterTwoMinutes = scheduled();
        bus.stopSchedules();
        await vi.advanceTimersByTimeAsync(180_000);
      } finally {
        vi.useRealTimers();
      }
      await bus.drain();

      // Assess
      expect(nextFireTime).toBe('2026-11-24T07:31:00Z');
      expect(beforeFirstMinute).toBe(0);
      expect(afterTwoMinutes).toBe(2);
      expect(scheduled()).toBe(2);
      expect(ticks.calls.map((call) => call.event.resources)).toEqual([
        ['arn:aws:events:us-east-1:123456789012:rule/tick'],
        ['arn:aws:events:us-east-1:123456789012:rule/tick'],
      ]);
    });

    it('fires cron schedules at their next UTC time', async () => {
      // Prepare
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.parse('2026-11-24T02:59:00Z') });
      const bus = new EventBus();
      const nightly = recorder();
      bus.addRule({ name: 'nightly', scheduleExpression: 'cron(0 3 * * ? *)', target: nightly.target });

      // Act
      let times: string[];
      try {
        bus.startSchedules();
        await vi.advanceTimersByTimeAsync(24 * 3_600_000 + 60_000);
        bus.stopSchedules();
        times = bus.events.map((event) => event.time);
      } finally {
        vi.useRealTimers();
      }
      await bus.drain();

      // Assess
      expect(times).toEqual(['2026-11-24T03:00:00Z', '2026-11-25T03:00:00Z']);
      expect(nightly.calls).toHaveLength(2);
    });
  });

  describe('rules', () => {
    it.each([
      [
        'a duplicate name',
        { name: 'dup', eventPattern: { source: ['x'] } },
        'Rule dup already exists on event bus default',
      ],
      ['an invalid name', { name: 'bad name', eventPattern: { source: ['x'] } }, 'is not valid'],
      ['no pattern nor schedule', { name: 'empty' }, 'needs an eventPattern or a scheduleExpression'],
      ['an invalid pattern', { name: 'p', eventPattern: { source: 'x' } }, 'Invalid event pattern at "source"'],
      ['an invalid schedule', { name: 's', scheduleExpression: 'rate(1 minutes)' }, 'Invalid schedule expression'],
      [
        'a schedule on a custom bus',
        { name: 's', eventBusName: 'custom', scheduleExpression: 'rate(5 minutes)' },
        'only on the default event bus',
      ],
      [
        'a bad retry count',
        { name: 'r', eventPattern: { source: ['x'] }, maximumRetryAttempts: -1 },
        'maximumRetryAttempts',
      ],
    ])('rejects %s', (_label, spec, message) => {
      // Prepare
      const bus = new EventBus();
      bus.addRule({ name: 'dup', eventPattern: { source: ['x'] }, target: () => undefined });

      // Act
      const act = () => bus.addRule({ target: () => undefined, ...spec });

      // Assess
      expect(act).toThrow(message);
    });

    it('removes a rule so that it no longer receives events', async () => {
      // Prepare
      const bus = new EventBus();
      const { calls, target } = recorder();
      bus.addRule({ name: 'gone', eventPattern: { source: ['aws.ecr'] }, target });

      // Act
      const removed = bus.removeRule('gone');
      const removedAgain = bus.removeRule('gone');
      bus.emit(imageAction('PUSH'));
      await bus.drain();

      // Assess
      expect(removed).toBe(true);
      expect(removedAgain).toBe(false);
      expect(calls).toEqual([]);
      expect(bus.listRules()).toEqual([]);
    });
  });

  describe('reset', () => {
    it('clears events, deliveries and dead letters and keeps the rules, idempotently', async () => {
      // Prepare
      const bus = new EventBus();
      bus.addRule({
        name: 'fails',
        eventPattern: { source: ['aws.ecr'] },
        maximumRetryAttempts: 0,
        target: () => {
          throw new Error('x');
        },
      });
      bus.emit(imageAction('PUSH'));
      await bus.drain();

      // Act
      bus.reset();
      bus.reset();

      // Assess
      expect(bus.events).toEqual([]);
      expect(bus.deliveries).toEqual([]);
      expect(bus.deadLetters).toEqual([]);
      expect(bus.listRules().map((rule) => rule.name)).toEqual(['fails']);
    });
  });

  describe('operations', () => {
    it('answers PutEvents with an event id per entry and routes the events', async () => {
      // Prepare
      const bus = new EventBus();
      const { calls, target } = recorder();
      bus.addRule({ name: 'app', eventPattern: { source: ['ecr-automation'] }, target });
      const putEvents = bus.operations.PutEvents;

      // Act
      const output = (await putEvents?.(
        { Entries: [{ Source: 'ecr-automation', DetailType: 'Cleanup Report', Detail: '{"deleted":3}' }] },
        { account: '210987654321', region: 'eu-central-1' },
      )) as { FailedEntryCount: number; Entries: { EventId: string }[] };
      await bus.drain();

      // Assess
      expect(output.FailedEntryCount).toBe(0);
      expect(calls.map((call) => call.event)).toEqual([
        expect.objectContaining({
          id: output.Entries[0]?.EventId,
          account: '210987654321',
          region: 'eu-central-1',
          detail: { deleted: 3 },
        }),
      ]);
    });

    it('throws a BusApiError for a whole-request failure', () => {
      // Prepare
      const bus = new EventBus();

      // Act
      const act = () => bus.operations.PutEvents?.({ Entries: [] }, { account: '1', region: 'r' });

      // Assess
      expect(act).toThrow(BusApiError);
      expect(act).toThrow(expect.objectContaining({ type: 'ValidationException', status: 400 }));
    });

    it('describes the rules through ListRules and DescribeRule', async () => {
      // Prepare
      const bus = new EventBus();
      bus.addRule({ name: 'pushes', eventPattern: { source: ['aws.ecr'] }, target: () => undefined });
      const scope = { account: '123456789012', region: 'us-east-1' };

      // Act
      const listed = await bus.operations.ListRules?.({}, scope);
      const missing = () => bus.operations.DescribeRule?.({ Name: 'nope' }, scope);

      // Assess
      expect(listed).toEqual({
        Rules: [
          {
            Name: 'pushes',
            Arn: 'arn:aws:events:us-east-1:123456789012:rule/pushes',
            EventBusName: 'default',
            State: 'ENABLED',
            EventPattern: '{"source":["aws.ecr"]}',
          },
        ],
      });
      expect(missing).toThrow(expect.objectContaining({ type: 'ResourceNotFoundException' }));
    });
  });
});
