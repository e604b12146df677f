import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BusApiError } from './api-error.ts';
import { BoundedLog } from './bounded-log.ts';
import { type BusOperation, busName, createOperations, type OperationScope, ruleArn } from './operations.ts';
import { matchesPattern, validatePattern } from './pattern.ts';
import { nextFireTime, parseSchedule, type Schedule } from './schedule.ts';
import type { BusEvent, EventBusRuleInfo } from './types.ts';

export type { BusEvent, EventBusRuleInfo } from './types.ts';

export { BusApiError };

/**
 * The local EventBridge event bus: rules with event patterns or schedules, each with one target (a Lambda handler
 * invoked the way Lambda invokes asynchronously: a fresh context with a deadline, retries with exponential
 * back-off, then a dead letter), and the PutEvents wire operation.
 */

export interface LambdaLikeContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
  done(): void;
  fail(e: unknown): void;
  succeed(r: unknown): void;
}

export type BusTarget = (event: BusEvent, context: LambdaLikeContext) => Promise<unknown> | unknown;

export interface RuleSpec {
  name: string;
  /** default 'default' */
  eventBusName?: string;
  eventPattern?: object;
  scheduleExpression?: string;
  target: BusTarget;
  /** function name for the context */
  targetName?: string;
  /** Lambda timeout for the context deadline, default 30000 */
  timeoutMs?: number;
  /** default 2 */
  maximumRetryAttempts?: number;
  /** base delay, default 200; exponential */
  retryDelayMs?: number;
}

export interface DeadLetter {
  ruleName: string;
  event: BusEvent;
  error: string;
  attempts: number;
  at: string;
}

export interface Delivery {
  ruleName: string;
  eventId: string;
  attempts: number;
  ok: boolean;
  error?: string;
  result?: unknown;
}

export interface EventBusOptions {
  /** epoch ms clock, default Date.now */
  now?: () => number;
  defaultAccount?: string;
  defaultRegion?: string;
  onDelivery?: (d: Delivery) => void;
  /**
   * Memory budget of the event log, in bytes of serialised JSON (default `DEFAULT_LOG_BYTES`); the oldest events go
   * first when it is exceeded. Deliveries and dead letters get a budget of their own of the same size.
   */
  logBytes?: number;
}

export interface EmitInput {
  source: string;
  detailType: string;
  detail: unknown;
  resources?: string[];
  account?: string;
  region?: string;
  time?: Date;
  eventBusName?: string;
}

interface Rule {
  name: string;
  eventBusName: string;
  eventPattern?: object;
  scheduleExpression?: string;
  schedule?: Schedule;
  target: BusTarget;
  targetName: string;
  timeoutMs: number;
  maximumRetryAttempts: number;
  retryDelayMs: number;
  /** Real-time origin of a rate schedule's intervals. */
  anchorMs: number;
  timer?: NodeJS.Timeout;
  nextFire?: Date;
}

export const DEFAULT_ACCOUNT = '123456789012';
export const DEFAULT_REGION = 'us-east-1';
/** How many events, deliveries and dead letters the bus remembers at most (fewer when they are large). */
export const LOG_LIMIT = 10_000;
/**
 * Default memory budget of each bus log (events; deliveries; dead letters), in bytes of serialised JSON: 32 MiB, that
 * is about 130 events of 250 KB or the full `LOG_LIMIT` of small ones. The heap holds parsed JSON at 2 to 4 times
 * its text size, so the three logs stay within a few hundred MB in the worst case.
 */
export const DEFAULT_LOG_BYTES = 32 * 1024 * 1024;
/** Bytes counted for an entry's fixed members (ids, names, times) on top of its variable text. */
const ENTRY_OVERHEAD_BYTES = 256;
const MAX_TIMER_MS = 2 ** 31 - 1;
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;

/** The last second isoSeconds wrote, and its text: events come many to a second. */
let lastIsoSecond = Number.NaN;
let lastIsoText = '';

/** ISO-8601 UTC without milliseconds, as EventBridge writes `time`. */
export function isoSeconds(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second !== lastIsoSecond) {
    lastIsoText = new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    lastIsoSecond = second;
  }
  return lastIsoText;
}

