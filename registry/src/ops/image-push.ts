import { imageStatus } from '../model/image-store.ts';
import { parseManifest } from '../model/manifests.ts';
import { newImage } from '../model/records.ts';
import type { RepositoryRecord, StoredImage } from '../model/state.ts';
import { wildcardMatches } from '../model/wildcard.ts';
import { constraintMessage, EcrException, invalidParameter } from '../wire/errors.ts';
import { IMAGE_TAG, Input, type StringRule } from '../wire/validate.ts';
import { requireRepository, stateFor } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import { readRepositoryName, TAG_GRAMMAR } from './image-common.ts';
import { replicateImage } from './replication.ts';
import { scanOnPushIfConfigured } from './scanning.ts';

/** Images per repository ([UG-QUOTA] default; adjustable in a real account). */
export const MAX_IMAGES_PER_REPOSITORY = 100_000;
/** Tags per image ([UG-QUOTA], not adjustable). */
export const MAX_TAGS_PER_IMAGE = 1_000;
/** `ImageManifest` length in characters ([M-ECR]: 1–4,194,304). */
export const IMAGE_MANIFEST: StringRule = { min: 1, max: 4_194_304 };

// Errors with ECR's messages

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

/** ECR's message for a manifest whose config or layers are not in the repository ([M-ECR] LayersNotFoundException). */
const layersNotFound = (repository: RepositoryRecord, missing: string[]) =>
  new EcrException(
    'LayersNotFoundException',
    `Layers with digests '[${missing.join(', ')}]' required for pushing image into repository with name '${repository.name}' in registry with id '${repository.registryId}' do not exist`,
  );

const limitExceeded = (message: string) => new EcrException('LimitExceededException', message);

const invalidTag = (member: string) =>
  invalidParameter(constraintMessage(member, `must satisfy regular expression '${TAG_GRAMMAR.source}'`));

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

/** What `placeImage` did: the image now in the repository, and whether it was new or restored from the archive. */
export interface PlacedImage extends StoreImageResult {
  restored: boolean;
}

/**
 * Places a manifest in `repository` with ECR's rules, with no effect beyond the repository: the digest is the sha256
 * of the exact bytes; a digest and tag already there is `ImageAlreadyExistsException`; a tag that names another
 * image moves unless it is immutable; a new image needs its config and layers in the repository
 * (`LayersNotFoundException`) and a new index all its children (`ReferencedImagesNotFoundException`); a referrer's
 * `subject` need not exist (OCI 1.1). `beforeAdd` sees a new image before it is stored. Changes nothing when it
 * throws. ECR Public pushes with it alone; `storeImage` adds the private registry's effects.
 */
export function placeImage(
  repository: RepositoryRecord,
  request: StoreImageRequest,
  now: number,
  beforeAdd?: (image: StoredImage) => void,
): PlacedImage {
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
  const restores = existing !== undefined && imageStatus(existing, now) !== 'ACTIVE';
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
    const missingBlobs = parsed.blobs.filter((blob) => !repository.layers.has(blob.digest)).map((blob) => blob.digest);
    if (missingBlobs.length > 0) throw layersNotFound(repository, missingBlobs);
    if (images.size >= MAX_IMAGES_PER_REPOSITORY) {
      throw limitExceeded(
        `The repository with name '${repository.name}' in registry with id '${repository.registryId}' already has the maximum of ${MAX_IMAGES_PER_REPOSITORY} images`,
      );
    }
  }
  const image = existing ?? newImage(repository, manifest, parsed, now);
  if (!existing) {
    beforeAdd?.(image);
    images.add(image);
  }
  if (restores) {
    image.status = 'ACTIVE';
    image.lastActivatedAt = now;
    image.activatesAt = undefined;
  }
  if (tag !== undefined) images.setTag(tag, image.digest);
  return { image, created: !existing, restored: restores };
}

/**
 * Pushes a manifest to a private repository: `placeImage`, then ECR's effects of a push: findings waiting for the
 * image are attached, the PUSH event is emitted, a new image is scanned on push where configured, and the image is
 * replicated. Changes nothing when it throws.
 */
export function storeImage(ctx: OpContext, repository: RepositoryRecord, request: StoreImageRequest): StoreImageResult {
  const { image, created } = placeImage(repository, request, ctx.now(), (image) => {
    const pendingKey = `${repository.name}@${image.digest}`;
    const pendingFindings = ctx.registry.state(repository.registryId, ctx.region).pendingFindings;
    const pending = pendingFindings.get(pendingKey);
    if (pending) {
      image.attachedFindings = pending;
      pendingFindings.delete(pendingKey);
    }
  });
  emitPush(ctx, repository, image, request.tag);
  if (created) scanOnPushIfConfigured(ctx, repository, image);
  // Replication completes at once in the local registry (ECR takes seconds to minutes).
  replicateImage(ctx, repository, image);
  return { image, created };
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

export const imagePushOperations: OperationTable = {
  PutImage: putImage,
};
