import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { resolveDryRun } from '../config/dry-run.ts';
import { declarationOf } from '../config/registry-schema.ts';
import { type Target, targetFields } from '../domain/target.ts';
import { type EcrGateway, EcrGatewayError } from '../ecr/index.ts';
import type { ServiceEvent } from '../events/publisher.ts';
import type { ReconcileRegistryDetail } from '../events/registry-schemas.ts';
import { DETAIL_TYPES } from '../events/schemas.ts';
import type { RegistryDeclaration } from '../policy/reconcile/model.ts';
import { planCounts, planRegistry, type RegistryPlan } from '../policy/reconcile/plan.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import { applyPlan } from './act.ts';
import { gatherRegistry } from './gather.ts';
import { REPORT_LIST_LIMIT, type ReconcileReport, type ReconcileStatus } from './report.ts';

/** What the reconcile handler needs from the outside world; the handler wires the real ones, tests their own. */
export type ReconcileDeps = Pick<ServiceDeps, 'config' | 'gateway' | 'publish' | 'logger' | 'metrics' | 'tracer'> &
  Partial<Pick<ServiceDeps, 'targets' | 'targetGateway'>>;

/** The report of a target that could not be reconciled at all. */
function unavailableReport(
  target: Target,
  options: { runId: string; dryRun: boolean },
  gateway: EcrGateway,
  error: unknown,
): ReconcileReport {
  return {
    runId: options.runId,
    ...targetFields(target),
    dryRun: options.dryRun,
    status: 'target-unavailable',
    counts: { create: 0, update: 0, replace: 0, delete: 0 },
    changes: [],
    applied: [],
    notApplied: [],
    problems: [],
    unmanaged: [],
    apiCalls: gateway.callCounts(),
    truncated: false,
    message: `${error instanceof Error ? error.message : String(error)}; nothing was done`,
  };
}

/**
 * One scheduled (or manual) reconcile of the registry settings with the config's `registry` section: plan, apply
 * unless dry run, publish the "Registry Reconcile Report", emit metrics. With the config's `targets`, every target
 * account and region's registry in turn, through its role, one report each (naming its account and region); a
 * target whose role cannot be assumed is reported `target-unavailable` and the others are reconciled.
 */
export async function runReconcile(
  trigger: { id: string; detail: ReconcileRegistryDetail },
  deps: ReconcileDeps,
): Promise<ReconcileReport[]> {
  const config = deps.config();
  const dryRun = resolveDryRun(config.registry.dryRun, trigger.detail.dryRun);
  deps.tracer.putAnnotation('dryRun', dryRun);
  const declaration = declarationOf(config.registry);
  const options = { runId: trigger.id, dryRun };
  const section = config.targets;
  let reports: ReconcileReport[];
  if (section === undefined) {
    reports = [(await reconcile(deps.gateway({ readOnly: dryRun }), declaration, options)).report];
  } else {
    // Each target's registry in turn (one reconcile at a time, as in one account); one that fails is reported.
    const { targets, targetGateway } = deps;
    if (targets === undefined || targetGateway === undefined) {
      throw new Error('the config names targets, but this runtime cannot assume roles in other accounts');
    }
    reports = [];
    for (const target of await targets(section)) {
      const gateway = targetGateway(section, target, { readOnly: dryRun });
      try {
        const { report } = await reconcile(gateway, declaration, options);
        reports.push({ ...report, ...targetFields(target) });
      } catch (error) {
        if (!(error instanceof EcrGatewayError)) throw error;
        deps.logger.warn('reconcile target failed', { ...target, error: error.message });
        reports.push(unavailableReport(target, options, gateway, error));
      }
    }
  }
  const events: ServiceEvent[] = reports.map((detail) => ({
    detailType: DETAIL_TYPES.registryReconcileReport,
    detail,
  }));
  const published = await deps.publish(events);
  for (const report of reports) {
    // The PutEvents calls that published every report, on each (they went out together).
    report.apiCalls = { ...report.apiCalls, PutEvents: published.calls };
    deps.metrics.addMetric('RegistryChangesPlanned', MetricUnit.Count, report.changes.length);
    deps.metrics.addMetric('RegistryChangesApplied', MetricUnit.Count, report.applied.length);
    deps.metrics.addMetric('RegistryChangesFailed', MetricUnit.Count, report.notApplied.length);
    if (report.status === 'invalid') deps.metrics.addMetric('RegistryPlanInvalid', MetricUnit.Count, 1);
    if (report.status === 'target-unavailable')
      deps.metrics.addMetric('RegistryTargetsUnavailable', MetricUnit.Count, 1);
    deps.logger.info('registry reconcile report', { report });
  }
  return reports;
}

/**
 * Gather → plan (pure) → apply (unless dry run) → report. A plan with problems (the registry after it would break
 * ECR's limits) applies nothing. In dry run the gateway is read-only, so nothing can change.
 */
export async function reconcile(
  gateway: EcrGateway,
  declaration: RegistryDeclaration,
  options: { runId: string; dryRun: boolean },
): Promise<{ report: ReconcileReport; plan: RegistryPlan }> {
  const snapshot = await gatherRegistry(gateway, declaration);
  const plan = planRegistry(declaration, snapshot);
  let applied: string[] = [];
  let notApplied: { change: string; error: string }[] = [];
  let status: ReconcileStatus;
  if (plan.problems.length > 0) status = 'invalid';
  else if (plan.changes.length === 0) status = 'in-sync';
  else if (options.dryRun) status = 'planned';
  else {
    ({ applied, notApplied } = await applyPlan(gateway, plan));
    status = notApplied.length > 0 ? 'partial' : 'applied';
  }
  const truncated = plan.changes.length > REPORT_LIST_LIMIT;
  const report: ReconcileReport = {
    runId: options.runId,
    dryRun: options.dryRun,
    status,
    counts: planCounts(plan.changes),
    changes: plan.changes.slice(0, REPORT_LIST_LIMIT),
    applied: applied.slice(0, REPORT_LIST_LIMIT),
    notApplied: notApplied.slice(0, REPORT_LIST_LIMIT),
    problems: plan.problems,
    unmanaged: plan.unmanaged.map((entry) => `${entry.resource} ${entry.key}`).slice(0, REPORT_LIST_LIMIT),
    apiCalls: gateway.callCounts(),
    truncated,
  };
  return { report, plan };
}
