import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BatchGetImageCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { memberRoleTemplateText, runMemberRole } from '../../../cli/commands/member-role.ts';
import { type IamStatement, type Manifest, serviceManifest } from '../../../service/manifest.ts';
import {
  crossAccountFunctions,
  functionRoleArns,
  MEMBER_ROLE_JOBS,
  type MemberRoleJob,
  type MemberStatement,
  memberRoleTemplate,
  rolePathAndName,
  SERVICE_NAME,
} from '../../../service/member-role.ts';
import { serverlessConfig } from '../../../service/serverless-config.ts';
import { parseConfig, parseConfigText } from '../../../shared/config/load.ts';
import { createEcrGateway } from '../../../shared/ecr/gateway.ts';

/**
 * The member accounts' role (`service/member-role.ts`, `npm run member-role`): its template is checked by structure
 * every time (trust, rights derived from the manifest and no more, the gateway's calls covered, least privilege per
 * job), and by cfn-lint when cfn-lint is on PATH.
 */
const ROOT = resolve(import.meta.dirname, '../../..');
const EXAMPLE = 'config/examples/organization.config.json';
const BUNDLED = 'config/ecr-automation.json';
const COMMITTED = 'deploy/member-role.template.json';
const REGIONS = ['eu-west-1', 'ap-southeast-2'];
const TARGETS = { organizationalUnits: ['ou-ab12-cdef3456'], regions: REGIONS, roleName: 'EcrAutomation' };
const CROSS_ACCOUNT = ['scheduledCleanup', 'cleanupRepository', 'scheduledCompliance', 'reconcileRegistry'];

/** Every part of the service on: enforcing, archiving, public rules, in-use providers. */
const FULL = {
  cleanup: {
    rules: [
      { repositories: ['team/**'], action: 'archive' },
      { repositories: ['**'] },
      { registry: 'public', repositories: ['**'] },
    ],
    inUse: { ecs: {}, lambda: {} },
  },
  compliance: {
    defaults: { mode: 'enforce' },
    rules: [{ repositories: ['**'] }],
    public: { defaults: { mode: 'enforce' }, rules: [{ repositories: ['**'] }] },
  },
  targets: TARGETS,
};

/** In-use providers on named clusters and functions: conditions and ARNs of their own. */
const NAMED = {
  ...FULL,
  cleanup: {
    ...FULL.cleanup,
    inUse: {
      ecs: { clusters: ['prod', 'arn:aws:ecs:eu-west-1:111122223333:cluster/batch'] },
      lambda: { functions: ['api'] },
    },
  },
};

type Template = ReturnType<typeof memberRoleTemplate>;
type Policies = Partial<Record<MemberRoleJob, MemberStatement[]>>;

const read = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');
const exampleConfig = () => parseConfigText(read(EXAMPLE), EXAMPLE);
const templateFor = (document: object) => memberRoleTemplate(parseConfig(document));
const policiesOf = (template: Template): Policies =>
  Object.fromEntries(
    template.Resources.MemberRole.Properties.Policies.map((policy) => [
      policy.PolicyName,
      policy.PolicyDocument.Statement,
    ]),
  );
const actionsOf = (statements: readonly { Action: readonly string[] }[] | undefined) =>
  [...new Set((statements ?? []).flatMap((statement) => statement.Action))].sort();
const actionsByJob = (template: Template) =>
  Object.fromEntries(Object.entries(policiesOf(template)).map(([job, statements]) => [job, actionsOf(statements)]));
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const text = (value: unknown) => JSON.stringify(value);

/** A manifest value once per region (this test's own reading of "the same ARN in every target region"). */
const expand = (value: unknown, regions: readonly string[]): unknown[] =>
  asList(value).flatMap((item) => {
    const sub = (item as { 'Fn::Sub'?: string })['Fn::Sub'];
    return sub?.includes(`\${AWS::Region}`)
      ? regions.map((region) => ({ 'Fn::Sub': sub.split(`\${AWS::Region}`).join(region) }))
      : [item];
  });

