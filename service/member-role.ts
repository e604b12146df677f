import type { ServiceConfig } from '../shared/config/schema.ts';
import { TargetRegion, type TargetsConfig } from '../shared/config/targets-schema.ts';
import { type CfnValue, type IamStatement, type Manifest, serviceManifest } from './manifest.ts';

/**
 * The role each member account of an AWS Organization deploys (through a CloudFormation StackSet) so that the
 * service, deployed in one central account, can work there: the role the config's `targets.roleName` names, which
 * the cross-account functions assume (`assumeTargetRoleStatements` in the manifest).
 *
 * - **Trust.** Only the roles of the functions that assume it, in the service's account: the principal is that
 *   account (parameter `ServiceAccountId`), narrowed by `aws:PrincipalArn` to the function roles' exact ARNs (see
 *   `functionRoleArns`), never the account as a whole. With `targets.externalId`, `sts:ExternalId` must match too.
 * - **Rights.** One inline policy per job, each made of the statements the manifest gives the function doing that
 *   job, for the same config, less what is not done in the member account (publishing on the service's bus,
 *   assuming the target role, the dead-letter queue, X-Ray, and the Kubernetes list's S3 object or SSM parameter:
 *   the config names one list, which the service reads with its own credentials). The member role can so never
 *   grant more than the function itself is given: a cleanup in dry run gets no BatchDeleteImage, a config with no
 *   archiving rule no UpdateImageStorageClass, no in-use provider no ECS or Lambda read. The policies are apart for
 *   review, not for separation: every function that assumes the role holds all of them in the member account.
 * - **One role per account.** IAM is global, and a StackSet makes one stack per account and region: the role is
 *   created only by the stack in `RoleRegion` (condition `CreateRole`), so the StackSet may cover any regions
 *   without two stacks creating the same role. Its rights therefore cannot use `${AWS::Region}` (that would be
 *   `RoleRegion` only): every regional ARN of the manifest's statements is written once per `targets.regions`
 *   region, and statements on `*` (actions that take no resource-level permission) are limited to those regions by
 *   `aws:RequestedRegion`. This is narrower than a region wildcard in the ARNs: a region the config does not name is
 *   never reachable. `${AWS::AccountId}` and `${AWS::Partition}` stay: in the member stack they are the member
 *   account and its partition, the account and partition the role is in.
 */

/** The osls service name (`serverlessConfig`'s `service`), the first part of every function role's name. */
export const SERVICE_NAME = 'ecr-automation';

/** The jobs of the member role: each one inline policy, made from one function's statements. */
export const MEMBER_ROLE_JOBS = {
  /** The cleanup fan-out: lists the repositories, excludes the workers from pull-time updates. */
  CleanupScanning: { function: 'scheduledCleanup', kind: 'registry' },
  /** The cleanup worker: reads, deletes and archives images of the repositories its rules match. */
  CleanupWorker: { function: 'cleanupRepository', kind: 'registry' },
  /** The cleanup worker's in-use providers: what ECS and Lambda run ("never delete what runs"). */
  InUseReads: { function: 'cleanupRepository', kind: 'in-use' },
  /** Compliance: repository settings, checked and (in enforce mode) fixed. */
  Compliance: { function: 'scheduledCompliance', kind: 'registry' },
  /** The registry reconcile: registry-level settings, and ECR's replication service-linked role. */
  Reconcile: { function: 'reconcileRegistry', kind: 'registry' },
} as const satisfies Record<string, { function: string; kind: 'registry' | 'in-use' }>;
export type MemberRoleJob = keyof typeof MEMBER_ROLE_JOBS;

/** Which of a function's actions a job takes into the member role: the member account's ECR, ECS and Lambda calls. */
function jobTakes(job: MemberRoleJob, action: string): boolean {
  if (MEMBER_ROLE_JOBS[job].kind === 'in-use') return action.startsWith('ecs:') || action.startsWith('lambda:');
  if (action.startsWith('ecr:') || action.startsWith('ecr-public:')) return true;
  // ECR Public's login (GetAuthorizationToken) takes an STS bearer token, in the account whose registry it is.
  if (action === 'sts:GetServiceBearerToken') return true;
  // The first PutReplicationConfiguration in the member account creates ECR's replication service-linked role there.
  return job === 'Reconcile' && action === 'iam:CreateServiceLinkedRole';
}

