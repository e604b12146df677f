import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlobError } from '../model/blob-store.ts';
import { imageStatus } from '../model/image-store.ts';
import { KNOWN_MANIFEST_MEDIA_TYPES, MEDIA_TYPES, OCI_DIGEST } from '../model/manifests.ts';
import { policyAllows } from '../model/resource-policy.ts';
import { ECR_REGIONS, type RepositoryRecord, type StoredImage } from '../model/state.ts';
import { TooManyUploadsError, type UploadSession } from '../model/uploads.ts';
import { type PasswordClaims, verifyPassword } from '../ops/authorization.ts';
import { linkBlob } from '../ops/blob-links.ts';
import type { OpContext } from '../ops/context.ts';
import { mountBlob, pushManifest, recordPull, repositoryForPush } from '../ops/distribution.ts';
import { TAG_GRAMMAR } from '../ops/image-common.ts';
import { imagePullDeleteOperations } from '../ops/image-pull-delete.ts';
import { verifyBearerToken } from '../public/bearer-tokens.ts';
import { PUBLIC_TOKEN_REGION } from '../public/operations.ts';
import { sendBlob } from './blob-response.ts';
import type { DistributionHost, PublicIdentity, V2Target } from './distribution-host.ts';
import { EcrException } from './errors.ts';
import { jsonDepthExceeds } from './http-guards.ts';
import {
  DistributionError,
  declaredLength,
  hasBody,
  readLimited,
  sendDistributionError,
  sendEmpty,
  sendJson,
} from './oci-http.ts';
import { publicLoginRequired, publicTarget } from './public-distribution.ts';
import type { RequestScope } from './sigv4.ts';
import { REPOSITORY_NAME } from './validate.ts';

/**
 * The registry API: OCI Distribution v1.1 under `/v2/` ([OCI-DIST] spec.md), with ECR's semantics, on the state the
 * ECR API serves. A request logs in with the token GetAuthorizationToken issued (`Basic AWS:<password>`); the
 * token's account and region choose the registry, and a caller of another account (a token asked for with
 * `registryIds`) reaches its repositories only as their repository policies allow. Public repositories are served
 * as public.ecr.aws serves them, at `/v2/<registry alias>/<repository name>` (wire/public-distribution.ts): a
 * request without a private login (anonymous, an ECR Public password, a bearer token of `/token/`) whose path
 * starts with a public registry's alias reaches that registry, so a private repository named `<alias>/<x>` stays
 * reachable with a private login. Blob bodies are streamed to disk, never buffered.
 */

/** A manifest's largest size: ECR's `ImageManifest` limit of 4 MiB ([M-ECR]). */
export const MAX_MANIFEST_BYTES = 4_194_304;
/** A blob's largest size: ECR's layer size quota, 52,000 MiB ([UG-QUOTA]). */
export const MAX_BLOB_BYTES = 52_000 * 1024 * 1024;
/** Longest request path: a name (256) and a tag (300) or digest, with room to spare; longer is refused unparsed. */
const MAX_PATH_LENGTH = 2048;
/** ECR's tag length ([M-ECR] `ImageTag`: 1–300); the OCI grammar's 128 is not enforced, as PutImage does not. */
const MAX_TAG_LENGTH = 300;
/** The digest grammar of [OCI-DIST] (any algorithm); the store holds sha256 and sha512 only (`OCI_DIGEST`). */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** An upload id: the UUID `UploadSessions` names an upload by. */
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The deepest JSON nesting a manifest may have (as the ECR API's request bodies). */
const MAX_MANIFEST_DEPTH = 64;

const API_VERSION_HEADER = 'docker-distribution-api-version';

const nameUnknown = (name: string, account: string) =>
  new DistributionError(
    404,
    'NAME_UNKNOWN',
    `The repository with name '${name}' does not exist in the registry with id '${account}'`,
  );
const manifestUnknown = (reference: string, message = `manifest ${reference} is not in the repository`) =>
  new DistributionError(404, 'MANIFEST_UNKNOWN', message, {}, { reference });
const digestInvalid = (message: string) => new DistributionError(400, 'DIGEST_INVALID', message);
const uploadUnknown = (id: string) =>
  new DistributionError(404, 'BLOB_UPLOAD_UNKNOWN', `blob upload ${id.slice(0, 64)} is unknown or has expired`);
const unsupported = (status: number, message: string, headers: Record<string, string> = {}) =>
  new DistributionError(status, 'UNSUPPORTED', message, headers);

// Routes

type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'tags'; name: string }
  | { kind: 'referrers'; name: string; digest: string };

