import type { NotificationsConfig } from '../shared/config/notifications-schema.ts';
import { DETAIL_TYPES } from '../shared/events/schemas.ts';

/**
 * The notifications of the config's optional `notifications` section: the `notify` function, the rules that send it
 * the service's reports and FAIL scan verdicts, and, unless the section names an existing `topicArn`, the topic
 * itself (encrypted with a key of its own, TLS only, published to by the notify function's role alone) with the
 * section's email subscriptions. Without the section none of this is deployed.
 *
 * `service/manifest.ts` adds the function to the manifest (this module imports nothing of it: no import cycle), and
 * `serverless.ts` adds the resources.
 */

export const NOTIFICATIONS_TOPIC_LOGICAL_ID = 'NotificationsTopic';
export const NOTIFICATIONS_KEY_LOGICAL_ID = 'NotificationsKey';
/** The notify function's role, as serverless-iam-roles-per-function names it. */
const NOTIFY_ROLE_LOGICAL_ID = 'NotifyIamRoleLambdaExecution';

const SOURCE = ['ecr-automation'];

/**
 * What is sent, one rule each: the run reports (a nightly cleanup's fan-out and organisation report, the daily
 * compliance and allow-list reports); a repository's Cleanup Report only when it needs a person (held by the brake,
 * in-use unknown, target unreachable, or a deletion failed: the other thousands a night are in the organisation
 * report); a Registry Reconcile Report only when something was applied or failed (it runs hourly: in sync, or a dry
 * run's plan, would repeat every hour); and Image Scan Verdicts that FAIL.
 */
export const NOTIFY_PATTERNS: readonly Readonly<Record<string, unknown>>[] = [
  {
    source: SOURCE,
    'detail-type': [
      DETAIL_TYPES.cleanupFanOutReport,
      DETAIL_TYPES.organisationCleanupReport,
      DETAIL_TYPES.complianceReport,
      DETAIL_TYPES.allowListReport,
    ],
  },
  {
    source: SOURCE,
    'detail-type': [DETAIL_TYPES.cleanupReport],
    detail: {
      $or: [
        { status: ['braked', 'in-use-unknown', 'target-unavailable'] },
        { counts: { failed: [{ numeric: ['>', 0] }] } },
      ],
    },
  },
  {
    source: SOURCE,
    'detail-type': [DETAIL_TYPES.registryReconcileReport],
    detail: { status: ['applied', 'partial', 'invalid', 'target-unavailable'] },
  },
  { source: SOURCE, 'detail-type': [DETAIL_TYPES.imageScanVerdict], detail: { verdict: ['FAIL'] } },
];

/** The topic the notify function publishes to: the section's, else the one the service creates. */
export const notificationsTopicArn = (section: NotificationsConfig) =>
  section.topicArn ?? { 'Fn::Sub': `\${${NOTIFICATIONS_TOPIC_LOGICAL_ID}}` };

/**
 * The notify function's statements: Publish on its topic alone, and on the service's own topic the use of its key
 * (through SNS only) to encrypt the message. An existing topic encrypted with a key of its owner's needs that key's
 * policy to allow the role (see the README).
 */
export function notifyStatements(section: NotificationsConfig) {
  return [
    { Effect: 'Allow' as const, Action: ['sns:Publish'], Resource: notificationsTopicArn(section) },
    ...(section.topicArn === undefined
      ? [
          {
            Effect: 'Allow' as const,
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
            Resource: { 'Fn::GetAtt': [NOTIFICATIONS_KEY_LOGICAL_ID, 'Arn'] as const },
            Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' } } },
          },
        ]
      : []),
  ];
}

/**
 * The notify function of the manifest, for a config with a `notifications` section (the manifest adds what every
 * function has: retries and dead-letter queue, tracing, and the reports bucket `REPORTS_BUCKET` to link to).
 */
export function notifyFunction(section: NotificationsConfig) {
  return {
    handler: 'functions/notify/handler' as const,
    description: 'Sends reports and FAIL scan verdicts to the notifications topic, as text people read',
    triggers: NOTIFY_PATTERNS.map((pattern) => ({ bus: 'service' as const, pattern })),
    timeout: 30,
    memorySize: 256,
    // A storm of FAIL verdicts (a push of many vulnerable images) is sent at a bounded rate, not all at once.
    reservedConcurrency: { param: 'notifyConcurrency', default: 2 },
    environment: { NOTIFICATIONS_TOPIC_ARN: notificationsTopicArn(section) },
    iam: notifyStatements(section),
  };
}

/**
 * The CloudFormation resources of the section: none with `topicArn`; else the topic, its key, its policy and one
 * email subscription per address. A standard topic (email subscriptions need one): a re-delivered event may send a
 * message twice when it reaches another container (each container remembers the events it sent).
 */
export function notificationResources(section: NotificationsConfig | undefined): Record<string, unknown> {
  if (section === undefined || section.topicArn !== undefined) return {};
  const topicArn = { Ref: NOTIFICATIONS_TOPIC_LOGICAL_ID };
  const notifyRoleArn = { 'Fn::GetAtt': [NOTIFY_ROLE_LOGICAL_ID, 'Arn'] };
  const subscriptions = Object.fromEntries(
    (section.email ?? []).map((address, index) => [
      `NotificationsEmail${index + 1}`,
      { Type: 'AWS::SNS::Subscription', Properties: { TopicArn: topicArn, Protocol: 'email', Endpoint: address } },
    ]),
  );
  return {
    // The topic's own key, rotated yearly. Its policy leaves its use to IAM (the account's principal): the notify
    // role's statement lets it use the key through SNS only (naming the role here would make a dependency cycle).
    [NOTIFICATIONS_KEY_LOGICAL_ID]: {
      Type: 'AWS::KMS::Key',
      Properties: {
        Description: 'ecr-automation notifications topic',
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AccountAdministers',
              Effect: 'Allow',
              Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
              Action: 'kms:*',
              Resource: '*',
            },
          ],
        },
      },
    },
    [NOTIFICATIONS_TOPIC_LOGICAL_ID]: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: 'ecr-automation-${sls:stage}-notifications',
        DisplayName: 'ecr-automation',
        KmsMasterKeyId: { Ref: NOTIFICATIONS_KEY_LOGICAL_ID },
      },
    },
    // Publishing over TLS only, and by the notify function's role only (as only the service's roles publish on its bus).
    NotificationsTopicPolicy: {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [topicArn],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'TlsOnly',
              Effect: 'Deny',
              Principal: '*',
              Action: 'sns:Publish',
              Resource: topicArn,
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
            {
              Sid: 'OnlyNotifyPublishes',
              Effect: 'Deny',
              Principal: '*',
              Action: 'sns:Publish',
              Resource: topicArn,
              Condition: { ArnNotEquals: { 'aws:PrincipalArn': notifyRoleArn } },
            },
          ],
        },
      },
    },
    ...subscriptions,
  };
}
