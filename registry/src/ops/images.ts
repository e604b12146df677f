import { parseManifest } from '../model/manifests.ts';
import { newImage } from '../model/records.ts';
import type { RepositoryRecord, StoredImage } from '../model/state.ts';
import { wildcardMatches } from '../model/wildcard.ts';
import { constraintMessage, EcrException, imageNotFound, invalidParameter } from '../wire/errors.ts';
import {
  IMAGE_IDS,
  IMAGE_TAG,
  Input,
  type ListRule,
  MAX_RESULTS,
  type NumberRule,
  REPOSITORY_NAME,
  SHA256_DIGEST,
  type StringRule,
} from '../wire/validate.ts';
import {
  decodeToken,
  encodeToken,
  rejectPagingWithIds,
  requireRepository,
  stateFor,
  toEpochSeconds,
} from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import { isExcludedFromPullTime } from './pull-time-exclusions.ts';
import { replicateImage } from './replication.ts';
import { scanOnPushIfConfigured } from './scanning.ts';

/** Images per repository ([UG-QUOTA] default; adjustable in a real account). */
export const MAX_IMAGES_PER_REPOSITORY = 100_000;
/** Tags per image ([UG-QUOTA], not adjustable). */
export const MAX_TAGS_PER_IMAGE = 1_000;
/** `ImageManifest` length in characters ([M-ECR]: 1–4,194,304). */
export const IMAGE_MANIFEST: StringRule = { min: 1, max: 4_194_304 };
/** DescribeImages and ListImages page when `maxResults` is omitted ([M-ECR] member docs: "up to 100 results"). */
const DEFAULT_PAGE = 100;
/** ListImageReferrers `maxResults` ([M-ECR] `FiftyMaxResults`: 1–50, 20 when omitted). */
const REFERRER_MAX_RESULTS: NumberRule = { min: 1, max: 50 };
const DEFAULT_REFERRER_PAGE = 20;
const ARTIFACT_TYPES: ListRule = { min: 0, max: 5 };
const ARTIFACT_TYPE: StringRule = { min: 1, max: 255 };
const MEDIA_TYPES: ListRule = { min: 1, max: 100 };
const TAG_STATUS = ['TAGGED', 'UNTAGGED', 'ANY'] as const;
const IMAGE_STATUS_FILTER = ['ACTIVE', 'ARCHIVED', 'ACTIVATING', 'ANY'] as const;
/**
 * The OCI tag grammar ([OCI-DIST]) with ECR's 300-character length. The model gives `ImageTag` no pattern;
 * rejecting other characters on push (and answering `InvalidImageTag` for them in batch operations) is UNCONFIRMED.
 */
const TAG_GRAMMAR = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

type TagStatus = (typeof TAG_STATUS)[number];
type StatusFilter = (typeof IMAGE_STATUS_FILTER)[number];

/** An `ImageIdentifier` as the request gave it. */
interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

interface ImageFailure {
  imageId: ImageId;
  failureCode: string;
  failureReason: string;
}

// Errors and failures with ECR's messages

const failure = (imageId: ImageId, failureCode: string, failureReason: string): ImageFailure => ({
  imageId: { ...imageId },
  failureCode,
  failureReason,
});

const FAILURE_REASONS = {
  ImageNotFound: 'Requested image not found',
  MissingDigestAndTag: 'Invalid request parameters: both tag and digest cannot be null',
  InvalidImageDigest:
    "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
  InvalidImageTag: "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,299}'",
  // UNCONFIRMED wording: the failure code is in the model, its reason text is not.
  ImageTagDoesNotMatchDigest: 'Invalid request parameters: the image tag does not match the image digest',
} as const;

const imageAlreadyExists = (repository: RepositoryRecord, digest: string, tag: string | undefined) =>
  // ECR prints a missing tag as 'null' (Java formatting, as in ImageNotFoundException's message).
  new EcrException(
    'ImageAlreadyExistsException',
    `Image with digest '${digest}' and tag '${tag ?? 'null'}' already exists in the repository with name '${repository.name}' in registry with id '${repository.registryId}'`,
  );