/** The route of a `/v2/...` path. A name may hold slashes, so the route is read from the end of the path. */
function parseRoute(path: string): Route {
  if (path === '/v2' || path === '/v2/') return { kind: 'base' };
  if (path.length > MAX_PATH_LENGTH) {
    throw new DistributionError(400, 'NAME_INVALID', `The request path is longer than ${MAX_PATH_LENGTH} characters`);
  }
  let segments: string[];
  try {
    segments = path.slice('/v2/'.length).split('/').map(decodeURIComponent);
  } catch {
    throw new DistributionError(400, 'NAME_INVALID', 'The request path is not valid percent-encoding');
  }
  const n = segments.length;
  const at = (fromEnd: number) => segments[n - fromEnd];
  const name = (fromEnd: number) => checkName(segments.slice(0, n - fromEnd).join('/'));
  if (n === 1 && at(1) === '_catalog') return { kind: 'catalog' };
  if (n >= 3 && at(2) === 'tags' && at(1) === 'list') return { kind: 'tags', name: name(2) };
  if (n >= 4 && at(3) === 'blobs' && at(2) === 'uploads') {
    const id = at(1) as string;
    return id === '' ? { kind: 'uploads', name: name(3) } : { kind: 'upload', name: name(3), id };
  }
  if (n >= 3 && at(2) === 'blobs' && at(1) === 'uploads') return { kind: 'uploads', name: name(2) };
  if (n >= 3 && at(2) === 'blobs') return { kind: 'blob', name: name(2), digest: at(1) as string };
  if (n >= 3 && at(2) === 'manifests') return { kind: 'manifest', name: name(2), reference: at(1) as string };
  if (n >= 3 && at(2) === 'referrers') return { kind: 'referrers', name: name(2), digest: at(1) as string };
  throw new DistributionError(404, 'NAME_UNKNOWN', `No registry API route at ${path.slice(0, 256)}`);
}

function checkName(name: string): string {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, pattern } = REPOSITORY_NAME;
  if (name.length < min || name.length > max || !pattern?.test(name)) {
    throw new DistributionError(
      400,
      'NAME_INVALID',
      `invalid repository name '${name.slice(0, 256)}': it must match ${REPOSITORY_NAME.patternText} and be ${min} to ${max} characters`,
    );
  }
  return name;
}

/** A digest the store can hold (sha256 or sha512), else DIGEST_INVALID. */
function checkDigest(digest: string): string {
  if (!OCI_DIGEST.test(digest)) {
    throw digestInvalid(
      DIGEST_GRAMMAR.test(digest)
        ? `unsupported digest algorithm in '${digest.slice(0, 200)}': the registry supports sha256 and sha512`
        : `invalid digest '${digest.slice(0, 200)}'`,
    );
  }
  return digest;
}

/** A manifest reference: a digest when it has a colon, else a tag with ECR's grammar. */
function checkReference(reference: string): { digest: string } | { tag: string } {
  if (reference.includes(':')) return { digest: checkDigest(reference) };
  if (reference.length === 0 || reference.length > MAX_TAG_LENGTH || !TAG_GRAMMAR.test(reference)) {
    throw new DistributionError(
      400,
      'TAG_INVALID',
      `invalid tag '${reference.slice(0, MAX_TAG_LENGTH)}': a tag matches ${TAG_GRAMMAR.source} and has 1 to ${MAX_TAG_LENGTH} characters`,
    );
  }
  return { tag: reference };
}

// Authentication

/** What a request's `Authorization` header logs in as. */
type Login =
  | { kind: 'private'; claims: PasswordClaims }
  | { kind: 'public'; identity: PublicIdentity }
  | { kind: 'invalid' };

/** The account and access key of an ECR Public password (`Basic AWS:<password>`), else undefined. */
function publicPassword(credentials: string, now: number): PublicIdentity | undefined {
  if (!credentials.startsWith('AWS:')) return undefined;
  const claims = verifyPassword(credentials.slice('AWS:'.length), now);
  if (claims?.region !== PUBLIC_TOKEN_REGION) return undefined;
  return { account: claims.account, accessKeyId: claims.accessKeyId };
}

/**
 * What a request logs in as. `Basic AWS:<password>`: a private login when the password is a private registry's (its
 * claims choose the account and region), a public one (acting as its account) when it is ECR Public's. No header,
 * or `Basic` with an empty user name (what skopeo sends without credentials, `Og==`): anonymous. `Bearer <token>`:
 * a token of the token endpoint, or an ECR Public authorization token as GetAuthorizationToken returns it (base64
 * of `AWS:<password>`, which public.ecr.aws also takes as a bearer). Anything else is invalid.
 */
function readLogin(header: string | undefined, now: number): Login {
  const anonymous: Login = { kind: 'public', identity: { account: undefined, accessKeyId: '' } };
  if (header === undefined || header.trim() === '') return anonymous;
  const match = /^(Basic|Bearer) +([A-Za-z0-9+/=._-]{1,4096})$/i.exec(header.trim());
  if (!match) return { kind: 'invalid' };
  const value = match[2] as string;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  if ((match[1] as string).toLowerCase() === 'bearer') {
    const bearer = verifyBearerToken(value, now);
    if (bearer) return { kind: 'public', identity: { account: bearer.account, accessKeyId: bearer.accessKeyId } };
    const identity = publicPassword(decoded, now);
    return identity ? { kind: 'public', identity } : { kind: 'invalid' };
  }
  if (decoded.startsWith(':')) return anonymous;
  const identity = publicPassword(decoded, now);
  if (identity) return { kind: 'public', identity };
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(0, colon) !== 'AWS') return { kind: 'invalid' };
  const claims = verifyPassword(decoded.slice(colon + 1), now);
  return claims && ECR_REGIONS.has(claims.region) ? { kind: 'private', claims } : { kind: 'invalid' };
}

