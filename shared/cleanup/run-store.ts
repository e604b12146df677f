import type { S3Gateway } from '../s3/gateway.ts';
import {
  type CleanupFanOutReport,
  type CleanupReport,
  type OrganisationCleanupReport,
  REPORT_LIST_LIMIT,
  type StoredCleanupReport,
} from './report.ts';

/**
 * Where a cleanup run's reports meet: the reports bucket (`REPORTS_BUCKET`), under `cleanup-runs/<runId>/`. The
 * fan-out stores its report (`fan-out.json`: how many work items it published, which targets failed), each worker
 * invocation its figures (`reports/<account>/<region>/<registry>/<repository>/part-<n>.json`), and the run report
 * (`entry-run-report.ts`) aggregates them into the "Organisation Cleanup Report" once every work item has its final
 * part (`organisation-report.json`, written once). Every key segment from input is URI-encoded, so no name can step
 * out of its run's prefix.
 */

/** The bucket and the gateway a runtime stores the runs' reports with. */
export interface ReportStore {
  gateway: S3Gateway;
  bucket: string;
}

export const RUNS_PREFIX = 'cleanup-runs/';
/** The deployment's own account or region, in keys and in the report's per-account figures. */
export const OWN = 'own';
/** How long after it was planned a run is reported with what is missing. */
export const RUN_REPORT_AFTER_MS = 24 * 60 * 60_000;

const segment = (text: string) => encodeURIComponent(text);
export const runPrefix = (runId: string) => `${RUNS_PREFIX}${segment(runId)}/`;
export const fanOutKey = (runId: string) => `${runPrefix(runId)}fan-out.json`;
export const organisationReportKey = (runId: string) => `${runPrefix(runId)}organisation-report.json`;
export const reportsPrefix = (runId: string) => `${runPrefix(runId)}reports/`;

/** The key of one invocation's figures: its item (account, region, registry, repository), then its part. */
export function reportKey(
  report: Pick<StoredCleanupReport, 'runId' | 'account' | 'region' | 'registry' | 'repositoryName' | 'part'>,
): string {
  return `${reportsPrefix(report.runId)}${segment(report.account ?? OWN)}/${segment(report.region ?? OWN)}/${report.registry ?? 'private'}/${segment(report.repositoryName)}/part-${report.part}.json`;
}

/** A report key's item (everything before `/part-<n>.json`) and part, or undefined for any other key. */
export function itemOfKey(key: string): { item: string; part: number } | undefined {
  const at = key.lastIndexOf('/part-');
  if (at < 0 || !key.endsWith('.json')) return undefined;
  const part = Number(key.slice(at + '/part-'.length, -'.json'.length));
  if (!Number.isInteger(part) || part < 1) return undefined;
  return { item: key.slice(0, at), part };
}

/** What a worker stores of its report: the figures the organisation report adds up. */
export function storedReportOf(report: CleanupReport): StoredCleanupReport {
  return {
    runId: report.runId,
    ...(report.account === undefined ? {} : { account: report.account }),
    ...(report.region === undefined ? {} : { region: report.region }),
    ...(report.registry === undefined ? {} : { registry: report.registry }),
    repositoryName: report.repositoryName,
    part: report.part,
    dryRun: report.dryRun,
    status: report.status,
    images: report.counts.images,
    toDelete: report.counts.toDelete,
    deleted: report.counts.deleted,
    archived: report.counts.archived ?? 0,
    failed: report.counts.failed,
    bytesReclaimed: report.bytesReclaimed,
    ...(report.message === undefined ? {} : { message: report.message.slice(0, 2000) }),
  };
}

/** Stores a worker invocation's figures (idempotent: a re-delivered item writes the same key). */
export async function storeReport(store: ReportStore, report: CleanupReport): Promise<void> {
  const stored = storedReportOf(report);
  await store.gateway.putJson(store.bucket, reportKey(stored), stored);
}

/** Stores the fan-out's report, before its work items go out, so that the run report knows how many to expect. */
export async function storeFanOut(store: ReportStore, report: CleanupFanOutReport): Promise<void> {
  await store.gateway.putJson(store.bucket, fanOutKey(report.runId), report);
}

/** Statuses that say a repository was not cleaned as planned: the organisation report names it. */
const HELD = new Set(['braked', 'in-use-unknown', 'target-unavailable', 'repository-gone']);

