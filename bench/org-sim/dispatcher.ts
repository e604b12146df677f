import type { CleanupWorkItem } from '../../shared/events/schemas.ts';
import type { VirtualClock } from './clock.ts';

/**
 * The worker function as Lambda runs it for the simulation: work items delivered by the bus wait in a queue, at most
 * `reservedConcurrency` run at once over the organisation and at most `workersPerTarget` of one account and region
 * (targets take turns, round robin), and an invocation that throws is retried `retries` times (Lambda's
 * asynchronous retries, after one then two minutes) before it is dropped (the dead-letter queue).
 */
export interface DispatcherOptions {
  clock: VirtualClock;
  workersPerTarget: number;
  reservedConcurrency: number;
  retries: number;
  /** One invocation; `continued` when it handed over to a follow-up item. */
  run: (item: CleanupWorkItem) => Promise<{ continued: boolean }>;
  /** The item's repository is done (no follow-up), or its item was dropped. */
  done: (item: CleanupWorkItem) => void;
}

interface Queued {
  item: CleanupWorkItem;
  attempt: number;
}

const keyOf = (item: CleanupWorkItem) => `${item.account ?? ''}/${item.region ?? ''}`;

/** Lambda's delays before its two retries of a failed asynchronous invocation (about one, then two minutes). */
const RETRY_DELAYS_MS = [60_000, 120_000];

export class Dispatcher {
  readonly stats = { started: 0, failed: 0, dropped: 0, peak: 0, peakPerTarget: 0 };
  /**
   * Each invocation's start and end on the virtual clock, in order: with them, the peak concurrency of several
   * dispatchers run side by side (the simulation's threads) is found exactly (`peakOverlap`).
   */
  readonly startedAt: number[] = [];
  readonly endedAt: number[] = [];
  private readonly queues = new Map<string, Queued[]>();
  private readonly running = new Map<string, number>();
  private readonly ready: string[] = [];
  private readonly isReady = new Set<string>();
  private total = 0;
  /** Items published or waiting for a retry, not yet in a queue. */
  private inFlight = 0;

  constructor(private readonly options: DispatcherOptions) {}

  /** Nothing queued, running or on its way. */
  idle(): boolean {
    return this.total === 0 && this.inFlight === 0 && this.ready.length === 0;
  }

  /** An item published on the bus: queued after `delayMs`. */
  deliver(item: CleanupWorkItem, delayMs: number, attempt = 0): void {
    this.inFlight += 1;
    this.options.clock.schedule(delayMs, () => {
      this.inFlight -= 1;
      this.enqueue({ item, attempt });
    });
  }

  private enqueue(queued: Queued): void {
    const key = keyOf(queued.item);
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = [];
      this.queues.set(key, queue);
    }
    queue.push(queued);
    this.markReady(key);
    this.pump();
  }

  private markReady(key: string): void {
    if (this.isReady.has(key)) return;
    if ((this.queues.get(key)?.length ?? 0) === 0) return;
    if ((this.running.get(key) ?? 0) >= this.options.workersPerTarget) return;
    this.isReady.add(key);
    this.ready.push(key);
  }

  private pump(): void {
    while (this.total < this.options.reservedConcurrency && this.ready.length > 0) {
      const key = this.ready.shift() as string;
      this.isReady.delete(key);
      const queued = this.queues.get(key)?.shift();
      if (queued === undefined) continue;
      this.start(key, queued);
      this.markReady(key);
    }
  }

  private start(key: string, queued: Queued): void {
    const running = (this.running.get(key) ?? 0) + 1;
    this.running.set(key, running);
    this.total += 1;
    this.stats.started += 1;
    if (this.total > this.stats.peak) this.stats.peak = this.total;
    if (running > this.stats.peakPerTarget) this.stats.peakPerTarget = running;
    this.startedAt.push(this.options.clock.now());
    const finish = () => {
      this.endedAt.push(this.options.clock.now());
      this.running.set(key, (this.running.get(key) ?? 1) - 1);
      this.total -= 1;
      this.markReady(key);
      this.pump();
    };
    this.options.run(queued.item).then(
      ({ continued }) => {
        if (!continued) this.options.done(queued.item);
        finish();
      },
      () => {
        this.stats.failed += 1;
        const delay = RETRY_DELAYS_MS[queued.attempt];
        if (queued.attempt < this.options.retries && delay !== undefined) {
          this.deliver(queued.item, delay, queued.attempt + 1);
        } else {
          this.stats.dropped += 1;
          this.options.done(queued.item);
        }
        finish();
      },
    );
  }
}

/**
 * The most invocations running at once over several dispatchers' start and end times (each list in ascending
 * order). An invocation that ends at the very moment another starts is not counted with it, as within one dispatcher,
 * where the end frees the place the start takes.
 */
export function peakOverlap(runs: readonly { startedAt: readonly number[]; endedAt: readonly number[] }[]): number {
  const starts = runs.flatMap((run) => run.startedAt).sort((a, b) => a - b);
  const ends = runs.flatMap((run) => run.endedAt).sort((a, b) => a - b);
  let peak = 0;
  let running = 0;
  let e = 0;
  for (const start of starts) {
    while (e < ends.length && (ends[e] as number) <= start) {
      e += 1;
      running -= 1;
    }
    running += 1;
    if (running > peak) peak = running;
  }
  return peak;
}
