/**
 * ECR Public API caps the gateway batches and pages to. [M-ECRPUB] is ECR Public's service model (botocore
 * `ecr-public/2020-10-30/service-2.json`).
 */

/** `ImageIdentifierList` min 1, max 100 [M-ECRPUB]: ids per BatchDeleteImage and DescribeImages-by-id call. */
export const PUBLIC_MAX_IMAGE_IDS_PER_BATCH = 100;

/** `MaxResults` 1–1000 [M-ECRPUB] for DescribeImages (the default when omitted is 100). */
export const PUBLIC_DESCRIBE_IMAGES_PAGE_SIZE = 1000;

/** `MaxResults` 1–1000 [M-ECRPUB] for DescribeRepositories (the default when omitted is 100). */
export const PUBLIC_DESCRIBE_REPOSITORIES_PAGE_SIZE = 1000;

/** Manifest reads over the registry API in flight at once, per `getManifests` call. */
export const DEFAULT_MANIFEST_READ_CONCURRENCY = 8;

/** Time limit of one registry API exchange (a manifest or a token), body included. */
export const DEFAULT_REGISTRY_TIMEOUT_MS = 30_000;

/** ECR Public's authorization token is used until this long before its `expiresAt`, then asked for again. */
export const AUTHORIZATION_TOKEN_MARGIN_MS = 5 * 60_000;

/** public.ecr.aws: the registry API of every public repository. */
export const DEFAULT_PUBLIC_REGISTRY_URL = 'https://public.ecr.aws';
