import type { StoredImage } from '../model/state.ts';
import { placeImage, type StoreImageRequest } from '../ops/image-push.ts';
import { Input } from '../wire/validate.ts';
import type { PublicOpContext } from './context.ts';
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

/**
 * Makes a stored blob usable by a public repository (a layer upload completed, a `/v2/` upload or mount) and
 * journals it (`LinkPublicBlob`), as `linkBlob` does for a private one. The one way a public repository gains a blob
 * with content.
 */
export function linkPublicBlob(
  ctx: Pick<PublicOpContext, 'journal'>,
  repository: PublicRepositoryRecord,
  digest: string,
  size: number,
): void {
  repository.content.layers.set(digest, size);
  ctx.journal('LinkPublicBlob', { repositoryName: repository.name, digest, size });
}

/** Replays a `LinkPublicBlob` record (the repository may have been deleted since: then nothing). */
export function replayLinkPublicBlob(raw: Record<string, unknown>, ctx: PublicOpContext): void {
  const input = Input.parse(raw);
  const name = input.str('repositoryName', { required: true });
  const digest = input.str('digest', { required: true });
  const size = raw.size;
  const repository = ctx.state.repositories.get(name);
  if (repository && typeof size === 'number') repository.content.layers.set(digest, size);
}
