import type {
  EnhancedImageScanFinding,
  GetRegistryScanningConfigurationResponse,
  Image,
  ImageDetail,
  ImageFailure,
  ImageIdentifier,
  ImageReferrer,
  ImageScanFinding,
  ImageScanFindings,
  ImageScanStatus,
  ImageTagMutabilityExclusionFilter,
  PutImageTagMutabilityResponse,
  Repository,
  RepositoryScanningConfiguration,
  RepositoryScanningConfigurationFailure,
} from '@aws-sdk/client-ecr';
import type { ImageRecord } from '../domain/image.ts';
import type {
  BasicScanFinding,
  EnhancedScanFinding,
  ItemFailure,
  ManifestRecord,
  ReferrerRecord,
  RegistryScanningSettings,
  RepositoryScanningFailure,
  RepositoryScanningSettings,
  RepositorySummary,
  ScanFindingsPage,
  TagMutabilityExclusionFilter,
  TagMutabilitySettings,
} from './types.ts';

/**
 * SDK shapes ↔ domain types. Every SDK member is optional in the generated types; the members ECR always sends
 * (a repository's name, an image's digest) are checked, and a response without them is a broken invariant, which
 * the gateway reports as an `EcrGatewayError` for the operation.
 */

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST_V1 = 'application/vnd.docker.distribution.manifest.v1+json';
const DOCKER_MANIFEST_V1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

/**
 * BatchGetImage `acceptedMediaTypes`: every manifest and index type. ECR's documented list omits the index types
 * (docs/ecr-limits.md#reading-and-deleting-images), and without them a multi-arch index could come back converted or
 * as a failure.
 */
export const ACCEPTED_MANIFEST_MEDIA_TYPES: readonly string[] = [
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST_V2,
  DOCKER_MANIFEST_LIST,
  DOCKER_MANIFEST_V1,
  DOCKER_MANIFEST_V1_SIGNED,
];

/**
 * Per-id failure codes worth re-trying in the same run: upstream throttling or outage (pull-through cache), KMS
 * hiccups, and `ImageReferencedByManifestList`, which clears once the index that references the image is deleted
 * (by this batch, a later batch, or another deleter running at the same time). `NotInResponse` is re-tried so that
 * an id ECR said nothing about is asked about again rather than assumed done.
 */
export const RETRYABLE_FAILURE_CODES: ReadonlySet<string> = new Set([
  'UpstreamTooManyRequests',
  'UpstreamUnavailable',
  'KmsError',
  'ImageReferencedByManifestList',
  'NotInResponse',
]);

/** ECR's answer for an id that does not exist; on delete it means "already done". */
export const IMAGE_NOT_FOUND = 'ImageNotFound';

export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`invariant: ECR returned ${what}`);
  return value;
}

const epochMs = (date: Date | undefined): number | undefined => (date === undefined ? undefined : date.getTime());

export const byDigest = (digest: string): ImageIdentifier => ({ imageDigest: digest });
export const byTag = (tag: string): ImageIdentifier => ({ imageTag: tag });

export function toRepositorySummary(repository: Repository): RepositorySummary {
  const name = required(repository.repositoryName, 'a repository without repositoryName');
  const kmsKey = repository.encryptionConfiguration?.kmsKey;
  return {
    name,
    arn: repository.repositoryArn ?? '',
    uri: repository.repositoryUri ?? '',
    registryId: repository.registryId ?? '',
    createdAt: epochMs(repository.createdAt) ?? 0,
    imageTagMutability: repository.imageTagMutability ?? 'MUTABLE',
    imageTagMutabilityExclusionFilters: toExclusionFilters(repository.imageTagMutabilityExclusionFilters),
    scanOnPush: repository.imageScanningConfiguration?.scanOnPush ?? false,
    encryptionType: repository.encryptionConfiguration?.encryptionType ?? 'AES256',
    ...(kmsKey ? { kmsKey } : {}),
  };
}

const toExclusionFilters = (filters: ImageTagMutabilityExclusionFilter[] | undefined): TagMutabilityExclusionFilter[] =>
  (filters ?? []).map((f) => ({ filter: f.filter ?? '', filterType: f.filterType ?? 'WILDCARD' }));

/** Tag patterns to PutImageTagMutability filters (`WILDCARD` is the only filter type). */
export const toSdkExclusionFilters = (patterns: readonly string[]): ImageTagMutabilityExclusionFilter[] =>
  patterns.map((filter) => ({ filter, filterType: 'WILDCARD' }));

export function toTagMutabilitySettings(
  repositoryName: string,
  response: PutImageTagMutabilityResponse,
): TagMutabilitySettings {
  return {
    repositoryName: response.repositoryName ?? repositoryName,
    imageTagMutability: required(response.imageTagMutability, 'no imageTagMutability'),
    imageTagMutabilityExclusionFilters: toExclusionFilters(response.imageTagMutabilityExclusionFilters),
  };
}

