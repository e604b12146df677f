import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { control, startTestRegistry, TEST_ACCOUNT } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const OTHER_ACCOUNT = '210987654321';

function s3Client(server: Pick<RegistryServer, 'url'>, options: { account?: string; region?: string } = {}) {
  return new S3Client({
    endpoint: server.url,
    forcePathStyle: true,
    region: options.region ?? 'us-east-1',
    credentials: { accessKeyId: options.account ?? TEST_ACCOUNT, secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  });
}

/** The error a call fails with: its name (S3's code) and HTTP status. */
async function s3Failure(promise: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3ServiceException) {
      return { name: error.name, status: error.$metadata.httpStatusCode, message: error.message };
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('S3 (object API subset) with @aws-sdk/client-s3', () => {
  let server: RegistryServer;
  let s3: S3Client;

  beforeAll(async () => {
    server = await startTestRegistry();
    s3 = s3Client(server);
  });
  afterAll(async () => {
    s3.destroy();
    await server.close();
  });
  beforeEach(() => server.reset());

  it('creates, heads, lists and deletes buckets; ECR routes are unaffected', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'reports' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'token' }));
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'reports' }));
    expect(head.BucketRegion).toBe('us-east-1');
    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((bucket) => bucket.Name)).toEqual(['reports', 'token']);
    expect(await s3Failure(s3.send(new HeadBucketCommand({ Bucket: 'missing-bucket' })))).toMatchObject({
      status: 404,
    });
    expect(await s3Failure(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).toMatchObject({
      name: 'InvalidBucketName',
      status: 400,
    });
    await s3.send(new DeleteBucketCommand({ Bucket: 'token' }));
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((bucket) => bucket.Name)).toEqual(['reports']);
    const calls = await control<{ operations: Record<string, number> }>(server, 'calls');
    expect(calls.operations['s3:CreateBucket']).toBe(3);
    expect(calls.operations['s3:ListBuckets']).toBe(2);
  });

  it('puts, gets, heads and deletes objects; conditional writes; ranges', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'reports' }));
    const body = JSON.stringify({ run: 'r-1', deleted: 3 });
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'reports',
        Key: 'runs/r-1/manifest.json',
        Body: body,
        ContentType: 'application/json',
        Metadata: { run: 'r-1' },
      }),
    );
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'reports', Key: 'runs/r-1/manifest.json' }));
    expect(await got.Body?.transformToString()).toBe(body);
    expect(got.ContentType).toBe('application/json');
    expect(got.ETag).toBe(put.ETag);
    expect(got.Metadata).toEqual({ run: 'r-1' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'reports', Key: 'runs/r-1/manifest.json' }));
    expect(head.ContentLength).toBe(Buffer.byteLength(body));
    const ranged = await s3.send(
      new GetObjectCommand({ Bucket: 'reports', Key: 'runs/r-1/manifest.json', Range: 'bytes=2-4' }),
    );
    expect(await ranged.Body?.transformToString()).toBe(body.slice(2, 5));
    expect(ranged.ContentRange).toBe(`bytes 2-4/${Buffer.byteLength(body)}`);

    expect(
      await s3Failure(
        s3.send(
          new PutObjectCommand({ Bucket: 'reports', Key: 'runs/r-1/manifest.json', Body: 'x', IfNoneMatch: '*' }),
        ),
      ),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    await s3.send(
      new PutObjectCommand({ Bucket: 'reports', Key: 'runs/r-2/manifest.json', Body: 'y', IfNoneMatch: '*' }),
    );
    const unchanged = await s3.send(new GetObjectCommand({ Bucket: 'reports', Key: 'runs/r-1/manifest.json' }));
    expect(await unchanged.Body?.transformToString()).toBe(body);

    // A binary body from a Buffer, and an empty one.
    const binary = Buffer.from([0, 1, 2, 255, 254]);
    await s3.send(new PutObjectCommand({ Bucket: 'reports', Key: 'bin', Body: binary }));
    const gotBinary = await s3.send(new GetObjectCommand({ Bucket: 'reports', Key: 'bin' }));
    expect(Buffer.from(await (gotBinary.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())))).toEqual(
      binary,
    );
    await s3.send(new PutObjectCommand({ Bucket: 'reports', Key: 'empty', Body: '' }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'reports', Key: 'empty' }))).ContentLength).toBe(0);

    await s3.send(new DeleteObjectCommand({ Bucket: 'reports', Key: 'runs/r-1/manifest.json' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'reports', Key: 'runs/r-1/manifest.json' }));
    expect(
      await s3Failure(s3.send(new GetObjectCommand({ Bucket: 'reports', Key: 'runs/r-1/manifest.json' }))),
    ).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect(
      await s3Failure(s3.send(new HeadObjectCommand({ Bucket: 'reports', Key: 'runs/r-1/manifest.json' }))),
    ).toMatchObject({ name: 'NotFound', status: 404 });
    expect(await s3Failure(s3.send(new GetObjectCommand({ Bucket: 'nowhere', Key: 'k' })))).toMatchObject({
      name: 'NoSuchBucket',
      status: 404,
    });
    expect(await s3Failure(s3.send(new DeleteBucketCommand({ Bucket: 'reports' })))).toMatchObject({
      name: 'BucketNotEmpty',
      status: 409,
    });
  });

  it('lists with prefix, delimiter and paging over 2,500 keys, in UTF-8 binary order', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'many' }));
    const keys: string[] = [];
    for (let i = 0; i < 2500; i++) keys.push(`items/${String(i).padStart(5, '0')}.json`);
    keys.push('top.json', 'other/a.json', 'other/b/c.json', 'z\u{1F600}', 'z\uFFFD');
    await control(server, 'load', {
      s3: { buckets: [{ name: 'many', objects: keys.map((key) => ({ key, body: key })) }] },
    });
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page: ListObjectsV2CommandOutput = await s3.send(
        new ListObjectsV2Command({ Bucket: 'many', Prefix: 'items/', ContinuationToken: token }),
      );
      pages++;
      seen.push(...(page.Contents ?? []).map((object) => object.Key as string));
      expect(page.KeyCount).toBe(page.Contents?.length);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(keys.slice(0, 2500));

    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Delimiter: '/' }));
    expect(top.CommonPrefixes?.map((common) => common.Prefix)).toEqual(['items/', 'other/']);
    // U+FFFD sorts before U+1F600 in UTF-8 (EF BF BD < F0 9F 98 80), unlike in UTF-16.
    expect(top.Contents?.map((object) => object.Key)).toEqual(['top.json', 'z\uFFFD', 'z\u{1F600}']);
    expect(top.KeyCount).toBe(5);

    const paged: string[] = [];
    token = undefined;
    do {
      const page: ListObjectsV2CommandOutput = await s3.send(
        new ListObjectsV2Command({ Bucket: 'many', Delimiter: '/', MaxKeys: 1, ContinuationToken: token }),
      );
      paged.push(
        ...(page.CommonPrefixes ?? []).map((common) => common.Prefix as string),
        ...(page.Contents ?? []).map((object) => object.Key as string),
      );
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(paged).toEqual(['items/', 'other/', 'top.json', 'z\uFFFD', 'z\u{1F600}']);

    const nested = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Prefix: 'other/', Delimiter: '/' }));
    expect(nested.Contents?.map((object) => object.Key)).toEqual(['other/a.json']);
    expect(nested.CommonPrefixes?.map((common) => common.Prefix)).toEqual(['other/b/']);

    const after = await s3.send(
      new ListObjectsV2Command({ Bucket: 'many', Prefix: 'items/', StartAfter: 'items/02497.json', MaxKeys: 5000 }),
    );
    expect(after.Contents?.map((object) => object.Key)).toEqual(['items/02498.json', 'items/02499.json']);
    expect(after.MaxKeys).toBe(1000);
    expect(
      await s3Failure(s3.send(new ListObjectsV2Command({ Bucket: 'many', ContinuationToken: 'not-a-token' }))),
    ).toMatchObject({ name: 'InvalidArgument', status: 400 });
  });

  it('deletes many objects at once (DeleteObjects), keys needing XML escapes included', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'reports' }));
    const keys = ['a&b <c>', 'runs/1.json', 'runs/2.json', 'kept.json'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'reports', Key: key, Body: key }));
    const deleted = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'reports',
        Delete: { Objects: [{ Key: 'a&b <c>' }, { Key: 'runs/1.json' }, { Key: 'runs/2.json' }, { Key: 'never-was' }] },
      }),
    );
    expect(deleted.Deleted?.map((item) => item.Key)).toEqual(['a&b <c>', 'runs/1.json', 'runs/2.json', 'never-was']);
    expect(deleted.Errors ?? []).toEqual([]);
    const quiet = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'reports', Delete: { Objects: [{ Key: 'x' }], Quiet: true } }),
    );
    expect(quiet.Deleted ?? []).toEqual([]);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'reports' }));
    expect(left.Contents?.map((object) => object.Key)).toEqual(['kept.json']);
  });

  it("refuses another account's bucket and objects", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'private-reports' }));
    await s3.send(new PutObjectCommand({ Bucket: 'private-reports', Key: 'k', Body: 'secret' }));
    const other = s3Client(server, { account: OTHER_ACCOUNT });
    try {
      for (const call of [
        () => other.send(new GetObjectCommand({ Bucket: 'private-reports', Key: 'k' })),
        () => other.send(new PutObjectCommand({ Bucket: 'private-reports', Key: 'k', Body: 'overwrite' })),
        () => other.send(new DeleteObjectCommand({ Bucket: 'private-reports', Key: 'k' })),
        () => other.send(new ListObjectsV2Command({ Bucket: 'private-reports' })),
        () => other.send(new DeleteBucketCommand({ Bucket: 'private-reports' })),
      ]) {
        expect(await s3Failure(call())).toMatchObject({ name: 'AccessDenied', status: 403 });
      }
      expect(await s3Failure(other.send(new HeadBucketCommand({ Bucket: 'private-reports' })))).toMatchObject({
        status: 403,
      });
      expect(await s3Failure(other.send(new CreateBucketCommand({ Bucket: 'private-reports' })))).toMatchObject({
        name: 'BucketAlreadyExists',
        status: 409,
      });
      expect((await other.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
    } finally {
      other.destroy();
    }
    const kept = await s3.send(new GetObjectCommand({ Bucket: 'private-reports', Key: 'k' }));
    expect(await kept.Body?.transformToString()).toBe('secret');
  });

  it('refuses an object past 5 MiB with EntityTooLarge, storing nothing', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'reports' }));
    const failure = await s3Failure(
      s3.send(new PutObjectCommand({ Bucket: 'reports', Key: 'big', Body: Buffer.alloc(5 * 1024 * 1024 + 1) })),
    );
    expect(failure).toMatchObject({ name: 'EntityTooLarge', status: 400 });
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'reports' }))).KeyCount).toBe(0);
    await s3.send(new PutObjectCommand({ Bucket: 'reports', Key: 'max', Body: Buffer.alloc(5 * 1024 * 1024, 7) }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'reports', Key: 'max' }))).ContentLength).toBe(
      5 * 1024 * 1024,
    );
  });

  it('takes a streamed body (aws-chunked with a CRC32 trailer)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'reports' }));
    const { Readable } = await import('node:stream');
    const parts = [Buffer.from('{"a":'), Buffer.from('1}')];
    await s3.send(
      new PutObjectCommand({
        Bucket: 'reports',
        Key: 'streamed.json',
        Body: Readable.from(parts),
        ContentLength: 7,
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: 'reports', Key: 'streamed.json' }));
    expect(await got.Body?.transformToString()).toBe('{"a":1}');
  });

  it('loads buckets and objects from a fixture; reset clears them', async () => {
    const loaded = await control<{ storage: { buckets: number; objects: number } }>(server, 'load', {
      s3: {
        buckets: [
          {
            name: 'k8s-in-use',
            objects: [{ key: 'clusters/prod.json', body: '{"images":[]}', contentType: 'application/json' }],
          },
          { name: 'other-account-bucket', account: OTHER_ACCOUNT },
        ],
      },
    });
    expect(loaded.storage).toEqual({ buckets: 2, objects: 1 });
    const memory = await control<{ s3: unknown }>(server, 'memory');
    expect(memory.s3).toEqual({ buckets: 2, objects: 1, bytes: 13 });
    const got = await s3.send(new GetObjectCommand({ Bucket: 'k8s-in-use', Key: 'clusters/prod.json' }));
    expect(await got.Body?.transformToString()).toBe('{"images":[]}');
    expect(got.ContentType).toBe('application/json');
    await control(server, 'reset', {});
    expect(await s3Failure(s3.send(new HeadBucketCommand({ Bucket: 'k8s-in-use' })))).toMatchObject({ status: 404 });
  });
});