const tagAlreadyExists = (repository: RepositoryRecord, tag: string) =>
  new EcrException(
    'ImageTagAlreadyExistsException',
    `The image tag '${tag}' already exists in the '${repository.name}' repository and cannot be overwritten because the tag is immutable.`,
  );

const digestDoesNotMatch = (given: string, computed: string) =>
  new EcrException(
    'ImageDigestDoesNotMatchException',
    `The provided image digest '${given}' does not match the digest '${computed}' calculated from the image manifest`,
  );

const referencedImagesNotFound = (repository: RepositoryRecord, missing: string[]) =>
  new EcrException(
    'ReferencedImagesNotFoundException',
    `The manifest list references images that do not exist in the repository with name '${repository.name}' in the registry with id '${repository.registryId}': [${missing.join(', ')}]`,
  );

const limitExceeded = (message: string) => new EcrException('LimitExceededException', message);

const invalidTag = (member: string) =>
  invalidParameter(constraintMessage(member, `must satisfy regular expression '${TAG_GRAMMAR.source}'`));

// Member readers (validation only; none of them changes state)

const readRepositoryName = (input: Input) => input.str('repositoryName', { ...REPOSITORY_NAME, required: true });

function readImageId(item: Input): ImageId {
  const imageDigest = item.str('imageDigest');
  const imageTag = item.str('imageTag', IMAGE_TAG);
  return { ...(imageDigest === undefined ? {} : { imageDigest }), ...(imageTag === undefined ? {} : { imageTag }) };
}

