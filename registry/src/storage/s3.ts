import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { parseRange } from '../wire/blob-response.ts';
import { parseScope, type RequestScope, signingService } from '../wire/sigv4.ts';
import { decodeAwsChunked } from './aws-chunked.ts';
import {
  type Bucket,
  compareUtf8,
  etagMatches,
  firstAfter,
  MAX_KEY_BYTES,
  MAX_METADATA_BYTES,
  MAX_OBJECT_BYTES,
  noSuchKey,
  type ObjectStorage,
  preconditionFailed,
  S3Error,
  type StoredChecksum,
  type StoredObject,
} from './state.ts';

/**
 * Amazon S3's REST API (a subset), path-style: `/<bucket>` and `/<bucket>/<key>` on the registry's port, told apart
 * from every other route by the SigV4 credential scope naming the service `s3` (the `Authorization` header's, or a
 * presigned URL's `X-Amz-Credential`). Answers are S3's XML shapes, errors S3's `<Error>` bodies with its codes and
 * status codes, as `@aws-sdk/client-s3` (with `forcePathStyle`) and `aws s3api --endpoint-url` read them.
 *
 * Served: ListBuckets, CreateBucket, HeadBucket, GetBucketLocation, DeleteBucket, PutObject, GetObject, HeadObject,
 * DeleteObject, DeleteObjects, ListObjectsV2 and ListObjects. Anything else S3 has is NotImplemented (501) and changes nothing.
 */

export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** Longest request body read for anything but PutObject (a CreateBucketConfiguration). */
const MAX_SMALL_BODY = 64 * 1024;
/** Longest raw PutObject body: the object and the aws-chunked framing around it. */
const MAX_PUT_BODY = MAX_OBJECT_BYTES + 1024 * 1024;
/** Longest DeleteObjects body: 1,000 keys of up to 1,024 bytes, escaped. */
const MAX_DELETE_BODY = 8 * 1024 * 1024;
/** Longest query string. */
const MAX_QUERY_CHARS = 8 * 1024;
/** Longest prefix, delimiter, start-after or marker, in bytes (a key's bound). */
const MAX_PARAMETER_BYTES = MAX_KEY_BYTES;
/** Most keys (and common prefixes) a listing answers, S3's bound of `max-keys`. */
export const MAX_LIST_KEYS = 1000;
/** Most buckets ListBuckets answers a page (S3's bound of `max-buckets`). */
const MAX_LIST_BUCKETS = 10_000;

/** S3's subresources the local registry does not serve: a request naming one is NotImplemented. */
const UNSERVED_SUBRESOURCES = new Set([
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'logging',
  'metadataTable',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'partNumber',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'session',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
]);

const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;

/** What the S3 front needs of the server. */
export interface S3Host {
  storage: ObjectStorage;
  now(): number;
  /** Counts the call (`s3:<Operation>`) and draws its fault, if any. */
  call(name: string): Promise<'throttle' | 'server' | undefined>;
  /** Journals a change before it is answered (nothing without a data directory). */
  journal(op: string, scope: RequestScope, time: number, input: Record<string, unknown>): void;
  /** Whether the key is a session that has expired. */
  expired(scope: RequestScope): boolean;
  /** Whether the region is one the registry serves. */
  validRegion(region: string): boolean;
}

/**
 * The caller's scope when a request is signed for S3 (its `Authorization` header's credential scope, or a presigned
 * URL's `X-Amz-Credential`, names the service `s3`), else undefined: the request is not S3's.
 */
export function s3RequestScope(req: IncomingMessage): RequestScope | undefined {
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string') {
    return signingService(authorization) === 's3' ? parseScope(authorization) : undefined;
  }
  const url = req.url ?? '';
  const queryAt = url.indexOf('?');
  if (queryAt < 0 || !url.includes('X-Amz-Credential=', queryAt)) return undefined;
  const query = url.slice(queryAt + 1);
  if (query.length > MAX_QUERY_CHARS) return undefined;
  const credential = new URLSearchParams(query).get('X-Amz-Credential');
  if (credential === null) return undefined;
  const header = `Credential=${credential}`;
  return signingService(header) === 's3' ? parseScope(header) : undefined;
}

