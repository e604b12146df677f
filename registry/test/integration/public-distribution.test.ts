import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRepositoryCommand as CreatePrivateRepositoryCommand, type ECRClient } from '@aws-sdk/client-ecr';
import {
  CreateRepositoryCommand,
  DescribeRegistriesCommand,
  type ECRPUBLICClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr-public';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MEDIA_TYPES } from '../../src/model/manifests.ts';
import { control, ecrClient, ecrPublicClient, startTestRegistry, TEST_ACCOUNT } from '../../src/testing.ts';
import { MAX_MANIFEST_BYTES } from '../../src/wire/distribution.ts';
import type { RegistryServer } from '../../src/wire/server.ts';
import { digestOf, loginHeader, ociManifest, RegistryApi } from './registry-api-client.ts';

const OTHER_ACCOUNT = '222222222222';
const ANONYMOUS_BASIC = `Basic ${Buffer.from(':').toString('base64')}`;

/** `Basic <authorizationToken>` of ECR Public's GetAuthorizationToken (what `--creds AWS:<password>` sends). */
async function publicLogin(client: ECRPUBLICClient): Promise<string> {
  const { authorizationData } = await client.send(new GetAuthorizationTokenCommand({}));
  return `Basic ${authorizationData?.authorizationToken ?? ''}`;
}

async function aliasOf(client: ECRPUBLICClient): Promise<string> {
  const { registries } = await client.send(new DescribeRegistriesCommand({}));
  return registries?.[0]?.aliases?.[0]?.name ?? '';
}

/** A bearer token of the token endpoint, asked for with `authorization` (none: anonymous). */
async function bearerFor(server: RegistryServer, authorization?: string): Promise<string> {
  const response = await fetch(`${server.url}/token/?service=public.ecr.aws&scope=aws`, {
    headers: authorization ? { authorization } : {},
  });
  expect(response.status).toBe(200);
  const { token } = (await response.json()) as { token: string };
  return `Bearer ${token}`;
}

describe('registry API (/v2/) of public repositories: /v2/<alias>/<name>', () => {
  let server: RegistryServer;
  let owner: ECRPUBLICClient;
  let other: ECRPUBLICClient;
  let privateClient: ECRClient;
  let alias: string;
  let repo: string;
  let push: RegistryApi;
  const anonymous = () => new RegistryApi(server, undefined);

  beforeAll(async () => {
    server = await startTestRegistry();
    owner = ecrPublicClient(server);
    other = ecrPublicClient(server, { account: OTHER_ACCOUNT });
    privateClient = ecrClient(server);
  });
  afterAll(async () => {
    owner.destroy();
    other.destroy();
    privateClient.destroy();
    await server.close();
  });
  beforeEach(async () => {
    await control(server, 'reset', {});
    await owner.send(new CreateRepositoryCommand({ repositoryName: 'team/app' }));
    alias = await aliasOf(owner);
    repo = `${alias}/team/app`;
    push = new RegistryApi(server, await publicLogin(owner));
  });

  describe('pushing with an ECR Public login, pulling anonymously', () => {
    it('takes an image pushed by the alias’s account and serves it to anyone, counting the calls as v2public', async () => {
      // Prepare
      const pushed = await push.pushImage(repo, 'v1', 'public-v1');
      // Act
      const manifest = await anonymous().request('GET', `/v2/${repo}/manifests/v1`);
      const head = await new RegistryApi(server, ANONYMOUS_BASIC).request('HEAD', `/v2/${repo}/manifests/v1`);
      const layer = await anonymous().request('GET', `/v2/${repo}/blobs/${pushed.layer}`);
      const tags = await anonymous().request('GET', `/v2/${repo}/tags/list`);
      const referrers = await anonymous().request('GET', `/v2/${repo}/referrers/${pushed.digest}`);
      const stored = server.publicRegistries.existing(TEST_ACCOUNT)?.repositories.get('team/app');
      const { operations } = await control<{ operations: Record<string, number> }>(server, 'calls');
      // Assess
      expect(pushed.response.status).toBe(201);
      expect(pushed.response.headers.get('location')).toBe(`/v2/${repo}/manifests/${pushed.digest}`);
      expect([manifest.status, manifest.body.toString()]).toEqual([200, pushed.manifest]);
      expect(manifest.headers.get('docker-content-digest')).toBe(pushed.digest);
      expect([head.status, head.headers.get('content-length')]).toEqual([200, String(pushed.manifest.length)]);
      expect([layer.status, layer.body.toString()]).toEqual([200, 'layer of public-v1'.repeat(100)]);
      expect(tags.json()).toEqual({ name: repo, tags: ['v1'] });
      expect(referrers.json()).toMatchObject({ mediaType: MEDIA_TYPES.ociIndex, manifests: [] });
      expect(stored?.content.images.byTagName('v1')?.digest).toBe(pushed.digest);
      expect(stored?.content.images.get(pushed.digest)?.lastPulledAt).toBeUndefined();
      expect(stored?.tagTimes.has('v1')).toBe(true);
      expect(operations).toMatchObject({
        'v2public:POST:uploads': 2,
        'v2public:PUT:manifest': 1,
        'v2public:GET:manifest': 1,
        'v2public:HEAD:manifest': 1,
        'v2public:GET:blob': 1,
      });
      expect(Object.keys(operations).filter((name) => name.startsWith('v2:'))).toEqual([]);
    });

    it('takes a chunked upload, a re-push of the same manifest, and an index of its images, with a referrer', async () => {
      // Prepare
      const content = Buffer.from('chunked public layer '.repeat(500));
      const started = await push.request('POST', `/v2/${repo}/blobs/uploads/`);
      const location = started.headers.get('location') ?? '';
      const first = await push.request('PATCH', location, {
        headers: { 'content-range': `0-999`, 'content-length': '1000' },
        body: content.subarray(0, 1000),
      });
      const done = await push.request('PUT', `${location}?digest=${digestOf(content)}`, {
        body: content.subarray(1000),
      });
      const image = await push.pushImage(repo, 'amd64', 'public-amd64');
      const again = await push.pushManifest(repo, 'amd64', image.manifest);
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: image.digest, size: image.manifest.length }],
      });
      // Act
      const indexPush = await push.pushManifest(repo, 'multi', index, MEDIA_TYPES.ociIndex);
      const signature = await push.pushImage(repo, `sha256-${image.digest.slice(7)}.sig`, 'sig', {
        subject: { mediaType: MEDIA_TYPES.ociManifest, digest: image.digest, size: image.manifest.length },
      });
      const referrers = await anonymous().request('GET', `/v2/${repo}/referrers/${image.digest}`);
      const blob = await anonymous().request('GET', `/v2/${repo}/blobs/${digestOf(content)}`);
      const tags = await anonymous().request('GET', `/v2/${repo}/tags/list?n=2`);
      // Assess
      expect([started.status, first.status, done.status]).toEqual([202, 202, 201]);
      expect(again.status).toBe(201);
      expect(indexPush.status).toBe(201);
      expect(signature.response.headers.get('oci-subject')).toBe(image.digest);
      expect(referrers.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest)).toEqual([
        signature.digest,
      ]);
      expect(blob.body.equals(content)).toBe(true);
      expect(tags.json()).toEqual({ name: repo, tags: ['amd64', 'multi'] });
      expect(tags.headers.get('link')).toBe(`</v2/${repo}/tags/list?n=2&last=multi>; rel="next"`);
    });

    it('mounts a blob from another repository of the same public registry only', async () => {
      // Prepare
      await owner.send(new CreateRepositoryCommand({ repositoryName: 'other' }));
      const digest = await push.pushBlob(repo, 'shared blob');
      await privateClient.send(new CreatePrivateRepositoryCommand({ repositoryName: 'private' }));
      const privatePush = new RegistryApi(server, await loginHeader(privateClient));
      const privateDigest = await privatePush.pushBlob('private', 'private blob');
      // Act
      const mounted = await push.request('POST', `/v2/${alias}/other/blobs/uploads/?mount=${digest}&from=${repo}`);
      const fromPrivate = await push.request(
        'POST',
        `/v2/${alias}/other/blobs/uploads/?mount=${privateDigest}&from=private`,
      );
      const pulled = await anonymous().request('GET', `/v2/${alias}/other/blobs/${digest}`);
      const notMounted = await anonymous().request('GET', `/v2/${alias}/other/blobs/${privateDigest}`);
      // Assess
      expect([mounted.status, mounted.headers.get('location')]).toEqual([201, `/v2/${alias}/other/blobs/${digest}`]);
      expect(fromPrivate.status).toBe(202);
      expect(pulled.body.toString()).toBe('shared blob');
      expect([notMounted.status, notMounted.codes]).toEqual([404, ['BLOB_UNKNOWN']]);
    });
  });

  describe('who may push', () => {
    it('challenges an anonymous push with public.ecr.aws’s bearer challenge, and refuses another account’s', async () => {
      // Prepare
      const stranger = new RegistryApi(server, await publicLogin(other));
      const manifest = ociManifest(digestOf('c'), 1, digestOf('l'), 1);
      // Act
      const anonymousUpload = await anonymous().request('POST', `/v2/${repo}/blobs/uploads/`);
      const anonymousManifest = await new RegistryApi(server, ANONYMOUS_BASIC).pushManifest(repo, 'v1', manifest);
      const strangerUpload = await stranger.request('POST', `/v2/${repo}/blobs/uploads/?digest=${digestOf('x')}`, {
        body: 'x',
      });
      const strangerManifest = await stranger.pushManifest(repo, 'v1', manifest);
      const strangerPull = await stranger.request('GET', `/v2/${repo}/tags/list`);
      // Assess
      for (const response of [anonymousUpload, anonymousManifest]) {
        expect([response.status, response.codes]).toEqual([401, ['UNAUTHORIZED']]);
        expect(response.headers.get('www-authenticate')).toBe(
          `Bearer realm="${server.url}/token/",service="public.ecr.aws",scope="aws"`,
        );
      }
      for (const response of [strangerUpload, strangerManifest]) {
        expect([response.status, response.codes]).toEqual([403, ['DENIED']]);
      }
      expect(strangerPull.json()).toEqual({ name: repo, tags: [] });
    });

    it('keeps the private registry’s login: its ping challenge, and a private repository named <alias>/<x>', async () => {
      // Prepare
      await privateClient.send(new CreatePrivateRepositoryCommand({ repositoryName: `${alias}/mirror` }));
      const privateApi = new RegistryApi(server, await loginHeader(privateClient));
      await privateApi.pushImage(`${alias}/mirror`, 'v1', 'private-mirror');
      // Act
      const ping = await anonymous().request('GET', '/v2/');
      const publicPing = await push.request('GET', '/v2/');
      const privateRead = await privateApi.request('GET', `/v2/${alias}/mirror/tags/list`);
      const publicRead = await anonymous().request('GET', `/v2/${alias}/mirror/tags/list`);
      const privateOnPublic = await privateApi.request('GET', `/v2/${repo}/tags/list`);
      const anonymousPrivate = await anonymous().request('GET', '/v2/team/private/tags/list');
      // Assess
      expect([ping.status, ping.headers.get('www-authenticate')]).toEqual([
        401,
        `Basic realm="${server.url}/",service="ecr.amazonaws.com"`,
      ]);
      expect(publicPing.status).toBe(200);
      expect(privateRead.json()).toEqual({ name: `${alias}/mirror`, tags: ['v1'] });
      expect([publicRead.status, publicRead.codes]).toEqual([404, ['NAME_UNKNOWN']]);
      expect([privateOnPublic.status, privateOnPublic.codes]).toEqual([404, ['NAME_UNKNOWN']]);
      expect([anonymousPrivate.status, anonymousPrivate.headers.get('www-authenticate')]).toEqual([
        401,
        `Basic realm="${server.url}/",service="ecr.amazonaws.com"`,
      ]);
    });
  });

  describe('the token endpoint', () => {
    it('gives an anonymous pull-only token, and a push token for an ECR Public password', async () => {
      // Prepare
      const pushed = await push.pushImage(repo, 'v1', 'tokens');
      const pullToken = await bearerFor(server);
      const pushToken = await bearerFor(server, await publicLogin(owner));
      const authorizationToken = (await publicLogin(owner)).slice('Basic '.length);
      // Act
      const pulled = await new RegistryApi(server, pullToken).request('GET', `/v2/${repo}/manifests/v1`);
      const refused = await new RegistryApi(server, pullToken).request('POST', `/v2/${repo}/blobs/uploads/`);
      const bearerPush = await new RegistryApi(server, pushToken).pushImage(repo, 'v2', 'bearer');
      const tokenAsBearer = await new RegistryApi(server, `Bearer ${authorizationToken}`).pushImage(repo, 'v3', 'b64');
      const forged = await new RegistryApi(server, `${pushToken}x`).request('GET', `/v2/${repo}/tags/list`);
      // Assess
      expect(pulled.headers.get('docker-content-digest')).toBe(pushed.digest);
      expect([refused.status, refused.codes]).toEqual([401, ['UNAUTHORIZED']]);
      expect(bearerPush.response.status).toBe(201);
      expect(tokenAsBearer.response.status).toBe(201);
      expect([forged.status, forged.headers.get('www-authenticate')]).toEqual([
        401,
        `Bearer realm="${server.url}/token/",service="public.ecr.aws",scope="aws"`,
      ]);
    });

    it('refuses a bad password, a private password, another method and an oversized query', async () => {
      // Prepare
      const privatePassword = await loginHeader(privateClient);
      const token = (query: string, headers: Record<string, string> = {}, method = 'GET') =>
        fetch(`${server.url}/token/${query}`, { method, headers });
      // Act
      const bad = await token('?service=public.ecr.aws', {
        authorization: `Basic ${Buffer.from('AWS:forged.password').toString('base64')}`,
      });
      const wrongKind = await token('?service=public.ecr.aws', { authorization: privatePassword });
      const post = await token('', {}, 'POST');
      const long = await token(`?scope=${'a'.repeat(5000)}`);
      const many = await token(`?${Array.from({ length: 17 }, () => 'scope=aws').join('&')}`);
      const empty = await token('', { authorization: ANONYMOUS_BASIC });
      // Assess
      expect([bad.status, wrongKind.status, post.status, long.status, many.status]).toEqual([401, 401, 405, 400, 400]);
      expect(Object.keys((await empty.json()) as object)).toEqual(['token']);
    });
  });

  describe('hostile and unsupported requests', () => {
    it('answers clear OCI errors', async () => {
      // Prepare
      const pushed = await push.pushImage(repo, 'v1', 'hostile');
      const missingLayer = ociManifest(digestOf('c'), 1, digestOf('missing'), 1);
      // Act
      const deleted = await push.request('DELETE', `/v2/${repo}/manifests/${pushed.digest}`);
      const huge = await push.pushManifest(repo, 'big', 'x'.repeat(MAX_MANIFEST_BYTES + 1));
      const badTag = await push.pushManifest(repo, '-bad', pushed.manifest);
      const blobUnknown = await push.pushManifest(repo, 'broken', missingLayer);
      const noRepository = await push.pushImage(`${alias}/absent`, 'v1', 'absent').catch((error: Error) => error);
      const noAlias = await push.request('GET', '/v2/nosuchalias/app/tags/list');
      const badDigest = await anonymous().request('GET', `/v2/${repo}/blobs/sha256:xyz`);
      const anonymousDelete = await anonymous().request('DELETE', `/v2/${repo}/manifests/${pushed.digest}`);
      const junkHeader = await new RegistryApi(server, 'Bearer !!!').request('GET', `/v2/${repo}/tags/list`);
      // Assess
      expect([deleted.status, deleted.codes]).toEqual([405, ['UNSUPPORTED']]);
      expect([huge.status, huge.codes]).toEqual([413, ['MANIFEST_INVALID']]);
      expect([badTag.status, badTag.codes]).toEqual([400, ['TAG_INVALID']]);
      expect([blobUnknown.status, blobUnknown.codes]).toEqual([400, ['MANIFEST_BLOB_UNKNOWN']]);
      expect(String(noRepository)).toContain('HTTP 404');
      expect([noAlias.status, noAlias.codes]).toEqual([404, ['NAME_UNKNOWN']]);
      expect([badDigest.status, badDigest.codes]).toEqual([400, ['DIGEST_INVALID']]);
      expect(anonymousDelete.status).toBe(401);
      expect(junkHeader.status).toBe(401);
    });

    it('injects the faults set for a public call’s name', async () => {
      // Prepare
      await push.pushImage(repo, 'v1', 'faults');
      await control(server, 'faults', { operation: 'v2public:GET:manifest', throttleRate: 1 });
      // Act
      const throttled = await anonymous().request('GET', `/v2/${repo}/manifests/v1`);
      await control(server, 'faults/clear', {});
      const served = await anonymous().request('GET', `/v2/${repo}/manifests/v1`);
      // Assess
      expect([throttled.status, throttled.codes]).toEqual([429, ['TOOMANYREQUESTS']]);
      expect(served.status).toBe(200);
    });
  });
});

