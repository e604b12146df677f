import { createHash } from 'node:crypto';

/**
 * Amazon S3's buckets and objects (a subset of S3), global rather than per account and region: a bucket name is
 * unique across every account, and only its owner reads and writes it. Held by the model's `Registry`, in memory
 * (and, with a data directory, journalled and kept in snapshots); `POST /_local/reset` clears them. Every change goes
 * through the methods here, which the HTTP front and the journal's replay both call, so that a replay makes the
 * same state the requests made.
 */

/** Largest object body (S3's own limit for one PUT is 5 GiB; the local registry keeps objects in memory). */
export const MAX_OBJECT_BYTES = 5 * 1024 * 1024;
/** Bytes of object bodies one registry holds at most. */
export const MAX_TOTAL_BYTES = 256 * 1024 * 1024;
/** Objects one registry holds at most. */
export const MAX_OBJECTS = 200_000;
/** Buckets one registry holds at most. */
export const MAX_BUCKETS = 1_000;
/** Longest key, in bytes of UTF-8 (S3's). */
export const MAX_KEY_BYTES = 1024;
/** User metadata (`x-amz-meta-*` names and values) of one object, in bytes (S3's 2 KB). */
export const MAX_METADATA_BYTES = 2048;

/** An S3 error: its code, message, HTTP status and any extra elements of its XML body. */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const noSuchBucket = (bucket: string) =>
  new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
export const noSuchKey = (key: string) =>
  new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
export const accessDenied = () => new S3Error('AccessDenied', 'Access Denied', 403);
export const preconditionFailed = (condition: string) =>
  new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, {
    Condition: condition,
  });

/** An object's integrity checksum as the client sent it (`x-amz-checksum-<algorithm>`, base64). */
export interface StoredChecksum {
  algorithm: string;
  value: string;
}

export interface StoredObject {
  key: string;
  body: Buffer;
  /** Quoted MD5 of the body, in hex. */
  etag: string;
  contentType: string;
  contentEncoding?: string;
  /** `x-amz-meta-*` without the prefix, names in lowercase. */
  metadata: Record<string, string>;
  checksum?: StoredChecksum;
  lastModified: number;
}

export interface Bucket {
  name: string;
  account: string;
  region: string;
  createdAt: number;
  objects: Map<string, StoredObject>;
  /** The keys in UTF-8 binary order (S3's listing order). */
  keys: string[];
}

/** What a new object is made of (a PutObject's input, a fixture's object). */
export interface ObjectInput {
  body: Buffer;
  contentType?: string;
  contentEncoding?: string;
  metadata?: Record<string, string>;
  checksum?: StoredChecksum;
}

/** Conditional write headers of a PutObject. */
export interface WriteConditions {
  ifNoneMatch?: string;
  ifMatch?: string;
}

/** A code unit remapped so that UTF-16 comparison orders strings as their UTF-8 bytes (code points) do. */
const fixup = (unit: number) => (unit < 0xd800 ? unit : unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);

/** Compares two strings in UTF-8 binary order (S3's listing order). */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

/** The index of the first of the sorted `keys` that is greater than `marker` (or not less, with `inclusive`). */
export function firstAfter(keys: readonly string[], marker: string, inclusive = false): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = compareUtf8(keys[middle] as string, marker);
    if (order < 0 || (order === 0 && !inclusive)) low = middle + 1;
    else high = middle;
  }
  return low;
}

export const md5ETag = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;

/** A bucket name by S3's rules for general purpose buckets; the reason it is not one, or undefined. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'Bucket names must be between 3 and 63 characters long';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    return 'Bucket names consist of lowercase letters, digits, dots and hyphens, and begin and end with a letter or digit';
  }
  if (name.includes('..')) return 'Bucket names must not contain two adjacent periods';
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return 'Bucket names must not be formatted as an IP address';
  for (const prefix of ['xn--', 'sthree-', 'amzn-s3-demo-']) {
    if (name.startsWith(prefix)) return `Bucket names must not start with ${prefix}`;
  }
  for (const suffix of ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']) {
    if (name.endsWith(suffix)) return `Bucket names must not end with ${suffix}`;
  }
  return undefined;
}

/** A snapshot's bucket line (its objects follow as their own lines). */
export interface BucketRecord {
  name: string;
  account: string;
  region: string;
  createdAt: number;
}

