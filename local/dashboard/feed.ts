import type { ServerResponse } from 'node:http';
import type { BusEvent } from '@ecr-automation/local-registry';
import { SERVICE_EVENT_SOURCE } from '../../shared/events/publisher.ts';
import { DETAIL_TYPES } from '../../shared/events/schemas.ts';

/**
 * What the dashboard keeps of the bus: the last events (for the live stream and a page that connects late) and the
 * last report of each kind (the cleanup plan and report per repository, scan verdicts, compliance, the allow-list),
 * each bounded in entries and bytes, so that a busy bus never grows the dashboard's memory without bound; and the
 * Server-Sent Events clients, each dropped when it falls more than `CLIENT_BACKLOG_BYTES` behind.
 */

/** Events kept for a page that connects (or reconnects) late. */
export const FEED_EVENTS = 200;
/** An event's detail larger than this is sent and kept without its detail (EventBridge's own limit is 256 KB). */
export const MAX_DETAIL_BYTES = 256 * 1024;
/** Bytes a stream client may have unsent before it is disconnected (it reconnects and resumes from `Last-Event-ID`). */
export const CLIENT_BACKLOG_BYTES = 512 * 1024;
/** Stream clients at once; one more is refused (503). */
export const MAX_CLIENTS = 16;
/** Budget of the reports kept, in bytes of JSON, across every kind. */
export const REPORTS_BYTES = 32 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

/** One event as the dashboard shows and streams it. */
export interface FeedEvent {
  /** Position in the dashboard's feed: the stream's event id. */
  seq: number;
  id: string;
  time: string;
  source: string;
  detailType: string;
  account: string;
  region: string;
  /** The event's detail; absent when larger than MAX_DETAIL_BYTES (`truncated`). */
  detail?: unknown;
  truncated?: true;
}

/** Keeps at most `maxEntries` values by key, the most recently set last, and the oldest dropped first. */
class Latest {
  private readonly entries = new Map<string, { value: FeedEvent; bytes: number }>();
  constructor(
    private readonly maxEntries: number,
    private readonly budget: { bytes: number },
  ) {}

  set(key: string, value: FeedEvent, bytes: number): void {
    const old = this.entries.get(key);
    if (old) {
      this.budget.bytes -= old.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, { value, bytes });
    this.budget.bytes += bytes;
    while (this.entries.size > this.maxEntries) this.dropOldest();
  }

  dropOldest(): boolean {
    const first = this.entries.entries().next();
    if (first.done) return false;
    this.entries.delete(first.value[0]);
    this.budget.bytes -= first.value[1].bytes;
    return true;
  }

  /** Newest first. */
  values(limit = Number.POSITIVE_INFINITY): FeedEvent[] {
    const all = [...this.entries.values()].map((entry) => entry.value);
    return all.reverse().slice(0, limit);
  }

  get(key: string): FeedEvent | undefined {
    return this.entries.get(key)?.value;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    for (const entry of this.entries.values()) this.budget.bytes -= entry.bytes;
    this.entries.clear();
  }
}

/** The report kinds kept, by detail-type, with how many of each. */
const KEPT = {
  [DETAIL_TYPES.cleanupReport]: 1_000,
  [DETAIL_TYPES.cleanupFanOutReport]: 5,
  [DETAIL_TYPES.organisationCleanupReport]: 5,
  [DETAIL_TYPES.imageScanVerdict]: 500,
  [DETAIL_TYPES.imagePushVerdict]: 200,
  [DETAIL_TYPES.allowListReport]: 1,
  [DETAIL_TYPES.complianceReport]: 5,
  [DETAIL_TYPES.complianceDrift]: 200,
  [DETAIL_TYPES.registryReconcileReport]: 20,
} as const;
export type KeptKind = keyof typeof KEPT;

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** The key a report is kept under: the newest per repository (cleanup), per image (verdicts), else per event. */
function keyOf(kind: KeptKind, event: FeedEvent): string {
  const detail = (event.detail ?? {}) as Record<string, unknown>;
  const where = `${text(detail.account)}/${text(detail.region)}/${text(detail.registry)}`;
  switch (kind) {
    case DETAIL_TYPES.cleanupReport:
      return `${where}/${text(detail.repositoryName)}`;
    case DETAIL_TYPES.imageScanVerdict:
    case DETAIL_TYPES.imagePushVerdict:
      return `${text(detail.repositoryName)}@${text(detail.digest)}`;
    case DETAIL_TYPES.allowListReport:
      return 'last';
    default:
      return event.id;
  }
}

