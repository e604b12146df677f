import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { resolveDryRun } from '../config/dry-run.ts';
import { declarationOf } from '../config/registry-schema.ts';
import type { EcrGateway } from '../ecr/index.ts';
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
export type ReconcileDeps = Pick<ServiceDeps, 'config' | 'gateway' | 'publish' | 'logger' | 'metrics' | 'tracer'>;

/**
 * One scheduled (or manual) reconcile of the registry settings with the config's `registry` section: plan, apply
 * unless dry run, publish the "Registry Reconcile Report", emit metrics.
 */
export async function runReconcile(
  trigger: { id: string; detail: ReconcileRegistryDetail },
  deps: ReconcileDeps,
): Promise<ReconcileReport> {
  const config = deps.config();
  const dryRun = resolveDryRun(config.registry.dryRun, trigger.detail.dryRun);
  const gateway = deps.gateway({ readOnly: dryRun });
  deps.tracer.putAnnotation('dryRun', dryRun);
  const { report } = await reconcile(gateway, declarationOf(config.registry), { runId: trigger.id, dryRun });
  const events: ServiceEvent[] = [{ detailType: DETAIL_TYPES.registryReconcileReport, detail: report }];
  const published = await deps.publish(events);
  report.apiCalls = { ...report.apiCalls, PutEvents: published.calls };

  deps.metrics.addMetric('RegistryChangesPlanned', MetricUnit.Count, report.changes.length);
  deps.metrics.addMetric('RegistryChangesApplied', MetricUnit.Count, report.applied.length);
  deps.metrics.addMetric('RegistryChangesFailed', MetricUnit.Count, report.notApplied.length);
  if (report.status === 'invalid') deps.metrics.addMetric('RegistryPlanInvalid', MetricUnit.Count, 1);
  deps.logger.info('registry reconcile report', { report });
  return report;
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