// Uploads

/** Uploads receiving a chunk right now: a second chunk at the same time cannot continue at the current offset. */
const appending = new Set<string>();

function uploadHeaders(name: string, session: UploadSession): Record<string, string> {
  const size = session.upload.size;
  return {
    location: `/v2/${name}/blobs/uploads/${session.id}`,
    range: `0-${Math.max(size - 1, 0)}`,
    'docker-upload-uuid': session.id,
  };
}

/**
 * Appends the request body to an upload, streamed. A `Content-Range` must start at the upload's current offset
 * (416 with the current `Range` otherwise, [OCI-DIST] chunked upload). A body that would pass the blob limit, or a
 * failure while receiving it, discards the upload.
 */
async function appendBody(req: IncomingMessage, t: V2Target, name: string, session: UploadSession): Promise<void> {
  const length = declaredLength(req);
  const header = req.headers['content-range'];
  if (header !== undefined) {
    const match = /^(?:bytes )?(\d{1,16})-(\d{1,16})$/.exec(header.trim());
    const start = Number(match?.[1]);
    const end = Number(match?.[2]);
    if (!match || start !== session.upload.size || end < start) {
      throw new DistributionError(
        416,
        'BLOB_UPLOAD_INVALID',
        `The chunk must continue the upload at offset ${session.upload.size}, not at Content-Range '${header.slice(0, 64)}'`,
        uploadHeaders(name, session),
      );
    }
    if (length !== undefined && length !== end - start + 1) {
      throw new DistributionError(
        400,
        'SIZE_INVALID',
        `Content-Range ${start}-${end} does not match Content-Length ${length}`,
      );
    }
  }
  if (length !== undefined && session.upload.size + length > session.upload.maxBytes) {
    await t.registry.uploads.end(session.id, { discard: true });
    throw new DistributionError(
      413,
      'SIZE_INVALID',
      `The blob would be larger than ${session.upload.maxBytes} bytes (ECR's layer size limit)`,
      {},
      { limit: session.upload.maxBytes },
      true,
    );
  }
  if (appending.has(session.id)) {
    throw new DistributionError(
      416,
      'BLOB_UPLOAD_INVALID',
      'Another chunk of this upload is being received',
      uploadHeaders(name, session),
    );
  }
  appending.add(session.id);
  try {
    await session.upload.append(req);
  } catch (error) {
    await t.registry.uploads.end(session.id, { discard: true });
    if (error instanceof BlobError && error.code === 'TOO_LARGE') {
      throw new DistributionError(413, 'SIZE_INVALID', error.message, {}, undefined, true);
    }
    throw error;
  } finally {
    appending.delete(session.id);
  }
}

/** Makes a finished upload a blob of `name` (its digest checked), and answers 201 with the blob's location. */
async function commitUpload(
  res: ServerResponse,
  t: V2Target,
  name: string,
  session: UploadSession,
  digest: string,
): Promise<void> {
  let info: { digest: string; size: number };
  try {
    info = await session.upload.commit(digest, { allowEmpty: true });
  } catch (error) {
    await t.registry.uploads.end(session.id, { discard: true });
    if (error instanceof BlobError) throw digestInvalid(error.message);
    throw error;
  }
  await t.registry.uploads.end(session.id, { discard: false });
  if (!t.find(name)) throw nameUnknown(name, t.account);
  t.link(name, info.digest, info.size);
  sendEmpty(res, 201, { location: `/v2/${name}/blobs/${info.digest}`, 'docker-content-digest': info.digest });
}

function openUpload(t: V2Target, name: string, id: string): UploadSession {
  const session = UPLOAD_ID.test(id) ? t.registry.uploads.get(id, t.uploadOwner(name), t.now()) : undefined;
  if (!session) throw uploadUnknown(id);
  return session;
}

