import { request } from 'node:http';
import { CreateRepositoryCommand, DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MEDIA_TYPES } from '../../src/model/manifests.ts';
import { ecrClient, startTestRegistry } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';
import { digestOf, loginHeader, RegistryApi } from '../integration/registry-api-client.ts';

/**
 * Hostile and malformed registry API (`/v2/`) requests: each gets a clear OCI error within a time budget and
 * stores nothing.
 */

const REPO = 'hostile/app';
/** A refused request is answered within this long, whatever it still had to send. */
const ANSWER_BUDGET_MS = 5_000;

describe('registry API (/v2/): hostile requests', () => {
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

  const storedImages = async () =>
    (await client.send(new DescribeImagesCommand({ repositoryName: REPO }))).imageDetails ?? [];

  it('answers a streamed manifest past 4 MiB with 413 at once, without reading it all', async () => {
    // Prepare: 64 MiB sent in chunks with no Content-Length.
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 64) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const started = Date.now();
    // Act
    const response = await fetch(`${server.url}/v2/${REPO}/manifests/v1`, {
      method: 'PUT',
      headers: { authorization: api.authorization ?? '', 'content-type': MEDIA_TYPES.ociManifest },
      body,
      duplex: 'half',
    } as RequestInit);
    const text = await response.text();
    // Assess
    expect(Date.now() - started).toBeLessThan(ANSWER_BUDGET_MS);
    expect(response.status).toBe(413);
    expect(JSON.parse(text).errors[0].code).toBe('MANIFEST_INVALID');
    expect(await storedImages()).toEqual([]);
  });

  it('refuses a second chunk, or the close, of an upload while a chunk is still arriving', async () => {
    // Prepare: a PATCH whose body stays open until the test ends it.
    const started = await api.request('POST', `/v2/${REPO}/blobs/uploads/`);
    const location = started.headers.get('location') ?? '';
    let finish: () => void = () => undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('first chunk'));
        finish = () => controller.close();
      },
    });
    const slow = fetch(`${server.url}${location}`, {
      method: 'PATCH',
      headers: { authorization: api.authorization ?? '' },
      body,
      duplex: 'half',
    } as RequestInit);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Act
    const second = await api.request('PATCH', location, { body: 'second chunk' });
    const close = await api.request('PUT', `${location}?digest=${digestOf('first chunk')}`);
    finish();
    const first = await slow;
    const closed = await api.request('PUT', `${location}?digest=${digestOf('first chunk')}`);
    // Assess
    expect([second.status, close.status]).toEqual([416, 416]);
    expect(first.status).toBe(202);
    expect(closed.status).toBe(201);
    expect((await api.request('GET', `/v2/${REPO}/blobs/${digestOf('first chunk')}`)).body.toString()).toBe(
      'first chunk',
    );
  });

  it('refuses malformed logins, paths, ranges and methods with OCI errors', async () => {
    // Prepare
    const started = await api.request('POST', `/v2/${REPO}/blobs/uploads/`);
    const location = started.headers.get('location') ?? '';
    // Act
    const garbageLogin = await new RegistryApi(server, `Basic ${'A'.repeat(8_000)}`).request('GET', '/v2/');
    const sigv4 = await new RegistryApi(
      server,
      'AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST/20261124/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=0',
    ).request('POST', `/v2/${REPO}/manifests/latest`, {
      headers: { 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' },
      body: '{}',
    });
    const bearer = await new RegistryApi(server, 'Bearer abc').request('GET', '/v2/');
    const traversal = await api.request('GET', `/v2/${REPO}/.../blobs/${digestOf('x')}`);
    const encodedSlash = await api.request('GET', `/v2/hostile%2Fapp%00/tags/list`);
    const upper = await api.request('GET', '/v2/Hostile/App/tags/list');
    const noRoute = await api.request('GET', `/v2/${REPO}/nothing/here`);
    const notARange = await api.request('PATCH', location, { headers: { 'content-range': 'bytes=0-3' }, body: 'abcd' });
    const backwards = await api.request('PATCH', location, { headers: { 'content-range': '5-2' }, body: 'abcd' });
    const lengthMismatch = await api.request('PATCH', location, { headers: { 'content-range': '0-9' }, body: 'abcd' });
    const postManifest = await api.request('POST', `/v2/${REPO}/manifests/v1`, { body: '{}' });
    const putTags = await api.request('PUT', `/v2/${REPO}/tags/list`, { body: '{}' });
    const closeWithoutDigest = await api.request('PUT', location);
    const badAlgorithm = await api.request('POST', `/v2/${REPO}/blobs/uploads/?digest-algorithm=md5`);
    // Assess
    expect(
      [
        garbageLogin,
        sigv4,
        bearer,
        traversal,
        encodedSlash,
        upper,
        noRoute,
        notARange,
        backwards,
        lengthMismatch,
        postManifest,
        putTags,
        closeWithoutDigest,
        badAlgorithm,
      ].map((r) => [r.status, r.codes]),
    ).toEqual([
      [401, ['UNAUTHORIZED']],
      [401, ['UNAUTHORIZED']],
      [401, ['UNAUTHORIZED']],
      [400, ['NAME_INVALID']],
      [400, ['NAME_INVALID']],
      [400, ['NAME_INVALID']],
      [404, ['NAME_UNKNOWN']],
      [416, ['BLOB_UPLOAD_INVALID']],
      [416, ['BLOB_UPLOAD_INVALID']],
      [400, ['SIZE_INVALID']],
      [405, ['UNSUPPORTED']],
      [405, ['UNSUPPORTED']],
      [400, ['DIGEST_INVALID']],
      [400, ['DIGEST_INVALID']],
    ]);
    expect(postManifest.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
    expect(notARange.headers.get('range')).toBe('0-0');
    expect((await api.request('GET', location)).status).toBe(204);
    expect(await storedImages()).toEqual([]);
  });

  it('stores nothing from a chunk cut off mid-way, and no dot segment leaves /v2/', async () => {
    // Prepare
    const content = Buffer.alloc(100_000, 7);
    const started = await api.request('POST', `/v2/${REPO}/blobs/uploads/`);
    const location = started.headers.get('location') ?? '';
    const { port } = new URL(server.url);
    const raw = (method: string, path: string, headers: Record<string, string | number>, body?: Buffer) =>
      new Promise<number>((resolve) => {
        const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', () => resolve(0));
        if (body) {
          // Half the declared body, then the connection goes away.
          req.write(body.subarray(0, body.length / 2));
          setTimeout(() => req.destroy(), 100);
        } else req.end();
      });
    // Act
    const cut = await raw(
      'PATCH',
      location,
      {
        authorization: api.authorization ?? '',
        'content-length': content.length,
        'content-range': `0-${content.length - 1}`,
      },
      content,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const close = await api.request('PUT', `${location}?digest=${digestOf(content)}`);
    const blob = await api.request('HEAD', `/v2/${REPO}/blobs/${digestOf(content)}`);
    const dotted = await raw('POST', `/v2/../_local/reset`, {
      authorization: api.authorization ?? '',
      'content-type': 'application/json',
      'content-length': 0,
    });
    const dottedEncoded = await raw('GET', '/v2/%2e%2e/_local/calls', { authorization: api.authorization ?? '' });
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const headers = { host: 'rebind.evil.example', authorization: api.authorization ?? '' };
      const req = request({ host: '127.0.0.1', port, path: '/v2/', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    // Assess
    expect(cut).toBe(0);
    expect(close.status).toBeGreaterThanOrEqual(400);
    expect(close.status).toBeLessThan(500);
    expect(blob.status).toBe(404);
    expect(server.registry.blobs.has(digestOf(content))).toBe(false);
    // Answered as registry API paths (a name that is not one, or no such repository): never the control API.
    expect([400, 404]).toContain(dotted);
    expect([400, 404]).toContain(dottedEncoded);
    // A foreign Host (DNS rebinding) is refused with an OCI error body.
    expect(rebound.status).toBe(403);
    expect((JSON.parse(rebound.body) as { errors: { code: string }[] }).errors[0]?.code).toBe('DENIED');
    expect(server.registry.existing('123456789012', 'us-east-1')?.repositories.has(REPO)).toBe(true);
  });
});
