import { createHash } from 'node:crypto';
import { type ImageRecord, isArchived, isIndex } from '../domain/image.ts';
import { type CleanupGateway, EVERY_STATUS } from './gateway.ts';

/**
 * What the cleanup saw of one repository: every image, with each index's children read from its manifest (and, on
 * ECR Public, each referrer's subject).
 */
export interface RepositorySnapshot {
  repositoryName: string;
  images: ImageRecord[];
  /** A hash of the state the plan depends on (digests, tags, push and pull times, children); hashed when read. */
  readonly fingerprint: string;
  /**
   * The index manifests this gather read, and when: ECR records such a read as a pull (unless the caller is excluded
   * from pull-time updates), so a later re-read must not mistake it for someone else's pull.
   */
  ownReads: { digests: ReadonlySet<string>; since: number };
}

/** A manifest could not be read for a reason other than the image being gone: planning would be a guess. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/** The digests an index manifest lists; throws when the manifest is not JSON. */
export const childrenOf = (manifest: string): string[] => linksOf(manifest).children;

/**
 * What a manifest names: the manifests it lists (an index's `manifests`) and its OCI 1.1 `subject`; throws when the
 * manifest is not JSON.
 */
export function linksOf(manifest: string): { children: string[]; subject?: string } {
  const document = JSON.parse(manifest) as { manifests?: unknown; subject?: { digest?: unknown } | null } | null;
  const descriptors = Array.isArray(document?.manifests) ? (document.manifests as { digest?: unknown }[]) : [];
  const children = descriptors
    .map((descriptor) => descriptor?.digest)
    .filter((digest): digest is string => typeof digest === 'string');
  const subject = document?.subject?.digest;
  return typeof subject === 'string' && subject !== '' ? { children, subject } : { children };
}

const OCI_IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** The config media types of a plain container image: an image manifest with one of these is no artifact. */
const PLAIN_IMAGE_CONFIGS: ReadonlySet<string> = new Set([
  'application/vnd.docker.container.image.v1+json',
  'application/vnd.oci.image.config.v1+json',
]);

/**
 * Whether an image whose listing names no subject may still be an OCI referrer (a signature, attestation, SBOM):
 * an OCI image manifest (or one of unknown type) whose artifact media type is not a plain image config. Only its
 * manifest can tell, when the registry's listing does not (ECR Public's).
 */
export const mayBeReferrer = (image: ImageRecord): boolean =>
  image.subjectDigest === undefined &&
  (image.manifestMediaType === undefined || image.manifestMediaType === OCI_IMAGE_MANIFEST) &&
  !PLAIN_IMAGE_CONFIGS.has(image.artifactMediaType ?? '');

/** The manifests the cleanup must read: every index (its children), and each possible referrer when the listing names no subject. */
export function manifestsToRead(
  gateway: Pick<CleanupGateway, 'describesSubjects'>,
  images: readonly ImageRecord[],
): string[] {
  const subjectsFromManifests = gateway.describesSubjects === false;
  // One loop, not a chain of filters: it runs over every image of every repository, and few are read.
  const digests: string[] = [];
  for (const image of images) {
    // An archived manifest cannot be read (ECR answers ImageNotFound): the planner treats what it may list as kept.
    if (isArchived(image)) continue;
    if (isIndex(image) || (subjectsFromManifests && mayBeReferrer(image))) digests.push(image.digest);
  }
  return digests;
}

/**
 * Lists the repository (DescribeImages, pages of 1000) and reads only the manifests the plan needs (BatchGetImage in
 * batches of 100 on ECR; the registry API on ECR Public): every index, for its children, and, where the listing
 * names no subject (ECR Public), every image that may be a referrer, for its subject. An image deleted between the
 * listing and the read is dropped from the snapshot (it is gone); any other failure stops the run.
 * `since` is the run's start on the registry's clock (the clock ECR records the reads' pull times with).
 */
export async function gatherRepository(
  gateway: CleanupGateway,
  repositoryName: string,
  since: number,
): Promise<RepositorySnapshot> {
  const listed: ImageRecord[] = [];
  for await (const page of gateway.listImages(repositoryName, EVERY_STATUS)) listed.push(...page);
  const toRead = manifestsToRead(gateway, listed);
  const links = new Map<string, { children: string[]; subject?: string }>();
  const gone = new Set<string>();
  if (toRead.length > 0) {
    const { manifests, failures } = await gateway.getManifests(repositoryName, toRead);
    for (const manifest of manifests) {
      try {
        links.set(manifest.digest, linksOf(manifest.manifest));
      } catch {
        throw new SnapshotError(
          `Manifest ${manifest.digest} in ${repositoryName} is not valid JSON; not planning around it`,
        );
      }
    }
    for (const failure of failures) {
      if (failure.code === 'ImageNotFound' && failure.digest) gone.add(failure.digest);
      else {
        throw new SnapshotError(
          `Could not read manifest ${failure.digest ?? failure.tag} in ${repositoryName}: ${failure.code} ${failure.reason}`,
        );
      }
    }
  }
  const subjectsFromManifests = gateway.describesSubjects === false;
  // The listing's own array, without the images gone since; records completed in place.
  const images = gone.size === 0 ? listed : listed.filter((image) => !gone.has(image.digest));
  for (let i = 0; i < images.length; i++) {
    const image = images[i] as ImageRecord;
    const read = links.get(image.digest);
    const hasSubject = subjectsFromManifests && read?.subject !== undefined;
    // An archived index's children are unknown (absent), not none.
    const hasChildren = isIndex(image) && !isArchived(image);
    // Most images are neither: the listed record is the snapshot's, not a copy of it.
    if (!hasSubject && !hasChildren) continue;
    // Copied with Object.assign, not a spread: V8 gives each spread copy of a record with a boxed time a hidden
    // class of its own, and thousands of them make every property read of the planner's loops megamorphic. The
    // records come from the gateway's mapping (their own members, no `__proto__`), which assign copies as a spread does.
    images[i] = Object.assign(
      {},
      image,
      hasChildren ? { childDigests: read?.children ?? [] } : undefined,
      hasSubject ? { subjectDigest: read?.subject } : undefined,
    );
  }
  // The fingerprint is hashed when first asked for (a plan file's): the Lambda worker never needs it.
  let fingerprint: string | undefined;
  return {
    repositoryName,
    images,
    get fingerprint() {
      fingerprint ??= fingerprintOf(images);
      return fingerprint;
    },
    ownReads: { digests: new Set(toRead.filter((digest) => !gone.has(digest))), since },
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
        // Only when archived, so that the fingerprint of a repository without archived images stays as it was.
        ...(image.imageStatus === undefined ? [] : [image.imageStatus]),
      ].join(' '),
    )
    .sort();
  return `sha256:${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
}