/** Actions that take no resource-level permission (or that the manifest grants on `*` with a condition). */
const STAR_ACTIONS = new Set([
  'ecr:ListPullTimeUpdateExclusions',
  'ecr:RegisterPullTimeUpdateExclusion',
  'ecr:GetRegistryScanningConfiguration',
  'ecr:PutRegistryScanningConfiguration',
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
  'ecr:GetRegistryPolicy',
  'ecr:PutRegistryPolicy',
  'ecr:DeleteRegistryPolicy',
  'ecr-public:GetAuthorizationToken',
  'sts:GetServiceBearerToken',
  'iam:CreateServiceLinkedRole',
  'ecs:ListClusters',
  'ecs:ListServices',
  'ecs:ListTasks',
  'ecs:DescribeTaskDefinition',
  // With `clusters: 'all'` the manifest describes every cluster's services and tasks.
  'ecs:DescribeServices',
  'ecs:DescribeTasks',
  'lambda:ListFunctions',
]);

/**
 * Which ECR operations each gateway method sends: every method of a real gateway called over a mocked client that
 * answers everything (BatchGetImage with the image, so that tagImage goes on to PutImage).
 */
async function gatewayOperations(): Promise<Map<string, Set<string>>> {
  const ecr = mockClient(ECRClient);
  const digest = `sha256:${'a'.repeat(64)}`;
  ecr.onAnyCommand().resolves({});
  ecr.on(BatchGetImageCommand).resolves({
    images: [
      {
        imageId: { imageDigest: digest },
        imageManifest: '{"schemaVersion":2}',
        imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      },
    ],
  });
  const template = {
    prefix: 'p',
    appliedFor: ['PULL_THROUGH_CACHE'],
    imageTagMutability: 'MUTABLE',
    imageTagMutabilityExclusionFilters: [],
    encryptionType: 'AES256',
    resourceTags: {},
  };
  const ARGS: Record<string, unknown[]> = {
    putReplicationRules: [[]],
    createPullThroughCacheRule: [{ prefix: 'p', upstreamRegistryUrl: 'public.ecr.aws' }],
    updatePullThroughCacheRule: [{ prefix: 'p', upstreamRegistryUrl: 'public.ecr.aws' }],
    createCreationTemplate: [template],
    updateCreationTemplate: [template],
    putRegistryScanningConfiguration: [{ scanType: 'BASIC', rules: [] }],
    updateImageStorageClass: ['repo', { digest }, 'ARCHIVE'],
    tagImage: ['repo', digest, 'tag'],
    tagResource: ['arn:aws:ecr:eu-west-1:111122223333:repository/repo', { team: 't' }],
    getRepositoryScanningConfigurations: [['repo']],
    startImageScan: ['repo', digest],
    getScanFindings: ['repo', digest],
    listImageReferrers: ['repo', digest],
    putTagMutability: ['repo', 'IMMUTABLE'],
  };
  const gateway = createEcrGateway(new ECRClient({ region: 'eu-west-1' }), { maxItemRetries: 0, itemRetryDelayMs: 0 });
  const operations = new Map<string, Set<string>>();
  try {
    for (const [name, member] of Object.entries(gateway)) {
      if (typeof member !== 'function' || name === 'callCounts') continue;
      ecr.resetHistory();
      try {
        const result = (member as (...args: unknown[]) => unknown).apply(gateway, ARGS[name] ?? ['repo', [digest]]);
        if (result !== null && typeof result === 'object' && Symbol.asyncIterator in result) {
          for await (const _ of result as AsyncIterable<unknown>) break;
        } else {
          await result;
        }
      } catch {
        // What it sent before failing is what counts.
      }
      operations.set(
        name,
        new Set(ecr.calls().map((call) => (call.args[0] as object).constructor.name.replace(/Command$/, ''))),
      );
    }
  } finally {
    ecr.restore();
  }
  return operations;
}

/** The gateway methods a workflow's sources name (`x.method(`, or `x.method` passed on). */
const methodsNamedIn = (files: readonly string[], methods: Iterable<string>) => {
  const sources = files.map(read).join('\n');
  const named = (method: string) => {
    for (let at = sources.indexOf(`.${method}`); at !== -1; at = sources.indexOf(`.${method}`, at + 1)) {
      if (!/\w/.test(sources[at + method.length + 1] ?? '')) return true;
    }
    return false;
  };
  return [...methods].filter(named);
};