interface Client {
  res: ServerResponse;
}

export class DashboardFeed {
  private readonly recent: FeedEvent[] = [];
  private readonly budget = { bytes: 0 };
  private readonly kept = new Map<KeptKind, Latest>(
    Object.entries(KEPT).map(([kind, entries]) => [kind as KeptKind, new Latest(entries, this.budget)]),
  );
  private readonly clients = new Set<Client>();
  private heartbeat: NodeJS.Timeout | undefined;
  private seq = 0;

  /**
   * Takes one event of the bus: keeps it, and sends it to every stream client. Only the service's own events on its
   * own bus (`serviceBus`) are kept as reports.
   */
  add(event: BusEvent, serviceBus: boolean): void {
    const detailText = JSON.stringify(event.detail) ?? 'null';
    const large = detailText.length > MAX_DETAIL_BYTES;
    const entry: FeedEvent = {
      seq: ++this.seq,
      id: event.id,
      time: event.time,
      source: event.source,
      detailType: event['detail-type'],
      account: event.account,
      region: event.region,
      ...(large ? { truncated: true as const } : { detail: event.detail }),
    };
    this.recent.push(entry);
    if (this.recent.length > FEED_EVENTS) this.recent.splice(0, this.recent.length - FEED_EVENTS);
    const kind = entry.detailType as KeptKind;
    const store =
      serviceBus && Object.hasOwn(KEPT, kind) && !large && event.source === SERVICE_EVENT_SOURCE
        ? this.kept.get(kind)
        : undefined;
    if (store) {
      store.set(keyOf(kind, entry), entry, detailText.length + 256);
      this.trim();
    }
    const frame = `id: ${entry.seq}\nevent: bus\ndata: ${JSON.stringify(entry)}\n\n`;
    for (const client of this.clients) this.send(client, frame);
  }

  /** The last events, oldest first; after `afterSeq` when given. */
  events(afterSeq = 0): FeedEvent[] {
    return this.recent.filter((event) => event.seq > afterSeq);
  }

  /** The reports of one kind kept, newest first. */
  reports(kind: KeptKind, limit?: number): FeedEvent[] {
    return this.kept.get(kind)?.values(limit) ?? [];
  }

  /** The newest cleanup report of a repository of the deployment's own registry. */
  cleanupReport(repositoryName: string): FeedEvent | undefined {
    return this.kept.get(DETAIL_TYPES.cleanupReport)?.get(`///${repositoryName}`);
  }

  get reportBytes(): number {
    return this.budget.bytes;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Serves the live stream to one client: the events after its `Last-Event-ID` (or the last few), then each new one.
   * Answers 503 when MAX_CLIENTS are connected.
   */
  stream(res: ServerResponse, lastEventId: number | undefined): void {
    if (this.clients.size >= MAX_CLIENTS) {
      const body = JSON.stringify({ error: `At most ${MAX_CLIENTS} live streams at once` });
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
      res.end(body);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    const client: Client = { res };
    this.clients.add(client);
    res.once('close', () => {
      this.clients.delete(client);
      if (this.clients.size === 0 && this.heartbeat) {
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
      }
    });
    res.write('retry: 2000\n\n');
    const backlog = lastEventId === undefined ? this.recent.slice(-50) : this.events(lastEventId);
    for (const entry of backlog) {
      this.send(client, `id: ${entry.seq}\nevent: bus\ndata: ${JSON.stringify(entry)}\n\n`);
    }
    this.heartbeat ??= setInterval(() => {
      for (const each of this.clients) this.send(each, ': ping\n\n');
    }, HEARTBEAT_MS).unref();
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    for (const client of this.clients) client.res.end();
    this.clients.clear();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Forgets the events and reports (the registry was reset). */
  clear(): void {
    this.recent.length = 0;
    for (const store of this.kept.values()) store.clear();
  }

  /** A client whose unsent bytes pass the backlog is disconnected rather than buffered without bound. */
  private send(client: Client, frame: string): void {
    if (client.res.writableLength + frame.length > CLIENT_BACKLOG_BYTES) {
      this.clients.delete(client);
      client.res.destroy();
      return;
    }
    client.res.write(frame);
  }

  /** Drops the oldest reports (largest kinds first) until the budget holds. */
  private trim(): void {
    while (this.budget.bytes > REPORTS_BYTES) {
      const fullest = [...this.kept.values()].sort((a, b) => b.size - a.size)[0];
      if (!fullest?.dropOldest()) return;
    }
  }
}