/** `POST /v2/<name>/blobs/uploads/`: a mount, a monolithic upload (`?digest=`), or a new upload session. */
async function startUpload(
  req: IncomingMessage,
  res: ServerResponse,
  t: V2Target,
  name: string,
  query: URLSearchParams,
): Promise<void> {
  const mount = query.get('mount');
  const digest = query.get('digest');
  if (mount !== null) checkDigest(mount);
  if (digest !== null) checkDigest(digest);
  const algorithm = query.get('digest-algorithm');
  if (algorithm !== null && algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw digestInvalid(`unsupported digest algorithm '${algorithm.slice(0, 64)}': use sha256 or sha512`);
  }
  if (!t.forPush(name)) throw nameUnknown(name, t.account);
  const from = query.get('from');
  if (mount !== null && from !== null && from.length <= MAX_PATH_LENGTH && t.mount(name, from, mount)) {
    sendEmpty(res, 201, { location: `/v2/${name}/blobs/${mount}`, 'docker-content-digest': mount });
    return;
  }
  // A mount that cannot be made starts an upload instead ([OCI-DIST]: 202, the client then uploads).
  let session: UploadSession;
  try {
    session = t.registry.uploads.start(t.uploadOwner(name), t.now(), MAX_BLOB_BYTES);
  } catch (error) {
    if (error instanceof TooManyUploadsError) {
      throw new DistributionError(429, 'TOOMANYREQUESTS', error.message, { 'retry-after': '60' });
    }
    throw error;
  }
  if (digest !== null && mount === null) {
    if (hasBody(req)) await appendBody(req, t, name, session);
    await commitUpload(res, t, name, session, digest);
    return;
  }
  sendEmpty(res, 202, uploadHeaders(name, session));
}

async function serveUpload(
  req: IncomingMessage,
  res: ServerResponse,
  t: V2Target,
  route: { name: string; id: string },
  query: URLSearchParams,
): Promise<void> {
  const session = openUpload(t, route.name, route.id);
  switch (req.method) {
    case 'GET':
      sendEmpty(res, 204, uploadHeaders(route.name, session));
      return;
    case 'PATCH':
      await appendBody(req, t, route.name, session);
      sendEmpty(res, 202, uploadHeaders(route.name, session));
      return;
    case 'PUT': {
      const digest = query.get('digest');
      if (digest === null) throw digestInvalid('The closing PUT of an upload needs ?digest=<digest of the whole blob>');
      checkDigest(digest);
      if (hasBody(req)) await appendBody(req, t, route.name, session);
      else if (appending.has(session.id)) {
        throw new DistributionError(
          416,
          'BLOB_UPLOAD_INVALID',
          'A chunk of this upload is still being received: close it once the chunk is in',
          uploadHeaders(route.name, session),
        );
      }
      await commitUpload(res, t, route.name, session, digest);
      return;
    }
    case 'DELETE':
      await t.registry.uploads.end(session.id, { discard: true });
      sendEmpty(res, 204, {});
      return;
    default:
      throw methodNotAllowed(req, 'GET, PATCH, PUT, DELETE');
  }
}

// Blobs

function requireRepository(t: V2Target, name: string): RepositoryRecord {
  const repository = t.find(name);
  if (!repository) throw nameUnknown(name, t.account);
  return repository;
}