/** Regional services: their statements on `*` are limited to the config's regions. */
const REGIONAL_SERVICES = ['ecr', 'ecs', 'lambda'];

/** The functions that assume the target role: those the manifest gives `sts:AssumeRole`. */
export const crossAccountFunctions = (manifest: Manifest): string[] =>
  Object.entries(manifest)
    .filter(([, spec]) => spec.iam.some((statement) => statement.Action.includes('sts:AssumeRole')))
    .map(([name]) => name);

/**
 * The ARNs a function's role has once deployed. serverless-iam-roles-per-function names it
 * `<service>-<stage>-<function>-<region>-lambdaRole` at the path `/` (osls's default role path), and drops the
 * `-lambdaRole` suffix when the name would be longer than IAM's 64 characters. Which of the two a deployment has
 * depends on the length of the stage and the region, which CloudFormation cannot measure: both exact names are
 * listed, and exactly one of them is the function's role (the other names no role the service creates). No wildcard.
 */
export const functionRoleArns = (functionName: string): { 'Fn::Sub': string }[] =>
  ['-lambdaRole', ''].map((suffix) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:iam::\${ServiceAccountId}:role/${SERVICE_NAME}-\${Stage}-${functionName}-\${ServiceRegion}${suffix}`,
  }));

/** `/platform/ecr/EcrAutomation` → path `/platform/ecr/`, name `EcrAutomation`; a bare name is at path `/`. */
export function rolePathAndName(roleName: string): { path: string; name: string } {
  const slash = roleName.lastIndexOf('/');
  return slash < 0
    ? { path: '/', name: roleName }
    : { path: roleName.slice(0, slash + 1), name: roleName.slice(slash + 1) };
}

/** The pseudo parameters a member statement may use: they resolve to the member account's own values. */
const MEMBER_VARIABLES = new Set(['AWS::Partition', 'AWS::AccountId', 'AWS::Region']);

/** A CloudFormation value of a manifest statement, once per region: `${AWS::Region}` written as each region. */
function perRegion(value: unknown, regions: readonly string[], where: string): unknown[] {
  if (typeof value === 'string') return [value];
  if (value !== null && typeof value === 'object' && 'Fn::Sub' in value && typeof value['Fn::Sub'] === 'string') {
    const text = value['Fn::Sub'];
    for (const [, variable] of text.matchAll(/\$\{([^}]*)\}/g)) {
      if (!MEMBER_VARIABLES.has(variable ?? '')) {
        throw new Error(`${where}: \${${variable}} is the service's own, not the member account's: ${text}`);
      }
    }
    if (!text.includes('${AWS::Region}')) return [value];
    return regions.map((region) => ({ 'Fn::Sub': text.replaceAll('${AWS::Region}', region) }));
  }
  throw new Error(`${where}: ${JSON.stringify(value)} refers to the service's own stack, not the member account`);
}

/** Every value of a list (or the one value) once per region. */
const listPerRegion = (value: unknown, regions: readonly string[], where: string): unknown[] =>
  (Array.isArray(value) ? value : [value]).flatMap((item) => perRegion(item, regions, where));

/** A condition block with every regional ARN value written once per region. */
function conditionPerRegion(condition: Readonly<Record<string, unknown>>, regions: readonly string[], where: string) {
  return Object.fromEntries(
    Object.entries(condition).map(([operator, keys]) => [
      operator,
      Object.fromEntries(
        Object.entries(keys as Record<string, unknown>).map(([key, value]) => {
          const values = listPerRegion(value, regions, where);
          return [key, Array.isArray(value) || values.length > 1 ? values : values[0]];
        }),
      ),
    ]),
  );
}

