import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCompliance } from '../../../shared/compliance/entry.ts';
import type { ComplianceReport, RepositoryCompliance } from '../../../shared/compliance/report.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { createEcrGateway, ReadOnlyViolationError } from '../../../shared/ecr/index.ts';
import type { ServiceEvent } from '../../../shared/events/publisher.ts';
import { type FakePublicRepository, fakePublicRegistry } from '../../helpers/public-gateway.ts';
import { testDeps } from '../../helpers/service-deps.ts';

const ecr = mockClient(ECRClient);

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR')]);
const CATALOG = {
  description: 'From the config',
  usageText: 'docker pull public.ecr.aws/fake/tool',
  architectures: ['x86-64', 'ARM 64'],
  operatingSystems: ['Linux'],
  logo: PNG.toString('base64'),
};
const WRITE_FOR_EVERYONE = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'Push', Effect: 'Allow', Principal: '*', Action: ['ecr-public:PutImage'] }],
});
const READ_FOR_EVERYONE = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'Read', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['ecr-public:DescribeImages'] }],
});

const configWith = (publicSection: object, dryRun = false) =>
  parseConfig({ compliance: { dryRun, public: publicSection } });
const ENFORCE = configWith({
  defaults: { requiredCatalog: ['description', 'usageText', 'aboutText'], catalog: CATALOG },
  rules: [
    { repositories: ['enforced/**'], mode: 'enforce' },
    { repositories: ['ignored/**'], enabled: false },
    { repositories: ['**'] },
  ],
});

function setUp(repositories: FakePublicRepository[], config = ENFORCE) {
  const registry = fakePublicRegistry(repositories);
  const published: ServiceEvent[] = [];
  const base = testDeps();
  const deps = testDeps({
    config: () => config,
    gateway: ({ readOnly }) => createEcrGateway(new ECRClient({ region: 'us-east-1' }), { readOnly }),
    publicGateway: registry.gateway,
    publish: async (events) => {
      published.push(...events);
      return base.publish(events);
    },
  });
  const run = (detail: { dryRun?: boolean; repositories?: string[] } = {}) =>
    runCompliance({ id: 'run-1', detail }, deps);
  const drifts = () =>
    published.filter((e) => e.detailType === 'Compliance Drift').map((e) => e.detail as RepositoryCompliance);
  return { registry, run, published, drifts };
}

const entryOf = (report: ComplianceReport, name: string) =>
  report.nonCompliant.find((entry) => entry.repositoryName === name);

