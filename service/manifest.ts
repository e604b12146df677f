import { checksPublicRepositories } from '../shared/config/compliance-schema.ts';
import { hasInUseProviders, type InUseConfig } from '../shared/config/in-use-schema.ts';
import type { CleanupConfig, PushConfig, ScanConfig, ServiceConfig } from '../shared/config/schema.ts';
import { roleResourceName, type TargetsConfig } from '../shared/config/targets-schema.ts';
import { DEFAULT_PUBLIC_COMPLIANCE_POLICY } from '../shared/policy/compliance/policy.ts';
import { DEFAULT_PUSH_POLICY } from '../shared/policy/push/policy.ts';
import { DEFAULT_SCAN_POLICY } from '../shared/policy/scan/policy.ts';
import { notifyFunction } from './notifications.ts';

/**
 * The service's functions, declared once: what runs (the handler module), when (its triggers), with what (timeout,
 * memory, reserved concurrency, environment), with which rights (IAM statements), and what happens when it fails
 * (Lambda's retries, then a dead-letter queue) and how it is traced. `serverless.ts` deploys it
 * (`service/serverless-config.ts`), `npm start` wires the same handlers to the local bus from it (`local/service.ts`),
 * and the deploy test checks the packaged service against it. Adding a function is one entry here and one handler
 * folder (`functions/<name>/handler.ts`, exporting `createHandler` and `handler`), plus its environment schema
 * (`shared/runtime/env.ts`).
 *
 * Values are written for CloudFormation and osls (`${sls:stage}`, `Fn::Sub`, `Fn::GetAtt`): the local wiring reads
 * only the triggers, timeouts, retries and handler paths.
 */

/** An EventBridge event pattern (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html). */
export type EventPattern = Readonly<Record<string, unknown>>;

/**
 * What invokes a function: an event pattern on a bus (`default`: the account's bus, where AWS services such as ECR
 * and Inspector send their events; `service`: the service's own bus), or a schedule (`cron(...)`, `rate(...)`).
 * Every trigger's rule sends what it cannot deliver to the rule-delivery-failures queue.
 */
export type Trigger =
  | { readonly pattern: EventPattern; readonly bus: 'default' | 'service' }
  | { readonly schedule: string };

/** A CloudFormation value: a literal, or an intrinsic function resolved at deploy time. */
export type CfnValue = string | { readonly 'Fn::Sub': string } | { readonly 'Fn::GetAtt': readonly [string, string] };

export interface IamStatement {
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: CfnValue | readonly CfnValue[];
  readonly Condition?: Readonly<Record<string, unknown>>;
}

/** A reserved concurrency set per stage with `--param="<param>=N"`, `default` otherwise. */
export interface ConcurrencyParam {
  readonly param: string;
  readonly default: number;
}

export interface FunctionSpec {
  /** The handler module from the project root, without extension; it exports `createHandler` and `handler`. */
  readonly handler: `functions/${string}/handler`;
  readonly description: string;
  readonly triggers: readonly Trigger[];
  /** Seconds. */
  readonly timeout: number;
  /** MB. */
  readonly memorySize: number;
  readonly reservedConcurrency?: number | ConcurrencyParam;
  /** Every variable the function's schema in `shared/runtime/env.ts` requires, and only variables it knows. */
  readonly environment: Readonly<Record<string, CfnValue>>;
  /** What the function's own code calls. The dead-letter and X-Ray rights follow from `onFailure` and `tracing`. */
  readonly iam: readonly IamStatement[];
  /** Failed asynchronous invocations: retried `retries` times by Lambda, then sent to the dead-letter queue. */
  readonly onFailure: { readonly retries: number; readonly deadLetterQueue: CfnValue };
  /** X-Ray: `Active` samples and records the function's invocations (and, with Powertools' Tracer, its AWS calls). */
  readonly tracing: 'Active' | 'PassThrough';
}

export type Manifest = Readonly<Record<string, FunctionSpec>>;

