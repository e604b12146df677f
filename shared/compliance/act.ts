import type { EcrGateway, RepositorySummary } from '../ecr/index.ts';
import type { EcrPublicGateway, PublicCatalogUpdate } from '../ecr-public/types.ts';
import type { ComplianceFinding, ComplianceFix } from '../policy/compliance/check.ts';
import type { PublicCatalogFix } from '../policy/compliance/public-catalog.ts';

async function applyFix(gateway: EcrGateway, repository: RepositorySummary, fix: ComplianceFix): Promise<void> {
  switch (fix.kind) {
    case 'put-tag-mutability':
      await gateway.putTagMutability(repository.name, fix.setting, fix.exclusions);
      return;
    case 'put-scan-on-push':
      return gateway.putScanOnPush(repository.name, true);
    case 'put-lifecycle-policy':
      return gateway.putLifecyclePolicy(repository.name, fix.policyText);
    case 'delete-lifecycle-policy':
      await gateway.deleteLifecyclePolicy(repository.name);
      return;
    case 'tag-resource':
      return gateway.tagResource(repository.arn, fix.tags);
  }
}

/**
 * Applies the fixes of the findings, one after the other; a fix ECR refuses is recorded with its error and the
 * others still run. The caller decides whether to act at all (enforce mode, not dry run).
 */
export async function applyFixes(
  gateway: EcrGateway,
  repository: RepositorySummary,
  findings: readonly ComplianceFinding[],
): Promise<{ fixed: ComplianceFix['kind'][]; fixFailures: { fix: ComplianceFix['kind']; error: string }[] }> {
  const fixed: ComplianceFix['kind'][] = [];
  const fixFailures: { fix: ComplianceFix['kind']; error: string }[] = [];
  for (const finding of findings) {
    if (!finding.fix) continue;
    try {
      await applyFix(gateway, repository, finding.fix);
      fixed.push(finding.fix.kind);
    } catch (error) {
      fixFailures.push({ fix: finding.fix.kind, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { fixed, fixFailures };
}

/** The judgement's catalog as PutRepositoryCatalogData takes it: the logo's base64 as its bytes. */
export function catalogUpdateOf(fix: PublicCatalogFix): PublicCatalogUpdate {
  const { logoBase64, ...rest } = fix.catalog;
  return logoBase64 === undefined
    ? rest
    : { ...rest, logoImageBlob: Uint8Array.from(Buffer.from(logoBase64, 'base64')) };
}

/**
 * Puts the judgement's whole catalog data on a public repository (one PutRepositoryCatalogData, which replaces the
 * catalog data: the fix already holds every field the repository kept). A put ECR Public refuses is recorded with its
 * error. The caller decides whether to act at all (enforce mode, not dry run).
 */
export async function applyPublicFix(
  gateway: EcrPublicGateway,
  repositoryName: string,
  fix: PublicCatalogFix,
): Promise<{ fixed: PublicCatalogFix['kind'][]; fixFailures: { fix: PublicCatalogFix['kind']; error: string }[] }> {
  try {
    await gateway.putCatalogData(repositoryName, catalogUpdateOf(fix));
    return { fixed: [fix.kind], fixFailures: [] };
  } catch (error) {
    return {
      fixed: [],
      fixFailures: [{ fix: fix.kind, error: error instanceof Error ? error.message : String(error) }],
    };
  }
}