describe('runCompliance: ECR Public repositories', () => {
  beforeEach(() => {
    ecr.reset();
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [] });
  });

  it('reports a public repository missing catalog data, as a public entry, and leaves it as it is', async () => {
    // Prepare
    const { registry, run, drifts } = setUp([{ name: 'reported/tool' }]);
    // Act
    const report = await run();
    // Assess
    expect(entryOf(report, 'reported/tool')).toEqual({
      runId: 'run-1',
      registry: 'public',
      repositoryName: 'reported/tool',
      mode: 'report',
      ruleIndex: 2,
      compliant: false,
      findings: [
        {
          check: 'catalog-data',
          reason: 'description-missing',
          detail: 'the repository has no catalog data, so no description',
          fixable: true,
        },
        {
          check: 'catalog-data',
          reason: 'about-text-missing',
          detail: 'the repository has no catalog data, so no aboutText',
          fixable: false,
        },
        {
          check: 'catalog-data',
          reason: 'usage-text-missing',
          detail: 'the repository has no catalog data, so no usageText',
          fixable: true,
        },
        {
          check: 'catalog-data',
          reason: 'architectures-missing',
          detail: 'the repository has no catalog data, so no architectures',
          fixable: true,
        },
        {
          check: 'catalog-data',
          reason: 'operating-systems-missing',
          detail: 'the repository has no catalog data, so no operatingSystems',
          fixable: true,
        },
        {
          check: 'catalog-data',
          reason: 'logo-missing',
          detail: 'the repository has no catalog data, so no logo',
          fixable: true,
        },
      ],
      fixed: [],
      fixFailures: [],
    });
    expect(report.counts).toEqual({
      repositories: 1,
      checked: 1,
      compliant: 0,
      nonCompliant: 1,
      changed: 0,
      fixFailures: 0,
      gone: 0,
      failed: 0,
    });
    expect(report.byCheck['catalog-data']).toBe(6);
    expect(registry.mutatingCalls()).toEqual([]);
    expect(drifts()).toEqual([]);
  });

  it('in enforce mode puts the whole catalog data, keeping what a person wrote, and publishes a drift event', async () => {
    // Prepare
    const { registry, run, drifts } = setUp([
      {
        name: 'enforced/tool',
        catalog: { description: 'Written by a person', architectures: ['ARM'], operatingSystems: [] },
      },
    ]);
    // Act
    const report = await run();
    // Assess
    expect(registry.gateways).toEqual([{ readOnly: false }]);
    expect(registry.mutatingCalls()).toHaveLength(1);
    expect(registry.catalogOf('enforced/tool')).toEqual({
      description: 'Written by a person',
      usageText: CATALOG.usageText,
      architectures: ['ARM'],
      operatingSystems: ['Linux'],
      logoUrl: 'https://logo.example/enforced/tool.png',
    });
    expect(registry.mutatingCalls()[0]?.update?.logoImageBlob).toEqual(Uint8Array.from(PNG));
    expect(drifts()).toMatchObject([
      { registry: 'public', repositoryName: 'enforced/tool', mode: 'enforce', fixed: ['put-catalog-data'] },
    ]);
    expect(report.counts).toMatchObject({ changed: 1, nonCompliant: 1 });
    expect(report.apiCalls).toMatchObject({
      'public:DescribeRepositories': 1,
      'public:GetRepositoryCatalogData': 1,
      'public:GetRepositoryPolicy': 1,
      'public:PutRepositoryCatalogData': 1,
    });
  });

  it('makes zero mutating calls in dry run, from the config or from the event, on a read-only gateway', async () => {
    // Prepare
    const repositories = [
      { name: 'enforced/tool' },
      { name: 'enforced/other', catalog: { architectures: [], operatingSystems: [] } },
    ];
    const fromConfig = setUp(
      repositories,
      configWith({ defaults: { mode: 'enforce', catalog: CATALOG }, rules: [{ repositories: ['**'] }] }, true),
    );
    const fromEvent = setUp(repositories);
    // Act
    const reports = [await fromConfig.run(), await fromEvent.run({ dryRun: true })];
    // Assess
    for (const [index, { registry, drifts }] of [fromConfig, fromEvent].entries()) {
      expect(registry.gateways).toEqual([{ readOnly: true }]);
      expect(registry.mutatingCalls()).toEqual([]);
      expect(drifts()).toEqual([]);
      expect(reports[index]).toMatchObject({ dryRun: true, counts: { nonCompliant: 2, changed: 0 } });
    }
  });

  it('reports a repository policy that lets everyone push, not one that lets everyone read', async () => {
    // Prepare
    const { run } = setUp(
      [
        { name: 'open/push', policyText: WRITE_FOR_EVERYONE },
        { name: 'open/read', policyText: READ_FOR_EVERYONE },
      ],
      configWith({ rules: [{ repositories: ['**'] }] }),
    );
    // Act
    const report = await run();
    // Assess
    expect(report.nonCompliant.map((entry) => [entry.repositoryName, entry.findings])).toEqual([
      [
        'open/push',
        [
          {
            check: 'repository-policy',
            reason: 'public-write',
            detail: 'statement Push lets everyone write: ecr-public:PutImage',
            fixable: false,
          },
        ],
      ],
    ]);
    expect(report.counts).toMatchObject({ checked: 2, compliant: 1 });
  });

  it('reads only what the rule checks', async () => {
    // Prepare
    const policyOnly = setUp([{ name: 'a' }, { name: 'b' }], configWith({ rules: [{ repositories: ['**'] }] }));
    const catalogOnly = setUp(
      [{ name: 'a' }],
      configWith({
        defaults: { forbidPublicWrite: false, requiredCatalog: ['logo'] },
        rules: [{ repositories: ['**'] }],
      }),
    );
    // Act
    const policyReport = await policyOnly.run();
    const catalogReport = await catalogOnly.run();
    // Assess
    expect(policyReport.apiCalls).toEqual({
      DescribeRepositories: 1,
      'public:DescribeRepositories': 1,
      'public:GetRepositoryPolicy': 2,
      PutEvents: 1,
    });
    expect(catalogReport.apiCalls).toEqual({
      DescribeRepositories: 1,
      'public:DescribeRepositories': 1,
      'public:GetRepositoryCatalogData': 1,
      PutEvents: 1,
    });
  });

  it('reports a repository the gateway fails on as failed, and still checks and fixes the others', async () => {
    // Prepare
    const { registry, run } = setUp([
      { name: 'enforced/broken', failing: { operation: 'GetRepositoryCatalogData', code: 'AccessDeniedException' } },
      { name: 'enforced/fine' },
    ]);
    // Act
    const report = await run();
    // Assess
    expect(report.failed).toEqual([
      {
        registry: 'public',
        repositoryName: 'enforced/broken',
        error: "GetRepositoryCatalogData on repository 'enforced/broken': AccessDeniedException",
      },
    ]);
    expect(report.counts).toMatchObject({ repositories: 2, checked: 1, failed: 1, changed: 1 });
    expect(registry.catalogOf('enforced/fine')?.description).toBe(CATALOG.description);
  });

  it('records a put ECR Public refuses as a fix failure', async () => {
    // Prepare
    const { run, drifts } = setUp([
      { name: 'enforced/tool', failing: { operation: 'PutRepositoryCatalogData', code: 'InvalidParameterException' } },
    ]);
    // Act
    const report = await run();
    // Assess
    expect(entryOf(report, 'enforced/tool')).toMatchObject({
      fixed: [],
      fixFailures: [
        {
          fix: 'put-catalog-data',
          error: "PutRepositoryCatalogData on repository 'enforced/tool': InvalidParameterException",
        },
      ],
    });
    expect(report.counts).toMatchObject({ changed: 0, fixFailures: 1 });
    expect(drifts()).toEqual([]);
  });

  it("leaves out disabled and unmatched repositories, and narrows by the event's globs", async () => {
    // Prepare
    const { registry, run } = setUp([
      { name: 'ignored/tool' },
      { name: 'enforced/a' },
      { name: 'enforced/b' },
      { name: 'other' },
    ]);
    // Act
    const report = await run({ repositories: ['enforced/a', 'ignored/**'] });
    // Assess
    expect(report.counts).toMatchObject({ repositories: 4, checked: 1 });
    expect(
      registry.calls.filter((call) => call.repositoryName !== undefined).map((call) => call.repositoryName),
    ).toEqual(['enforced/a', 'enforced/a', 'enforced/a']);
  });

  it('makes no ECR Public call at all when the config has no public rule', async () => {
    // Prepare
    const { registry, run } = setUp(
      [{ name: 'tool' }],
      configWith({ rules: [{ repositories: ['**'], enabled: false }] }),
    );
    // Act
    const report = await run();
    // Assess
    expect(registry.gateways).toEqual([]);
    expect(report.apiCalls).toEqual({ DescribeRepositories: 1, PutEvents: 1 });
  });

  it('the fake gateway, like the real one, refuses a put when read-only', async () => {
    // Prepare
    const gateway = fakePublicRegistry([{ name: 'tool' }]).gateway({ readOnly: true });
    // Act / Assess
    await expect(gateway.putCatalogData('tool', { description: 'x' })).rejects.toBeInstanceOf(ReadOnlyViolationError);
  });
});
