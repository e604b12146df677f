import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { resolveDryRun } from '../config/dry-run.ts';
import { declarationOf } from '../config/registry-schema.ts';
import type { ServiceEvent } from '../events/publisher.ts';
import type { ReconcileRegistryDetail } from '../events/registry-schemas.ts';
import { DETAIL_TYPES } from '../events/schemas.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import { type ReconcileReport, reconcile } from './act.ts';

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
