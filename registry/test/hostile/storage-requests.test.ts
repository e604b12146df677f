import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_OBJECT_BYTES, ObjectStorage } from '../../src/storage/state.ts';
import { control, startTestRegistry, TEST_ACCOUNT, TEST_REGION } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

/**
 * Hostile and malformed S3 requests over HTTP: each must get S3's error (status and `<Code>`) within a time budget,
 * and store nothing.
 */

const REQUEST_BUDGET_MS = 4_000;
const BUCKET = 'hostile-bucket';

const authorization = (region = TEST_REGION, key = TEST_ACCOUNT, service = 's3') =>
  `AWS4-HMAC-SHA256 Credential=${key}/20261124/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;

interface S3Request {
  method?: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string | undefined>;
}

let server: RegistryServer;

/** One request over a raw HTTP connection, aborted after the budget. */
function send(request: S3Request): Promise<{ status: number; code?: string; text: string }> {
  const headers: Record<string, string> = { host: `127.0.0.1:${server.port}`, authorization: authorization() };
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, method: request.method ?? 'GET', path: request.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1], text });
        });
      },
    );
    req.setTimeout(REQUEST_BUDGET_MS, () => req.destroy(new Error(`no answer within ${REQUEST_BUDGET_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const listedKeys = async () => {
  const answer = await send({ path: `/${BUCKET}?list-type=2` });
  return [...answer.text.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]);
};