/** The sources of each job's workflow. */
const WORKFLOW_FILES: Record<Exclude<MemberRoleJob, 'InUseReads'>, string[]> = {
  CleanupScanning: ['shared/cleanup/entry-fan-out.ts'],
  CleanupWorker: [
    'shared/cleanup/entry.ts',
    'shared/cleanup/gather.ts',
    'shared/cleanup/act.ts',
    'shared/cleanup/in-use.ts',
  ],
  Compliance: ['shared/compliance/entry.ts', 'shared/compliance/gather.ts', 'shared/compliance/act.ts'],
  Reconcile: ['shared/reconcile/entry.ts', 'shared/reconcile/gather.ts', 'shared/reconcile/act.ts'],
};

describe('the member role’s template', () => {
  it('is generated from the example organisation config, which is the bundled config plus a targets section', () => {
    // Prepare
    const example = JSON.parse(read(EXAMPLE)) as Record<string, unknown>;
    const bundled = JSON.parse(read(BUNDLED)) as Record<string, unknown>;
    const { $schema: _exampleSchema, targets, ...exampleRest } = example;
    const { $schema: _bundledSchema, ...bundledRest } = bundled;
    // Act
    const config = exampleConfig();
    // Assess
    expect(config.targets).toBeDefined();
    expect(targets).toBeDefined();
    expect(exampleRest, `${EXAMPLE} must be ${BUNDLED} plus its targets section`).toEqual(bundledRest);
  });

  it('is committed as npm run member-role writes it (npm run member-role -- --config <example> --out <file>)', () => {
    // Act
    const generated = memberRoleTemplateText(memberRoleTemplate(exampleConfig()));
    // Assess
    expect(
      read(COMMITTED),
      `${COMMITTED} is stale: npm run member-role -- --config ${EXAMPLE} --out ${COMMITTED}`,
    ).toEqual(generated);
  });

  it('creates the role, with its path and name, only in RoleRegion, and outputs its ARN', () => {
    // Act
    const template = templateFor({ ...FULL, targets: { ...TARGETS, roleName: '/platform/ecr/Member' } });
    const role = template.Resources.MemberRole;
    // Assess
    expect(role.Type).toBe('AWS::IAM::Role');
    expect(role.Properties.RoleName).toBe('Member');
    expect(role.Properties.Path).toBe('/platform/ecr/');
    expect(role.Condition).toBe('CreateRole');
    expect(template.Conditions.CreateRole).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'RoleRegion' }] });
    expect(template.Parameters.RoleRegion.Default).toBe(REGIONS[0]);
    // The stacks of the other regions hold only a handle that grants nothing.
    expect(template.Resources.NoRoleInThisRegion).toEqual({
      Type: 'AWS::CloudFormation::WaitConditionHandle',
      Condition: 'OtherRegion',
    });
    expect(template.Outputs.RoleArn).toEqual(
      expect.objectContaining({ Condition: 'CreateRole', Value: { 'Fn::GetAtt': ['MemberRole', 'Arn'] } }),
    );
    expect(rolePathAndName('EcrAutomation')).toEqual({ path: '/', name: 'EcrAutomation' });
  });

  it('lets sessions last as long as targets.sessionDurationSeconds asks, an hour at least', () => {
    // Act
    const long = templateFor({ ...FULL, targets: { ...TARGETS, sessionDurationSeconds: 7200 } });
    const short = templateFor({ ...FULL, targets: { ...TARGETS, sessionDurationSeconds: 900 } });
    // Assess
    expect(long.Resources.MemberRole.Properties.MaxSessionDuration).toBe(7200);
    expect(short.Resources.MemberRole.Properties.MaxSessionDuration).toBe(3600);
  });

  it('refuses a config with no targets section, by name', () => {
    // Act
    const attempt = () => memberRoleTemplate(parseConfig({}));
    // Assess
    expect(attempt).toThrow(/no targets section/);
  });
});

