import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BusApiError, EventBus } from '../bus/event-bus.ts';
import { busOperationJournalling } from '../bus/operations.ts';
import { LocalTopics, runSns, SnsError, snsErrorXml, snsResponseXml } from '../bus/sns.ts';
import { type EcrContextFor, handleControl, replayControl } from '../control/control.ts';
import { Faults } from '../control/faults.ts';
import { ORGANIZATIONS_TARGET_PREFIX, organizationsOperations } from '../identity/organizations.ts';
import { FORM_CONTENT_TYPE, runSts, StsError, stsErrorXml, stsResponseXml } from '../identity/sts.ts';
import { BlobStore } from '../model/blob-store.ts';
import { AccountLimitError, ECR_REGIONS, Registry, type RegistryState } from '../model/state.ts';
import type { EmittedEvent, OpContext, OperationTable, OpSettings } from '../ops/context.ts';
import { ecrOperationJournalling, ecrOperations, replayOperations } from '../ops/index.ts';
import { UPLOAD_LAYER_PART_BODY_BYTES } from '../ops/layers.ts';
import { DataDirState } from '../persist/data-dir-state.ts';
import type { JournalRecord } from '../persist/journal.ts';
import {
  PUBLIC_LOGO_PREFIX,
  publicHandler,
  publicOperationJournalling,
  publicOperations,
} from '../public/operations.ts';
import { PUBLIC_REGION, PublicRegistryState } from '../public/state.ts';
import { refuseS3, replayS3, type S3Host, s3RequestScope, serveS3 } from '../storage/s3.ts';
import { ECS_TARGET_PREFIX, ecsOperations } from '../workloads/ecs.ts';
import { LAMBDA_PATH_PREFIX, LambdaError, lambdaOperation, serveLambda } from '../workloads/lambda.ts';
import { serveDistribution } from './distribution.ts';
import type { DistributionHost } from './distribution-host.ts';
import { EcrException } from './errors.ts';
import { jsonDepthExceeds, loopbackHost, loopbackOrigin } from './http-guards.ts';
import { startIdleCollector } from './idle-gc.ts';
import { JSON_CONTENT_TYPE, send, sendError } from './json-response.ts';
import { LAYER_DOWNLOAD_PREFIX, serveLayerDownload } from './layer-download.ts';
import { DistributionError, sendDistributionError } from './oci-http.ts';
import { serveToken } from './public-distribution.ts';
import type { MountedHandler, RegistryServer } from './registry-server.ts';
import { parseScope, type RequestScope, signingService } from './sigv4.ts';
import { Input } from './validate.ts';

export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
export const EVENTS_TARGET_PREFIX = 'AWSEvents.';
/** ECR Public's JSON 1.1 target prefix ([M-ECRPUB]). */
export const PUBLIC_TARGET_PREFIX = 'SpencerFrontendService.';
export const CONTROL_PREFIX = '/_local/';
/** The path prefixes `RegistryServer.mount` takes: `/_<name>/`. */
const MOUNT_PREFIX = /^\/_[a-z][a-z0-9-]{0,30}\/$/;
/** ECR's largest member is a 4 MiB manifest; JSON escaping can grow it, so the body cap leaves room for that. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/**
 * Deepest JSON nesting a request body may have. ECR's deepest input shape is a handful of levels (an event
 * pattern or a manifest travels as a string); refusing deeper bodies before parsing keeps recursive code safe.
 */
export const MAX_BODY_DEPTH = 64;
/** UploadLayerPart requests served at once (their bodies are up to 32 MiB each). */
export const MAX_LAYER_PARTS_IN_FLIGHT = 4;
const ACCEPTED_CONTENT_TYPES = new Set([
  'application/x-amz-json-1.1',
  'application/x-amz-json-1.0',
  'application/json',
]);

/**
 * What an ECR operation run by the control API (`POST /_local/lifecycle/run`) is named in its context, and the access
 * key that stands for its caller: ECR itself, not a client.
 */
const CONTROL_OPERATION = 'RunLifecyclePolicies';
const CONTROL_ACCESS_KEY = 'local-control';

/** A restore from the archive takes up to 20 minutes in ECR ([UG-ARCH]). */
export const DEFAULT_RESTORE_DURATION_MS = 20 * 60_000;
export interface RegistryServerOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Bind address; only loopback addresses are accepted. */
  host?: string;
  /** The event bus that receives the events ECR emits and serves PutEvents; one is created when omitted. */
  bus?: EventBus;
  /** How long a started scan, or lifecycle policy preview, stays IN_PROGRESS (ms of real time; default 25). */
  scanDurationMs?: number;
  /**
   * How long a restore from the archive stays ACTIVATING, in registry time (ms): moving the clock
   * (`POST /_local/clock`) ends it as waiting does. Default 20 minutes, as long as ECR says a restore may take.
   */
  restoreDurationMs?: number;
  /** Memory budget of each bus log in bytes (events, deliveries, dead letters); default `DEFAULT_LOG_BYTES` (32 MiB). */
  busLogBytes?: number;
  /**
   * Where the registry keeps its state across restarts: blobs, a journal of every change (appended before the
   * change is acknowledged, replayed at start) and its signing keys; one process at a time (a lock file). When
   * omitted, blobs go to a temporary directory removed on close, and nothing else is written.
   */
  dataDir?: string;
  /** With `dataDir`: flush each journal record to the disk before answering (survives a power loss; slower). */
  fsync?: boolean;
  /**
   * With `dataDir`: once the journal passes this many bytes (and the size of the last snapshot), the state is
   * written to a snapshot and the journal starts again (default `DEFAULT_COMPACT_BYTES`, 64 MiB), so that neither
   * the journal nor the replay at start grows without bound.
   */
  compactBytes?: number;
}

/** The journal size past which a data directory is compacted. */
export const DEFAULT_COMPACT_BYTES = 64 * 1024 * 1024;

export type { MountedHandler, RegistryServer } from './registry-server.ts';