describe('hostile S3 requests', () => {
  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    await control(server, 'load', { s3: { buckets: [{ name: BUCKET }] } });
  });

  const put = (headers: Record<string, string>, body: string | Buffer, key = 'k') => ({
    method: 'PUT',
    path: `/${BUCKET}/${key}`,
    headers,
    body,
  });

  const cases: { name: string; request: S3Request; status: number; code: string }[] = [
    {
      name: 'an aws-chunked body whose chunk size is not hex',
      request: put({ 'content-encoding': 'aws-chunked' }, 'zz\r\nabc\r\n0\r\n\r\n'),
      status: 400,
      code: 'IncompleteBody',
    },
    {
      name: 'an aws-chunked body shorter than its chunk',
      request: put({ 'content-encoding': 'aws-chunked' }, 'ff\r\nabc'),
      status: 400,
      code: 'IncompleteBody',
    },
    {
      name: 'an aws-chunked body with no last chunk',
      request: put({ 'content-encoding': 'aws-chunked' }, '3\r\nabc\r\n'),
      status: 400,
      code: 'IncompleteBody',
    },
    {
      name: 'an aws-chunked body whose decoded length is not the declared one',
      request: put({ 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '4' }, '3\r\nabc\r\n0\r\n\r\n'),
      status: 400,
      code: 'IncompleteBody',
    },
    {
      name: 'a CRC32 trailer that does not match',
      request: put(
        {
          'content-encoding': 'aws-chunked',
          'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          'x-amz-trailer': 'x-amz-checksum-crc32',
        },
        '3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n',
      ),
      status: 400,
      code: 'BadDigest',
    },
    {
      name: 'a SHA-256 checksum header that does not match',
      request: put({ 'x-amz-checksum-sha256': Buffer.alloc(32).toString('base64') }, 'abc'),
      status: 400,
      code: 'BadDigest',
    },
    {
      name: 'a malformed checksum header',
      request: put({ 'x-amz-checksum-crc32': '<not base64>' }, 'abc'),
      status: 400,
      code: 'InvalidRequest',
    },
    {
      name: 'a malformed Content-MD5',
      request: put({ 'content-md5': 'abc' }, 'abc'),
      status: 400,
      code: 'InvalidDigest',
    },
    {
      name: 'a Content-MD5 of other content',
      request: put({ 'content-md5': Buffer.alloc(16).toString('base64') }, 'abc'),
      status: 400,
      code: 'BadDigest',
    },
    {
      name: 'an x-amz-content-sha256 of other content',
      request: put({ 'x-amz-content-sha256': '0'.repeat(64) }, 'abc'),
      status: 400,
      code: 'XAmzContentSHA256Mismatch',
    },
    {
      name: 'an object past 5 MiB',
      request: put({}, Buffer.alloc(MAX_OBJECT_BYTES + 1)),
      status: 400,
      code: 'EntityTooLarge',
    },
    {
      name: 'a body past the request bound (read, not kept)',
      request: put({}, Buffer.alloc(MAX_OBJECT_BYTES + 2 * 1024 * 1024)),
      status: 400,
      code: 'EntityTooLarge',
    },
    {
      name: 'user metadata past 2 KB',
      request: put({ 'x-amz-meta-big': 'x'.repeat(2100) }, 'abc'),
      status: 400,
      code: 'MetadataTooLarge',
    },
    {
      name: 'a key past 1,024 bytes',
      request: put({}, 'abc', 'k'.repeat(1025)),
      status: 400,
      code: 'KeyTooLongError',
    },
    {
      name: 'a key of broken percent-encoding',
      request: put({}, 'abc', '%E0%A4%A'),
      status: 400,
      code: 'InvalidURI',
    },
    {
      name: 'a key of invalid UTF-8',
      request: put({}, 'abc', '%FF%FE'),
      status: 400,
      code: 'InvalidURI',
    },
    {
      name: 'If-None-Match other than *',
      request: put({ 'if-none-match': '"abc"' }, 'abc'),
      status: 501,
      code: 'NotImplemented',
    },
    {
      name: 'If-Match on a key that does not exist',
      request: put({ 'if-match': '"abc"' }, 'abc'),
      status: 404,
      code: 'NoSuchKey',
    },
    {
      name: 'CopyObject',
      request: put({ 'x-amz-copy-source': `/${BUCKET}/other` }, ''),
      status: 501,
      code: 'NotImplemented',
    },
    {
      name: 'a subresource not served (?acl)',
      request: { method: 'PUT', path: `/${BUCKET}/k?acl`, body: '<AccessControlPolicy/>' },
      status: 501,
      code: 'NotImplemented',
    },
    {
      name: 'a DeleteObjects with an empty Content-MD5',
      request: {
        method: 'POST',
        path: `/${BUCKET}?delete`,
        body: '<Delete><Object><Key>k</Key>',
        headers: { 'content-md5': '' },
      },
      status: 400,
      code: 'InvalidDigest',
    },
    {
      name: 'a DeleteObjects without Content-MD5 or a checksum',
      request: { method: 'POST', path: `/${BUCKET}?delete`, body: '<Delete><Object><Key>k</Key></Object></Delete>' },
      status: 400,
      code: 'InvalidRequest',
    },
    {
      name: 'a multipart upload (?uploads)',
      request: { method: 'POST', path: `/${BUCKET}/k?uploads` },
      status: 501,
      code: 'NotImplemented',
    },
    {
      name: 'a method S3 does not take on an object',
      request: { method: 'PATCH', path: `/${BUCKET}/k`, body: 'abc' },
      status: 405,
      code: 'MethodNotAllowed',
    },
    {
      name: 'a region no partition has',
      request: { ...put({ authorization: authorization('mars-north-1') }, 'abc') },
      status: 400,
      code: 'AuthorizationHeaderMalformed',
    },
    {
      name: 'a query string past 8 KiB',
      request: { path: `/${BUCKET}?list-type=2&prefix=${'a'.repeat(9000)}` },
      status: 400,
      code: 'InvalidURI',
    },
  ];

  for (const { name, request, status, code } of cases) {
    it(`refuses ${name} with ${status} ${code}, storing nothing`, async () => {
      const answer = await send(request);
      expect({ status: answer.status, code: answer.code }).toEqual({ status, code });
      expect(answer.text).toContain('<RequestId>');
      expect(await listedKeys()).toEqual([]);
    });
  }

  const listingCases: { name: string; query: string; code: string }[] = [
    { name: 'a negative max-keys', query: 'list-type=2&max-keys=-1', code: 'InvalidArgument' },
    { name: 'a max-keys that is not a number', query: 'list-type=2&max-keys=ten', code: 'InvalidArgument' },
    { name: 'a list type other than 2', query: 'list-type=3', code: 'InvalidArgument' },
    { name: 'an unknown encoding type', query: 'list-type=2&encoding-type=base64', code: 'InvalidArgument' },
    { name: 'a forged continuation token', query: 'list-type=2&continuation-token=AAAA', code: 'InvalidArgument' },
    { name: 'a prefix past 1,024 bytes', query: `list-type=2&prefix=${'p'.repeat(1025)}`, code: 'InvalidArgument' },
  ];
  for (const { name, query, code } of listingCases) {
    it(`refuses a listing with ${name}`, async () => {
      const answer = await send({ path: `/${BUCKET}?${query}` });
      expect({ status: answer.status, code: answer.code }).toEqual({ status: 400, code });
    });
  }

  it('refuses a malformed CreateBucketConfiguration, creating no bucket', async () => {
    for (const body of ['<CreateBucketConfiguration>', 'not xml', '<Other/>', '<!DOCTYPE x [<!ENTITY a "b">]><x/>']) {
      const answer = await send({ method: 'PUT', path: '/new-bucket', body });
      expect({ status: answer.status, code: answer.code }).toEqual({ status: 400, code: 'MalformedXML' });
    }
    const other = await send({
      method: 'PUT',
      path: '/new-bucket',
      body: '<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>',
    });
    expect(other.code).toBe('IllegalLocationConstraintException');
    const head = await send({ method: 'HEAD', path: '/new-bucket' });
    expect(head.status).toBe(404);
  });

  it('refuses malformed DeleteObjects bodies, deleting nothing', async () => {
    expect((await send(put({}, 'abc'))).status).toBe(200);
    const md5 = (text: string) => createHash('md5').update(text).digest('base64');
    const bodies = [
      '<Delete><Object><Key>k</Key>',
      '<Delete></Delete>',
      '<Delete><Object><Key>k</Key></Object><Object></Object></Delete>',
      '<Delete><Object><Key>&bogus;</Key></Object></Delete>',
      '<Delete><Object><Key>&#xD800;</Key></Object></Delete>',
      `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`,
      'not xml at all',
    ];
    for (const body of bodies) {
      const answer = await send({
        method: 'POST',
        path: `/${BUCKET}?delete`,
        body,
        headers: { 'content-md5': md5(body) },
      });
      expect({ body: body.slice(0, 60), status: answer.status, code: answer.code }).toEqual({
        body: body.slice(0, 60),
        status: 400,
        code: 'MalformedXML',
      });
    }
    const versioned = '<Delete><Object><Key>k</Key><VersionId>v1</VersionId></Object></Delete>';
    const answer = await send({
      method: 'POST',
      path: `/${BUCKET}?delete`,
      body: versioned,
      headers: { 'content-md5': md5(versioned) },
    });
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 501, code: 'NotImplemented' });
    expect(await listedKeys()).toEqual(['k']);
  });

  it('takes signed aws-chunked framing (chunk signatures, no trailer), as SigV4 streaming clients send it', async () => {
    const stored = await send(
      put(
        { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '6' },
        `3;chunk-signature=${'a'.repeat(64)}\r\nabc\r\n3;chunk-signature=${'b'.repeat(64)}\r\ndef\r\n0;chunk-signature=${'c'.repeat(64)}\r\n\r\n`,
      ),
    );
    expect(stored.status).toBe(200);
    const got = await send({ path: `/${BUCKET}/k` });
    expect({ status: got.status, text: got.text }).toEqual({ status: 200, text: 'abcdef' });
  });

  it('refuses invalid bucket names', async () => {
    for (const name of ['ab', 'a'.repeat(64), 'Upper', 'under_score', 'a..b', '192.168.1.1', 'xn--abc', 'b-s3alias']) {
      const answer = await send({ method: 'PUT', path: `/${name}` });
      expect({ name, status: answer.status, code: answer.code }).toEqual({
        name,
        status: 400,
        code: 'InvalidBucketName',
      });
    }
  });

  it('answers a range that cannot be satisfied with 416 InvalidRange', async () => {
    expect((await send(put({}, 'abc'))).status).toBe(200);
    const answer = await send({ path: `/${BUCKET}/k`, headers: { range: 'bytes=10-20' } });
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 416, code: 'InvalidRange' });
  });

  it('keeps the other routes apart: an unsigned or ECR-signed request to a bucket path is not S3', async () => {
    const unsigned = await send({ method: 'PUT', path: '/other-bucket', headers: { authorization: undefined } });
    expect(unsigned.code).toBeUndefined();
    const ecr = await send({
      method: 'PUT',
      path: '/other-bucket',
      headers: { authorization: authorization(TEST_REGION, TEST_ACCOUNT, 'ecr') },
    });
    expect(ecr.code).toBeUndefined();
    expect(ecr.text).toContain('UnknownOperationException');
    expect((await send({ method: 'HEAD', path: '/other-bucket' })).status).toBe(404);
  });

  it("refuses a foreign Host with S3's AccessDenied, storing nothing", async () => {
    const answer = await send({ ...put({ host: 'attacker.example' }, 'abc') });
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await listedKeys()).toEqual([]);
  });

  it('refuses an expired presigned URL and serves a valid one', async () => {
    expect((await send(put({}, 'presigned'))).status).toBe(200);
    const credential = encodeURIComponent(`${TEST_ACCOUNT}/20261124/${TEST_REGION}/s3/aws4_request`);
    const stamp = (ms: number) =>
      new Date(ms)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '');
    const url = (date: string) =>
      `/${BUCKET}/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${credential}&X-Amz-Date=${date}&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=0`;
    const expired = await send({ path: url(stamp(server.now() - 120_000)), headers: { authorization: undefined } });
    expect({ status: expired.status, code: expired.code }).toEqual({ status: 403, code: 'AccessDenied' });
    const valid = await send({ path: url(stamp(server.now())), headers: { authorization: undefined } });
    expect({ status: valid.status, text: valid.text }).toEqual({ status: 200, text: 'presigned' });
  });

  it('counts calls as s3:<Operation> and applies faults by that name', async () => {
    await control(server, 'faults', { operation: 's3:GetObject', throttleRate: 1 });
    const answer = await send({ path: `/${BUCKET}/k` });
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 503, code: 'SlowDown' });
    const calls = await control<{ operations: Record<string, number> }>(server, 'calls');
    expect(calls.operations['s3:GetObject']).toBe(1);
  });
});

describe('S3 storage bounds', () => {
  it('refuses an object past the registry-wide total, with a clear error, storing nothing', () => {
    const storage = new ObjectStorage();
    storage.createBucket('bounded', TEST_ACCOUNT, TEST_REGION, 0);
    // One buffer shared by every object: the bound counts bytes stored, not memory used.
    const body = Buffer.alloc(MAX_OBJECT_BYTES);
    let stored = 0;
    let refusal: unknown;
    for (let i = 0; i < 100 && refusal === undefined; i++) {
      try {
        storage.putObject('bounded', TEST_ACCOUNT, `o-${i}`, { body }, 0);
        stored++;
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toMatchObject({ code: 'InvalidRequest', status: 400 });
    expect(String((refusal as Error).message)).toMatch(/at most 268435456 bytes of S3 objects/);
    expect(storage.totalObjects).toBe(stored);
    expect(storage.totalBytes).toBe(stored * MAX_OBJECT_BYTES);
    // Replacing an object within the bound is fine.
    storage.putObject('bounded', TEST_ACCOUNT, 'o-0', { body: Buffer.from('small') }, 0);
    expect(storage.totalBytes).toBe((stored - 1) * MAX_OBJECT_BYTES + 5);
  });
});
