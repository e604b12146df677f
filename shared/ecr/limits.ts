/**
 * ECR API caps the gateway batches and pages to, and the gateway's own retry settings. Each cap names its source:
 * [M-ECR] is the ECR API and its service model (botocore `service-2.json`), summarised in
 * docs/ecr-limits.md#api-shapes-and-limits.
 */

/**
 * `ImageIdentifierList` min 1, max 100 [M-ECR]: the cap on ids per BatchDeleteImage, BatchGetImage and
 * DescribeImages-by-id call (all three take that list shape).
 */
export const MAX_IMAGE_IDS_PER_BATCH = 100;

/** `MaxResults` 1–1000 [M-ECR]; the default when omitted is only 100, so always ask for the largest page. */
export const DESCRIBE_IMAGES_PAGE_SIZE = 1000;

/** `MaxResults` 1–1000 [M-ECR] for DescribeRepositories. */
export const DESCRIBE_REPOSITORIES_PAGE_SIZE = 1000;

/** `MaxResults` 1–1000 [M-ECR] for DescribeImageScanFindings. */
export const DESCRIBE_SCAN_FINDINGS_PAGE_SIZE = 1000;

/** `FiftyMaxResults` 1–50 [M-ECR] for ListImageReferrers (default 20). */
export const LIST_REFERRERS_PAGE_SIZE = 50;

/** `ScanningConfigurationRepositoryNameList` 1–25 [M-ECR] for BatchGetRepositoryScanningConfiguration. */
export const MAX_REPOSITORIES_PER_SCANNING_CONFIGURATION_BATCH = 25;

/** `ImageTagMutabilityExclusionFilters` 1–5 items [M-ECR] for PutImageTagMutability. */
export const MAX_TAG_MUTABILITY_EXCLUSION_FILTERS = 5;

/**
 * Attempts per request the SDK makes (first try + retries) for throttling, 5xx and transient network errors.
 * The SDK default is 3; ECR publishes no TPS for DescribeImages or BatchDeleteImage
 * (docs/ecr-limits.md#service-quotas), and a cleanup sweep is a burst of calls in one region, so allow more room.
 * Adaptive mode also slows the client down (client-side rate limiting) once it sees throttling, so extra attempts do
 * not mean a retry storm.
 */
export const ECR_CLIENT_MAX_ATTEMPTS = 8;

/** Default rounds of re-tries for retryable per-id failures (`UpstreamTooManyRequests`, `KmsError`, ...). */
export const DEFAULT_MAX_ITEM_RETRIES = 3;

/** Default base delay before the first per-id re-try round; doubled every round, with jitter. */
export const DEFAULT_ITEM_RETRY_DELAY_MS = 200;

/** ListPullTimeUpdateExclusions: maxResults 1–1000 ([M-ECR] MaxResults). */
export const LIST_PULL_TIME_EXCLUSIONS_PAGE_SIZE = 1000;
