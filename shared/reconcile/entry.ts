import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { resolveDryRun } from '../config/dry-run.ts';
import { declarationOf } from '../config/registry-schema.ts';
import type { ServiceConfig } from '../config/schema.ts';
import type { EcrGateway } from '../ecr/index.ts';
import type { ServiceEvent } from '../events/publisher.ts';
import type { ReconcileRegistryDetail } from '../events/registry-schemas.ts';
import { DETAIL_TYPES } from '../events/schemas.ts';
import { logger, metrics } from '../obs/index.ts';
import { type ReconcileReport, reconcile } from './act.ts';

/** What the reconcile handler needs from the outside world; the handler wires the real ones, tests their own. */
export interface ReconcileDeps {
  config(): Readonly<ServiceConfig>;
  gateway(options: { readOnly: boolean }): EcrGateway;
  publish(events: readonly ServiceEvent[]): Promise<{ calls: number }>;
}

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
  const { report } = await reconcile(gateway, declarationOf(config.registry), { runId: trigger.id, dryRun });
  const events: ServiceEvent[] = [{ detailType: DETAIL_TYPES.registryReconcileReport, detail: report }];
  const published = await deps.publish(events);
  report.apiCalls = { ...report.apiCalls, PutEvents: published.calls };

  metrics.addMetric('RegistryChangesPlanned', MetricUnit.Count, report.changes.length);
  metrics.addMetric('RegistryChangesApplied', MetricUnit.Count, report.applied.length);
  metrics.addMetric('RegistryChangesFailed', MetricUnit.Count, report.notApplied.length);
  if (report.status === 'invalid') metrics.addMetric('RegistryPlanInvalid', MetricUnit.Count, 1);
  logger.info('registry reconcile report', { report });
  return report;
}
