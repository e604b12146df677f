import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { complianceRuleFor } from '../config/compliance-schema.ts';
import { resolveDryRun } from '../config/dry-run.ts';
import { selectRepositories } from '../config/rules.ts';
import { type EcrGateway, RepositoryNotFoundError, type RepositorySummary, type TagMutability } from '../ecr/index.ts';
import type { ScheduledComplianceDetail } from '../events/registry-schemas.ts';
import { DETAIL_TYPES } from '../events/schemas.ts';
import {
  type ComplianceCheck,
  type ComplianceFinding,
  type ComplianceFix,
  checkRepository,
  type RegistryScanning,
  type RepositoryFacts,
  readsFor,
} from '../policy/compliance/check.ts';
import type { CompliancePolicy } from '../policy/compliance/policy.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';

/** Lists in the report event are capped so the event stays well under EventBridge's 256 KB. */
export const REPORT_LIST_LIMIT = 200;

export type ComplianceDeps = Pick<ServiceDeps, 'config' | 'gateway' | 'publish' | 'logger' | 'metrics' | 'tracer'>;

/** One repository's result; also the detail of its "Compliance Drift" event when the run changed it. */
export interface RepositoryCompliance {
  runId: string;
  repositoryName: string;
  mode: 'report' | 'enforce';
  ruleIndex: number;
  compliant: boolean;
  findings: { check: ComplianceCheck; reason: string; detail: string; fixable: boolean }[];
  /** Fixes ECR accepted (enforce mode, not dry run). */
  fixed: ComplianceFix['kind'][];
  /** Fixes ECR refused, with the error. */
  fixFailures: { fix: ComplianceFix['kind']; error: string }[];
}