const describeError = (error: unknown): string => {
  if (error instanceof Error)
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * What the JSON copy of `detail` would be, when `detail` is a plain object of string members only (as the registry's
 * own events are): a new object with the same members, whose strings (immutable) are shared. Otherwise undefined.
 */
function stringMembersCopy(detail: unknown): Record<string, string> | undefined {
  if (detail === null || typeof detail !== 'object' || Object.getPrototypeOf(detail) !== Object.prototype) {
    return undefined;
  }
  const copy: Record<string, string> = {};
  for (const key of Object.keys(detail)) {
    const value = (detail as Record<string, unknown>)[key];
    if (typeof value !== 'string' || key === '__proto__') return undefined;
    copy[key] = value;
  }
  return copy;
}

/** Event detail is JSON: copy it through JSON so that targets never share objects with the publisher. */
function jsonDetail(detail: unknown): { value: unknown; bytes: number } {
  if (detail === undefined) return { value: {}, bytes: 2 };
  const text = JSON.stringify(detail);
  if (text === undefined) return { value: {}, bytes: 2 };
  return { value: stringMembersCopy(detail) ?? JSON.parse(text), bytes: text.length };
}

const eventBytes = (event: BusEvent, detailBytes: number) =>
  ENTRY_OVERHEAD_BYTES +
  detailBytes +
  event.source.length +
  event['detail-type'].length +
  event.resources.reduce((sum, resource) => sum + resource.length + 8, 0);

/** Size of a target's result, for the delivery log's budget. */
function resultBytes(result: unknown): number {
  try {
    return JSON.stringify(result)?.length ?? 0;
  } catch {
    return 0;
  }
}

function nonNegativeInteger(value: number | undefined, fallback: number, label: string, max = Number.MAX_SAFE_INTEGER) {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < 0 || result > max) {
    throw new Error(`${label} must be a whole number between 0 and ${max}, got ${value}`);
  }
  return result;
}

export class EventBus {
  readonly operations: Record<string, BusOperation>;

  private readonly now: () => number;
  private readonly defaultAccount: string;
  private readonly defaultRegion: string;
  private readonly onDelivery?: (d: Delivery) => void;
  /** bus name → rule name → rule */
  private readonly rules = new Map<string, Map<string, Rule>>();
  private readonly eventLog: BoundedLog<BusEvent>;
  private readonly deliveryLog: BoundedLog<Delivery>;
  private readonly deadLetterLog: BoundedLog<DeadLetter>;
  /** Serialised size of each logged event, for the dead letters' budget. */
  private readonly eventSizes = new WeakMap<BusEvent, number>();
  private readonly inFlight = new Set<Promise<Delivery>>();
  private schedulesRunning = false;

  constructor(options: EventBusOptions = {}) {
    this.now = options.now ?? Date.now;
    this.defaultAccount = options.defaultAccount ?? DEFAULT_ACCOUNT;
    this.defaultRegion = options.defaultRegion ?? DEFAULT_REGION;
    this.onDelivery = options.onDelivery;
    const logBytes = options.logBytes ?? DEFAULT_LOG_BYTES;
    if (!Number.isSafeInteger(logBytes) || logBytes < 1) {
      throw new Error(`logBytes must be a positive whole number of bytes, got ${options.logBytes}`);
    }
    this.eventLog = new BoundedLog(LOG_LIMIT, logBytes);
    this.deliveryLog = new BoundedLog(LOG_LIMIT, logBytes);
    this.deadLetterLog = new BoundedLog(LOG_LIMIT, logBytes);
    this.operations = createOperations(this);
  }

  get events(): readonly BusEvent[] {
    return this.eventLog.items;
  }

  get deliveries(): readonly Delivery[] {
    return this.deliveryLog.items;
  }

  get deadLetters(): readonly DeadLetter[] {
    return this.deadLetterLog.items;
  }

  /** Bytes (serialised JSON) each log holds, against its budget. */
  logUsage(): { events: number; deliveries: number; deadLetters: number; budget: number } {
    return {
      events: this.eventLog.bytes,
      deliveries: this.deliveryLog.bytes,
      deadLetters: this.deadLetterLog.bytes,
      budget: this.eventLog.maxBytes,
    };
  }