const escapeXml = (value: string) =>
  value.replace(/[&<>"']|[^\t\n\r -\uffff]/g, (character) => {
    switch (character) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${character.charCodeAt(0).toString(16)};`;
    }
  });

/** `<name>value</name>`, escaped. */
const element = (name: string, value: string | number | boolean) => `<${name}>${escapeXml(String(value))}</${name}>`;

const document = (root: string, inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NAMESPACE}">${inner}</${root}>`;

/** A key or prefix as `encoding-type=url` answers it: percent-encoded, `/` kept. */
const urlEncode = (value: string) => encodeURIComponent(value).replace(/%2F/g, '/');

/** The canonical user id S3 answers as an account's owner id (64 hex characters, derived from the account). */
export const canonicalId = (account: string) => createHash('sha256').update(`s3-owner:${account}`).digest('hex');

const owner = (account: string) => `<Owner>${element('ID', canonicalId(account))}</Owner>`;

const utf8Bytes = (value: string) => Buffer.byteLength(value, 'utf8');

/** A listing's continuation token: opaque, the last key or common prefix answered. */
const continuationToken = (marker: string) => Buffer.from(`1${marker}`, 'utf8').toString('base64url');

function markerOfToken(token: string): string {
  const invalid = () =>
    new S3Error('InvalidArgument', 'The continuation token provided is incorrect', 400, {
      ArgumentName: 'continuation-token',
    });
  if (token.length > 4 * MAX_PARAMETER_BYTES || !/^[A-Za-z0-9_-]+={0,2}$/.test(token)) throw invalid();
  const bytes = Buffer.from(token, 'base64url');
  const text = bytes.toString('utf8');
  if (!text.startsWith('1') || !Buffer.from(text, 'utf8').equals(bytes)) throw invalid();
  return text.slice(1);
}

/** Reads a request body to its end, keeping nothing past `limit` bytes (undefined then). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.once('end', () => {
      ended = true;
      resolve(size > limit ? undefined : Buffer.concat(chunks));
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!ended) reject(new Error('The request was closed before its body ended'));
    });
  });
}

/** Refuses an S3 request the loopback guard turned away: 403 AccessDenied as S3's XML error. */
export function refuseS3(req: IncomingMessage, res: ServerResponse, reason: string): void {
  req.resume();
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${element('Code', 'AccessDenied')}${element('Message', `The local registry refuses this request: ${reason}`)}</Error>`;
  res.writeHead(403, {
    'content-type': 'application/xml',
    'content-length': req.method === 'HEAD' ? 0 : Buffer.byteLength(text),
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/** A listing of keys: what ListObjectsV2 and ListObjects answer. */
interface Listing {
  contents: StoredObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last key or common prefix answered. */
  last?: string;
}

/**
 * Lists the keys of `bucket` under `prefix` after `marker`, rolling keys up into common prefixes at `delimiter`; a
 * common prefix counts as one key towards `maxKeys` and is answered once (not again once the marker has passed it).
 */
export function listKeys(bucket: Bucket, prefix: string, delimiter: string, marker: string, maxKeys: number): Listing {
  const keys = bucket.keys;
  const listing: Listing = { contents: [], commonPrefixes: [], truncated: false };
  if (maxKeys === 0) return listing;
  let i = Math.max(firstAfter(keys, marker), firstAfter(keys, prefix, true));
  while (i < keys.length) {
    const key = keys[i] as string;
    if (!key.startsWith(prefix)) break;
    const at = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    if (at >= 0) {
      const common = key.slice(0, at + delimiter.length);
      if (compareUtf8(common, marker) > 0) {
        if (listing.contents.length + listing.commonPrefixes.length === maxKeys) {
          listing.truncated = true;
          break;
        }
        listing.commonPrefixes.push(common);
        listing.last = common;
      }
      while (i < keys.length && (keys[i] as string).startsWith(common)) i++;
      continue;
    }
    if (listing.contents.length + listing.commonPrefixes.length === maxKeys) {
      listing.truncated = true;
      break;
    }
    listing.contents.push(bucket.objects.get(key) as StoredObject);
    listing.last = key;
    i++;
  }
  return listing;
}

/** The operation a request is, with its bucket and key. */
interface Route {
  operation: string;
  bucket?: string;
  key?: string;
}

function route(method: string, path: string, query: URLSearchParams, headers: IncomingMessage['headers']): Route {
  if (path === '/' || path === '') {
    if (method === 'GET') return { operation: 'ListBuckets' };
    throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
  }
  const slash = path.indexOf('/', 1);
  let bucket: string;
  let key: string | undefined;
  try {
    bucket = decodeURIComponent(slash < 0 ? path.slice(1) : path.slice(1, slash));
    const rest = slash < 0 ? '' : path.slice(slash + 1);
    key = rest === '' ? undefined : decodeURIComponent(rest);
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.", 400);
  }
  for (const name of query.keys()) {
    if (UNSERVED_SUBRESOURCES.has(name)) {
      throw new S3Error('NotImplemented', `The local registry does not implement S3's ?${name} requests`, 501);
    }
  }
  if (key === undefined) {
    switch (method) {
      case 'PUT':
        return { operation: 'CreateBucket', bucket };
      case 'HEAD':
        return { operation: 'HeadBucket', bucket };
      case 'DELETE':
        return { operation: 'DeleteBucket', bucket };
      case 'POST':
        if (query.has('delete')) return { operation: 'DeleteObjects', bucket };
        throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
      case 'GET':
        if (query.has('location')) return { operation: 'GetBucketLocation', bucket };
        return { operation: query.has('list-type') ? 'ListObjectsV2' : 'ListObjects', bucket };
      default:
        throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
    }
  }
  if (utf8Bytes(key) > MAX_KEY_BYTES) {
    throw new S3Error('KeyTooLongError', 'Your key is too long', 400, {
      MaxSizeAllowed: String(MAX_KEY_BYTES),
      Size: String(utf8Bytes(key)),
    });
  }
  switch (method) {
    case 'PUT':
      if (headers['x-amz-copy-source'] !== undefined) {
        throw new S3Error('NotImplemented', 'The local registry does not implement CopyObject', 501);
      }
      return { operation: 'PutObject', bucket, key };
    case 'GET':
      return { operation: 'GetObject', bucket, key };
    case 'HEAD':
      return { operation: 'HeadObject', bucket, key };
    case 'DELETE':
      return { operation: 'DeleteObject', bucket, key };
    default:
      throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
  }
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** A non-negative integer query parameter within `max` (clamped to it), or `fallback` when absent. */
function integerParameter(query: URLSearchParams, name: string, fallback: number, max: number, min = 0): number {
  const value = query.get(name);
  if (value === null) return fallback;
  if (!/^\d{1,10}$/.test(value) || Number(value) < min) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, 400, {
      ArgumentName: name,
      ArgumentValue: value.slice(0, 64),
    });
  }
  return Math.min(Number(value), max);
}