/**
 * The organisation report of a run (pure): the fan-out's report, the figures of each finished work item (all its
 * parts, the last one final), and the items that reported a part but never their end (`unfinished`). Accounts are sorted; the repositories named are capped at
 * REPORT_LIST_LIMIT (`truncated`).
 */
export function aggregateRun(
  fanOut: CleanupFanOutReport,
  items: readonly (readonly StoredCleanupReport[])[],
  unfinished: readonly { item: string }[],
  complete: boolean,
): OrganisationCleanupReport {
  const accounts = new Map<string, OrganisationCleanupReport['accounts'][number]>();
  const accountOf = (account: string) => {
    let entry = accounts.get(account);
    if (entry === undefined) {
      entry = {
        account,
        regions: [],
        repositories: 0,
        deleted: 0,
        archived: 0,
        failed: 0,
        bytesReclaimed: 0,
        failedTargets: 0,
        failedRepositories: 0,
      };
      accounts.set(account, entry);
    }
    return entry;
  };
  const addRegion = (entry: { regions: string[] }, region: string) => {
    if (!entry.regions.includes(region)) entry.regions.push(region);
  };
  const totals = {
    targets: fanOut.targets?.length ?? 0,
    failedTargets: 0,
    workItems: fanOut.workItems,
    reported: items.length,
    // The items that never reported their end: the unfinished ones named below, and those that never reported at all.
    notReported: Math.max(0, fanOut.workItems - items.length),
    images: 0,
    toDelete: 0,
    deleted: 0,
    archived: 0,
    failed: 0,
    bytesReclaimed: 0,
  };
  const repositories: OrganisationCleanupReport['repositories'] = [];
  const failedTargets: OrganisationCleanupReport['failedTargets'] = [];
  for (const target of fanOut.targets ?? []) {
    const entry = accountOf(target.account);
    addRegion(entry, target.region);
    if (target.status === 'failed') {
      entry.failedTargets += 1;
      totals.failedTargets += 1;
      failedTargets.push({ account: target.account, region: target.region, message: target.message ?? 'failed' });
    }
  }
  for (const parts of items) {
    const last = parts.reduce((a, b) => (b.part > a.part ? b : a));
    const entry = accountOf(last.account ?? OWN);
    addRegion(entry, last.region ?? OWN);
    entry.repositories += 1;
    // The first part's plan counts the images; every part deletes, archives and fails its own.
    const first = parts.reduce((a, b) => (b.part < a.part ? b : a));
    totals.images += first.images;
    totals.toDelete += first.toDelete;
    let failed = 0;
    for (const part of parts) {
      entry.deleted += part.deleted;
      entry.archived += part.archived;
      entry.bytesReclaimed += part.bytesReclaimed;
      failed += part.failed;
      totals.deleted += part.deleted;
      totals.archived += part.archived;
      totals.bytesReclaimed += part.bytesReclaimed;
    }
    entry.failed += failed;
    totals.failed += failed;
    if (failed > 0 || HELD.has(last.status)) {
      entry.failedRepositories += 1;
      repositories.push({
        ...(last.account === undefined ? {} : { account: last.account }),
        ...(last.region === undefined ? {} : { region: last.region }),
        ...(last.registry === undefined ? {} : { registry: last.registry }),
        repositoryName: last.repositoryName,
        status: last.status,
        ...(failed > 0 ? { failed } : {}),
        ...(last.message === undefined ? {} : { message: last.message }),
      });
    }
  }
  for (const { item } of unfinished) {
    const [account = OWN, region = OWN, registry = 'private', repository = ''] = item
      .slice(item.indexOf('/reports/') + '/reports/'.length)
      .split('/')
      .map((part) => decodeURIComponent(part));
    const entry = accountOf(account);
    entry.failedRepositories += 1;
    repositories.push({
      ...(account === OWN ? {} : { account }),
      ...(region === OWN ? {} : { region }),
      ...(registry === 'public' ? { registry: 'public' as const } : {}),
      repositoryName: repository,
      status: 'not-reported',
      message: 'a part was reported, the final one never was',
    });
  }
  for (const entry of accounts.values()) entry.regions.sort();
  return {
    runId: fanOut.runId,
    plannedAt: fanOut.plannedAt,
    dryRun: fanOut.dryRun,
    complete,
    totals,
    accounts: [...accounts.values()].sort((a, b) => a.account.localeCompare(b.account)),
    failedTargets,
    repositories: repositories.slice(0, REPORT_LIST_LIMIT),
    truncated: repositories.length > REPORT_LIST_LIMIT,
  };
}