/** The service's own event bus: work items, reports and verdicts are published here. */
export const SERVICE_BUS_NAME = 'ecr-automation-${sls:stage}';
export const SERVICE_BUS_ARN = {
  'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${SERVICE_BUS_NAME}`,
} as const;
/** The bucket where a cleanup run's reports meet (`cleanup-runs/<runId>/`), and what the functions may do in it. */
export const REPORTS_BUCKET_LOGICAL_ID = 'ReportsBucket';
export const REPORTS_BUCKET = { 'Fn::Sub': `\${${REPORTS_BUCKET_LOGICAL_ID}}` } as const;
const RUN_REPORTS_OBJECTS = {
  'Fn::Sub': `arn:\${AWS::Partition}:s3:::\${${REPORTS_BUCKET_LOGICAL_ID}}/cleanup-runs/*`,
} as const;
const STORE_RUN_REPORTS: IamStatement = { Effect: 'Allow', Action: ['s3:PutObject'], Resource: RUN_REPORTS_OBJECTS };
/** Failed asynchronous invocations (after Lambda's retries) land in this queue. */
export const FAILED_INVOCATIONS_QUEUE_ARN = { 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] } as const;
/** Events a rule could not deliver to its target (after EventBridge's retries) land in this queue. */
export const RULE_DELIVERY_FAILURES_QUEUE_ARN = { 'Fn::GetAtt': ['RuleDeliveryFailuresQueue', 'Arn'] } as const;

/** The logical id of a function's own role, as serverless-iam-roles-per-function names it. */
export const roleLogicalId = (functionName: string) =>
  `${functionName[0]?.toUpperCase()}${functionName.slice(1)}IamRoleLambdaExecution`;

export const repositoryArn = (pattern: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ecr:\${AWS::Region}:\${AWS::AccountId}:repository/${pattern}`,
});
const ALL_REPOSITORIES = repositoryArn('*');

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

/** An ECR Public repository's ARN: ECR Public's ARNs name no region (the registry is global). */
export const publicRepositoryArn = (pattern: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ecr-public::\${AWS::AccountId}:repository/${pattern}`,
});

/**
 * ECR Public's API is served in us-east-1 only, whatever region the service runs in: its statements allow nothing
 * elsewhere.
 */
export const ECR_PUBLIC_API_REGION_CONDITION = { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } } as const;

/**
 * The repository-name globs of the enabled cleanup rules for one registry (ECR, or ECR Public): every one
 * (`enforced: false`, what the worker may read), or only those whose repositories a run may delete from
 * (`enforced: true`: none when the cleanup is in dry run).
 */
export function cleanupGlobs(cleanup: CleanupConfig, registry: 'private' | 'public', enforced: boolean): string[] {
  if (enforced && cleanup.dryRun) return [];
  const globs = cleanup.rules
    .filter((rule) => rule.enabled && rule.registry === registry)
    .flatMap((r) => r.repositories);
  return [...new Set(globs)];
}

/**
 * The repository-name globs of the enabled private cleanup rules that archive (`action: 'archive'`, their own or
 * the defaults'): where a run may call UpdateImageStorageClass. None when the cleanup is in dry run.
 */
export function cleanupArchiveGlobs(cleanup: CleanupConfig): string[] {
  if (cleanup.dryRun) return [];
  const globs = cleanup.rules
    .filter(
      (rule) => rule.enabled && rule.registry === 'private' && (rule.action ?? cleanup.defaults.action) === 'archive',
    )
    .flatMap((r) => r.repositories);
  return [...new Set(globs)];
}

/** IAM ECR Public repository ARNs covering the globs; `repository/*` when one glob matches every repository. */
export function publicRepositoryArnsFor(globs: readonly string[]): { 'Fn::Sub': string }[] {
  const patterns = [...new Set(globs.map(globToIamPattern))];
  if (patterns.includes('*')) return [publicRepositoryArn('*')];
  return patterns.sort().map(publicRepositoryArn);
}

/**
 * The cleanup functions' ECR Public statements, none when no cleanup rule is for ECR Public: the fan-out lists the
 * repositories; the worker reads the images of the repositories the public rules match (DescribeRepositories gives
 * the alias of the registry API's paths), logs in to the registry API (GetAuthorizationToken, which needs STS's
 * bearer token for ECR Public) and deletes only in the repositories a run may delete from.
 */
