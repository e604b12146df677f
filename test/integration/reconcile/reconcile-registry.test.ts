import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreatePullThroughCacheRuleCommand,
  CreateRepositoryCreationTemplateCommand,
  DescribePullThroughCacheRulesCommand,
  DescribeRegistryCommand,
  DescribeRepositoryCreationTemplatesCommand,
  type ECRClient,
  GetRegistryPolicyCommand,
  GetRegistryScanningConfigurationCommand,
  PutRegistryPolicyCommand,
  PutRegistryScanningConfigurationCommand,
  PutReplicationConfigurationCommand,
} from '@aws-sdk/client-ecr';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runRegistryCli } from '../../../cli/registry-commands.ts';
import { serviceRules } from '../../../local/service.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import type { ServiceConfig } from '../../../shared/config/schema.ts';
import { createEcrClient } from '../../../shared/ecr/index.ts';
import { type ReconcileReport, ReconcileReportSchema } from '../../../shared/reconcile/report.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { control, ecrClient, startTestRegistry, TEST_REGION } from '../../helpers/registry.ts';

const DOCKER_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub';
const EU = { region: 'eu-west-1', registryId: '123456789012' };
const US = { region: 'us-west-2', registryId: '123456789012' };

/** Every mutating ECR operation the reconciler could call. */
const MUTATING_REGISTRY_OPERATIONS = [
  'PutReplicationConfiguration',
  'CreatePullThroughCacheRule',
  'UpdatePullThroughCacheRule',
  'DeletePullThroughCacheRule',
  'CreateRepositoryCreationTemplate',
  'UpdateRepositoryCreationTemplate',
  'DeleteRepositoryCreationTemplate',
  'PutRegistryScanningConfiguration',
  'PutRegistryPolicy',
  'DeleteRegistryPolicy',
];

const LIFECYCLE = {
  rules: [
    {
      rulePriority: 1,
      description: 'expire untagged images after 14 days',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    },
  ],
};

const DESIRED = {
  registry: {
    replication: { rules: [{ destinations: [EU, US], repositoryFilters: ['team-a/'] }] },
    pullThroughCache: {
      prune: true,
      rules: [
        { prefix: 'ecr-public', upstreamRegistryUrl: 'public.ecr.aws' },
        { prefix: 'docker-hub', upstreamRegistryUrl: 'registry-1.docker.io', credentialArn: DOCKER_SECRET },
      ],
    },
    creationTemplates: {
      templates: [
        {
          prefix: 'team-a',
          appliedFor: ['CREATE_ON_PUSH', 'REPLICATION'],
          imageTagMutability: 'IMMUTABLE',
          lifecyclePolicy: LIFECYCLE,
          resourceTags: { team: 'a' },
        },
      ],
    },
    scanning: { scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['team-a/*'] }] },
  },
};

/** A registry that drifted from DESIRED in every section. */
async function drift(client: ECRClient): Promise<void> {
  await client.send(
    new PutReplicationConfigurationCommand({
      replicationConfiguration: {
        rules: [{ destinations: [EU], repositoryFilters: [{ filter: 'team-a/', filterType: 'PREFIX_MATCH' }] }],
      },
    }),
  );
  await client.send(
    new CreatePullThroughCacheRuleCommand({
      ecrRepositoryPrefix: 'docker-hub',
      upstreamRegistryUrl: 'registry-1.docker.io',
      credentialArn: `${DOCKER_SECRET}-old`,
    }),
  );
  await client.send(
    new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'stray', upstreamRegistryUrl: 'quay.io' }),
  );
  await client.send(
    new CreateRepositoryCreationTemplateCommand({
      prefix: 'team-a',
      appliedFor: ['CREATE_ON_PUSH'],
      imageTagMutability: 'MUTABLE',
    }),
  );
  await client.send(new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules: [] }));
}

const mutatingCalls = (operations: Record<string, number>) =>
  Object.fromEntries(MUTATING_REGISTRY_OPERATIONS.filter((op) => operations[op]).map((op) => [op, operations[op]]));

