import type { InUseFailure, InUseImage, InUseReference, InUseSnapshot } from '../domain/in-use.ts';
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
 * A snapshot grouped by repository, built once for a run of many repositories (`indexInUseSnapshot`): the mapping of
 * each repository then reads its own references only, instead of the whole snapshot.
 */
export interface InUseIndex {
  /** The references of each repository, by `repositoryKey`, in snapshot order. */
  readonly byRepository: ReadonlyMap<string, readonly InUseImage[]>;
  readonly failures: readonly InUseFailure[];
}

/** Where a reference or a repository is: ECR Public repositories have no region. */
const repositoryKey = (
  registry: 'private' | 'public' | undefined,
  registryId: string,
  region: string,
  repositoryName: string,
): string =>
  registry === 'public'
    ? `public\0${registryId}\0${repositoryName}`
    : `private\0${registryId}\0${region}\0${repositoryName}`;

/** Groups a snapshot's references by repository: linear in the references, once per run. */
export function indexInUseSnapshot(snapshot: InUseSnapshot): InUseIndex {
  const byRepository = new Map<string, InUseImage[]>();
  for (const image of snapshot.images) {
    const key = repositoryKey(image.registry, image.registryId, image.region, image.repositoryName);
    const list = byRepository.get(key);
    if (list === undefined) byRepository.set(key, [image]);
    else list.push(image);
  }
  return { byRepository, failures: snapshot.failures };
}

const isGrouped = (source: InUseSnapshot | InUseIndex): source is InUseIndex => 'byRepository' in source;

/**
 * The part of a snapshot that is about one repository: each image in use there, by digest (a reference by tag is
 * resolved through the repository's current tags; a tag the repository no longer has protects nothing), and the
 * failed providers covering it. Takes the snapshot, or its index (`indexInUseSnapshot`) when many repositories are
 * mapped: then only the repository's own references are read, and its images only when it has any. Pure: no AWS,
 * no clock.
 */
export function inUseForRepository(source: InUseSnapshot | InUseIndex, repository: InUseRepository): RepositoryInUse {
  const key = repositoryKey(repository.registry, repository.registryId, repository.region, repository.repositoryName);
  const references = isGrouped(source)
    ? (source.byRepository.get(key) ?? [])
    : source.images.filter(
        (image) => repositoryKey(image.registry, image.registryId, image.region, image.repositoryName) === key,
      );
  const blockedBy = source.failures.filter((failure) =>
    covers(failure.repositories, failure.exclude, repository.repositoryName),
  );
  const inUse = new Map<string, InUseReference[]>();
  if (references.length === 0) return { inUse, blockedBy };

  // One pass over the repository's images, looking up only the digests and tags its references name.
  const named = new Set<string>();
  const namedTags = new Set<string>();
  for (const image of references) {
    if (image.digest !== undefined) named.add(image.digest);
    if (image.tag !== undefined) namedTags.add(image.tag);
  }
  const present = new Set<string>();
  const byTag = new Map<string, string>();
  for (const image of repository.images) {
    if (named.has(image.digest)) present.add(image.digest);
    if (namedTags.size > 0) for (const tag of image.tags) if (namedTags.has(tag)) byTag.set(tag, image.digest);
  }

  const seen = new Set<string>();
  for (const image of references) {
    const digest =
      image.digest !== undefined && present.has(image.digest)
        ? image.digest
        : image.tag === undefined
          ? undefined
          : byTag.get(image.tag);
    if (digest === undefined) continue;
    const place = `${digest}\0${image.usedBy.provider}\0${image.usedBy.where}`;
    if (seen.has(place)) continue;
    seen.add(place);
    const list = inUse.get(digest);
    const reference = { provider: image.usedBy.provider, where: image.usedBy.where };
    if (list === undefined) inUse.set(digest, [reference]);
    else list.push(reference);
  }
  return { inUse, blockedBy };
}
