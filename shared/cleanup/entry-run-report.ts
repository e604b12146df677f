import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { mapAtMost } from '../domain/at-most.ts';
import { DETAIL_TYPES } from '../events/schemas.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import {
  CleanupFanOutReportSchema,
  type OrganisationCleanupReport,
  type StoredCleanupReport,
  StoredCleanupReportSchema,
} from './report.ts';
import {
  aggregateRun,
  fanOutKey,
  itemOfKey,
  organisationReportKey,
  RUN_REPORT_AFTER_MS,
  RUNS_PREFIX,
  reportsPrefix,
} from './run-store.ts';

export type RunReportDeps = Pick<ServiceDeps, 'publish' | 'now' | 'logger' | 'metrics' | 'tracer' | 'reports'>;

/** Runs looked at per invocation, newest first by key order being arbitrary: the rest wait for the next one. */
const RUNS_PER_INVOCATION = 50;
/** A run's reports are at most this many (the fan-out's work items and their follow-up parts). */
const MAX_REPORT_KEYS = 1_000_000;
const MAX_RUNS = 10_000;
/** Each stored report and fan-out report is at most this large. */
const MAX_OBJECT_BYTES = 1_048_576;
const READS_AT_ONCE = 16;

export interface RunReportSummary {
  /** Runs whose organisation report this invocation wrote and published. */
  reported: string[];
  /** Runs still waiting for work items (and not a day old). */
  waiting: string[];
  /** Runs already reported, or without a fan-out report (not a run). */
  skipped: number;
}

const decoder = new TextDecoder();
/**
 * A stored object's JSON, or undefined (logged) when it is larger than it may be or is not JSON: anyone's object is
 * left out, never the run report's end. Errors of S3 itself (access, throttling) are thrown.
 */
const readJson = async (deps: RunReportDeps, key: string): Promise<unknown> => {
  const store = deps.reports;
  if (store === undefined) throw new Error('no reports bucket');
  let bytes: Uint8Array;
  try {
    bytes = await store.gateway.getObject(store.bucket, key, { maxBytes: MAX_OBJECT_BYTES });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ObjectTooLarge') throw error;
    deps.logger.error('a stored report is larger than any report: left out', { key });
    return undefined;
  }
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    deps.logger.error('a stored report is not JSON: left out', { key });
    return undefined;
  }
};

/**
 * The organisation report of the cleanup runs (schedule): every run under `cleanup-runs/` without its
 * `organisation-report.json` is looked at; one whose work items all reported their end (or planned more than a day
 * ago) is aggregated (`aggregateRun`: bytes reclaimed and images deleted per account, the repositories that failed,
 * held or never reported, the targets that failed) and its report written once (`If-None-Match: *`) and published
 * once as the "Organisation Cleanup Report". Idempotent: a second invocation finds the report written and publishes
 * nothing. A stored report that does not parse is left out and logged; it never fails the run's report.
 */
export async function runCleanupRunReport(deps: RunReportDeps): Promise<RunReportSummary> {
  const store = deps.reports;
  const summary: RunReportSummary = { reported: [], waiting: [], skipped: 0 };
  if (store === undefined) {
    deps.logger.warn('no reports bucket (REPORTS_BUCKET): no organisation report is made');
    return summary;
  }
  const { prefixes: runs } = await store.gateway.list(store.bucket, RUNS_PREFIX, { delimiter: '/', maxKeys: MAX_RUNS });
  for (const run of runs.slice(0, RUNS_PER_INVOCATION)) {
    const runId = decodeURIComponent(run.slice(RUNS_PREFIX.length, -1));
    const { keys } = await store.gateway.list(store.bucket, run, { delimiter: '/', maxKeys: 10 });
    if (!keys.includes(fanOutKey(runId)) || keys.includes(organisationReportKey(runId))) {
      summary.skipped += 1;
      continue;
    }
    const parsedFanOut = CleanupFanOutReportSchema.safeParse(await readJson(deps, fanOutKey(runId)));
    if (!parsedFanOut.success) {
      deps.logger.error('a run’s fan-out report does not parse: the run is not reported', { runId });
      summary.skipped += 1;
      continue;
    }
    const fanOut = parsedFanOut.data;
    const { keys: reportKeys } = await store.gateway.list(store.bucket, reportsPrefix(runId), {
      maxKeys: MAX_REPORT_KEYS,
    });
    const parts = new Map<string, { key: string; part: number }[]>();
    for (const key of reportKeys) {
      const found = itemOfKey(key);
      if (found === undefined) continue;
      parts.set(found.item, [...(parts.get(found.item) ?? []), { key, part: found.part }]);
    }
    // Every part of every item is read: only the contents say whether the last part was final.
    const read = await mapAtMost([...parts.entries()], READS_AT_ONCE, async ([item, keysOfItem]) => {
      const reports: StoredCleanupReport[] = [];
      for (const { key } of keysOfItem) {
        const parsed = StoredCleanupReportSchema.safeParse(await readJson(deps, key));
        if (parsed.success) reports.push(parsed.data);
        else deps.logger.error('a stored cleanup report does not parse: left out', { key });
      }
      return { item, reports };
    });
    const finished = read.filter(({ reports }) => {
      const last = reports.reduce<StoredCleanupReport | undefined>(
        (a, b) => (a === undefined || b.part > a.part ? b : a),
        undefined,
      );
      return last !== undefined && last.status !== 'continued';
    });
    const complete = finished.length >= fanOut.workItems;
    const overdue = deps.now() - Date.parse(fanOut.plannedAt) > RUN_REPORT_AFTER_MS;
    if (!complete && !overdue) {
      summary.waiting.push(runId);
      continue;
    }
    const unfinished = read.filter((entry) => !finished.includes(entry)).map(({ item }) => ({ item }));
    const report: OrganisationCleanupReport = aggregateRun(
      fanOut,
      finished.map(({ reports }) => reports),
      unfinished,
      complete,
    );
    const { written } = await store.gateway.putJson(store.bucket, organisationReportKey(runId), report, {
      ifAbsent: true,
    });
    if (!written) {
      summary.skipped += 1;
      continue;
    }
    await deps.publish([{ detailType: DETAIL_TYPES.organisationCleanupReport, detail: report }]);
    summary.reported.push(runId);
    deps.metrics.addMetric('OrganisationBytesReclaimed', MetricUnit.Bytes, report.totals.bytesReclaimed);
    deps.metrics.addMetric('OrganisationImagesDeleted', MetricUnit.Count, report.totals.deleted);
    deps.metrics.addMetric('OrganisationFailedTargets', MetricUnit.Count, report.totals.failedTargets);
    deps.logger.info('organisation cleanup report', {
      report: { ...report, repositories: report.repositories.length },
    });
  }
  return summary;
}