describe('public repositories over /v2/ in a data directory', () => {
  let dir: string;
  const servers: RegistryServer[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecr-public-v2-'));
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a blob uploaded over /v2/ pullable after a restart', async () => {
    // Prepare
    const first = await startTestRegistry({ dataDir: dir });
    servers.push(first);
    const client = ecrPublicClient(first);
    await client.send(new CreateRepositoryCommand({ repositoryName: 'app' }));
    const alias = await aliasOf(client);
    const digest = await new RegistryApi(first, await publicLogin(client)).pushBlob(`${alias}/app`, 'kept blob');
    client.destroy();
    await first.close();
    servers.pop();
    // Act
    const second = await startTestRegistry({ dataDir: dir });
    servers.push(second);
    const pulled = await new RegistryApi(second, undefined).request('GET', `/v2/${alias}/app/blobs/${digest}`);
    // Assess
    expect(pulled.body.toString()).toBe('kept blob');
  });

  // A manifest pushed over /v2/ is journalled as the ECR Public PutImage it amounts to, and replayed as one.
  it('keeps an image pushed over /v2/ pullable after a restart', async () => {
    // Prepare
    const first = await startTestRegistry({ dataDir: dir });
    servers.push(first);
    const client = ecrPublicClient(first);
    await client.send(new CreateRepositoryCommand({ repositoryName: 'app' }));
    const alias = await aliasOf(client);
    const pushed = await new RegistryApi(first, await publicLogin(client)).pushImage(`${alias}/app`, 'v1', 'kept');
    client.destroy();
    await first.close();
    servers.pop();
    // Act
    const second = await startTestRegistry({ dataDir: dir });
    servers.push(second);
    const pulled = await new RegistryApi(second, undefined).request('GET', `/v2/${alias}/app/manifests/v1`);
    // Assess
    expect([pulled.status, pulled.body.toString()]).toEqual([200, pushed.manifest]);
  });
});