/** A snapshot's object line: the body as base64. */
export interface ObjectRecord {
  bucket: string;
  key: string;
  body: string;
  contentType: string;
  contentEncoding?: string;
  metadata: Record<string, string>;
  checksum?: StoredChecksum;
  lastModified: number;
}

/** Every bucket of the registry. */
export class ObjectStorage {
  private readonly buckets = new Map<string, Bucket>();
  private bytes = 0;
  private objectCount = 0;

  get totalBytes(): number {
    return this.bytes;
  }

  get totalObjects(): number {
    return this.objectCount;
  }

  get bucketCount(): number {
    return this.buckets.size;
  }

  bucket(name: string): Bucket | undefined {
    return this.buckets.get(name);
  }

  /** The bucket `name` for `account`: NoSuchBucket when there is none, AccessDenied when another account owns it. */
  owned(name: string, account: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw noSuchBucket(name);
    if (bucket.account !== account) throw accessDenied();
    return bucket;
  }

  /** The buckets `account` owns, by name in UTF-8 binary order. */
  ownedBy(account: string): Bucket[] {
    return [...this.buckets.values()]
      .filter((bucket) => bucket.account === account)
      .sort((a, b) => compareUtf8(a.name, b.name));
  }

  all(): IterableIterator<Bucket> {
    return this.buckets.values();
  }

  /**
   * Creates a bucket. One of the same owner is BucketAlreadyOwnedByYou (409), except in us-east-1, where S3 answers
   * success for it (returned: false, nothing changes); another owner's is BucketAlreadyExists (409).
   */
  createBucket(name: string, account: string, region: string, now: number): boolean {
    const problem = bucketNameProblem(name);
    if (problem)
      throw new S3Error('InvalidBucketName', `The specified bucket is not valid: ${problem}`, 400, {
        BucketName: name,
      });
    const existing = this.buckets.get(name);
    if (existing) {
      if (existing.account !== account) {
        throw new S3Error(
          'BucketAlreadyExists',
          'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
          409,
          { BucketName: name },
        );
      }
      if (region === 'us-east-1' && existing.region === 'us-east-1') return false;
      throw new S3Error(
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
        409,
        { BucketName: name },
      );
    }
    if (this.buckets.size >= MAX_BUCKETS) {
      throw new S3Error(
        'TooManyBuckets',
        `You have attempted to create more buckets than allowed: the local registry holds at most ${MAX_BUCKETS} buckets (POST /_local/reset frees them)`,
        400,
      );
    }
    this.buckets.set(name, { name, account, region, createdAt: now, objects: new Map(), keys: [] });
    return true;
  }

