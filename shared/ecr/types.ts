/**
 * The gateway's result types, in domain words. Times are epoch milliseconds, as in `shared/domain/image.ts`.
 * None of these types mention the AWS SDK: callers of the gateway never see an SDK shape.
 */

/** The ECR operations the gateway calls; they appear in `callCounts()` and in `EcrGatewayError.operation`. */
export type EcrOperation =
  | 'DescribeRepositories'
  | 'DescribeImages'
  | 'BatchGetImage'
  | 'BatchDeleteImage'
  | 'GetRegistryScanningConfiguration'
  | 'BatchGetRepositoryScanningConfiguration'
  | 'StartImageScan'
  | 'DescribeImageScanFindings'
  | 'PutImageTagMutability'
  | 'ListImageReferrers'
  | 'ListPullTimeUpdateExclusions'
  | 'RegisterPullTimeUpdateExclusion'
  | 'PutImage'
  | 'UpdateImageStorageClass'
  // Registry settings and repository compliance (shared/ecr/registry-settings.ts).
  | 'DescribeRegistry'
  | 'PutReplicationConfiguration'
  | 'DescribePullThroughCacheRules'
  | 'CreatePullThroughCacheRule'
  | 'UpdatePullThroughCacheRule'
  | 'DeletePullThroughCacheRule'
  | 'DescribeRepositoryCreationTemplates'
  | 'CreateRepositoryCreationTemplate'
  | 'UpdateRepositoryCreationTemplate'
  | 'DeleteRepositoryCreationTemplate'
  | 'PutRegistryScanningConfiguration'
  | 'GetRegistryPolicy'
  | 'PutRegistryPolicy'
  | 'DeleteRegistryPolicy'
  | 'GetLifecyclePolicy'
  | 'PutLifecyclePolicy'
  | 'DeleteLifecyclePolicy'
  | 'GetRepositoryPolicy'
  | 'ListTagsForResource'
  | 'TagResource'
  | 'PutImageScanningConfiguration';

/** The operations that change the registry: refused by a read-only (dry-run) gateway. */
export const MUTATING_OPERATIONS: ReadonlySet<EcrOperation> = new Set([
  'BatchDeleteImage',
  'UpdateImageStorageClass',
  'StartImageScan',
  'PutImageTagMutability',
  'RegisterPullTimeUpdateExclusion',
  'PutImage',
  'PutReplicationConfiguration',
  'CreatePullThroughCacheRule',
  'UpdatePullThroughCacheRule',
  'DeletePullThroughCacheRule',
  'CreateRepositoryCreationTemplate',
  'UpdateRepositoryCreationTemplate',
  'DeleteRepositoryCreationTemplate',
  'PutRegistryScanningConfiguration',
  'PutRegistryPolicy',
  'DeleteRegistryPolicy',
  'PutLifecyclePolicy',
  'DeleteLifecyclePolicy',
  'TagResource',
  'PutImageScanningConfiguration',
]);

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

export interface TagMutabilityExclusionFilter {
  /** A tag pattern, `*` matching any run of characters, e.g. `latest` or `dev-*`. */
  filter: string;
  /** Always `WILDCARD` today (the only `ImageTagMutabilityExclusionFilterType`). */
  filterType: string;
}