async function serveBlob(
  req: IncomingMessage,
  res: ServerResponse,
  t: V2Target,
  route: { name: string; digest: string },
): Promise<void> {
  if (req.method === 'DELETE') {
    // ECR deletes layers itself once no image uses them; it has no blob deletion ([OCI-DIST]: 405 when disabled).
    throw unsupported(405, 'The registry does not delete blobs: delete the images that use them (BatchDeleteImage)', {
      allow: 'GET, HEAD',
    });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(req, 'GET, HEAD');
  const repository = requireRepository(t, route.name);
  const digest = checkDigest(route.digest);
  // A layer the repository lists without content (a fixture's placeholder) cannot be downloaded.
  if (!repository.layers.has(digest) || !(await sendBlob(req, res, t.registry.blobs, digest))) {
    throw new DistributionError(404, 'BLOB_UNKNOWN', `blob ${digest} is not in the repository`, {}, { digest });
  }
}

// Manifests

function findImage(repository: RepositoryRecord, reference: { digest: string } | { tag: string }) {
  return 'digest' in reference ? repository.images.get(reference.digest) : repository.images.byTagName(reference.tag);
}

/**
 * Whether an `Accept` header admits `mediaType`. No header admits anything; a type with `q=0` is refused. ECR's
 * conversion of Docker v2 manifests to schema 1 for old clients is not emulated (as in BatchGetImage): a manifest
 * of a type the client does not accept is not found.
 */
function accepts(header: string | undefined, mediaType: string): boolean {
  if (header === undefined || header.trim() === '') return true;
  for (const part of header.split(',')) {
    const [type = '', ...parameters] = part.split(';').map((piece) => piece.trim().toLowerCase());
    if (parameters.some((parameter) => /^q=0(?:\.0{0,3})?$/.test(parameter))) continue;
    if (type === '*/*' || type === 'application/*' || type === mediaType) return true;
  }
  return false;
}

async function getManifest(
  req: IncomingMessage,
  res: ServerResponse,
  t: V2Target,
  route: { name: string; reference: string },
): Promise<void> {
  const reference = checkReference(route.reference);
  const repository = requireRepository(t, route.name);
  const image = findImage(repository, reference);
  if (!image) throw manifestUnknown(route.reference);
  const status = imageStatus(image, t.now());
  if (status !== 'ACTIVE') {
    throw manifestUnknown(
      route.reference,
      `manifest ${image.digest} is ${status.toLowerCase()}: restore it to pull it`,
    );
  }
  if (!accepts(req.headers.accept, image.manifestMediaType)) {
    throw manifestUnknown(
      route.reference,
      `manifest ${image.digest} is ${image.manifestMediaType}, which the request's Accept header does not accept`,
    );
  }
  const body = Buffer.from(image.manifest, 'utf8');
  res.writeHead(200, {
    'content-type': image.manifestMediaType,
    'content-length': body.length,
    'docker-content-digest': image.digest,
    etag: `"${image.digest}"`,
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // A GET pulls the image (BatchGetImage's rule for `lastRecordedPullTime`); a HEAD only checks it exists.
  t.pulled(route.name, image);
  res.end(body);
}

/** The media type a push names: its `Content-Type` without parameters, when it can type the manifest. */
function pushedMediaType(req: IncomingMessage, document: Record<string, unknown>): string | undefined {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (contentType === '') return undefined;
  // A manifest typed by its own `mediaType` ignores a generic Content-Type; a manifest type must agree with it.
  if (typeof document.mediaType === 'string' && !KNOWN_MANIFEST_MEDIA_TYPES.has(contentType)) return undefined;
  return contentType;
}

/** Maps PutImage's exceptions (from `storeImage`) to the registry API's errors. */
function pushError(error: EcrException, reference: string): DistributionError {
  switch (error.type) {
    case 'LayersNotFoundException':
    case 'ReferencedImagesNotFoundException':
      return new DistributionError(400, 'MANIFEST_BLOB_UNKNOWN', error.message);
    case 'ImageDigestDoesNotMatchException':
      return digestInvalid(error.message);
    case 'ImageTagAlreadyExistsException':
      return new DistributionError(400, 'TAG_INVALID', error.message, {}, { tag: reference });
    case 'InvalidParameterException':
    case 'UnsupportedImageTypeException':
      return new DistributionError(400, 'MANIFEST_INVALID', error.message);
    case 'RepositoryNotFoundException':
      return new DistributionError(404, 'NAME_UNKNOWN', error.message);
    default:
      return new DistributionError(403, 'DENIED', error.message, {}, { ecrError: error.type });
  }
}

async function putManifest(
  req: IncomingMessage,
  res: ServerResponse,
  t: V2Target,
  route: { name: string; reference: string },
): Promise<void> {
  const reference = checkReference(route.reference);
  const body = await readLimited(req, MAX_MANIFEST_BYTES, 'manifest');
  if (!t.forPush(route.name)) throw nameUnknown(route.name, t.account);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new DistributionError(400, 'MANIFEST_INVALID', 'The manifest is not UTF-8 text');
  }
  let document: Record<string, unknown> = {};
  try {
    if (jsonDepthExceeds(text, MAX_MANIFEST_DEPTH)) throw new Error('too deep');
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) document = parsed as Record<string, unknown>;
  } catch {
    throw new DistributionError(400, 'MANIFEST_INVALID', 'The manifest is not a JSON document');
  }
  let pushed: { image: StoredImage };
  try {
    pushed = t.push(route.name, {
      manifest: text,
      mediaType: pushedMediaType(req, document),
      ...('tag' in reference ? { tag: reference.tag } : { digest: reference.digest }),
    });
  } catch (error) {
    if (error instanceof EcrException) throw pushError(error, route.reference);
    throw error;
  }
  const { image } = pushed;
  sendEmpty(res, 201, {
    location: `/v2/${route.name}/manifests/${image.digest}`,
    'docker-content-digest': image.digest,
    ...(image.subjectDigest === undefined ? {} : { 'oci-subject': image.subjectDigest }),
  });
}

/**
 * `DELETE /v2/<name>/manifests/<digest>`: ECR's support for the registry API's delete is not documented by AWS
 * (third-party reports of 2020–2022 saw 404; AWS's containers roadmap marks "support delete image registry API"
 * (aws/containers-roadmap#1229) shipped). The registry deletes by digest exactly as BatchDeleteImage by digest
 * does (the image and its tags, the DELETE event; an image an index still lists is refused), and answers a delete
 * by tag 405 UNSUPPORTED, as the spec allows when tag deletion is disabled: untag with BatchDeleteImage. A registry
 * that does not delete over `/v2/` (a public one) answers 405 UNSUPPORTED to both.
 */
async function deleteManifest(
  _req: IncomingMessage,
  res: ServerResponse,
  t: V2Target,
  route: { name: string; reference: string },
): Promise<void> {
  const reference = checkReference(route.reference);
  const repository = requireRepository(t, route.name);
  if (!t.deleteImage) {
    throw unsupported(405, 'A public repository deletes no manifest over the registry API: use BatchDeleteImage', {
      allow: 'GET, HEAD, PUT',
    });
  }
  if ('tag' in reference) {
    throw unsupported(405, 'The registry deletes manifests by digest only; untag an image with BatchDeleteImage', {
      allow: 'GET, HEAD, PUT',
    });
  }
  if (!repository.images.get(reference.digest)) throw manifestUnknown(route.reference);
  await t.deleteImage(route.name, reference.digest);
  sendEmpty(res, 202, {});
}

/** Deletes a private repository's image by digest as BatchDeleteImage does (journalled as that operation). */
async function deletePrivateImage(ctx: OpContext, name: string, digest: string): Promise<void> {
  const input = { repositoryName: name, imageIds: [{ imageDigest: digest }] };
  const output = (await imagePullDeleteOperations.BatchDeleteImage?.(input, ctx)) as {
    failures: { failureCode: string; failureReason: string }[];
  };
  const [failure] = output.failures;
  if (failure) {
    throw new DistributionError(
      failure.failureCode === 'ImageNotFound' ? 404 : 409,
      failure.failureCode === 'ImageNotFound' ? 'MANIFEST_UNKNOWN' : 'DENIED',
      failure.failureReason,
      {},
      { failureCode: failure.failureCode },
    );
  }
  ctx.journal('BatchDeleteImage', input);
}

async function serveManifest(
  req: IncomingMessage,
  res: ServerResponse,
  t: V2Target,
  route: { name: string; reference: string },
): Promise<void> {
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return getManifest(req, res, t, route);
    case 'PUT':
      return putManifest(req, res, t, route);
    case 'DELETE':
      return deleteManifest(req, res, t, route);
    default:
      throw methodNotAllowed(req, 'GET, HEAD, PUT, DELETE');
  }
}

