import { sha256 } from '../model/manifests.ts';
import type { RegistryState, RepositoryRecord, StoredImage } from '../model/state.ts';
import { EcrException } from '../wire/errors.ts';
import { Input } from '../wire/validate.ts';
import { linkBlob } from './blob-links.ts';
import type { OpContext, OperationTable } from './context.ts';
import { createRepositoryFromTemplate, creationTemplateFor } from './creation-templates.ts';
import { type StoreImageRequest, storeImage } from './image-push.ts';
import { isExcludedFromPullTime } from './pull-time-exclusions.ts';

/**
 * What the registry API (`/v2/`, wire/distribution.ts) changes in the state, with ECR's rules: a push to a
 * repository that does not exist, a manifest push, a pull, a blob mount. Each change is journalled, as an ECR
 * operation when replaying that operation's input gives the same state, else as one of `distributionReplays`.
 */

/**
 * The repository a push goes to. ECR creates none on push unless a repository creation template applied for
 * `CREATE_ON_PUSH` matches the name; then it creates it from that template. Undefined when there is none.
 */
export function repositoryForPush(ctx: OpContext, name: string): RepositoryRecord | undefined {
  const existing = ctx.state.repositories.get(name);
  if (existing) return existing;
  if (!creationTemplateFor(ctx.state, name, 'CREATE_ON_PUSH')) return undefined;
  const repository = createRepositoryFromTemplate(ctx, ctx.state, name, 'CREATE_ON_PUSH');
  ctx.journal('CreateRepositoryOnPush', { repositoryName: name });
  return repository;
}

export interface PushedManifest {
  image: StoredImage;
  /** False when the same manifest (and tag) was already there: registries answer such a push as a success. */
  stored: boolean;
}

/**
 * Pushes a manifest with `storeImage` (ECR's rules, events, scan on push, replication). The same manifest pushed
 * again under the same tag (or by digest) is ECR's `ImageAlreadyExistsException` for PutImage, but a registry
 * client re-pushing an image expects success: it is answered as one, changing nothing and emitting no event.
 * A stored push is journalled as the PutImage it is equivalent to.
 */
export function pushManifest(ctx: OpContext, repository: RepositoryRecord, request: StoreImageRequest): PushedManifest {
  try {
    const { image } = storeImage(ctx, repository, request);
    ctx.journal('PutImage', {
      repositoryName: repository.name,
      imageManifest: request.manifest,
      ...(request.mediaType === undefined ? {} : { imageManifestMediaType: request.mediaType }),
      ...(request.tag === undefined ? {} : { imageTag: request.tag }),
      ...(request.digest === undefined ? {} : { imageDigest: request.digest }),
    });
    return { image, stored: true };
  } catch (error) {
    const existing = repository.images.get(sha256(request.manifest));
    if (error instanceof EcrException && error.type === 'ImageAlreadyExistsException' && existing) {
      return { image: existing, stored: false };
    }
    throw error;
  }
}

/**
 * Records a manifest pull over `/v2/` as BatchGetImage does: `lastRecordedPullTime` moves, unless the caller (the
 * access key its registry token was issued to) is on the pull-time update exclusion list.
 */
export function recordPull(ctx: OpContext, repository: RepositoryRecord, image: StoredImage): void {
  if (isExcludedFromPullTime(ctx)) return;
  image.lastPulledAt = ctx.now();
  ctx.journal('RecordPull', { repositoryName: repository.name, imageDigest: image.digest });
}

/**
 * Mounts blob `digest` from repository `from` of the same registry into `target` (`POST
 * .../blobs/uploads/?mount=&from=`): only a blob `from` may use and whose content is stored. Returns its size, or
 * undefined when it cannot be mounted (the client then uploads it). ECR's `BLOB_MOUNTING` account setting is not
 * emulated: mounting behaves as enabled.
 */
export function mountBlob(ctx: OpContext, target: RepositoryRecord, from: string, digest: string): number | undefined {
  const source = ctx.state.repositories.get(from);
  const size = ctx.registry.blobs.size(digest);
  if (!source?.layers.has(digest) || size === undefined) return undefined;
  if (target.layers.get(digest) !== size) linkBlob(ctx, target, digest, size);
  return size;
}

/** The repository a replayed record names, in the replaying context's account and region. */
function replayedRepository(ctx: OpContext, input: Input): { state: RegistryState; name: string } {
  return { state: ctx.state, name: input.str('repositoryName', { required: true }) };
}

/** Changes `/v2/` makes that no ECR operation replays (see `OpContext.journal`). */
export const distributionReplays: OperationTable = {
  CreateRepositoryOnPush(raw, ctx) {
    const { state, name } = replayedRepository(ctx, Input.parse(raw));
    if (!state.repositories.has(name)) createRepositoryFromTemplate(ctx, state, name, 'CREATE_ON_PUSH');
  },
  RecordPull(raw, ctx) {
    const input = Input.parse(raw);
    const { state, name } = replayedRepository(ctx, input);
    const image = state.repositories.get(name)?.images.get(input.str('imageDigest', { required: true }));
    if (image) image.lastPulledAt = ctx.now();
  },
};
