import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler, defaultDeps } from '../../../functions/notify/handler.ts';
import { RecentEvents } from '../../../shared/notify/entry.ts';
import { logger } from '../../../shared/obs/index.ts';
import type { ServiceDeps } from '../../../shared/runtime/service-deps.ts';
import { createSnsGateway } from '../../../shared/sns/index.ts';
import { testDeps } from '../../helpers/service-deps.ts';

const EVENTS = resolve(import.meta.dirname, '../../../events');
// biome-ignore lint/suspicious/noExplicitAny: the samples are free-form JSON, changed field by field below
const sample = (name: string): any => JSON.parse(readFileSync(resolve(EVENTS, name), 'utf8'));
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ecr-automation-dev-notifications';
const FIFO_TOPIC = 'arn:aws:sns:us-east-1:123456789012:ecr-automation-alerts.fifo';
const context = { getRemainingTimeInMillis: () => 30_000, functionName: 'notify' } as unknown as Context;

const sns = mockClient(SNSClient);

/** The handler with a real SNS gateway over the mocked client, as in Lambda. */
const handlerFor = (topicArn = TOPIC, given: Partial<ServiceDeps> = {}) => {
  const gateway = createSnsGateway(new SNSClient({ region: 'us-east-1', maxAttempts: 1 }));
  const deps = testDeps({ notifications: { topicArn, gateway, reportsBucket: 'acme-reports' }, ...given });
  const handler = createHandler(() => deps);
  return (event: unknown) => handler(event as never, context);
};

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('the notify handler', () => {
  it('publishes the rendered notification of a FAIL verdict to the topic', async () => {
    // Act
    const result = await handlerFor()(sample('image-scan-verdict.json'));
    // Assess
    expect(result).toEqual({
      status: 'published',
      eventId: '576e9b2c-f732-4c50-b046-b8d3a9424aed',
      messageId: 'message-1',
    });
    expect(sns).toReceiveCommandTimes(PublishCommand, 1);
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.TopicArn).toBe(TOPIC);
    expect(input?.Subject).toBe('Scan FAIL: payments/worker:2.6.0 - 1 critical, 1 high, 2 medium');
    expect(input?.Message).toContain('- CVE-2024-3094 CRITICAL in xz-utils@5.6.0, fixed in 5.6.1, CVSS 10');
    // A standard topic takes no FIFO fields.
    expect(input?.MessageDeduplicationId).toBeUndefined();
    expect(input?.MessageGroupId).toBeUndefined();
  });

  it('links the stored organisation report in the reports bucket', async () => {
    // Act
    await handlerFor()(sample('organisation-cleanup-report.json'));
    // Assess
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      's3://acme-reports/cleanup-runs/53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa/organisation-report.json',
    );
  });

  it('publishes nothing for a malformed event, logs why and counts it, and does not fail (no retry)', async () => {
    // Prepare
    const errors = vi.spyOn(logger, 'error');
    const event = sample('organisation-cleanup-report.json');
    const { totals: _, ...detail } = event.detail;
    // Act
    const results = [
      await handlerFor()({ ...event, detail }),
      await handlerFor()('not an event'),
      await handlerFor()(null),
    ];
    // Assess
    expect(results.map((result) => (result as { status: string }).status)).toEqual(['invalid', 'invalid', 'invalid']);
    expect(sns).toReceiveCommandTimes(PublishCommand, 0);
    expect(errors).toHaveBeenCalledWith(
      'event not notified: the detail is not a valid "Organisation Cleanup Report"',
      expect.objectContaining({ eventId: event.id, issues: [expect.stringContaining('totals')] }),
    );
  });

  it('publishes nothing for a PASS verdict or an event of a kind no one is sent', async () => {
    // Prepare
    const verdict = sample('image-scan-verdict.json');
    // Act
    const pass = await handlerFor()({ ...verdict, detail: { ...verdict.detail, verdict: 'PASS' } });
    const item = await handlerFor()(sample('cleanup-work-item.json'));
    // Assess
    expect(pass).toMatchObject({ status: 'ignored' });
    expect(item).toMatchObject({ status: 'ignored' });
    expect(sns).toReceiveCommandTimes(PublishCommand, 0);
  });

  it('publishes an event delivered twice to the same container once', async () => {
    // Prepare
    const handler = handlerFor();
    const event = sample('notify-cleanup-report-braked.json');
    // Act
    const first = await handler(event);
    const again = await handler(event);
    // Assess
    expect(first).toMatchObject({ status: 'published' });
    expect(again).toEqual({ status: 'duplicate', eventId: event.id });
    expect(sns).toReceiveCommandTimes(PublishCommand, 1);
  });

  it("uses the event's id as the deduplication id on a FIFO topic", async () => {
    // Act
    await handlerFor(FIFO_TOPIC)(sample('compliance-report.json'));
    // Assess
    expect(sns).toReceiveCommandWith(PublishCommand, {
      TopicArn: FIFO_TOPIC,
      MessageDeduplicationId: '7b1f0c2e-4d7a-4a51-9b33-6f2d8a1c0e11',
      MessageGroupId: 'ecr-automation',
    });
  });

  it('fails the invocation when SNS refuses, naming the topic, so that Lambda retries it; a retry publishes', async () => {
    // Prepare
    const refused = Object.assign(new Error('User is not authorized to perform: SNS:Publish'), {
      name: 'AuthorizationErrorException',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
    });
    sns.on(PublishCommand).rejectsOnce(refused).resolves({ MessageId: 'message-2' });
    const handler = handlerFor();
    const event = sample('allow-list-report.json');
    // Act & Assess
    await expect(handler(event)).rejects.toThrow(
      `SNS Publish on '${TOPIC}': AuthorizationErrorException: User is not authorized to perform: SNS:Publish`,
    );
    await expect(handler(event)).resolves.toMatchObject({ status: 'published', messageId: 'message-2' });
  });

  it('sends nothing in a runtime without a notifications topic', async () => {
    // Prepare
    const handler = createHandler(() => testDeps());
    // Act
    const result = await handler(sample('image-scan-verdict.json') as never, context);
    // Assess
    expect(result).toEqual({ status: 'not-configured' });
    expect(sns).toReceiveCommandTimes(PublishCommand, 0);
  });

  it("fails the container's first invocation when its topic is not set or not an SNS topic ARN", () => {
    // Act & Assess
    expect(() => defaultDeps({})).toThrow(/NOTIFICATIONS_TOPIC_ARN: is not set \(expected an SNS topic ARN/);
    expect(() => defaultDeps({ NOTIFICATIONS_TOPIC_ARN: 'arn:aws:sqs:us-east-1:123456789012:queue' })).toThrow(
      /NOTIFICATIONS_TOPIC_ARN: expected an SNS topic ARN/,
    );
    expect(defaultDeps({ NOTIFICATIONS_TOPIC_ARN: TOPIC, REPORTS_BUCKET: 'acme-reports' }).notifications).toMatchObject(
      { topicArn: TOPIC, reportsBucket: 'acme-reports' },
    );
  });
});

describe('RecentEvents', () => {
  it('forgets the oldest id past its limit', () => {
    // Prepare
    const recent = new RecentEvents(2);
    // Act
    for (const id of ['a', 'b', 'c']) recent.add(id);
    // Assess
    expect(['a', 'b', 'c'].map((id) => recent.has(id))).toEqual([false, true, true]);
  });
});
