import type { StoredImage } from '../model/state.ts';
import { placeImage, type StoreImageRequest } from '../ops/image-push.ts';
import type { PublicOpContext } from './operations.ts';
import type { PublicRepositoryRecord } from './state.ts';

/**
 * Pushes a manifest to a public repository (PutImage, or a manifest PUT over `/v2/`) with the private registry's
 * rules of `placeImage` (digest of the exact bytes, the layers and children it needs, tags moving) and none of its
 * effects: ECR Public emits no event, scans nothing and replicates nothing. A tag put on an image records its time
 * (DescribeImageTags' `createdAt`). Changes nothing when it throws.
 */
export function storePublicImage(
  ctx: Pick<PublicOpContext, 'now'>,
  repository: PublicRepositoryRecord,
  request: StoreImageRequest,
): { image: StoredImage; created: boolean } {
  const now = ctx.now();
  const { image, created } = placeImage(repository.content, request, now);
  if (request.tag !== undefined) repository.tagTimes.set(request.tag, now);
  return { image, created };
}