// Content discovery

/** `GET /v2/<name>/tags/list?n=&last=`: the tags of the repository's pullable images, ASCII order, paged. */
function listTags(res: ServerResponse, t: V2Target, name: string, query: URLSearchParams): void {
  const repository = requireRepository(t, name);
  const nText = query.get('n');
  if (nText !== null && !/^\d{1,9}$/.test(nText)) {
    throw new DistributionError(400, 'UNSUPPORTED', `n must be a non-negative integer, not '${nText.slice(0, 32)}'`);
  }
  const last = query.get('last');
  // Only the tags after `last` are sorted, so that each page of a long listing costs less than the one before.
  const tags: string[] = [];
  for (const image of repository.images.values()) {
    if (imageStatus(image, t.now()) !== 'ACTIVE') continue;
    for (const tag of image.tags) if (last === null || tag > last) tags.push(tag);
  }
  tags.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const limit = nText === null ? tags.length : Number(nText);
  const page = tags.slice(0, limit);
  const more = nText !== null && limit > 0 && limit < tags.length;
  const next = `/v2/${name}/tags/list?n=${limit}&last=${encodeURIComponent(page.at(-1) ?? '')}`;
  sendJson(res, 200, { name, tags: page }, more ? { link: `<${next}>; rel="next"` } : {});
}

/**
 * `GET /v2/<name>/referrers/<digest>`: an image index of the pullable manifests whose `subject` is the digest,
 * each described with its `artifactType` (else its config's media type, as ECR's `artifactMediaType`) and
 * annotations; empty when there are none. `?artifactType=` filters.
 */
function listReferrers(
  res: ServerResponse,
  t: V2Target,
  route: { name: string; digest: string },
  query: URLSearchParams,
) {
  const digest = checkDigest(route.digest);
  const repository = requireRepository(t, route.name);
  const artifactType = query.get('artifactType');
  const manifests: Record<string, unknown>[] = [];
  // The images ListImageReferrers lists by default (active ones, in push order), whole: an index needs no pages.
  const referrers = [...repository.images.referrersOf(digest)]
    .map((referrer) => repository.images.get(referrer))
    .filter((image): image is StoredImage => image !== undefined && imageStatus(image, t.now()) === 'ACTIVE')
    .sort((a, b) => a.seq - b.seq);
  for (const image of referrers) {
    if (artifactType !== null && image.artifactMediaType !== artifactType) continue;
    manifests.push({
      mediaType: image.manifestMediaType,
      digest: image.digest,
      size: image.manifestSize,
      ...(image.artifactMediaType === undefined ? {} : { artifactType: image.artifactMediaType }),
      ...(image.annotations === undefined ? {} : { annotations: image.annotations }),
    });
  }
  const body = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests };
  const text = JSON.stringify(body);
  res.writeHead(200, {
    'content-type': MEDIA_TYPES.ociIndex,
    'content-length': Buffer.byteLength(text),
    ...(artifactType === null ? {} : { 'oci-filters-applied': 'artifactType' }),
  });
  res.end(text);
}

// Dispatch

function methodNotAllowed(req: IncomingMessage, allow: string): DistributionError {
  return unsupported(405, `${String(req.method).slice(0, 16)} is not allowed here`, { allow });
}

// Cross-account access

/**
 * The ECR action a request needs on its repository (what `docker pull` and `docker push` need in IAM): pulls need
 * BatchGetImage (manifests, referrers), GetDownloadUrlForLayer (blobs) or ListImages (tags); pushes the layer
 * upload actions and PutImage; a delete BatchDeleteImage.
 */