describe('S3 with a data directory', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 's3-data-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps buckets and objects across a restart, through the journal and a snapshot', async () => {
    let server = await startTestRegistry({ dataDir: dir });
    let s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
    await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'a.json', Body: '{"a":1}' }));
    await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'b.json', Body: '{"b":2}' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'kept', Key: 'b.json' }));
    await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'gone-1', Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'gone-2', Body: '2' }));
    await s3.send(
      new DeleteObjectsCommand({ Bucket: 'kept', Delete: { Objects: [{ Key: 'gone-1' }, { Key: 'gone-2' }] } }),
    );
    s3.destroy();
    await server.close();

    server = await startTestRegistry({ dataDir: dir });
    s3 = s3Client(server);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'kept', Key: 'a.json' }));
    expect(await got.Body?.transformToString()).toBe('{"a":1}');
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'kept' }))).Contents?.map((o) => o.Key)).toEqual([
      'a.json',
    ]);
    // A snapshot (compaction) holds them too.
    await control(server, 'load', { s3: { buckets: [{ name: 'kept', objects: [{ key: 'c', body: 'c' }] }] } });
    s3.destroy();
    await server.close();

    server = await startTestRegistry({ dataDir: dir, compactBytes: 1 });
    s3 = s3Client(server);
    await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'd', Body: 'd' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    s3.destroy();
    await server.close();
    const snapshot = readFileSync(join(dir, 'snapshot.jsonl'), 'utf8');
    expect(snapshot).toContain('"k":"s3-bucket"');
    expect(snapshot.match(/"k":"s3-object"/g)).toHaveLength(3);

    server = await startTestRegistry({ dataDir: dir });
    s3 = s3Client(server);
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'kept' }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual(['a.json', 'c', 'd']);
      const d = await s3.send(new GetObjectCommand({ Bucket: 'kept', Key: 'd' }));
      expect(await d.Body?.transformToString()).toBe('d');
    } finally {
      s3.destroy();
      await server.close();
    }
  });
});