export interface RepositorySummary {
  name: string;
  arn: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>` */
  uri: string;
  registryId: string;
  createdAt: number;
  /** `MUTABLE`, `IMMUTABLE`, `IMMUTABLE_WITH_EXCLUSION` or `MUTABLE_WITH_EXCLUSION`. */
  imageTagMutability: string;
  imageTagMutabilityExclusionFilters: TagMutabilityExclusionFilter[];
  /** The repository-level scan-on-push flag (the registry-level scanning configuration may override it). */
  scanOnPush: boolean;
  /** `AES256`, `KMS` or `KMS_DSSE`. */
  encryptionType: string;
  kmsKey?: string;
}

/** A manifest exactly as stored: `manifest` is the byte-exact text whose sha256 is `digest`. */
export interface ManifestRecord {
  digest: string;
  mediaType: string;
  manifest: string;
}

/**
 * ECR's per-id failure codes (`ImageFailureCode`), plus `NotInResponse`: the gateway's own code for an id that a
 * batch response neither listed as done nor as failed (it is re-tried, then reported, never assumed done).
 */
export type ItemFailureCode =
  | 'InvalidImageDigest'
  | 'InvalidImageTag'
  | 'ImageTagDoesNotMatchDigest'
  | 'ImageNotFound'
  | 'MissingDigestAndTag'
  | 'ImageReferencedByManifestList'
  | 'KmsError'
  | 'UpstreamAccessDenied'
  | 'UpstreamTooManyRequests'
  | 'UpstreamUnavailable'
  | 'ImageInaccessible'
  | 'NotInResponse';

/** One id of a batch call that ECR did not process; a value, never an exception. */
export interface ItemFailure {
  digest?: string;
  tag?: string;
  /** An `ItemFailureCode`; typed as string because ECR may add codes. */
  code: string;
  reason: string;
  /** True for codes the gateway re-tries (and a caller may try again later). */
  retryable: boolean;
}

export interface DeleteOutcome {
  /** Digests ECR deleted, in the order given. */
  deleted: string[];
  /** Digests ECR answered `ImageNotFound` for: someone else deleted them first, which counts as done. */
  alreadyGone: string[];
  /** Everything else, after the bounded re-tries of the retryable codes. */
  failed: ItemFailure[];
}

export interface UntagOutcome {
  /** Tags ECR removed (the image itself goes only when that was its last tag). */
  untagged: string[];
  /** Tags ECR answered `ImageNotFound` for: the tag no longer exists, which counts as done. */
  alreadyGone: string[];
  failed: ItemFailure[];
}

export interface ScanningFilter {
  filter: string;
  filterType: string;
}

export interface RegistryScanningSettings {
  registryId: string;
  /** `BASIC` or `ENHANCED`; `BASIC` when never configured. */
  scanType: string;
  rules: { scanFrequency: string; repositoryFilters: ScanningFilter[] }[];
}

export interface RepositoryScanningSettings {
  repositoryName: string;
  repositoryArn: string;
  scanOnPush: boolean;
  /** `SCAN_ON_PUSH`, `CONTINUOUS_SCAN` or `MANUAL`. */
  scanFrequency: string;
  appliedScanFilters: ScanningFilter[];
}

export interface RepositoryScanningFailure {
  repositoryName: string;
  /** `REPOSITORY_NOT_FOUND` is the only `ScanningConfigurationFailureCode` today. */
  code: string;
  reason: string;
}

/**
 * What `startImageScan` did. A scan that ECR declines for a reason about this one image is a value, not an
 * exception, because a caller scanning many images wants to note it and carry on:
 * - `scan-quota-exceeded`: `LimitExceededException`. Basic scanning allows one scan per image per 24 h (scan on
 *   push counts) and 100,000 per account per day; ECR answers both with the same exception, and in practice it is
 *   nearly always the first (the image was already scanned today).
 * - `unsupported-image-type`: `UnsupportedImageTypeException` (an index, a signature, an unsupported OS).
 * - `image-archived`: `ImageArchivedException` (restore the image first).
 */
export type ScanStartOutcome =
  | { started: true; status: string }
  | { started: false; reason: 'scan-quota-exceeded' | 'unsupported-image-type' | 'image-archived'; message: string };

export interface BasicScanFinding {
  name: string;
  description?: string;
  uri?: string;
  /** `INFORMATIONAL`, `LOW`, `MEDIUM`, `HIGH`, `CRITICAL` or `UNDEFINED`. */
  severity: string;
  attributes: Record<string, string>;
}

export interface VulnerablePackage {
  name: string;
  version?: string;
  fixedInVersion?: string;
}

/** An Inspector (enhanced scanning) finding, reduced to what reports use. */
export interface EnhancedScanFinding {
  findingArn: string;
  /** Inspector severities: `INFORMATIONAL`, `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`, `UNTRIAGED`. */
  severity: string;
  /** `ACTIVE`, `SUPPRESSED` or `CLOSED`. */
  status?: string;
  title?: string;
  description?: string;
  score?: number;
  vulnerabilityId?: string;
  packages: VulnerablePackage[];
  fixAvailable?: string;
  exploitAvailable?: string;
  firstObservedAt?: number;
  lastObservedAt?: number;
  updatedAt?: number;
}

/** One page of DescribeImageScanFindings: the scan status repeats on every page, findings do not. */
export interface ScanFindingsPage {
  /** `IN_PROGRESS`, `COMPLETE`, `FAILED`, `UNSUPPORTED_IMAGE`, `ACTIVE`, ... (`ScanStatus`). */
  status: string;
  statusDescription?: string;
  completedAt?: number;
  vulnerabilitySourceUpdatedAt?: number;
  /** Severity → count; severities with no findings are absent (ECR omits zero counts). */
  severityCounts: Record<string, number>;
  findings: BasicScanFinding[];
  enhancedFindings: EnhancedScanFinding[];
}

/** An OCI 1.1 referrer (signature, attestation, SBOM) of a subject image. */
export interface ReferrerRecord {
  digest: string;
  mediaType: string;
  artifactType?: string;
  sizeInBytes: number;
  annotations: Record<string, string>;
  /** `ACTIVE`, `ARCHIVED` or `ACTIVATING`. */
  status?: string;
}

/**
 * What `tagImage` did: `tagged` (PutImage added the tag), or `already-tagged` (the image already carries it:
 * `ImageAlreadyExistsException`, a re-delivered event). A tag held by another image in an immutable repository is an
 * `EcrGatewayError` with code `ImageTagAlreadyExistsException`.
 */
export type TagImageOutcome = { result: 'tagged' | 'already-tagged'; tag: string; digest: string };

export interface TagMutabilitySettings {
  repositoryName: string;
  imageTagMutability: string;
  imageTagMutabilityExclusionFilters: TagMutabilityExclusionFilter[];
}
