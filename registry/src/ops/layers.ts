import type { Registry, RepositoryRecord } from '../model/state.ts';
import { TooManyUploadsError, type UploadOwner, type UploadSession } from '../model/uploads.ts';
import { constraintMessage, EcrException, invalidParameter, serializationError } from '../wire/errors.ts';
import { layerDownloadUrl } from '../wire/layer-download.ts';
import { Input, type StringRule } from '../wire/validate.ts';
import { linkBlob } from './blob-links.ts';
import { repositoryName, repositoryRef, requireRepository, stateFor } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';

/**
 * ECR's layer API ([M-ECR]): InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, BatchCheckLayerAvailability
 * and GetDownloadUrlForLayer. An upload is a session of `ctx.registry.uploads` (shared with `/v2/`), owned by one
 * repository; parts are appended in order to a file of the blob store, hashed as they arrive, and a completed upload
 * becomes a blob the repository may use (`linkBlob`), which PutImage then accepts in a manifest. Every operation
 * checks its whole input before it changes anything.
 */

/** What InitiateLayerUpload answers as `partSize`: 10 MiB, as ECR answers (the AWS CLI's example output). */
export const LAYER_PART_SIZE = 10 * 1024 * 1024;
/** Smallest part other than the last ([M-ECR] LayerPartTooSmallException: "at least 5 MiB"). */
export const MIN_LAYER_PART_BYTES = 5 * 1024 * 1024;
/** Largest part ([M-ECR] LayerPartBlob: 0 to 20,971,520 bytes). */
export const MAX_LAYER_PART_BYTES = 20_971_520;
/** Largest layer ([UG-QUOTA] "Layer size": 52,000 MiB, not adjustable). */
export const MAX_LAYER_BYTES = 52_000 * 1024 * 1024;
/** Parts per layer ([UG-QUOTA] "Layer parts": 4,200, not adjustable). */
export const MAX_LAYER_PARTS = 4_200;
/**
 * Request body allowed for UploadLayerPart alone (every other operation keeps `MAX_BODY_BYTES`): a 20 MiB part is
 * 27,962,028 characters of base64 in the JSON, plus the other members and any escaping of `/` as `\/`.
 */
export const UPLOAD_LAYER_PART_BODY_BYTES = 32 * 1024 * 1024;
/** Base64 characters of the largest part. */
const MAX_PART_BASE64_CHARS = Math.ceil(MAX_LAYER_PART_BYTES / 3) * 4;
/** The largest `PartSize` (a long); a number beyond it cannot be read as one. */
const MAX_LONG = 2 ** 63 - 1;

/** [M-ECR] UploadId: a UUID. */
const UPLOAD_ID: StringRule = {
  pattern: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  patternText: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
};
/** [M-ECR] LayerDigest (no length limit in the model; the body cap bounds it). */
export const LAYER_DIGEST_PATTERN = /^[a-zA-Z0-9_+.-]+:[a-fA-F0-9]+$/;
const LAYER_DIGEST_TEXT = '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+';
const LAYER_DIGEST: StringRule = { pattern: LAYER_DIGEST_PATTERN, patternText: LAYER_DIGEST_TEXT };
/** [M-ECR] LayerDigestList and BatchedOperationLayerDigestList: 1 to 100 digests. */
export const LAYER_DIGESTS = { min: 1, max: 100 };
/** [M-ECR] BatchedOperationLayerDigest: 0 to 1,000 characters, no pattern (a bad one is a per-layer failure). */
export const BATCHED_LAYER_DIGEST: StringRule = { min: 0, max: 1_000 };
/** Canonical base64 (what the SDKs and the CLI send for a blob member). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A digest from the request as a message shows it (LayerDigest has no length limit). */
const shown = (digest: string) => (digest.length > 256 ? `${digest.slice(0, 256)}...` : digest);

// Errors with ECR's messages (UNCONFIRMED wording where ECR's own is not documented; the names are the model's)

const uploadNotFound = (uploadId: string, repository: RepositoryRecord) =>
  new EcrException(
    'UploadNotFoundException',
    `Upload with id '${uploadId}' could not be found for the repository with name '${repository.name}' in the registry with id '${repository.registryId}'`,
  );

/** Carries the model's extra members, so that a client can resume after `lastValidByteReceived`. */
const invalidLayerPart = (session: UploadSession, repository: RepositoryRecord, reason: string) =>
  new EcrException('InvalidLayerPartException', reason, 400, {
    registryId: repository.registryId,
    repositoryName: repository.name,
    uploadId: session.id,
    // -1 while nothing was received (UNCONFIRMED: ECR's value then), so that the next part starts at this plus one.
    lastValidByteReceived: session.upload.size - 1,
  });

