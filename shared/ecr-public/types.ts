import type { ImageRecord } from '../domain/image.ts';
import type { DeleteOutcome, ItemFailure, ManifestRecord } from '../ecr/types.ts';

/**
 * The ECR Public gateway's words: the public registry (global, its API in us-east-1 only), its repositories, their
 * images and catalog data. Images are the service's `ImageRecord`s, as on the private side, so that one planner
 * serves both: ECR Public records no pull time, so a public image never has `lastPulledAt`.
 */

/**
 * The ECR Public operations the gateway calls, and the registry API (`/v2/`) reads it makes: they appear in
 * `callCounts()` and in `EcrGatewayError.operation`.
 */
export type EcrPublicOperation =
  | 'DescribeRegistries'
  | 'DescribeRepositories'
  | 'DescribeImages'
  | 'BatchDeleteImage'
  | 'GetAuthorizationToken'
  | 'GetRepositoryCatalogData'
  | 'PutRepositoryCatalogData'
  | 'GetRepositoryPolicy'
  /** One manifest read over the registry API (ECR Public has no BatchGetImage). */
  | 'GetManifest'
  /** One exchange of the authorization token for a repository's pull token (the registry API's `/token/`). */
  | 'GetRegistryToken';

/** The operations that change the public registry: refused by a read-only (dry-run) gateway. */
export const PUBLIC_MUTATING_OPERATIONS: ReadonlySet<EcrPublicOperation> = new Set([
  'BatchDeleteImage',
  'PutRepositoryCatalogData',
]);

/** The account's public registry (DescribeRegistries). */
export interface PublicRegistrySummary {
  registryId: string;
  /** The default alias: the first path segment of every repository's URI. */
  alias: string;
  /** `public.ecr.aws/<alias>` */
  uri: string;
}

export interface PublicRepositorySummary {
  name: string;
  arn: string;
  /** `public.ecr.aws/<alias>/<name>` */
  uri: string;
  registryId: string;
  createdAt: number;
}

/** A public repository's catalog data as ECR Public answers it (GetRepositoryCatalogData). */
export interface PublicCatalogData {
  description?: string;
  aboutText?: string;
  usageText?: string;
  architectures: string[];
  operatingSystems: string[];
  /** Present when the repository has a logo. */
  logoUrl?: string;
}

/** What PutRepositoryCatalogData sends: ECR Public replaces the whole catalog data with it. */
export interface PublicCatalogUpdate {
  description?: string;
  aboutText?: string;
  usageText?: string;
  architectures?: readonly string[];
  operatingSystems?: readonly string[];
  /** A PNG of at most 512,000 bytes. */
  logoImageBlob?: Uint8Array;
}

/**
 * The one module through which the product talks to ECR Public, with the private gateway's rules: every list paged
 * with the largest page allowed, batch calls at the cap with per-id failures as values, every exception mapped to
 * an `EcrGatewayError`, the SDK's adaptive retries, call counts, and every mutating method refused when read-only.
 * Its image methods have the private gateway's signatures, so that the cleanup takes either.
 */
export interface EcrPublicGateway {
  readonly readOnly: boolean;

  /**
   * Always false: ECR Public's DescribeImages names no referrer's subject (nor any pull time), so a referrer is known
   * only from its manifest (`getManifests`).
   */
  readonly describesSubjects: false;

  /** ECR Public calls (and `/v2/` manifest reads, as `GetManifest`) made so far, per operation, re-sends included. */
  callCounts(): Record<string, number>;

  /** The account's public registry (DescribeRegistries). */
  getRegistry(): Promise<PublicRegistrySummary>;

  /** Every public repository (DescribeRepositories, pages of 1000). */
  listRepositories(): AsyncIterable<PublicRepositorySummary>;

  /** One repository (DescribeRepositories by name). Throws `RepositoryNotFoundError`. */
  getRepository(name: string): Promise<PublicRepositorySummary>;

  /** The repository's images, one page (≤ 1000, never empty) at a time (DescribeImages); no `childDigests`. */
  listImages(repositoryName: string): AsyncIterable<ImageRecord[]>;

  /**
   * Images by digest, in batches of 100 (DescribeImages by id), in the order given; missing ones reported, as the
   * private gateway does (a batch failed with ImageNotFoundException is split in halves and asked again).
   */
  describeImages(
    repositoryName: string,
    digests: readonly string[],
  ): Promise<{ images: ImageRecord[]; missing: string[] }>;

  /**
   * Manifests by digest, byte-exact, read over the registry API (`GET /v2/<alias>/<name>/manifests/<digest>`, one
   * manifest a request, with the token of ECR Public's GetAuthorizationToken), concurrently and with the same retry
   * rules; a manifest that is gone is an `ImageNotFound` failure, bytes that do not hash to the digest a
   * `DigestMismatch` one. Throws `AccessDeniedError` when the registry refuses the token, `RepositoryNotFoundError`
   * when it does not know the repository. ECR Public records no pull, so reading is harmless.
   */
  getManifests(
    repositoryName: string,
    digests: readonly string[],
  ): Promise<{ manifests: ManifestRecord[]; failures: ItemFailure[] }>;

  /** Deletes images by digest with all their tags (BatchDeleteImage, batches of 100, in order). Refused when read-only. */
  deleteImages(repositoryName: string, digests: readonly string[]): Promise<DeleteOutcome>;

  /** The repository's catalog data (GetRepositoryCatalogData), or undefined when it has none. */
  getCatalogData(repositoryName: string): Promise<PublicCatalogData | undefined>;

  /** Replaces the repository's catalog data (PutRepositoryCatalogData). Refused when read-only. */
  putCatalogData(repositoryName: string, update: PublicCatalogUpdate): Promise<PublicCatalogData>;

  /** The repository policy text (GetRepositoryPolicy), or undefined when it has none. */
  getRepositoryPolicy(repositoryName: string): Promise<string | undefined>;
}
