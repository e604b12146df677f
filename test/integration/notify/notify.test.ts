import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_NOTIFICATIONS_TOPIC, LOCAL_REPORTS_BUCKET, startLocalService } from '../../../local/service.ts';
import { loadServiceConfig } from '../../../shared/config/file.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { control } from '../../helpers/registry.ts';

interface Kept {
  topicArn: string;
  subject?: string;
  message: string;
  messageId: string;
}
const messages = async (server: RegistryServer) =>
  (await control<{ messages: Kept[] }>(server, 'sns/messages')).messages;
const fire = async (server: RegistryServer, rule: string) => {
  await control(server, 'bus/fire', { rule });
  await server.bus.drain();
};

/**
 * `npm start` with a config that has a `notifications` section: the notify function runs on the local bus and
 * publishes, through the real SNS client, to a topic of the local registry's SNS, whose messages the control API
 * lists.
 */
describe('notifications under npm start', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  const credentials = { accessKeyId: '123456789012', secretAccessKey: 'local' };
  let sns: SNSClient;
  beforeAll(async () => {
    const config = parseConfig({ ...loadServiceConfig({}), notifications: { email: ['ops@example.com'] } }, 'test');
    server = await startLocalService({ port: 0, config });
    sns = new SNSClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    sns?.destroy();
    await server?.close();
  });

  it('publishes the nightly cleanup run, its organisation report with a link to it, and the compliance report', async () => {
    // Act
    await fire(server, 'scheduled-cleanup');
    await fire(server, 'cleanup-run-report');
    await fire(server, 'scheduled-compliance');
    // Assess
    const kept = await messages(server);
    const subjects = kept.map((message) => message.subject ?? '');
    expect(kept.every((message) => message.topicArn.endsWith(`:${LOCAL_NOTIFICATIONS_TOPIC}`))).toBe(true);
    expect(subjects).toContainEqual(expect.stringMatching(/^Cleanup run planned: \d+ work items$/));
    expect(subjects).toContainEqual(
      expect.stringMatching(/^Cleanup run: [\d,]+ images deleted, [\d.]+ [KMG]?i?B reclaimed$/),
    );
    expect(subjects).toContainEqual(
      expect.stringMatching(/^Compliance: \d+ of \d+ repositories not compliant, \d+ fixed$/),
    );
    const organisation = kept.find((message) => message.subject?.startsWith('Cleanup run: '));
    expect(organisation?.message).toMatch(
      new RegExp(`s3://${LOCAL_REPORTS_BUCKET}/cleanup-runs/[^/\\s]+/organisation-report\\.json`),
    );
    // The per-repository Cleanup Reports of a run that went well are in the organisation report, not sent apart.
    expect(subjects.filter((subject) => subject.startsWith('Cleanup completed'))).toEqual([]);
  });

  it('answers SNS Publish as SNS does: a subject it refuses, an unknown topic, a FIFO topic deduplicating', async () => {
    // Prepare
    const { TopicArn: topicArn } = await sns.send(new CreateTopicCommand({ Name: 'alerts.fifo' }));
    const before = (await messages(server)).length;
    // Act & Assess
    await expect(
      sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: 'x',
          Subject: 'two\nlines',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd',
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(
      sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:nowhere', Message: 'x' })),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'x' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await expect(
      sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: 'x'.repeat(262_145),
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd',
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    const first = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: 'once',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'event-1',
      }),
    );
    const again = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: 'once',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'event-1',
      }),
    );
    expect(again.MessageId).toBe(first.MessageId);
    expect((await messages(server)).length).toBe(before + 1);
  });
});
