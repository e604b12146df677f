import { authorizationOperations } from './authorization.ts';
import { blobLinkReplays } from './blob-links.ts';
import type { OperationTable } from './context.ts';
import { distributionReplays } from './distribution.ts';
import { imageListingOperations } from './image-listing.ts';
import { imagePullDeleteOperations } from './image-pull-delete.ts';
import { imagePushOperations } from './image-push.ts';
import { layerOperations } from './layers.ts';
import { pullTimeExclusionOperations } from './pull-time-exclusions.ts';
import { registrySettingsOperations } from './registry-settings.ts';
import { repositoryOperations } from './repositories.ts';
import { repositoryPolicyOperations } from './repository-policies.ts';
import { scanningOperations } from './scanning.ts';

/** Every ECR operation the local registry serves, keyed by the name after the `X-Amz-Target` prefix. */
export const ecrOperations: OperationTable = {
  ...repositoryOperations,
  ...repositoryPolicyOperations,
  ...imagePushOperations,
  ...layerOperations,
  ...imageListingOperations,
  ...imagePullDeleteOperations,
  ...scanningOperations,
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
