import type { EcrGateway, RepositorySummary } from '../ecr/index.ts';
import type { EcrPublicGateway, PublicRepositorySummary } from '../ecr-public/types.ts';
import { type RegistryScanning, type RepositoryFacts, readsFor } from '../policy/compliance/check.ts';
import type { CompliancePolicy, PublicCompliancePolicy } from '../policy/compliance/policy.ts';
import { type PublicRepositoryFacts, publicReadsFor } from '../policy/compliance/public-catalog.ts';

/** Reads what the policy checks, and nothing else. */
export async function gatherFacts(
  gateway: EcrGateway,
  repository: RepositorySummary,
  policy: CompliancePolicy,
): Promise<RepositoryFacts> {
  const reads = readsFor(policy);
  const [lifecyclePolicy, repositoryPolicy, tags] = await Promise.all([
    reads.lifecyclePolicy ? gateway.getLifecyclePolicy(repository.name).then((text) => text ?? null) : undefined,
    reads.repositoryPolicy ? gateway.getRepositoryPolicy(repository.name).then((text) => text ?? null) : undefined,
    reads.tags ? gateway.listResourceTags(repository.arn) : undefined,
  ]);
  return {
    name: repository.name,
    arn: repository.arn,
    registryId: repository.registryId,
    imageTagMutability: repository.imageTagMutability,
    imageTagMutabilityExclusionFilters: repository.imageTagMutabilityExclusionFilters.map((f) => f.filter),
    scanOnPush: repository.scanOnPush,
    encryptionType: repository.encryptionType,
    ...(lifecyclePolicy === undefined ? {} : { lifecyclePolicy }),
    ...(repositoryPolicy === undefined ? {} : { repositoryPolicy }),
    ...(tags === undefined ? {} : { tags }),
  };
}

/** Reads what a public rule checks, and nothing else: the catalog data, the repository policy. */
export async function gatherPublicFacts(
  gateway: EcrPublicGateway,
  repository: PublicRepositorySummary,
  policy: PublicCompliancePolicy,
): Promise<PublicRepositoryFacts> {
  const reads = publicReadsFor(policy);
  const [catalog, repositoryPolicy] = await Promise.all([
    reads.catalog ? gateway.getCatalogData(repository.name).then((data) => data ?? null) : undefined,
    reads.repositoryPolicy ? gateway.getRepositoryPolicy(repository.name).then((text) => text ?? null) : undefined,
  ]);
  return {
    name: repository.name,
    ...(catalog === undefined ? {} : { catalog }),
    ...(repositoryPolicy === undefined ? {} : { repositoryPolicy }),
  };
}

/**
 * The registry's scanning configuration as the scan-on-push check reads it (is a repository covered by a registry
 * rule), read once for every repository of a run.
 */
export async function gatherRegistryScanning(gateway: EcrGateway): Promise<RegistryScanning> {
  const { scanType, rules } = await gateway.getRegistryScanningConfiguration();
  return {
    scanType,
    rules: rules.map((rule) => ({
      scanFrequency: rule.scanFrequency,
      repositoryFilters: rule.repositoryFilters.map((filter) => filter.filter),
    })),
  };
}
