import { createHash } from 'node:crypto';
import { type ImageRecord, isIndex } from '../domain/image.ts';
import type { EcrGateway } from '../ecr/index.ts';

/** What the cleanup saw of one repository: every image, with each index's children read from its manifest. */
export interface RepositorySnapshot {
  repositoryName: string;
  images: ImageRecord[];
  /** A hash of the state the plan depends on (digests, tags, push and pull times, children). */
  fingerprint: string;
  /**
   * The index manifests this gather read, and when: ECR records such a read as a pull (unless the caller is excluded
   * from pull-time updates), so a later re-read must not mistake it for someone else's pull.
   */
  ownReads: { digests: ReadonlySet<string>; since: number };
}

/** An index manifest could not be read for a reason other than the index being gone: planning would be a guess. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/** The digests an index manifest lists; throws when the manifest is not JSON. */
export const childrenOf = (manifest: string): string[] => {
  const document = JSON.parse(manifest) as { manifests?: { digest?: unknown }[] };
  return (document.manifests ?? [])
    .map((descriptor) => descriptor.digest)
    .filter((digest): digest is string => typeof digest === 'string');
};

/**
 * Lists the repository (DescribeImages, pages of 1000) and reads only the index manifests (BatchGetImage, batches of
 * 100): DescribeImages already names each referrer's subject, so nothing else needs a manifest. An index deleted
 * between the listing and the read is dropped from the snapshot (it is gone); any other failure stops the run.
 * `since` is the run's start on the registry's clock (the clock ECR records the reads' pull times with).
 */
export async function gatherRepository(
  gateway: EcrGateway,
  repositoryName: string,
  since: number,
): Promise<RepositorySnapshot> {
  const listed: ImageRecord[] = [];
  for await (const page of gateway.listImages(repositoryName)) listed.push(...page);
  const indexes = listed.filter(isIndex).map((image) => image.digest);
  const children = new Map<string, string[]>();
  const gone = new Set<string>();
  if (indexes.length > 0) {
    const { manifests, failures } = await gateway.getManifests(repositoryName, indexes);
    for (const manifest of manifests) {
      try {
        children.set(manifest.digest, childrenOf(manifest.manifest));
      } catch {
        throw new SnapshotError(
          `Index ${manifest.digest} in ${repositoryName} is not valid JSON; not planning around it`,
        );
      }
    }
    for (const failure of failures) {
      if (failure.code === 'ImageNotFound' && failure.digest) gone.add(failure.digest);
      else {
        throw new SnapshotError(
          `Could not read index ${failure.digest ?? failure.tag} in ${repositoryName}: ${failure.code} ${failure.reason}`,
        );
      }
    }
  }
  const images = listed
    .filter((image) => !gone.has(image.digest))
    .map((image) => (isIndex(image) ? { ...image, childDigests: children.get(image.digest) ?? [] } : image));
  return {
    repositoryName,
    images,
    fingerprint: fingerprintOf(images),
    ownReads: { digests: new Set(indexes.filter((digest) => !gone.has(digest))), since },
  };
}

/** Order-independent hash of everything a plan depends on. */
export function fingerprintOf(images: readonly ImageRecord[]): string {
  const lines = images
    .map((image) =>
      [
        image.digest,
        [...image.tags].sort().join(','),
        image.pushedAt,
        image.lastPulledAt ?? '-',
        (image.childDigests ?? []).join(','),
        image.subjectDigest ?? '-',
      ].join(' '),
    )
    .sort();
  return `sha256:${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
}