function textParameter(query: URLSearchParams, name: string): string {
  const value = query.get(name) ?? '';
  if (utf8Bytes(value) > MAX_PARAMETER_BYTES) {
    throw new S3Error('InvalidArgument', `${name} is longer than ${MAX_PARAMETER_BYTES} bytes`, 400, {
      ArgumentName: name,
    });
  }
  return value;
}

/** The base64 checksum of `body` by `algorithm`, or undefined for one the registry does not compute. */
function checksumOf(algorithm: string, body: Buffer): string | undefined {
  switch (algorithm) {
    case 'crc32': {
      const value = Buffer.alloc(4);
      value.writeUInt32BE(crc32(body) >>> 0);
      return value.toString('base64');
    }
    case 'sha1':
    case 'sha256':
      return createHash(algorithm).update(body).digest('base64');
    default:
      return undefined;
  }
}

/** The object's body after the content encodings, digests and checksums of the request are checked. */
function decodePutBody(
  req: IncomingMessage,
  raw: Buffer,
): { body: Buffer; checksum?: StoredChecksum; contentEncoding?: string } {
  const contentSha256 = header(req, 'x-amz-content-sha256') ?? '';
  if (/^[0-9a-fA-F]{64}$/.test(contentSha256)) {
    if (createHash('sha256').update(raw).digest('hex') !== contentSha256.toLowerCase()) {
      throw new S3Error(
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        400,
      );
    }
  }
  const encodings = (header(req, 'content-encoding') ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const chunked = encodings.includes('aws-chunked') || contentSha256.startsWith('STREAMING-');
  let body = raw;
  let trailers: Record<string, string> = {};
  if (chunked) {
    const decoded = decodeAwsChunked(raw);
    body = decoded.body;
    trailers = decoded.trailers;
    const declared = header(req, 'x-amz-decoded-content-length');
    if (declared !== undefined && declared !== String(body.length)) {
      throw new S3Error(
        'IncompleteBody',
        'You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header',
        400,
      );
    }
  }
  if (body.length > MAX_OBJECT_BYTES) {
    throw new S3Error(
      'EntityTooLarge',
      `Your proposed upload exceeds the maximum allowed size: the local registry stores objects of at most ${MAX_OBJECT_BYTES} bytes`,
      400,
      { ProposedSize: String(body.length), MaxSizeAllowed: String(MAX_OBJECT_BYTES) },
    );
  }
  const md5 = header(req, 'content-md5');
  if (md5 !== undefined) {
    const given = /^[A-Za-z0-9+/]{22}==$/.test(md5.trim()) ? Buffer.from(md5.trim(), 'base64') : undefined;
    if (given === undefined || given.length !== 16)
      throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400);
    if (!createHash('md5').update(body).digest().equals(given)) {
      throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
    }
  }
  let checksum: StoredChecksum | undefined;
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const name = `x-amz-checksum-${algorithm}`;
    const value = header(req, name) ?? trailers[name];
    if (value === undefined) continue;
    if (checksum) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header', 400);
    if (value.length > 128 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
      throw new S3Error('InvalidRequest', `Value for ${name} header is invalid.`, 400);
    }
    const computed = checksumOf(algorithm, body);
    if (computed !== undefined && computed !== value) {
      throw new S3Error(
        'BadDigest',
        `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
        400,
      );
    }
    checksum = { algorithm: algorithm.toUpperCase(), value };
  }
  const rest = encodings.filter((item) => item !== 'aws-chunked').join(',');
  return { body, ...(checksum ? { checksum } : {}), ...(rest ? { contentEncoding: rest } : {}) };
}

/** `x-amz-meta-*` headers, names in lowercase without the prefix (MetadataTooLarge past S3's 2 KB). */
function metadataOf(req: IncomingMessage): Record<string, string> {
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    const short = name.slice('x-amz-meta-'.length);
    bytes += utf8Bytes(short) + utf8Bytes(text);
    metadata[short] = text;
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw new S3Error(
      'MetadataTooLarge',
      `Your metadata headers exceed the maximum allowed metadata size of ${MAX_METADATA_BYTES} bytes`,
      400,
    );
  }
  return metadata;
}

/** The region a CreateBucketConfiguration names, or undefined for an empty body (MalformedXML otherwise). */
function locationConstraint(body: Buffer): string | undefined {
  const text = body.toString('utf8').trim();
  if (text === '') return undefined;
  const match =
    /^(?:<\?xml[^>]{0,200}\?>)?\s*<CreateBucketConfiguration(?:\s[^>]{0,500})?>\s*(?:<LocationConstraint>([a-z0-9-]{0,64})<\/LocationConstraint>)?\s*<\/CreateBucketConfiguration>$/.exec(
      text,
    );
  if (!match) {
    throw new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
      400,
    );
  }
  return match[1] === undefined || match[1] === '' ? undefined : match[1];
}

const MALFORMED_XML = () =>
  new S3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
    400,
  );

/** XML text with its five entities and character references resolved (MalformedXML for any other `&`). */
function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|amp|lt|gt|quot|apos);|&/g, (_whole, name: string | undefined) => {
    switch (name) {
      case undefined:
        throw MALFORMED_XML();
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const code = name.startsWith('#x') ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw MALFORMED_XML();
        return String.fromCodePoint(code);
      }
    }
  });
}

/** The keys of a DeleteObjects body (`<Delete><Object><Key>…</Key></Object>…<Quiet>…</Quiet></Delete>`): 1 to 1,000. */
function deleteRequest(text: string): { keys: string[]; quiet: boolean } {
  const match = /^(?:<\?xml[^>]{0,200}\?>)?\s*<Delete(?:\s[^>]{0,500})?>([\s\S]*)<\/Delete>\s*$/.exec(text.trim());
  if (!match) throw MALFORMED_XML();
  let inner = match[1] as string;
  let quiet = false;
  inner = inner.replace(/<Quiet>\s*(true|false)\s*<\/Quiet>/, (_whole, value: string) => {
    quiet = value === 'true';
    return '';
  });
  const keys: string[] = [];
  const object = /\s*<Object>\s*<Key>([^<]*)<\/Key>\s*(?:<(VersionId|ETag)>[^<]*<\/\2>\s*)*<\/Object>\s*/y;
  let at = 0;
  while (at < inner.length) {
    object.lastIndex = at;
    const found = object.exec(inner);
    if (!found) {
      if (inner.slice(at).trim() === '') break;
      throw MALFORMED_XML();
    }
    if (found[2] === 'VersionId') {
      throw new S3Error('NotImplemented', 'The local registry keeps no object versions', 501);
    }
    const key = unescapeXml(found[1] as string);
    if (key === '' || utf8Bytes(key) > MAX_KEY_BYTES) throw MALFORMED_XML();
    keys.push(key);
    if (keys.length > MAX_LIST_KEYS) throw MALFORMED_XML();
    at = object.lastIndex;
  }
  if (keys.length === 0) throw MALFORMED_XML();
  return { keys, quiet };
}

/** The state a journal record of an S3 change names; replays it on `storage`. */
export function replayS3(
  storage: ObjectStorage,
  op: string,
  scope: { account: string; region: string },
  time: number,
  input: Record<string, unknown>,
): void {
  const text = (name: string) => {
    const value = input[name];
    if (typeof value !== 'string') throw new Error(`the S3 record has no ${name}`);
    return value;
  };
  switch (op) {
    case 'CreateBucket':
      storage.createBucket(text('bucket'), scope.account, text('region'), time);
      return;
    case 'DeleteBucket':
      storage.deleteBucket(text('bucket'), scope.account);
      return;
    case 'PutObject':
      storage.putObject(
        text('bucket'),
        scope.account,
        text('key'),
        {
          body: Buffer.from(text('body'), 'base64'),
          contentType: text('contentType'),
          contentEncoding: typeof input.contentEncoding === 'string' ? input.contentEncoding : undefined,
          metadata: (input.metadata ?? {}) as Record<string, string>,
          checksum: input.checksum as StoredChecksum | undefined,
        },
        time,
      );
      return;
    case 'DeleteObject':
      storage.deleteObject(text('bucket'), scope.account, text('key'));
      return;
    case 'DeleteObjects': {
      const keys = input.keys;
      if (!Array.isArray(keys)) throw new Error('the S3 record has no keys');
      for (const key of keys) storage.deleteObject(text('bucket'), scope.account, String(key));
      return;
    }
    default:
      throw new Error(`no S3 operation ${op} to replay it with`);
  }
}

/** Answers a request signed for S3 (see `s3RequestScope`). */
export async function serveS3(
  req: IncomingMessage,
  res: ServerResponse,
  scope: RequestScope,
  host: S3Host,
): Promise<void> {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  const common = {
    'x-amz-request-id': requestId,
    'x-amz-id-2': randomBytes(24).toString('base64'),
    server: 'AmazonS3',
  };
  const method = req.method ?? 'GET';
  const fail = (error: S3Error) => {
    const extra = Object.entries(error.extra)
      .map(([name, value]) => element(name, value))
      .join('');
    const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${element('Code', error.code)}${element('Message', error.message)}${extra}${element('RequestId', requestId)}</Error>`;
    if (res.headersSent) {
      res.end();
      return;
    }
    res.writeHead(error.status, {
      ...common,
      'content-type': 'application/xml',
      'content-length': method === 'HEAD' ? 0 : Buffer.byteLength(text),
    });
    res.end(method === 'HEAD' ? undefined : text);
  };
  const sendXml = (status: number, xml: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      ...common,
      ...headers,
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(xml),
    });
    res.end(xml);
  };
  const empty = (status: number, headers: Record<string, string | number> = {}) => {
    res.writeHead(status, { ...common, ...headers, 'content-length': 0 });
    res.end();
  };
  try {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const queryText = queryAt < 0 ? '' : url.slice(queryAt + 1);
    if (queryText.length > MAX_QUERY_CHARS) {
      req.resume();
      throw new S3Error('InvalidURI', `The query string is longer than ${MAX_QUERY_CHARS} characters.`, 400);
    }
    const query = new URLSearchParams(queryText);
    if (!host.validRegion(scope.region)) {
      req.resume();
      throw new S3Error(
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; the region '${scope.region.slice(0, 64)}' is wrong: the local registry serves the regions of the aws, aws-cn and aws-us-gov partitions`,
        400,
      );
    }
    if (host.expired(scope)) {
      req.resume();
      throw new S3Error('ExpiredToken', 'The provided token has expired.', 400);
    }
    const presignedDate = query.get('X-Amz-Date');
    const presignedExpires = query.get('X-Amz-Expires');
    if (req.headers.authorization === undefined && presignedDate !== null && presignedExpires !== null) {
      const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(presignedDate);
      const expires = /^\d{1,6}$/.test(presignedExpires) ? Number(presignedExpires) : Number.NaN;
      if (!match || !(expires <= 604_800)) {
        req.resume();
        throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Date or X-Amz-Expires is malformed', 400);
      }
      const [, year, month, day, hours, minutes, seconds] = match.map(Number) as number[];
      const issued = Date.UTC(year as number, (month as number) - 1, day, hours, minutes, seconds);
      if (host.now() >= issued + expires * 1000) {
        req.resume();
        throw new S3Error('AccessDenied', 'Request has expired', 403);
      }
    }
    let target: Route;
    try {
      target = route(method, path, query, req.headers);
    } catch (error) {
      req.resume();
      throw error;
    }
    const fault = await host.call(`s3:${target.operation}`);
    if (fault === 'throttle') {
      req.resume();
      throw new S3Error('SlowDown', 'Please reduce your request rate.', 503);
    }
    if (fault === 'server') {
      req.resume();
      throw new S3Error('InternalError', 'We encountered an internal error. Please try again.', 500);
    }
    const limit =
      target.operation === 'PutObject'
        ? MAX_PUT_BODY
        : target.operation === 'DeleteObjects'
          ? MAX_DELETE_BODY
          : MAX_SMALL_BODY;
    const body = await readBody(req, limit);
    if (body === undefined) {
      throw target.operation === 'PutObject'
        ? new S3Error(
            'EntityTooLarge',
            `Your proposed upload exceeds the maximum allowed size: the local registry stores objects of at most ${MAX_OBJECT_BYTES} bytes`,
            400,
            { MaxSizeAllowed: String(MAX_OBJECT_BYTES) },
          )
        : new S3Error('MaxMessageLengthExceeded', 'Your request was too big.', 400);
    }
    const storage = host.storage;
    const account = scope.account;
    const bucketName = target.bucket as string;
    const key = target.key as string;
    const time = host.now();
    switch (target.operation) {
      case 'ListBuckets': {
        const prefix = textParameter(query, 'prefix');
        const region = query.get('bucket-region');
        const max = integerParameter(query, 'max-buckets', MAX_LIST_BUCKETS, MAX_LIST_BUCKETS, 1);
        const token = query.get('continuation-token');
        const after = token === null ? undefined : markerOfToken(token);
        const buckets = storage
          .ownedBy(account)
          .filter(
            (bucket) =>
              bucket.name.startsWith(prefix) &&
              (region === null || bucket.region === region) &&
              (after === undefined || compareUtf8(bucket.name, after) > 0),
          );
        const page = buckets.slice(0, max);
        const more = buckets.length > page.length;
        const last = page.at(-1);
        const items = page
          .map(
            (bucket) =>
              `<Bucket>${element('Name', bucket.name)}${element('CreationDate', new Date(bucket.createdAt).toISOString())}${element('BucketRegion', bucket.region)}</Bucket>`,
          )
          .join('');
        sendXml(
          200,
          document(
            'ListAllMyBucketsResult',
            `${owner(account)}<Buckets>${items}</Buckets>${prefix ? element('Prefix', prefix) : ''}${more && last ? element('ContinuationToken', continuationToken(last.name)) : ''}`,
          ),
        );
        return;
      }
      case 'CreateBucket': {
        const constraint = locationConstraint(body);
        const region = constraint ?? 'us-east-1';
        if (constraint === 'us-east-1' || region !== scope.region) {
          throw new S3Error(
            'IllegalLocationConstraintException',
            constraint === 'us-east-1'
              ? 'The us-east-1 location constraint is incompatible for the region specific endpoint this request was sent to.'
              : `The ${constraint ?? 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to (${scope.region}).`,
            400,
          );
        }
        if (storage.createBucket(bucketName, account, region, time)) {
          host.journal('CreateBucket', scope, time, { bucket: bucketName, region });
        }
        empty(200, { location: `/${bucketName}` });
        return;
      }
      case 'HeadBucket': {
        const bucket = storage.owned(bucketName, account);
        empty(200, { 'x-amz-bucket-region': bucket.region, 'x-amz-access-point-alias': 'false' });
        return;
      }
      case 'GetBucketLocation': {
        const bucket = storage.owned(bucketName, account);
        const region = bucket.region === 'us-east-1' ? '' : bucket.region;
        sendXml(200, document('LocationConstraint', escapeXml(region)));
        return;
      }
      case 'DeleteBucket':
        storage.deleteBucket(bucketName, account);
        host.journal('DeleteBucket', scope, time, { bucket: bucketName });
        empty(204);
        return;
      case 'ListObjectsV2':
      case 'ListObjects': {
        const v2 = target.operation === 'ListObjectsV2';
        if (v2 && query.get('list-type') !== '2') {
          throw new S3Error('InvalidArgument', 'Invalid List Type specified in Request', 400, {
            ArgumentName: 'list-type',
          });
        }
        const encoding = query.get('encoding-type');
        if (encoding !== null && encoding !== 'url') {
          throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', 400, {
            ArgumentName: 'encoding-type',
          });
        }
        const prefix = textParameter(query, 'prefix');
        const delimiter = textParameter(query, 'delimiter');
        const maxKeys = integerParameter(query, 'max-keys', MAX_LIST_KEYS, MAX_LIST_KEYS);
        const startAfter = textParameter(query, v2 ? 'start-after' : 'marker');
        const token = v2 ? query.get('continuation-token') : null;
        const marker = token === null ? startAfter : markerOfToken(token);
        const bucket = storage.owned(bucketName, account);
        const listing = listKeys(bucket, prefix, delimiter, marker, maxKeys);
        const encode = encoding === 'url' ? urlEncode : (value: string) => value;
        const withOwner = !v2 || query.get('fetch-owner') === 'true';
        const contents = listing.contents
          .map(
            (object) =>
              `<Contents>${element('Key', encode(object.key))}${element('LastModified', new Date(object.lastModified).toISOString())}${element('ETag', object.etag)}${object.checksum ? `${element('ChecksumAlgorithm', object.checksum.algorithm)}${element('ChecksumType', 'FULL_OBJECT')}` : ''}${element('Size', object.body.length)}${withOwner ? owner(bucket.account) : ''}${element('StorageClass', 'STANDARD')}</Contents>`,
          )
          .join('');
        const prefixes = listing.commonPrefixes
          .map((common) => `<CommonPrefixes>${element('Prefix', encode(common))}</CommonPrefixes>`)
          .join('');
        const head = v2
          ? `${element('Name', bucket.name)}${element('Prefix', encode(prefix))}${startAfter ? element('StartAfter', encode(startAfter)) : ''}${token !== null ? element('ContinuationToken', token) : ''}${listing.truncated && listing.last !== undefined ? element('NextContinuationToken', continuationToken(listing.last)) : ''}${element('KeyCount', listing.contents.length + listing.commonPrefixes.length)}`
          : `${element('Name', bucket.name)}${element('Prefix', encode(prefix))}${element('Marker', encode(startAfter))}${listing.truncated && listing.last !== undefined && delimiter !== '' ? element('NextMarker', encode(listing.last)) : ''}`;
        const tail = `${element('MaxKeys', maxKeys)}${delimiter ? element('Delimiter', encode(delimiter)) : ''}${encoding ? element('EncodingType', encoding) : ''}${element('IsTruncated', listing.truncated)}`;
        sendXml(200, document('ListBucketResult', `${head}${tail}${contents}${prefixes}`));
        return;
      }
      case 'PutObject': {
        storage.owned(bucketName, account);
        const decoded = decodePutBody(req, body);
        const metadata = metadataOf(req);
        const contentType = header(req, 'content-type');
        const stored = storage.putObject(
          bucketName,
          account,
          key,
          {
            body: decoded.body,
            contentType,
            contentEncoding: decoded.contentEncoding,
            metadata,
            checksum: decoded.checksum,
          },
          time,
          { ifNoneMatch: header(req, 'if-none-match'), ifMatch: header(req, 'if-match') },
        );
        host.journal('PutObject', scope, time, {
          bucket: bucketName,
          key,
          body: stored.body.toString('base64'),
          contentType: stored.contentType,
          ...(stored.contentEncoding ? { contentEncoding: stored.contentEncoding } : {}),
          metadata: stored.metadata,
          ...(stored.checksum ? { checksum: stored.checksum } : {}),
        });
        empty(200, {
          etag: stored.etag,
          ...(stored.checksum
            ? {
                [`x-amz-checksum-${stored.checksum.algorithm.toLowerCase()}`]: stored.checksum.value,
                'x-amz-checksum-type': 'FULL_OBJECT',
              }
            : {}),
        });
        return;
      }
      case 'GetObject':
      case 'HeadObject': {
        const bucket = storage.owned(bucketName, account);
        const object = bucket.objects.get(key);
        if (!object) {
          throw noSuchKey(key);
        }
        const ifMatch = header(req, 'if-match');
        if (ifMatch !== undefined && !etagMatches(ifMatch, object.etag)) throw preconditionFailed('If-Match');
        const headers: Record<string, string | number> = {
          etag: object.etag,
          'last-modified': new Date(object.lastModified).toUTCString(),
          'accept-ranges': 'bytes',
          'content-type': object.contentType,
          ...(object.contentEncoding ? { 'content-encoding': object.contentEncoding } : {}),
        };
        for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
        const ifNoneMatch = header(req, 'if-none-match');
        if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, object.etag)) {
          res.writeHead(304, { ...common, etag: object.etag, 'last-modified': headers['last-modified'] as string });
          res.end();
          return;
        }
        const size = object.body.length;
        const range = size === 0 ? undefined : parseRange(header(req, 'range'), size);
        if (range === 'unsatisfiable') {
          throw new S3Error('InvalidRange', 'The requested range is not satisfiable', 416, {
            RangeRequested: String(header(req, 'range')).slice(0, 64),
            ActualObjectSize: String(size),
          });
        }
        if (!range && object.checksum && header(req, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
          headers[`x-amz-checksum-${object.checksum.algorithm.toLowerCase()}`] = object.checksum.value;
          headers['x-amz-checksum-type'] = 'FULL_OBJECT';
        }
        const content = range ? object.body.subarray(range.start, range.end + 1) : object.body;
        res.writeHead(range ? 206 : 200, {
          ...common,
          ...headers,
          'content-length': content.length,
          ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${size}` } : {}),
        });
        res.end(method === 'HEAD' ? undefined : content);
        return;
      }
      case 'DeleteObjects': {
        storage.owned(bucketName, account);
        const md5 = header(req, 'content-md5');
        const checksummed = CHECKSUM_ALGORITHMS.some((algorithm) => header(req, `x-amz-checksum-${algorithm}`));
        if (md5 === undefined && !checksummed) {
          throw new S3Error(
            'InvalidRequest',
            'Missing required header for this request: Content-MD5 or x-amz-checksum-*',
            400,
          );
        }
        const { body: text } = decodePutBody(req, body);
        const request = deleteRequest(text.toString('utf8'));
        const deleted: string[] = [];
        for (const item of request.keys) {
          storage.deleteObject(bucketName, account, item);
          deleted.push(item);
        }
        host.journal('DeleteObjects', scope, time, { bucket: bucketName, keys: deleted });
        const items = request.quiet ? '' : deleted.map((item) => `<Deleted>${element('Key', item)}</Deleted>`).join('');
        sendXml(200, document('DeleteResult', items));
        return;
      }
      case 'DeleteObject':
        storage.deleteObject(bucketName, account, key);
        host.journal('DeleteObject', scope, time, { bucket: bucketName, key });
        empty(204);
        return;
      default:
        throw new S3Error('NotImplemented', `The local registry does not implement ${target.operation}`, 501);
    }
  } catch (error) {
    if (error instanceof S3Error) {
      fail(error);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    console.error(`local registry: S3 internal error: ${error instanceof Error ? error.stack : message}`);
    fail(new S3Error('InternalError', `We encountered an internal error: ${message}`, 500));
  }
}
