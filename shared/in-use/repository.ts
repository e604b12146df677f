import type { InUseFailure, InUseReference, InUseSnapshot } from '../domain/in-use.ts';
import { matchesAnyGlob } from '../policy/glob.ts';

/** One repository, as the in-use mapping sees it: where it is, and its images with their current tags. */
export interface InUseRepository {
  registry?: 'private' | 'public';
  registryId: string;
  region: string;
  repositoryName: string;
  images: readonly { digest: string; tags: readonly string[] }[];
}

export interface RepositoryInUse {
  /** The repository's images in use, by digest, each with every place it is used (no duplicates). */
  inUse: Map<string, InUseReference[]>;
  /** The failed providers that cover this repository: when any, nothing in it may be deleted in this run. */
  blockedBy: InUseFailure[];
}

const covers = (repositories: readonly string[] | undefined, exclude: readonly string[] | undefined, name: string) =>
  (repositories === undefined || matchesAnyGlob(name, repositories)) &&
  (exclude === undefined || !matchesAnyGlob(name, exclude));

/**
 * The part of a snapshot that is about one repository: each image in use there, by digest (a reference by tag is
 * resolved through the repository's current tags; a tag the repository no longer has protects nothing), and the
 * failed providers covering it. Pure: no AWS, no clock.
 */
export function inUseForRepository(snapshot: InUseSnapshot, repository: InUseRepository): RepositoryInUse {
  const registry = repository.registry ?? 'private';
  const digests = new Set(repository.images.map((image) => image.digest));
  const byTag = new Map<string, string>();
  for (const image of repository.images) for (const tag of image.tags) byTag.set(tag, image.digest);
  const inUse = new Map<string, InUseReference[]>();
  const seen = new Set<string>();
  for (const image of snapshot.images) {
    if ((image.registry ?? 'private') !== registry) continue;
    if (image.registryId !== repository.registryId || image.repositoryName !== repository.repositoryName) continue;
    if (registry === 'private' && image.region !== repository.region) continue;
    const digest =
      image.digest !== undefined && digests.has(image.digest)
        ? image.digest
        : image.tag === undefined
          ? undefined
          : byTag.get(image.tag);
    if (digest === undefined) continue;
    const key = `${digest}\0${image.usedBy.provider}\0${image.usedBy.where}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const references = inUse.get(digest) ?? [];
    references.push({ provider: image.usedBy.provider, where: image.usedBy.where });
    inUse.set(digest, references);
  }
  const blockedBy = snapshot.failures.filter((failure) =>
    covers(failure.repositories, failure.exclude, repository.repositoryName),
  );
  return { inUse, blockedBy };
}
