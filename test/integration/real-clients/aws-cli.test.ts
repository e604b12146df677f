import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { buildImageManifest } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsEcr, requireRealClients } from '../../helpers/real-clients.ts';
import { control, declareBlobs, startTestRegistry } from '../../helpers/registry.ts';

/** The Debian AWS CLI v2 against the local registry: what it sends, and what it prints back. */
// Child processes (node with tsx, the AWS CLI, Python) start slowly on a loaded machine: a generous limit per test.
describe('AWS CLI v2 against the local registry', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  const work = mkdtempSync(join(tmpdir(), 'ecr-cli-'));

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

  it('creates a repository and prints ECR’s repository shape', async () => {
    // Act
    const result = await awsEcr(server.url, [
      'create-repository',
      '--repository-name',
      'cli/app',
      '--image-tag-mutability',
      'IMMUTABLE',
    ]);
    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { repository } = json(result.stdout) as { repository: Record<string, unknown> };
    expect(repository).toMatchObject({
      repositoryName: 'cli/app',
      registryId: '123456789012',
      repositoryArn: 'arn:aws:ecr:us-east-1:123456789012:repository/cli/app',
      repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/cli/app',
      imageTagMutability: 'IMMUTABLE',
    });
    expect(typeof repository.createdAt).toBe('string');
  });

  it('puts an image from a file and the digest is the sha256 of the file’s bytes', async () => {
    // Prepare
    await awsEcr(server.url, ['create-repository', '--repository-name', 'cli/app']);
    const manifest = `${buildImageManifest({ seed: 'cli-1' })}\n`;
    await declareBlobs(server, 'cli/app', manifest);
    const path = join(work, 'manifest.json');
    writeFileSync(path, manifest);
    const expected = `sha256:${createHash('sha256').update(Buffer.from(manifest)).digest('hex')}`;
    // Act
    const result = await awsEcr(server.url, [
      'put-image',
      '--repository-name',
      'cli/app',
      '--image-tag',
      'v1',
      '--image-manifest',
      `file://${path}`,
    ]);
    // Assess
    expect(result.code).toBe(0);
    const { image } = json(result.stdout) as { image: { imageId: { imageDigest: string; imageTag: string } } };
    expect(image.imageId).toEqual({ imageDigest: expected, imageTag: 'v1' });
    const fetched = await awsEcr(server.url, [
      'batch-get-image',
      '--repository-name',
      'cli/app',
      '--image-ids',
      'imageTag=v1',
    ]);
    const { images } = json(fetched.stdout) as { images: { imageManifest: string }[] };
    expect(images[0]?.imageManifest).toBe(manifest);
  });

  it('describes only untagged images with --filter tagStatus=UNTAGGED', async () => {
    // Prepare
    await control(server, 'load', {
      repositories: [
        {
          name: 'cli/app',
          images: [{ id: 'a', tags: ['v1'] }, { id: 'b' }, { id: 'c' }, { id: 'd', tags: ['v2', 'latest'] }],
        },
      ],
    });
    // Act
    const result = await awsEcr(server.url, [
      'describe-images',
      '--repository-name',
      'cli/app',
      '--filter',
      'tagStatus=UNTAGGED',
    ]);
    // Assess
    expect(result.code).toBe(0);
    const { imageDetails } = json(result.stdout) as { imageDetails: { imageTags?: string[] }[] };
    expect(imageDetails).toHaveLength(2);
    expect(imageDetails.every((detail) => detail.imageTags === undefined)).toBe(true);
  });

  it('pages with --no-paginate --max-results and prints the raw nextToken', async () => {
    // Prepare
    await control(server, 'load', {
      repositories: [
        { name: 'cli/app', images: Array.from({ length: 7 }, (_, i) => ({ id: `i${i}`, tags: [`t${i}`] })) },
      ],
    });
    const seen: string[] = [];
    let token: string | undefined;
    let calls = 0;
    // Act
    do {
      const args = ['describe-images', '--repository-name', 'cli/app', '--no-paginate', '--max-results', '3'];
      if (token) args.push('--next-token', token);
      const result = await awsEcr(server.url, args);
      expect(result.code).toBe(0);
      const page = json(result.stdout) as { imageDetails: { imageDigest: string }[]; nextToken?: string };
      expect(page.imageDetails.length).toBeLessThanOrEqual(3);
      seen.push(...page.imageDetails.map((detail) => detail.imageDigest));
      token = page.nextToken;
      calls++;
    } while (token);
    // Assess
    expect(calls).toBe(3);
    expect(new Set(seen).size).toBe(7);
    expect(seen).toHaveLength(7);
  });

  it('auto-paginates 250 images from requests without maxResults (100 per page)', async () => {
    // Prepare
    await control(server, 'load', {
      repositories: [{ name: 'cli/many', images: Array.from({ length: 250 }, (_, i) => ({ id: `i${i}` })) }],
    });
    const before =
      (await control<{ operations: Record<string, number> }>(server, 'calls')).operations.DescribeImages ?? 0;
    // Act
    const result = await awsEcr(server.url, ['describe-images', '--repository-name', 'cli/many']);
    // Assess
    expect(result.code).toBe(0);
    const { imageDetails } = json(result.stdout) as { imageDetails: { imageDigest: string }[] };
    expect(new Set(imageDetails.map((detail) => detail.imageDigest)).size).toBe(250);
    const after =
      (await control<{ operations: Record<string, number> }>(server, 'calls')).operations.DescribeImages ?? 0;
    expect(after - before).toBe(3);
  });

  it('batch-deletes by digest and by tag, reporting failures per image', async () => {
    // Prepare
    const loaded = await control<{ images: { id: string; imageDigest: string }[] }>(server, 'load', {
      repositories: [{ name: 'cli/app', images: [{ id: 'a', tags: ['v1', 'v1.0'] }, { id: 'b' }] }],
    });
    const untagged = loaded.images.find((image) => image.id === 'b')?.imageDigest as string;
    const missing = `sha256:${'0'.repeat(64)}`;
    // Act
    const result = await awsEcr(server.url, [
      'batch-delete-image',
      '--repository-name',
      'cli/app',
      '--image-ids',
      `imageDigest=${untagged}`,
      'imageTag=v1.0',
      `imageDigest=${missing}`,
    ]);
    // Assess
    expect(result.code).toBe(0);
    const output = json(result.stdout) as { imageIds: unknown[]; failures: { failureCode: string }[] };
    expect(output.imageIds).toHaveLength(2);
    expect(output.failures).toEqual([expect.objectContaining({ failureCode: 'ImageNotFound' })]);
    const left = await awsEcr(server.url, ['list-images', '--repository-name', 'cli/app']);
    expect(json(left.stdout).imageIds).toEqual([expect.objectContaining({ imageTag: 'v1' })]);
  });

  it('logs in: get-login-password prints the password of the token get-authorization-token gives for this registry', async () => {
    // Act
    const token = await awsEcr(server.url, ['get-authorization-token']);
    const login = await awsEcr(server.url, ['get-login-password']);
    // Assess
    expect(token.code).toBe(0);
    const [data] = (json(token.stdout) as { authorizationData: Record<string, string>[] }).authorizationData;
    expect(data?.proxyEndpoint).toBe(server.url);
    expect(Date.parse(data?.expiresAt ?? '') - Date.now()).toBeGreaterThan(11.9 * 3600_000);
    const decoded = Buffer.from(data?.authorizationToken ?? '', 'base64').toString('utf8');
    expect(decoded.startsWith('AWS:')).toBe(true);
    expect(login.code).toBe(0);
    expect(login.stderr).toBe('');
    // A fresh token each call, of the same form: the password after "AWS:".
    expect(login.stdout.trim()).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(decoded.slice('AWS:'.length)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  it('prints ECR’s error line and exits 254 for a missing repository', async () => {
    // Act
    const result = await awsEcr(server.url, ['describe-repositories', '--repository-names', 'nope']);
    // Assess
    expect(result.code).toBe(254);
    // CLI v2 adds "(reached max retries: N)" after the operation name when it has a retry budget.
    expect(result.stderr).toMatch(
      /An error occurred \(RepositoryNotFoundException\) when calling the DescribeRepositories operation( \(reached max retries: \d+\))?: The repository with name 'nope' does not exist in the registry with id '123456789012'/,
    );
  });

  it('answers values the CLI does not check itself with InvalidParameterException', async () => {
    // Act
    const upper = await awsEcr(server.url, ['create-repository', '--repository-name', 'Team/App']);
    const tooMany = await awsEcr(server.url, ['describe-repositories', '--max-results', '5000']);
    const badFilter = await awsEcr(server.url, ['create-repository', '--repository-name', 'ok/repo']).then(() =>
      awsEcr(server.url, ['list-images', '--repository-name', 'ok/repo', '--filter', 'tagStatus=FOO']),
    );
    // Assess
    expect(upper.code).toBe(254);
    expect(upper.stderr).toContain('(InvalidParameterException) when calling the CreateRepository operation');
    expect(tooMany.code).toBe(254);
    expect(tooMany.stderr).toContain('(InvalidParameterException)');
    expect(badFilter.code).toBe(254);
    expect(badFilter.stderr).toContain('(InvalidParameterException)');
    const repositories = await awsEcr(server.url, ['describe-repositories']);
    expect((json(repositories.stdout).repositories as unknown[]).length).toBe(1);
  });
});
