import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeRegistriesCommand,
  DescribeRepositoriesCommand,
  ECRPUBLICClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr-public';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AccessDeniedError, RepositoryNotFoundError } from '../../../shared/ecr/index.ts';
import { createEcrPublicGateway, type EcrPublicGateway } from '../../../shared/ecr-public/index.ts';

/**
 * getManifests against a stand-in for the registry API of public.ecr.aws: `/token/` exchanges the authorization
 * token (HTTP Basic) for a bearer token, `/v2/<alias>/<name>/manifests/<digest>` answers the manifest's bytes.
 */

const REPO = 'team/app';
const ALIAS = 'myalias';
const PASSWORD = 'secret-password';
const BASIC = Buffer.from(`AWS:${PASSWORD}`).toString('base64');
const INDEX = 'application/vnd.oci.image.index.v1+json';

const ecrPublic = mockClient(ECRPUBLICClient);

const sha = (text: string | Buffer) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

interface Behaviour {
  manifests: Map<string, { body: string | Buffer; mediaType: string }>;
  /** Answers for the next manifest requests, in order, before the normal one. */
  queued: number[];
  bearer: string;
  tokenRequests: number;
  scopes: string[];
  manifestRequests: IncomingMessage[];
  /** Answer this body (bytes that do not hash to the digest) instead of the stored one. */
  lie?: string;
}

let server: Server;
let url: string;
let behaviour: Behaviour;

function handle(request: IncomingMessage, response: ServerResponse): void {
  const path = new URL(request.url ?? '/', 'http://x');
  if (path.pathname === '/token/') {
    behaviour.tokenRequests++;
    if (request.headers.authorization !== `Basic ${BASIC}`) {
      response.writeHead(401).end();
      return;
    }
    behaviour.scopes.push(String(path.searchParams.get('scope')));
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: behaviour.bearer }));
    return;
  }
  const match = /^\/v2\/(.+)\/manifests\/(sha256:[a-f0-9]{64})$/.exec(path.pathname);
  if (!match) {
    response.writeHead(404).end();
    return;
  }
  behaviour.manifestRequests.push(request);
  if (request.headers.authorization !== `Bearer ${behaviour.bearer}`) {
    response.writeHead(401).end();
    return;
  }
  const queued = behaviour.queued.shift();
  if (queued !== undefined) {
    response.writeHead(queued).end();
    return;
  }
  if (match[1] !== `${ALIAS}/${REPO}`) {
    response
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }));
    return;
  }
  const stored = behaviour.manifests.get(match[2] as string);
  if (!stored) {
    response
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
    return;
  }
  response.writeHead(200, { 'content-type': stored.mediaType }).end(behaviour.lie ?? stored.body);
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  ecrPublic.reset();
  ecrPublic.on(DescribeRepositoriesCommand).resolves({
    repositories: [{ repositoryName: REPO, repositoryUri: `public.ecr.aws/${ALIAS}/${REPO}` }],
  });
  ecrPublic.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: { authorizationToken: BASIC, expiresAt: new Date(Date.now() + 12 * 3_600_000) },
  });
  ecrPublic.on(DescribeRegistriesCommand).resolves({
    registries: [
      {
        registryId: '123456789012',
        registryArn: 'arn',
        registryUri: `public.ecr.aws/${ALIAS}`,
        verified: false,
        aliases: [{ name: ALIAS, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }],
      },
    ],
  });
  behaviour = {
    manifests: new Map(),
    queued: [],
    bearer: 'bearer-1',
    tokenRequests: 0,
    scopes: [],
    manifestRequests: [],
  };
});

afterEach(() => ecrPublic.reset());

const gateway = (options: { manifestConcurrency?: number } = {}): EcrPublicGateway =>
  createEcrPublicGateway(new ECRPUBLICClient({ region: 'us-east-1' }), {
    registryUrl: url,
    itemRetryDelayMs: 0,
    registryTimeoutMs: 2_000,
    ...options,
  });

function store(body: string | Buffer, mediaType = INDEX): string {
  const digest = sha(body);
  behaviour.manifests.set(digest, { body, mediaType });
  return digest;
}

const indexOf = (name: string) => JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [], name });