  /** Deletes an empty bucket of `account` (BucketNotEmpty, 409, when it holds objects). */
  deleteBucket(name: string, account: string): void {
    const bucket = this.owned(name, account);
    if (bucket.objects.size > 0) {
      throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: name });
    }
    this.buckets.delete(name);
  }

  /**
   * Stores an object (replacing one of the same key), after the write conditions: `If-None-Match: *` fails when the
   * key exists, `If-Match: <etag>` when it does not (NoSuchKey) or has another ETag; both are 412 PreconditionFailed.
   */
  putObject(
    bucketName: string,
    account: string,
    key: string,
    input: ObjectInput,
    now: number,
    conditions: WriteConditions = {},
  ): StoredObject {
    const bucket = this.owned(bucketName, account);
    const existing = bucket.objects.get(key);
    if (conditions.ifNoneMatch !== undefined) {
      if (conditions.ifNoneMatch.trim() !== '*') {
        throw new S3Error(
          'NotImplemented',
          'A header you provided implies functionality that is not implemented',
          501,
          {
            Header: 'If-None-Match',
          },
        );
      }
      if (existing) throw preconditionFailed('If-None-Match');
    }
    if (conditions.ifMatch !== undefined) {
      if (!existing) throw noSuchKey(key);
      if (!etagMatches(conditions.ifMatch, existing.etag)) throw preconditionFailed('If-Match');
    }
    const size = input.body.length;
    if (size > MAX_OBJECT_BYTES) {
      throw new S3Error(
        'EntityTooLarge',
        `Your proposed upload exceeds the maximum allowed size: the local registry stores objects of at most ${MAX_OBJECT_BYTES} bytes`,
        400,
        { ProposedSize: String(size), MaxSizeAllowed: String(MAX_OBJECT_BYTES) },
      );
    }
    const freed = existing?.body.length ?? 0;
    if (this.bytes - freed + size > MAX_TOTAL_BYTES) {
      throw new S3Error(
        'InvalidRequest',
        `The local registry holds at most ${MAX_TOTAL_BYTES} bytes of S3 objects; this object would pass it (DeleteObject or POST /_local/reset frees them)`,
        400,
      );
    }
    if (!existing && this.objectCount >= MAX_OBJECTS) {
      throw new S3Error(
        'InvalidRequest',
        `The local registry holds at most ${MAX_OBJECTS} S3 objects (DeleteObject or POST /_local/reset frees them)`,
        400,
      );
    }
    const stored: StoredObject = {
      key,
      body: input.body,
      etag: md5ETag(input.body),
      contentType: input.contentType ?? 'binary/octet-stream',
      ...(input.contentEncoding ? { contentEncoding: input.contentEncoding } : {}),
      metadata: input.metadata ?? {},
      ...(input.checksum ? { checksum: input.checksum } : {}),
      lastModified: now,
    };
    if (!existing) {
      const at = firstAfter(bucket.keys, key);
      bucket.keys.splice(at, 0, key);
      this.objectCount++;
    }
    bucket.objects.set(key, stored);
    this.bytes += size - freed;
    return stored;
  }

  /** Deletes an object; deleting a key that does not exist succeeds, as in S3. */
  deleteObject(bucketName: string, account: string, key: string): void {
    const bucket = this.owned(bucketName, account);
    const existing = bucket.objects.get(key);
    if (!existing) return;
    bucket.objects.delete(key);
    const at = firstAfter(bucket.keys, key, true);
    if (bucket.keys[at] === key) bucket.keys.splice(at, 1);
    this.objectCount--;
    this.bytes -= existing.body.length;
  }

  reset(): void {
    this.buckets.clear();
    this.bytes = 0;
    this.objectCount = 0;
  }

  /** A bucket as a snapshot line. */
  static bucketRecord(bucket: Bucket): BucketRecord {
    return { name: bucket.name, account: bucket.account, region: bucket.region, createdAt: bucket.createdAt };
  }

  /** An object as a snapshot line. */
  static objectRecord(bucket: Bucket, object: StoredObject): ObjectRecord {
    return {
      bucket: bucket.name,
      key: object.key,
      body: object.body.toString('base64'),
      contentType: object.contentType,
      ...(object.contentEncoding ? { contentEncoding: object.contentEncoding } : {}),
      metadata: object.metadata,
      ...(object.checksum ? { checksum: object.checksum } : {}),
      lastModified: object.lastModified,
    };
  }

  /** Puts back a bucket a snapshot wrote. */
  restoreBucket(record: BucketRecord): void {
    if (typeof record.name !== 'string' || typeof record.account !== 'string' || typeof record.region !== 'string') {
      throw new Error('an S3 bucket record without its name, account or region');
    }
    this.createBucket(record.name, record.account, record.region, Number(record.createdAt));
  }

  /** Puts back an object a snapshot wrote (its bucket's line came before it). */
  restoreObject(record: ObjectRecord): void {
    const bucket = this.buckets.get(String(record.bucket));
    if (!bucket || typeof record.key !== 'string' || typeof record.body !== 'string') {
      throw new Error('an S3 object record before its bucket, or without its key or body');
    }
    this.putObject(
      bucket.name,
      bucket.account,
      record.key,
      {
        body: Buffer.from(record.body, 'base64'),
        contentType: record.contentType,
        contentEncoding: record.contentEncoding,
        metadata: record.metadata,
        checksum: record.checksum,
      },
      Number(record.lastModified),
    );
  }
}

/** Whether an `If-Match`/`If-None-Match` value (a list of ETags, quoted or not, or `*`) names `etag`. */
export function etagMatches(condition: string, etag: string): boolean {
  const bare = etag.replace(/^"|"$/g, '');
  return condition.split(',').some((item) => {
    const value = item.trim().replace(/^W\//, '');
    return value === '*' || value.replace(/^"|"$/g, '') === bare;
  });
}
