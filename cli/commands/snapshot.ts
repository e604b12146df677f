import { type CleanupGateway, EVERY_STATUS } from '../../shared/cleanup/gateway.ts';
import { gatherRepository } from '../../shared/cleanup/gather.ts';
import { type ImageRecord, isIndex } from '../../shared/domain/image.ts';

/**
 * What the CLI sees of one repository, and how it changed between `plan` and `apply`.
 *
 * One fact shapes this file: `gatherRepository` reads every index manifest with BatchGetImage, and ECR records
 * that read as a pull (`lastRecordedPullTime`) unless the caller is on the registry's pull-time update exclusion
 * list. So the listing a gather made is stale for its indexes the moment it returns, and a later listing would
 * see the plan's own reads as "pulled since the plan". Hence:
 * - `plan` lists once more after gathering and plans from that settled state (`gatherSettled`);
 * - `apply` lists only, taking each index's children from the plan file (`listCurrentImages`): a digest names
 *   its manifest's bytes, so its children cannot have changed, and not re-reading them keeps `apply` from
 *   changing the very state it compares.
 */

/** Gathers at most this many times while the repository gains indexes between a gather and its second listing. */
const GATHER_ATTEMPTS = 3;

async function listAllImages(gateway: CleanupGateway, repositoryName: string): Promise<ImageRecord[]> {
  const images: ImageRecord[] = [];
  for await (const page of gateway.listImages(repositoryName, EVERY_STATUS)) images.push(...page);
  return images;
}

export interface SettledSnapshot {
  images: ImageRecord[];
  /** Indexes whose pull time moved while this plan read their manifests: most likely the plan's own reads. */
  readAsPulled: string[];
}

/**
 * Gathers a repository (list, read every index) and lists it again, so that the images planned from carry the
 * pull times the plan's own manifest reads left behind: the state `apply` will find if nobody else acts.
 */
export async function gatherSettled(
  gateway: CleanupGateway,
  repositoryName: string,
  now: number,
): Promise<SettledSnapshot> {
  for (let attempt = 1; ; attempt++) {
    const gathered = await gatherRepository(gateway, repositoryName, now);
    const before = new Map(gathered.images.map((image) => [image.digest, image]));
    const listed = await listAllImages(gateway, repositoryName);
    const unread = listed.filter((image) => isIndex(image) && before.get(image.digest)?.childDigests === undefined);
    if (unread.length > 0) {
      // An index pushed in between: its children are unknown. Gather again; after the last attempt, plan from the
      // first pass (apply then sees the pulls and refuses, which is the safe side).
      if (attempt < GATHER_ATTEMPTS) continue;
      return { images: gathered.images, readAsPulled: [] };
    }
    const images = listed.map((image) => {
      const children = before.get(image.digest)?.childDigests;
      return children === undefined ? image : { ...image, childDigests: children };
    });
    const readAsPulled = images
      .filter((image) => isIndex(image) && image.lastPulledAt !== before.get(image.digest)?.lastPulledAt)
      .map((image) => image.digest);
    return { images, readAsPulled };
  }
}

/**
 * The repository as it is now, for comparison with a plan: one listing, with each index's children taken from
 * the plan's images. An index the plan never saw keeps no children; it is "added" anyway, so the fingerprint
 * differs whatever its children are.
 */
export async function listCurrentImages(
  gateway: CleanupGateway,
  repositoryName: string,
  planned: readonly ImageRecord[],
): Promise<ImageRecord[]> {
  const children = new Map(planned.map((image) => [image.digest, image.childDigests]));
  return (await listAllImages(gateway, repositoryName)).map((image) => {
    const known = children.get(image.digest);
    return known === undefined ? image : { ...image, childDigests: known };
  });
}

export type ImageChange =
  | { kind: 'added'; digest: string; tags: readonly string[] }
  | { kind: 'removed'; digest: string; tags: readonly string[] }
  | { kind: 'tags-changed'; digest: string; before: readonly string[]; after: readonly string[] }
  | { kind: 'pulled-since'; digest: string; before?: number; after?: number; index: boolean }
  | { kind: 'pushed-again'; digest: string; before: number; after: number }
  | { kind: 'other'; digest: string; fields: string[] };

const sameList = (a: readonly string[], b: readonly string[]) => {
  const sortedB = [...b].sort();
  return a.length === b.length && [...a].sort().every((value, i) => value === sortedB[i]);
};

/** Everything `fingerprintOf` hashes that differs between the plan's images and the current ones, per image. */
export function describeChanges(planned: readonly ImageRecord[], current: readonly ImageRecord[]): ImageChange[] {
  const before = new Map(planned.map((image) => [image.digest, image]));
  const after = new Map(current.map((image) => [image.digest, image]));
  const changes: ImageChange[] = [];
  for (const image of current) {
    if (!before.has(image.digest)) changes.push({ kind: 'added', digest: image.digest, tags: image.tags });
  }
  for (const image of planned) {
    const now = after.get(image.digest);
    if (!now) {
      changes.push({ kind: 'removed', digest: image.digest, tags: image.tags });
      continue;
    }
    if (!sameList(image.tags, now.tags)) {
      changes.push({ kind: 'tags-changed', digest: image.digest, before: image.tags, after: now.tags });
    }
    if (image.lastPulledAt !== now.lastPulledAt) {
      changes.push({
        kind: 'pulled-since',
        digest: image.digest,
        ...(image.lastPulledAt === undefined ? {} : { before: image.lastPulledAt }),
        ...(now.lastPulledAt === undefined ? {} : { after: now.lastPulledAt }),
        index: isIndex(image),
      });
    }
    if (image.pushedAt !== now.pushedAt) {
      changes.push({ kind: 'pushed-again', digest: image.digest, before: image.pushedAt, after: now.pushedAt });
    }
    const fields = [
      ...(image.subjectDigest !== now.subjectDigest ? ['subject'] : []),
      ...((image.childDigests ?? []).join(',') !== (now.childDigests ?? []).join(',') ? ['children'] : []),
    ];
    if (fields.length > 0) changes.push({ kind: 'other', digest: image.digest, fields });
  }
  return changes;
}
