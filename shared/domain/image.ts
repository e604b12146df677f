/**
 * What the service knows about one image in a repository: the fields DescribeImages returns, plus the children
 * an index lists (read from its manifest with BatchGetImage). Times are epoch milliseconds.
 */
export interface ImageRecord {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly pushedAt: number;
  /** Absent when the image was never pulled (or not since ECR started recording). */
  readonly lastPulledAt?: number;
  readonly sizeInBytes: number;
  readonly manifestMediaType?: string;
  readonly artifactMediaType?: string;
  /** OCI 1.1 `subject`: this image is a referrer (signature, attestation, SBOM) of that digest. */
  readonly subjectDigest?: string;
  /** Manifests an index lists; empty or absent for an image manifest. */
  readonly childDigests?: readonly string[];
  /**
   * The status of the image's last scan (`IN_PROGRESS`, `COMPLETE`, ...), when DescribeImages reports one. ECR's
   * AWS-native basic scanner leaves it out (docs/ecr-limits.md#reading-and-deleting-images), so its absence does not
   * mean "never scanned".
   */
  readonly scanStatus?: string;
  /**
   * ECR's archive storage class: `ARCHIVED` (in the archive, cannot be pulled or read) or `ACTIVATING` (being
   * restored); absent for an image in standard storage (ACTIVE), and on ECR Public, which has no archive.
   */
  readonly imageStatus?: 'ARCHIVED' | 'ACTIVATING';
  /** When the image last went to the archive (epoch ms), when ECR says. */
  readonly lastArchivedAt?: number;
  /** When the image was last restored from the archive (epoch ms), when ECR says. */
  readonly lastActivatedAt?: number;
}

/** Whether the image is in (or coming back from) ECR's archive: its manifest cannot be read, nor the image pulled. */
export const isArchived = (image: Pick<ImageRecord, 'imageStatus'>): boolean => image.imageStatus !== undefined;

/** Media types of manifests that list other manifests. */
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

export const isIndex = (image: Pick<ImageRecord, 'manifestMediaType'>): boolean =>
  image.manifestMediaType !== undefined && INDEX_MEDIA_TYPES.has(image.manifestMediaType);

/**
 * cosign's tag convention for artifacts stored beside an image rather than as OCI referrers:
 * `sha256-<hex>.sig`, `.att`, `.sbom`, and the OCI referrers fallback tag `sha256-<hex>` (an index of referrers).
 */
const CONVENTION_TAG = /^sha256-([0-9a-f]{64})(\.sig|\.att|\.sbom)?$/;

/**
 * Whether the tag is a convention tag (one `conventionTagSubject` names a subject by), without making the subject's
 * digest: the planner asks it of every tag.
 */
export function isConventionTag(tag: string): boolean {
  // Stryker disable next-line ConditionalExpression,BooleanLiteral,StringLiteral: the expression below checks the prefix too; this line only saves running it.
  return tag.startsWith('sha256-') && CONVENTION_TAG.test(tag);
}

/** The subject digest a convention tag names, or undefined for an ordinary tag. */
export function conventionTagSubject(tag: string): string | undefined {
  // Most tags are not convention tags: the prefix is checked before the expression runs (every tag of every image).
  // Stryker disable next-line ConditionalExpression,BooleanLiteral,StringLiteral: the expression below checks the prefix too; this line only saves running it.
  if (!tag.startsWith('sha256-')) return undefined;
  const match = CONVENTION_TAG.exec(tag);
  return match ? `sha256:${match[1]}` : undefined;
}
