import { z } from 'zod';

/**
 * The optional `notifications` section: when present, the service deploys the `notify` function and a rule routing
 * its reports and FAIL scan verdicts to an SNS topic, as text written for people (email, or any SNS subscriber).
 * Either the service creates the topic (TLS only, encrypted with a key of its own) and subscribes
 * `email`, or it publishes to an existing `topicArn` (its owner subscribes whom they like, and grants the
 * function's role `sns:Publish` if the topic's policy or KMS key requires it).
 */

/** An SNS topic ARN (`arn:<partition>:sns:<region>:<account>:<name>`, a FIFO topic's name ending in `.fifo`). */
const TOPIC_ARN_PATTERN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,251}(?:\.fifo)?$/;

/** At most this many email subscriptions the service creates (each one is confirmed by its recipient). */
export const MAX_NOTIFICATION_EMAILS = 10;

export const NotificationsConfigSchema = z
  .strictObject({
    topicArn: z
      .string()
      .max(256)
      .regex(TOPIC_ARN_PATTERN, 'an SNS topic ARN (arn:aws:sns:<region>:<12-digit account>:<name>)')
      .optional()
      .describe('An existing SNS topic to publish to; the service then creates no topic and no subscription.'),
    email: z
      .array(z.email().max(254))
      .max(MAX_NOTIFICATION_EMAILS)
      .optional()
      .describe('Addresses subscribed to the topic the service creates (each confirms its subscription by email).'),
  })
  .superRefine((section, context) => {
    if (section.topicArn !== undefined && section.email !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['email'],
        message:
          'email subscribes addresses to the topic the service creates; with topicArn, subscribe them to that topic',
      });
    }
  })
  .describe(
    "Reports and FAIL scan verdicts sent to an SNS topic as text for people: the service's own topic (with `email`) or `topicArn`.",
  );
export type NotificationsConfig = z.infer<typeof NotificationsConfigSchema>;

/** Whether the topic is FIFO: it then takes a message group and deduplication id (and has no email subscribers). */
export const isFifoTopic = (topicArn: string) => topicArn.endsWith('.fifo');