/** The tags of every untagged image: one frozen list, not an empty array per image (most images have no tag). */
const NO_TAGS: readonly string[] = Object.freeze([]);

/**
 * A DescribeImages `ImageDetail` to the domain record; `childDigests` stays undefined (it needs the manifest).
 *
 * A listing maps every image of a repository, and the records live as long as the worker's plan. Each is one object
 * literal with the members nearly every image has (a pull time or not, a media type or not), in one order: records
 * of the same members share one shape, and those members sit in the object itself, where members added to a literal
 * afterwards would take a second allocation. The rarer members are added after.
 */
export function toImageRecord(detail: ImageDetail): ImageRecord {
  const digest = required(detail.imageDigest, 'an image without imageDigest');
  const tags = detail.imageTags ?? NO_TAGS;
  const pushedAt = detail.imagePushedAt === undefined ? 0 : detail.imagePushedAt.getTime();
  const pulled = detail.lastRecordedPullTime;
  const sizeInBytes = detail.imageSizeInBytes ?? 0;
  const manifestMediaType = detail.imageManifestMediaType;
  const artifactMediaType = detail.artifactMediaType;
  // The usual shapes are whole literals: a member added later lives outside the object, in a block of its own.
  let record: Mutable<ImageRecord>;
  if (manifestMediaType && artifactMediaType) {
    record =
      pulled === undefined
        ? { digest, tags, pushedAt, sizeInBytes, manifestMediaType, artifactMediaType }
        : { digest, tags, pushedAt, lastPulledAt: pulled.getTime(), sizeInBytes, manifestMediaType, artifactMediaType };
  } else if (manifestMediaType) {
    record =
      pulled === undefined
        ? { digest, tags, pushedAt, sizeInBytes, manifestMediaType }
        : { digest, tags, pushedAt, lastPulledAt: pulled.getTime(), sizeInBytes, manifestMediaType };
  } else {
    record =
      pulled === undefined
        ? { digest, tags, pushedAt, sizeInBytes }
        : { digest, tags, pushedAt, lastPulledAt: pulled.getTime(), sizeInBytes };
    if (artifactMediaType) record.artifactMediaType = artifactMediaType;
  }
  if (detail.subjectManifestDigest) record.subjectDigest = detail.subjectManifestDigest;
  if (detail.imageScanStatus?.status) record.scanStatus = detail.imageScanStatus.status;
  const status = detail.imageStatus;
  if (status === 'ARCHIVED' || status === 'ACTIVATING') {
    record.imageStatus = status;
    if (detail.lastArchivedAt !== undefined) record.lastArchivedAt = detail.lastArchivedAt.getTime();
  } else if (detail.lastActivatedAt !== undefined) record.lastActivatedAt = detail.lastActivatedAt.getTime();
  return record;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The media type of a stored manifest: ECR's `imageManifestMediaType`, else the manifest's own `mediaType`
 * (optional in OCI), else inferred from its shape: `manifests` → OCI index, `schemaVersion: 1` → Docker v1,
 * anything else → OCI image manifest.
 */
export function manifestMediaTypeOf(manifest: string, reported: string | undefined): string {
  if (reported) return reported;
  try {
    const parsed: unknown = JSON.parse(manifest);
    if (parsed && typeof parsed === 'object') {
      const { mediaType, manifests, schemaVersion } = parsed as Record<string, unknown>;
      if (typeof mediaType === 'string' && mediaType !== '') return mediaType;
      if (Array.isArray(manifests)) return OCI_INDEX;
      if (schemaVersion === 1) return DOCKER_MANIFEST_V1;
    }
  } catch {
    // Not JSON: ECR only stores JSON manifests, so fall through to the default rather than fail the whole batch.
  }
  return OCI_MANIFEST;
}

export function toManifestRecord(image: Image): ManifestRecord {
  const manifest = required(image.imageManifest, 'an image without imageManifest');
  return {
    digest: required(image.imageId?.imageDigest, 'an image without imageId.imageDigest'),
    mediaType: manifestMediaTypeOf(manifest, image.imageManifestMediaType),
    manifest,
  };
}

export function toItemFailure(failure: ImageFailure): ItemFailure {
  const code = failure.failureCode ?? 'Unknown';
  return {
    ...(failure.imageId?.imageDigest ? { digest: failure.imageId.imageDigest } : {}),
    ...(failure.imageId?.imageTag ? { tag: failure.imageId.imageTag } : {}),
    code,
    reason: failure.failureReason ?? code,
    retryable: RETRYABLE_FAILURE_CODES.has(code),
  };
}

export function toRegistryScanningSettings(
  response: GetRegistryScanningConfigurationResponse,
): RegistryScanningSettings {
  const configuration = response.scanningConfiguration;
  return {
    registryId: response.registryId ?? '',
    scanType: configuration?.scanType ?? 'BASIC',
    rules: (configuration?.rules ?? []).map((rule) => ({
      scanFrequency: rule.scanFrequency ?? 'MANUAL',
      repositoryFilters: (rule.repositoryFilters ?? []).map((f) => ({
        filter: f.filter ?? '',
        filterType: f.filterType ?? 'WILDCARD',
      })),
    })),
  };
}

export function toRepositoryScanningSettings(
  configuration: RepositoryScanningConfiguration,
): RepositoryScanningSettings {
  return {
    repositoryName: required(configuration.repositoryName, 'a scanning configuration without repositoryName'),
    repositoryArn: configuration.repositoryArn ?? '',
    scanOnPush: configuration.scanOnPush ?? false,
    scanFrequency: configuration.scanFrequency ?? 'MANUAL',
    appliedScanFilters: (configuration.appliedScanFilters ?? []).map((f) => ({
      filter: f.filter ?? '',
      filterType: f.filterType ?? 'WILDCARD',
    })),
  };
}

export const toRepositoryScanningFailure = (
  failure: RepositoryScanningConfigurationFailure,
): RepositoryScanningFailure => ({
  repositoryName: failure.repositoryName ?? '',
  code: failure.failureCode ?? 'Unknown',
  reason: failure.failureReason ?? failure.failureCode ?? 'Unknown',
});

const toBasicFinding = (finding: ImageScanFinding): BasicScanFinding => ({
  name: finding.name ?? '',
  ...(finding.description ? { description: finding.description } : {}),
  ...(finding.uri ? { uri: finding.uri } : {}),
  severity: finding.severity ?? 'UNDEFINED',
  attributes: Object.fromEntries((finding.attributes ?? []).map((a) => [a.key ?? '', a.value ?? ''])),
});

function toEnhancedFinding(finding: EnhancedImageScanFinding): EnhancedScanFinding {
  const details = finding.packageVulnerabilityDetails;
  const optional = {
    status: finding.status,
    title: finding.title,
    description: finding.description,
    score: finding.score,
    vulnerabilityId: details?.vulnerabilityId,
    fixAvailable: finding.fixAvailable,
    exploitAvailable: finding.exploitAvailable,
    firstObservedAt: epochMs(finding.firstObservedAt),
    lastObservedAt: epochMs(finding.lastObservedAt),
    updatedAt: epochMs(finding.updatedAt),
  };
  return {
    findingArn: finding.findingArn ?? '',
    severity: finding.severity ?? 'UNTRIAGED',
    packages: (details?.vulnerablePackages ?? []).map((p) => ({
      name: p.name ?? '',
      ...(p.version ? { version: p.version } : {}),
      ...(p.fixedInVersion ? { fixedInVersion: p.fixedInVersion } : {}),
    })),
    ...withoutUndefined(optional),
  };
}

function withoutUndefined<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}

