import type { RegistryState, RepositoryRecord, StoredImage } from '../model/state.ts';
import { constraintMessage, imageNotFound } from '../wire/errors.ts';
import { IMAGE_TAG, type Input } from '../wire/validate.ts';
import type { OpContext } from './context.ts';

/** The `imageId` member of the operations on one image (scanning, replication status), read and resolved. */

export interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

/** The `imageId` member (`ImageIdentifier`): a digest, a tag, or both. */
export function readImageId(input: Input): ImageId {
  const id = input.obj('imageId', { required: true });
  const imageDigest = id.str('imageDigest');
  const imageTag = id.str('imageTag', IMAGE_TAG);
  if (imageDigest === undefined && imageTag === undefined) {
    throw input.fail(constraintMessage('imageId', 'Member must have an imageDigest or an imageTag'));
  }
  return { imageDigest, imageTag };
}

/** The image an id names; a digest and a tag that point at different images name none. */
export function findImage(repository: RepositoryRecord, id: ImageId): StoredImage {
  const image =
    id.imageDigest !== undefined
      ? repository.images.get(id.imageDigest)
      : repository.images.byTagName(id.imageTag ?? '');
  const tagMatches = id.imageTag === undefined || image?.tags.includes(id.imageTag) === true;
  if (!image || !tagMatches) throw imageNotFound(id, repository.name, repository.registryId);
  return image;
}

/** The `imageId` of an answer: the resolved digest, and the tag when the request named one. */
export const answerImageId = (image: StoredImage, id: ImageId) => ({
  imageDigest: image.digest,
  ...(id.imageTag !== undefined ? { imageTag: id.imageTag } : {}),
});

/** The state a repository lives in (its account, and the region of its ARN). */
export function repositoryState(ctx: OpContext, repository: RepositoryRecord): RegistryState {
  const region = repository.arn.split(':')[3] ?? ctx.region;
  if (repository.registryId === ctx.account && region === ctx.region) return ctx.state;
  return ctx.registry.state(repository.registryId, region);
}
