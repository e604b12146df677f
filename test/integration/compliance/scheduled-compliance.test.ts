import {
  DescribeRepositoriesCommand,
  type ECRClient,
  GetLifecyclePolicyCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-ecr';
import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { serviceRules } from '../../../local/service.ts';
import {
  type ComplianceReport,
  ComplianceReportSchema,
  RepositoryComplianceSchema,
} from '../../../shared/compliance/report.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import type { ServiceConfig } from '../../../shared/config/schema.ts';
import { MUTATING_ECR_OPERATIONS } from '../../helpers/cleanup.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { control, ecrClient, failureOf, startTestRegistry, TEST_ACCOUNT } from '../../helpers/registry.ts';

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
const policy = (principal: unknown) => ({
  Version: '2012-10-17',
  Statement: [{ Sid: 'Pull', Effect: 'Allow', Principal: principal, Action: ['ecr:BatchGetImage'] }],
});

const FIXTURE: Fixture = {
  repositories: [
    {
      name: 'good/app',
      imageTagMutability: 'IMMUTABLE',
      scanOnPush: true,
      encryptionType: 'KMS',
      tags: { team: 'good', 'cost-center': '7' },
      lifecyclePolicy: LIFECYCLE,
      repositoryPolicy: policy({ AWS: 'arn:aws:iam::111111111111:root' }),
    },
    { name: 'report/app', repositoryPolicy: policy('*') },
    { name: 'enforced/app', tags: { team: 'e' }, encryptionType: 'KMS' },
    {
      name: 'owned/app',
      imageTagMutability: 'IMMUTABLE',
      scanOnPush: true,
      encryptionType: 'KMS',
      tags: { team: 'o', 'cost-center': '1' },
      lifecyclePolicy: LIFECYCLE,
    },
    { name: 'ignored/app' },
  ],
};

const CONFIG = parseConfig({
  compliance: {
    defaults: {
      mode: 'report',
      tagMutability: { setting: 'IMMUTABLE' },
      scanOnPush: true,
      lifecyclePolicy: LIFECYCLE,
      repositoryPolicy: { allowedAccounts: ['111111111111'] },
      requiredTags: ['team', 'cost-center'],
      tagDefaults: { 'cost-center': 'unassigned' },
      encryption: 'KMS',
    },
    rules: [
      { repositories: ['ignored/**'], enabled: false },
      { repositories: ['enforced/**'], mode: 'enforce' },
      { repositories: ['owned/**'], mode: 'enforce', lifecyclePolicy: 'cleanup-job' },
      { repositories: ['**'] },
    ],
  },
});

const arnOf = (name: string) => `arn:aws:ecr:us-east-1:${TEST_ACCOUNT}:repository/${name}`;

describe('scheduled-compliance through the handler and the local bus', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    for (const rule of server.bus.listRules()) server.bus.removeRule(rule.name, rule.eventBusName);
    await control(server, 'load', FIXTURE);
  });
  afterEach(() => {
    server.bus.stopSchedules();
    expectPublishedEventsParse(server.bus.events);
  });

  const wire = (config: Readonly<ServiceConfig> = CONFIG, options: { dryRun?: boolean } = {}) => {
    for (const rule of serviceRules(server, { config, ...options })) server.bus.addRule(rule);
  };
  const runCompliance = async () => {
    const before = server.bus.events.length;
    await control(server, 'bus/fire', { rule: 'scheduled-compliance' });
    await server.bus.drain();
    const events = server.bus.events.slice(before);
    return {
      reports: events
        .filter((e) => e['detail-type'] === 'Compliance Report')
        .map((e) => ComplianceReportSchema.parse(e.detail)),
      drifts: events
        .filter((e) => e['detail-type'] === 'Compliance Drift')
        .map((e) => RepositoryComplianceSchema.parse(e.detail)),
    };
  };
  const calls = async () => (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;
  const mutating = (operations: Record<string, number>) =>
    Object.fromEntries(
      [...MUTATING_ECR_OPERATIONS, 'DeleteLifecyclePolicy']
        .filter((op) => operations[op])
        .map((op) => [op, operations[op]]),
    );

  it('publishes one Compliance Report naming every finding, and a drift event per repository it fixed', async () => {
    // Prepare
    wire();
    // Act
    const { reports, drifts } = await runCompliance();
    // Assess
    expect(reports).toHaveLength(1);
    const report = reports[0] as ComplianceReport;
    expect(report.counts).toEqual({
      repositories: 5,
      checked: 4,
      compliant: 1,
      nonCompliant: 3,
      changed: 2,
      fixFailures: 0,
      gone: 0,
      failed: 0,
    });
    const reasons = Object.fromEntries(
      report.nonCompliant.map((entry) => [entry.repositoryName, entry.findings.map((f) => f.reason).sort()]),
    );
    expect(reasons).toEqual({
      'report/app': [
        'encryption-differs',
        'lifecycle-policy-missing',
        'no-scan-on-push',
        'public-access',
        'required-tags-missing',
        'tag-mutability-differs',
      ],
      'enforced/app': [
        'lifecycle-policy-missing',
        'no-scan-on-push',
        'required-tags-missing',
        'tag-mutability-differs',
      ],
      'owned/app': ['lifecycle-policy-competes-with-cleanup'],
    });
    expect(report.nonCompliant.every((entry) => entry.registry === 'private')).toBe(true);
    expect(drifts.map((d) => [d.repositoryName, [...d.fixed].sort()])).toEqual([
      ['enforced/app', ['put-lifecycle-policy', 'put-scan-on-push', 'put-tag-mutability', 'tag-resource']],
      ['owned/app', ['delete-lifecycle-policy']],
    ]);
  });

  it('fixes the enforced repositories in ECR and leaves the reported ones as they were', async () => {
    // Prepare
    wire();
    // Act
    await runCompliance();
    // Assess
    const { repositories = [] } = await client.send(
      new DescribeRepositoriesCommand({ repositoryNames: ['enforced/app', 'report/app'] }),
    );
    expect(
      repositories.map((r) => [r.repositoryName, r.imageTagMutability, r.imageScanningConfiguration?.scanOnPush]),
    ).toEqual([
      ['enforced/app', 'IMMUTABLE', true],
      ['report/app', 'MUTABLE', false],
    ]);
    const lifecycle = await client.send(new GetLifecyclePolicyCommand({ repositoryName: 'enforced/app' }));
    expect(JSON.parse(lifecycle.lifecyclePolicyText as string)).toEqual(LIFECYCLE);
    const { tags } = await client.send(new ListTagsForResourceCommand({ resourceArn: arnOf('enforced/app') }));
    expect(tags).toContainEqual({ Key: 'cost-center', Value: 'unassigned' });
    const gone = await failureOf(client.send(new GetLifecyclePolicyCommand({ repositoryName: 'owned/app' })));
    expect(gone).toMatchObject({ name: 'LifecyclePolicyNotFoundException' });
  });

  it('finds nothing left to fix on the next run, so it publishes no drift event', async () => {
    // Prepare
    wire();
    await runCompliance();
    // Act
    const { reports, drifts } = await runCompliance();
    // Assess
    expect(drifts).toEqual([]);
    expect(reports[0]?.counts).toMatchObject({ compliant: 3, nonCompliant: 1, changed: 0 });
    expect(reports[0]?.nonCompliant.map((entry) => entry.repositoryName)).toEqual(['report/app']);
  });

  it('makes zero mutating calls in dry run, and reads only what the policy checks', async () => {
    // Prepare
    wire(CONFIG, { dryRun: true });
    const before = await calls();
    // Act
    const { reports, drifts } = await runCompliance();
    // Assess
    const after = await calls();
    expect(mutating(after)).toEqual(mutating(before));
    expect(drifts).toEqual([]);
    expect(reports[0]).toMatchObject({ dryRun: true, counts: { nonCompliant: 3, changed: 0 } });
    // 4 checked repositories: one lifecycle read, one policy read and one tag read each; one scanning read in all.
    expect(reports[0]?.apiCalls).toMatchObject({
      DescribeRepositories: 1,
      GetRegistryScanningConfiguration: 1,
      GetLifecyclePolicy: 4,
      GetRepositoryPolicy: 4,
      ListTagsForResource: 4,
    });
  });
});