/** The "Compliance Report" event's detail: one per run. */
export interface ComplianceReport {
  runId: string;
  dryRun: boolean;
  counts: {
    repositories: number;
    checked: number;
    compliant: number;
    nonCompliant: number;
    /** Repositories the run changed (enforce mode). */
    changed: number;
    fixFailures: number;
    /** Repositories deleted while the run was reading them. */
    gone: number;
  };
  /** Failing findings per check. */
  byCheck: Record<ComplianceCheck, number>;
  nonCompliant: RepositoryCompliance[];
  apiCalls: Record<string, number>;
  truncated: boolean;
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the results in order. */
async function inPool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Reads what the policy checks, and nothing else. */
async function gatherFacts(
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

async function applyFix(gateway: EcrGateway, repository: RepositorySummary, fix: ComplianceFix): Promise<void> {
  switch (fix.kind) {
    case 'put-tag-mutability':
      await gateway.putTagMutability(repository.name, fix.setting as TagMutability, fix.exclusions);
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

async function checkOne(
  gateway: EcrGateway,
  repository: RepositorySummary,
  match: { rule: CompliancePolicy; index: number },
  scanning: RegistryScanning | undefined,
  options: { runId: string; dryRun: boolean },
): Promise<RepositoryCompliance | 'gone'> {
  let findings: ComplianceFinding[];
  try {
    findings = checkRepository(await gatherFacts(gateway, repository, match.rule), match.rule, scanning);
  } catch (error) {
    if (error instanceof RepositoryNotFoundError) return 'gone';
    throw error;
  }
  const result: RepositoryCompliance = {
    runId: options.runId,
    repositoryName: repository.name,
    mode: match.rule.mode,
    ruleIndex: match.index,
    compliant: findings.length === 0,
    findings: findings.map(({ check, reason, detail, fix }) => ({ check, reason, detail, fixable: fix !== undefined })),
    fixed: [],
    fixFailures: [],
  };
  if (match.rule.mode !== 'enforce' || options.dryRun) return result;
  for (const finding of findings) {
    if (!finding.fix) continue;
    try {
      await applyFix(gateway, repository, finding.fix);
      result.fixed.push(finding.fix.kind);
    } catch (error) {
      result.fixFailures.push({ fix: finding.fix.kind, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return result;
}

const NO_FINDINGS: Record<ComplianceCheck, number> = {
  'tag-mutability': 0,
  'scan-on-push': 0,
  'lifecycle-policy': 0,
  'repository-policy': 0,
  'required-tags': 0,
  encryption: 0,
};

/**
 * The scheduled compliance scan: every repository a compliance rule matches is compared with its policy (gather →
 * check, pure → fix in enforce mode unless dry run), a bounded number at a time. Publishes one "Compliance Report"
 * per run and one "Compliance Drift" per repository the run changed, and emits metrics.
 */
export async function runCompliance(
  trigger: { id: string; detail: ScheduledComplianceDetail },
  deps: ComplianceDeps,
): Promise<ComplianceReport> {
  const config = deps.config();
  const dryRun = resolveDryRun(config.compliance.dryRun, trigger.detail.dryRun);
  const gateway = deps.gateway({ readOnly: dryRun });
  deps.tracer.putAnnotation('dryRun', dryRun);
  const { selected: matched, listed: repositories } = await selectRepositories(
    gateway.listRepositories(),
    (name) => complianceRuleFor(config.compliance, name),
    trigger.detail.repositories,
  );
  // One read of the registry scanning configuration serves every repository's "covered by a rule" check.
  const scanning = matched.some(({ match }) => match.rule.scanOnPush)
    ? await gateway.getRegistryScanningConfiguration().then(({ scanType, rules }) => ({
        scanType,
        rules: rules.map((rule) => ({
          scanFrequency: rule.scanFrequency,
          repositoryFilters: rule.repositoryFilters.map((f) => f.filter),
        })),
      }))
    : undefined;
  const results = await inPool(matched, config.compliance.concurrency, ({ repository, match }) =>
    checkOne(gateway, repository, match, scanning, { runId: trigger.id, dryRun }),
  );
  const checked = results.filter((result): result is RepositoryCompliance => result !== 'gone');
  const nonCompliant = checked.filter((result) => !result.compliant);
  const changed = checked.filter((result) => result.fixed.length > 0);
  const byCheck = { ...NO_FINDINGS };
  for (const result of nonCompliant) for (const finding of result.findings) byCheck[finding.check]++;
  const report: ComplianceReport = {
    runId: trigger.id,
    dryRun,
    counts: {
      repositories,
      checked: checked.length,
      compliant: checked.length - nonCompliant.length,
      nonCompliant: nonCompliant.length,
      changed: changed.length,
      fixFailures: checked.reduce((sum, result) => sum + result.fixFailures.length, 0),
      gone: results.length - checked.length,
    },
    byCheck,
    nonCompliant: nonCompliant.slice(0, REPORT_LIST_LIMIT),
    apiCalls: gateway.callCounts(),
    truncated: nonCompliant.length > REPORT_LIST_LIMIT,
  };
  const published = await deps.publish([
    { detailType: DETAIL_TYPES.complianceReport, detail: report },
    ...changed.map((result) => ({ detailType: DETAIL_TYPES.complianceDrift, detail: result })),
  ]);
  report.apiCalls = { ...report.apiCalls, PutEvents: published.calls };

  deps.metrics.addMetric('RepositoriesChecked', MetricUnit.Count, report.counts.checked);
  deps.metrics.addMetric('RepositoriesNonCompliant', MetricUnit.Count, report.counts.nonCompliant);
  deps.metrics.addMetric('RepositoriesFixed', MetricUnit.Count, report.counts.changed);
  deps.metrics.addMetric('ComplianceFixFailures', MetricUnit.Count, report.counts.fixFailures);
  deps.metrics.addMetric(
    'EcrCalls',
    MetricUnit.Count,
    Object.values(report.apiCalls).reduce((sum, n) => sum + n, 0),
  );
  deps.logger.info('compliance report', { report: { ...report, nonCompliant: report.nonCompliant.length } });
  return report;
}
