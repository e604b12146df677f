import type { AWS, AwsIamPolicyStatements } from 'osls';

/**
 * Deployment of ecr-automation (osls, the open fork of the Serverless Framework).
 *
 * - Bundles are ESM, built by serverless-esbuild with the AWS SDK v3 bundled (not taken from the runtime), so that
 *   newer ECR members (exclusion filters, referrers, image status) are present and cold starts stay short.
 * - Every function gets its own IAM role (serverless-iam-roles-per-function) naming only the actions it calls.
 * - Resources use CloudFormation pseudo-parameters (`Fn::Sub`), never `${aws:...}` variables, so that packaging
 *   runs offline with no AWS account.
 * - The local registry (`registry/`) and the CLI (`cli/`) are never part of a bundle.
 */

// `iamRoleStatements` comes from serverless-iam-roles-per-function; osls's own types do not include it.
export type FunctionWithRole = NonNullable<AWS['functions']>[string] & { iamRoleStatements?: AwsIamPolicyStatements };

/** The service's own event bus: work items, reports and verdicts are published here. */
const EVENT_BUS_NAME = 'ecr-automation-${sls:stage}';
const eventBusArn = {
  'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${EVENT_BUS_NAME}`,
};
const repositoryArns = { 'Fn::Sub': 'arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*' };
const deadLetterQueueArn = { 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] };

/** Failed asynchronous invocations (after Lambda's two retries) land in the dead-letter queue. */
const onFailure = {
  destinations: { onFailure: { type: 'sqs' as const, arn: deadLetterQueueArn } },
  maximumRetryAttempts: 2,
};
const sendToDeadLetterQueue = { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: deadLetterQueueArn };
const publishToBus = { Effect: 'Allow', Action: ['events:PutEvents'], Resource: eventBusArn };

