import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { checksPublicRepositories, complianceRuleFor, publicComplianceRuleFor } from '../config/compliance-schema.ts';
import { resolveDryRun } from '../config/dry-run.ts';
import { selectRepositories } from '../config/rules.ts';
import type { TargetsConfig } from '../config/targets-schema.ts';
import { mapAtMost } from '../domain/at-most.ts';
import { type Target, targetFields } from '../domain/target.ts';
import { sumCallCounts } from '../ecr/calls.ts';
import { type EcrGateway, EcrGatewayError, RepositoryNotFoundError, type RepositorySummary } from '../ecr/index.ts';
import type { EcrPublicGateway, PublicRepositorySummary } from '../ecr-public/types.ts';
import type { ScheduledComplianceDetail } from '../events/registry-schemas.ts';
import { DETAIL_TYPES } from '../events/schemas.ts';
import { type ComplianceFinding, checkRepository, type RegistryScanning } from '../policy/compliance/check.ts';
import type { CompliancePolicy, PublicCompliancePolicy } from '../policy/compliance/policy.ts';
import { judgePublicRepository, type PublicJudgement } from '../policy/compliance/public-catalog.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import { applyFixes, applyPublicFix } from './act.ts';
import { gatherFacts, gatherPublicFacts, gatherRegistryScanning } from './gather.ts';
import { type ComplianceReport, REPORT_LIST_LIMIT, type ReportedCheck, type RepositoryCompliance } from './report.ts';

export type ComplianceDeps = Pick<
  ServiceDeps,
  'config' | 'gateway' | 'publicGateway' | 'publish' | 'logger' | 'metrics' | 'tracer'
> &
  Partial<Pick<ServiceDeps, 'targets' | 'targetGateway'>>;

/** Targets listed at once (each in its own account and region, so no quota is shared). */
const TARGETS_AT_ONCE = 8;

/** A private registry a run checks: the deployment's own, or a target's through its role. */
interface Place {
  target?: Target;
  gateway: EcrGateway;
}

/** A repository that could not be checked: a gateway error on it, reported, while the others are still checked. */
interface FailedRepository {
  failed: ComplianceReport['failed'][number];
}
type Outcome = RepositoryCompliance | 'gone' | FailedRepository;

type TargetCompliance = NonNullable<ComplianceReport['targets']>[number];

const sameTarget = (record: { account?: string | undefined; region?: string | undefined }, target?: Target) =>
  target !== undefined && record.account === target.account && record.region === target.region;

/**
 * The private registries a run checks: the deployment's own, or, with the config's `targets`, each target account
 * and region through its role (resolved now; an unknown account or unit throws, and nothing is checked).
 */
async function placesOf(section: TargetsConfig | undefined, dryRun: boolean, deps: ComplianceDeps): Promise<Place[]> {
  if (section === undefined) return [{ gateway: deps.gateway({ readOnly: dryRun }) }];
  const { targets, targetGateway } = deps;
  if (targets === undefined || targetGateway === undefined) {
    throw new Error('the config names targets, but this runtime cannot assume roles in other accounts');
  }
  return (await targets(section)).map((target) => ({
    target,
    gateway: targetGateway(section, target, { readOnly: dryRun }),
  }));
}

async function checkOne(
  gateway: EcrGateway,
  repository: RepositorySummary,
  match: { rule: CompliancePolicy; index: number },
  scanning: RegistryScanning | undefined,
  options: { runId: string; dryRun: boolean; target?: Target | undefined },
): Promise<Outcome> {
  let findings: ComplianceFinding[];
  try {
    findings = checkRepository(await gatherFacts(gateway, repository, match.rule), match.rule, scanning);
  } catch (error) {
    if (error instanceof RepositoryNotFoundError) return 'gone';
    // In a target account, a repository the role cannot read is that repository's failure, not the run's.
    if (options.target !== undefined && error instanceof EcrGatewayError) {
      return {
        failed: {
          ...targetFields(options.target),
          registry: 'private',
          repositoryName: repository.name,
          error: error.message,
        },
      };
    }
    throw error;
  }
  const result: RepositoryCompliance = {
    runId: options.runId,
    ...targetFields(options.target),
    registry: 'private',
    repositoryName: repository.name,
    mode: match.rule.mode,
    ruleIndex: match.index,
    compliant: findings.length === 0,
    findings: findings.map(({ check, reason, detail, fix }) => ({ check, reason, detail, fixable: fix !== undefined })),
    fixed: [],
    fixFailures: [],
  };
  if (match.rule.mode !== 'enforce' || options.dryRun) return result;
  return { ...result, ...(await applyFixes(gateway, repository, findings)) };
}

