import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import config from '../../../serverless.ts';
import {
  enforcedRepositoryGlobs,
  globToIamPattern,
  repositoryArnsFor,
  serviceManifest,
} from '../../../service/manifest.ts';
import type { FunctionWithRole } from '../../../service/serverless-config.ts';
import { loadServiceConfig } from '../../../shared/config/file.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { FUNCTION_ENV, type FunctionName, parseFunctionEnv, requiredVariables } from '../../../shared/runtime/env.ts';
import { expectDeploysManifest, RULE_DLQ, roleId, v, XRAY_ACTIONS } from '../../helpers/deploy.ts';

const fn = (name: string) => config.functions?.[name] as FunctionWithRole;
/** The manifest serverless.ts deploys: the bundled config's. */
const manifest = serviceManifest(loadServiceConfig({}));
const triggerCount = Object.values(manifest).reduce((sum, spec) => sum + spec.triggers.length, 0);
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation resources are free-form JSON
type Resource = { Type: string; DependsOn?: string[]; Properties: Record<string, any> };
const resources = config.resources?.Resources as Record<string, Resource>;
const statementsWith = (name: string, action: string) =>
  (fn(name).iamRoleStatements ?? []).filter((statement) => [statement.Action].flat().includes(action));
const repositoryArn = (pattern: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ecr:\${AWS::Region}:\${AWS::AccountId}:repository/${pattern}`,
});

const actionsOf = (name: string) =>
  (fn(name).iamRoleStatements ?? []).flatMap((statement) =>
    [statement.Action ?? []].flat().map((action) => ({ action: String(action), resource: statement.Resource })),
  );

describe('serverless.ts: the manifest', () => {
  it('deploys every function of the manifest as it declares it (triggers, limits, environment, roles, tracing)', () => {
    // Act / Assess
    expect(expectDeploysManifest(config, manifest)).toEqual(Object.keys(FUNCTION_ENV));
  });
});

describe('serverless.ts: onImagePush', () => {
  it('may call only the ECR actions the handler calls (see the unit test of its calls), and publish its verdict', () => {
    // Act
    const actions = actionsOf('onImagePush');
    // Assess
    expect(
      actions
        .filter((entry) => entry.action.startsWith('ecr:'))
        .map((entry) => entry.action)
        .sort(),
    ).toEqual(
      [
        'ecr:BatchDeleteImage',
        'ecr:DescribeImages',
        'ecr:DescribeRepositories',
        'ecr:GetRegistryScanningConfiguration',
        'ecr:PutImageTagMutability',
        'ecr:StartImageScan',
      ].sort(),
    );
    // Of ECR's actions, only the registry-level read is granted on every resource (X-Ray's writes name none either).
    expect(
      actions.filter((entry) => entry.resource === '*' && entry.action.startsWith('ecr:')).map((entry) => entry.action),
    ).toEqual(['ecr:GetRegistryScanningConfiguration']);
    expect(actions.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['events:PutEvents', 'sqs:SendMessage']),
    );
    expect(actions.some((entry) => entry.action.includes('*'))).toBe(false);
  });

  it('sends failed invocations to the dead-letter queue, like the other functions', () => {
    // Assess
    expect(fn('onImagePush')).toMatchObject({
      handler: 'functions/on-image-push/handler.handler',
      destinations: fn('cleanupRepository').destinations,
      maximumRetryAttempts: 2,
      environment: { EVENT_BUS_NAME: expect.stringContaining('ecr-automation-') },
    });
  });
});

describe('serverless.ts: onScanResult', () => {
  it('may call only the ECR actions its gateway methods send, on repositories only, and publish its verdict', () => {
    // Act
    const actions = actionsOf('onScanResult');
    // Assess
    expect(
      actions
        .filter((entry) => entry.action.startsWith('ecr:'))
        .map((entry) => entry.action)
        .sort(),
    ).toEqual(
      [
        'ecr:BatchDeleteImage',
        'ecr:BatchGetImage',
        'ecr:DescribeImageScanFindings',
        'ecr:DescribeImages',
        'ecr:PutImage',
      ].sort(),
    );
    expect(actions.filter((entry) => entry.resource === '*' && !entry.action.startsWith('xray:'))).toEqual([]);
    expect(actions.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['events:PutEvents', 'sqs:SendMessage']),
    );
    expect(fn('onScanResult')).toMatchObject({
      handler: 'functions/on-scan-result/handler.handler',
      destinations: fn('cleanupRepository').destinations,
      maximumRetryAttempts: 2,
    });
  });
});

describe('serverless.ts: allowListReport', () => {
  it('may only publish its report, and trace (no ECR access)', () => {
    // Act
    const actions = actionsOf('allowListReport').map((entry) => entry.action);
    // Assess
    expect(actions.sort()).toEqual(['events:PutEvents', 'sqs:SendMessage', ...XRAY_ACTIONS].sort());
  });
});

describe('serverless.ts: scheduledCompliance and reconcileRegistry', () => {
  it('runs both on a schedule only, one reconcile at a time', () => {
    // Assess
    for (const name of ['scheduledCompliance', 'reconcileRegistry']) {
      expect(fn(name).events?.every((event) => 'eventBridge' in event && 'schedule' in event.eventBridge)).toBe(true);
    }
    expect(fn('reconcileRegistry').reservedConcurrency).toBe(1);
  });

  it('lets compliance call only its reads and fixes on repositories, and the scanning read on the registry', () => {
    // Act
    const actions = actionsOf('scheduledCompliance').filter((entry) => entry.action.startsWith('ecr:'));
    // Assess
    expect(
      actions
        .filter((entry) => entry.resource !== '*')
        .map((entry) => entry.action)
        .sort(),
    ).toEqual(
      [
        'ecr:DeleteLifecyclePolicy',
        'ecr:DescribeRepositories',
        'ecr:GetLifecyclePolicy',
        'ecr:GetRepositoryPolicy',
        'ecr:ListTagsForResource',
        'ecr:PutImageScanningConfiguration',
        'ecr:PutImageTagMutability',
        'ecr:PutLifecyclePolicy',
        'ecr:TagResource',
      ].sort(),
    );
    expect(actions.filter((entry) => entry.resource === '*').map((entry) => entry.action)).toEqual([
      'ecr:GetRegistryScanningConfiguration',
    ]);
    // Never the repository policy or the repository itself: compliance reports those.
    expect(actions.map((entry) => entry.action)).not.toContain('ecr:SetRepositoryPolicy');
  });

  it('gives compliance no ECR Public access without public rules', () => {
    // Prepare
    const privateOnly = serviceManifest(parseConfig({ compliance: { rules: [{ repositories: ['**'] }] } }));
    // Assess
    const actions = privateOnly.scheduledCompliance.iam.flatMap((statement) => statement.Action);
    expect(actions.filter((action) => action.startsWith('ecr-public:'))).toEqual([]);
    expect(actions).toContain('ecr:DescribeRepositories');
  });

  it('lets compliance read every public repository and put catalog data only where enforce-mode public rules match', () => {
    // Prepare
    const withPublic = (publicSection: object, dryRun = false) =>
      serviceManifest(parseConfig({ compliance: { dryRun, public: publicSection } })).scheduledCompliance.iam.filter(
        (statement) => statement.Action.some((action) => action.startsWith('ecr-public:')),
      );
    const publicArn = (pattern: string) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:ecr-public::\${AWS::AccountId}:repository/${pattern}`,
    });
    const inUsEast1 = { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } };
    const reads = {
      Effect: 'Allow',
      Action: [
        'ecr-public:DescribeRepositories',
        'ecr-public:GetRepositoryCatalogData',
        'ecr-public:GetRepositoryPolicy',
      ],
      Resource: publicArn('*'),
      Condition: inUsEast1,
    };
    // Act
    const enforced = withPublic({
      rules: [
        { repositories: ['tools/**', 'cli'], mode: 'enforce' },
        { repositories: ['off/*'], mode: 'enforce', enabled: false },
        { repositories: ['**'] },
      ],
    });
    const byDefault = withPublic({ defaults: { mode: 'enforce' }, rules: [{ repositories: ['**'] }] });
    const reportOnly = withPublic({ rules: [{ repositories: ['**'] }] });
    const dryRun = withPublic({ rules: [{ repositories: ['**'], mode: 'enforce' }] }, true);
    // Assess
    expect(enforced).toEqual([
      reads,
      {
        Effect: 'Allow',
        Action: ['ecr-public:PutRepositoryCatalogData'],
        Resource: [publicArn('cli'), publicArn('tools/*')],
        Condition: inUsEast1,
      },
    ]);
    expect(byDefault[1]?.Resource).toEqual([publicArn('*')]);
    expect(reportOnly).toEqual([reads]);
    expect(dryRun).toEqual([reads]);
  });

  it('lets the reconciler call only the registry-settings actions the gateway uses for it', () => {
    // Act
    const actions = actionsOf('reconcileRegistry');
    // Assess
    expect(
      actions
        .filter((entry) => entry.action.startsWith('ecr:'))
        .map((entry) => entry.action)
        .sort(),
    ).toEqual(
      [
        'ecr:CreatePullThroughCacheRule',
        'ecr:CreateRepositoryCreationTemplate',
        'ecr:DeletePullThroughCacheRule',
        'ecr:DeleteRepositoryCreationTemplate',
        'ecr:DescribePullThroughCacheRules',
        'ecr:DescribeRegistry',
        'ecr:DescribeRepositoryCreationTemplates',
        'ecr:GetRegistryScanningConfiguration',
        'ecr:PutRegistryScanningConfiguration',
        'ecr:GetRegistryPolicy',
        'ecr:PutRegistryPolicy',
        'ecr:DeleteRegistryPolicy',
        'ecr:PutReplicationConfiguration',
        'ecr:UpdatePullThroughCacheRule',
        'ecr:UpdateRepositoryCreationTemplate',
      ].sort(),
    );
    expect(actions.some((entry) => entry.action.includes('*'))).toBe(false);
    const linkedRole = (fn('reconcileRegistry').iamRoleStatements ?? []).find((statement) =>
      [statement.Action].flat().includes('iam:CreateServiceLinkedRole'),
    );
    expect(linkedRole?.Condition).toEqual({ StringEquals: { 'iam:AWSServiceName': 'replication.ecr.amazonaws.com' } });
  });
});

