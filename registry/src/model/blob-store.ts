import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { appendFile, mkdir, mkdtemp, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Layer and config blobs on disk, content-addressed: `<dir>/blobs/<algorithm>/<hex>`, one file per digest whatever
 * repository or account pushed it (so a layer shared by repositories is stored once). Blobs are written and read as
 * streams, never held whole in memory; an upload goes to `<dir>/uploads/<id>` while it is in progress, is hashed as
 * it arrives, and becomes a blob by an atomic rename once its digest is checked. Which repository may use which blob
 * is the repository's business (`RepositoryRecord.layers`), not the store's.
 */

/** The algorithms a blob digest may name ([OCI-IMG] descriptor.md registered algorithms). */
const DIGEST = /^(sha256):([a-f0-9]{64})$|^(sha512):([a-f0-9]{128})$/;

/** Bytes a blob file stream buffers: larger writes and reads than the 16/64 KiB defaults, fewer system calls. */
const WRITE_BUFFER_BYTES = 1024 * 1024;
const READ_BUFFER_BYTES = 1024 * 1024;

/** Thrown by `BlobUpload.append` when an upload would pass its size limit, and by `commit` on a digest mismatch. */
export class BlobError extends Error {
  constructor(
    readonly code: 'DIGEST_MISMATCH' | 'TOO_LARGE' | 'EMPTY',
    message: string,
  ) {
    super(message);
  }
}

export interface BlobInfo {
  digest: string;
  size: number;
}

/** A byte range, both ends included (HTTP `Range: bytes=start-end`). */
export interface ByteRange {
  start: number;
  end: number;
}

export class BlobStore {
  /** digest → size of every blob on disk. */
  private readonly sizes = new Map<string, number>();

  private constructor(
    readonly dir: string,
    private readonly temporary: boolean,
  ) {}

  /**
   * Opens the store in `dir` (created when absent), or in a fresh temporary directory that `close` removes. Blobs
   * already in `dir` are indexed; uploads left by a process that stopped mid-upload are removed (an upload is not
   * acknowledged until it is a blob).
   */
  static async open(dir?: string): Promise<BlobStore> {
    const root = dir ?? (await mkdtemp(join(tmpdir(), 'local-ecr-')));
    const store = new BlobStore(root, dir === undefined);
    await rm(join(root, 'uploads'), { recursive: true, force: true });
    await mkdir(join(root, 'uploads'), { recursive: true });
    for (const algorithm of ['sha256', 'sha512']) {
      const folder = join(root, 'blobs', algorithm);
      await mkdir(folder, { recursive: true });
      for (const name of await readdir(folder)) {
        const digest = `${algorithm}:${name}`;
        if (!DIGEST.test(digest)) continue;
        store.sizes.set(digest, (await stat(join(folder, name))).size);
      }
    }
    return store;
  }

  /** Whether the content of `digest` is on disk. */
  has(digest: string): boolean {
    return this.sizes.has(digest);
  }

  /** The size of a stored blob, or undefined when it is not stored. */
  size(digest: string): number | undefined {
    return this.sizes.get(digest);
  }

  /** How many blobs and bytes are stored. */
  get stats(): { blobs: number; bytes: number } {
    let bytes = 0;
    for (const size of this.sizes.values()) bytes += size;
    return { blobs: this.sizes.size, bytes };
  }

  /** The file of a digest (whether or not it is stored); undefined for a string that is not a blob digest. */
  pathOf(digest: string): string | undefined {
    const match = DIGEST.exec(digest);
    if (!match) return undefined;
    const algorithm = match[1] ?? match[3];
    const hex = match[2] ?? match[4];
    return join(this.dir, 'blobs', algorithm as string, hex as string);
  }

  /** A stream of a stored blob (or of `range` of it); undefined when it is not stored. */
  read(digest: string, range?: ByteRange): ReadStream | undefined {
    const path = this.pathOf(digest);
    if (path === undefined || !this.sizes.has(digest)) return undefined;
    return createReadStream(path, {
      highWaterMark: READ_BUFFER_BYTES,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
  }

  /** Starts an upload; `maxBytes` bounds its total size. */
  startUpload(maxBytes = Number.MAX_SAFE_INTEGER): BlobUpload {
    return new BlobUpload(this, join(this.dir, 'uploads', randomUUID()), maxBytes);
  }

  /** Stores a small blob held in memory (demo images, fixtures, tests). */
  async put(content: Buffer): Promise<BlobInfo> {
    const upload = this.startUpload();
    await upload.append(content);
    return upload.commit();
  }

  /** @internal Moves a checked upload into place (or drops it when the blob is already there). */
  async adopt(file: string, info: BlobInfo): Promise<void> {
    const target = this.pathOf(info.digest);
    if (target === undefined) throw new BlobError('DIGEST_MISMATCH', `Unsupported digest ${info.digest}`);
    if (this.sizes.has(info.digest)) {
      await unlink(file).catch(() => undefined);
      return;
    }
    await rename(file, target);
    this.sizes.set(info.digest, info.size);
  }

  /** Removes the directory when it is a temporary one. */
  async close(): Promise<void> {
    if (this.temporary) await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * An upload in progress: bytes are appended in order (each `append` streams to the end of the file and feeds the
 * running sha256), then `commit` checks the digest and makes it a blob. Appends must not overlap: the caller waits
 * for one to end before starting the next.
 */
export class BlobUpload {
  private readonly hash = createHash('sha256');
  private written = 0;
  private busy = false;
  private done = false;

  constructor(
    private readonly store: BlobStore,
    readonly file: string,
    readonly maxBytes: number,
  ) {}

  /** Bytes received so far. */
  get size(): number {
    return this.written;
  }

  /** The sha256 digest (`sha256:<hex>`) of the bytes received so far, read without finishing the upload. */
  get sha256Digest(): string {
    return `sha256:${this.hash.copy().digest('hex')}`;
  }

  /** Appends a buffer or a stream of buffers; returns the new size. Throws `BlobError('TOO_LARGE')` past `maxBytes` (the bytes already written stay). */
  async append(source: Buffer | Readable): Promise<number> {
    if (this.done) throw new Error('The upload is already finished');
    if (this.busy) throw new Error('Another append to this upload is in progress');
    this.busy = true;
    try {
      if (Buffer.isBuffer(source)) {
        this.count(source);
        await appendFile(this.file, source);
      } else {
        await this.appendStream(source);
      }
      return this.written;
    } finally {
      this.busy = false;
    }
  }

  /** Counts and hashes a chunk; throws `BlobError('TOO_LARGE')` (counting nothing) past `maxBytes`. */
  private count(chunk: Buffer): void {
    if (this.written + chunk.length > this.maxBytes) {
      throw new BlobError('TOO_LARGE', `The upload would pass ${this.maxBytes} bytes`);
    }
    this.written += chunk.length;
    this.hash.update(chunk);
  }

  /**
   * Streams `source` to the end of the file, hashing each chunk as it passes: the source is piped straight into the
   * file (no stream in between, whose per-chunk cost shows at hundreds of MB/s) and a 'data' listener counts and
   * hashes. Settles once the file has every byte, or on the first error: the source failing or closing before its
   * end (a client gone mid-chunk), the file failing, or the size limit (the source is then destroyed).
   */
  private appendStream(source: Readable): Promise<void> {
    return new Promise((resolve, reject) => {
      const file = createWriteStream(this.file, { flags: 'a', highWaterMark: WRITE_BUFFER_BYTES });
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        source.off('data', onData);
        source.unpipe(file);
        source.destroy();
        file.destroy();
        // The file is closed before the caller may discard it.
        if (file.closed) reject(error);
        else file.once('close', () => reject(error));
      };
      const onData = (chunk: Buffer) => {
        try {
          this.count(chunk);
        } catch (error) {
          fail(error as Error);
        }
      };
      source.on('data', onData);
      source.once('error', fail);
      source.once('close', () => {
        if (!source.readableEnded) fail(new Error('The request closed before its body ended'));
      });
      file.once('error', fail);
      file.once('close', () => {
        if (settled) return;
        settled = true;
        resolve();
      });
      source.pipe(file);
    });
  }

  /**
   * Makes the upload a blob. With `expected`, the content must hash to it (`BlobError('DIGEST_MISMATCH')`, and the
   * upload is discarded). An upload of no bytes is `BlobError('EMPTY')` unless `allowEmpty`.
   */
  async commit(expected?: string, options: { allowEmpty?: boolean } = {}): Promise<BlobInfo> {
    if (this.done) throw new Error('The upload is already finished');
    if (this.written === 0 && !options.allowEmpty) throw new BlobError('EMPTY', 'The upload has no content');
    this.done = true;
    if (this.written === 0) await (await open(this.file, 'a')).close();
    let digest = `sha256:${this.hash.digest('hex')}`;
    if (expected?.startsWith('sha512:')) {
      const hash = createHash('sha512');
      await pipeline(createReadStream(this.file), async (input: AsyncIterable<Buffer>) => {
        for await (const chunk of input) hash.update(chunk);
      });
      digest = `sha512:${hash.digest('hex')}`;
    }
    if (expected !== undefined && expected !== digest) {
      await this.abort();
      throw new BlobError('DIGEST_MISMATCH', `The content hashes to ${digest}, not ${expected}`);
    }
    const info = { digest, size: this.written };
    await this.store.adopt(this.file, info);
    return info;
  }

  /** Discards the upload. */
  async abort(): Promise<void> {
    this.done = true;
    await unlink(this.file).catch(() => undefined);
  }
}