/**
 * Checks one ECR Public repository: gather what its rule checks → judge (pure) → in enforce mode, unless dry run,
 * put the judgement's whole catalog data. A gateway error on it makes it a failed repository, not a failed run.
 */
async function checkPublicOne(
  gateway: EcrPublicGateway,
  repository: PublicRepositorySummary,
  match: { rule: PublicCompliancePolicy; index: number },
  options: { runId: string; dryRun: boolean },
): Promise<Outcome> {
  let judgement: PublicJudgement;
  try {
    judgement = judgePublicRepository(await gatherPublicFacts(gateway, repository, match.rule), match.rule);
  } catch (error) {
    if (error instanceof RepositoryNotFoundError) return 'gone';
    if (error instanceof EcrGatewayError) {
      return { failed: { registry: 'public', repositoryName: repository.name, error: error.message } };
    }
    throw error;
  }
  const result: RepositoryCompliance = {
    runId: options.runId,
    registry: 'public',
    repositoryName: repository.name,
    mode: match.rule.mode,
    ruleIndex: match.index,
    compliant: judgement.findings.length === 0,
    findings: judgement.findings.map(({ check, reason, detail, fixable }) => ({ check, reason, detail, fixable })),
    fixed: [],
    fixFailures: [],
  };
  if (match.rule.mode !== 'enforce' || options.dryRun || judgement.fix === undefined) return result;
  return { ...result, ...(await applyPublicFix(gateway, repository.name, judgement.fix)) };
}

const NO_FINDINGS: Record<ReportedCheck, number> = {
  'tag-mutability': 0,
  'scan-on-push': 0,
  'lifecycle-policy': 0,
  'repository-policy': 0,
  'required-tags': 0,
  encryption: 0,
  'catalog-data': 0,
};

const isChecked = (outcome: Outcome): outcome is RepositoryCompliance => outcome !== 'gone' && !('failed' in outcome);

/**
 * The scheduled compliance scan: every repository a compliance rule matches, and every ECR Public repository a
 * public rule matches, is compared with its policy (gather → check, pure → fix in enforce mode unless dry run), a
 * bounded number at a time. Publishes one "Compliance Report" per run (each entry naming its registry) and one
 * "Compliance Drift" per repository the run changed, and emits metrics.
 */