/** How often expired uploads are looked for. */
const UPLOAD_SWEEP_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a state holds nothing a request created (so that a failed or empty first call leaves no state behind). */
function isPristine(state: RegistryState): boolean {
  return (
    state.repositories.size === 0 &&
    state.scanning.scanType === 'BASIC' &&
    state.scanning.rules.length === 0 &&
    state.replication.rules.length === 0 &&
    state.pullThroughCacheRules.size === 0 &&
    state.creationTemplates.size === 0 &&
    state.registryPolicyText === undefined &&
    state.pendingFindings.size === 0 &&
    state.pullTimeExclusions.size === 0
  );
}

const accountLimit = (error: AccountLimitError) => new EcrException('LimitExceededException', error.message);

/** The request body, or undefined past `limit` bytes (read to its end all the same). Listeners, not an async iterator: cheaper per request. */
function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    let ended = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.once('end', () => {
      ended = true;
      resolve(tooLarge ? undefined : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!ended) reject(new Error('The request was closed before its body ended'));
    });
  });
}

/**
 * A journal record that does not replay as it ran: the registry would start with a state other than the one it
 * acknowledged, so it does not start. (Skipping the record with a warning would let later records, and the user,
 * work on a state that silently differs: a repository missing, an image whose tag moved.)
 */
export class ReplayError extends Error {
  constructor(
    readonly path: string,
    readonly line: number,
    record: JournalRecord,
    cause: unknown,
  ) {
    const what =
      typeof record.op === 'string'
        ? `${record.k} ${record.op}`
        : typeof record.route === 'string'
          ? `control ${record.route}`
          : record.k;
    super(
      `Cannot replay ${path} line ${line} (${what}): ${cause instanceof Error ? cause.message : String(cause)}. The registry does not start rather than start with a state that differs from the one it acknowledged; move the journal aside to start empty.`,
      { cause },
    );
  }
}

/** The state a call works on, and whether it was held before or is detached (see `callState`). */
interface CallState {
  state: RegistryState;
  held: boolean;
  detached: boolean;
}

const text = (record: JournalRecord, key: string): string => {
  const value = record[key];
  if (typeof value !== 'string') throw new Error(`the record has no ${key}`);
  return value;
};

const object = (record: JournalRecord, key: string): Record<string, unknown> => {
  const value = record[key];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`the record has no ${key}`);
  return value as Record<string, unknown>;
};

