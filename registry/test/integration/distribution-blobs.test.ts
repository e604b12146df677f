import { request as httpRequest } from 'node:http';
import { CreateRepositoryCommand, type ECRClient, SetRepositoryPolicyCommand } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildImageManifest } from '../../src/model/manifests.ts';
import { control, declareBlobs, ecrClient, startTestRegistry, TEST_ACCOUNT } from '../../src/testing.ts';
import { MAX_BLOB_BYTES } from '../../src/wire/distribution.ts';
import type { RegistryServer } from '../../src/wire/server.ts';
import { digestOf, loginHeader, RegistryApi } from './registry-api-client.ts';

const REPO = 'team/app';

describe('registry API (/v2/): login, blobs and uploads', () => {
  let server: RegistryServer;
  let client: ECRClient;
  let api: RegistryApi;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    await client.send(new CreateRepositoryCommand({ repositoryName: REPO }));
    api = new RegistryApi(server, await loginHeader(client));
  });

  describe('calls and faults', () => {
    it('counts logged-in requests by method and route, and injects the faults set for them', async () => {
      // Prepare
      const blob = await api.request('POST', `/v2/${REPO}/blobs/uploads/?digest=${digestOf('counted')}`, {
        body: 'counted',
      });
      await control(server, 'faults', { operation: 'v2:GET:blob', throttleRate: 1 });
      // Act
      const throttled = await api.request('GET', `/v2/${REPO}/blobs/${digestOf('counted')}`);
      await control(server, 'faults/clear', {});
      const served = await api.request('GET', `/v2/${REPO}/blobs/${digestOf('counted')}`);
      const anonymous = await new RegistryApi(server, undefined).request('GET', '/v2/');
      const { operations } = await control<{ operations: Record<string, number> }>(server, 'calls');
      // Assess
      expect(blob.status).toBe(201);
      expect([throttled.status, throttled.codes]).toEqual([429, ['TOOMANYREQUESTS']]);
      expect(served.body.toString()).toBe('counted');
      expect(anonymous.status).toBe(401);
      expect(operations).toMatchObject({ 'v2:POST:uploads': 1, 'v2:GET:blob': 2 });
      expect(operations['v2:GET:base']).toBeUndefined();
    });
  });

  describe('login', () => {
    it('challenges a request without a token with Basic and UNAUTHORIZED', async () => {
      // Act
      const anonymous = await new RegistryApi(server, undefined).request('GET', '/v2/');
      const forged = await new RegistryApi(server, `Basic ${Buffer.from('AWS:abc.def').toString('base64')}`).request(
        'GET',
        `/v2/${REPO}/tags/list`,
      );
      const notAws = await new RegistryApi(server, (api.authorization ?? '').replace('QVdT', 'QVdU')).request(
        'GET',
        '/v2/',
      );
      // Assess
      for (const response of [anonymous, forged, notAws]) {
        expect(response.status).toBe(401);
        expect(response.codes).toEqual(['UNAUTHORIZED']);
        expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="http:\/\/127\.0\.0\.1:\d+\/"/);
        expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
      }
    });

    it('answers 200 with a token, in the account and region the token names', async () => {
      // Prepare
      const owner = ecrClient(server, { account: '111111111111' });
      await owner.send(new CreateRepositoryCommand({ repositoryName: 'shared/app' }));
      const ownersLogin = new RegistryApi(server, await loginHeader(owner));
      // Act
      const base = await api.request('GET', '/v2/');
      const own = await api.request('GET', `/v2/${REPO}/tags/list`);
      const ownersOwn = await ownersLogin.request('GET', '/v2/shared/app/tags/list');
      const ownersMissing = await ownersLogin.request('GET', `/v2/${REPO}/tags/list`);
      // Assess
      expect(base.status).toBe(200);
      expect(base.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
      expect(own.status).toBe(200);
      expect(ownersOwn.json()).toEqual({ name: 'shared/app', tags: [] });
      expect(ownersMissing.status).toBe(404);
      expect(ownersMissing.codes).toEqual(['NAME_UNKNOWN']);
    });

    it('lets a caller of another account in only as the repository policy allows', async () => {
      // Prepare
      const owner = ecrClient(server, { account: '111111111111' });
      await owner.send(new CreateRepositoryCommand({ repositoryName: 'shared/app' }));
      await owner.send(new CreateRepositoryCommand({ repositoryName: 'shared/private' }));
      await owner.send(
        new SetRepositoryPolicyCommand({
          repositoryName: 'shared/app',
          policyText: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'pull',
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` },
                Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:ListImages'],
              },
            ],
          }),
        }),
      );
      const visitor = new RegistryApi(server, await loginHeader(client, ['111111111111']));
      // Act
      const allowed = await visitor.request('GET', '/v2/shared/app/tags/list');
      const push = await visitor.request('POST', '/v2/shared/app/blobs/uploads/');
      const noPolicy = await visitor.request('GET', '/v2/shared/private/tags/list');
      const missing = await visitor.request('GET', `/v2/${REPO}/tags/list`);
      // Assess
      expect(allowed.status).toBe(200);
      expect([push, noPolicy, missing].map((r) => [r.status, r.codes])).toEqual([
        [403, ['DENIED']],
        [403, ['DENIED']],
        [403, ['DENIED']],
      ]);
      expect(server.registry.uploads.size).toBe(0);
    });

    it('does not list repositories (/v2/_catalog), as ECR does not', async () => {
      // Act
      const catalog = await api.request('GET', '/v2/_catalog');
      // Assess
      expect(catalog.status).toBe(404);
      expect(catalog.codes).toEqual(['UNSUPPORTED']);
    });
  });

  describe('blobs', () => {
    it('stores a monolithic POST ?digest= upload and serves it whole, by range and by HEAD', async () => {
      // Prepare
      const content = Buffer.from('0123456789abcdef'.repeat(64));
      const digest = digestOf(content);
      // Act
      const pushed = await api.request('POST', `/v2/${REPO}/blobs/uploads/?digest=${digest}`, { body: content });
      const head = await api.request('HEAD', `/v2/${REPO}/blobs/${digest}`);
      const whole = await api.request('GET', `/v2/${REPO}/blobs/${digest}`);
      const part = await api.request('GET', `/v2/${REPO}/blobs/${digest}`, { headers: { range: 'bytes=16-31' } });
      const outOfRange = await api.request('GET', `/v2/${REPO}/blobs/${digest}`, { headers: { range: 'bytes=5000-' } });
      // Assess
      expect(pushed.status).toBe(201);
      expect(pushed.headers.get('location')).toBe(`/v2/${REPO}/blobs/${digest}`);
      expect(pushed.headers.get('docker-content-digest')).toBe(digest);
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(content.length));
      expect(head.headers.get('docker-content-digest')).toBe(digest);
      expect(head.body.length).toBe(0);
      expect(whole.body.equals(content)).toBe(true);
      expect(part.status).toBe(206);
      expect(part.body.toString()).toBe('0123456789abcdef');
      expect(part.headers.get('content-range')).toBe(`bytes 16-31/${content.length}`);
      expect(outOfRange.status).toBe(416);
    });

    it('answers BLOB_UNKNOWN for a blob the repository lacks or holds only as a placeholder, and refuses DELETE', async () => {
      // Prepare
      const manifest = buildImageManifest({ seed: 'placeholder' });
      await declareBlobs(server, REPO, manifest);
      const placeholder = (JSON.parse(manifest) as { config: { digest: string } }).config.digest;
      const elsewhere = await api.pushBlob(REPO, 'stored in team/app');
      await client.send(new CreateRepositoryCommand({ repositoryName: 'team/other' }));
      // Act
      const missing = await api.request('GET', `/v2/${REPO}/blobs/${digestOf('never pushed')}`);
      const declared = await api.request('GET', `/v2/${REPO}/blobs/${placeholder}`);
      const otherRepository = await api.request('GET', `/v2/team/other/blobs/${elsewhere}`);
      const deleted = await api.request('DELETE', `/v2/${REPO}/blobs/${elsewhere}`);
      // Assess
      expect([missing, declared, otherRepository].map((r) => [r.status, r.codes])).toEqual([
        [404, ['BLOB_UNKNOWN']],
        [404, ['BLOB_UNKNOWN']],
        [404, ['BLOB_UNKNOWN']],
      ]);
      expect(deleted.status).toBe(405);
      expect(deleted.codes).toEqual(['UNSUPPORTED']);
      expect((await api.request('HEAD', `/v2/${REPO}/blobs/${elsewhere}`)).status).toBe(200);
    });

    it('refuses bad names, digests and unknown repositories with the OCI codes', async () => {
      // Act
      const badName = await api.request('GET', `/v2/Team/App/blobs/${digestOf('x')}`);
      const badDigest = await api.request('GET', `/v2/${REPO}/blobs/sha256:xyz`);
      const md5 = await api.request('GET', `/v2/${REPO}/blobs/md5:d41d8cd98f00b204e9800998ecf8427e`);
      const unknownRepository = await api.request('POST', '/v2/team/nothing/blobs/uploads/');
      const longPath = await api.request('GET', `/v2/${'a/'.repeat(2000)}blobs/${digestOf('x')}`);
      // Assess
      expect([badName, badDigest, md5, unknownRepository, longPath].map((r) => [r.status, r.codes])).toEqual([
        [400, ['NAME_INVALID']],
        [400, ['DIGEST_INVALID']],
        [400, ['DIGEST_INVALID']],
        [404, ['NAME_UNKNOWN']],
        [400, ['NAME_INVALID']],
      ]);
    });
  });

  describe('uploads', () => {
    it('takes chunks in order (PATCH with Content-Range), reports its offset, and closes with PUT ?digest=', async () => {
      // Prepare
      const content = Buffer.from('chunked upload content '.repeat(100));
      const digest = digestOf(content);
      // Act
      const started = await api.request('POST', `/v2/${REPO}/blobs/uploads/`);
      const location = started.headers.get('location') ?? '';
      const first = await api.request('PATCH', location, {
        headers: { 'content-range': '0-999', 'content-type': 'application/octet-stream' },
        body: content.subarray(0, 1000),
      });
      const outOfOrder = await api.request('PATCH', location, {
        headers: { 'content-range': '500-999' },
        body: content.subarray(500, 1000),
      });
      const status = await api.request('GET', location);
      const second = await api.request('PATCH', location, { body: content.subarray(1000, 2000) });
      const closed = await api.request('PUT', `${location}?digest=${digest}`, {
        headers: { 'content-range': `2000-${content.length - 1}` },
        body: content.subarray(2000),
      });
      const blob = await api.request('GET', `/v2/${REPO}/blobs/${digest}`);
      const afterClose = await api.request('GET', location);
      // Assess
      expect(started.status).toBe(202);
      expect(location).toMatch(new RegExp(`^/v2/${REPO}/blobs/uploads/[0-9a-f-]{36}$`));
      expect(started.headers.get('docker-upload-uuid')).toBe(location.split('/').at(-1));
      expect(started.headers.get('range')).toBe('0-0');
      expect(first.status).toBe(202);
      expect(first.headers.get('range')).toBe('0-999');
      expect(outOfOrder.status).toBe(416);
      expect(outOfOrder.headers.get('range')).toBe('0-999');
      expect(status.status).toBe(204);
      expect(status.headers.get('range')).toBe('0-999');
      expect(second.headers.get('range')).toBe('0-1999');
      expect(closed.status).toBe(201);
      expect(closed.headers.get('location')).toBe(`/v2/${REPO}/blobs/${digest}`);
      expect(closed.headers.get('docker-content-digest')).toBe(digest);
      expect(blob.body.equals(content)).toBe(true);
      expect(afterClose.codes).toEqual(['BLOB_UPLOAD_UNKNOWN']);
    });

    it('stores nothing when the closing digest does not match the content', async () => {
      // Prepare
      const started = await api.request('POST', `/v2/${REPO}/blobs/uploads/`);
      const location = started.headers.get('location') ?? '';
      await api.request('PATCH', location, { body: 'some content' });
      const claimed = digestOf('other content');
      // Act
      const closed = await api.request('PUT', `${location}?digest=${claimed}`);
      const monolithic = await api.request('POST', `/v2/${REPO}/blobs/uploads/?digest=${claimed}`, {
        body: 'some content',
      });
      // Assess
      expect(closed.status).toBe(400);
      expect(closed.codes).toEqual(['DIGEST_INVALID']);
      expect(monolithic.codes).toEqual(['DIGEST_INVALID']);
      expect(server.registry.blobs.has(digestOf('some content'))).toBe(false);
      expect(server.registry.blobs.has(claimed)).toBe(false);
      expect((await api.request('GET', location)).codes).toEqual(['BLOB_UPLOAD_UNKNOWN']);
      expect(server.registry.uploads.size).toBe(0);
    });

    it('cancels an upload with DELETE, and knows no upload of another repository or with a made-up id', async () => {
      // Prepare
      await client.send(new CreateRepositoryCommand({ repositoryName: 'team/other' }));
      const started = await api.request('POST', `/v2/${REPO}/blobs/uploads/`);
      const location = started.headers.get('location') ?? '';
      const id = location.split('/').at(-1);
      // Act
      const fromOther = await api.request('GET', `/v2/team/other/blobs/uploads/${id}`);
      const madeUp = await api.request('PATCH', `/v2/${REPO}/blobs/uploads/not-an-upload`, { body: 'x' });
      const cancelled = await api.request('DELETE', location);
      const afterCancel = await api.request('PATCH', location, { body: 'x' });
      // Assess
      expect(fromOther.codes).toEqual(['BLOB_UPLOAD_UNKNOWN']);
      expect(madeUp.status).toBe(404);
      expect(madeUp.codes).toEqual(['BLOB_UPLOAD_UNKNOWN']);
      expect(cancelled.status).toBe(204);
      expect(afterCancel.codes).toEqual(['BLOB_UPLOAD_UNKNOWN']);
      expect(server.registry.uploads.size).toBe(0);
    });

    it('mounts a blob from another repository of the account, and starts an upload when it cannot', async () => {
      // Prepare
      await client.send(new CreateRepositoryCommand({ repositoryName: 'team/other' }));
      const digest = await api.pushBlob(REPO, 'shared layer');
      const absent = digestOf('nowhere');
      // Act
      const mounted = await api.request('POST', `/v2/team/other/blobs/uploads/?mount=${digest}&from=${REPO}`);
      const notThere = await api.request('POST', `/v2/team/other/blobs/uploads/?mount=${absent}&from=${REPO}`);
      const fromNowhere = await api.request('POST', `/v2/team/other/blobs/uploads/?mount=${digest}&from=team/none`);
      const pulled = await api.request('GET', `/v2/team/other/blobs/${digest}`);
      // Assess
      expect(mounted.status).toBe(201);
      expect(mounted.headers.get('location')).toBe(`/v2/team/other/blobs/${digest}`);
      expect(mounted.headers.get('docker-content-digest')).toBe(digest);
      expect(notThere.status).toBe(202);
      expect(notThere.headers.get('location')).toMatch(/\/v2\/team\/other\/blobs\/uploads\/[0-9a-f-]{36}$/);
      expect(fromNowhere.status).toBe(202);
      expect(pulled.body.toString()).toBe('shared layer');
    });

    it('refuses a body declared larger than ECR’s layer limit at once, storing nothing', async () => {
      // Prepare
      const started = await api.request('POST', `/v2/${REPO}/blobs/uploads/`);
      const location = started.headers.get('location') ?? '';
      // Act: a PATCH that declares 60,000 MiB and sends a few bytes; the answer must not wait for the rest.
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${server.url}${location}`, {
          method: 'PATCH',
          headers: { authorization: api.authorization ?? '', 'content-length': String(MAX_BLOB_BYTES + 1) },
        });
        req.on('response', (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.write(Buffer.alloc(1024));
      });
      // Assess
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body).errors[0].code).toBe('SIZE_INVALID');
      expect(server.registry.uploads.size).toBe(0);
    });
  });
});
