import {
  CreateRepositoryCommand,
  type ECRPUBLICClient,
  GetRepositoryCatalogDataCommand,
  SetRepositoryPolicyCommand,
} from '@aws-sdk/client-ecr-public';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCompliance } from '../../../shared/compliance/entry.ts';
import type { ComplianceReport, RepositoryCompliance } from '../../../shared/compliance/report.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { createEcrGateway } from '../../../shared/ecr/index.ts';
import { createEcrPublicGateway } from '../../../shared/ecr-public/index.ts';
import type { ServiceEvent } from '../../../shared/events/publisher.ts';
import { control, ecrClient, ecrPublicClient, startTestRegistry } from '../../helpers/registry.ts';
import { testDeps } from '../../helpers/service-deps.ts';

/**
 * The compliance of ECR Public repositories end to end: the workflow through the real ECR Public gateway and the SDK
 * client, over HTTP, against the local registry's ECR Public API; what it changed is read back through the SDK.
 */

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR-local')]);
const CATALOG = {
  description: 'A tool of the platform team',
  usageText: 'docker pull public.ecr.aws/platform/tools/cli',
  architectures: ['x86-64', 'ARM 64'],
  operatingSystems: ['Linux'],
};
const config = (dryRun = false) =>
  parseConfig({
    compliance: {
      dryRun,
      public: {
        defaults: { requiredCatalog: ['description', 'usageText', 'architectures'], catalog: CATALOG },
        rules: [{ repositories: ['tools/**'], mode: 'enforce' }, { repositories: ['**'] }],
      },
    },
  });
const PUSH_FOR_EVERYONE = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'AnyonePushes', Effect: 'Allow', Principal: '*', Action: ['ecr-public:PutImage'] }],
});

describe('scheduled compliance of ECR Public repositories, over HTTP against the local registry', () => {
  let server: RegistryServer;
  let client: ECRPUBLICClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrPublicClient(server);
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  const run = async (options: { dryRun?: boolean; eventDryRun?: boolean } = {}) => {
    const published: ServiceEvent[] = [];
    const base = testDeps();
    const privateClient = ecrClient(server);
    const report: ComplianceReport = await runCompliance(
      { id: 'run-1', detail: options.eventDryRun ? { dryRun: true } : {} },
      testDeps({
        config: () => config(options.dryRun),
        gateway: ({ readOnly }) => createEcrGateway(privateClient, { readOnly }),
        publicGateway: ({ readOnly }) => createEcrPublicGateway(client, { readOnly, registryUrl: server.url }),
        publish: async (events) => {
          published.push(...events);
          return base.publish(events);
        },
      }),
    );
    const drifts = published
      .filter((event) => event.detailType === 'Compliance Drift')
      .map((event) => event.detail as RepositoryCompliance);
    return { report, drifts };
  };
  const create = (repositoryName: string, catalogData?: Record<string, unknown>) =>
    client.send(new CreateRepositoryCommand({ repositoryName, ...(catalogData ? { catalogData } : {}) }));
  const catalogOf = async (repositoryName: string) =>
    (await client.send(new GetRepositoryCatalogDataCommand({ repositoryName }))).catalogData;
  const calls = async () => (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;
  const entry = (report: ComplianceReport, name: string) =>
    report.nonCompliant.find((result) => result.repositoryName === name);

  it('reports a public repository missing catalog data, and changes nothing in report mode', async () => {
    // Prepare
    await create('web/site');
    // Act
    const { report, drifts } = await run();
    // Assess
    expect(entry(report, 'web/site')).toMatchObject({
      registry: 'public',
      mode: 'report',
      compliant: false,
      fixed: [],
    });
    expect(entry(report, 'web/site')?.findings.map((finding) => finding.reason)).toEqual([
      'description-missing',
      'usage-text-missing',
      'architectures-missing',
      'operating-systems-missing',
    ]);
    expect((await calls())['public:PutRepositoryCatalogData']).toBeUndefined();
    expect(drifts).toEqual([]);
  });

  it('fills in the catalog data in enforce mode, read back through the SDK, and finds it compliant next time', async () => {
    // Prepare
    await create('tools/cli');
    // Act
    const first = await run();
    const second = await run();
    // Assess
    expect(await catalogOf('tools/cli')).toMatchObject(CATALOG);
    expect(first.drifts).toMatchObject([
      { registry: 'public', repositoryName: 'tools/cli', fixed: ['put-catalog-data'] },
    ]);
    expect(second.report.counts).toMatchObject({ checked: 1, compliant: 1, changed: 0 });
    expect(second.drifts).toEqual([]);
  });

  it('keeps what a person wrote: only the missing fields are filled in', async () => {
    // Prepare
    await create('tools/api', { description: 'Written by a person', aboutText: '# About', architectures: ['ARM'] });
    // Act
    await run();
    // Assess
    expect(await catalogOf('tools/api')).toMatchObject({
      description: 'Written by a person',
      aboutText: '# About',
      usageText: CATALOG.usageText,
      architectures: ['ARM'],
      operatingSystems: ['Linux'],
    });
  });

  it('does not put catalog data over a logo it could not put back, and says so', async () => {
    // Prepare
    await create('tools/logo', { description: 'has a logo', logoImageBlob: PNG });
    // Act
    const { report } = await run();
    // Assess
    expect(entry(report, 'tools/logo')?.findings.map((finding) => [finding.reason, finding.fixable])).toEqual([
      ['usage-text-missing', false],
      ['architectures-missing', false],
      ['operating-systems-missing', false],
      ['logo-would-be-dropped', false],
    ]);
    expect((await catalogOf('tools/logo'))?.logoUrl).toBeDefined();
    expect((await calls())['public:PutRepositoryCatalogData']).toBeUndefined();
  });

  it('makes zero mutating calls in dry run, from the config or from the event', async () => {
    // Prepare
    await create('tools/cli');
    const before = await calls();
    // Act
    const fromConfig = await run({ dryRun: true });
    const fromEvent = await run({ eventDryRun: true });
    // Assess
    const after = await calls();
    const mutating = ['public:PutRepositoryCatalogData', 'public:SetRepositoryPolicy', 'public:TagResource'];
    for (const name of mutating) expect(after[name] ?? 0).toBe(before[name] ?? 0);
    for (const { report, drifts } of [fromConfig, fromEvent]) {
      expect(report).toMatchObject({ dryRun: true, counts: { nonCompliant: 1, changed: 0 } });
      expect(drifts).toEqual([]);
    }
    expect(after['public:GetRepositoryCatalogData']).toBe(2);
    expect(await catalogOf('tools/cli').catch((error: Error) => error.name)).toBe(
      'RepositoryCatalogDataNotFoundException',
    );
  });

  it('reports a repository policy that lets everyone push', async () => {
    // Prepare
    await create('web/open', CATALOG);
    await client.send(new SetRepositoryPolicyCommand({ repositoryName: 'web/open', policyText: PUSH_FOR_EVERYONE }));
    // Act
    const { report } = await run();
    // Assess
    expect(entry(report, 'web/open')?.findings).toEqual([
      {
        check: 'repository-policy',
        reason: 'public-write',
        detail: 'statement AnyonePushes lets everyone write: ecr-public:PutImage',
        fixable: false,
      },
    ]);
  });
});
