import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobError, BlobStore } from '../../src/model/blob-store.ts';
import { UploadSessions } from '../../src/model/uploads.ts';

const digestOf = (content: Buffer | string) => `sha256:${createHash('sha256').update(content).digest('hex')}`;
const owner = { account: '123456789012', region: 'us-east-1', repositoryName: 'team/app' };

describe('BlobStore', () => {
  const dirs: string[] = [];
  const stores: BlobStore[] = [];
  const open = async (dir?: string) => {
    const store = await BlobStore.open(dir);
    stores.push(store);
    return store;
  };
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'blob-store-test-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('stores one file per digest however many times the content is uploaded', async () => {
    // Prepare
    const dir = dataDir();
    const store = await open(dir);
    // Act
    const first = await store.put(Buffer.from('layer'));
    const second = await store.put(Buffer.from('layer'));
    // Assess
    expect(first).toEqual({ digest: digestOf('layer'), size: 5 });
    expect(second).toEqual(first);
    expect(readdirSync(join(dir, 'blobs', 'sha256'))).toEqual([digestOf('layer').slice('sha256:'.length)]);
    expect(readdirSync(join(dir, 'uploads'))).toEqual([]);
    expect(store.stats).toEqual({ blobs: 1, bytes: 5 });
  });

  it('hashes a streamed upload in chunks and serves it whole and by range', async () => {
    // Prepare
    const store = await open();
    const upload = store.startUpload();
    // Act
    await upload.append(Readable.from([Buffer.from('hello '), Buffer.from('blob '), Buffer.from('world')]));
    await upload.append(Buffer.from('!'));
    const info = await upload.commit(digestOf('hello blob world!'));
    const whole = await text(store.read(info.digest) as Readable);
    const middle = await text(store.read(info.digest, { start: 6, end: 9 }) as Readable);
    // Assess
    expect(info).toEqual({ digest: digestOf('hello blob world!'), size: 17 });
    expect([whole, middle]).toEqual(['hello blob world!', 'blob']);
    expect(store.read(digestOf('absent'))).toBeUndefined();
  });

  it('keeps nothing of an upload whose content does not hash to the expected digest', async () => {
    // Prepare
    const dir = dataDir();
    const store = await open(dir);
    const upload = store.startUpload();
    await upload.append(Buffer.from('actual'));
    // Act
    const refused = await upload.commit(digestOf('expected')).catch((error: unknown) => error);
    // Assess
    expect(refused).toBeInstanceOf(BlobError);
    expect((refused as BlobError).code).toBe('DIGEST_MISMATCH');
    expect(store.has(digestOf('actual'))).toBe(false);
    expect(readdirSync(join(dir, 'uploads'))).toEqual([]);
  });

  it('refuses an upload past its size limit, and an empty one unless allowed', async () => {
    // Prepare
    const store = await open();
    const small = store.startUpload(8);
    const empty = store.startUpload();
    const allowed = store.startUpload();
    // Act
    const tooLarge = await small
      .append(Readable.from([Buffer.from('12345'), Buffer.from('67890')]))
      .catch((error: unknown) => error);
    const refusedEmpty = await empty.commit().catch((error: unknown) => error);
    const emptyBlob = await allowed.commit(undefined, { allowEmpty: true });
    // Assess
    expect((tooLarge as BlobError).code).toBe('TOO_LARGE');
    expect(small.size).toBeLessThanOrEqual(8);
    expect((refusedEmpty as BlobError).code).toBe('EMPTY');
    expect(emptyBlob).toEqual({ digest: digestOf(''), size: 0 });
  });

  it('indexes the blobs of a data directory at open and discards uploads a stopped process left', async () => {
    // Prepare
    const dir = dataDir();
    const before = await open(dir);
    await before.put(Buffer.from('kept'));
    writeFileSync(join(dir, 'uploads', 'left-behind'), 'partial');
    // Act
    const after = await BlobStore.open(dir);
    stores.push(after);
    // Assess
    expect(after.size(digestOf('kept'))).toBe(4);
    expect(readdirSync(join(dir, 'uploads'))).toEqual([]);
    expect(readFileSync(after.pathOf(digestOf('kept')) as string, 'utf8')).toBe('kept');
    expect(after.pathOf('sha256:../../etc/passwd')).toBeUndefined();
  });
});

describe('UploadSessions', () => {
  it('expires an upload untouched for its time to live, and answers only its owner', async () => {
    // Prepare
    const store = await BlobStore.open();
    const sessions = new UploadSessions(store, 1_000, 2);
    const session = sessions.start(owner, 0);
    // Act
    const other = sessions.get(session.id, { ...owner, repositoryName: 'team/other' }, 500);
    const touched = sessions.get(session.id, owner, 900);
    const stillThere = sessions.get(session.id, owner, 1_800);
    const expired = sessions.get(session.id, owner, 2_800);
    sessions.start(owner, 3_000);
    sessions.start(owner, 3_000);
    // Assess
    expect(other).toBeUndefined();
    expect(touched?.id).toBe(session.id);
    expect(stillThere?.id).toBe(session.id);
    expect(expired).toBeUndefined();
    expect(() => sessions.start(owner, 3_000)).toThrow(/At most 2 uploads/);
    sessions.clear();
    await store.close();
  });
});