function actionFor(route: Route, method: string | undefined): string {
  switch (route.kind) {
    case 'blob':
      return method === 'HEAD' ? 'ecr:BatchCheckLayerAvailability' : 'ecr:GetDownloadUrlForLayer';
    case 'uploads':
      return 'ecr:InitiateLayerUpload';
    case 'upload':
      return method === 'PUT' ? 'ecr:CompleteLayerUpload' : 'ecr:UploadLayerPart';
    case 'manifest':
      return method === 'PUT' ? 'ecr:PutImage' : method === 'DELETE' ? 'ecr:BatchDeleteImage' : 'ecr:BatchGetImage';
    case 'tags':
      return 'ecr:ListImages';
    default:
      return 'ecr:BatchGetImage';
  }
}

/**
 * Whether the caller of `claims` may perform `action` on repository `name` of the registry its token names: always
 * in its own account; in another account only when the repository exists and its repository policy allows the
 * caller's account the action, as ECR's cross-account access (the ECR API's `stateFor` applies the same rule).
 */
function mayAccess(ctx: OpContext, claims: PasswordClaims, name: string, action: string): boolean {
  if (claims.callerAccount === claims.account) return true;
  return policyAllows(ctx.state.repositories.get(name)?.policyText, claims.callerAccount, action);
}

const accessDenied = (ctx: OpContext, claims: PasswordClaims, name: string, action: string) =>
  new DistributionError(
    403,
    'DENIED',
    `User: arn:aws:iam::${claims.callerAccount}:user/${claims.accessKeyId.slice(0, 128)} is not authorized to perform: ${action} on resource: arn:aws:ecr:${ctx.region}:${ctx.account}:repository/${name} because no resource-based policy allows the ${action} action`,
  );

async function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  t: V2Target,
  route: Route,
  query: URLSearchParams,
): Promise<void> {
  const readOnly = (allow = 'GET') => {
    if (req.method !== 'GET' && (req.method !== 'HEAD' || !allow.includes('HEAD'))) throw methodNotAllowed(req, allow);
  };
  switch (route.kind) {
    case 'base':
      readOnly('GET, HEAD');
      sendJson(res, 200, {});
      return;
    case 'catalog':
      // ECR lists repositories with DescribeRepositories only; the catalog is not part of OCI Distribution v1.1.
      throw unsupported(404, 'The registry does not list repositories: use DescribeRepositories');
    case 'blob':
      return serveBlob(req, res, t, route);
    case 'uploads':
      if (req.method !== 'POST') throw methodNotAllowed(req, 'POST');
      return startUpload(req, res, t, route.name, query);
    case 'upload':
      return serveUpload(req, res, t, route, query);
    case 'manifest':
      return serveManifest(req, res, t, route);
    case 'tags':
      readOnly();
      return listTags(res, t, route.name, query);
    case 'referrers':
      readOnly();
      return listReferrers(res, t, route, query);
  }
}

/** A private registry's `/v2/` target: the account and region a private token names. */
function privateTarget(ctx: OpContext, claims: PasswordClaims): V2Target {
  const find = (name: string) => ctx.state.repositories.get(name);
  const found = (name: string) => {
    const repository = find(name);
    if (!repository) throw nameUnknown(name, ctx.account);
    return repository;
  };
  return {
    account: ctx.account,
    registry: ctx.registry,
    now: ctx.now,
    find,
    forPush: (name) => repositoryForPush(ctx, name),
    push: (name, request) => pushManifest(ctx, found(name), request),
    pulled: (name, image) => recordPull(ctx, found(name), image),
    link: (name, digest, size) => linkBlob(ctx, found(name), digest, size),
    mount: (name, from, digest) =>
      REPOSITORY_NAME.pattern?.test(from) === true &&
      mayAccess(ctx, claims, from, 'ecr:GetDownloadUrlForLayer') &&
      mountBlob(ctx, found(name), from, digest) !== undefined,
    deleteImage: (name, digest) => deletePrivateImage(ctx, name, digest),
    uploadOwner: (name) => ({ account: ctx.account, region: ctx.region, repositoryName: name }),
  };
}

/** The 401 of a request without a valid private login (the private registry's challenge, Basic). */
const loginRequired = (host: DistributionHost) =>
  new DistributionError(401, 'UNAUTHORIZED', 'authentication required: log in with an ECR authorization token', {
    'www-authenticate': `Basic realm="${host.endpoint()}/",service="ecr.amazonaws.com"`,
  });

/** Counts a request as `name` and applies its injected fault. */
async function countCall(host: DistributionHost, name: string): Promise<void> {
  const fault = await host.call(name);
  if (fault === 'throttle') {
    throw new DistributionError(429, 'TOOMANYREQUESTS', 'Rate exceeded (an injected fault)', { 'retry-after': '1' });
  }
  if (fault === 'server') throw new DistributionError(500, 'UNKNOWN', 'Injected server error');
}

