import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsEcrPublic, requireRealClients } from '../../helpers/real-clients.ts';
import { startTestRegistry } from '../../helpers/registry.ts';

/** The Debian AWS CLI v2's `aws ecr-public` against the local registry. */
describe('aws ecr-public against the local registry', { timeout: 120_000 }, () => {
  let server: RegistryServer;

  beforeAll(async () => {
    requireRealClients();
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    server.reset();
  });

  const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

  it('creates and describes repositories, and describes the registry', async () => {
    // Act
    const created = await awsEcrPublic(server.url, ['create-repository', '--repository-name', 'cli/app']);
    const described = await awsEcrPublic(server.url, ['describe-repositories']);
    const registries = await awsEcrPublic(server.url, ['describe-registries']);
    // Assess
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const { repository } = json(created.stdout) as { repository: Record<string, unknown> };
    expect(repository).toMatchObject({
      repositoryName: 'cli/app',
      registryId: '123456789012',
      repositoryArn: 'arn:aws:ecr-public::123456789012:repository/cli/app',
    });
    expect(repository.repositoryUri).toMatch(/^public\.ecr\.aws\/[a-z][a-z0-9]{7}\/cli\/app$/);
    expect(typeof repository.createdAt).toBe('string');
    expect(described.code).toBe(0);
    expect((json(described.stdout).repositories as { repositoryName: string }[]).map((r) => r.repositoryName)).toEqual([
      'cli/app',
    ]);
    expect(registries.code).toBe(0);
    const [registry] = json(registries.stdout).registries as Record<string, unknown>[];
    expect(registry).toMatchObject({ registryId: '123456789012', verified: false });
    expect(registry?.registryUri).toBe((repository.repositoryUri as string).replace(/\/cli\/app$/, ''));
  });

  it('puts and gets repository catalog data, with a base64 logo', async () => {
    // Prepare
    await awsEcrPublic(server.url, ['create-repository', '--repository-name', 'cli/app']);
    // AWS CLI v2 takes a blob member of JSON input as base64.
    const logo = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).toString('base64');
    // Act
    const put = await awsEcrPublic(server.url, [
      'put-repository-catalog-data',
      '--repository-name',
      'cli/app',
      '--catalog-data',
      JSON.stringify({ description: 'From the CLI', architectures: ['ARM 64'], operatingSystems: ['Linux'] }),
    ]);
    const got = await awsEcrPublic(server.url, ['get-repository-catalog-data', '--repository-name', 'cli/app']);
    const withLogo = await awsEcrPublic(server.url, [
      'put-repository-catalog-data',
      '--repository-name',
      'cli/app',
      '--catalog-data',
      JSON.stringify({ logoImageBlob: logo }),
    ]);
    // Assess
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    expect(got.code).toBe(0);
    expect(json(got.stdout).catalogData).toEqual({
      description: 'From the CLI',
      architectures: ['ARM 64'],
      operatingSystems: ['Linux'],
      marketplaceCertified: false,
    });
    expect(withLogo.stderr).toBe('');
    const logoUrl = (json(withLogo.stdout).catalogData as { logoUrl: string }).logoUrl;
    const served = await fetch(logoUrl);
    expect(served.status).toBe(200);
    expect((await served.arrayBuffer()).byteLength).toBe(11);
  });

  it('prints a login password', async () => {
    // Act
    const result = await awsEcrPublic(server.url, ['get-login-password']);
    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('exits 254 with the exception name on an error', async () => {
    // Act
    const result = await awsEcrPublic(server.url, ['get-repository-catalog-data', '--repository-name', 'missing']);
    // Assess
    expect(result.code).toBe(254);
    expect(result.stderr).toContain('RepositoryNotFoundException');
    expect(result.stdout).toBe('');
  });
});