export function toScanFindingsPage(
  status: ImageScanStatus | undefined,
  findings: ImageScanFindings | undefined,
): ScanFindingsPage {
  const completedAt = epochMs(findings?.imageScanCompletedAt);
  const vulnerabilitySourceUpdatedAt = epochMs(findings?.vulnerabilitySourceUpdatedAt);
  const severityCounts: Record<string, number> = {};
  for (const [severity, count] of Object.entries(findings?.findingSeverityCounts ?? {})) {
    if (typeof count === 'number') severityCounts[severity] = count;
  }
  return {
    status: status?.status ?? 'UNKNOWN',
    ...(status?.description ? { statusDescription: status.description } : {}),
    ...(completedAt === undefined ? {} : { completedAt }),
    ...(vulnerabilitySourceUpdatedAt === undefined ? {} : { vulnerabilitySourceUpdatedAt }),
    severityCounts,
    findings: (findings?.findings ?? []).map(toBasicFinding),
    enhancedFindings: (findings?.enhancedFindings ?? []).map(toEnhancedFinding),
  };
}

export const toReferrerRecord = (referrer: ImageReferrer): ReferrerRecord => ({
  digest: required(referrer.digest, 'a referrer without digest'),
  mediaType: referrer.mediaType ?? '',
  ...(referrer.artifactType ? { artifactType: referrer.artifactType } : {}),
  sizeInBytes: referrer.size ?? 0,
  annotations: { ...(referrer.annotations ?? {}) },
  ...(referrer.artifactStatus ? { status: referrer.artifactStatus } : {}),
});