const functions: Record<string, FunctionWithRole> = {
  scheduledCleanup: {
    handler: 'functions/scheduled-cleanup/handler.handler',
    description: 'Nightly: one cleanup work item per repository a cleanup rule matches',
    timeout: 300,
    memorySize: 512,
    environment: {
      EVENT_BUS_NAME,
      // The workers' role, excluded from pull-time updates so their manifest reads are not counted as pulls.
      WORKER_PRINCIPAL_ARN: { 'Fn::GetAtt': ['CleanupRepositoryIamRoleLambdaExecution', 'Arn'] },
    },
    events: [{ schedule: { rate: ['cron(0 3 * * ? *)'], enabled: true } }],
    ...onFailure,
    iamRoleStatements: [
      { Effect: 'Allow', Action: ['ecr:DescribeRepositories'], Resource: repositoryArns },
      // Registry-level actions: they name no repository.
      {
        Effect: 'Allow',
        Action: ['ecr:ListPullTimeUpdateExclusions', 'ecr:RegisterPullTimeUpdateExclusion'],
        Resource: '*',
      },
      publishToBus,
      sendToDeadLetterQueue,
    ],
  },
  cleanupRepository: {
    handler: 'functions/cleanup-repository/handler.handler',
    description: 'Cleans the stale untagged images of one repository (a Cleanup Work Item)',
    timeout: 900,
    memorySize: 1024,
    // Bounds the fan-out: at most this many repositories are cleaned at once (and so ECR's request rate).
    reservedConcurrency: 10,
    environment: { EVENT_BUS_NAME, CLEANUP_RESERVE_MS: '60000' },
    events: [
      {
        eventBridge: {
          eventBus: EVENT_BUS_NAME,
          pattern: { source: ['ecr-automation'], 'detail-type': ['Cleanup Work Item'] },
        },
      },
    ],
    ...onFailure,
    iamRoleStatements: [
      {
        Effect: 'Allow',
        Action: ['ecr:DescribeImages', 'ecr:BatchGetImage', 'ecr:BatchDeleteImage'],
        Resource: repositoryArns,
      },
      publishToBus,
      sendToDeadLetterQueue,
    ],
  },
  onImagePush: {
    handler: 'functions/on-image-push/handler.handler',
    description:
      'Judges every pushed image: scan where ECR does not, tag policy, tag immutability (Image Push Verdict)',
    timeout: 60,
    memorySize: 256,
    environment: { EVENT_BUS_NAME },
    events: [
      {
        // ECR sends its events to the account's default bus.
        eventBridge: {
          pattern: {
            source: ['aws.ecr'],
            'detail-type': ['ECR Image Action'],
            detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
          },
        },
      },
    ],
    ...onFailure,
    iamRoleStatements: [
      {
        Effect: 'Allow',
        // Reads: the repository, the image (by digest and by tag). Acts: tag mutability, tag removal, basic scan.
        Action: [
          'ecr:DescribeRepositories',
          'ecr:DescribeImages',
          'ecr:PutImageTagMutability',
          'ecr:BatchDeleteImage',
          'ecr:StartImageScan',
        ],
        Resource: repositoryArns,
      },
      // A registry-level read: it names no repository.
      { Effect: 'Allow', Action: ['ecr:GetRegistryScanningConfiguration'], Resource: '*' },
      publishToBus,
      sendToDeadLetterQueue,
    ],
  },
  onScanResult: {
    handler: 'functions/on-scan-result/handler.handler',
    description: 'Judges every completed scan against thresholds and the allow-list (Image Scan Verdict)',
    timeout: 120,
    memorySize: 512,
    environment: { EVENT_BUS_NAME },
    // ECR and Inspector send their events to the account's default bus.
    events: [
      {
        eventBridge: {
          pattern: {
            source: ['aws.ecr'],
            'detail-type': ['ECR Image Scan'],
            detail: { 'scan-status': ['COMPLETE', 'FAILED'] },
          },
        },
      },
      {
        eventBridge: {
          pattern: {
            source: ['aws.inspector2'],
            'detail-type': ['Inspector2 Scan'],
            detail: { 'scan-status': ['INITIAL_SCAN_COMPLETE'] },
          },
        },
      },
      {
        eventBridge: {
          pattern: {
            source: ['aws.inspector2'],
            'detail-type': ['Inspector2 Finding'],
            detail: { resources: { type: ['AWS_ECR_CONTAINER_IMAGE'] } },
          },
        },
      },
    ],
    ...onFailure,
    iamRoleStatements: [
      {
        Effect: 'Allow',
        // Reads: the image, its scan findings. Acts (enforce mode): the quarantine tag is the image's own manifest
        // read (BatchGetImage) and pushed again under the tag (PutImage); tags are removed by tag (BatchDeleteImage).
        Action: [
          'ecr:DescribeImages',
          'ecr:DescribeImageScanFindings',
          'ecr:BatchGetImage',
          'ecr:PutImage',
          'ecr:BatchDeleteImage',
        ],
        Resource: repositoryArns,
      },
      publishToBus,
      sendToDeadLetterQueue,
    ],
  },
  allowListReport: {
    handler: 'functions/allow-list-report/handler.handler',
    description: 'Daily: allow-list entries expiring within 14 days, and expired ones still listed',
    timeout: 30,
    memorySize: 256,
    environment: { EVENT_BUS_NAME },
    events: [{ schedule: { rate: ['cron(0 6 * * ? *)'], enabled: true } }],
    ...onFailure,
    // It reads only the config: no ECR access at all.
    iamRoleStatements: [publishToBus, sendToDeadLetterQueue],
  },
  scheduledCompliance: {
    handler: 'functions/scheduled-compliance/handler.handler',
    description: 'Daily: checks every matched repository against the compliance policy (Compliance Report)',
    timeout: 900,
    memorySize: 512,
    environment: { EVENT_BUS_NAME },
    events: [{ schedule: { rate: ['cron(0 4 * * ? *)'], enabled: true } }],
    ...onFailure,
    iamRoleStatements: [
      {
        Effect: 'Allow',
        // Reads: the repositories and the settings the policy checks. Acts (enforce mode): tag mutability, scan on
        // push, lifecycle policy, resource tags. Never the repository policy or encryption (report only).
        Action: [
          'ecr:DescribeRepositories',
          'ecr:GetLifecyclePolicy',
          'ecr:GetRepositoryPolicy',
          'ecr:ListTagsForResource',
          'ecr:PutImageTagMutability',
          'ecr:PutImageScanningConfiguration',
          'ecr:PutLifecyclePolicy',
          'ecr:DeleteLifecyclePolicy',
          'ecr:TagResource',
        ],
        Resource: repositoryArns,
      },
      // A registry-level read: it names no repository.
      { Effect: 'Allow', Action: ['ecr:GetRegistryScanningConfiguration'], Resource: '*' },
      publishToBus,
      sendToDeadLetterQueue,
    ],
  },
  reconcileRegistry: {
    handler: 'functions/reconcile-registry/handler.handler',
    description:
      'Hourly: reconciles replication, pull through cache, templates, scanning and registry policy with the config',
    timeout: 300,
    memorySize: 256,
    environment: { EVENT_BUS_NAME },
    events: [{ schedule: { rate: ['rate(1 hour)'], enabled: true } }],
    // One reconcile at a time: two overlapping runs would plan against each other's half-applied changes.
    reservedConcurrency: 1,
    ...onFailure,
    iamRoleStatements: [
      {
        Effect: 'Allow',
        // Registry-level settings: these actions name no repository.
        Action: [
          'ecr:DescribeRegistry',
          'ecr:PutReplicationConfiguration',
          'ecr:DescribePullThroughCacheRules',
          'ecr:CreatePullThroughCacheRule',
          'ecr:UpdatePullThroughCacheRule',
          'ecr:DeletePullThroughCacheRule',
          'ecr:DescribeRepositoryCreationTemplates',
          'ecr:CreateRepositoryCreationTemplate',
          'ecr:UpdateRepositoryCreationTemplate',
          'ecr:DeleteRepositoryCreationTemplate',
          'ecr:GetRegistryScanningConfiguration',
          'ecr:PutRegistryScanningConfiguration',
          'ecr:GetRegistryPolicy',
          'ecr:PutRegistryPolicy',
          'ecr:DeleteRegistryPolicy',
        ],
        Resource: '*',
      },
      {
        // The first PutReplicationConfiguration creates ECR's replication service-linked role (ecr-facts §5).
        Effect: 'Allow',
        Action: ['iam:CreateServiceLinkedRole'],
        Resource: '*',
        Condition: { StringEquals: { 'iam:AWSServiceName': 'replication.ecr.amazonaws.com' } },
      },
      publishToBus,
      sendToDeadLetterQueue,
    ],
  },
};

const config: AWS = {
  service: 'ecr-automation',
  frameworkVersion: '4',
  // serverless-esbuild fails on a service with no functions, so the plugins join with the first one.
  plugins: Object.keys(functions).length > 0 ? ['serverless-esbuild', 'serverless-iam-roles-per-function'] : [],
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
      FailedInvocationsQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: 'ecr-automation-${sls:stage}-failed-invocations', MessageRetentionPeriod: 1_209_600 },
      },
    },
  },
};

export default config;
