import type { EcrGateway } from '../ecr/index.ts';
import type { RegistryDeclaration, RegistrySnapshot } from '../policy/reconcile/model.ts';

/** Reads the current state of the sections the declaration manages, and only those. */
export async function gatherRegistry(gateway: EcrGateway, declaration: RegistryDeclaration): Promise<RegistrySnapshot> {
  const snapshot: RegistrySnapshot = {};
  if (declaration.replication) snapshot.replication = await gateway.getReplicationRules();
  if (declaration.pullThroughCache) snapshot.pullThroughCacheRules = await gateway.listPullThroughCacheRules();
  if (declaration.creationTemplates) snapshot.creationTemplates = await gateway.listCreationTemplates();
  if (declaration.scanning) {
    const { scanType, rules } = await gateway.getRegistryScanningConfiguration();
    snapshot.scanning = {
      scanType,
      rules: rules.map((rule) => ({
        scanFrequency: rule.scanFrequency,
        repositoryFilters: rule.repositoryFilters.map((filter) => filter.filter),
      })),
    };
  }
  if (declaration.registryPolicy) {
    const text = await gateway.getRegistryPolicy();
    if (text !== undefined) snapshot.registryPolicyText = text;
  }
  return snapshot;
}
