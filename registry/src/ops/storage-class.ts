import { imageStatus } from '../model/image-store.ts';
import type { RepositoryRecord, StoredImage } from '../model/state.ts';
import { EcrException, formatImageId } from '../wire/errors.ts';
import { Input, REPOSITORY_NAME } from '../wire/validate.ts';
import { requireRepository, stateFor } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import { answerImageId, findImage, type ImageId, readImageId } from './image-ids.ts';

/**
 * The archive storage class ([UG-ARCH], [M-ECR] UpdateImageStorageClass): an image goes to the archive at once
 * (ARCHIVED: listed only when a filter asks for it, not pullable, not scannable) and comes back through ACTIVATING,
 * which ends `restoreDurationMs` of registry time later (so moving the clock ends it); re-pushing an archived image
 * restores it at once (PutImage). ECR's rule for indexes: an image an active index lists cannot be archived on its
 * own ("it cannot be expired or archived without the manifest list being deleted or archived first", [UG-LCP]).
 * Archiving an index leaves its children and referrers where they are; nothing cascades (UNCONFIRMED: the pages do
 * not say). An archive emits ECR's "ECR Image Action" (a referrer's, "ECR Referrer Action") with `action-type`
 * UPDATE_STORAGE_CLASS and `target-storage-class` ARCHIVE ([UG-EB]); the restore's event, which ECR sends when the
 * restore completes (with `last-activated-at`), is not emitted: a restore completes when a later request reads it.
 */

const TARGET_STORAGE_CLASSES = ['STANDARD', 'ARCHIVE'] as const;

/** Moves an ACTIVE image to the archive at `now` and emits ECR's event for it (UpdateImageStorageClass, lifecycle). */
export function archiveImage(ctx: OpContext, repository: RepositoryRecord, image: StoredImage, now: number): void {
  image.status = 'ARCHIVED';
  image.lastArchivedAt = now;
  ctx.emit({
    detailType: image.subjectDigest === undefined ? 'ECR Image Action' : 'ECR Referrer Action',
    detail: {
      'action-type': 'UPDATE_STORAGE_CLASS',
      result: 'SUCCESS',
      'repository-name': repository.name,
      'image-digest': image.digest,
      ...(image.tags[0] === undefined ? {} : { 'image-tag': image.tags[0] }),
      'manifest-media-type': image.manifestMediaType,
      ...(image.artifactMediaType === undefined ? {} : { 'artifact-media-type': image.artifactMediaType }),
      'target-storage-class': 'ARCHIVE',
    },
    resources: [],
  });
}

const notSupported = (id: ImageId, repository: RepositoryRecord, why: string) =>
  new EcrException(
    'ImageStorageClassUpdateNotSupportedException',
    `The storage class of the image with imageId ${formatImageId(id)} in the repository with name '${repository.name}' in the registry with id '${repository.registryId}' cannot be updated: ${why}`,
  );

/** The indexes listing `image` that are not archived: while one remains, the image stays in standard storage. */
function activeParents(repository: RepositoryRecord, image: StoredImage, now: number): string[] {
  const parents: string[] = [];
  for (const digest of repository.images.parentsOf(image.digest)) {
    const parent = repository.images.get(digest);
    if (parent !== undefined && imageStatus(parent, now) !== 'ARCHIVED') parents.push(digest);
  }
  return parents;
}

function updateImageStorageClass(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = input.str('repositoryName', { ...REPOSITORY_NAME, required: true });
  const imageId = readImageId(input);
  const target = input.str('targetStorageClass', { enum: TARGET_STORAGE_CLASSES, required: true });
  const repository = requireRepository(state, name);
  const image = findImage(repository, imageId);
  const now = ctx.now();
  const status = imageStatus(image, now);
  if (target === 'ARCHIVE') {
    if (status === 'ACTIVATING') throw notSupported(imageId, repository, 'it is being restored from the archive');
    if (status === 'ACTIVE') {
      const parents = activeParents(repository, image, now);
      if (parents.length > 0) {
        throw notSupported(
          imageId,
          repository,
          `it is referenced by the manifest list ${parents[0]}, which must be archived or deleted first`,
        );
      }
      archiveImage(ctx, repository, image, now);
    }
  } else if (status === 'ARCHIVED') {
    image.status = 'ACTIVATING';
    image.activatesAt = now + ctx.settings.restoreDurationMs;
    // A restore of no duration is over at once.
    imageStatus(image, now);
  }
  return {
    registryId: repository.registryId,
    repositoryName: name,
    imageId: answerImageId(image, imageId),
    imageStatus: image.status,
  };
}

export const storageClassOperations: OperationTable = {
  UpdateImageStorageClass: updateImageStorageClass,
};