const limitExceeded = (message: string) => new EcrException('LimitExceededException', message);

const emptyUpload = (uploadId: string) =>
  new EcrException('EmptyUploadException', `The layer upload with id '${uploadId}' does not contain any layer parts`);

const partTooSmall = () =>
  new EcrException('LayerPartTooSmallException', 'Layer parts other than the last must be at least 5 MiB in size');

/** The message ECR's registry front gives when no digest matches (seen in client logs; UNCONFIRMED for the API). */
const invalidLayer = (computed: string) =>
  new EcrException(
    'InvalidLayerException',
    `None of the provided layer digests match the calculated layer digest: ${computed}`,
  );

const layerAlreadyExists = (digest: string, repository: RepositoryRecord) =>
  new EcrException(
    'LayerAlreadyExistsException',
    `Layer with digest '${digest}' already exists in the repository with name '${repository.name}' in registry with id '${repository.registryId}'`,
  );

const layersNotFound = (digest: string, repository: RepositoryRecord) =>
  new EcrException(
    'LayersNotFoundException',
    `Layer with digest '${shown(digest)}' does not exist in the repository with name '${repository.name}' in registry with id '${repository.registryId}'`,
  );

const layerInaccessible = (digest: string, repository: RepositoryRecord) =>
  new EcrException(
    'LayerInaccessibleException',
    `Layer with digest '${digest}' in the repository with name '${repository.name}' in registry with id '${repository.registryId}' is not accessible: the registry holds no content for it`,
  );

// Uploads

/** What the layer API keeps about an upload beyond its bytes. */
interface PartRecord {
  parts: number;
  /** Size of the last part received. */
  lastPartBytes: number;
  /** A part other than the last was below `MIN_LAYER_PART_BYTES`. */
  smallPart: boolean;
}

const partRecords = new WeakMap<UploadSession, PartRecord>();
/** The end of the last operation queued on an upload: parts and completion of one upload run one at a time. */
const queues = new WeakMap<UploadSession, Promise<unknown>>();

/**
 * What the layer API works on, whichever API serves it (ECR's here, ECR Public's in public/image-operations.ts): the
 * registry's uploads and blobs, its clock, the repository and who owns its uploads, and how a completed upload becomes
 * one of the repository's blobs (`linkBlob`, `linkPublicBlob`).
 */
export interface LayerUploadScope {
  registry: Pick<Registry, 'uploads' | 'blobs'>;
  now: () => number;
  repository: RepositoryRecord;
  /** The uploads' owner: account, region (ECR Public's are apart from every private region) and repository name. */
  owner: UploadOwner;
  link(digest: string, size: number): void;
}

const privateScope = (ctx: OpContext, repository: RepositoryRecord): LayerUploadScope => ({
  registry: ctx.registry,
  now: () => ctx.now(),
  repository,
  owner: { account: repository.registryId, region: ctx.region, repositoryName: repository.name },
  link: (digest, size) => linkBlob(ctx, repository, digest, size),
});

/**
 * Runs `task` on upload `uploadId` of the scope's repository once the operations queued before it on that upload have
 * ended (so that two parts sent at once are checked in turn against the bytes received). `UploadNotFoundException`
 * when the upload is unknown, expired, another repository's, or ended while the task waited.
 */
async function withUpload<T>(
  scope: LayerUploadScope,
  uploadId: string,
  task: (session: UploadSession) => Promise<T>,
): Promise<T> {
  const { owner, repository, registry } = scope;
  const session = registry.uploads.get(uploadId, owner, scope.now());
  if (!session) throw uploadNotFound(uploadId, repository);
  const before = queues.get(session) ?? Promise.resolve();
  const run = before.then(async () => {
    if (registry.uploads.get(uploadId, owner, scope.now()) !== session) throw uploadNotFound(uploadId, repository);
    return task(session);
  });
  queues.set(
    session,
    run.catch(() => undefined),
  );
  return run;
}

/** A part position (`PartSize`, a long ≥ 0). */
function readPosition(input: Input, name: string): number {
  const value = input.num(name, { required: true, min: 0 });
  if (value > MAX_LONG) throw serializationError(`Cannot deserialize '${name}': ${value} is not a long`);
  return value;
}

/** `layerPartBlob`: base64 of at most `MAX_LAYER_PART_BYTES` (its length is bounded before it is decoded). */
function readPartBlob(input: Input): Buffer {
  const text = input.str('layerPartBlob', { required: true });
  const tooLong = () =>
    invalidParameter(
      constraintMessage('layerPartBlob', `Member must have length less than or equal to ${MAX_LAYER_PART_BYTES}`),
    );
  if (text.length > MAX_PART_BASE64_CHARS) throw tooLong();
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw serializationError("Cannot deserialize 'layerPartBlob': expected base64-encoded binary data");
  }
  const part = Buffer.from(text, 'base64');
  if (part.length > MAX_LAYER_PART_BYTES) throw tooLong();
  return part;
}