export async function runCompliance(
  trigger: { id: string; detail: ScheduledComplianceDetail },
  deps: ComplianceDeps,
): Promise<ComplianceReport> {
  const config = deps.config();
  const dryRun = resolveDryRun(config.compliance.dryRun, trigger.detail.dryRun);
  deps.tracer.putAnnotation('dryRun', dryRun);
  const places = await placesOf(config.targets, dryRun, deps);
  const targetResults: TargetCompliance[] = [];
  const listings = await mapAtMost(places, TARGETS_AT_ONCE, async (place) => {
    try {
      const { selected, listed } = await selectRepositories(
        place.gateway.listRepositories(),
        (name) => complianceRuleFor(config.compliance, name),
        trigger.detail.repositories,
      );
      // One read of the registry scanning configuration serves every repository's "covered by a rule" check.
      const scanning = selected.some(({ match }) => match.rule.scanOnPush)
        ? await gatherRegistryScanning(place.gateway)
        : undefined;
      return { place, selected, listed, scanning };
    } catch (error) {
      // A target whose role cannot be assumed, or whose registry refuses the listing, is reported; the others go on.
      if (place.target === undefined) throw error;
      targetResults.push({
        ...place.target,
        status: 'failed',
        repositories: 0,
        message: error instanceof Error ? error.message : String(error),
      });
      return { place, selected: [], listed: 0, scanning: undefined };
    }
  });
  const repositories = listings.reduce((sum, listing) => sum + listing.listed, 0);
  const matched = listings.flatMap(({ place, selected, scanning }) =>
    selected.map((selection) => ({ ...selection, place, scanning })),
  );
  // ECR Public: only when a public rule exists (its API is in us-east-1, whatever the function's region).
  const publicGateway = checksPublicRepositories(config.compliance)
    ? deps.publicGateway({ readOnly: dryRun })
    : undefined;
  const publicSelection = publicGateway
    ? await selectRepositories(
        publicGateway.listRepositories(),
        (name) => publicComplianceRuleFor(config.compliance.public, name),
        trigger.detail.repositories,
      )
    : { selected: [], listed: 0 };
  const options = { runId: trigger.id, dryRun };
  const work: (() => Promise<Outcome>)[] = [
    ...matched.map(
      ({ repository, match, place, scanning }) =>
        () =>
          checkOne(place.gateway, repository, match, scanning, { ...options, target: place.target }),
    ),
    ...(publicGateway
      ? publicSelection.selected.map(
          ({ repository, match }) =>
            () =>
              checkPublicOne(publicGateway, repository, match, options),
        )
      : []),
  ];
  const results = await mapAtMost(work, config.compliance.concurrency, (check) => check());
  const checked = results.filter(isChecked);
  const failed = results.flatMap((result) => (typeof result === 'object' && 'failed' in result ? [result.failed] : []));
  const nonCompliant = checked.filter((result) => !result.compliant);
  const changed = checked.filter((result) => result.fixed.length > 0);
  const byCheck = { ...NO_FINDINGS };
  for (const result of nonCompliant) for (const finding of result.findings) byCheck[finding.check]++;
  const publicCalls = Object.entries(publicGateway?.callCounts() ?? {}).map(([operation, count]) => [
    `public:${operation}`,
    count,
  ]);
  if (config.targets !== undefined) {
    for (const { place, listed } of listings) {
      if (place.target === undefined || targetResults.some((one) => sameTarget(one, place.target))) continue;
      const own = checked.filter((result) => sameTarget(result, place.target));
      targetResults.push({
        ...place.target,
        status: 'checked',
        repositories: listed,
        checked: own.length,
        nonCompliant: own.filter((result) => !result.compliant).length,
        changed: own.filter((result) => result.fixed.length > 0).length,
        failed: failed.filter((entry) => sameTarget(entry, place.target)).length,
      });
    }
    targetResults.sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region));
  }
  const apiCalls = sumCallCounts(places.map(({ gateway }) => gateway.callCounts()));
  const report: ComplianceReport = {
    runId: trigger.id,
    dryRun,
    counts: {
      repositories: repositories + publicSelection.listed,
      checked: checked.length,
      compliant: checked.length - nonCompliant.length,
      nonCompliant: nonCompliant.length,
      changed: changed.length,
      fixFailures: checked.reduce((sum, result) => sum + result.fixFailures.length, 0),
      gone: results.filter((result) => result === 'gone').length,
      failed: failed.length,
    },
    byCheck,
    nonCompliant: nonCompliant.slice(0, REPORT_LIST_LIMIT),
    failed: failed.slice(0, REPORT_LIST_LIMIT),
    ...(config.targets === undefined
      ? {}
      : { targets: targetResults, failedTargets: targetResults.filter((one) => one.status === 'failed').length }),
    apiCalls: { ...apiCalls, ...Object.fromEntries(publicCalls) },
    truncated: nonCompliant.length > REPORT_LIST_LIMIT || failed.length > REPORT_LIST_LIMIT,
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
  deps.metrics.addMetric('RepositoriesFailed', MetricUnit.Count, report.counts.failed);
  deps.logger.info('compliance report', {
    report: { ...report, nonCompliant: report.nonCompliant.length, failed: report.failed.length },
  });
  return report;
}