describe('serverless.ts: function environments', () => {
  const names = Object.keys(config.functions ?? {});

  it('has an environment schema for every function, and a function for every schema', () => {
    // Assess
    expect(names.sort()).toEqual(Object.keys(FUNCTION_ENV).sort());
  });

  it("sets every variable a function's schema requires, and only variables its schema knows", () => {
    for (const name of names as FunctionName[]) {
      // Act
      const environment = fn(name).environment ?? {};
      // Assess
      for (const variable of requiredVariables(name))
        expect(environment, `${name}: ${variable}`).toHaveProperty(variable);
      for (const variable of Object.keys(environment)) {
        expect(Object.keys(FUNCTION_ENV[name].shape), `${name}: ${variable}`).toContain(variable);
      }
    }
  });

  it('sets values the schemas accept (osls variables resolved as for the dev stage)', () => {
    for (const name of names as FunctionName[]) {
      // Arrange: literal values only; a CloudFormation function (the worker role's ARN) resolves at deploy time.
      const environment = Object.fromEntries(
        Object.entries(fn(name).environment ?? {})
          .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
          .map(([variable, value]) => [variable, value.replaceAll(v('sls:stage'), 'dev')]),
      );
      // Act / Assess
      expect(() => parseFunctionEnv(name, environment), name).not.toThrow();
    }
    expect(fn('scheduledCleanup').environment?.WORKER_PRINCIPAL_ARN).toEqual({
      'Fn::GetAtt': ['CleanupRepositoryIamRoleLambdaExecution', 'Arn'],
    });
  });
});