function publicCleanupStatements(cleanup: CleanupConfig): { fanOut: IamStatement[]; worker: IamStatement[] } {
  const matched = publicRepositoryArnsFor(cleanupGlobs(cleanup, 'public', false));
  if (matched.length === 0) return { fanOut: [], worker: [] };
  const enforced = publicRepositoryArnsFor(cleanupGlobs(cleanup, 'public', true));
  const condition = { Condition: ECR_PUBLIC_API_REGION_CONDITION };
  return {
    fanOut: [
      {
        Effect: 'Allow',
        Action: ['ecr-public:DescribeRepositories'],
        Resource: publicRepositoryArn('*'),
        ...condition,
      },
    ],
    worker: [
      {
        Effect: 'Allow',
        Action: ['ecr-public:DescribeRepositories', 'ecr-public:DescribeImages'],
        Resource: matched,
        ...condition,
      },
      ...scoped(['ecr-public:BatchDeleteImage'], enforced).map((statement) => ({ ...statement, ...condition })),
      // Registry-level: GetAuthorizationToken names no repository.
      { Effect: 'Allow', Action: ['ecr-public:GetAuthorizationToken'], Resource: '*', ...condition },
      {
        Effect: 'Allow',
        Action: ['sts:GetServiceBearerToken'],
        Resource: '*',
        Condition: { StringEquals: { 'sts:AWSServiceName': 'ecr-public.amazonaws.com' } },
      },
    ],
  };
}

/** IAM repository ARNs covering the globs; `repository/*` when one glob matches every repository (`**`). */
export function repositoryArnsFor(globs: readonly string[]): { 'Fn::Sub': string }[] {
  const patterns = [...new Set(globs.map(globToIamPattern))];
  if (patterns.includes('*')) return [ALL_REPOSITORIES];
  return patterns.sort().map(repositoryArn);
}

/**
 * The public repository-name globs of the enabled enforce-mode public compliance rules (their own mode, or the
 * defaults'), none when compliance is in dry run: the repositories compliance may put catalog data on.
 */
export function enforcedPublicRepositoryGlobs(compliance: ServiceConfig['compliance']): string[] {
  if (compliance.dryRun) return [];
  const section = compliance.public;
  const globs = section.rules
    .filter(
      (rule) =>
        rule.enabled && (rule.mode ?? section.defaults.mode ?? DEFAULT_PUBLIC_COMPLIANCE_POLICY.mode) === 'enforce',
    )
    .flatMap((rule) => rule.repositories);
  return [...new Set(globs)];
}

/**
 * The compliance function's ECR Public statements, only when the config has public rules: the reads of every
 * public repository (the listing, catalog data, repository policy), and PutRepositoryCatalogData on those the
 * enforce-mode public rules match.
 */
export function publicComplianceStatements(compliance: ServiceConfig['compliance']): IamStatement[] {
  if (!checksPublicRepositories(compliance)) return [];
  const enforced = publicRepositoryArnsFor(enforcedPublicRepositoryGlobs(compliance));
  return [
    {
      Effect: 'Allow',
      Action: [
        'ecr-public:DescribeRepositories',
        'ecr-public:GetRepositoryCatalogData',
        'ecr-public:GetRepositoryPolicy',
      ],
      Resource: publicRepositoryArn('*'),
      Condition: ECR_PUBLIC_API_REGION_CONDITION,
    },
    ...scoped(['ecr-public:PutRepositoryCatalogData'], enforced).map((statement) => ({
      ...statement,
      Condition: ECR_PUBLIC_API_REGION_CONDITION,
    })),
  ];
}

