import { authorizationOperations } from './authorization.ts';
import { blobLinkReplays } from './blob-links.ts';
import type { OperationTable } from './context.ts';
import { distributionReplays } from './distribution.ts';
import { imageListingOperations } from './image-listing.ts';
import { imagePullDeleteOperations } from './image-pull-delete.ts';
import { imagePushOperations } from './image-push.ts';
import { layerOperations } from './layers.ts';
import { lifecyclePreviewOperations } from './lifecycle-preview.ts';
import { pullTimeExclusionOperations } from './pull-time-exclusions.ts';
import { registrySettingsOperations } from './registry-settings.ts';
import { repositoryOperations } from './repositories.ts';
import { repositoryPolicyOperations } from './repository-policies.ts';
import { scanningOperations } from './scanning.ts';
import { storageClassOperations } from './storage-class.ts';

/** Every ECR operation the local registry serves, keyed by the name after the `X-Amz-Target` prefix. */
export const ecrOperations: OperationTable = {
  ...repositoryOperations,
  ...repositoryPolicyOperations,
  ...lifecyclePreviewOperations,
  ...imagePushOperations,
  ...layerOperations,
  ...imageListingOperations,
  ...imagePullDeleteOperations,
  ...scanningOperations,
  ...storageClassOperations,
  ...registrySettingsOperations,
  ...pullTimeExclusionOperations,
  ...authorizationOperations,
};

/**
 * Changes recorded with `OpContext.journal` that no ECR operation's input can replay (a completed layer upload, a
 * push or pull over `/v2/`), keyed by the name given to `journal`: replaying the journal of a data directory runs
 * them with the recorded input.
 */
export const replayOperations: OperationTable = {
  ...blobLinkReplays,
  ...distributionReplays,
};

/**
 * How a data directory's journal keeps what each ECR operation does, in one place (a test fails for an operation
 * missing here):
 * - `change`: it may change the state; a call that succeeds is journalled with its input, account, region, access
 *   key and registry time, and replayed by name. Changes it records itself with `OpContext.journal` are not kept:
 *   its replay makes them again.
 * - `read`: it changes nothing (GetAuthorizationToken included: its tokens are signed with the data directory's
 *   key, not kept); not journalled. A read that changes something is a `change` (BatchGetImage records pull times).
 * - `records`: its changes cannot be replayed from its input (the bytes of a layer upload), so it journals them
 *   itself with `OpContext.journal`, and is not journalled by name.
 */
export type OperationJournalling = 'change' | 'read' | 'records';

export const ecrOperationJournalling: Readonly<Record<string, OperationJournalling>> = {
  CreateRepository: 'change',
  DescribeRepositories: 'read',
  DeleteRepository: 'change',
  PutImageTagMutability: 'change',
  PutImageScanningConfiguration: 'change',
  TagResource: 'change',
  UntagResource: 'change',
  ListTagsForResource: 'read',
  GetRepositoryPolicy: 'read',
  SetRepositoryPolicy: 'change',
  DeleteRepositoryPolicy: 'change',
  GetLifecyclePolicy: 'read',
  PutLifecyclePolicy: 'change',
  DeleteLifecyclePolicy: 'change',
  // A preview keeps its evaluation, and completes with a `later` task: replayed by name, so that its task is too.
  StartLifecyclePolicyPreview: 'change',
  GetLifecyclePolicyPreview: 'read',
  PutImage: 'change',
  DescribeImages: 'read',
  ListImages: 'read',
  ListImageReferrers: 'read',
  BatchGetImage: 'change',
  BatchDeleteImage: 'change',
  GetRegistryScanningConfiguration: 'read',
  PutRegistryScanningConfiguration: 'change',
  BatchGetRepositoryScanningConfiguration: 'read',
  StartImageScan: 'change',
  UpdateImageStorageClass: 'change',
  DescribeImageScanFindings: 'read',
  DescribeRegistry: 'read',
  PutReplicationConfiguration: 'change',
  DescribeImageReplicationStatus: 'read',
  CreatePullThroughCacheRule: 'change',
  DescribePullThroughCacheRules: 'read',
  UpdatePullThroughCacheRule: 'change',
  DeletePullThroughCacheRule: 'change',
  ValidatePullThroughCacheRule: 'read',
  CreateRepositoryCreationTemplate: 'change',
  DescribeRepositoryCreationTemplates: 'read',
  UpdateRepositoryCreationTemplate: 'change',
  DeleteRepositoryCreationTemplate: 'change',
  GetRegistryPolicy: 'read',
  PutRegistryPolicy: 'change',
  DeleteRegistryPolicy: 'change',
  RegisterPullTimeUpdateExclusion: 'change',
  DeregisterPullTimeUpdateExclusion: 'change',
  ListPullTimeUpdateExclusions: 'read',
  GetAuthorizationToken: 'read',
  // Uploads in progress are not kept; CompleteLayerUpload records the blob it links (LinkBlob).
  InitiateLayerUpload: 'records',
  UploadLayerPart: 'records',
  CompleteLayerUpload: 'records',
  BatchCheckLayerAvailability: 'read',
  GetDownloadUrlForLayer: 'read',
};
