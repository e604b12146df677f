import type { OperationTable } from './context.ts';
import { imageOperations } from './images.ts';
import { pullTimeExclusionOperations } from './pull-time-exclusions.ts';
import { registrySettingsOperations } from './registry-settings.ts';
import { repositoryOperations } from './repositories.ts';
import { repositoryPolicyOperations } from './repository-policies.ts';
import { scanningOperations } from './scanning.ts';

/** Every ECR operation the local registry serves, keyed by the name after the `X-Amz-Target` prefix. */
export const ecrOperations: OperationTable = {
  ...repositoryOperations,
  ...repositoryPolicyOperations,
  ...imageOperations,
  ...scanningOperations,
  ...registrySettingsOperations,
  ...pullTimeExclusionOperations,
};
