import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsEcrPublic, requireRealClients } from '../../helpers/real-clients.ts';
import { loadPublicRepositories, startTestRegistry } from '../../helpers/registry.ts';

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

  it('describes the images and tags of a repository holding images, and deletes some', async () => {
    // Prepare
    const loaded = await loadPublicRepositories(server, [
      {
        name: 'cli/images',
        images: [
          { id: 'amd64', architecture: 'amd64' },
          { id: 'arm64', architecture: 'arm64' },
          { id: 'index', kind: 'index', children: ['amd64', 'arm64'], tags: ['v1', 'latest'], pushedAt: '-2d' },
          { id: 'sig', tagConvention: { subject: 'index', suffix: '.sig' } },
          { id: 'old', tags: ['old'], pushedAt: '-400d' },
          { id: 'stale', pushedAt: '-200d' },
        ],
      },
    ]);
    const digest = (id: string) => loaded.images.find((image) => image.id === id)?.imageDigest as string;
    const repository = ['--repository-name', 'cli/images'];
    // Act
    const images = await awsEcrPublic(server.url, ['describe-images', ...repository]);
    const paged = await awsEcrPublic(server.url, ['describe-images', ...repository, '--page-size', '2']);
    const byTag = await awsEcrPublic(server.url, ['describe-images', ...repository, '--image-ids', 'imageTag=v1']);
    const tags = await awsEcrPublic(server.url, ['describe-image-tags', ...repository, '--page-size', '1']);
    const deleted = await awsEcrPublic(server.url, [
      'batch-delete-image',
      ...repository,
      '--image-ids',
      `imageDigest=${digest('stale')}`,
      'imageTag=old',
      `imageDigest=${digest('amd64')}`,
      'imageTag=missing',
    ]);
    const after = await awsEcrPublic(server.url, ['describe-image-tags', ...repository]);
    // Assess
    for (const result of [images, paged, byTag, tags, deleted, after]) {
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    }
    const details = json(images.stdout).imageDetails as Record<string, unknown>[];
    expect(details).toHaveLength(6);
    expect(details[2]).toMatchObject({
      registryId: '123456789012',
      repositoryName: 'cli/images',
      imageDigest: digest('index'),
      imageTags: ['v1', 'latest'],
      imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
    });
    expect(typeof details[2]?.imagePushedAt).toBe('string');
    expect(json(paged.stdout).imageDetails).toEqual(details);
    expect((json(byTag.stdout).imageDetails as { imageDigest: string }[]).map((d) => d.imageDigest)).toEqual([
      digest('index'),
    ]);
    const tagDetails = json(tags.stdout).imageTagDetails as { imageTag: string; createdAt: string }[];
    expect(tagDetails.map((t) => t.imageTag)).toEqual([
      'v1',
      'latest',
      `${digest('index').replace(':', '-')}.sig`,
      'old',
    ]);
    expect(typeof tagDetails[0]?.createdAt).toBe('string');
    const answer = json(deleted.stdout) as {
      imageIds: { imageDigest: string; imageTag?: string }[];
      failures: { imageId: Record<string, string>; failureCode: string }[];
    };
    expect(answer.imageIds).toEqual([
      { imageDigest: digest('stale') },
      { imageDigest: digest('old'), imageTag: 'old' },
    ]);
    expect(answer.failures.map((f) => f.failureCode)).toEqual(['ImageReferencedByManifestList', 'ImageNotFound']);
    expect((json(after.stdout).imageTagDetails as { imageTag: string }[]).map((t) => t.imageTag)).not.toContain('old');
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