/** The members of an UploadLayerPart request after the repository's (the same in both APIs). */
export interface LayerPartRequest {
  uploadId: string;
  first: number;
  last: number;
  part: Buffer;
}

export function readLayerPartRequest(input: Input): LayerPartRequest {
  const uploadId = input.str('uploadId', { ...UPLOAD_ID, required: true });
  const first = readPosition(input, 'partFirstByte');
  const last = readPosition(input, 'partLastByte');
  const part = readPartBlob(input);
  return { uploadId, first, last, part };
}

/** CompleteLayerUpload's members after the repository's: the upload and the digests the layer may have. */
export function readCompleteLayerRequest(input: Input): { uploadId: string; digests: string[] } {
  const uploadId = input.str('uploadId', { ...UPLOAD_ID, required: true });
  const digests = input.strList('layerDigests', { ...LAYER_DIGESTS, required: true }, LAYER_DIGEST);
  return { uploadId, digests };
}

/** InitiateLayerUpload: opens an upload owned by the scope's repository. */
export function startLayerUpload(scope: LayerUploadScope): { uploadId: string; partSize: number } {
  try {
    const session = scope.registry.uploads.start(scope.owner, scope.now(), MAX_LAYER_BYTES);
    partRecords.set(session, { parts: 0, lastPartBytes: 0, smallPart: false });
    return { uploadId: session.id, partSize: LAYER_PART_SIZE };
  } catch (error) {
    // The model names no limit for InitiateLayerUpload; LimitExceededException is ECR's exception for a quota.
    if (error instanceof TooManyUploadsError) throw limitExceeded(error.message);
    throw error;
  }
}

/** UploadLayerPart: appends a part in order; answers the last byte received. */
export async function receiveLayerPart(scope: LayerUploadScope, request: LayerPartRequest): Promise<number> {
  const { repository } = scope;
  const { first, last, part } = request;
  return withUpload(scope, request.uploadId, async (session) => {
    const received = session.upload.size;
    if (first !== received) {
      throw invalidLayerPart(
        session,
        repository,
        `The part's first byte ${first} is not consecutive to the last byte received ${received - 1}`,
      );
    }
    if (part.length === 0 || last - first + 1 !== part.length) {
      throw invalidLayerPart(
        session,
        repository,
        `The part's byte range ${first}-${last} does not match the ${part.length} bytes of the layer part blob`,
      );
    }
    const record = partRecords.get(session) ?? { parts: 0, lastPartBytes: 0, smallPart: false };
    if (record.parts >= MAX_LAYER_PARTS) {
      throw limitExceeded(`A layer upload may have at most ${MAX_LAYER_PARTS} parts`);
    }
    if (received + part.length > MAX_LAYER_BYTES) {
      throw limitExceeded(`A layer may have at most ${MAX_LAYER_BYTES} bytes`);
    }
    try {
      await session.upload.append(part);
    } catch (error) {
      // Some bytes of the part may be written: the upload can no longer be trusted.
      await scope.registry.uploads.end(session.id, { discard: true });
      throw error;
    }
    // LayerPartTooSmallException is raised by CompleteLayerUpload, as the model lists it there and not under
    // UploadLayerPart: a part cannot be known to be small until another follows it (the last part may be small), as
    // S3 refuses small parts only when a multipart upload is completed. It is remembered here, when the next part
    // arrives.
    if (record.parts > 0 && record.lastPartBytes < MIN_LAYER_PART_BYTES) record.smallPart = true;
    record.parts += 1;
    record.lastPartBytes = part.length;
    partRecords.set(session, record);
    return last;
  });
}

/** CompleteLayerUpload: the upload becomes a blob of the repository (`scope.link`); answers its digest. */
export async function finishLayerUpload(scope: LayerUploadScope, uploadId: string, digests: string[]): Promise<string> {
  const { repository } = scope;
  const uploads = scope.registry.uploads;
  return withUpload(scope, uploadId, async (session) => {
    // Left open: parts may still be sent to it.
    if (session.upload.size === 0) throw emptyUpload(session.id);
    // The upload cannot become valid after these (its parts cannot be sent again): it is discarded.
    if (partRecords.get(session)?.smallPart) {
      await uploads.end(session.id, { discard: true });
      throw partTooSmall();
    }
    const digest = session.upload.sha256Digest;
    if (!digests.includes(digest)) {
      await uploads.end(session.id, { discard: true });
      throw invalidLayer(digest);
    }
    // A layer the repository has content for; a placeholder (a fixture's layer declared without content) gets the
    // uploaded content instead.
    if (repository.layers.has(digest) && scope.registry.blobs.has(digest)) {
      await uploads.end(session.id, { discard: true });
      throw layerAlreadyExists(digest, repository);
    }
    await uploads.end(session.id, { discard: false });
    const blob = await session.upload.commit(digest);
    scope.link(blob.digest, blob.size);
    return blob.digest;
  });
}