describe('the member role’s trust', () => {
  it('trusts only the cross-account functions’ roles in the service account', () => {
    // Act
    const template = templateFor(FULL);
    const { Statement } = template.Resources.MemberRole.Properties.AssumeRolePolicyDocument;
    // Assess
    expect(crossAccountFunctions(serviceManifest(parseConfig(FULL)))).toEqual(CROSS_ACCOUNT);
    expect(Statement).toEqual([
      {
        Sid: 'ServiceFunctionRoles',
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${ServiceAccountId}:root` } },
        Action: 'sts:AssumeRole',
        Condition: { ArnEquals: { 'aws:PrincipalArn': CROSS_ACCOUNT.flatMap(functionRoleArns) } },
      },
    ]);
    expect(text(Statement)).not.toContain('*');
    expect(template.Parameters.ServiceAccountId.AllowedPattern).toBe('^\\d{12}$');
    expect(template.Parameters).not.toHaveProperty('ExternalId');
  });

  it('requires the external id when the config has one, as a NoEcho parameter with no default', () => {
    // Act
    const template = templateFor({ ...FULL, targets: { ...TARGETS, externalId: 'secret-ish-42' } });
    const [statement] = template.Resources.MemberRole.Properties.AssumeRolePolicyDocument.Statement;
    // Assess
    expect(statement?.Condition).toEqual({
      ArnEquals: { 'aws:PrincipalArn': CROSS_ACCOUNT.flatMap(functionRoleArns) },
      StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } },
    });
    const parameter = (template.Parameters as Record<string, Record<string, unknown>>).ExternalId;
    expect(parameter).toEqual(expect.objectContaining({ Type: 'String', NoEcho: true, MinLength: 2 }));
    expect(parameter).not.toHaveProperty('Default');
    // The value is never written into the template.
    expect(text(template)).not.toContain('secret-ish-42');
  });

  it('names each function role as serverless-iam-roles-per-function does, for short and long stages and regions', () => {
    // Prepare: the plugin's own naming, over osls's default role name
    const require = createRequire(import.meta.url);
    const Plugin = require('serverless-iam-roles-per-function') as new (
      serverless: unknown,
    ) => { getFunctionRoleName(name: string): { 'Fn::Join': [string, unknown[]] } };
    const naming = require('osls/lib/plugins/aws/lib/naming.js') as { getRoleName(): unknown };
    const service = serverlessConfig(serviceManifest(parseConfig(FULL))).service;
    const named = (stage: string, region: string, functionName: string) => {
      const provider = { serverless: { service: { service, provider: {} } }, getStage: () => stage };
      const plugin = new Plugin({
        service: { provider: { name: 'aws', region }, custom: {} },
        providers: { aws: { naming: { getRoleName: () => naming.getRoleName.call({ provider }) } } },
      });
      const [separator, parts] = plugin.getFunctionRoleName(functionName)['Fn::Join'];
      return `arn:aws:iam::111122223333:role/${parts.map((part) => (typeof part === 'string' ? part : region)).join(separator)}`;
    };
    // Assess
    expect(service).toBe(SERVICE_NAME);
    for (const stage of ['dev', 'prod', 'production', 'x1234567890']) {
      for (const region of ['us-east-1', 'ap-southeast-2', 'us-gov-west-1']) {
        for (const functionName of CROSS_ACCOUNT) {
          const candidates = functionRoleArns(functionName).map((arn) =>
            arn['Fn::Sub']
              .replace(`\${AWS::Partition}`, 'aws')
              .replace(`\${ServiceAccountId}`, '111122223333')
              .replace(`\${Stage}`, stage)
              .replace(`\${ServiceRegion}`, region),
          );
          expect(candidates, `${stage} ${region} ${functionName}`).toContain(named(stage, region, functionName));
        }
      }
    }
  });
});

describe('the member role’s rights', () => {
  it('are, job by job, the function’s own manifest statements for the member account, and never more', () => {
    for (const document of [FULL, NAMED, JSON.parse(read(EXAMPLE)) as object]) {
      // Prepare
      const config = parseConfig(document);
      const manifest: Manifest = serviceManifest(config);
      const regions = config.targets?.regions ?? [];
      // Act
      const policies = policiesOf(memberRoleTemplate(config));
      // Assess
      expect(Object.keys(policies).sort()).toEqual(Object.keys(MEMBER_ROLE_JOBS).sort());
      for (const [job, statements] of Object.entries(policies) as [MemberRoleJob, MemberStatement[]][]) {
        const own: readonly IamStatement[] = manifest[MEMBER_ROLE_JOBS[job].function]?.iam ?? [];
        for (const statement of statements) {
          for (const action of statement.Action) {
            // Some statement of the function grants the action on every resource the member statement names,
            // under the same condition (less the region limit the member role adds).
            const granting = own.filter(
              (candidate) =>
                candidate.Action.includes(action) &&
                asList(statement.Resource).every((resource) =>
                  expand(candidate.Resource, regions).some((granted) => text(granted) === text(resource)),
                ),
            );
            expect(granting.length, `${job}: ${action} on ${text(statement.Resource)}`).toBeGreaterThan(0);
            const condition = structuredClone(statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
            const added = condition.StringEquals?.['aws:RequestedRegion'];
            const limitedByOwn = granting.some((candidate) =>
              text(candidate.Condition ?? {}).includes('aws:RequestedRegion'),
            );
            if (added !== undefined && !limitedByOwn) {
              expect(added, `${job}: ${action}`).toEqual(regions);
              delete condition.StringEquals?.['aws:RequestedRegion'];
              if (Object.keys(condition.StringEquals ?? {}).length === 0) delete condition.StringEquals;
            }
            expect(
              granting.map((candidate) =>
                text(
                  Object.fromEntries(
                    Object.entries(candidate.Condition ?? {}).map(([operator, keys]) => [
                      operator,
                      Object.fromEntries(
                        Object.entries(keys as Record<string, unknown>).map(([key, value]) => {
                          const values = expand(value, regions);
                          return [key, Array.isArray(value) || values.length > 1 ? values : values[0]];
                        }),
                      ),
                    ]),
                  ),
                ),
              ),
              `${job}: ${action}`,
            ).toContain(text(condition));
          }
        }
      }
    }
  });

  it('grant every ECR operation the gateway methods of each job’s workflow send (all features on)', async () => {
    // Prepare
    const operations = await gatewayOperations();
    const policies = policiesOf(templateFor(FULL));
    // Assess: every method sends something (else ARGS in gatewayOperations needs its arguments)
    for (const [method, sent] of operations) expect(sent.size, method).toBeGreaterThan(0);
    for (const [job, files] of Object.entries(WORKFLOW_FILES) as [keyof typeof WORKFLOW_FILES, string[]][]) {
      const methods = methodsNamedIn(files, operations.keys());
      expect(methods.length, job).toBeGreaterThan(0);
      const needed = [...new Set(methods.flatMap((method) => [...(operations.get(method) ?? [])]))].map(
        (operation) => `ecr:${operation}`,
      );
      const granted = actionsOf(policies[job]);
      expect(
        needed.filter((action) => !granted.includes(action)),
        `${job} calls ${methods.join(', ')}; not granted`,
      ).toEqual([]);
    }
  });

  it('name no wildcard action, `*` only for actions without resource-level permission, and only the config’s regions', () => {
    for (const document of [FULL, NAMED, JSON.parse(read(EXAMPLE)) as object]) {
      // Prepare
      const config = parseConfig(document);
      const regions = config.targets?.regions ?? [];
      // Act
      const template = memberRoleTemplate(config);
      // Assess
      expect(text(template)).not.toContain(`\${AWS::Region}`);
      for (const [job, statements] of Object.entries(policiesOf(template))) {
        for (const statement of statements) {
          for (const action of statement.Action) expect(action, job).not.toContain('*');
          if (asList(statement.Resource).includes('*')) {
            expect(
              statement.Action.filter((action) => !STAR_ACTIONS.has(action)),
              `${job}: ${text(statement)}`,
            ).toEqual([]);
            const regional = statement.Action.some((action) => /^(?:ecr|ecs|lambda):/.test(action));
            if (regional) expect(statement.Condition?.StringEquals?.['aws:RequestedRegion'], job).toEqual(regions);
          }
          for (const [arn, region] of text(statement).matchAll(
            /arn:\$\{AWS::Partition\}:(?:ecr|ecs|lambda):([^:]*):/g,
          )) {
            expect(regions, `${job}: ${arn}`).toContain(region);
          }
        }
      }
    }
  });

  it('take nothing that is not done in the member account: the bus, the target role, the queue, X-Ray, the Kubernetes list', () => {
    // Act
    const template = templateFor({
      ...FULL,
      cleanup: { ...FULL.cleanup, inUse: { ecs: {}, kubernetes: { s3: { bucket: 'lists', key: 'k8s.json' } } } },
    });
    const actions = Object.values(actionsByJob(template)).flat();
    // Assess
    expect(actions.filter((action) => /^(?:events|sqs|xray|s3|ssm):|^sts:AssumeRole$/.test(action))).toEqual([]);
    expect(actions.filter((action) => action.startsWith('iam:'))).toEqual(['iam:CreateServiceLinkedRole']);
    expect(actionsByJob(template).Reconcile).toContain('iam:CreateServiceLinkedRole');
  });

  it('delete and archive nothing when the cleanup is in dry run', () => {
    // Act
    const dry = actionsByJob(templateFor({ ...FULL, cleanup: { ...FULL.cleanup, dryRun: true } }));
    // Assess
    const all = Object.values(dry).flat();
    for (const action of ['ecr:BatchDeleteImage', 'ecr:UpdateImageStorageClass', 'ecr-public:BatchDeleteImage']) {
      expect(all).not.toContain(action);
    }
  });
});

describe('the member role’s least privilege, job by job', () => {
  /** The actions each job gains (+) and loses (-) from `base` to `changed`; the jobs that do not change are left out. */
  const difference = (base: object, changed: object) => {
    const before = actionsByJob(templateFor(base));
    const after = actionsByJob(templateFor(changed));
    const jobs = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return Object.fromEntries(
      jobs.flatMap((job) => {
        const gained = (after[job] ?? []).filter((action) => !(before[job] ?? []).includes(action));
        const lost = (before[job] ?? []).filter((action) => !(after[job] ?? []).includes(action));
        const changes = [...gained.map((action) => `+${action}`), ...lost.map((action) => `-${action}`)].sort();
        return changes.length === 0 ? [] : [[job, changes]];
      }),
    );
  };

  it('a cleanup in dry run loses exactly the worker’s deletes and archives', () => {
    // Assess
    expect(difference(FULL, { ...FULL, cleanup: { ...FULL.cleanup, dryRun: true } })).toEqual({
      CleanupWorker: ['-ecr-public:BatchDeleteImage', '-ecr:BatchDeleteImage', '-ecr:UpdateImageStorageClass'],
    });
  });

  it('archiving rules add exactly UpdateImageStorageClass to the worker', () => {
    // Prepare
    const deleting = { ...FULL, cleanup: { ...FULL.cleanup, rules: [{ repositories: ['**'] }] } };
    const archiving = { ...FULL, cleanup: { ...FULL.cleanup, rules: [{ repositories: ['**'], action: 'archive' }] } };
    // Assess
    expect(difference(deleting, archiving)).toEqual({ CleanupWorker: ['+ecr:UpdateImageStorageClass'] });
  });

  it('in-use providers add exactly their reads, and the worker’s read of its repository’s URI', () => {
    // Prepare
    const none = { ...FULL, cleanup: { ...FULL.cleanup, inUse: undefined } };
    const ecs = { ...FULL, cleanup: { ...FULL.cleanup, inUse: { ecs: {} } } };
    // Assess
    expect(difference(none, ecs)).toEqual({
      CleanupWorker: ['+ecr:DescribeRepositories'],
      InUseReads: [
        '+ecs:DescribeServices',
        '+ecs:DescribeTaskDefinition',
        '+ecs:DescribeTasks',
        '+ecs:ListClusters',
        '+ecs:ListServices',
        '+ecs:ListTasks',
      ],
    });
    expect(difference(ecs, FULL)).toEqual({
      InUseReads: [
        '+lambda:GetFunction',
        '+lambda:ListAliases',
        '+lambda:ListFunctions',
        '+lambda:ListVersionsByFunction',
      ],
    });
  });

  it('public cleanup rules add exactly the cleanup’s ECR Public rights', () => {
    // Prepare
    const privateOnly = { ...FULL, cleanup: { ...FULL.cleanup, rules: FULL.cleanup.rules.slice(0, 2) } };
    // Assess
    expect(difference(privateOnly, FULL)).toEqual({
      CleanupScanning: ['+ecr-public:DescribeRepositories'],
      CleanupWorker: [
        '+ecr-public:BatchDeleteImage',
        '+ecr-public:DescribeImages',
        '+ecr-public:DescribeRepositories',
        '+ecr-public:GetAuthorizationToken',
        '+sts:GetServiceBearerToken',
      ],
    });
  });

  it('compliance in report mode follows the function: no catalog data put on ECR Public, the private settings as granted', () => {
    // Prepare
    const report = {
      ...FULL,
      compliance: {
        defaults: { mode: 'report' },
        rules: FULL.compliance.rules,
        public: { defaults: { mode: 'report' }, rules: FULL.compliance.public.rules },
      },
    };
    const manifestActions = (document: object) =>
      actionsOf(
        serviceManifest(parseConfig(document)).scheduledCompliance.iam.filter(
          // The bus, the role itself and the organisation's listings are the service account's, not a member's
          (statement) =>
            !statement.Action.some(
              (action) =>
                action.startsWith('events:') || action.startsWith('sts:') || action.startsWith('organizations:'),
            ),
        ),
      );
    // Assess: the manifest grants compliance's private writes on every repository whatever the mode, and so does
    // the member role; the public ones only in enforce mode
    expect(difference(report, FULL)).toEqual({ Compliance: ['+ecr-public:PutRepositoryCatalogData'] });
    expect(actionsByJob(templateFor(report)).Compliance).toEqual(manifestActions(report));
    expect(actionsByJob(templateFor(FULL)).Compliance).toEqual(manifestActions(FULL));
  });

  it('the regions change where, never what', () => {
    // Act
    const other = { ...FULL, targets: { ...TARGETS, regions: ['us-east-1'] } };
    // Assess
    expect(difference(FULL, other)).toEqual({});
    expect(text(templateFor(other).Resources)).not.toContain('eu-west-1');
  });
});

describe('the member role’s generator refuses what it cannot carry into a member account', () => {
  const base = serviceManifest(parseConfig(FULL));

  it('a function that assumes the target role with no job to take its rights', () => {
    // Prepare
    const manifest: Manifest = { ...base, another: { ...base.reconcileRegistry } };
    // Act
    const attempt = () => memberRoleTemplate(parseConfig(FULL), { manifest });
    // Assess
    expect(attempt).toThrow(/another assume the target role but no member-role job/);
  });

  it('a statement on a resource of the service’s own stack', () => {
    // Prepare
    const ownStage: IamStatement = {
      Effect: 'Allow',
      Action: ['ecr:DescribeRepositories'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:ecr:\${AWS::Region}:\${AWS::AccountId}:repository/\${sls:stage}/*`,
      },
    };
    const manifest: Manifest = {
      ...base,
      scheduledCompliance: { ...base.scheduledCompliance, iam: [...base.scheduledCompliance.iam, ownStage] },
    };
    // Act
    const attempt = () => memberRoleTemplate(parseConfig(FULL), { manifest });
    // Assess
    expect(attempt).toThrow(/\$\{sls:stage\} is the service's own/);
  });
});

describe('the member role’s size', () => {
  it('is refused, with the sizes, when its policies would pass IAM’s limit for a role’s inline policies', () => {
    // Prepare
    const rules = Array.from({ length: 80 }, (_, index) => ({ repositories: [`team-${index}/**`] }));
    // Act
    const attempt = () =>
      templateFor({
        ...FULL,
        cleanup: { rules },
        targets: { ...TARGETS, regions: ['eu-west-1', 'eu-west-2', 'eu-west-3'] },
      });
    // Assess
    expect(attempt).toThrow(/policies take \d+ characters, more than IAM's 10240/);
  });

  it('stays within it for the example organisation config', () => {
    // Act
    const policies = memberRoleTemplate(exampleConfig()).Resources.MemberRole.Properties.Policies;
    // Assess
    expect(text(policies.map((policy) => policy.PolicyDocument)).replace(/\s/g, '').length).toBeLessThan(10_240);
  });
});

describe('npm run member-role', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (l: string) => err.push(l) } };
  };

  it('prints the template of the config it is given, or writes it to --out', () => {
    // Prepare
    const printed = io();
    const written = io();
    const dir = mkdtempSync(join(tmpdir(), 'member-role-'));
    try {
      // Act
      const printedCode = runMemberRole(['--config', resolve(ROOT, EXAMPLE)], printed.io);
      const writtenCode = runMemberRole(
        ['--config', resolve(ROOT, EXAMPLE), '--out', join(dir, 'role.json')],
        written.io,
      );
      // Assess
      expect(printedCode).toBe(0);
      expect(printed.out.join('')).toEqual(read(COMMITTED));
      expect(writtenCode).toBe(0);
      expect(readFileSync(join(dir, 'role.json'), 'utf8')).toEqual(read(COMMITTED));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails on the bundled config, which has no targets, and on a bad command line', () => {
    // Prepare
    const bundled = io();
    const bad = io();
    // Act
    const bundledCode = runMemberRole([], bundled.io);
    const badCode = runMemberRole(['--nope'], bad.io);
    // Assess
    expect(bundledCode).toBe(1);
    expect(bundled.err.join('\n')).toMatch(/no targets section/);
    expect(badCode).toBe(2);
    expect(bad.err.join('\n')).toMatch(/usage: npm run member-role/);
  });
});

