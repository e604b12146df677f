import type { RegistryServer } from '@ecr-automation/local-registry';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import type { ImageRecord } from '../../shared/domain/image.ts';
import { DETAIL_TYPES } from '../../shared/events/schemas.ts';
import { reasonText as planReasonText } from '../../shared/pictures/cleanup.ts';
import { imageGraphPicture, type NodeFate } from '../../shared/pictures/graph.ts';
import { reportAllowList } from '../../shared/policy/scan/allow-list.ts';
import type { DashboardFeed, FeedEvent } from './feed.ts';

/**
 * What the dashboard's JSON API answers: read from the registry's state in this process (nothing is called, so a
 * look records no pull and changes nothing) and from the reports the dashboard kept of the bus.
 */

/** Images per page of a repository's listing, at most. */
export const MAX_PAGE = 500;

/** The registries (account and region) that hold repositories, the service's own first. */
export function registriesView(server: RegistryServer, own: { account: string; region: string }) {
  const states = [...server.registry.all()].filter(
    (state) => state.repositories.size > 0 || (state.account === own.account && state.region === own.region),
  );
  return states
    .map((state) => ({
      account: state.account,
      region: state.region,
      own: state.account === own.account && state.region === own.region,
      repositories: state.repositories.size,
    }))
    .sort(
      (a, b) => Number(b.own) - Number(a.own) || `${a.account}/${a.region}`.localeCompare(`${b.account}/${b.region}`),
    );
}

type State = ReturnType<RegistryServer['registry']['peek']>;