/** Ids in the order asked; an identical id asked twice counts once (UNCONFIRMED: ECR's handling of repeats). */
function readImageIds(input: Input, required: boolean): ImageId[] | undefined {
  const list = input.objList('imageIds', { ...IMAGE_IDS, required });
  if (!list) return undefined;
  const seen = new Set<string>();
  const ids: ImageId[] = [];
  for (const id of list.map(readImageId)) {
    const key = `${id.imageDigest ?? ''}\n${id.imageTag ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ids.push(id);
  }
  return ids;
}

interface ListingFilter {
  tagStatus: TagStatus;
  imageStatus: StatusFilter;
}

function readListingFilter(input: Input): ListingFilter {
  const filter = input.obj('filter');
  return {
    tagStatus: (filter?.str('tagStatus', { enum: TAG_STATUS }) as TagStatus | undefined) ?? 'ANY',
    // Only ACTIVE images unless the filter asks for others ([M-ECR] `ImageStatusFilter` doc).
    imageStatus: (filter?.str('imageStatus', { enum: IMAGE_STATUS_FILTER }) as StatusFilter | undefined) ?? 'ACTIVE',
  };
}

const matchesFilter = (image: StoredImage, filter: ListingFilter) =>
  (filter.imageStatus === 'ANY' || image.status === filter.imageStatus) &&
  (filter.tagStatus === 'ANY' || (filter.tagStatus === 'TAGGED') === image.tags.length > 0);

/** What a listing token is bound to: the repository (a re-created one starts a new listing) and the filter. */
const listingFingerprint = (repository: RepositoryRecord, ...parts: string[]) =>
  [repository.registryId, repository.name, repository.seq, ...parts].join('|');

// Resolving image ids

type Resolution = { image: StoredImage } | { failureCode: keyof typeof FAILURE_REASONS };

/** Finds the image an id names, or the failure code ECR gives for it. */
function resolveImageId(repository: RepositoryRecord, id: ImageId): Resolution {
  const { imageDigest, imageTag } = id;
  if (imageDigest === undefined && imageTag === undefined) return { failureCode: 'MissingDigestAndTag' };
  if (imageDigest !== undefined && !SHA256_DIGEST.test(imageDigest)) return { failureCode: 'InvalidImageDigest' };
  if (imageTag !== undefined && !TAG_GRAMMAR.test(imageTag)) return { failureCode: 'InvalidImageTag' };
  const tagged = imageTag === undefined ? undefined : repository.images.digestForTag(imageTag);
  const digest = imageDigest ?? tagged;
  const image = digest === undefined ? undefined : repository.images.get(digest);
  if (!image || (imageTag !== undefined && tagged === undefined)) return { failureCode: 'ImageNotFound' };
  if (tagged !== undefined && tagged !== image.digest) return { failureCode: 'ImageTagDoesNotMatchDigest' };
  return { image };
}

const withDigest = (id: ImageId, digest: string): ImageId => ({
  imageDigest: digest,
  ...(id.imageTag === undefined ? {} : { imageTag: id.imageTag }),
});

// Tag mutability

/** Whether `tag` may not be moved to another image in `repository` (the exclusion filters flip the default). */
export function isTagImmutable(repository: RepositoryRecord, tag: string): boolean {
  const excluded = () =>
    repository.imageTagMutabilityExclusionFilters.some((f) => wildcardMatches(f.filter.split('*'), tag));
  switch (repository.imageTagMutability) {
    case 'MUTABLE':
      return false;
    case 'IMMUTABLE':
      return true;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !excluded();
    case 'MUTABLE_WITH_EXCLUSION':
      return excluded();
  }
}

// Events

/**
 * "ECR Image Action" ([UG-EB]): `resources` is empty. `artifact-media-type` is sent for OCI artifacts (a manifest
 * with `artifactType`) only, as AWS's push example of a plain image has none (UNCONFIRMED for other pushes).
 */
function emitPush(ctx: OpContext, repository: RepositoryRecord, image: StoredImage, tag: string | undefined): void {
  ctx.emit({
    detailType: 'ECR Image Action',
    detail: {
      result: 'SUCCESS',
      'repository-name': repository.name,
      'image-digest': image.digest,
      'action-type': 'PUSH',
      ...(tag === undefined ? {} : { 'image-tag': tag }),
      'manifest-media-type': image.manifestMediaType,
      ...(image.artifactType === undefined ? {} : { 'artifact-media-type': image.artifactType }),
    },
    resources: [],
  });
}

function emitDelete(ctx: OpContext, repository: RepositoryRecord, digest: string, tag: string | undefined): void {
  ctx.emit({
    detailType: 'ECR Image Action',
    detail: {
      result: 'SUCCESS',
      'repository-name': repository.name,
      'image-digest': digest,
      'action-type': 'DELETE',
      ...(tag === undefined ? {} : { 'image-tag': tag }),
    },
    resources: [],
  });
}

// Storing an image (PutImage and anything else that pushes)

export interface StoreImageRequest {
  /** The manifest exactly as pushed; its UTF-8 bytes are hashed and stored unchanged. */
  manifest: string;
  /** `imageManifestMediaType`: needed when the manifest has no `mediaType`. */
  mediaType?: string;
  tag?: string;
  /** A digest the pusher expects; it must equal the manifest's. */
  digest?: string;
}

export interface StoreImageResult {
  image: StoredImage;
  /** False when the push only tagged (or restored) an image already in the repository. */
  created: boolean;
}

function checkTag(tag: string): void {
  new Input({ imageTag: tag }).str('imageTag', IMAGE_TAG);
  if (!TAG_GRAMMAR.test(tag)) throw invalidTag('imageTag');
}

/**
 * Pushes a manifest with ECR's rules: the digest is the sha256 of the exact bytes; a digest and tag already there is
 * `ImageAlreadyExistsException`; a tag that names another image moves unless it is immutable; an index needs all
 * its children in the repository; a referrer's `subject` need not exist (OCI 1.1). Layer blobs are not required:
 * the registry has no layer upload API yet, so `LayersNotFoundException` is never thrown. Emits the PUSH event and
 * starts a scan on push for a new image. Changes nothing when it throws.
 */
export function storeImage(ctx: OpContext, repository: RepositoryRecord, request: StoreImageRequest): StoreImageResult {
  const { manifest, tag } = request;
  if (tag !== undefined) checkTag(tag);
  const parsed = parseManifest(manifest, request.mediaType);
  if (request.digest !== undefined && request.digest !== parsed.digest) {
    throw digestDoesNotMatch(request.digest, parsed.digest);
  }
  const images = repository.images;
  const existing = images.get(parsed.digest);
  const tagDigest = tag === undefined ? undefined : images.digestForTag(tag);
  // Re-pushing an archived image restores it ([UG-ARCH]); an active one with nothing new is a conflict.
  const restores = existing !== undefined && existing.status !== 'ACTIVE';
  if (existing && !restores && (tag === undefined || tagDigest === parsed.digest)) {
    throw imageAlreadyExists(repository, parsed.digest, tag);
  }
  if (tag !== undefined && tagDigest !== undefined && tagDigest !== parsed.digest && isTagImmutable(repository, tag)) {
    throw tagAlreadyExists(repository, tag);
  }
  if (existing && tag !== undefined && !existing.tags.includes(tag) && existing.tags.length >= MAX_TAGS_PER_IMAGE) {
    throw limitExceeded(`The image '${existing.digest}' already has the maximum of ${MAX_TAGS_PER_IMAGE} tags`);
  }
  if (!existing) {
    const missing = parsed.children.filter((child) => images.get(child) === undefined);
    if (missing.length > 0) throw referencedImagesNotFound(repository, missing);
    if (images.size >= MAX_IMAGES_PER_REPOSITORY) {
      throw limitExceeded(
        `The repository with name '${repository.name}' in registry with id '${repository.registryId}' already has the maximum of ${MAX_IMAGES_PER_REPOSITORY} images`,
      );
    }
  }
  const image = existing ?? newImage(repository, manifest, parsed, ctx.now());
  if (!existing) {
    const pendingKey = `${repository.name}@${image.digest}`;
    const pendingFindings = ctx.registry.state(repository.registryId, ctx.region).pendingFindings;
    const pending = pendingFindings.get(pendingKey);
    if (pending) {
      image.attachedFindings = pending;
      pendingFindings.delete(pendingKey);
    }
    images.add(image);
  }
  if (restores) image.status = 'ACTIVE';
  if (tag !== undefined) images.setTag(tag, image.digest);
  emitPush(ctx, repository, image, tag);
  if (!existing) scanOnPushIfConfigured(ctx, repository, image);
  // Replication completes at once in the local registry (ECR takes seconds to minutes).
  replicateImage(ctx, repository, image);
  return { image, created: !existing };
}

function putImage(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = readRepositoryName(input);
  const manifest = input.str('imageManifest', { ...IMAGE_MANIFEST, required: true });
  const mediaType = input.str('imageManifestMediaType');
  const tag = input.str('imageTag', IMAGE_TAG);
  const digest = input.str('imageDigest');
  if (tag !== undefined && !TAG_GRAMMAR.test(tag)) throw invalidTag('imageTag');
  const repository = requireRepository(state, name);
  const { image } = storeImage(ctx, repository, { manifest, mediaType, tag, digest });
  return {
    image: {
      registryId: repository.registryId,
      repositoryName: repository.name,
      imageId: { imageDigest: image.digest, ...(tag === undefined ? {} : { imageTag: tag }) },
      imageManifest: image.manifest,
      imageManifestMediaType: image.manifestMediaType,
    },
  };
}

// DescribeImages

/** Severity → count over a scan's findings, with only the severities found ([UG-EB], [M-ECR]). */
function severityCounts(image: StoredImage): Record<string, number> {
  const counts: Record<string, number> = {};
  const findings = [...(image.scan?.findings.findings ?? []), ...(image.scan?.findings.enhancedFindings ?? [])];
  for (const finding of findings) {
    const severity = finding.severity;
    if (typeof severity === 'string') counts[severity] = (counts[severity] ?? 0) + 1;
  }
  return counts;
}

/**
 * The `ImageDetail` shape, with only present members, in a fixed member order (a DescribeImages page builds a
 * thousand of these, so they are assigned one by one rather than spread together). The scan members: the status of
 * the last scan, and a summary once one has completed; the vulnerability database of the local scanner is as new as
 * the scan (`vulnerabilitySourceUpdatedAt`, UNCONFIRMED).
 */
export function toImageDetail(repository: RepositoryRecord, image: StoredImage): Record<string, unknown> {
  const detail: Record<string, unknown> = {
    registryId: repository.registryId,
    repositoryName: repository.name,
    imageDigest: image.digest,
  };
  if (image.tags.length > 0) detail.imageTags = image.tags.slice();
  detail.imageSizeInBytes = image.sizeInBytes;
  detail.imagePushedAt = image.pushedAt / 1000;
  const scan = image.scan;
  if (scan) {
    detail.imageScanStatus = { status: scan.status, description: scan.description };
    if (scan.status === 'COMPLETE' && scan.completedAt !== undefined) {
      detail.imageScanFindingsSummary = {
        imageScanCompletedAt: toEpochSeconds(scan.completedAt),
        vulnerabilitySourceUpdatedAt: toEpochSeconds(scan.completedAt),
        findingSeverityCounts: severityCounts(image),
      };
    }
  }
  detail.imageManifestMediaType = image.manifestMediaType;
  if (image.artifactMediaType !== undefined) detail.artifactMediaType = image.artifactMediaType;
  if (image.lastPulledAt !== undefined) detail.lastRecordedPullTime = image.lastPulledAt / 1000;
  if (image.subjectDigest !== undefined) detail.subjectManifestDigest = image.subjectDigest;
  detail.imageStatus = image.status;
  return detail;
}

/**
 * Explicit ids: each must name an image, else `ImageNotFoundException` (a tag and digest that disagree name none).
 * A malformed id is an `InvalidParameterException`, as DescribeImages has no per-item failures (UNCONFIRMED). Several
 * ids of one image give one detail.
 */
function describeByIds(repository: RepositoryRecord, ids: ImageId[]) {
  const found = new Map<string, StoredImage>();
  for (const id of ids) {
    const resolution = resolveImageId(repository, id);
    if ('image' in resolution) {
      found.set(resolution.image.digest, resolution.image);
      continue;
    }
    const code = resolution.failureCode;
    if (code === 'ImageNotFound' || code === 'ImageTagDoesNotMatchDigest') {
      throw imageNotFound(id, repository.name, repository.registryId);
    }
    throw invalidParameter(FAILURE_REASONS[code]);
  }
  return { imageDetails: [...found.values()].map((image) => toImageDetail(repository, image)) };
}

const invalidToken = () => invalidParameter(constraintMessage('nextToken', 'Invalid NextToken'));

function describeImages(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = readRepositoryName(input);
  const ids = readImageIds(input, false);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', MAX_RESULTS);
  // The filter applies to the listing only; explicit ids are described whatever their status (UNCONFIRMED).
  const filter = readListingFilter(input);
  rejectPagingWithIds(input, 'imageIds');
  const repository = requireRepository(state, name);
  if (ids) return describeByIds(repository, ids);
  const listing = 'DescribeImages';
  const fingerprint = listingFingerprint(repository, filter.tagStatus, filter.imageStatus);
  const afterSeq = nextToken === undefined ? 0 : decodeToken(nextToken, listing, fingerprint);
  if (typeof afterSeq !== 'number') throw invalidToken();
  const limit = maxResults ?? DEFAULT_PAGE;
  const page: StoredImage[] = [];
  let more = false;
  for (const image of repository.images.after(afterSeq)) {
    if (!matchesFilter(image, filter)) continue;
    if (page.length === limit) {
      more = true;
      break;
    }
    page.push(image);
  }
  const last = page[page.length - 1];
  return {
    imageDetails: page.map((image) => toImageDetail(repository, image)),
    ...(more && last ? { nextToken: encodeToken(listing, fingerprint, last.seq) } : {}),
  };
}

// ListImages

/** A ListImages entry and where it sits: image `seq`, its index among that image's entries (one per tag), and tag. */
interface ListEntry {
  seq: number;
  index: number;
  id: ImageId;
}

/** Where a ListImages page resumes: inside image `seq`, after its entry `index - 1`, which was tag `lastTag`. */
interface ListPosition {
  seq: number;
  index: number;
  lastTag: string;
}

/**
 * The first entry of the resumed image still to list. Tags are only appended, so the last listed tag locates the
 * position even when earlier tags were removed; when that tag itself was removed, the tags after it moved up one.
 */
function resumeIndex(tags: readonly string[], position: ListPosition): number {
  if (position.lastTag === '') return position.index;
  const at = tags.indexOf(position.lastTag);
  return at >= 0 ? at + 1 : Math.max(0, position.index - 1);
}

/** Entries from `position` on; it survives deletes (tombstoned seq), pushes (higher seq) and tag changes. */
function* listEntries(repository: RepositoryRecord, position: ListPosition, filter: ListingFilter) {
  for (const image of repository.images.after(position.seq - 1)) {
    if (!matchesFilter(image, filter)) continue;
    const tags = image.tags;
    const from = image.seq === position.seq ? resumeIndex(tags, position) : 0;
    if (tags.length === 0) {
      if (from === 0) yield { seq: image.seq, index: 0, id: { imageDigest: image.digest } } satisfies ListEntry;
      continue;
    }
    for (let index = from; index < tags.length; index++) {
      yield { seq: image.seq, index, id: { imageDigest: image.digest, imageTag: tags[index] } } satisfies ListEntry;
    }
  }
}

const LIST_POSITION = /^(\d+):(\d+):(.*)$/s;

function listImages(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = readRepositoryName(input);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', MAX_RESULTS);
  const filter = readListingFilter(input);
  const repository = requireRepository(state, name);
  const listing = 'ListImages';
  const fingerprint = listingFingerprint(repository, filter.tagStatus, filter.imageStatus);
  let start: ListPosition = { seq: 1, index: 0, lastTag: '' };
  if (nextToken !== undefined) {
    const match = LIST_POSITION.exec(String(decodeToken(nextToken, listing, fingerprint)));
    if (!match) throw invalidToken();
    start = { seq: Number(match[1]), index: Number(match[2]), lastTag: match[3] ?? '' };
  }
  const limit = maxResults ?? DEFAULT_PAGE;
  const page: ListEntry[] = [];
  let more = false;
  for (const entry of listEntries(repository, start, filter)) {
    if (page.length === limit) {
      more = true;
      break;
    }
    page.push(entry);
  }
  const last = page[page.length - 1];
  return {
    imageIds: page.map((entry) => entry.id),
    ...(more && last
      ? { nextToken: encodeToken(listing, fingerprint, `${last.seq}:${last.index + 1}:${last.id.imageTag ?? ''}`) }
      : {}),
  };
}

// BatchGetImage

/**
 * Returns each image's manifest byte for byte and records the pull. An image whose media type is not in
 * `acceptedMediaTypes` is a per-item `ImageNotFound` (the model has no closer failure code; ECR's conversion of
 * Docker v2 manifests to schema 1 is not emulated), and so is an archived image, which cannot be pulled ([UG-ARCH]).
 */
function batchGetImage(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = readRepositoryName(input);
  const ids = readImageIds(input, true) ?? [];
  const accepted = input.strList('acceptedMediaTypes', MEDIA_TYPES);
  const repository = requireRepository(state, name);
  const images: Record<string, unknown>[] = [];
  const failures: ImageFailure[] = [];
  const pulled: StoredImage[] = [];
  for (const id of ids) {
    const resolution = resolveImageId(repository, id);
    if (!('image' in resolution)) {
      failures.push(failure(id, resolution.failureCode, FAILURE_REASONS[resolution.failureCode]));
      continue;
    }
    const image = resolution.image;
    if (image.status !== 'ACTIVE') {
      failures.push(
        failure(id, 'ImageNotFound', `Requested image is ${image.status.toLowerCase()} and cannot be pulled`),
      );
      continue;
    }
    if (accepted && !accepted.includes(image.manifestMediaType)) {
      failures.push(
        failure(
          id,
          'ImageNotFound',
          `Requested image not found: its media type ${image.manifestMediaType} is not accepted`,
        ),
      );
      continue;
    }
    pulled.push(image);
    images.push({
      registryId: repository.registryId,
      repositoryName: repository.name,
      imageId: withDigest(id, image.digest),
      imageManifest: image.manifest,
      imageManifestMediaType: image.manifestMediaType,
    });
  }
  // A principal on the pull-time update exclusion list (automation reading manifests) does not count as a pull.
  if (!isExcludedFromPullTime(ctx)) {
    const now = ctx.now();
    for (const image of pulled) image.lastPulledAt = now;
  }
  return { images, failures };
}

// BatchDeleteImage

const referencedByManifestList = (id: ImageId, parents: ReadonlySet<string>) =>
  failure(
    id,
    'ImageReferencedByManifestList',
    `Requested image referenced by manifest list: [${[...parents].join(', ')}]`,
  );

/**
 * Applies one id: by tag alone it removes that tag, and the image with its last tag; with a digest it deletes the
 * image and all its tags (a tag given with the digest only has to match, UNCONFIRMED). An image an index in the
 * repository still lists cannot be deleted.
 */
function deleteOne(ctx: OpContext, repository: RepositoryRecord, id: ImageId): ImageId | ImageFailure {
  const resolution = resolveImageId(repository, id);
  if (!('image' in resolution)) {
    return failure(id, resolution.failureCode, FAILURE_REASONS[resolution.failureCode]);
  }
  const image = resolution.image;
  const images = repository.images;
  const untagOnly = id.imageDigest === undefined && id.imageTag !== undefined && image.tags.length > 1;
  if (untagOnly && id.imageTag !== undefined) {
    images.removeTag(id.imageTag);
  } else {
    const parents = images.parentsOf(image.digest);
    if (parents.size > 0) return referencedByManifestList(id, parents);
    images.delete(image.digest);
  }
  emitDelete(ctx, repository, image.digest, id.imageTag);
  return withDigest(id, image.digest);
}

function batchDeleteImage(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = readRepositoryName(input);
  const ids = readImageIds(input, true) ?? [];
  const repository = requireRepository(state, name);
  const imageIds: ImageId[] = [];
  const failures: ImageFailure[] = [];
  for (const id of ids) {
    const outcome = deleteOne(ctx, repository, id);
    if ('failureCode' in outcome) failures.push(outcome);
    else imageIds.push(outcome);
  }
  return { imageIds, failures };
}

// ListImageReferrers

/**
 * The referrers (OCI 1.1 `subject`) of a digest, in push order. A subject that is not in the repository has none,
 * which is an empty list rather than an error ([OCI-DIST]). `artifactType` is the manifest's, else its config's
 * media type, as the OCI referrers API reports it.
 */
function listImageReferrers(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = readRepositoryName(input);
  const subject = input.obj('subjectId', { required: true }).str('imageDigest', { required: true });
  const filter = input.obj('filter');
  const artifactTypes = filter?.strList('artifactTypes', ARTIFACT_TYPES, ARTIFACT_TYPE) ?? [];
  const status = (filter?.str('artifactStatus', { enum: IMAGE_STATUS_FILTER }) as StatusFilter | undefined) ?? 'ACTIVE';
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', REFERRER_MAX_RESULTS);
  const repository = requireRepository(state, name);
  const listing = 'ListImageReferrers';
  const fingerprint = listingFingerprint(repository, subject, status, artifactTypes.join(','));
  const afterSeq = nextToken === undefined ? 0 : decodeToken(nextToken, listing, fingerprint);
  if (typeof afterSeq !== 'number') throw invalidToken();
  const matching = [...repository.images.referrersOf(subject)]
    .map((digest) => repository.images.get(digest))
    .filter((image): image is StoredImage => image !== undefined && image.seq > afterSeq)
    .filter((image) => status === 'ANY' || image.status === status)
    .filter((image) => artifactTypes.length === 0 || artifactTypes.includes(image.artifactMediaType ?? ''))
    .sort((a, b) => a.seq - b.seq);
  const limit = maxResults ?? DEFAULT_REFERRER_PAGE;
  const page = matching.slice(0, limit);
  const last = page[page.length - 1];
  return {
    referrers: page.map((image) => ({
      digest: image.digest,
      mediaType: image.manifestMediaType,
      ...(image.artifactMediaType === undefined ? {} : { artifactType: image.artifactMediaType }),
      size: image.manifestSize,
      ...(image.annotations === undefined ? {} : { annotations: { ...image.annotations } }),
      artifactStatus: image.status,
    })),
    ...(matching.length > limit && last ? { nextToken: encodeToken(listing, fingerprint, last.seq) } : {}),
  };
}

export const imageOperations: OperationTable = {
  PutImage: putImage,
  DescribeImages: describeImages,
  ListImages: listImages,
  BatchGetImage: batchGetImage,
  BatchDeleteImage: batchDeleteImage,
  ListImageReferrers: listImageReferrers,
};