/**
 * cfn-lint (Python, not an npm package) checks the templates against CloudFormation's resource specification when it
 * is on PATH (the CI machine's image has it). Without it this test fails, naming what is missing: it never passes, nor
 * is skipped, without having run.
 */
const cfnLint = (() => {
  const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0 ? probe.stdout.trim() : undefined;
})();

describe('cfn-lint', () => {
  if (cfnLint !== undefined) {
    it(`${cfnLint} finds no error or warning in the committed template and its variants`, { timeout: 120_000 }, () => {
      // Prepare
      const dir = mkdtempSync(join(tmpdir(), 'member-role-lint-'));
      const variants: Record<string, unknown> = {
        'committed.json': JSON.parse(read(COMMITTED)),
        'full.json': templateFor(FULL),
        'named-in-use.json': templateFor(NAMED),
        'external-id.json': templateFor({ ...FULL, targets: { ...TARGETS, externalId: 'x1' } }),
        'dry-run.json': templateFor({ ...FULL, cleanup: { ...FULL.cleanup, dryRun: true } }),
        'minimal.json': templateFor({ targets: { ...TARGETS, roleName: '/a/b/Member' } }),
      };
      try {
        for (const [name, template] of Object.entries(variants)) writeFileSync(join(dir, name), text(template));
        // Act
        const run = spawnSync(
          'cfn-lint',
          ['--format', 'json', ...Object.keys(variants).map((name) => join(dir, name))],
          {
            encoding: 'utf8',
          },
        );
        // Assess
        expect(run.error).toBeUndefined();
        const matches = JSON.parse(run.stdout || '[]') as { Level: string; Message: string; Filename: string }[];
        expect(matches.map((match) => `${match.Level} ${match.Filename}: ${match.Message}`)).toEqual([]);
        expect(run.status, run.stderr).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } else {
    it('cfn-lint is on PATH', () => {
      expect.fail('cfn-lint is not on PATH: install it (pip install cfn-lint) to validate the member-role template');
    });
  }
});