/** A member-role statement. */
export interface MemberStatement {
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * A manifest statement as the member role grants it, with only the actions the job takes (none: no statement):
 * regional ARNs once per region, and `*` limited to the regions for the regional services.
 */
function memberStatement(
  statement: IamStatement,
  job: MemberRoleJob,
  regions: readonly string[],
): MemberStatement | undefined {
  const actions = statement.Action.filter((action) => jobTakes(job, action));
  if (actions.length === 0) return undefined;
  const where = `${job} (${actions.join(', ')})`;
  const resources = listPerRegion(statement.Resource as CfnValue | readonly CfnValue[], regions, where);
  const condition = statement.Condition === undefined ? {} : conditionPerRegion(statement.Condition, regions, where);
  const regional = actions.some((action) => REGIONAL_SERVICES.includes(action.slice(0, action.indexOf(':'))));
  const stringEquals = (condition.StringEquals ?? {}) as Record<string, unknown>;
  const limitRegions = regional && resources.includes('*') && !('aws:RequestedRegion' in stringEquals);
  const merged = limitRegions
    ? { ...condition, StringEquals: { ...stringEquals, 'aws:RequestedRegion': [...regions] } }
    : condition;
  return {
    Effect: 'Allow',
    Action: actions,
    Resource: resources.length === 1 ? resources[0] : resources,
    ...(Object.keys(merged).length === 0 ? {} : { Condition: merged }),
  };
}

/** The member role's statements for each job (a job with none is left out), from the manifest of `config`. */
export function memberRoleStatements(
  targets: TargetsConfig,
  manifest: Manifest,
): Partial<Record<MemberRoleJob, MemberStatement[]>> {
  const crossAccount = crossAccountFunctions(manifest);
  const covered = new Set<string>(Object.values(MEMBER_ROLE_JOBS).map((job) => job.function));
  const uncovered = crossAccount.filter((name) => !covered.has(name));
  if (uncovered.length > 0) {
    throw new Error(
      `${uncovered.join(', ')} assume the target role but no member-role job takes their statements: add a job to MEMBER_ROLE_JOBS`,
    );
  }
  const jobs: Partial<Record<MemberRoleJob, MemberStatement[]>> = {};
  for (const [job, { function: name }] of Object.entries(MEMBER_ROLE_JOBS) as [
    MemberRoleJob,
    (typeof MEMBER_ROLE_JOBS)[MemberRoleJob],
  ][]) {
    if (!crossAccount.includes(name)) continue;
    const spec = manifest[name];
    if (spec === undefined) continue;
    const statements = spec.iam.flatMap((statement) => memberStatement(statement, job, targets.regions) ?? []);
    if (statements.length > 0) jobs[job] = statements;
  }
  return jobs;
}

/** IAM's quotas ([IAM and STS quotas](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)). */
export const IAM_LIMITS = {
  /** A role's inline policies together, characters without white space. */
  inlinePoliciesCharacters: 10_240,
  /** A role's trust policy, characters without white space (the default quota; it can be raised to 4,096). */
  trustPolicyCharacters: 2_048,
};

/** A policy's size as IAM counts it, before CloudFormation resolves it (the pseudo parameters are longer unresolved). */
const policySize = (document: unknown) => JSON.stringify(document).replace(/\s/g, '').length;

export interface MemberRoleOptions {
  /** The manifest the rights come from; default `serviceManifest(config)`, the one `serverless.ts` deploys. */
  readonly manifest?: Manifest;
}

const REGION_PARAMETER = {
  Type: 'String',
  AllowedValues: [...TargetRegion.options],
} as const;

/**
 * The CloudFormation template of the member role for `config`, which must have a `targets` section (its `roleName`,
 * `regions`, `externalId` and `sessionDurationSeconds`).
 */
export function memberRoleTemplate(
  config: Pick<ServiceConfig, 'push' | 'scan' | 'cleanup' | 'compliance'> & Partial<Pick<ServiceConfig, 'targets'>>,
  options: MemberRoleOptions = {},
) {
  const targets = config.targets;
  if (targets === undefined) {
    throw new Error(
      'The config has no targets section: the member role is the role the targets section names (targets.roleName), assumed in its accounts',
    );
  }
  const manifest = options.manifest ?? serviceManifest(config);
  const { path, name } = rolePathAndName(targets.roleName);
  const withExternalId = targets.externalId !== undefined;
  const jobs = memberRoleStatements(targets, manifest);

  const trustPolicy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ServiceFunctionRoles',
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ServiceAccountId}:root' } },
        Action: 'sts:AssumeRole',
        Condition: {
          ArnEquals: { 'aws:PrincipalArn': crossAccountFunctions(manifest).flatMap(functionRoleArns) },
          ...(withExternalId ? { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } } : {}),
        },
      },
    ],
  };
  const policies = Object.entries(jobs).map(([job, statements]) => ({
    PolicyName: job,
    PolicyDocument: { Version: '2012-10-17', Statement: statements },
  }));
  const inlineSize = policies.reduce((sum, policy) => sum + policySize(policy.PolicyDocument), 0);
  if (inlineSize > IAM_LIMITS.inlinePoliciesCharacters) {
    throw new Error(
      `The member role's policies take ${inlineSize} characters, more than IAM's ${IAM_LIMITS.inlinePoliciesCharacters} for a role's inline policies: fewer regions or repository globs`,
    );
  }
  if (policySize(trustPolicy) > IAM_LIMITS.trustPolicyCharacters) {
    throw new Error(
      `The member role's trust policy takes ${policySize(trustPolicy)} characters, more than IAM's default ${IAM_LIMITS.trustPolicyCharacters}`,
    );
  }

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `ecr-automation's member-account role ${targets.roleName}, assumed by the service's functions in the service account (generated by npm run member-role: do not edit)`,
    Parameters: {
      ServiceAccountId: {
        Type: 'String',
        Description: 'The account the service is deployed in (its functions assume this role from there).',
        AllowedPattern: '^\\d{12}$',
        ConstraintDescription: 'an AWS account id: 12 digits',
      },
      Stage: {
        Type: 'String',
        Description: 'The stage the service is deployed with (osls --stage): part of the names of its function roles.',
        AllowedPattern: '^[A-Za-z0-9]+$',
        ConstraintDescription: 'letters and digits, as the stage of the service',
      },
      ServiceRegion: {
        ...REGION_PARAMETER,
        Description: 'The region the service is deployed in: part of the names of its function roles.',
      },
      RoleRegion: {
        ...REGION_PARAMETER,
        Default: targets.regions[0],
        Description:
          'The one region whose stack creates the role (IAM is global); the stacks of the other regions create nothing.',
      },
      ...(withExternalId
        ? {
            ExternalId: {
              Type: 'String',
              // No default: a stack without it must fail, not create a role that does not ask for it.
              NoEcho: true,
              MinLength: 2,
              MaxLength: 1224,
              AllowedPattern: '^[\\w+=,.@:/-]+$',
              Description:
                'The external id the service passes to AssumeRole (targets.externalId in the config); required.',
              ConstraintDescription: 'an external id: 2 to 1224 of letters, digits and + = , . @ : / _ -',
            },
          }
        : {}),
    },
    Conditions: {
      CreateRole: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'RoleRegion' }] },
      OtherRegion: { 'Fn::Not': [{ Condition: 'CreateRole' }] },
    },
    Resources: {
      MemberRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'CreateRole',
        Properties: {
          RoleName: name,
          Path: path,
          Description: 'Assumed by the functions of ecr-automation to clean, check and reconcile ECR in this account',
          // Sessions above an hour need the role to allow them.
          MaxSessionDuration: Math.max(3600, targets.sessionDurationSeconds),
          AssumeRolePolicyDocument: trustPolicy,
          Policies: policies,
        },
      },
      // A stack must create something: in the other regions, this handle, which costs and grants nothing.
      NoRoleInThisRegion: { Type: 'AWS::CloudFormation::WaitConditionHandle', Condition: 'OtherRegion' },
    },
    Outputs: {
      RoleArn: {
        Condition: 'CreateRole',
        Description: 'The member role, which the service assumes in this account',
        Value: { 'Fn::GetAtt': ['MemberRole', 'Arn'] },
      },
    },
  };
}
