import type { EcrGateway, RepositorySummary } from '../ecr/index.ts';
import type { ComplianceFinding, ComplianceFix } from '../policy/compliance/check.ts';

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