describe('Method: getManifests', () => {
  it('reads the exact bytes with one token for the repository, as many at once as allowed', async () => {
    // Prepare
    const stored = Array.from({ length: 20 }, (_, i) => store(indexOf(`index-${i}`)));
    const g = gateway({ manifestConcurrency: 4 });
    // Act
    const { manifests, failures } = await g.getManifests(REPO, stored);
    // Assess
    expect(failures).toEqual([]);
    expect(manifests.map((m) => m.digest)).toEqual(stored);
    expect(manifests[3]).toEqual({ digest: stored[3], mediaType: INDEX, manifest: indexOf('index-3') });
    expect(behaviour.tokenRequests).toBe(1);
    expect(behaviour.scopes).toEqual([`repository:${ALIAS}/${REPO}:pull`]);
    const accept = String(behaviour.manifestRequests[0]?.headers.accept);
    expect(accept).toContain(INDEX);
    expect(accept).toContain('application/vnd.docker.distribution.manifest.list.v2+json');
    expect(g.callCounts()).toEqual({
      DescribeRepositories: 1,
      GetAuthorizationToken: 1,
      GetRegistryToken: 1,
      GetManifest: 20,
    });
  });

  it('takes the alias from the repository URI once the repository was listed', async () => {
    // Prepare
    const digest = store(indexOf('a'));
    const g = gateway();
    for await (const _ of g.listRepositories());
    // Act
    const { manifests } = await g.getManifests(REPO, [digest]);
    // Assess
    expect(manifests).toHaveLength(1);
    expect(g.callCounts()).toMatchObject({ DescribeRepositories: 1, GetManifest: 1 });
    expect(g.callCounts().DescribeRegistries).toBeUndefined();
  });

  it("falls back on the registry's default alias when the URI has another form", async () => {
    // Prepare
    ecrPublic.on(DescribeRepositoriesCommand).resolves({
      repositories: [{ repositoryName: REPO, repositoryUri: `example.com/${REPO}` }],
    });
    const digest = store(indexOf('b'));
    const g = gateway();
    // Act
    const { manifests } = await g.getManifests(REPO, [digest]);
    // Assess
    expect(manifests).toHaveLength(1);
    expect(g.callCounts()).toMatchObject({ DescribeRepositories: 1, DescribeRegistries: 1 });
  });

  it('reports a manifest the registry does not know as ImageNotFound, and others still read', async () => {
    // Prepare
    const present = store(indexOf('present'));
    const absent = sha('absent');
    // Act
    const { manifests, failures } = await gateway().getManifests(REPO, [absent, present]);
    // Assess
    expect(manifests.map((m) => m.digest)).toEqual([present]);
    expect(failures).toEqual([expect.objectContaining({ digest: absent, code: 'ImageNotFound', retryable: false })]);
  });

  it('refuses bytes that do not hash to the digest asked for', async () => {
    // Prepare
    const digest = store(indexOf('real'));
    behaviour.lie = indexOf('forged');
    // Act
    const { manifests, failures } = await gateway().getManifests(REPO, [digest]);
    // Assess
    expect(manifests).toEqual([]);
    expect(failures).toEqual([expect.objectContaining({ digest, code: 'DigestMismatch', retryable: false })]);
  });

  it('stops reading a body larger than 4 MiB', async () => {
    // Prepare
    const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    const digest = store(huge);
    // Act
    const { failures } = await gateway().getManifests(REPO, [digest]);
    // Assess
    expect(failures).toEqual([expect.objectContaining({ digest, code: 'ManifestTooLarge' })]);
  });

  it('re-tries 429 and 5xx in bounded rounds, counting every request', async () => {
    // Prepare
    const digest = store(indexOf('busy'));
    behaviour.queued = [429, 503];
    const g = gateway();
    // Act
    const { manifests, failures } = await g.getManifests(REPO, [digest]);
    // Assess
    expect(failures).toEqual([]);
    expect(manifests.map((m) => m.digest)).toEqual([digest]);
    expect(g.callCounts().GetManifest).toBe(3);
  });

  it('gives up after the last round and reports the throttling', async () => {
    // Prepare
    const digest = store(indexOf('always-busy'));
    behaviour.queued = [429, 429, 429, 429, 429];
    const g = gateway();
    // Act
    const { failures } = await g.getManifests(REPO, [digest]);
    // Assess
    expect(failures).toEqual([expect.objectContaining({ digest, code: 'TooManyRequests', retryable: true })]);
    expect(g.callCounts().GetManifest).toBe(4);
  });

  it('exchanges a new bearer token once when the registry refuses the cached one', async () => {
    // Prepare
    const first = store(indexOf('one'));
    const second = store(indexOf('two'));
    const g = gateway();
    await g.getManifests(REPO, [first]);
    behaviour.bearer = 'bearer-2';
    // Act
    const { manifests } = await g.getManifests(REPO, [second]);
    // Assess
    expect(manifests.map((m) => m.digest)).toEqual([second]);
    expect(behaviour.tokenRequests).toBe(2);
  });

  it('throws AccessDeniedError when the registry refuses the authorization token', async () => {
    // Prepare
    ecrPublic.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: { authorizationToken: 'd3Jvbmc=', expiresAt: new Date(Date.now() + 3_600_000) },
    });
    // Act & Assess
    await expect(gateway().getManifests(REPO, [store(indexOf('x'))])).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('throws RepositoryNotFoundError when the registry does not know the repository', async () => {
    // Prepare
    ecrPublic.on(DescribeRepositoriesCommand).resolves({
      repositories: [{ repositoryName: REPO, repositoryUri: `public.ecr.aws/otheralias/${REPO}` }],
    });
    behaviour.bearer = 'bearer-1';
    const g = gateway();
    await g.getRepository(REPO);
    // Act & Assess
    await expect(g.getManifests(REPO, [store(indexOf('y'))])).rejects.toBeInstanceOf(RepositoryNotFoundError);
  });

  it('reports a digest that is not sha256 without a request', async () => {
    // Act
    const g = gateway();
    const { failures } = await g.getManifests(REPO, ['sha256:../../etc/passwd']);
    // Assess
    expect(failures).toEqual([expect.objectContaining({ code: 'InvalidImageDigest', retryable: false })]);
    expect(g.callCounts().GetManifest).toBeUndefined();
  });

  it('fails a read the registry does not answer in time, as a retryable failure', async () => {
    // Prepare
    const slow = createServer(() => undefined);
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const g = createEcrPublicGateway(new ECRPUBLICClient({ region: 'us-east-1' }), {
      registryUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`,
      itemRetryDelayMs: 0,
      maxItemRetries: 0,
      registryTimeoutMs: 200,
    });
    try {
      // Act
      const { failures } = await g.getManifests(REPO, [sha('slow')]);
      // Assess
      expect(failures).toEqual([expect.objectContaining({ code: 'RegistryUnavailable', retryable: true })]);
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});
