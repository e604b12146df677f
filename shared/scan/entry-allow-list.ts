import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DETAIL_TYPES } from '../events/schemas.ts';
import { reportAllowList } from '../policy/scan/allow-list.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import type { AllowListReportEvent } from './report.ts';

export type AllowListReportDeps = Pick<ServiceDeps, 'config' | 'publish' | 'now' | 'logger' | 'metrics'>;

/**
 * The scheduled allow-list report: entries expiring within the configured window, and expired entries still listed
 * (they no longer count, so the images they covered may now FAIL). Published on every run, also when all is well, so
 * that a missing report is itself a signal.
 */
export async function runAllowListReport(
  event: { id: string },
  deps: AllowListReportDeps,
): Promise<AllowListReportEvent> {
  const { scan } = deps.config();
  const now = deps.now();
  const report: AllowListReportEvent = {
    runId: event.id,
    reportedAt: new Date(now).toISOString(),
    ...reportAllowList(scan.allowList, now, scan.allowListReport.expiringWithinDays),
  };
  await deps.publish([{ detailType: DETAIL_TYPES.allowListReport, detail: report }]);
  deps.metrics.addMetric('AllowListEntriesExpiring', MetricUnit.Count, report.expiring.length);
  deps.metrics.addMetric('AllowListEntriesExpired', MetricUnit.Count, report.expired.length);
  deps.logger.info('allow-list report', { report });
  return report;
}