function initiateLayerUpload(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const repository = requireRepository(state, repositoryName(input));
  return startLayerUpload(privateScope(ctx, repository));
}

async function uploadLayerPart(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const request = readLayerPartRequest(input);
  const repository = requireRepository(state, name);
  const lastByteReceived = await receiveLayerPart(privateScope(ctx, repository), request);
  return { ...repositoryRef(repository), uploadId: request.uploadId, lastByteReceived };
}

async function completeLayerUpload(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const { uploadId, digests } = readCompleteLayerRequest(input);
  const repository = requireRepository(state, name);
  const layerDigest = await finishLayerUpload(privateScope(ctx, repository), uploadId, digests);
  return { ...repositoryRef(repository), uploadId, layerDigest };
}

/** Failure reasons (UNCONFIRMED wording: the codes are the model's, the reasons are not documented). */
const LAYER_FAILURE_REASONS = {
  InvalidLayerDigest: `Invalid request parameters: layer digest should satisfy the regex '${LAYER_DIGEST_TEXT}'`,
  MissingLayerDigest: 'Requested layer not found',
} as const;

export interface LayerFailure {
  layerDigest: string;
  failureCode: keyof typeof LAYER_FAILURE_REASONS;
  failureReason: string;
}

/** BatchCheckLayerAvailability's failure for a digest the repository has no layer for (malformed or missing). */
export function layerFailure(layerDigest: string): LayerFailure {
  const failureCode = LAYER_DIGEST_PATTERN.test(layerDigest) ? 'MissingLayerDigest' : 'InvalidLayerDigest';
  return { layerDigest, failureCode, failureReason: LAYER_FAILURE_REASONS[failureCode] };
}

/**
 * The layers a repository may use are AVAILABLE, with their size (a fixture's placeholder too: PutImage accepts it).
 * `mediaType` is left out: a layer is known by digest, and which manifest names it with which media type is not
 * recorded. A digest asked twice is answered once.
 */
function batchCheckLayerAvailability(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const digests = readBatchedLayerDigests(input);
  return layerAvailability(requireRepository(state, name), digests);
}

/** BatchCheckLayerAvailability's `layerDigests` (the same in both APIs). */
export const readBatchedLayerDigests = (input: Input) =>
  input.strList('layerDigests', { ...LAYER_DIGESTS, required: true }, BATCHED_LAYER_DIGEST);

/** BatchCheckLayerAvailability's answer for `digests` in `repository` (see above), shared with ECR Public. */
export function layerAvailability(repository: RepositoryRecord, digests: string[]) {
  const layers: { layerDigest: string; layerAvailability: 'AVAILABLE'; layerSize: number }[] = [];
  const failures: LayerFailure[] = [];
  for (const layerDigest of new Set(digests)) {
    const size = LAYER_DIGEST_PATTERN.test(layerDigest) ? repository.layers.get(layerDigest) : undefined;
    if (size !== undefined) {
      layers.push({ layerDigest, layerAvailability: 'AVAILABLE', layerSize: size });
      continue;
    }
    failures.push(layerFailure(layerDigest));
  }
  return { layers, failures };
}

/**
 * A URL of the registry's own address that serves the layer without credentials for `LAYER_URL_TTL_SECONDS`
 * (wire/layer-download.ts), as ECR's pre-signed S3 URL does. A layer the repository lists without content (a
 * fixture's placeholder) is `LayerInaccessibleException`.
 */
function getDownloadUrlForLayer(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const digest = input.str('layerDigest', { ...LAYER_DIGEST, required: true });
  const repository = requireRepository(state, name);
  if (!repository.layers.has(digest)) throw layersNotFound(digest, repository);
  if (!ctx.registry.blobs.has(digest)) throw layerInaccessible(digest, repository);
  return {
    downloadUrl: layerDownloadUrl(ctx.settings.endpoint, ctx.settings.layerUrlKey, digest, ctx.now()),
    layerDigest: digest,
  };
}

export const layerOperations: OperationTable = {
  InitiateLayerUpload: initiateLayerUpload,
  UploadLayerPart: uploadLayerPart,
  CompleteLayerUpload: completeLayerUpload,
  BatchCheckLayerAvailability: batchCheckLayerAvailability,
  GetDownloadUrlForLayer: getDownloadUrlForLayer,
};
