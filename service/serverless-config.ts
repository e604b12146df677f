import type { AWS, AwsIamPolicyStatements } from 'osls';
import {
  type FunctionSpec,
  type Manifest,
  publishesOnServiceBus,
  REPORTS_BUCKET_LOGICAL_ID,
  RULE_DELIVERY_FAILURES_QUEUE_ARN,
  roleLogicalId,
  roleStatements,
  SERVICE_BUS_ARN,
  SERVICE_BUS_NAME,
} from './manifest.ts';

/**
 * The osls (Serverless Framework) configuration of a manifest: `serverless.ts` is this applied to the service's
 * manifest. A pure function of the manifest, so that a test can build it for a manifest with one more function.
 *
 * - Bundles are ESM, built by serverless-esbuild with the AWS SDK v3 bundled (not taken from the runtime), so that
 *   newer ECR members (exclusion filters, referrers, image status) are present and cold starts stay short.
 * - Every function gets its own IAM role (serverless-iam-roles-per-function) naming only the actions it calls.
 * - Resources use CloudFormation pseudo-parameters (`Fn::Sub`), never `${aws:...}` variables, so that packaging
 *   runs offline with no AWS account.
 * - The local registry (`registry/`) and the CLI (`cli/`) are never part of a bundle.
 * - Only the service's own roles may put events on its bus; every rule target has a dead-letter queue; the default
 *   role osls generates (unused: each function has its own) is dropped by `deploy/drop-unused-default-role.cjs`.
 */

// `iamRoleStatements` comes from serverless-iam-roles-per-function; osls's own types do not include it.
export type FunctionWithRole = NonNullable<AWS['functions']>[string] & { iamRoleStatements?: AwsIamPolicyStatements };

/** The bus's logical id as osls names it (`-` becomes `Dash`): the stage must be alphanumeric for this to hold. */
const EVENT_BUS_LOGICAL_ID = 'EcrDashautomationDash${sls:stage}EventBridgeEventBus';

/** An osls function of a manifest entry. */
export function serverlessFunction(spec: FunctionSpec): FunctionWithRole {
  const { reservedConcurrency } = spec;
  return {
    handler: `${spec.handler}.handler`,
    description: spec.description,
    timeout: spec.timeout,
    memorySize: spec.memorySize,
    ...(reservedConcurrency === undefined
      ? {}
      : {
          // An osls parameter resolves to a number when the template is packaged.
          reservedConcurrency:
            typeof reservedConcurrency === 'number'
              ? reservedConcurrency
              : (`\${param:${reservedConcurrency.param}, ${reservedConcurrency.default}}` as unknown as number),
        }),
    environment: { ...spec.environment } as NonNullable<FunctionWithRole['environment']>,
    events: spec.triggers.map((trigger) => ({
      eventBridge:
        'schedule' in trigger
          ? { schedule: trigger.schedule, deadLetterQueueArn: RULE_DELIVERY_FAILURES_QUEUE_ARN }
          : {
              ...(trigger.bus === 'service' ? { eventBus: SERVICE_BUS_NAME } : {}),
              pattern: trigger.pattern,
              deadLetterQueueArn: RULE_DELIVERY_FAILURES_QUEUE_ARN,
            },
    })) as FunctionWithRole['events'],
    destinations: { onFailure: { type: 'sqs', arn: spec.onFailure.deadLetterQueue } },
    maximumRetryAttempts: spec.onFailure.retries,
    tracing: spec.tracing,
    iamRoleStatements: roleStatements(spec) as unknown as AwsIamPolicyStatements,
  } as FunctionWithRole;
}

/**
 * The osls configuration deploying `manifest`, with its queues and the bus's resource policy, and `resources` (the
 * CloudFormation resources of optional sections, such as the notifications topic: `service/notifications.ts`).
 */
