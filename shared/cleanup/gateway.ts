import type { ImageRecord } from '../domain/image.ts';
import type { DeleteOutcome, ItemFailure, ManifestRecord } from '../ecr/index.ts';

/** Which registry a cleanup runs on: the account's private ECR registry in the region, or its ECR Public one. */
export type RegistryKind = 'private' | 'public';

/**
 * What the cleanup needs of a registry: the subset of the gateway both `EcrGateway` (ECR) and `EcrPublicGateway`
 * (ECR Public) satisfy, so that one gather, one plan and one act serve both.
 */
export interface CleanupGateway {
  readonly readOnly: boolean;
  callCounts(): Record<string, number>;
  /** One repository (DescribeRepositories by name): its URI says where it is, for the in-use protection. */
  getRepository(repositoryName: string): Promise<{ registryId: string; uri: string }>;
  /**
   * Every image of the repository; with `imageStatus: 'ANY'`, archived ones too (ECR lists only ACTIVE images by
   * default; ECR Public has no archive and ignores it).
   */
  listImages(repositoryName: string, options?: { imageStatus?: 'ANY' }): AsyncIterable<ImageRecord[]>;
  describeImages(
    repositoryName: string,
    digests: readonly string[],
  ): Promise<{ images: ImageRecord[]; missing: string[] }>;
  getManifests(
    repositoryName: string,
    digests: readonly string[],
  ): Promise<{ manifests: ManifestRecord[]; failures: ItemFailure[] }>;
  deleteImages(repositoryName: string, digests: readonly string[]): Promise<DeleteOutcome>;
  /** Moves one image to ECR's archive (or back); absent on ECR Public, which has no archive. */
  updateImageStorageClass?(
    repositoryName: string,
    image: { digest: string },
    target: 'ARCHIVE' | 'STANDARD',
  ): Promise<{ digest: string; status: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING' }>;
  /**
   * False when the registry's image listing names no referrer's subject (ECR Public's DescribeImages), so that the
   * cleanup reads the manifests of the images that may be referrers; absent or true when it does (ECR's).
   */
  readonly describesSubjects?: boolean;
}

/**
 * The cleanup lists every image, archived ones included: an archived index still owns its children and an archived
 * subject its referrers, and a listing of ACTIVE images only would make them look orphaned.
 */
export const EVERY_STATUS = { imageStatus: 'ANY' } as const;

/** The gateway of a registry: ECR's, or ECR Public's (whose API is in us-east-1 whatever the function's region). */
export const cleanupGatewayFor = (
  deps: {
    gateway(options: { readOnly: boolean }): CleanupGateway;
    publicGateway(options: { readOnly: boolean }): CleanupGateway;
  },
  registry: RegistryKind,
  options: { readOnly: boolean },
): CleanupGateway => (registry === 'public' ? deps.publicGateway(options) : deps.gateway(options));

/** `registry: 'public'` for the records of a public repository; nothing for the private registry's. */
export const registryField = (registry: RegistryKind): { registry?: 'public' } =>
  registry === 'public' ? { registry: 'public' } : {};
