import type { RepositoryRecord } from '../model/state.ts';
import { Input } from '../wire/validate.ts';
import type { OpContext, OperationTable } from './context.ts';

/**
 * Makes a stored blob usable by a repository (an upload completed, a `/v2/` mount) and journals it, so that a
 * registry with a data directory still lists it there after a restart. The one way code adds to
 * `RepositoryRecord.layers` for a blob with content.
 */
export function linkBlob(ctx: OpContext, repository: RepositoryRecord, digest: string, size: number): void {
  repository.layers.set(digest, size);
  ctx.journal('LinkBlob', { registryId: repository.registryId, repositoryName: repository.name, digest, size });
}

/** Replays a `LinkBlob` journal record. */
function replayLinkBlob(raw: Record<string, unknown>, ctx: OpContext): void {
  const input = Input.parse(raw);
  const name = input.str('repositoryName', { required: true });
  const digest = input.str('digest', { required: true });
  const size = raw.size;
  const repository = ctx.registry.existing(input.str('registryId') ?? ctx.account, ctx.region)?.repositories.get(name);
  if (repository && typeof size === 'number') repository.layers.set(digest, size);
}

export const blobLinkReplays: OperationTable = { LinkBlob: replayLinkBlob };
