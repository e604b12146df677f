import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_KEPT_MESSAGES } from '../../src/bus/sns.ts';
import { control, startTestRegistry, TEST_REGION } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const ACCOUNT = '111111111111';
const OTHER = '222222222222';

/** SNS over the Query protocol (a form-encoded `POST /` scoped to `sns`), through the real SNS client. */
describe('SNS topics', () => {
  let server: RegistryServer;
  const client = (account = ACCOUNT) =>
    new SNSClient({
      endpoint: server.url,
      region: TEST_REGION,
      credentials: { accessKeyId: account, secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    await control(server, 'reset', {});
  });

  it('creates a topic once per name and account, and keeps what is published to it, newest last', async () => {
    // Prepare
    const sns = client();
    // Act
    const { TopicArn: arn } = await sns.send(new CreateTopicCommand({ Name: 'alerts' }));
    const { TopicArn: again } = await sns.send(new CreateTopicCommand({ Name: 'alerts' }));
    const { MessageId: id } = await sns.send(new PublishCommand({ TopicArn: arn, Subject: 'Hello', Message: 'one' }));
    // Assess
    expect(arn).toBe(`arn:aws:sns:${TEST_REGION}:${ACCOUNT}:alerts`);
    expect(again).toBe(arn);
    const { messages } = await control<{ messages: { messageId: string; subject: string; message: string }[] }>(
      server,
      'sns/messages',
    );
    expect(messages).toEqual([
      expect.objectContaining({ messageId: id, topicArn: arn, subject: 'Hello', message: 'one' }),
    ]);
    expect((await control<{ operations: Record<string, number> }>(server, 'calls')).operations).toMatchObject({
      'sns:CreateTopic': 2,
      'sns:Publish': 1,
    });
  });

  it("refuses another account's topic, a subject SNS refuses and an empty message, keeping nothing", async () => {
    // Prepare
    const { TopicArn: arn } = await client().send(new CreateTopicCommand({ Name: 'alerts' }));
    // Act & Assess
    await expect(client(OTHER).send(new PublishCommand({ TopicArn: arn, Message: 'x' }))).rejects.toMatchObject({
      name: 'AuthorizationErrorException',
    });
    for (const Subject of ['a'.repeat(100), 'tab\there', 'é', ' leading space']) {
      await expect(client().send(new PublishCommand({ TopicArn: arn, Message: 'x', Subject }))).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
    }
    await expect(client().send(new PublishCommand({ TopicArn: arn, Message: '' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await expect(client().send(new CreateTopicCommand({ Name: 'no spaces allowed' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    expect((await control<{ messages: unknown[] }>(server, 'sns/messages')).messages).toEqual([]);
  });

  it(`keeps the newest ${MAX_KEPT_MESSAGES} messages only, and none after a reset`, async () => {
    // Prepare
    const sns = client();
    const { TopicArn: arn } = await sns.send(new CreateTopicCommand({ Name: 'alerts' }));
    // Act
    for (let i = 0; i < MAX_KEPT_MESSAGES + 5; i++) {
      await sns.send(new PublishCommand({ TopicArn: arn, Message: `message ${i}` }));
    }
    const kept = (await control<{ messages: { message: string }[] }>(server, 'sns/messages')).messages;
    await control(server, 'reset', {});
    // Assess
    expect(kept).toHaveLength(MAX_KEPT_MESSAGES);
    expect(kept[0]?.message).toBe('message 5');
    expect((await control<{ messages: unknown[] }>(server, 'sns/messages')).messages).toEqual([]);
    await expect(sns.send(new PublishCommand({ TopicArn: arn, Message: 'x' }))).rejects.toMatchObject({
      name: 'NotFoundException',
    });
  });

  it('still answers STS on the same path: the credential scope tells them apart', async () => {
    // Act
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=Publish',
    });
    // Assess: unsigned, it is STS's (the default) and refused as STS refuses it.
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('https://sts.amazonaws.com/doc/2011-06-15/');
  });
});