/** A statement granting `actions` on `resources`, or none when there is no resource to act on. */
/** An ARN of the service's own account and region: `arn:<partition>:<service>:<region>:<account>:<rest>`. */
const regionalArn = (service: string, rest: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`,
});

/** A function's name, from its name or ARN (`arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]`). */
const functionNameOf = (fn: string): string => {
  const at = fn.indexOf(':function:');
  const rest = at < 0 ? fn : fn.slice(at + ':function:'.length);
  return rest.split(':')[0] || fn;
};

/**
 * The cleanup worker's statements for the in-use providers of `cleanup.inUse`, none when no provider is configured:
 * exactly the reads each provider calls. ECS: ListClusters only for `clusters: 'all'`; with named clusters the lists
 * are conditioned on those clusters and the describes scoped to their services and tasks (DescribeTaskDefinition
 * has no resource-level permission). Lambda: ListFunctions (no resource-level permission), then the versions,
 * aliases and code of the named functions (or every function). Kubernetes: the one S3 object or SSM parameter.
 */
export function inUseStatements(inUse: InUseConfig | undefined): IamStatement[] {
  if (!hasInUseProviders(inUse)) return [];
  const statements: IamStatement[] = [];
  if (inUse.ecs !== undefined) {
    const named = inUse.ecs.clusters;
    if (named === 'all') {
      statements.push({
        Effect: 'Allow',
        Action: [
          'ecs:ListClusters',
          'ecs:ListServices',
          'ecs:DescribeServices',
          'ecs:ListTasks',
          'ecs:DescribeTasks',
          'ecs:DescribeTaskDefinition',
        ],
        Resource: '*',
      });
    } else {
      const names = named.map((cluster) => cluster.slice(cluster.lastIndexOf('/') + 1));
      statements.push(
        {
          Effect: 'Allow',
          Action: ['ecs:ListServices', 'ecs:ListTasks'],
          Resource: '*',
          Condition: { ArnEquals: { 'ecs:cluster': names.map((name) => regionalArn('ecs', `cluster/${name}`)) } },
        },
        {
          Effect: 'Allow',
          Action: ['ecs:DescribeServices', 'ecs:DescribeTasks'],
          Resource: names.flatMap((name) => [
            regionalArn('ecs', `service/${name}/*`),
            regionalArn('ecs', `task/${name}/*`),
          ]),
        },
        { Effect: 'Allow', Action: ['ecs:DescribeTaskDefinition'], Resource: '*' },
      );
    }
  }
  if (inUse.lambda !== undefined) {
    const functions = inUse.lambda.functions;
    const names = functions === 'all' ? ['*'] : functions.map(functionNameOf);
    statements.push(
      { Effect: 'Allow', Action: ['lambda:ListFunctions'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['lambda:ListVersionsByFunction', 'lambda:ListAliases', 'lambda:GetFunction'],
        Resource: [...new Set(names)].flatMap((name) =>
          name === '*'
            ? [regionalArn('lambda', 'function:*')]
            : [regionalArn('lambda', `function:${name}`), regionalArn('lambda', `function:${name}:*`)],
        ),
      },
    );
  }
  const kubernetes = inUse.kubernetes;
  if (kubernetes !== undefined && 's3' in kubernetes) {
    statements.push({
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${kubernetes.s3.bucket}/${kubernetes.s3.key}` },
    });
  } else if (kubernetes !== undefined && 'ssm' in kubernetes) {
    statements.push({
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: regionalArn('ssm', `parameter/${kubernetes.ssm.parameter.replace(/^\//, '')}`),
    });
  }
  return statements;
}

/**
 * With `targets`, the right to assume the target role in any account (the accounts of organisational units are only
 * known at run time), and no other role, and to read the organisation's listings the section needs (members when it
 * names or excludes accounts, units' accounts when it names units); none without `targets`. The functions that work across the target accounts
 * take it: the cleanup scheduler and worker, compliance and the reconcile.
 */
