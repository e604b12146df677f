import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { countedSending } from '../ecr/calls.ts';
import { toServiceGatewayError } from '../ecr/errors.ts';

/**
 * The SNS gateway: the only importer of `@aws-sdk/client-sns`. It publishes one message to a topic (Publish); on a
 * FIFO topic (`.fifo`) with the message group and the deduplication id SNS requires there, so that a re-delivered
 * event publishes once within SNS's five-minute deduplication window. Errors are mapped into the ECR gateway's error
 * tree (`SNS Publish on '<topic>': AuthorizationErrorException: ...`).
 */
export interface SnsGateway {
  callCounts(): Record<string, number>;
  publish(topicArn: string, message: SnsMessage): Promise<{ messageId: string | undefined }>;
}

export interface SnsMessage {
  /** The email subject (SNS: ASCII, one line, under 100 characters). */
  readonly subject: string;
  readonly message: string;
  /** FIFO topics: the deduplication id (at most 128 characters); ignored on a standard topic. */
  readonly deduplicationId: string;
  /** FIFO topics: the message group (messages of a group are delivered in order); ignored on a standard topic. */
  readonly groupId: string;
}

/** A FIFO topic's deduplication id and group id: 1–128 characters of `[A-Za-z0-9!-~]` (printable ASCII). */
const fifoId = (value: string) => value.replace(/[^!-~]/g, '_').slice(0, 128) || '_';

export function createSnsGateway(sdkClient: SNSClient): SnsGateway {
  const { client, call, callCounts } = countedSending<string, SNSClient>(sdkClient, (operation, error, resource) =>
    toServiceGatewayError('SNS', operation, error, resource),
  );
  return {
    callCounts,
    publish: (topicArn, message) =>
      call('Publish', topicArn, async () => {
        const fifo = topicArn.endsWith('.fifo');
        const response = await client.send(
          new PublishCommand({
            TopicArn: topicArn,
            Subject: message.subject,
            Message: message.message,
            ...(fifo
              ? { MessageDeduplicationId: fifoId(message.deduplicationId), MessageGroupId: fifoId(message.groupId) }
              : {}),
          }),
        );
        return { messageId: response.MessageId };
      }),
  };
}
