import {
  bucketNameProblem,
  MAX_BUCKETS,
  MAX_KEY_BYTES,
  MAX_OBJECT_BYTES,
  MAX_OBJECTS,
  MAX_TOTAL_BYTES,
  type ObjectStorage,
} from './state.ts';

/**
 * The S3 part of a fixture (`POST /_local/load`): buckets with their objects. A bucket belongs to `account` (default:
 * the fixture's account) in `region` (default: the fixture's region); one the same account already owns is kept and
 * gains the objects (an object of the same key is replaced), one another account owns is refused.
 */
export interface StorageFixture {
  s3?: {
    buckets?: {
      name: string;
      account?: string;
      region?: string;
      objects?: { key: string; body?: string; bodyBase64?: string; contentType?: string }[];
    }[];
  };
}

const fail = (message: string): never => {
  throw new Error(`Invalid fixture: ${message}`);
};
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown, where: string): unknown[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(`${where} is an array`);
  return value as unknown[];
};

/** What a fixture's `s3` section declared: checked whole first, then added by `commit`. */
export function buildStorage(
  storage: ObjectStorage,
  raw: Record<string, unknown>,
  scope: { account: string; region: string; now: number },
): (() => { buckets: number; objects: number }) | undefined {
  if (raw.s3 === undefined) return undefined;
  if (!isObject(raw.s3)) fail('s3 is an object');
  const specs = list((raw.s3 as Record<string, unknown>).buckets, 's3.buckets');
  if (specs.length > MAX_BUCKETS) fail(`s3.buckets holds at most ${MAX_BUCKETS} buckets`);
  const buckets: {
    name: string;
    account: string;
    region: string;
    objects: { key: string; body: Buffer; contentType?: string }[];
  }[] = [];
  const names = new Set<string>();
  let objects = 0;
  let bytes = 0;
  for (const [index, item] of specs.entries()) {
    const where = `s3.buckets[${index}]`;
    if (!isObject(item)) fail(`${where} is an object`);
    const spec = item as Record<string, unknown>;
    const name = spec.name;
    if (typeof name !== 'string') fail(`${where}.name is a string`);
    const problem = bucketNameProblem(name as string);
    if (problem) fail(`${where}.name ${JSON.stringify(name)}: ${problem}`);
    if (names.has(name as string)) fail(`${where}.name ${name} is declared twice`);
    names.add(name as string);
    const account = spec.account ?? scope.account;
    if (typeof account !== 'string' || !/^\d{12}$/.test(account)) fail(`${where}.account is a 12-digit account id`);
    const region = spec.region ?? scope.region;
    if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) fail(`${where}.region is a region`);
    const existing = storage.bucket(name as string);
    if (existing && existing.account !== account) fail(`bucket ${name} belongs to account ${existing.account}`);
    const bucketObjects: { key: string; body: Buffer; contentType?: string }[] = [];
    for (const [position, entry] of list(spec.objects, `${where}.objects`).entries()) {
      const at = `${where}.objects[${position}]`;
      if (!isObject(entry)) fail(`${at} is an object`);
      const object = entry as Record<string, unknown>;
      const key = object.key;
      if (typeof key !== 'string' || key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES) {
        fail(`${at}.key is a string of 1 to ${MAX_KEY_BYTES} bytes`);
      }
      if ((object.body === undefined) === (object.bodyBase64 === undefined)) fail(`${at} has a body or a bodyBase64`);
      if (object.body !== undefined && typeof object.body !== 'string') fail(`${at}.body is a string`);
      if (object.bodyBase64 !== undefined && typeof object.bodyBase64 !== 'string')
        fail(`${at}.bodyBase64 is a string`);
      if (object.contentType !== undefined && typeof object.contentType !== 'string') {
        fail(`${at}.contentType is a string`);
      }
      const body =
        typeof object.body === 'string'
          ? Buffer.from(object.body, 'utf8')
          : Buffer.from(object.bodyBase64 as string, 'base64');
      if (body.length > MAX_OBJECT_BYTES) fail(`${at} is larger than ${MAX_OBJECT_BYTES} bytes`);
      objects++;
      bytes += body.length;
      bucketObjects.push({
        key: key as string,
        body,
        ...(typeof object.contentType === 'string' ? { contentType: object.contentType } : {}),
      });
    }
    buckets.push({
      name: name as string,
      account: account as string,
      region: region as string,
      objects: bucketObjects,
    });
  }
  if (storage.totalObjects + objects > MAX_OBJECTS) fail(`the registry holds at most ${MAX_OBJECTS} S3 objects`);
  if (storage.totalBytes + bytes > MAX_TOTAL_BYTES)
    fail(`the registry holds at most ${MAX_TOTAL_BYTES} bytes of S3 objects`);
  const added = buckets.filter((bucket) => !storage.bucket(bucket.name)).length;
  if (storage.bucketCount + added > MAX_BUCKETS) fail(`the registry holds at most ${MAX_BUCKETS} S3 buckets`);
  return () => {
    for (const bucket of buckets) {
      const existing = storage.bucket(bucket.name);
      if (existing && existing.account !== bucket.account) {
        fail(`bucket ${bucket.name} belongs to account ${existing.account}`);
      }
    }
    for (const bucket of buckets) {
      if (!storage.bucket(bucket.name)) storage.createBucket(bucket.name, bucket.account, bucket.region, scope.now);
      for (const object of bucket.objects) {
        storage.putObject(bucket.name, bucket.account, object.key, object, scope.now);
      }
    }
    return { buckets: buckets.length, objects };
  };
}