  /** Adds a rule; throws when the name, pattern or schedule is invalid, or the name is taken on that bus. */
  addRule(spec: RuleSpec): void {
    if (typeof spec.name !== 'string' || !RULE_NAME.test(spec.name)) {
      throw new Error(`Rule name ${JSON.stringify(spec.name)} is not valid: use 1-64 characters of [.-_A-Za-z0-9]`);
    }
    const eventBusName = busName(spec.eventBusName);
    const rules = this.rules.get(eventBusName);
    if (rules?.has(spec.name)) throw new Error(`Rule ${spec.name} already exists on event bus ${eventBusName}`);
    if (typeof spec.target !== 'function') throw new Error(`Rule ${spec.name} needs a target function`);
    if (spec.eventPattern === undefined && spec.scheduleExpression === undefined) {
      throw new Error(`Rule ${spec.name} needs an eventPattern or a scheduleExpression`);
    }
    let eventPattern: object | undefined;
    if (spec.eventPattern !== undefined) {
      eventPattern = structuredClone(spec.eventPattern);
      validatePattern(eventPattern);
    }
    let schedule: Schedule | undefined;
    if (spec.scheduleExpression !== undefined) {
      schedule = parseSchedule(spec.scheduleExpression);
      if (eventBusName !== 'default') {
        throw new Error(`Rule ${spec.name}: scheduled rules are supported only on the default event bus`);
      }
    }
    const timeoutMs = spec.timeoutMs ?? 30_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new Error(`Rule ${spec.name}: timeoutMs must be a positive number, got ${spec.timeoutMs}`);
    }
    const rule: Rule = {
      name: spec.name,
      eventBusName,
      eventPattern,
      scheduleExpression: spec.scheduleExpression,
      schedule,
      target: spec.target,
      targetName: spec.targetName ?? spec.name,
      timeoutMs,
      maximumRetryAttempts: nonNegativeInteger(
        spec.maximumRetryAttempts,
        2,
        `Rule ${spec.name}: maximumRetryAttempts`,
        185,
      ),
      retryDelayMs: nonNegativeInteger(spec.retryDelayMs, 200, `Rule ${spec.name}: retryDelayMs`),
      anchorMs: Date.now(),
    };
    if (rules) rules.set(rule.name, rule);
    else this.rules.set(eventBusName, new Map([[rule.name, rule]]));
    if (this.schedulesRunning && rule.schedule) this.arm(rule, new Date());
  }

  removeRule(name: string, eventBusName?: string): boolean {
    const rules = this.rules.get(busName(eventBusName));
    const rule = rules?.get(name);
    if (!rules || !rule) return false;
    this.disarm(rule);
    rules.delete(name);
    return true;
  }

  listRules(): EventBusRuleInfo[] {
    const now = new Date(this.now());
    return [...this.allRules()].map((rule) => {
      const info: EventBusRuleInfo = { name: rule.name, eventBusName: rule.eventBusName };
      if (rule.eventPattern) info.eventPattern = structuredClone(rule.eventPattern);
      if (rule.schedule && rule.scheduleExpression) {
        info.scheduleExpression = rule.scheduleExpression;
        const next = rule.nextFire ?? nextFireTime(rule.schedule, now);
        if (next) info.nextFireTime = isoSeconds(next.getTime());
      }
      return info;
    });
  }

  /**
   * Publishes one event (used by the emulated ECR service for aws.ecr events and by PutEvents). Returns the
   * event; delivery to the matching targets is asynchronous (as a Lambda async invoke) and never throws.
   */
  emit(input: EmitInput): BusEvent {
    const event = this.publish(input);
    return { ...event, resources: [...event.resources], detail: structuredClone(event.detail) };
  }

  /**
   * `emit` without the caller's copy of the event: for publishers that do not read it back (the registry emits an
   * event per pushed or deleted image). The event returned is the bus's own; do not change it.
   */
  publish(input: EmitInput): Readonly<BusEvent> {
    if (typeof input.source !== 'string' || input.source === '') throw new Error('emit needs a source');
    if (typeof input.detailType !== 'string' || input.detailType === '') throw new Error('emit needs a detailType');
    const detail = jsonDetail(input.detail);
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': input.detailType,
      source: input.source,
      account: input.account ?? this.defaultAccount,
      time: isoSeconds(input.time ? input.time.getTime() : this.now()),
      region: input.region ?? this.defaultRegion,
      resources: [...(input.resources ?? [])],
      detail: detail.value,
    };
    const bytes = eventBytes(event, detail.bytes);
    this.eventSizes.set(event, bytes);
    this.eventLog.push(event, bytes);
    const rules = this.rules.get(busName(input.eventBusName));
    for (const rule of rules?.values() ?? []) {
      if (rule.eventPattern && matchesPattern(rule.eventPattern, event)) void this.dispatch(rule, event);
    }
    return event;
  }

  startSchedules(): void {
    if (this.schedulesRunning) return;
    this.schedulesRunning = true;
    const start = new Date();
    for (const rule of this.allRules()) {
      if (!rule.schedule) continue;
      rule.anchorMs = start.getTime();
      this.arm(rule, start);
    }
  }

  stopSchedules(): void {
    this.schedulesRunning = false;
    for (const rule of this.allRules()) this.disarm(rule);
  }

  /**
   * Fires a schedule rule now (tests, demos); resolves with its delivery once finished, retries included. `detail`
   * is the Scheduled Event's detail (default `{}`, as EventBridge sends), for a manual run's overrides.
   */
  async fireSchedule(name: string, eventBusName?: string, detail: Record<string, unknown> = {}): Promise<Delivery[]> {
    const bus = busName(eventBusName);
    const rule = this.rules.get(bus)?.get(name);
    if (!rule) throw new Error(`No rule named ${name} on event bus ${bus}`);
    if (!rule.schedule) throw new Error(`Rule ${name} on event bus ${bus} has no scheduleExpression`);
    return [await this.fire(rule, jsonDetail(detail))];
  }

  /** Resolves when every delivery in flight (including retries) has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Clears events, deliveries and dead letters (keeps rules). */
  reset(): void {
    this.eventLog.clear();
    this.deliveryLog.clear();
    this.deadLetterLog.clear();
  }

  // -------------------------------------------------------------------------------------------------------------

  private *allRules(): Iterable<Rule> {
    for (const rules of this.rules.values()) yield* rules.values();
  }

  private fire(rule: Rule, detail: { value: unknown; bytes: number } = { value: {}, bytes: 2 }): Promise<Delivery> {
    const scope: OperationScope = { account: this.defaultAccount, region: this.defaultRegion };
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: scope.account,
      time: isoSeconds(this.now()),
      region: scope.region,
      resources: [ruleArn(rule.name, rule.eventBusName, scope)],
      detail: detail.value,
    };
    const bytes = eventBytes(event, detail.bytes);
    this.eventSizes.set(event, bytes);
    this.eventLog.push(event, bytes);
    return this.dispatch(rule, event);
  }

  /** Sets the timer for a schedule rule's next fire strictly after `after` (real time). */
  private arm(rule: Rule, after: Date): void {
    this.disarm(rule);
    if (!rule.schedule) return;
    const next = nextFireTime(rule.schedule, after, new Date(rule.anchorMs));
    if (!next) return;
    rule.nextFire = next;
    const delay = Math.min(Math.max(0, next.getTime() - Date.now()), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      rule.timer = undefined;
      if (!this.schedulesRunning) return;
      if (Date.now() + 1 < next.getTime()) {
        // A far-away fire time longer than one timer can wait: wait again.
        this.arm(rule, new Date(after));
        return;
      }
      void this.fire(rule);
      this.arm(rule, new Date(Math.max(Date.now(), next.getTime())));
    }, delay);
    timer.unref();
    rule.timer = timer;
  }

  private disarm(rule: Rule): void {
    if (rule.timer) clearTimeout(rule.timer);
    rule.timer = undefined;
    rule.nextFire = undefined;
  }

  private dispatch(rule: Rule, event: BusEvent): Promise<Delivery> {
    const delivery = this.deliver(rule, event);
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
    return delivery;
  }

  private async deliver(rule: Rule, event: BusEvent): Promise<Delivery> {
    // Lambda invokes asynchronously: the target never runs inside the publisher's call.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const requestId = randomUUID();
    const maxAttempts = rule.maximumRetryAttempts + 1;
    let error = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await sleep(rule.retryDelayMs * 2 ** (attempt - 2));
      try {
        const result = await this.invoke(rule, structuredClone(event), requestId);
        return this.record({ ruleName: rule.name, eventId: event.id, attempts: attempt, ok: true, result });
      } catch (failure) {
        error = describeError(failure);
      }
    }
    this.deadLetterLog.push(
      { ruleName: rule.name, event, error, attempts: maxAttempts, at: new Date(this.now()).toISOString() },
      (this.eventSizes.get(event) ?? ENTRY_OVERHEAD_BYTES) + error.length,
    );
    return this.record({ ruleName: rule.name, eventId: event.id, attempts: maxAttempts, ok: false, error });
  }

  private record(delivery: Delivery): Delivery {
    this.deliveryLog.push(
      delivery,
      ENTRY_OVERHEAD_BYTES + (delivery.error?.length ?? 0) + (delivery.ok ? resultBytes(delivery.result) : 0),
    );
    try {
      this.onDelivery?.(delivery);
    } catch {
      // An observer's failure is not the delivery's.
    }
    return delivery;
  }

  /** One invocation of a target, as Lambda runs it: a context with a deadline; exceeding it fails the attempt. */
  private invoke(rule: Rule, event: BusEvent, requestId: string): Promise<unknown> {
    const started = performance.now();
    const { timeoutMs } = rule;
    const account = event.account;
    const region = event.region;
    const functionName = rule.targetName;
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        outcome();
      };
      const succeed = (result: unknown) => finish(() => resolve(result));
      const fail = (error: unknown) => finish(() => reject(error));
      const deadline = setTimeout(
        () => fail(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)),
        timeoutMs,
      );
      const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
      const context: LambdaLikeContext = {
        functionName,
        functionVersion: '$LATEST',
        invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
        memoryLimitInMB: '1024',
        awsRequestId: requestId,
        logGroupName: `/aws/lambda/${functionName}`,
        logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => Math.max(0, Math.round(timeoutMs - (performance.now() - started))),
        done: (error?: unknown, result?: unknown) => (error ? fail(error) : succeed(result)),
        fail,
        succeed,
      };
      try {
        Promise.resolve(rule.target(event, context)).then(succeed, fail);
      } catch (error) {
        fail(error);
      }
    });
  }
}
