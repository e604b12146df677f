import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRepositoryCommand, type ECRPUBLICClient, SetRepositoryPolicyCommand } from '@aws-sdk/client-ecr-public';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCleanupCli } from '../../../cli/commands/main.ts';
import { createEcrClient, ReadOnlyViolationError, RepositoryNotFoundError } from '../../../shared/ecr/index.ts';
import { createEcrPublicClient, createEcrPublicGateway } from '../../../shared/ecr-public/index.ts';
import { ecrPublicClient, startTestRegistry } from '../../helpers/registry.ts';

/**
 * The ECR Public gateway over HTTP, through the real ECR Public client, against the local registry: what it serves
 * of ECR Public today (repositories, the registry and its alias, catalog data, policies, image listings), and the
 * cleanup CLI's `--public`.
 */

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: '*', Action: ['ecr-public:DescribeImages'] }],
});

let server: RegistryServer;
let client: ECRPUBLICClient;
let dir: string;

beforeAll(async () => {
  server = await startTestRegistry();
  client = ecrPublicClient(server);
  for (const repositoryName of ['tools/cli', 'tools/agent', 'docs/site']) {
    await client.send(new CreateRepositoryCommand({ repositoryName }));
  }
  await client.send(new SetRepositoryPolicyCommand({ repositoryName: 'tools/agent', policyText: POLICY }));
  dir = mkdtempSync(join(tmpdir(), 'ecr-public-cli-'));
});

afterAll(async () => {
  client.destroy();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const gateway = (readOnly = false) => createEcrPublicGateway(client, { readOnly, registryUrl: server.url });

describe('the ECR Public gateway against the local registry', () => {
  it("lists the public repositories and finds one, with the registry's alias in their URIs", async () => {
    // Prepare
    const g = gateway();
    // Act
    const listed: string[] = [];
    for await (const repository of g.listRepositories()) listed.push(repository.name);
    const registry = await g.getRegistry();
    const one = await g.getRepository('tools/cli');
    // Assess
    expect(listed.sort()).toEqual(['docs/site', 'tools/agent', 'tools/cli']);
    expect(one.uri).toBe(`${registry.uri}/tools/cli`);
    expect(registry.uri).toBe(`public.ecr.aws/${registry.alias}`);
    await expect(g.getRepository('tools/none')).rejects.toBeInstanceOf(RepositoryNotFoundError);
    expect(g.callCounts()).toEqual({ DescribeRepositories: 2 + 1, DescribeRegistries: 1 });
  });

  it('reads and replaces catalog data, reads policies, and lists no image in an empty repository', async () => {
    // Prepare
    const g = gateway();
    // Act
    const before = await g.getCatalogData('docs/site');
    const written = await g.putCatalogData('docs/site', {
      description: 'The documentation site',
      architectures: ['x86-64'],
      operatingSystems: ['Linux'],
    });
    const after = await g.getCatalogData('docs/site');
    const pages: unknown[] = [];
    for await (const page of g.listImages('docs/site')) pages.push(page);
    // Assess
    expect(before?.description).toBeUndefined();
    expect(written).toMatchObject({ description: 'The documentation site', architectures: ['x86-64'] });
    expect(after).toMatchObject({ description: 'The documentation site', operatingSystems: ['Linux'] });
    expect(JSON.parse((await g.getRepositoryPolicy('tools/agent')) ?? '{}')).toEqual(JSON.parse(POLICY));
    expect(await g.getRepositoryPolicy('tools/cli')).toBeUndefined();
    expect(pages).toEqual([]);
  });

  it('refuses to change anything when read-only, before sending', async () => {
    // Prepare
    const g = gateway(true);
    // Act & Assess
    await expect(g.putCatalogData('tools/cli', { description: 'x' })).rejects.toBeInstanceOf(ReadOnlyViolationError);
    expect(g.callCounts()).toEqual({});
    expect((await g.getCatalogData('tools/cli'))?.description).toBeUndefined();
  });
});

describe('npm run cleanup -- plan --public / apply --public', () => {
  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const credentials = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret' };
    const io: CliIo = {
      env: { AWS_REGION: 'eu-west-1' },
      stdout: (line) => stdout.push(line),
      stderr: (line) => stderr.push(line),
      interactive: false,
      confirm: async () => false,
      connect: (target) => createEcrClient({ ...target, credentials, maxAttempts: 1 }),
      connectPublic: (target) => createEcrPublicClient({ ...target, credentials, maxAttempts: 1 }),
      now: () => Date.now(),
    };
    const code = await runCleanupCli(args, io);
    return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  }

  it('plans the public repositories its public rules match, and the plan remembers it is public', async () => {
    // Prepare
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ cleanup: { rules: [{ registry: 'public', repositories: ['tools/**'], olderThanDays: 7 }] } }),
    );
    const out = join(dir, 'public-plan.json');
    // Act
    const plan = await cli(['plan', '--public', '--endpoint-url', server.url, '--config', config, '--out', out]);
    const file = JSON.parse(readFileSync(out, 'utf8')) as { registry?: string; region: string; repositories: [] };
    const apply = await cli(['apply', '--public', out, '--yes']);
    const wrongRegion = await cli(['plan', '--public', '--region', 'eu-west-1', '--endpoint-url', server.url]);
    // Assess
    expect(plan.code, plan.stderr).toBe(0);
    expect(file.registry).toBe('public');
    expect(file.region).toBe('us-east-1');
    expect(file.repositories.map((entry: { repositoryName: string }) => entry.repositoryName)).toEqual([
      'tools/agent',
      'tools/cli',
    ]);
    expect(plan.stdout).toContain('Plan: 2 of 3 repositories');
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('Nothing to delete.');
    expect(wrongRegion.code).toBe(2);
    expect(wrongRegion.stderr).toContain("ECR Public's API is in us-east-1 only");
  });

  it('refuses apply --public of a plan of the private registry', async () => {
    // Prepare
    const config = join(dir, 'private-config.json');
    writeFileSync(config, JSON.stringify({ cleanup: { rules: [{ repositories: ['**'] }] } }));
    const out = join(dir, 'private-plan.json');
    const plan = await cli(['plan', '--endpoint-url', server.url, '--config', config, '--out', out]);
    // Act
    const apply = await cli(['apply', '--public', out, '--yes']);
    // Assess
    expect(plan.code, plan.stderr).toBe(0);
    expect(apply.code).toBe(2);
    expect(apply.stderr).toContain('is a plan of the private registry, not of ECR Public');
  });
});