/** A registry policy statement letting one account replicate into this registry. */
const replicationFrom = (sid: string, account: string) => ({
  Sid: sid,
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${account}:root` },
  Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
  Resource: 'arn:aws:ecr:us-east-1:123456789012:repository/*',
});

/** The Sids of the registry's policy, in order (none when it has no policy). */
async function policySids(client: ECRClient): Promise<string[]> {
  const response = await client.send(new GetRegistryPolicyCommand({}));
  const document = JSON.parse(response.policyText ?? '{}') as { Statement?: { Sid?: string }[] };
  return (document.Statement ?? []).map((statement) => statement.Sid ?? '(none)');
}

describe('reconcile-registry through the handler and the local bus', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
    for (const rule of server.bus.listRules()) server.bus.removeRule(rule.name, rule.eventBusName);
  });
  afterEach(() => {
    server.bus.stopSchedules();
    expectPublishedEventsParse(server.bus.events);
  });

  const wire = (config: Readonly<ServiceConfig>, options: { dryRun?: boolean } = {}) => {
    for (const rule of serviceRules(server, { config, ...options })) server.bus.addRule(rule);
  };
  const reconcileNow = async (): Promise<ReconcileReport> => {
    const before = server.bus.events.length;
    await control(server, 'bus/fire', { rule: 'reconcile-registry' });
    await server.bus.drain();
    const reports = server.bus.events
      .slice(before)
      .filter((event) => event['detail-type'] === 'Registry Reconcile Report');
    expect(reports).toHaveLength(1);
    return ReconcileReportSchema.parse(reports[0]?.detail);
  };
  const calls = async () => (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;

  it('brings a drifted registry back to the config in one apply, and the next plan is empty', async () => {
    // Prepare
    await drift(client);
    wire(parseConfig(DESIRED));
    // Act
    const first = await reconcileNow();
    const second = await reconcileNow();
    // Assess
    expect(first.status).toBe('applied');
    expect(first.changes.map((c) => `${c.action} ${c.resource} ${c.key}`).sort()).toEqual(
      [
        'update replication-rule team-a/',
        'create pull-through-cache-rule ecr-public',
        'update pull-through-cache-rule docker-hub',
        'delete pull-through-cache-rule stray',
        'update creation-template team-a',
        'update registry-scanning registry',
      ].sort(),
    );
    expect(first.notApplied).toEqual([]);
    expect(second).toMatchObject({ status: 'in-sync', changes: [], applied: [] });
    const registry = await client.send(new DescribeRegistryCommand({}));
    expect(registry.replicationConfiguration?.rules?.[0]?.destinations).toEqual([EU, US]);
    const cache = await client.send(new DescribePullThroughCacheRulesCommand({}));
    expect(cache.pullThroughCacheRules?.map((r) => [r.ecrRepositoryPrefix, r.credentialArn]).sort()).toEqual([
      ['docker-hub', DOCKER_SECRET],
      ['ecr-public', undefined],
    ]);
    const templates = await client.send(new DescribeRepositoryCreationTemplatesCommand({}));
    expect(templates.repositoryCreationTemplates?.[0]).toMatchObject({
      prefix: 'team-a',
      imageTagMutability: 'IMMUTABLE',
      resourceTags: [{ Key: 'team', Value: 'a' }],
    });
    const scanning = await client.send(new GetRegistryScanningConfigurationCommand({}));
    expect(scanning.scanningConfiguration?.rules?.[0]?.repositoryFilters).toEqual([
      { filter: 'team-a/*', filterType: 'WILDCARD' },
    ]);
  });

  it('makes zero mutating calls in dry run, and reports the plan', async () => {
    // Prepare
    await drift(client);
    wire(parseConfig(DESIRED), { dryRun: true });
    const before = await calls();
    // Act
    const report = await reconcileNow();
    // Assess
    expect(report).toMatchObject({ status: 'planned', dryRun: true, applied: [] });
    expect(report.changes).toHaveLength(6);
    const after = await calls();
    expect(mutatingCalls(after)).toEqual(mutatingCalls(before));
    expect(after.DescribeRegistry).toBe((before.DescribeRegistry ?? 0) + 1);
  });

  it('reports what was and was not applied when one call fails, and the next run completes it', async () => {
    // Prepare
    await drift(client);
    wire(parseConfig(DESIRED));
    await control(server, 'faults', { operation: 'CreatePullThroughCacheRule', serverErrorRate: 1 });
    // Act
    const failed = await reconcileNow();
    await control(server, 'faults/clear', {});
    const completed = await reconcileNow();
    const settled = await reconcileNow();
    // Assess
    expect(failed.status).toBe('partial');
    expect(failed.notApplied).toEqual([
      {
        change: 'create pull-through-cache-rule ecr-public',
        error: expect.stringContaining('CreatePullThroughCacheRule'),
      },
    ]);
    expect(failed.applied).toEqual(
      expect.arrayContaining(['update replication-rule team-a/', 'update creation-template team-a']),
    );
    expect(failed.applied).toHaveLength(5);
    expect(completed).toMatchObject({ status: 'applied', applied: ['create pull-through-cache-rule ecr-public'] });
    expect(settled.status).toBe('in-sync');
  });

  it('plans the registry policy in dry run with zero mutating calls, then applies it', async () => {
    // Prepare
    const config = parseConfig({
      registry: { registryPolicy: { statements: [replicationFrom('TeamA', '111111111111')] } },
    });
    wire(config, { dryRun: true });
    const before = await calls();
    // Act
    const planned = await reconcileNow();
    const afterPlan = await calls();
    for (const rule of server.bus.listRules()) server.bus.removeRule(rule.name, rule.eventBusName);
    wire(config);
    const applied = await reconcileNow();
    // Assess
    expect(planned).toMatchObject({ status: 'planned', dryRun: true, applied: [] });
    expect(planned.changes.map((c) => `${c.action} ${c.resource} ${c.key}`)).toEqual([
      'create registry-policy-statement TeamA',
    ]);
    expect(mutatingCalls(afterPlan)).toEqual(mutatingCalls(before));
    expect(afterPlan.GetRegistryPolicy).toBe((before.GetRegistryPolicy ?? 0) + 1);
    expect(applied).toMatchObject({ status: 'applied', applied: ['create registry-policy-statement TeamA'] });
    expect(await policySids(client)).toEqual(['TeamA']);
  });

  it('leaves registry scanning as it is when the config has no scanning section', async () => {
    // Prepare
    await client.send(
      new PutRegistryScanningConfigurationCommand({
        scanType: 'BASIC',
        rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }],
      }),
    );
    const { scanning: _removed, ...withoutScanning } = DESIRED.registry;
    wire(parseConfig({ registry: withoutScanning }));
    // Act
    const report = await reconcileNow();
    // Assess
    expect(report.changes.some((change) => change.resource === 'registry-scanning')).toBe(false);
    const scanning = await client.send(new GetRegistryScanningConfigurationCommand({}));
    expect(scanning.scanningConfiguration?.rules?.[0]?.repositoryFilters).toEqual([
      { filter: '*', filterType: 'WILDCARD' },
    ]);
  });
});

describe('npm run registry:reconcile (plan and apply)', () => {
  let server: RegistryServer;
  let directory: string;

  beforeAll(async () => {
    server = await startTestRegistry();
    directory = mkdtempSync(join(tmpdir(), 'registry-cli-'));
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => expectPublishedEventsParse(server.bus.events));
  beforeEach(() => {
    server.reset();
  });

  const writeConfig = (name: string, document: unknown) => {
    const path = join(directory, name);
    writeFileSync(path, JSON.stringify(document));
    return path;
  };
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runRegistryCli([...argv, '--endpoint-url', server.url, '--region', TEST_REGION], {
      env: {},
      stdout: (line) => out.push(line),
      stderr: (line) => err.push(line),
      connect: (options) =>
        createEcrClient({
          ...options,
          credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'x' },
          maxAttempts: 1,
        }),
    });
    return { code, out, err };
  };

  it("applies two teams' files so that both teams' replication rules are present", async () => {
    // Prepare
    const teamA = writeConfig('team-a.json', {
      registry: { replication: { rules: [{ destinations: [EU], repositoryFilters: ['team-a/'] }] } },
    });
    const teamB = writeConfig('team-b.json', {
      registry: { replication: { rules: [{ destinations: [US], repositoryFilters: ['team-b/'] }] } },
    });
    // Act
    const planned = await cli('plan', '--config', teamA, '--config', teamB);
    const applied = await cli('apply', '--config', teamA, '--config', teamB);
    const replanned = await cli('plan', '--config', teamA, '--config', teamB);
    // Assess
    expect(planned.code).toBe(2);
    expect(planned.out).toContain('+ create replication-rule team-a/');
    expect(planned.out).toContain('+ create replication-rule team-b/');
    expect(applied.code).toBe(0);
    expect(replanned).toMatchObject({ code: 0, out: ['No changes: the registry matches the config.'] });
    const registry = await ecrClient(server).send(new DescribeRegistryCommand({}));
    expect(registry.replicationConfiguration?.rules).toEqual([
      { destinations: [EU], repositoryFilters: [{ filter: 'team-a/', filterType: 'PREFIX_MATCH' }] },
      { destinations: [US], repositoryFilters: [{ filter: 'team-b/', filterType: 'PREFIX_MATCH' }] },
    ]);
  });

  it("applies two teams' registry policy statements next to another owner's, and the next plan is empty", async () => {
    // Prepare
    const client = ecrClient(server);
    await client.send(
      new PutRegistryPolicyCommand({
        policyText: JSON.stringify({ Version: '2012-10-17', Statement: [replicationFrom('Platform', '999999999999')] }),
      }),
    );
    const teamA = writeConfig('policy-a.json', {
      registry: { registryPolicy: { statements: [replicationFrom('TeamA', '111111111111')] } },
    });
    const teamB = writeConfig('policy-b.json', {
      registry: { registryPolicy: { statements: [replicationFrom('TeamB', '222222222222')] } },
    });
    const mutating = async () =>
      mutatingCalls((await control<{ operations: Record<string, number> }>(server, 'calls')).operations);
    // Act
    const planned = await cli('plan', '--config', teamA, '--config', teamB);
    const mutatedByPlan = await mutating();
    const applied = await cli('apply', '--config', teamA, '--config', teamB);
    const replanned = await cli('plan', '--config', teamA, '--config', teamB);
    // Assess
    expect(planned.code).toBe(2);
    expect(planned.out).toEqual([
      '+ create registry-policy-statement TeamA',
      '    Effect: (none) → "Allow"',
      '    Principal: (none) → {"AWS":"arn:aws:iam::111111111111:root"}',
      '    Action: (none) → ["ecr:CreateRepository", "ecr:ReplicateImage"]',
      '    Resource: (none) → "arn:aws:ecr:us-east-1:123456789012:repository/*"',
      '+ create registry-policy-statement TeamB',
      '    Effect: (none) → "Allow"',
      '    Principal: (none) → {"AWS":"arn:aws:iam::222222222222:root"}',
      '    Action: (none) → ["ecr:CreateRepository", "ecr:ReplicateImage"]',
      '    Resource: (none) → "arn:aws:ecr:us-east-1:123456789012:repository/*"',
      '(left alone, not in the config and not pruned: registry-policy-statement Platform)',
      'Plan: 2 to create, 0 to update, 0 to replace, 0 to delete.',
    ]);
    expect(mutatedByPlan).toEqual({ PutRegistryPolicy: 1 });
    expect(applied.code).toBe(0);
    expect(await mutating()).toEqual({ PutRegistryPolicy: 2 });
    expect(await policySids(client)).toEqual(['Platform', 'TeamA', 'TeamB']);
    expect(replanned.code).toBe(0);
    expect(replanned.out.at(-1)).toBe('No changes: the registry matches the config.');
  });

  it('deletes the registry policy when the config prunes it and declares no statement', async () => {
    // Prepare
    const client = ecrClient(server);
    await client.send(
      new PutRegistryPolicyCommand({
        policyText: JSON.stringify({ Version: '2012-10-17', Statement: [replicationFrom('Stray', '999999999999')] }),
      }),
    );
    const owner = writeConfig('policy-owner.json', { registry: { registryPolicy: { prune: true, statements: [] } } });
    // Act
    const applied = await cli('apply', '--config', owner);
    const replanned = await cli('plan', '--config', owner);
    // Assess
    expect(applied.out).toContain('applied: delete registry-policy-statement Stray');
    await expect(client.send(new GetRegistryPolicyCommand({}))).rejects.toMatchObject({
      name: 'RegistryPolicyNotFoundException',
    });
    expect(replanned).toMatchObject({ code: 0, out: ['No changes: the registry matches the config.'] });
  });

  it('refuses a registry policy over 10,240 characters before any call, naming its size', async () => {
    // Prepare
    const big = {
      ...replicationFrom('Huge', '111111111111'),
      Resource: Array.from({ length: 200 }, (_, i) => `arn:aws:ecr:us-east-1:123456789012:repository/team-${i}`),
    };
    const oversized = writeConfig('policy-big.json', { registry: { registryPolicy: { statements: [big] } } });
    // Act
    const result = await cli('apply', '--config', oversized);
    // Assess
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toMatch(
      /Config error, nothing was changed: .*registry.registryPolicy.statements: the registry policy would be 1\d,\d{3} characters, ECR allows at most 10,240/,
    );
    expect((await control<{ total: number }>(server, 'calls')).total).toBe(0);
  });

  it('changes nothing, and calls nothing, for an invalid config', async () => {
    // Prepare
    const bad = writeConfig('bad.json', {
      registry: { pullThroughCache: { rules: [{ prefix: 'docker-hub', upstreamRegistryUrl: 'docker.io' }] } },
    });
    // Act
    const result = await cli('apply', '--config', bad);
    // Assess
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toMatch(
      /Config error, nothing was changed: .*registry.pullThroughCache.rules\[0\].upstreamRegistryUrl: 'docker.io' is not an upstream/,
    );
    expect((await control<{ total: number }>(server, 'calls')).total).toBe(0);
  });

  it('names both files when two teams declare the same rule differently, and changes nothing', async () => {
    // Prepare
    const one = writeConfig('one.json', {
      registry: { replication: { rules: [{ destinations: [EU], repositoryFilters: ['shared/'] }] } },
    });
    const two = writeConfig('two.json', {
      registry: { replication: { rules: [{ destinations: [US], repositoryFilters: ['shared/'] }] } },
    });
    // Act
    const result = await cli('apply', '--config', one, '--config', two);
    // Assess
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toContain(`replication rule shared/ is declared differently in ${one} and in ${two}`);
    expect((await control<{ total: number }>(server, 'calls')).total).toBe(0);
  });
});
