import { imageStatus } from '../model/image-store.ts';
import type { RepositoryRecord, StoredImage } from '../model/state.ts';
import { Input, type ListRule } from '../wire/validate.ts';
import { requireRepository, stateFor } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import {
  FAILURE_REASONS,
  failure,
  type ImageFailure,
  type ImageId,
  readImageIds,
  readRepositoryName,
  resolveImageId,
  withDigest,
} from './image-common.ts';
import { isExcludedFromPullTime } from './pull-time-exclusions.ts';

/** Pulling and deleting images by id: BatchGetImage and BatchDeleteImage, with per-item failures. */

const MEDIA_TYPES: ListRule = { min: 1, max: 100 };

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
    const status = imageStatus(image, ctx.now());
    if (status !== 'ACTIVE') {
      failures.push(failure(id, 'ImageNotFound', `Requested image is ${status.toLowerCase()} and cannot be pulled`));
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

/** ECR's "ECR Image Action" DELETE event for an image deleted (`tag`: the tag the request named, if any). */
export function emitDelete(
  ctx: OpContext,
  repository: RepositoryRecord,
  digest: string,
  tag: string | undefined,
): void {
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

const referencedByManifestList = (id: ImageId, parents: ReadonlySet<string>) =>
  failure(
    id,
    'ImageReferencedByManifestList',
    `Requested image referenced by manifest list: [${[...parents].join(', ')}]`,
  );

/**
 * Applies one id: by tag alone it removes that tag, and the image with its last tag; with a digest it deletes the
 * image and all its tags (a tag given with the digest only has to match, UNCONFIRMED). An image an index in the
 * repository still lists cannot be deleted. What it answers, as ECR does: by tag, that tag with its digest; by
 * digest, one id per tag the deleted image had (its digest alone if it had none). `deleted` learns of each change
 * (ECR emits an event for it, ECR Public forgets the tags' times). Shared with ECR Public's BatchDeleteImage.
 */
export function deleteImageById(
  repository: RepositoryRecord,
  id: ImageId,
  deleted: (image: StoredImage, removedTags: readonly string[]) => void,
): ImageId[] | ImageFailure {
  const resolution = resolveImageId(repository, id);
  if (!('image' in resolution)) {
    return failure(id, resolution.failureCode, FAILURE_REASONS[resolution.failureCode]);
  }
  const image = resolution.image;
  const images = repository.images;
  const byTag = id.imageDigest === undefined && id.imageTag !== undefined;
  const tags = [...image.tags];
  if (byTag && image.tags.length > 1 && id.imageTag !== undefined) {
    images.removeTag(id.imageTag);
    deleted(image, [id.imageTag]);
  } else {
    const parents = images.parentsOf(image.digest);
    if (parents.size > 0) return referencedByManifestList(id, parents);
    images.delete(image.digest);
    deleted(image, tags);
  }
  if (byTag || tags.length === 0) return [withDigest(id, image.digest)];
  return tags.map((imageTag) => ({ imageDigest: image.digest, imageTag }));
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
    const outcome = deleteImageById(repository, id, (image) => emitDelete(ctx, repository, image.digest, id.imageTag));
    if ('failureCode' in outcome) failures.push(outcome);
    else imageIds.push(...outcome);
  }
  return { imageIds, failures };
}

export const imagePullDeleteOperations: OperationTable = {
  BatchGetImage: batchGetImage,
  BatchDeleteImage: batchDeleteImage,
};