/** The repositories of one registry, by name, with their image and tag counts and the newest cleanup's status. */
export function repositoriesView(state: State | undefined, feed: DashboardFeed, own: boolean) {
  if (!state) return [];
  return [...state.repositories.values()]
    .map((repository) => {
      const report = own ? cleanupDetail(feed.cleanupReport(repository.name)) : undefined;
      return {
        name: repository.name,
        uri: repository.uri,
        createdAt: new Date(repository.createdAt).toISOString(),
        images: repository.images.size,
        tags: repository.images.tagCount,
        tagMutability: repository.imageTagMutability,
        scanOnPush: repository.scanOnPush,
        ...(report
          ? {
              cleanup: {
                status: report.status,
                dryRun: report.dryRun,
                toDelete: report.counts?.toDelete ?? 0,
                bytesReclaimed: report.bytesReclaimed ?? 0,
              },
            }
          : {}),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

interface CleanupDetail {
  status?: string;
  dryRun?: boolean;
  plannedAt?: string;
  runId?: string;
  counts?: { toDelete?: number; kept?: number; images?: number };
  bytesReclaimed?: number;
  deleted?: { digest: string; reason: unknown; cost?: string }[];
  archived?: { digest: string; reason: unknown; cost?: string }[];
  kept?: { digest: string; reason: unknown }[];
  truncated?: boolean;
}
const cleanupDetail = (event: FeedEvent | undefined) => event?.detail as CleanupDetail | undefined;

/** A cleanup report's decision on one image. */
interface Decision {
  action: 'delete' | 'archive' | 'keep';
  reason: { code: string; [key: string]: unknown };
  cost?: string;
}

/** A report's reason in words, as the HTML plan report words it; a code it does not know, as the code. */
function reasonText(reason: Decision['reason']): string {
  try {
    return planReasonText(reason as Parameters<typeof planReasonText>[0]) ?? String(reason.code);
  } catch {
    // A reason missing its fields (the bus logs a report that fails its schema, and still carries it).
    return String(reason?.code);
  }
}

/** Each image's decision in the newest cleanup report of the repository (a dry run's is the plan), with its words. */
function decisionsOf(report: CleanupDetail | undefined) {
  const decisions = new Map<string, Decision & { reasonText: string }>();
  const add = (action: Decision['action'], entry: { digest: string; reason: unknown; cost?: string }) => {
    const reason = entry.reason as Decision['reason'];
    decisions.set(entry.digest, {
      action,
      reason,
      reasonText: reasonText(reason),
      ...(entry.cost ? { cost: entry.cost } : {}),
    });
  };
  for (const entry of report?.kept ?? []) add('keep', entry);
  for (const entry of report?.archived ?? []) add('archive', entry);
  for (const entry of report?.deleted ?? []) add('delete', entry);
  return decisions;
}

/** The decisions as the graph view's fates. */
const fatesOf = (decisions: ReturnType<typeof decisionsOf>): Map<string, NodeFate> =>
  new Map(
    [...decisions].map(([digest, decision]) => [
      digest,
      { action: decision.action, reasonCode: decision.reason.code, reason: decision.reasonText },
    ]),
  );

type StoredImage = NonNullable<ReturnType<NonNullable<ReturnType<State['repositories']['get']>>['images']['get']>>;

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

/** An image of the registry as the service sees one (`shared/domain/image.ts`), for the graph view's model. */
const recordOf = (image: StoredImage): ImageRecord => ({
  digest: image.digest,
  tags: [...image.tags],
  pushedAt: image.pushedAt,
  ...(image.lastPulledAt !== undefined ? { lastPulledAt: image.lastPulledAt } : {}),
  sizeInBytes: image.sizeInBytes,
  manifestMediaType: image.manifestMediaType,
  ...(image.artifactMediaType !== undefined ? { artifactMediaType: image.artifactMediaType } : {}),
  ...(image.subjectDigest !== undefined ? { subjectDigest: image.subjectDigest } : {}),
  childDigests: image.childDigests,
  ...(image.status !== 'ACTIVE' ? { imageStatus: image.status } : {}),
});

/** One image as a node of the graph view: what it lists, what names it, its tags. */
function nodeOf(image: StoredImage, parents: ReadonlySet<string>, referrers: ReadonlySet<string>) {
  const kind = INDEX_TYPES.has(image.manifestMediaType)
    ? 'index'
    : image.subjectDigest !== undefined
      ? 'referrer'
      : 'image';
  return {
    digest: image.digest,
    tags: [...image.tags],
    kind,
    mediaType: image.manifestMediaType,
    ...(image.artifactType ? { artifactType: image.artifactType } : {}),
    sizeInBytes: image.sizeInBytes,
    pushedAt: new Date(image.pushedAt).toISOString(),
    ...(image.lastPulledAt !== undefined ? { lastPulledAt: new Date(image.lastPulledAt).toISOString() } : {}),
    status: image.status,
    children: [...image.childDigests],
    parents: [...parents],
    ...(image.subjectDigest !== undefined ? { subject: image.subjectDigest } : {}),
    referrers: [...referrers],
    ...(image.scan ? { scanStatus: image.scan.status } : {}),
  };
}

/**
 * A page of a repository's images (listing order, `after` the last one's `seq`), each a node of the graph with the
 * newest cleanup report's decision on it; undefined when the repository does not exist.
 */
export function imagesView(
  state: State | undefined,
  feed: DashboardFeed,
  own: boolean,
  query: { repository: string; after: number; limit: number },
) {
  const repository = state?.repositories.get(query.repository);
  if (!repository) return undefined;
  const report = own ? cleanupDetail(feed.cleanupReport(query.repository)) : undefined;
  const decisions = decisionsOf(report);
  const images = [];
  let next: number | undefined;
  for (const image of repository.images.after(query.after)) {
    if (images.length === query.limit) {
      next = images.at(-1)?.seq;
      break;
    }
    images.push({
      seq: image.seq,
      ...nodeOf(image, repository.images.parentsOf(image.digest), repository.images.referrersOf(image.digest)),
      ...(decisions.has(image.digest) ? { decision: decisions.get(image.digest) } : {}),
    });
  }
  return {
    repository: query.repository,
    total: repository.images.size,
    images,
    // The whole repository's graph: image by image up to GRAPH_IMAGE_LIMIT images, grouped beyond.
    graph: imageGraphPicture(query.repository, [...repository.images.values()].map(recordOf), fatesOf(decisions)),
    ...(next !== undefined ? { next } : {}),
    ...(report
      ? {
          cleanup: {
            runId: report.runId,
            status: report.status,
            dryRun: report.dryRun,
            plannedAt: report.plannedAt,
            counts: report.counts,
            bytesReclaimed: report.bytesReclaimed,
            truncated: report.truncated,
          },
        }
      : {}),
  };
}

/** One image: its node, its neighbours' nodes, the cleanup's decision and the newest scan and push verdicts. */
export function imageView(
  state: State | undefined,
  feed: DashboardFeed,
  own: boolean,
  query: { repository: string; digest: string },
) {
  const repository = state?.repositories.get(query.repository);
  const image = repository?.images.get(query.digest);
  if (!repository || !image) return undefined;
  const node = (found: StoredImage) =>
    nodeOf(found, repository.images.parentsOf(found.digest), repository.images.referrersOf(found.digest));
  const decisions = decisionsOf(own ? cleanupDetail(feed.cleanupReport(query.repository)) : undefined);
  const self = node(image);
  const neighbourImages = [
    ...new Set([...self.children, ...self.parents, ...self.referrers, ...(self.subject ? [self.subject] : [])]),
  ]
    .slice(0, MAX_PAGE)
    .map((digest) => repository.images.get(digest))
    .filter((found): found is StoredImage => found !== undefined);
  const neighbours = neighbourImages.map((found) => ({
    ...node(found),
    ...(decisions.has(found.digest) ? { decision: decisions.get(found.digest) } : {}),
  }));
  const verdict = (kind: typeof DETAIL_TYPES.imageScanVerdict | typeof DETAIL_TYPES.imagePushVerdict) =>
    feed.reports(kind).find((event) => {
      const detail = event.detail as { repositoryName?: string; digest?: string };
      return detail.repositoryName === query.repository && detail.digest === query.digest;
    })?.detail;
  const scan = own ? verdict(DETAIL_TYPES.imageScanVerdict) : undefined;
  const push = own ? verdict(DETAIL_TYPES.imagePushVerdict) : undefined;
  return {
    repository: query.repository,
    image: { ...self, ...(decisions.has(self.digest) ? { decision: decisions.get(self.digest) } : {}) },
    neighbours,
    // The image with what lists it, what it lists, its subject and its referrers.
    graph: imageGraphPicture(query.repository, [image, ...neighbourImages].map(recordOf), fatesOf(decisions)),
    ...(scan ? { scanVerdict: scan } : {}),
    ...(push ? { pushVerdict: push } : {}),
  };
}

/** The newest cleanup fan-out and per-repository cleanup reports, compliance and reconcile reports, and drifts. */
export function reportsView(feed: DashboardFeed, limit: number) {
  return {
    cleanupFanOut: feed.reports(DETAIL_TYPES.cleanupFanOutReport, 1)[0] ?? null,
    organisationCleanup: feed.reports(DETAIL_TYPES.organisationCleanupReport, 1)[0] ?? null,
    cleanup: feed.reports(DETAIL_TYPES.cleanupReport, limit),
    compliance: feed.reports(DETAIL_TYPES.complianceReport, 1)[0] ?? null,
    drift: feed.reports(DETAIL_TYPES.complianceDrift, limit),
    reconcile: feed.reports(DETAIL_TYPES.registryReconcileReport, limit),
  };
}

/**
 * Scan verdicts (newest first) and the config's allow-list with each entry's state on the registry's clock: expired,
 * expiring within the report's window (highlighted), or active; and the newest allow-list report.
 */
export function scansView(feed: DashboardFeed, config: Readonly<ServiceConfig>, now: number, limit: number) {
  const window = config.scan.allowListReport.expiringWithinDays;
  const report = reportAllowList(config.scan.allowList, now, window);
  const expiring = new Map(report.expiring.map((entry) => [entry.id, entry.daysLeft]));
  const expired = new Map(report.expired.map((entry) => [entry.id, entry.daysAgo]));
  return {
    verdicts: feed.reports(DETAIL_TYPES.imageScanVerdict, limit),
    allowList: {
      expiringWithinDays: window,
      entries: config.scan.allowList.map((entry) => ({
        ...entry,
        state: expired.has(entry.id) ? 'expired' : expiring.has(entry.id) ? 'expiring' : 'active',
        ...(expiring.has(entry.id) ? { daysLeft: expiring.get(entry.id) } : {}),
        ...(expired.has(entry.id) ? { daysAgo: expired.get(entry.id) } : {}),
      })),
    },
    allowListReport: feed.reports(DETAIL_TYPES.allowListReport, 1)[0] ?? null,
  };
}