describe('serverless.ts: least privilege and delivery safety', () => {
  it('reserves a configurable concurrency for the ECR-event handlers (default 10)', () => {
    // Assess
    expect(fn('onImagePush').reservedConcurrency).toBe(v('param:onImagePushConcurrency, 10'));
    expect(fn('onScanResult').reservedConcurrency).toBe(v('param:onScanResultConcurrency, 10'));
  });

  it('grants the mutating push and scan actions only on the repositories enforce-mode rules of the config match', () => {
    // Assess: the bundled config enforces push and scan policies on payments/** only.
    for (const [name, action] of [
      ['onScanResult', 'ecr:PutImage'],
      ['onScanResult', 'ecr:BatchDeleteImage'],
      ['onImagePush', 'ecr:BatchDeleteImage'],
      ['onImagePush', 'ecr:PutImageTagMutability'],
    ] as const) {
      expect(statementsWith(name, action).map((statement) => statement.Resource)).toEqual([
        [repositoryArn('payments/*')],
      ]);
    }
    // The reads and the basic scan stay on every repository.
    expect(statementsWith('onImagePush', 'ecr:StartImageScan').map((statement) => statement.Resource)).toEqual([
      repositoryArn('*'),
    ]);
  });

  it('gives the cleanup functions no ECR Public right when no cleanup rule is for ECR Public', () => {
    // Prepare
    const privateOnly = serviceManifest(parseConfig({ cleanup: { rules: [{ repositories: ['**'] }] } }));
    // Assess
    for (const name of ['scheduledCleanup', 'cleanupRepository'] as const) {
      const actions = privateOnly[name].iam.flatMap((statement) => statement.Action);
      expect(actions.filter((action) => /^(ecr-public|sts):/.test(action))).toEqual([]);
      expect(actions.some((action) => action.startsWith('ecr:'))).toBe(true);
    }
  });

  it('grants the cleanup functions only the ECR Public actions they call, in us-east-1, deletes on enforced rules only', () => {
    // Prepare
    const publicArn = (pattern: string) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:ecr-public::\${AWS::AccountId}:repository/${pattern}`,
    });
    const cleanup = (dryRun: boolean) =>
      serviceManifest(
        parseConfig({
          cleanup: {
            dryRun,
            rules: [
              { repositories: ['payments/**'] },
              { registry: 'public', repositories: ['tools/**', 'cli'] },
              { registry: 'public', repositories: ['off/**'], enabled: false },
            ],
          },
        }),
      );
    const publicStatements = (manifest: ReturnType<typeof cleanup>, name: 'scheduledCleanup' | 'cleanupRepository') =>
      manifest[name].iam.filter((statement) => statement.Action.some((action) => /^(ecr-public|sts):/.test(action)));
    const region = { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } };
    // Act
    const enforced = cleanup(false);
    const dry = cleanup(true);
    // Assess
    expect(publicStatements(enforced, 'scheduledCleanup')).toEqual([
      { Effect: 'Allow', Action: ['ecr-public:DescribeRepositories'], Resource: publicArn('*'), Condition: region },
    ]);
    const worker = publicStatements(enforced, 'cleanupRepository');
    expect(worker).toEqual([
      {
        Effect: 'Allow',
        Action: ['ecr-public:DescribeRepositories', 'ecr-public:DescribeImages'],
        Resource: [publicArn('cli'), publicArn('tools/*')],
        Condition: region,
      },
      {
        Effect: 'Allow',
        Action: ['ecr-public:BatchDeleteImage'],
        Resource: [publicArn('cli'), publicArn('tools/*')],
        Condition: region,
      },
      { Effect: 'Allow', Action: ['ecr-public:GetAuthorizationToken'], Resource: '*', Condition: region },
      {
        Effect: 'Allow',
        Action: ['sts:GetServiceBearerToken'],
        Resource: '*',
        Condition: { StringEquals: { 'sts:AWSServiceName': 'ecr-public.amazonaws.com' } },
      },
    ]);
    // A dry-run cleanup may read, never delete.
    const dryActions = publicStatements(dry, 'cleanupRepository').flatMap((statement) => statement.Action);
    expect(dryActions).not.toContain('ecr-public:BatchDeleteImage');
    expect(dryActions).toContain('ecr-public:DescribeImages');
  });

  it('derives IAM repository patterns from the rules globs, repository/* only when a rule matches everything', () => {
    // Prepare
    const config = parseConfig({
      scan: {
        defaults: { mode: 'enforce' },
        rules: [
          { repositories: ['team-a/**', 'team-b/*/api'] },
          { repositories: ['legacy/**'], mode: 'report' },
          { repositories: ['off/**'], enabled: false },
          { repositories: ['a/**/b', 'x?y'] },
        ],
      },
    });
    const everything = parseConfig({ scan: { rules: [{ repositories: ['**'], mode: 'enforce' }] } });
    const dry = parseConfig({ scan: { dryRun: true, rules: [{ repositories: ['**'], mode: 'enforce' }] } });
    // Act
    const globs = enforcedRepositoryGlobs(config.scan, 'report');
    // Assess
    expect(globs).toEqual(['team-a/**', 'team-b/*/api', 'a/**/b', 'x?y']);
    expect(globs.map(globToIamPattern)).toEqual(['team-a/*', 'team-b/*/api', 'a/*b', 'x?y']);
    expect(repositoryArnsFor(globs)).toEqual(
      ['a/*b', 'team-a/*', 'team-b/*/api', 'x?y'].map((pattern) => repositoryArn(pattern)),
    );
    expect(repositoryArnsFor(enforcedRepositoryGlobs(everything.scan, 'report'))).toEqual([repositoryArn('*')]);
    expect(enforcedRepositoryGlobs(dry.scan, 'report')).toEqual([]);
  });

  it('gives every EventBridge rule target a dead-letter queue that EventBridge may send to', () => {
    // Act
    const events = Object.values(config.functions ?? {}).flatMap((f) => f.events ?? []);
    // Assess
    expect(events.length).toBe(triggerCount);
    for (const event of events) {
      expect(event).toEqual({ eventBridge: expect.objectContaining({ deadLetterQueueArn: RULE_DLQ }) });
    }
    expect(resources.RuleDeliveryFailuresQueue?.Type).toBe('AWS::SQS::Queue');
    const policy = resources.RuleDeliveryFailuresQueuePolicy;
    expect(policy?.Type).toBe('AWS::SQS::QueuePolicy');
    expect(policy?.Properties.Queues).toEqual([{ Ref: 'RuleDeliveryFailuresQueue' }]);
    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: RULE_DLQ,
        Condition: { ArnLike: { 'aws:SourceArn': expect.anything() } },
      }),
    ]);
  });

  it("lets only the service's own function roles put events on its bus", () => {
    // Prepare
    const roles = Object.keys(config.functions ?? {}).map((name) => ({
      'Fn::GetAtt': [`${name[0]?.toUpperCase()}${name.slice(1)}IamRoleLambdaExecution`, 'Arn'],
    }));
    const busArn = {
      'Fn::Sub': `arn:${v('AWS::Partition')}:events:${v('AWS::Region')}:${v('AWS::AccountId')}:event-bus/ecr-automation-${v('sls:stage')}`,
    };
    // Act
    const allow = resources.ServiceEventBusPublishers;
    const deny = resources.ServiceEventBusOthersDenied;
    // Assess
    expect(allow).toMatchObject({
      Type: 'AWS::Events::EventBusPolicy',
      DependsOn: [`EcrDashautomationDash${v('sls:stage')}EventBridgeEventBus`],
      Properties: {
        EventBusName: `ecr-automation-${v('sls:stage')}`,
        Statement: { Effect: 'Allow', Principal: { AWS: roles }, Action: 'events:PutEvents', Resource: busArn },
      },
    });
    expect(deny).toMatchObject({
      Type: 'AWS::Events::EventBusPolicy',
      Properties: {
        EventBusName: `ecr-automation-${v('sls:stage')}`,
        Statement: {
          Effect: 'Deny',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: busArn,
          Condition: { ArnNotEquals: { 'aws:PrincipalArn': roles } },
        },
      },
    });
  });

  it('drops the unused default role after the per-function roles are made, and refuses while one still uses it', () => {
    // Prepare
    const Plugin = createRequire(import.meta.url)('../../../deploy/drop-unused-default-role.cjs');
    const serverlessWith = (resources: Record<string, unknown>) => ({
      getProvider: () => ({ naming: { getRoleLogicalId: () => 'IamRoleLambdaExecution' } }),
      service: { provider: { compiledCloudFormationTemplate: { Resources: resources } } },
    });
    const unused = serverlessWith({
      IamRoleLambdaExecution: { Type: 'AWS::IAM::Role' },
      FnLambdaFunction: { Properties: { Role: { 'Fn::GetAtt': ['FnIamRoleLambdaExecution', 'Arn'] } } },
    });
    const used = serverlessWith({
      IamRoleLambdaExecution: { Type: 'AWS::IAM::Role' },
      FnLambdaFunction: { Properties: { Role: { 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] } } },
    });
    // Act
    new Plugin(unused).hooks['before:package:finalize']();
    const refused = () => new Plugin(used).hooks['before:package:finalize']();
    // Assess
    expect(config.plugins).toEqual([
      'serverless-esbuild',
      'serverless-iam-roles-per-function',
      './deploy/drop-unused-default-role.cjs',
    ]);
    expect(Object.keys(unused.service.provider.compiledCloudFormationTemplate.Resources)).toEqual(['FnLambdaFunction']);
    expect(refused).toThrow(/IamRoleLambdaExecution is still referred to/);
  });

  // The packaged template, when `npm run package` ran after the last change of serverless.ts.
  const TEMPLATE = '.serverless/cloudformation-template-update-stack.json';
  const SOURCES = ['serverless.ts', 'service/manifest.ts', 'service/serverless-config.ts'];
  const packaged =
    existsSync(TEMPLATE) && SOURCES.every((source) => statSync(TEMPLATE).mtimeMs >= statSync(source).mtimeMs);
  // CI packages before it tests (`.ci/run` sets CI=true), so there the template must be there and fresh.
  it.runIf(packaged || process.env.CI === 'true')(
    'packages to a template with no default role, reserved concurrency, rule DLQs and X-Ray tracing',
    () => {
      expect(packaged, `${TEMPLATE} missing or older than serverless.ts: run npm run package first`).toBe(true);
      // Act
      const template = JSON.parse(readFileSync(TEMPLATE, 'utf8')) as { Resources: Record<string, Resource> };
      // Assess
      expect(template.Resources).not.toHaveProperty('IamRoleLambdaExecution');
      expect(JSON.stringify(template)).not.toContain('"IamRoleLambdaExecution"');
      expect(template.Resources.OnImagePushLambdaFunction?.Properties.ReservedConcurrentExecutions).toBe(10);
      expect(template.Resources.OnScanResultLambdaFunction?.Properties.ReservedConcurrentExecutions).toBe(10);
      const rules = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Events::Rule');
      expect(rules).toHaveLength(triggerCount);
      for (const rule of rules) {
        expect(rule.Properties.Targets).toEqual([expect.objectContaining({ DeadLetterConfig: { Arn: RULE_DLQ } })]);
      }
      for (const name of Object.keys(manifest)) {
        const lambda = template.Resources[`${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`];
        expect(lambda?.Properties.TracingConfig, name).toEqual({ Mode: 'Active' });
        // Each function's own role: osls grants X-Ray to the default role only, so the manifest grants it.
        const role = template.Resources[roleId(name)];
        const statements: { Action: string | string[] }[] = role?.Properties.Policies[0].PolicyDocument.Statement;
        expect(
          statements.flatMap((statement) => [statement.Action].flat()),
          name,
        ).toEqual(expect.arrayContaining(XRAY_ACTIONS));
      }
      const busPolicy = template.Resources.ServiceEventBusPublishers;
      expect(busPolicy?.DependsOn?.every((id) => id in template.Resources)).toBe(true);
    },
  );
});