export function serverlessConfig(manifest: Manifest, resources: Readonly<Record<string, unknown>> = {}): AWS {
  const functions = Object.fromEntries(
    Object.entries(manifest).map(([name, spec]) => [name, serverlessFunction(spec)]),
  ) as Record<string, FunctionWithRole>;
  /** The roles of the functions that publish on the bus. */
  const publisherRoleArns = Object.entries(manifest)
    .filter(([, spec]) => publishesOnServiceBus(spec))
    .map(([name]) => ({ 'Fn::GetAtt': [roleLogicalId(name), 'Arn'] }));
  return {
    service: 'ecr-automation',
    frameworkVersion: '4',
    // serverless-esbuild fails on a service with no functions, so the plugins join with the first one.
    // The last one runs after serverless-iam-roles-per-function (same hook, plugin order) and drops the unused role.
    plugins:
      Object.keys(functions).length > 0
        ? ['serverless-esbuild', 'serverless-iam-roles-per-function', './deploy/drop-unused-default-role.cjs']
        : [],
    provider: {
      name: 'aws',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      region: 'us-east-1',
      stage: '${opt:stage, "dev"}',
      memorySize: 256,
      logRetentionInDays: 14,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'ecr-automation',
      },
    },
    package: { individually: true },
    custom: {
      esbuild: {
        bundle: true,
        minify: true,
        sourcemap: false,
        target: 'node22',
        platform: 'node',
        format: 'esm',
        outputFileExtension: '.mjs',
        mainFields: ['module', 'main'],
        // Bundle @aws-sdk/* too: the runtime's SDK lags the service model.
        exclude: [],
      },
    },
    functions,
    resources: {
      Resources: {
        // Where a cleanup run's reports meet for its organisation report: private, encrypted, TLS only, kept 90 days.
        [REPORTS_BUCKET_LOGICAL_ID]: {
          Type: 'AWS::S3::Bucket',
          Properties: {
            BucketEncryption: {
              ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
            },
            PublicAccessBlockConfiguration: {
              BlockPublicAcls: true,
              BlockPublicPolicy: true,
              IgnorePublicAcls: true,
              RestrictPublicBuckets: true,
            },
            OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
            LifecycleConfiguration: {
              Rules: [{ Id: 'CleanupRunReports', Status: 'Enabled', Prefix: 'cleanup-runs/', ExpirationInDays: 90 }],
            },
          },
        },
        ReportsBucketTlsOnly: {
          Type: 'AWS::S3::BucketPolicy',
          Properties: {
            Bucket: { Ref: REPORTS_BUCKET_LOGICAL_ID },
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'TlsOnly',
                  Effect: 'Deny',
                  Principal: '*',
                  Action: 's3:*',
                  Resource: [
                    { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::\${${REPORTS_BUCKET_LOGICAL_ID}}` },
                    { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::\${${REPORTS_BUCKET_LOGICAL_ID}}/*` },
                  ],
                  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
                },
              ],
            },
          },
        },
        FailedInvocationsQueue: {
          Type: 'AWS::SQS::Queue',
          Properties: {
            QueueName: 'ecr-automation-${sls:stage}-failed-invocations',
            MessageRetentionPeriod: 1_209_600,
          },
        },
        RuleDeliveryFailuresQueue: {
          Type: 'AWS::SQS::Queue',
          Properties: {
            QueueName: 'ecr-automation-${sls:stage}-rule-delivery-failures',
            MessageRetentionPeriod: 1_209_600,
          },
        },
        // EventBridge sends the events its rules could not deliver; only this service's rules may.
        RuleDeliveryFailuresQueuePolicy: {
          Type: 'AWS::SQS::QueuePolicy',
          Properties: {
            Queues: [{ Ref: 'RuleDeliveryFailuresQueue' }],
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'EventBridgeRuleDeadLetters',
                  Effect: 'Allow',
                  Principal: { Service: 'events.amazonaws.com' },
                  Action: 'sqs:SendMessage',
                  Resource: RULE_DELIVERY_FAILURES_QUEUE_ARN,
                  Condition: {
                    ArnLike: {
                      'aws:SourceArn': {
                        'Fn::Sub':
                          'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/ecr-automation-${sls:stage}*',
                      },
                    },
                  },
                },
              ],
            },
          },
        },
        // Only the service's own function roles may put events on its bus: the Allow grants them, and the Deny keeps
        // out every other principal of the account (in one account, an identity policy's Allow would otherwise do).
        ServiceEventBusPublishers: {
          Type: 'AWS::Events::EventBusPolicy',
          DependsOn: [EVENT_BUS_LOGICAL_ID],
          Properties: {
            EventBusName: SERVICE_BUS_NAME,
            StatementId: 'ServiceRolesMayPublish',
            Statement: {
              Effect: 'Allow',
              Principal: { AWS: publisherRoleArns },
              Action: 'events:PutEvents',
              Resource: SERVICE_BUS_ARN,
            },
          },
        },
        ServiceEventBusOthersDenied: {
          Type: 'AWS::Events::EventBusPolicy',
          DependsOn: [EVENT_BUS_LOGICAL_ID, 'ServiceEventBusPublishers'],
          Properties: {
            EventBusName: SERVICE_BUS_NAME,
            StatementId: 'OnlyServiceRolesMayPublish',
            Statement: {
              Effect: 'Deny',
              Principal: '*',
              Action: 'events:PutEvents',
              Resource: SERVICE_BUS_ARN,
              Condition: { ArnNotEquals: { 'aws:PrincipalArn': publisherRoleArns } },
            },
          },
        },
        ...resources,
      },
    },
  };
}
