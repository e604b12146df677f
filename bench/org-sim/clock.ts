import { prng } from '../prng.ts';

/**
 * A virtual clock for the organisation simulation: a discrete-event loop over the global timers. While installed,
 * `setTimeout`, `clearTimeout` and `Date.now` are the clock's (the SDK's retry back-off and adaptive rate limiter
 * read them at call time), and `Math.random` is a seeded generator, so that a run is the same every time. Nothing
 * waits: `run` fires the earliest timer, lets every promise it settles run (one real `setImmediate`, which drains the
 * microtask queue), and moves on to the next timer.
 */

interface Timer {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** What `setTimeout` hands back: enough of Node's `Timeout` for code that calls `unref` or `ref`. */
class VirtualTimeout {
  constructor(readonly timer: Timer) {}
  unref(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.timer.seq;
  }
}

/** A binary min-heap of timers by (time, order of scheduling). */
class TimerHeap {
  private readonly items: Timer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Timer | undefined {
    return this.items[0];
  }

  private static before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  push(timer: Timer): void {
    const items = this.items;
    items.push(timer);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as Timer;
      if (!TimerHeap.before(timer, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = timer;
  }

  pop(): Timer | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    const n = items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && TimerHeap.before(items[right] as Timer, items[left] as Timer) ? right : left;
      const c = items[child] as Timer;
      if (!TimerHeap.before(c, last)) break;
      items[i] = c;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

export class VirtualClock {
  private current: number;
  private seq = 0;
  private readonly heap = new TimerHeap();
  private saved:
    | {
        setTimeout: typeof globalThis.setTimeout;
        clearTimeout: typeof globalThis.clearTimeout;
        dateNow: typeof Date.now;
        random: typeof Math.random;
      }
    | undefined;
  /** Timers fired so far, and distinct instants the loop stopped at (each one real `setImmediate`). */
  readonly stats = { timers: 0, steps: 0 };
  /** Called every 10,000 steps (progress, memory samples). */
  onStep: (() => void) | undefined;

  constructor(start: number) {
    this.current = start;
  }

  /** The virtual time, epoch ms. */
  now = (): number => this.current;

  /**
   * Schedules `callback` after `ms` virtual milliseconds, in whole milliseconds and at least one, as Node's
   * `setTimeout` does: a loop that waits a fraction of a millisecond for a token (the SDK's rate limiter) must see
   * time move, or it would spin at one instant for ever.
   */
  schedule(ms: number, callback: () => void): VirtualTimeout {
    const delay = Number.isFinite(ms) && ms >= 1 ? Math.floor(ms) : 1;
    const timer: Timer = { at: this.current + delay, seq: this.seq++, callback, cancelled: false };
    this.heap.push(timer);
    return new VirtualTimeout(timer);
  }

  /** A promise settled `ms` virtual milliseconds from now. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  /** Makes the global timers, `Date.now` and `Math.random` the clock's until `uninstall`. */
  install(randomSeed = 1): void {
    if (this.saved !== undefined) throw new Error('the virtual clock is installed already');
    this.saved = {
      setTimeout: globalThis.setTimeout,
      clearTimeout: globalThis.clearTimeout,
      dateNow: Date.now,
      random: Math.random,
    };
    const fakeSetTimeout = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      this.schedule(ms ?? 0, () => callback(...args));
    globalThis.setTimeout = fakeSetTimeout as unknown as typeof globalThis.setTimeout;
    globalThis.clearTimeout = ((handle: unknown) => {
      if (handle instanceof VirtualTimeout) handle.timer.cancelled = true;
    }) as typeof globalThis.clearTimeout;
    Date.now = () => this.current;
    Math.random = prng(randomSeed);
  }

  uninstall(): void {
    const saved = this.saved;
    if (saved === undefined) return;
    globalThis.setTimeout = saved.setTimeout;
    globalThis.clearTimeout = saved.clearTimeout;
    Date.now = saved.dateNow;
    Math.random = saved.random;
    this.saved = undefined;
  }

  /**
   * Runs the loop until `done()`: settles what is pending, then fires every timer of the earliest instant and
   * settles again. Throws when nothing is scheduled and `done()` still says no for `stallMs` real milliseconds (a
   * promise waiting on something outside the clock). Real waits do happen: a module the SDK loads on first use, which
   * in a worker thread under load can take a second or more.
   */
  async run(done: () => boolean, stallMs = 30_000): Promise<void> {
    const realImmediate = setImmediate;
    const settle = () => new Promise<void>((resolve) => realImmediate(resolve));
    await settle();
    let idleSince: number | undefined;
    while (!done()) {
      const first = this.heap.peek();
      if (first === undefined) {
        idleSince ??= performance.now();
        if (performance.now() - idleSince > stallMs) {
          throw new Error('the simulation stalled: nothing is scheduled and the run is not done');
        }
        await settle();
        continue;
      }
      idleSince = undefined;
      const at = first.at;
      if (at > this.current) this.current = at;
      for (let timer = this.heap.peek(); timer !== undefined && timer.at <= at; timer = this.heap.peek()) {
        this.heap.pop();
        if (timer.cancelled) continue;
        this.stats.timers += 1;
        timer.callback();
      }
      this.stats.steps += 1;
      if (this.onStep !== undefined && this.stats.steps % 10_000 === 0) this.onStep();
      await settle();
    }
  }
}