/** A request with a private login: the account and region its token names, as ECR's registry API. */
async function servePrivate(
  req: IncomingMessage,
  res: ServerResponse,
  host: DistributionHost,
  claims: PasswordClaims,
  route: Route,
  query: URLSearchParams,
): Promise<void> {
  await countCall(host, `v2:${req.method ?? 'GET'}:${route.kind}`);
  const scope: RequestScope = { account: claims.account, region: claims.region, accessKeyId: claims.accessKeyId };
  // Reads of an account and region without state see an empty registry; nothing here creates a state (a push
  // needs a repository, or a creation template, which live in one).
  const state =
    host.registry.existing(claims.account, claims.region) ?? host.registry.peek(claims.account, claims.region);
  // A manifest push or delete runs as the ECR operation it is journalled as (its scan on push is that operation's
  // task, on replay too); other requests are named after their route.
  const operation =
    route.kind === 'manifest' && req.method === 'PUT'
      ? 'PutImage'
      : route.kind === 'manifest' && req.method === 'DELETE'
        ? 'BatchDeleteImage'
        : `v2:${route.kind}`;
  const ctx = host.context(operation, scope, state);
  if ('name' in route) {
    const action = actionFor(route, req.method);
    if (!mayAccess(ctx, claims, route.name, action)) throw accessDenied(ctx, claims, route.name, action);
  }
  await dispatch(req, res, privateTarget(ctx, claims), route, query);
}

/**
 * A request without a private login: anonymous, or with an ECR Public login (a public password, or a bearer token of
 * the token endpoint). A path under a public registry's alias (`/v2/<alias>/<name>/...`) reaches that public
 * repository: anyone pulls, only the alias's own account pushes. Any other path is the private registry's, which
 * answers as it does without a login.
 */
async function servePublicPath(
  req: IncomingMessage,
  res: ServerResponse,
  host: DistributionHost,
  identity: PublicIdentity | undefined,
  route: Route,
  query: URLSearchParams,
): Promise<void> {
  const alias = 'name' in route ? route.name.slice(0, Math.max(0, route.name.indexOf('/'))) : '';
  const state = alias === '' ? undefined : host.publicRegistry(alias);
  if (!state) {
    if (identity?.account === undefined) throw loginRequired(host);
    await countCall(host, `v2public:${req.method ?? 'GET'}:${route.kind}`);
    if (route.kind === 'base') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(req, 'GET, HEAD');
      sendJson(res, 200, {});
      return;
    }
    if (route.kind === 'catalog') throw unsupported(404, 'The registry does not list repositories');
    throw new DistributionError(
      404,
      'NAME_UNKNOWN',
      `No public registry has the alias '${alias.slice(0, 64)}': a public repository is /v2/<registry alias>/<repository name>`,
    );
  }
  if (identity === undefined)
    throw publicLoginRequired(host, 'authentication required: the token is invalid or has expired');
  await countCall(host, `v2public:${req.method ?? 'GET'}:${route.kind}`);
  const pull =
    (req.method === 'GET' || req.method === 'HEAD') &&
    (route.kind === 'blob' || route.kind === 'manifest' || route.kind === 'tags' || route.kind === 'referrers');
  if (!pull && identity.account !== state.account) {
    if (identity.account === undefined) {
      throw publicLoginRequired(host, 'authentication required: log in with an ECR Public authorization token to push');
    }
    throw new DistributionError(
      403,
      'DENIED',
      `User of account ${identity.account} is not authorized to push to public registry ${state.alias} of another account`,
    );
  }
  await dispatch(req, res, publicTarget(host.publicContext(state, identity)), route, query);
}

/** Serves one `/v2/` request. */
export async function serveDistribution(req: IncomingMessage, res: ServerResponse, host: DistributionHost) {
  res.setHeader(API_VERSION_HEADER, 'registry/2.0');
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const path = mark < 0 ? url : url.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1, mark + 1 + MAX_PATH_LENGTH));
  try {
    const login = readLogin(req.headers.authorization, host.now());
    if (login.kind === 'invalid' && (path === '/v2' || path === '/v2/')) throw loginRequired(host);
    let route: Route;
    try {
      route = parseRoute(path);
    } catch (error) {
      // Without a login, a path that is no route is refused as any other request: log in first.
      if (login.kind === 'private' || (login.kind === 'public' && login.identity.account !== undefined)) throw error;
      throw loginRequired(host);
    }
    if (login.kind === 'private') await servePrivate(req, res, host, login.claims, route, query);
    else await servePublicPath(req, res, host, login.kind === 'invalid' ? undefined : login.identity, route, query);
  } catch (error) {
    if (error instanceof DistributionError) {
      sendDistributionError(req, res, error);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      if (req.destroyed || res.destroyed) return;
      console.error(`local registry: /v2/ internal error: ${error instanceof Error ? error.stack : message}`);
      sendDistributionError(req, res, new DistributionError(500, 'UNKNOWN', `Internal error: ${message}`));
    }
  } finally {
    // A body nobody read (an answer before the upload, an error) is drained so that the connection can be reused.
    if (!req.complete && !req.destroyed) req.resume();
  }
}