export function assumeTargetRoleStatements(targets: TargetsConfig | undefined): IamStatement[] {
  if (targets === undefined) return [];
  const named = (targets.accounts?.length ?? 0) + (targets.exclude?.length ?? 0) > 0;
  const units = targets.organizationalUnits !== undefined;
  return [
    {
      Effect: 'Allow',
      Action: ['sts:AssumeRole'],
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/${roleResourceName(targets.roleName)}` },
    },
    // The organisation's listings (in its management or delegated administrator account): its members, to check
    // the named and excluded accounts; the units' accounts, to discover them. Organizations' list actions take no
    // resource narrower than the organisation's own ARNs, which a deployment does not know: `*`.
    {
      Effect: 'Allow',
      Action: [
        ...(named ? ['organizations:ListAccounts'] : []),
        ...(units ? ['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent'] : []),
      ],
      Resource: '*',
    },
  ];
}

const scoped = (actions: string[], resources: readonly CfnValue[]): IamStatement[] =>
  resources.length === 0 ? [] : [{ Effect: 'Allow', Action: actions, Resource: resources }];

export const PUBLISH_TO_SERVICE_BUS: IamStatement = {
  Effect: 'Allow',
  Action: ['events:PutEvents'],
  Resource: SERVICE_BUS_ARN,
};
/** What X-Ray active tracing needs (osls grants it to the default role only, which no function uses). */
export const XRAY_WRITE: IamStatement = {
  Effect: 'Allow',
  Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
  Resource: '*',
};

/** A function's whole role: its own statements, then the dead-letter queue, then X-Ray when traced. */
export function roleStatements(spec: FunctionSpec): IamStatement[] {
  return [
    ...spec.iam,
    { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: spec.onFailure.deadLetterQueue },
    ...(spec.tracing === 'Active' ? [XRAY_WRITE] : []),
  ];
}

/** Whether a function may publish on the service's bus (the bus's resource policy lets only these roles). */
export const publishesOnServiceBus = (spec: FunctionSpec) =>
  spec.iam.some((statement) => statement.Action.includes('events:PutEvents'));

/** Lambda's two retries of a failed asynchronous invocation, then the dead-letter queue. */
const ON_FAILURE = { retries: 2, deadLetterQueue: FAILED_INVOCATIONS_QUEUE_ARN } as const;
const TRACING = 'Active';

/**
 * The manifest of the service run with `config`: the push and scan handlers may change only the repositories the
 * config's enabled enforce-mode rules match (each glob an IAM resource pattern), and the cleanup functions get ECR
 * Public rights only for the config's public cleanup rules, so a change of those rules means packaging again.
 */
export function serviceManifest(
  config: Pick<ServiceConfig, 'push' | 'scan' | 'cleanup' | 'compliance'> &
    Partial<Pick<ServiceConfig, 'targets' | 'notifications'>>,
) {
  /** The target role, for the functions that work across the `targets` accounts (none without `targets`). */
  const assumeTargetRole = assumeTargetRoleStatements(config.targets);
  /** The cleanup functions' rights on ECR Public, when a cleanup rule is for it. */
  const publicCleanup = publicCleanupStatements(config.cleanup);
  /** Repositories whose tags the push handler may correct (enforce mode). */
  const pushEnforced = repositoryArnsFor(enforcedRepositoryGlobs(config.push, DEFAULT_PUSH_POLICY.mode));
  /** Repositories whose images the scan handler may quarantine-tag or untag (enforce mode). */
  const scanEnforced = repositoryArnsFor(enforcedRepositoryGlobs(config.scan, DEFAULT_SCAN_POLICY.mode));
  return {
    scheduledCleanup: {
      handler: 'functions/scheduled-cleanup/handler',
      description: 'Nightly: one cleanup work item per repository a cleanup rule matches',
      triggers: [{ schedule: 'cron(0 3 * * ? *)' }],
      timeout: 300,
      memorySize: 512,
      environment: {
        EVENT_BUS_NAME: SERVICE_BUS_NAME,
        // The workers' role, excluded from pull-time updates so their manifest reads are not counted as pulls.
        WORKER_PRINCIPAL_ARN: { 'Fn::GetAtt': [roleLogicalId('cleanupRepository'), 'Arn'] },
        REPORTS_BUCKET,
      },
      iam: [
        { Effect: 'Allow', Action: ['ecr:DescribeRepositories'], Resource: ALL_REPOSITORIES },
        // Registry-level actions: they name no repository.
        {
          Effect: 'Allow',
          Action: ['ecr:ListPullTimeUpdateExclusions', 'ecr:RegisterPullTimeUpdateExclusion'],
          Resource: '*',
        },
        ...publicCleanup.fanOut,
        ...assumeTargetRole,
        // Its report, for the run's organisation report.
        STORE_RUN_REPORTS,
        PUBLISH_TO_SERVICE_BUS,
      ],
      onFailure: ON_FAILURE,
      tracing: TRACING,
    },
    cleanupRepository: {
      handler: 'functions/cleanup-repository/handler',
      description:
        'Cleans one repository (a Cleanup Work Item): stale untagged images and tags its selections release, never what runs',
      triggers: [{ bus: 'service', pattern: { source: ['ecr-automation'], 'detail-type': ['Cleanup Work Item'] } }],
      timeout: 900,
      memorySize: 1024,
      // Bounds the fan-out: at most this many repositories are cleaned at once (and so ECR's request rate). Across an
      // organisation each account and region has its own quota, so a sweep of many targets wants more
      // (`--param="cleanupRepositoryConcurrency=N"`; see docs/organisation-scale.md).
      reservedConcurrency: { param: 'cleanupRepositoryConcurrency', default: 10 },
      environment: { EVENT_BUS_NAME: SERVICE_BUS_NAME, CLEANUP_RESERVE_MS: '60000', REPORTS_BUCKET },
      iam: [
        // Reads in the repositories the private rules match (none without such a rule); deletes only where a run
        // may delete (none in dry run). With in-use providers, a work item reads its repository's URI: where it is,
        // as workloads name it.
        ...scoped(
          [
            'ecr:DescribeImages',
            'ecr:BatchGetImage',
            ...(hasInUseProviders(config.cleanup.inUse) ? ['ecr:DescribeRepositories'] : []),
          ],
          repositoryArnsFor(cleanupGlobs(config.cleanup, 'private', false)),
        ),
        ...scoped(['ecr:BatchDeleteImage'], repositoryArnsFor(cleanupGlobs(config.cleanup, 'private', true))),
        // Archives only where a rule archives (none in dry run).
        ...scoped(['ecr:UpdateImageStorageClass'], repositoryArnsFor(cleanupArchiveGlobs(config.cleanup))),
        ...publicCleanup.worker,
        ...inUseStatements(config.cleanup.inUse),
        ...assumeTargetRole,
        // Its report, for the run's organisation report.
        STORE_RUN_REPORTS,
        PUBLISH_TO_SERVICE_BUS,
      ],
      onFailure: ON_FAILURE,
      tracing: TRACING,
    },
    cleanupRunReport: {
      handler: 'functions/cleanup-run-report/handler',
      description:
        'Every 15 minutes: the Organisation Cleanup Report of each cleanup run whose work items have all reported',
      triggers: [{ schedule: 'rate(15 minutes)' }],
      timeout: 900,
      memorySize: 1024,
      // One at a time: two would read the same runs (the report is written once either way).
      reservedConcurrency: 1,
      environment: { EVENT_BUS_NAME: SERVICE_BUS_NAME, REPORTS_BUCKET },
      iam: [
        {
          Effect: 'Allow',
          Action: ['s3:ListBucket'],
          Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::\${${REPORTS_BUCKET_LOGICAL_ID}}` },
          Condition: { StringLike: { 's3:prefix': ['cleanup-runs/*'] } },
        },
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: RUN_REPORTS_OBJECTS },
        PUBLISH_TO_SERVICE_BUS,
      ],
      onFailure: ON_FAILURE,
      tracing: TRACING,
    },
    onImagePush: {
      handler: 'functions/on-image-push/handler',
      description:
        'Judges every pushed image: scan where ECR does not, tag policy, tag immutability (Image Push Verdict)',
      // ECR sends its events to the account's default bus.
      triggers: [
        {
          bus: 'default',
          pattern: {
            source: ['aws.ecr'],
            'detail-type': ['ECR Image Action'],
            detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
          },
        },
      ],
      timeout: 60,
      memorySize: 256,
      // A push storm queues (Lambda retries throttled asynchronous invocations for up to six hours) instead of
      // scaling without limit and throttling the account's ECR quota.
      reservedConcurrency: { param: 'onImagePushConcurrency', default: 10 },
      environment: { EVENT_BUS_NAME: SERVICE_BUS_NAME },
      iam: [
        {
          Effect: 'Allow',
          // Reads: the repository, the image (by digest and by tag). Acts in any mode: the basic scan.
          Action: ['ecr:DescribeRepositories', 'ecr:DescribeImages', 'ecr:StartImageScan'],
          Resource: ALL_REPOSITORIES,
        },
        // Acts in enforce mode only, on the repositories enforce-mode push rules match: tag mutability, tag removal.
        ...scoped(['ecr:PutImageTagMutability', 'ecr:BatchDeleteImage'], pushEnforced),
        // A registry-level read: it names no repository.
        { Effect: 'Allow', Action: ['ecr:GetRegistryScanningConfiguration'], Resource: '*' },
        // ECR Public (only with public rules): reads everywhere, catalog data puts on the enforce-mode repositories.
        ...publicComplianceStatements(config.compliance),
        PUBLISH_TO_SERVICE_BUS,
      ],
      onFailure: ON_FAILURE,
      tracing: TRACING,
    },
    onScanResult: {
      handler: 'functions/on-scan-result/handler',
      description: 'Judges every completed scan against thresholds and the allow-list (Image Scan Verdict)',
      // ECR and Inspector send their events to the account's default bus.
      triggers: [
        {
          bus: 'default',
          pattern: {
            source: ['aws.ecr'],
            'detail-type': ['ECR Image Scan'],
            detail: { 'scan-status': ['COMPLETE', 'FAILED'] },
          },
        },
        {
          bus: 'default',
          pattern: {
            source: ['aws.inspector2'],
            'detail-type': ['Inspector2 Scan'],
            detail: { 'scan-status': ['INITIAL_SCAN_COMPLETE'] },
          },
        },
        {
          bus: 'default',
          pattern: {
            source: ['aws.inspector2'],
            'detail-type': ['Inspector2 Finding'],
            detail: { resources: { type: ['AWS_ECR_CONTAINER_IMAGE'] } },
          },
        },
      ],
      timeout: 120,
      memorySize: 512,
      reservedConcurrency: { param: 'onScanResultConcurrency', default: 10 },
      environment: { EVENT_BUS_NAME: SERVICE_BUS_NAME },
      iam: [
        {
          Effect: 'Allow',
          // Reads: the image, its scan findings, its manifest (BatchGetImage, for the quarantine tag).
          Action: ['ecr:DescribeImages', 'ecr:DescribeImageScanFindings', 'ecr:BatchGetImage'],
          Resource: ALL_REPOSITORIES,
        },
        // Acts in enforce mode only, on the repositories enforce-mode scan rules match: the quarantine tag is the
        // image's manifest pushed again under the tag (PutImage); tags are removed by tag (BatchDeleteImage).
        ...scoped(['ecr:PutImage', 'ecr:BatchDeleteImage'], scanEnforced),
        PUBLISH_TO_SERVICE_BUS,
      ],
      onFailure: ON_FAILURE,
      tracing: TRACING,
    },
    allowListReport: {
      handler: 'functions/allow-list-report/handler',
      description: 'Daily: allow-list entries expiring within 14 days, and expired ones still listed',
      triggers: [{ schedule: 'cron(0 6 * * ? *)' }],
      timeout: 30,
      memorySize: 256,
      environment: { EVENT_BUS_NAME: SERVICE_BUS_NAME },
      // It reads only the config: no ECR access at all.
      iam: [PUBLISH_TO_SERVICE_BUS],
      onFailure: ON_FAILURE,
      tracing: TRACING,
    },
    scheduledCompliance: {
      handler: 'functions/scheduled-compliance/handler',
      description: 'Daily: checks every matched repository against the compliance policy (Compliance Report)',
      triggers: [{ schedule: 'cron(0 4 * * ? *)' }],
      timeout: 900,
      memorySize: 512,
      environment: { EVENT_BUS_NAME: SERVICE_BUS_NAME },
      iam: [
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
          Resource: ALL_REPOSITORIES,
        },
        // A registry-level read: it names no repository.
        { Effect: 'Allow', Action: ['ecr:GetRegistryScanningConfiguration'], Resource: '*' },
        // ECR Public (only with public rules): reads everywhere, catalog data puts on the enforce-mode repositories.
        ...publicComplianceStatements(config.compliance),
        ...assumeTargetRole,
        PUBLISH_TO_SERVICE_BUS,
      ],
      onFailure: ON_FAILURE,
      tracing: TRACING,
    },
    reconcileRegistry: {
      handler: 'functions/reconcile-registry/handler',
      description:
        'Hourly: reconciles replication, pull through cache, templates, scanning and registry policy with the config',
      triggers: [{ schedule: 'rate(1 hour)' }],
      timeout: 300,
      memorySize: 256,
      // One reconcile at a time: two overlapping runs would plan against each other's half-applied changes.
      reservedConcurrency: 1,
      environment: { EVENT_BUS_NAME: SERVICE_BUS_NAME },
      iam: [
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
        ...assumeTargetRole,
        PUBLISH_TO_SERVICE_BUS,
      ],
      onFailure: ON_FAILURE,
      tracing: TRACING,
    },
    // Only with the config's `notifications` section (service/notifications.ts: its rules, topic and rights).
    ...(config.notifications === undefined
      ? {}
      : {
          notify: (() => {
            const notify = notifyFunction(config.notifications);
            return {
              ...notify,
              environment: { ...notify.environment, REPORTS_BUCKET },
              onFailure: ON_FAILURE,
              tracing: TRACING,
            };
          })(),
        }),
  } as const satisfies Manifest;
}

/** The service's function names. */
export type ServiceFunctionName = keyof ReturnType<typeof serviceManifest>;
