import type { AWS, AwsIamPolicyStatements } from 'osls';
import { loadServiceConfig } from './shared/config/file.ts';
import type { PushConfig, ScanConfig } from './shared/config/schema.ts';
import { DEFAULT_PUSH_POLICY } from './shared/policy/push/policy.ts';
import { DEFAULT_SCAN_POLICY } from './shared/policy/scan/policy.ts';

/**
 * Deployment of ecr-automation (osls, the open fork of the Serverless Framework).
 *
 * - Bundles are ESM, built by serverless-esbuild with the AWS SDK v3 bundled (not taken from the runtime), so that
 *   newer ECR members (exclusion filters, referrers, image status) are present and cold starts stay short.
 * - Every function gets its own IAM role (serverless-iam-roles-per-function) naming only the actions it calls.
 * - Resources use CloudFormation pseudo-parameters (`Fn::Sub`), never `${aws:...}` variables, so that packaging
 *   runs offline with no AWS account.
 * - The local registry (`registry/`) and the CLI (`cli/`) are never part of a bundle.
 * - The repositories the push and scan handlers may change are derived from the bundled config
 *   (`config/ecr-automation.json`, the one the functions run with) when the service is packaged.
 * - Only the service's own roles may put events on its bus; every rule target has a dead-letter queue; the default
 *   role osls generates (unused: each function has its own) is dropped by `deploy/drop-unused-default-role.cjs`.
 */

// `iamRoleStatements` comes from serverless-iam-roles-per-function; osls's own types do not include it.
export type FunctionWithRole = NonNullable<AWS['functions']>[string] & { iamRoleStatements?: AwsIamPolicyStatements };

