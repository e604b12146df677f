import { CreateRepositoryCommand, DescribeRepositoriesCommand } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecrClient, startTestRegistry } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

/** `RegistryServer.mount`: a path prefix of its own served by another part, beside ECR's API and `/v2/`. */
describe('mounted path prefixes', () => {
  let server: RegistryServer;
  const seen: string[] = [];

  beforeAll(async () => {
    server = await startTestRegistry();
    server.mount('/_extra/', (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('mounted');
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves its prefix with the mounted handler, while ECR and /v2/ answer as before', async () => {
    // Prepare
    await ecrClient(server).send(new CreateRepositoryCommand({ repositoryName: 'mount/app' }));
    // Act
    const mounted = await fetch(`${server.url}/_extra/any/path?x=1`);
    const bare = await fetch(`${server.url}/_extra`);
    const other = await fetch(`${server.url}/_other/`);
    const v2 = await fetch(`${server.url}/v2/`);
    const listed = await ecrClient(server).send(new DescribeRepositoriesCommand({}));
    // Assess
    expect(mounted.status).toBe(200);
    expect(await mounted.text()).toBe('mounted');
    expect(seen).toEqual(['GET /_extra/any/path?x=1']);
    expect(bare.status).not.toBe(200);
    expect(other.status).not.toBe(200);
    expect(v2.status).toBe(401);
    expect(listed.repositories?.map((repository) => repository.repositoryName)).toEqual(['mount/app']);
  });

  it('refuses a foreign Origin or Host before the mounted handler sees the request', async () => {
    // Act
    const foreign = await fetch(`${server.url}/_extra/`, { headers: { origin: 'https://evil.example' } });
    // Assess
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toEqual({ error: expect.stringContaining('not a loopback origin') });
    expect(seen).toHaveLength(1);
  });

  it('refuses a prefix of another form, the control API, and one mounted twice', () => {
    // Assess
    for (const prefix of ['/_local/', '/v2/', '/_extra', '_x/', '/_X/', '/_a/b/', '/']) {
      expect(() => server.mount(prefix, () => undefined)).toThrow(/Cannot mount/);
    }
    expect(() => server.mount('/_extra/', () => undefined)).toThrow(/mounted already/);
  });
});