/** Starts the local registry and event bus on loopback. */
export async function startRegistryServer(options: RegistryServerOptions = {}): Promise<RegistryServer> {
  const host = options.host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
    throw new Error(`The local registry listens on loopback only; refusing host ${host}`);
  }
  // The lock first: opening the blob store discards uploads in progress, which must not be another process's.
  const dataDir = options.dataDir === undefined ? undefined : DataDirState.open(options.dataDir, options);
  let blobs: BlobStore;
  try {
    blobs = await BlobStore.open(options.dataDir);
  } catch (error) {
    dataDir?.close();
    throw error;
  }
  const registry = new Registry(blobs);
  const publicRegistries = registry.publicRegistries;
  const faults = new Faults();
  const calls = new Map<string, number>();
  /** SNS topics and the messages published to them (not kept by a data directory). */
  const topics = new LocalTopics();
  const settings: OpSettings = {
    scanDurationMs: options.scanDurationMs ?? 25,
    restoreDurationMs: options.restoreDurationMs ?? DEFAULT_RESTORE_DURATION_MS,
    endpoint: '',
    layerUrlKey: dataDir?.layerUrlKey ?? randomBytes(32),
  };
  let clockOffset = 0;
  /** With a data directory, the registry time a `later` task runs at, fixed while it runs (see `later`). */
  let taskTime: number | undefined;
  const now = dataDir ? () => taskTime ?? Date.now() + clockOffset : () => Date.now() + clockOffset;
  const bus = options.bus ?? new EventBus({ now, logBytes: options.busLogBytes });
  const timers = new Set<NodeJS.Timeout>();
  let layerPartsInFlight = 0;
  const compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
  let compaction: NodeJS.Immediate | undefined;
  /**
   * Journals a change (before it is acknowledged). Past `compactBytes`, compaction follows once the current turn of
   * the event loop ends: a change and its record are made in one turn, so the state it snapshots is the journal's.
   * It waits while a `later` task is pending (a snapshot holds no tasks): the task's own record tries again.
   */
  const append = (record: JournalRecord) => {
    if (!dataDir) return;
    dataDir.append(record);
    if (compaction !== undefined || !dataDir.compactionDue(compactBytes)) return;
    compaction = setImmediate(() => {
      compaction = undefined;
      if (timers.size > 0) return;
      try {
        compact();
      } catch (error) {
        // No request waits for it; the journal goes on (or refuses changes, if it could not be started again).
        console.error(`local registry: compaction failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  };
  const compact = () => {
    dataDir?.compact(registry, clockOffset);
    taskSeq = 0;
  };
  const idleCollector = startIdleCollector();
  // Uploads left untouched past their time to live are discarded (their files removed) even when no other upload
  // comes along to notice them.
  const uploadSweeper = setInterval(() => registry.uploads.sweep(now()), UPLOAD_SWEEP_MS);
  uploadSweeper.unref();

  const schedule = (delayMs: number, task: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      task();
    }, delayMs);
    timers.add(timer);
  };
  /**
   * With a data directory, tasks are numbered in the order they are scheduled (the replay schedules them in the same
   * order, so only operations replayed by name may schedule one), and each one that runs is journalled with its
   * number, the operation that scheduled it, and the registry time it ran at: the replay runs it at that point, at
   * that time (and stops, rather than run another task, when the numbers no longer match the operations).
   */
  let taskSeq = 0;
  const runJournalled = (id: number, op: string, task: () => void) => () => {
    taskTime = now();
    try {
      task();
    } finally {
      const t = taskTime;
      taskTime = undefined;
      try {
        append({ k: 'later', id, op, t });
      } catch (error) {
        // No request waits for this task: say it (the journal refuses every change from now on).
        console.error(`local registry: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const laterFor = (operation: string) =>
    dataDir
      ? (delayMs: number, task: () => void) => schedule(delayMs, runJournalled(taskSeq++, operation, task))
      : schedule;

  /** A registry clock that reads `time` until the clock is moved (then moved as much): a control call's time. */
  const clockFrom = (time: number) => {
    const offset = clockOffset;
    return () => time + clockOffset - offset;
  };
  const noJournal = () => undefined;
  /**
   * `OpContext.journal` with a data directory, in the scope of the operation: an ECR operation's input (a manifest
   * pushed over `/v2/` is the PutImage it amounts to) is an `ecr` record, anything else a `replayOperations` one.
   */
  const journalIn =
    (scope: RequestScope, clock: () => number) =>
    (op: string, input: Record<string, unknown>): void =>
      append({
        k: Object.hasOwn(ecrOperations, op) ? 'ecr' : 'rec',
        op,
        a: scope.account,
        r: scope.region,
        ak: scope.accessKeyId,
        t: clock(),
        in: input,
      });

  const context = (
    operation: string,
    scope: RequestScope,
    state: RegistryState,
    clock: () => number = now,
    journal: OpContext['journal'] = dataDir ? journalIn(scope, clock) : noJournal,
  ): OpContext => ({
    operation,
    account: scope.account,
    region: scope.region,
    accessKeyId: scope.accessKeyId,
    state,
    registry,
    settings,
    now: clock,
    later: laterFor(operation),
    journal,
    emit: (event: EmittedEvent) => {
      bus.publish({
        source: 'aws.ecr',
        detailType: event.detailType,
        detail: event.detail,
        resources: event.resources ?? [],
        account: scope.account,
        region: scope.region,
        time: new Date(clock()),
      });
    },
  });

  /**
   * The ECR context of a control route that acts as ECR does (`POST /_local/lifecycle/run`), at the control call's
   * registry time `clock`; the control record journals the call, so the context journals nothing of its own.
   */
  const controlContext =
    (clock: () => number): EcrContextFor =>
    (account, region, state) =>
      context(CONTROL_OPERATION, { account, region, accessKeyId: CONTROL_ACCESS_KEY }, state, clock, noJournal);

  /**
   * Journals an ECR Public change of `account` (a `pub` record, replayed by name with `publicHandler`), made at
   * registry time `time` by `accessKeyId`.
   */
  const publicJournalIn =
    (account: string, accessKeyId: string, time: number) =>
    (op: string, input: Record<string, unknown>): void =>
      append({ k: 'pub', op, a: account, ak: accessKeyId, t: time, in: input });

  const distribution: DistributionHost = {
    registry,
    now,
    context,
    endpoint: () => settings.endpoint,
    publicRegistry: (alias) => {
      for (const state of publicRegistries.all()) if (state.alias === alias) return state;
      return undefined;
    },
    publicContext: (state, identity) => {
      const time = now();
      return {
        account: state.account,
        accessKeyId: identity.accessKeyId,
        state,
        now: () => time,
        endpoint: settings.endpoint,
        registry,
        journal: dataDir ? publicJournalIn(state.account, identity.accessKeyId, time) : noJournal,
      };
    },
    call: async (name) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      const fault = faults.next(name);
      if (fault.latencyMs > 0) await sleep(fault.latencyMs);
      return fault.fail;
    },
  };
  /**
   * The state a call in `scope` works on. State for an account and region is kept only when a request leaves
   * something in it: a read of one that has none sees an empty registry, and a failed first write leaves nothing
   * behind. Past the account limit a new account gets a detached state: the request is validated and answered as
   * usual, unless it would leave something in that state (LimitExceededException; a new, empty registry has no
   * repository, so nothing was emitted or scheduled for it). `checkCall` ends a call that succeeded, `settleCall`
   * every call.
   */
  const callState = (scope: RequestScope): CallState => {
    const held = registry.existing(scope.account, scope.region);
    const detached = !held && !registry.canHold(scope.account);
    const state =
      held ?? (detached ? registry.peek(scope.account, scope.region) : registry.state(scope.account, scope.region));
    return { state, held: held !== undefined, detached };
  };
  const checkCall = (call: CallState) => {
    if (call.detached && !isPristine(call.state)) throw new AccountLimitError(call.state.account);
  };
  const settleCall = (call: CallState) => {
    if (!call.held && !call.detached && isPristine(call.state)) registry.release(call.state);
  };

  /**
   * Replays the journal of the data directory: every change in its order, with the registry time, account, region
   * and access key it was made with. No event is emitted and nothing is delivered (they were, before the restart),
   * faults and call counts do not apply, and `later` tasks (scan completions) run where the journal says they ran,
   * at the time they ran, so that the state is what it was. A task that had not run when the process stopped runs
   * when its time comes (at once if it has passed), emitting its events then. A record that fails to replay stops
   * the start (see `ReplayError`).
   */
  const replayJournal = async (data: DataDirState): Promise<number> => {
    let replaying = true;
    let clock = 0;
    /** Tasks scheduled during the replay, by number, until a record says they ran. */
    const tasks = new Map<number, { due: number; op: string; task: () => void }>();
    const replayClock = () => (replaying ? clock : now());
    const replayContext = (operation: string, scope: RequestScope, state: RegistryState): OpContext => {
      const live = context(operation, scope, state, replayClock, journalIn(scope, replayClock));
      return {
        ...live,
        later: (delayMs, task) => {
          if (replaying) tasks.set(taskSeq++, { due: clock + delayMs, op: operation, task });
          else live.later(delayMs, task);
        },
        emit: (event) => {
          if (!replaying) live.emit(event);
        },
        journal: (op, input) => {
          if (!replaying) live.journal(op, input);
        },
      };
    };
    const replayServer = (): RegistryServer => {
      const offset = clockOffset;
      return {
        url: settings.endpoint,
        port: 0,
        registry,
        publicRegistries,
        bus,
        faults,
        calls,
        topics,
        now: () => clock + clockOffset - offset,
        mount: (prefix, handler) => {
          if (!MOUNT_PREFIX.test(prefix) || prefix === CONTROL_PREFIX) {
            throw new Error(
              `Cannot mount ${JSON.stringify(prefix)}: give /_<name>/ (lowercase letters, digits, -), not /_local/`,
            );
          }
          if (mounts.has(prefix)) throw new Error(`${prefix} is mounted already`);
          mounts.set(prefix, handler);
        },
        advanceClock: (ms: number) => {
          clockOffset += ms;
        },
        reset: () => {
          tasks.clear();
          taskSeq = 0;
          registry.reset();
          clockOffset = 0;
        },
        close: async () => undefined,
      };
    };
    const run = async (table: OperationTable, record: JournalRecord) => {
      const op = text(record, 'op');
      const handler = Object.hasOwn(table, op) ? table[op] : undefined;
      if (!handler) throw new Error(`no operation ${op} to replay it with`);
      const scope: RequestScope = {
        account: text(record, 'a'),
        region: text(record, 'r'),
        accessKeyId: text(record, 'ak'),
      };
      const call = callState(scope);
      try {
        await handler(object(record, 'in'), replayContext(op, scope, call.state));
        checkCall(call);
      } finally {
        settleCall(call);
      }
    };
    const restored = data.restore(registry);
    if (restored) clockOffset = restored.clockOffset;
    let count = 0;
    for (const { record, line } of data.records()) {
      try {
        if (typeof record.t === 'number') clock = record.t;
        switch (record.k) {
          case 'later': {
            const id = record.id;
            const task = typeof id === 'number' ? tasks.get(id) : undefined;
            if (!task) throw new Error(`no task ${String(id)} was scheduled by the records before it`);
            if (task.op !== record.op) {
              throw new Error(`task ${id} was scheduled by ${task.op} here, by ${String(record.op)} when it ran`);
            }
            tasks.delete(id as number);
            task.task();
            break;
          }
          case 'ecr':
            await run(ecrOperations, record);
            break;
          case 'rec':
            await run(replayOperations, record);
            break;
          case 'pub': {
            const op = text(record, 'op');
            const handler = publicHandler(op);
            if (!handler) throw new Error(`no ECR Public operation ${op} to replay it with`);
            const time = record.t;
            if (typeof time !== 'number') throw new Error('the record has no t');
            const state = publicRegistries.state(text(record, 'a'));
            try {
              await handler(object(record, 'in'), {
                account: state.account,
                accessKeyId: text(record, 'ak'),
                state,
                now: () => time,
                endpoint: settings.endpoint,
                registry,
                journal: noJournal,
              });
            } finally {
              publicRegistries.release(state);
            }
            break;
          }
          case 'control':
            await replayControl(text(record, 'route'), object(record, 'in'), replayServer(), (account, region, state) =>
              replayContext(CONTROL_OPERATION, { account, region, accessKeyId: CONTROL_ACCESS_KEY }, state),
            );
            break;
          case 'bus': {
            const op = text(record, 'op');
            const handler = Object.hasOwn(bus.operations, op) ? bus.operations[op] : undefined;
            if (!handler) throw new Error(`no bus operation ${op} to replay it with`);
            await handler(object(record, 'in'), { account: text(record, 'a'), region: text(record, 'r') });
            break;
          }
          case 's3': {
            const time = record.t;
            if (typeof time !== 'number') throw new Error('the record has no t');
            replayS3(
              registry.storage,
              text(record, 'op'),
              { account: text(record, 'a'), region: text(record, 'r') },
              time,
              object(record, 'in'),
            );
            break;
          }
          case 'vanish':
            registry.existing(text(record, 'a'), text(record, 'r'))?.repositories.delete(text(record, 'name'));
            break;
          default:
            throw new Error(`unknown record kind '${record.k}'`);
        }
      } catch (error) {
        throw new ReplayError(data.journalPath, line, record, error);
      }
      count++;
    }
    // Tasks that had not run when the process stopped run when their time comes (at once when it has passed), as
    // they would have: their events are emitted then.
    replaying = false;
    for (const [id, { due, op, task }] of tasks) schedule(Math.max(0, due - now()), runJournalled(id, op, task));
    return count;
  };
  let replayed: { records: number; ms: number } | undefined;
  if (dataDir) {
    const started = performance.now();
    try {
      const records = await replayJournal(dataDir);
      dataDir.openJournal();
      replayed = { records, ms: Math.round(performance.now() - started) };
    } catch (error) {
      for (const timer of timers) clearTimeout(timer);
      idleCollector.stop();
      clearInterval(uploadSweeper);
      await blobs.close();
      dataDir.close();
      throw error;
    }
  }

  /**
   * An ECR Public call. Its state is the caller's account's public registry, kept (as a private registry's state) only
   * once a call leaves something in it. With a data directory, a change is journalled (a `pub` record) before its
   * answer, with the registry time it ran at (fixed for the call).
   */
  const servePublic = async (
    operation: string,
    input: Record<string, unknown>,
    scope: RequestScope,
    res: ServerResponse,
    requestId: string,
  ) => {
    if (scope.region !== PUBLIC_REGION) {
      // ECR Public's API has one endpoint, in us-east-1; a client set to another region reaches no endpoint at all.
      // The closest answer the model has is its "action isn't supported in this Region".
      throw new EcrException(
        'UnsupportedCommandException',
        `The ECR Public API is served in ${PUBLIC_REGION} only, not in '${scope.region.slice(0, 64)}'`,
      );
    }
    const handler = Object.hasOwn(publicOperations, operation) ? publicOperations[operation] : undefined;
    if (!handler) {
      throw new EcrException(
        'UnknownOperationException',
        `The local registry does not implement ECR Public operation ${operation}`,
      );
    }
    // Counted and faulted as `public:<Op>`, apart from the ECR operation of the same name.
    const counted = `public:${operation}`;
    calls.set(counted, (calls.get(counted) ?? 0) + 1);
    const fault = faults.next(counted);
    if (fault.latencyMs > 0) await sleep(fault.latencyMs);
    if (fault.fail === 'throttle') throw new EcrException('ThrottlingException', 'Rate exceeded');
    if (fault.fail === 'server') throw new EcrException('ServerException', 'Injected server error', 500);
    const held = publicRegistries.existing(scope.account);
    const detached = !held && !publicRegistries.canHold(scope.account);
    const state = held ?? (detached ? new PublicRegistryState(scope.account) : publicRegistries.state(scope.account));
    const time = now();
    const journalPublic = publicJournalIn(scope.account, scope.accessKeyId, time);
    try {
      const output = await handler(input, {
        account: scope.account,
        accessKeyId: scope.accessKeyId,
        state,
        now: () => time,
        endpoint: settings.endpoint,
        registry,
        journal: dataDir && !detached ? journalPublic : noJournal,
      });
      if (detached && !state.pristine) throw new AccountLimitError(scope.account);
      if (dataDir && (publicOperationJournalling[operation] ?? 'change') === 'change') {
        journalPublic(operation, input);
      }
      send(res, 200, output, requestId);
    } finally {
      if (!held && !detached) publicRegistries.release(state);
    }
  };

  /**
   * A Lambda request (REST-JSON under `/2015-03-31/functions`): signed for a region ECR serves, counted and subject to
   * faults as `lambda:<Op>`, answered from the workloads of the caller's account and region. Errors carry Lambda's
   * shape: `x-amzn-ErrorType` and a body with `Type` and `Message`.
   */
  const serveLambdaHttp = async (req: IncomingMessage, rest: string, res: ServerResponse, requestId: string) => {
    const fail = (error: LambdaError) => {
      // TooManyRequestsException's members are `Type`, `message` and `Reason`; Lambda's other errors have `Message`.
      const payload = JSON.stringify(
        error.type === 'TooManyRequestsException'
          ? { Type: error.kind, message: error.message, Reason: 'CallerRateLimitExceeded' }
          : { Type: error.kind, Message: error.message },
      );
      res.writeHead(error.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        'x-amzn-errortype': error.type,
        'x-amzn-requestid': requestId,
      });
      res.end(payload);
    };
    try {
      const scope = parseScope(req.headers.authorization);
      if (!scope) throw new LambdaError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
      if (expiredSession(scope)) {
        throw new LambdaError('ExpiredTokenException', 'The security token included in the request is expired', 403);
      }
      if (!ECR_REGIONS.has(scope.region)) {
        throw new LambdaError(
          'InvalidSignatureException',
          `Credential should be scoped to a valid region, not '${scope.region.slice(0, 64)}'.`,
          403,
        );
      }
      const method = req.method ?? 'GET';
      const operation = lambdaOperation(method, rest);
      if (operation !== undefined) {
        const name = `lambda:${operation}`;
        calls.set(name, (calls.get(name) ?? 0) + 1);
        const fault = faults.next(name);
        if (fault.latencyMs > 0) await sleep(fault.latencyMs);
        if (fault.fail === 'throttle') throw new LambdaError('TooManyRequestsException', 'Rate exceeded', 429);
        if (fault.fail === 'server') throw new LambdaError('ServiceException', 'Injected server error', 500);
      }
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
      const output = serveLambda({
        method,
        path: rest,
        query,
        account: scope.account,
        region: scope.region,
        state: registry.workloads.existing(scope.account, scope.region),
      });
      const payload = JSON.stringify(output);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        'x-amzn-requestid': requestId,
      });
      res.end(payload);
    } catch (error) {
      if (error instanceof LambdaError) fail(error);
      else throw error;
    }
  };

  /** Whether the request's access key is a session AssumeRole issued that has expired (registry time). */
  const expiredSession = (scope: RequestScope) => {
    const session = registry.identity.session(scope.accessKeyId);
    return session !== undefined && session.expiresAt <= now();
  };

  /**
   * A request of a Query-protocol service (`POST /`, a form body with `Action`, answered in XML), counted and subject
   * to faults as `<prefix>:<Action>`: its credential scope is checked (`check`), then `answer` runs the action. A
   * refusal is the service's own error (`error`), in its XML (`errorXml`).
   */
  const serveQueryProtocol = async <E extends Error & { status: number }>(
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    requestId: string,
    service: {
      prefix: string;
      /** Its error class (`StsError`, `SnsError`): what it throws is answered in its XML. */
      ErrorClass: new (
        code: string,
        message: string,
        status?: number,
      ) => E;
      errorXml: (error: E, requestId: string) => string;
      /** The code of an injected server error (each service names it its own way). */
      internalCode: string;
      check?: (scope: RequestScope) => void;
      answer: (action: string, params: URLSearchParams, scope: RequestScope) => string;
    },
  ) => {
    const reply = (status: number, xml: string) => {
      res.writeHead(status, {
        'content-type': 'text/xml',
        'content-length': Buffer.byteLength(xml),
        'x-amzn-requestid': requestId,
      });
      res.end(xml);
    };
    const fail = (code: string, message: string, status: number) => new service.ErrorClass(code, message, status);
    try {
      const params = new URLSearchParams(body.toString('utf8'));
      const action = params.get('Action') ?? '';
      const scope = parseScope(req.headers.authorization);
      if (!scope) throw fail('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
      service.check?.(scope);
      if (!/^\w{1,64}$/.test(action)) throw fail('MissingAction', 'Missing Action', 400);
      const name = `${service.prefix}:${action}`;
      calls.set(name, (calls.get(name) ?? 0) + 1);
      const fault = faults.next(name);
      if (fault.latencyMs > 0) await sleep(fault.latencyMs);
      if (fault.fail === 'throttle') throw fail('Throttling', 'Rate exceeded', 400);
      if (fault.fail === 'server') throw fail(service.internalCode, 'Injected server error', 500);
      reply(200, service.answer(action, params, scope));
    } catch (error) {
      if (error instanceof service.ErrorClass) reply(error.status, service.errorXml(error, requestId));
      else throw error;
    }
  };

  /**
   * An STS request, told apart by its credential scope. Roles are the fixtures' `iam.roles`; the credentials
   * AssumeRole issues select the role's account (see `parseScope`).
   */
  const serveSts = (req: IncomingMessage, body: Buffer, res: ServerResponse, requestId: string) =>
    serveQueryProtocol(req, body, res, requestId, {
      prefix: 'sts',
      ErrorClass: StsError,
      errorXml: stsErrorXml,
      internalCode: 'InternalFailure',
      check: (scope) => {
        if (!ECR_REGIONS.has(scope.region)) {
          throw new StsError(
            'SignatureDoesNotMatch',
            `Credential should be scoped to a valid region, not '${scope.region.slice(0, 64)}'.`,
            403,
          );
        }
        if (expiredSession(scope))
          throw new StsError('ExpiredToken', 'The security token included in the request is expired', 403);
      },
      answer: (action, params, scope) => {
        const session = registry.identity.session(scope.accessKeyId);
        const answer = runSts(action, params, { ...scope, ...(session ? { session } : {}) }, registry.identity, now());
        return stsResponseXml(action, answer, requestId);
      },
    });

  /** An SNS request, told apart by its credential scope `sns` (`bus/sns.ts`: CreateTopic, Publish). */
  const serveSns = (req: IncomingMessage, body: Buffer, res: ServerResponse, requestId: string) =>
    serveQueryProtocol(req, body, res, requestId, {
      prefix: 'sns',
      ErrorClass: SnsError,
      errorXml: snsErrorXml,
      internalCode: 'InternalError',
      answer: (action, params, scope) =>
        snsResponseXml(action, runSns(action, params, scope, topics, now()), requestId),
    });

  /**
   * S3 (path-style `/<bucket>/<key>`, told apart by its credential scope): counted and subject to faults as
   * `s3:<Op>`; a change is journalled (an `s3` record, replayed with `replayS3`) before its answer.
   */
  const s3Host: S3Host = {
    storage: registry.storage,
    now,
    call: async (name) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      const fault = faults.next(name);
      if (fault.latencyMs > 0) await sleep(fault.latencyMs);
      return fault.fail;
    },
    journal: (op, scope, time, input) =>
      append({ k: 's3', op, a: scope.account, r: scope.region, ak: scope.accessKeyId, t: time, in: input }),
    expired: (scope) => expiredSession(scope),
    validRegion: (region) => ECR_REGIONS.has(region),
  };

  /** A repository logo (`logoUrl` of its catalog data): `<account>/<repository name>`. */
  const servePublicLogo = (method: string | undefined, rest: string, res: ServerResponse) => {
    const slash = rest.indexOf('/');
    const logo =
      method === 'GET' || method === 'HEAD'
        ? publicRegistries.existing(rest.slice(0, Math.max(0, slash)))?.repositories.get(rest.slice(slash + 1))?.catalog
            ?.logo
        : undefined;
    if (!logo) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': logo.length });
    res.end(method === 'HEAD' ? undefined : logo);
  };

  /** The handlers of mounted path prefixes (`RegistryServer.mount`). */
  const mounts = new Map<string, MountedHandler>();
  const mountedAt = (path: string): MountedHandler | undefined => {
    if (mounts.size === 0 || !path.startsWith('/_')) return undefined;
    return mounts.get(path.slice(0, path.indexOf('/', 2) + 1));
  };

  const server: Server = createServer(async (req, res) => {
    idleCollector.touch();
    const requestId = randomUUID();
    try {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      // DNS rebinding and cross-site requests: only loopback names reach the registry, from no foreign page.
      const refusal = !loopbackHost(req.headers.host)
        ? `Host '${String(req.headers.host ?? '')}' is not a loopback name (127.0.0.1, localhost or [::1])`
        : req.headers.origin !== undefined && !loopbackOrigin(req.headers.origin)
          ? `Origin '${req.headers.origin}' is not a loopback origin`
          : undefined;
      const mounted = mountedAt(path);
      if (refusal !== undefined) {
        req.resume();
        if (path.startsWith(CONTROL_PREFIX) || mounted !== undefined) {
          const text = JSON.stringify({ error: `Forbidden: ${refusal}` });
          res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        } else if (s3RequestScope(req)) {
          refuseS3(req, res, refusal);
        } else if (path === '/v2' || path.startsWith('/v2/')) {
          sendDistributionError(
            req,
            res,
            new DistributionError(403, 'DENIED', `The local registry refuses this request: ${refusal}`),
          );
        } else {
          sendError(
            res,
            new EcrException('AccessDeniedException', `The local registry refuses this request: ${refusal}`, 403),
            requestId,
          );
        }
        return;
      }
      // A mounted prefix (`/_<name>/`) is no bucket name (S3's start with a letter or digit) nor any API's path.
      if (mounted !== undefined) {
        await mounted(req, res);
        return;
      }
      // S3 first: a bucket may be named like another route's first segment (`token`, `2015-03-31`).
      const s3Scope = s3RequestScope(req);
      if (s3Scope) {
        await serveS3(req, res, s3Scope, s3Host);
        return;
      }
      if (path.startsWith(LAYER_DOWNLOAD_PREFIX)) {
        req.resume();
        await serveLayerDownload(req, res, { blobs, key: settings.layerUrlKey, now: now() });
        return;
      }
      // The registry API streams blob bodies: it is routed before any body is read.
      if (path === '/v2' || path.startsWith('/v2/')) {
        await serveDistribution(req, res, distribution);
        return;
      }
      if (path === '/token' || path === '/token/') {
        await serveToken(req, res, distribution);
        return;
      }
      if (path.startsWith(PUBLIC_LOGO_PREFIX)) {
        req.resume();
        servePublicLogo(req.method, path.slice(PUBLIC_LOGO_PREFIX.length), res);
        return;
      }
      if (path === LAMBDA_PATH_PREFIX || path.startsWith(`${LAMBDA_PATH_PREFIX}/`)) {
        req.resume();
        await serveLambdaHttp(req, path.slice(LAMBDA_PATH_PREFIX.length), res, requestId);
        return;
      }
      if (path.startsWith(CONTROL_PREFIX)) {
        const body = await readBody(req);
        if (!dataDir) {
          await handleControl(req, res, path.slice(CONTROL_PREFIX.length), body, serverApi, controlContext(now));
          return;
        }
        // A change is journalled with the registry time it saw (fixed for the call); a reset compacts instead.
        const time = now();
        const at: RegistryServer = { ...serverApi, now: clockFrom(time) };
        const ecr = controlContext(at.now);
        await handleControl(req, res, path.slice(CONTROL_PREFIX.length), body, at, ecr, (route, input) => {
          if (route !== 'POST reset') append({ k: 'control', route, t: time, in: input });
        });
        return;
      }
      // A layer part (up to 20 MiB, as base64 in JSON; ECR's or ECR Public's) is the one body allowed past MAX_BODY_BYTES; at most
      // MAX_LAYER_PARTS_IN_FLIGHT are held at once (each costs ~100 MB while it is read, parsed and decoded), the
      // others are throttled as ECR throttles UploadLayerPart, and the SDKs and the CLI retry them.
      const target = req.headers['x-amz-target'];
      const layerPart =
        target === `${ECR_TARGET_PREFIX}UploadLayerPart` || target === `${PUBLIC_TARGET_PREFIX}UploadLayerPart`;
      if (layerPart && layerPartsInFlight >= MAX_LAYER_PARTS_IN_FLIGHT) {
        req.resume();
        sendError(res, new EcrException('ThrottlingException', 'Rate exceeded'), requestId);
        return;
      }
      if (layerPart) {
        layerPartsInFlight += 1;
        res.once('close', () => {
          layerPartsInFlight -= 1;
        });
      }
      const bodyLimit = layerPart ? UPLOAD_LAYER_PART_BODY_BYTES : MAX_BODY_BYTES;
      const body = await readBody(req, bodyLimit);
      if (body === undefined) {
        sendError(
          res,
          new EcrException('RequestEntityTooLargeException', `Request body exceeds ${bodyLimit} bytes`, 413),
          requestId,
        );
        return;
      }
      const formType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (req.method === 'POST' && path === '/' && typeof target !== 'string' && formType === FORM_CONTENT_TYPE) {
        if (signingService(req.headers.authorization) === 'sns') await serveSns(req, body, res, requestId);
        else await serveSts(req, body, res, requestId);
        return;
      }
      if (req.method !== 'POST' || path !== '/' || typeof target !== 'string') {
        sendError(
          res,
          new EcrException(
            'UnknownOperationException',
            `No operation at ${req.method} ${path}${typeof target === 'string' ? ` (${target})` : ''}: send POST / with an X-Amz-Target header`,
          ),
          requestId,
        );
        return;
      }
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
      if (!ACCEPTED_CONTENT_TYPES.has(contentType)) {
        sendError(
          res,
          new EcrException(
            'UnknownOperationException',
            `Unsupported content type '${contentType}' for ${target}: expected ${JSON_CONTENT_TYPE}`,
          ),
          requestId,
        );
        return;
      }
      let input: unknown = {};
      const text = body.toString('utf8');
      if (jsonDepthExceeds(text, MAX_BODY_DEPTH)) {
        sendError(
          res,
          new EcrException('SerializationException', `Request body nests deeper than ${MAX_BODY_DEPTH} levels`),
          requestId,
        );
        return;
      }
      if (text.trim() !== '') {
        try {
          input = JSON.parse(text);
        } catch {
          sendError(res, new EcrException('SerializationException', 'Request body is not valid JSON'), requestId);
          return;
        }
      }
      if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        sendError(res, new EcrException('SerializationException', 'Request body must be a JSON object'), requestId);
        return;
      }
      const scope = parseScope(req.headers.authorization);
      if (!scope) {
        sendError(
          res,
          new EcrException('MissingAuthenticationTokenException', 'Missing Authentication Token', 403),
          requestId,
        );
        return;
      }
      if (expiredSession(scope)) {
        sendError(
          res,
          new EcrException('ExpiredTokenException', 'The security token included in the request is expired', 403),
          requestId,
        );
        return;
      }
      if (target.startsWith(PUBLIC_TARGET_PREFIX)) {
        await servePublic(
          target.slice(PUBLIC_TARGET_PREFIX.length),
          input as Record<string, unknown>,
          scope,
          res,
          requestId,
        );
        return;
      }
      if (!ECR_REGIONS.has(scope.region)) {
        // There is no endpoint for such a region: a real client would not reach ECR at all, and one signing for the
        // wrong region gets this answer from AWS's front door. Refusing it here keeps the registry from holding
        // state for an unbounded number of made-up regions.
        sendError(
          res,
          new EcrException(
            'InvalidSignatureException',
            `Credential should be scoped to a valid region, not '${scope.region.slice(0, 64)}'. The local registry serves the regions of the aws, aws-cn and aws-us-gov partitions.`,
            403,
          ),
          requestId,
        );
        return;
      }
      if (target.startsWith(ORGANIZATIONS_TARGET_PREFIX)) {
        const operation = target.slice(ORGANIZATIONS_TARGET_PREFIX.length);
        const handler = Object.hasOwn(organizationsOperations, operation)
          ? organizationsOperations[operation]
          : undefined;
        if (!handler) {
          sendError(
            res,
            new EcrException(
              'UnknownOperationException',
              `The local registry does not implement Organizations operation ${operation}`,
            ),
            requestId,
          );
          return;
        }
        const name = `organizations:${operation}`;
        calls.set(name, (calls.get(name) ?? 0) + 1);
        const fault = faults.next(name);
        if (fault.latencyMs > 0) await sleep(fault.latencyMs);
        if (fault.fail === 'throttle') throw new EcrException('TooManyRequestsException', 'Rate exceeded');
        if (fault.fail === 'server') throw new EcrException('ServiceException', 'Injected server error', 500);
        const output = handler(input as Record<string, unknown>, {
          account: scope.account,
          identity: registry.identity,
        });
        send(res, 200, output, requestId);
        return;
      }
      if (target.startsWith(ECS_TARGET_PREFIX)) {
        const operation = target.slice(ECS_TARGET_PREFIX.length);
        const handler = Object.hasOwn(ecsOperations, operation) ? ecsOperations[operation] : undefined;
        if (!handler) {
          sendError(
            res,
            new EcrException(
              'UnknownOperationException',
              `The local registry does not implement ECS operation ${operation}`,
            ),
            requestId,
          );
          return;
        }
        const name = `ecs:${operation}`;
        calls.set(name, (calls.get(name) ?? 0) + 1);
        const fault = faults.next(name);
        if (fault.latencyMs > 0) await sleep(fault.latencyMs);
        if (fault.fail === 'throttle') throw new EcrException('ThrottlingException', 'Rate exceeded');
        if (fault.fail === 'server') throw new EcrException('ServerException', 'Injected server error', 500);
        const output = handler(Input.parse(input), {
          account: scope.account,
          region: scope.region,
          state: registry.workloads.existing(scope.account, scope.region),
        });
        send(res, 200, output, requestId);
        return;
      }
      if (target.startsWith(ECR_TARGET_PREFIX)) {
        const operation = target.slice(ECR_TARGET_PREFIX.length);
        const handler = Object.hasOwn(ecrOperations, operation) ? ecrOperations[operation] : undefined;
        if (!handler) {
          sendError(
            res,
            new EcrException(
              'UnknownOperationException',
              `The local registry does not implement ECR operation ${operation}`,
            ),
            requestId,
          );
          return;
        }
        calls.set(operation, (calls.get(operation) ?? 0) + 1);
        for (const due of faults.dueRepositories()) {
          const account = due.account ?? scope.account;
          const region = due.region ?? scope.region;
          const deleted = registry.existing(account, region)?.repositories.delete(due.repositoryName);
          if (deleted) append({ k: 'vanish', a: account, r: region, name: due.repositoryName });
        }
        const fault = faults.next(operation);
        if (fault.latencyMs > 0) await sleep(fault.latencyMs);
        if (fault.fail === 'throttle') throw new EcrException('ThrottlingException', 'Rate exceeded');
        if (fault.fail === 'server') throw new EcrException('ServerException', 'Injected server error', 500);
        const call = callState(scope);
        try {
          if (!dataDir) {
            const output = await handler(input as Record<string, unknown>, context(operation, scope, call.state));
            checkCall(call);
            send(res, 200, output, requestId);
            return;
          }
          // With a data directory: the registry time is the same throughout the call (so that the replay, which
          // gives the operation the recorded time, sees what it saw), and a change is journalled before its answer.
          const journalling = ecrOperationJournalling[operation] ?? 'change';
          const time = now();
          let during = true;
          const clock = () => (during ? time : now());
          const ctx = context(
            operation,
            scope,
            call.state,
            clock,
            journalling === 'change' ? noJournal : journalIn(scope, clock),
          );
          let output: unknown;
          try {
            output = await handler(input as Record<string, unknown>, ctx);
          } finally {
            during = false;
          }
          checkCall(call);
          if (journalling === 'change') {
            append({
              k: 'ecr',
              op: operation,
              a: scope.account,
              r: scope.region,
              ak: scope.accessKeyId,
              t: time,
              in: input as Record<string, unknown>,
            });
          }
          send(res, 200, output, requestId);
        } finally {
          settleCall(call);
        }
        return;
      }
      if (target.startsWith(EVENTS_TARGET_PREFIX)) {
        const operation = target.slice(EVENTS_TARGET_PREFIX.length);
        const handler = Object.hasOwn(bus.operations, operation) ? bus.operations[operation] : undefined;
        if (!handler) {
          sendError(
            res,
            new EcrException(
              'UnknownOperationException',
              `The local event bus does not implement EventBridge operation ${operation}`,
            ),
            requestId,
          );
          return;
        }
        calls.set(`events:${operation}`, (calls.get(`events:${operation}`) ?? 0) + 1);
        const output = await handler(input, { account: scope.account, region: scope.region });
        if (dataDir && (busOperationJournalling[operation] ?? 'change') === 'change') {
          append({ k: 'bus', op: operation, a: scope.account, r: scope.region, t: now(), in: input as object });
        }
        send(res, 200, output, requestId);
        return;
      }
      sendError(res, new EcrException('UnknownOperationException', `Unknown target ${target}`), requestId);
    } catch (error) {
      if (error instanceof AccountLimitError) {
        sendError(res, accountLimit(error), requestId);
        return;
      }
      if (error instanceof EcrException || error instanceof BusApiError) {
        sendError(res, error, requestId);
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      console.error(`local registry: internal error: ${error instanceof Error ? error.stack : message}`);
      if (!res.headersSent)
        sendError(res, new EcrException('ServerException', `Internal error: ${message}`, 500), requestId);
      else res.end();
    }
  });

  // Node closes an idle keep-alive connection after 5 s; a client (the SDKs keep sockets alive) that reuses one just as
  // it closes gets ECONNRESET, which a busy event loop (a 100,000-image fixture) makes likely. AWS endpoints keep idle
  // connections far longer.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // A registry API upload streams a blob of up to 52,000 MiB in one request (docker sends a layer in one PATCH):
  // node's default of 5 minutes for a whole request would cut the largest off even on loopback.
  server.requestTimeout = 60 * 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  settings.endpoint = `http://${host === '::1' ? '[::1]' : host}:${port}`;

  const serverApi: RegistryServer = {
    url: settings.endpoint,
    port,
    registry,
    publicRegistries,
    bus,
    faults,
    calls,
    topics,
    now,
    dataDir:
      dataDir && replayed ? { path: dataDir.dir, replayedRecords: replayed.records, replayMs: replayed.ms } : undefined,
    mount: (prefix, handler) => {
      if (!MOUNT_PREFIX.test(prefix) || prefix === CONTROL_PREFIX) {
        throw new Error(
          `Cannot mount ${JSON.stringify(prefix)}: give /_<name>/ (lowercase letters, digits, -), not /_local/`,
        );
      }
      if (mounts.has(prefix)) throw new Error(`${prefix} is mounted already`);
      mounts.set(prefix, handler);
    },
    advanceClock: (ms: number) => {
      clockOffset += ms;
    },
    reset: () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      registry.reset();
      faults.clear();
      calls.clear();
      clockOffset = 0;
      bus.reset();
      topics.reset();
      // With a data directory, the snapshot of the empty registry replaces the journal.
      if (dataDir) compact();
    },
    close: async () => {
      if (compaction !== undefined) clearImmediate(compaction);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      bus.stopSchedules();
      idleCollector.stop();
      clearInterval(uploadSweeper);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await blobs.close();
      dataDir?.close();
    },
  };
  return serverApi;
}