/** The service's own event bus: work items, reports and verdicts are published here. */
const EVENT_BUS_NAME = 'ecr-automation-${sls:stage}';
const eventBusArn = {
  'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${EVENT_BUS_NAME}`,
};
/** The bus's logical id as osls names it (`-` becomes `Dash`): the stage must be alphanumeric for this to hold. */
const EVENT_BUS_LOGICAL_ID = 'EcrDashautomationDash${sls:stage}EventBridgeEventBus';
const repositoryArn = (pattern: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ecr:\${AWS::Region}:\${AWS::AccountId}:repository/${pattern}`,
});
const repositoryArns = repositoryArn('*');
const deadLetterQueueArn = { 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] };
/** Events a rule could not deliver to its target (after EventBridge's retries) land in this queue. */
const ruleDeadLetterQueueArn = { 'Fn::GetAtt': ['RuleDeliveryFailuresQueue', 'Arn'] };

/**
 * A repository-name glob (`*` within a segment, `**` across segments, `?` one character) as an IAM resource pattern,
 * where `*` matches any run of characters, `/` included, and `?` one. The pattern matches every name the glob does
 * (and possibly more: `a/*` also matches `a/b/c`); a `**` and the slash after it may match no segment at all, so
 * they become a single `*`.
 */
export function globToIamPattern(glob: string): string {
  return glob.replace(/\*\*\/?/g, '*').replace(/\*+/g, '*');
}

/**
 * The repository-name globs of the rules that can change images: enabled rules in enforce mode (their own mode, or
 * the defaults'), none at all when the section is in dry run. A repository no rule matches is left alone.
 */
export function enforcedRepositoryGlobs(section: PushConfig | ScanConfig, defaultMode: 'report' | 'enforce'): string[] {
  if (section.dryRun) return [];
  const globs = section.rules
    .filter((rule) => rule.enabled && (rule.mode ?? section.defaults.mode ?? defaultMode) === 'enforce')
    .flatMap((rule) => rule.repositories);
  return [...new Set(globs)];
}

/** IAM repository ARNs covering the globs; `repository/*` when one glob matches every repository (`**`). */
export function repositoryArnsFor(globs: readonly string[]): { 'Fn::Sub': string }[] {
  const patterns = [...new Set(globs.map(globToIamPattern))];
  if (patterns.includes('*')) return [repositoryArns];
  return patterns.sort().map(repositoryArn);
}

/** The config the functions run with (the bundled file: CONFIG_FILE is not set in their environment). */
const serviceConfig = loadServiceConfig({});
/** Repositories whose tags the push handler may correct (enforce mode). */
const pushEnforcedArns = repositoryArnsFor(enforcedRepositoryGlobs(serviceConfig.push, DEFAULT_PUSH_POLICY.mode));
/** Repositories whose images the scan handler may quarantine-tag or untag (enforce mode). */
const scanEnforcedArns = repositoryArnsFor(enforcedRepositoryGlobs(serviceConfig.scan, DEFAULT_SCAN_POLICY.mode));
/** A statement granting `actions` on `resources`, or none when there is no resource to act on. */
const scoped = (actions: string[], resources: readonly unknown[]) =>
  resources.length === 0 ? [] : [{ Effect: 'Allow', Action: actions, Resource: [...resources] }];

/**
 * Reserved concurrency of the ECR-event handlers: a push storm queues (Lambda keeps retrying throttled asynchronous
 * invocations for up to six hours) instead of scaling without limit and throttling the account's ECR quota.
 * Set per stage with `--param="onImagePushConcurrency=20"` (or `params` in a dashboard-free config).
 */
const ON_IMAGE_PUSH_CONCURRENCY = '${param:onImagePushConcurrency, 10}';
const ON_SCAN_RESULT_CONCURRENCY = '${param:onScanResultConcurrency, 10}';

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
    events: [{ eventBridge: { schedule: 'cron(0 3 * * ? *)', deadLetterQueueArn: ruleDeadLetterQueueArn } }],
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
          deadLetterQueueArn: ruleDeadLetterQueueArn,
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
    reservedConcurrency: ON_IMAGE_PUSH_CONCURRENCY as unknown as number,
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
          deadLetterQueueArn: ruleDeadLetterQueueArn,
        },
      },
    ],
    ...onFailure,
    iamRoleStatements: [
      {
        Effect: 'Allow',
        // Reads: the repository, the image (by digest and by tag). Acts in any mode: the basic scan.
        Action: ['ecr:DescribeRepositories', 'ecr:DescribeImages', 'ecr:StartImageScan'],
        Resource: repositoryArns,
      },
      // Acts in enforce mode only, on the repositories enforce-mode push rules match: tag mutability, tag removal.
      ...scoped(['ecr:PutImageTagMutability', 'ecr:BatchDeleteImage'], pushEnforcedArns),
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
    reservedConcurrency: ON_SCAN_RESULT_CONCURRENCY as unknown as number,
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
          deadLetterQueueArn: ruleDeadLetterQueueArn,
        },
      },
      {
        eventBridge: {
          pattern: {
            source: ['aws.inspector2'],
            'detail-type': ['Inspector2 Scan'],
            detail: { 'scan-status': ['INITIAL_SCAN_COMPLETE'] },
          },
          deadLetterQueueArn: ruleDeadLetterQueueArn,
        },
      },
      {
        eventBridge: {
          pattern: {
            source: ['aws.inspector2'],
            'detail-type': ['Inspector2 Finding'],
            detail: { resources: { type: ['AWS_ECR_CONTAINER_IMAGE'] } },
          },
          deadLetterQueueArn: ruleDeadLetterQueueArn,
        },
      },
    ],
    ...onFailure,
    iamRoleStatements: [
      {
        Effect: 'Allow',
        // Reads: the image, its scan findings, its manifest (BatchGetImage, for the quarantine tag).
        Action: ['ecr:DescribeImages', 'ecr:DescribeImageScanFindings', 'ecr:BatchGetImage'],
        Resource: repositoryArns,
      },
      // Acts in enforce mode only, on the repositories enforce-mode scan rules match: the quarantine tag is the
      // image's manifest pushed again under the tag (PutImage); tags are removed by tag (BatchDeleteImage).
      ...scoped(['ecr:PutImage', 'ecr:BatchDeleteImage'], scanEnforcedArns),
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
    events: [{ eventBridge: { schedule: 'cron(0 6 * * ? *)', deadLetterQueueArn: ruleDeadLetterQueueArn } }],
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
    events: [{ eventBridge: { schedule: 'cron(0 4 * * ? *)', deadLetterQueueArn: ruleDeadLetterQueueArn } }],
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
    events: [{ eventBridge: { schedule: 'rate(1 hour)', deadLetterQueueArn: ruleDeadLetterQueueArn } }],
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
        // The first PutReplicationConfiguration creates ECR's replication service-linked role
        // (docs/ecr-limits.md#registry-settings).
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

/** The roles of the functions that publish on the bus (serverless-iam-roles-per-function's logical ids). */
const publisherRoleArns = Object.entries(functions)
  .filter(([, fn]) => (fn.iamRoleStatements ?? []).some((statement) => statement === publishToBus))
  .map(([name]) => ({ 'Fn::GetAtt': [`${name[0]?.toUpperCase()}${name.slice(1)}IamRoleLambdaExecution`, 'Arn'] }));

const config: AWS = {
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
      FailedInvocationsQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: 'ecr-automation-${sls:stage}-failed-invocations', MessageRetentionPeriod: 1_209_600 },
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
                Resource: ruleDeadLetterQueueArn,
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
          EventBusName: EVENT_BUS_NAME,
          StatementId: 'ServiceRolesMayPublish',
          Statement: {
            Effect: 'Allow',
            Principal: { AWS: publisherRoleArns },
            Action: 'events:PutEvents',
            Resource: eventBusArn,
          },
        },
      },
      ServiceEventBusOthersDenied: {
        Type: 'AWS::Events::EventBusPolicy',
        DependsOn: [EVENT_BUS_LOGICAL_ID, 'ServiceEventBusPublishers'],
        Properties: {
          EventBusName: EVENT_BUS_NAME,
          StatementId: 'OnlyServiceRolesMayPublish',
          Statement: {
            Effect: 'Deny',
            Principal: '*',
            Action: 'events:PutEvents',
            Resource: eventBusArn,
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': publisherRoleArns } },
          },
        },
      },
    },
  },
};

export default config;
