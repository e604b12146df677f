import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { serviceManifest } from '../../service/manifest.ts';
import { runCleanup } from '../../shared/cleanup/entry.ts';
import { runCleanupFanOut } from '../../shared/cleanup/entry-fan-out.ts';
import type { CleanupReport } from '../../shared/cleanup/report.ts';
import { parseConfig } from '../../shared/config/load.ts';
import { targetRoleArn } from '../../shared/credentials/assume-role.ts';
import { boundConcurrency } from '../../shared/credentials/pool.ts';
import type { Target } from '../../shared/domain/target.ts';
import { createEcrClient, createEcrGateway } from '../../shared/ecr/index.ts';
import { ECR_CLIENT_MAX_ATTEMPTS } from '../../shared/ecr/limits.ts';
import type { ServiceEvent } from '../../shared/events/publisher.ts';
import { type CleanupWorkItem, DETAIL_TYPES } from '../../shared/events/schemas.ts';
import type { ServiceDeps } from '../../shared/runtime/service-deps.ts';
import { VirtualClock } from './clock.ts';
import { Dispatcher } from './dispatcher.ts';
import { EcrModel } from './model.ts';
import { buildOrganisation, type Organisation, type OrganisationSpec } from './organisation.ts';
import type { ApiRate } from './rates.ts';

/** Follow-up parts of one repository after which the simulation stops delivering its work items. */
export const MAX_PARTS = 100;

/** The role the service assumes in every target account. */
export const ROLE_NAME = 'EcrAutomationCleanup';
/** The workers' own principal: set, so that the fan-out registers each target role's pull-time exclusion. */
const WORKER_PRINCIPAL_ARN = 'arn:aws:iam::111111111111:role/ecr-automation-cleanup-repository';

/**
 * The rule of the simulated configuration, for every repository: untagged images older than 14 days and not pulled
 * for 30 go, tagged ones by the tag selections (releases and `latest` protected, the last 5 branch builds, the last 20
 * pull-request builds or those pulled within 30 days, any other tag for 90 days), the brakes off so that every plan
 * is carried out.
 */
export const SIMULATION_RULE = {
  repositories: ['**'],
  olderThanDays: 14,
  notPulledForDays: 30,
  quietPeriodMinutes: 60,
  keepLatestUntagged: 0,
  maxDeleteFraction: 1,
  allowMassDelete: true,
  maxTaggedDeleteFraction: 1,
  tagSelections: [
    { tags: [{ form: 'semver' }], protect: true },
    { tags: ['main-*'], keepLast: 5 },
    { tags: ['pr-*'], keepLast: 20, keepPulledWithinDays: 30 },
    { tags: ['latest'], protect: true },
    { tags: [{ form: 'any' }], keepNewerThanDays: 90 },
  ],
} as const;

/** The simulated config: the organisation's accounts and regions as `targets`, and SIMULATION_RULE. */
export function simulationConfig(organisation: Pick<Organisation, 'targets'>, regions: readonly string[]) {
  return parseConfig({
    targets: {
      accounts: [...new Set(organisation.targets.map((target) => target.account))],
      regions: [...regions],
      roleName: ROLE_NAME,
    },
    cleanup: { dryRun: false, rules: [SIMULATION_RULE] },
  });
}

export interface SimulationOptions {
  organisation: OrganisationSpec;
  /** Work items of one account and region running at once (the dispatcher's bound). */
  workersPerTarget: number;
  /** The worker function's concurrency over the whole organisation (reserved concurrency). */
  reservedConcurrency: number;
  /** Requests in flight per target client (`boundConcurrency`); none when absent. */
  clientConcurrency?: number;
  rates?: Partial<Record<string, ApiRate>>;
  /** Virtual ms between a publish and the worker's start (EventBridge's delivery). Default 100. */
  deliveryMs?: number;
  /** Keep every report and each repository's deleted digests (tests). */
  keep?: boolean;
  /** The clients make the HTTP request the model never reads, as production's do (`ModelOptions`). */
  serializeRequests?: boolean;
  /** The virtual start, epoch ms. Default 2026-06-01T02:00:00Z. */
  start?: number;
  /** Seed of `Math.random` during the run (the SDK's back-off jitter). */
  randomSeed?: number;
  /** The worker's time limit, virtual ms; default the manifest's timeout (15 minutes). */
  timeoutMs?: number;
  /** Attempts per request (the SDK's); default ECR_CLIENT_MAX_ATTEMPTS, as the service's clients. */
  maxAttempts?: number;
  /** Called now and then with where the run is (for progress lines). */
  onProgress?: (status: string) => void;
  /**
   * Simulate only the account-regions of one shard of `count` (`shardOf`): the rest run in other threads
   * (`threads.ts`). The scheduler then covers the shard's targets, as if its targets were the organisation's.
   */
  shard?: { index: number; count: number };
}

/** What one run measured. */
export interface SimulationResult {
  organisation: Organisation;
  /** Virtual seconds from the schedule's event to the last worker's end. */
  sweepSeconds: number;
  fanOutSeconds: number;
  /**
   * The least virtual time the calls made could take at the modelled rates: per account and region, for each API,
   * (calls − burst) / rate; the largest over APIs (their buckets are separate) and over account-regions (they run in
   * parallel).
   */
  throttleBoundSeconds: number;
  throttleBoundTarget: string;
  throttleBoundOperation: string;
  acceptedCalls: number;
  throttledCalls: number;
  callsByOperation: Record<string, number>;
  throttledByOperation: Record<string, number>;
  images: number;
  imagesDeleted: number;
  repositories: number;
  workItems: number;
  followUps: number;
  reportsByStatus: Record<string, number>;
  failedInvocations: number;
  droppedItems: number;
  /** Repositories whose chain of follow-ups passed MAX_PARTS, left unfinished. */
  abandonedRepositories: number;
  peakWorkers: number;
  peakWorkersPerTarget: number;
  /** Each invocation's start and end, virtual epoch ms in ascending order (for `peakOverlap` over threads). */
  startedAt: number[];
  endedAt: number[];
  peakImagesHeld: number;
  realSeconds: number;
  peakRssMb: number;
  clockSteps: number;
  reports: CleanupReport[];
  model: EcrModel;
  config: ReturnType<typeof simulationConfig>;
}

const silentLogger = {
  // Above INFO: the worker builds no decision log lines for it.
  level: 28,
  info() {},
  warn() {},
  error() {},
  debug() {},
} as unknown as Logger;
const silentMetrics = {
  addMetric() {},
  addDimensions() {},
  publishStoredMetrics() {},
  singleMetric: () => silentMetrics,
} as unknown as Metrics;
const silentTracer = { putAnnotation() {}, putMetadata() {} } as unknown as Tracer;

const addTo = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value;
};

/**
 * The shard of each account-region (by its position in `organisation.targets`) when the organisation is split in
 * `count`: the targets, largest first by images, each to the shard with the fewest images so far, so that the shards
 * take about as long. The same organisation always splits the same way.
 */
export function shardOf(organisation: Pick<Organisation, 'targets'>, count: number): number[] {
  const images = organisation.targets.map((target) =>
    target.repositories.reduce((sum, repository) => sum + repository.images, 0),
  );
  const order = images.map((_, i) => i).sort((a, b) => (images[b] as number) - (images[a] as number) || a - b);
  const load = new Array<number>(count).fill(0);
  const shards = new Array<number>(images.length).fill(0);
  for (const i of order) {
    let least = 0;
    for (let s = 1; s < count; s++) if ((load[s] as number) < (load[least] as number)) least = s;
    shards[i] = least;
    load[least] = (load[least] as number) + (images[i] as number);
  }
  return shards;
}

/** Runs the scheduler and the workers over the organisation on a virtual clock; see docs/organisation-scale.md. */
export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const realStart = performance.now();
  const organisation = buildOrganisation(options.organisation);
  const start = options.start ?? Date.parse('2026-06-01T02:00:00Z');
  const clock = new VirtualClock(start);
  const model = new EcrModel(
    organisation,
    clock,
    {
      epoch: start,
      keepDeleted: options.keep ?? false,
      ...(options.serializeRequests === true ? { serializeRequests: true } : {}),
      ...(options.rates === undefined ? {} : { rates: options.rates }),
    },
    (target) => targetRoleArn(target.account, target.region, ROLE_NAME),
  );
  const config = simulationConfig(organisation, options.organisation.regions);
  const worker = serviceManifest(config).cleanupRepository;
  if (worker === undefined) throw new Error('the manifest has no cleanupRepository function');
  const timeoutMs = options.timeoutMs ?? worker.timeout * 1_000;
  const reserveMs = Number(worker.environment?.CLEANUP_RESERVE_MS ?? 60_000);
  const lambdaRetries = worker.onFailure.retries;
  const shard = options.shard;
  const inShard =
    shard === undefined
      ? organisation.targets
      : (() => {
          const shards = shardOf(organisation, shard.count);
          return organisation.targets.filter((_, i) => shards[i] === shard.index);
        })();
  const targets: readonly Target[] = inShard.map(({ account, region }) => ({ account, region }));

  // One ECR client per target, as the runtime's pool makes them, answered by the model.
  const clients = new Map<string, ReturnType<typeof createEcrClient>>();
  const clientOf = (target: Target) => {
    const key = `${target.account}/${target.region}`;
    let client = clients.get(key);
    if (client === undefined) {
      client = createEcrClient({
        // As the service's clients (the tests' AWS_MAX_ATTEMPTS=1 would turn the SDK's retries off).
        maxAttempts: options.maxAttempts ?? ECR_CLIENT_MAX_ATTEMPTS,
        region: target.region,
        credentials: { accessKeyId: `ASIA${target.account}`, secretAccessKey: 'simulated' },
      });
      model.attach(client, target.account, target.region);
      if (options.clientConcurrency !== undefined) client = boundConcurrency(client, options.clientConcurrency);
      clients.set(key, client);
    }
    return client;
  };

  const reports: CleanupReport[] = [];
  const reportsByStatus: Record<string, number> = {};
  // Set below, before anything is published.
  let dispatcher: Dispatcher | undefined;
  let workItems = 0;
  let followUps = 0;
  let abandoned = 0;
  const publish = async (events: readonly ServiceEvent[]) => {
    for (const event of events) {
      if (event.detailType === DETAIL_TYPES.cleanupWorkItem) {
        const item = event.detail as CleanupWorkItem;
        if (item.part > 1) followUps += 1;
        else workItems += 1;
        // A chain of follow-ups that makes no progress (a deadline shorter than a listing) would never end.
        if (item.part > MAX_PARTS) {
          abandoned += 1;
          if (item.account !== undefined && item.region !== undefined) {
            model.target(item.account, item.region).release(item.repositoryName);
          }
          continue;
        }
        // EventBridge delivers it to the worker function after a moment.
        dispatcher?.deliver(item, options.deliveryMs ?? 100);
      } else if (event.detailType === DETAIL_TYPES.cleanupReport) {
        const report = event.detail as CleanupReport;
        reportsByStatus[report.status] = (reportsByStatus[report.status] ?? 0) + 1;
        if (options.keep) reports.push(report);
      }
    }
    return { calls: Math.ceil(events.length / 10) };
  };

  const deps: ServiceDeps = {
    config: () => config,
    gateway: () => {
      throw new Error('the simulation cleans target accounts only');
    },
    publicGateway: () => {
      throw new Error('the simulation has no ECR Public');
    },
    publish,
    now: clock.now,
    reserveMs,
    workerPrincipalArn: WORKER_PRINCIPAL_ARN,
    logger: silentLogger,
    metrics: silentMetrics,
    tracer: silentTracer,
    targets: async () => targets,
    targetGateway: (_section, target, { readOnly }) => createEcrGateway(clientOf(target), { readOnly }),
  };

  let finished = false;
  let fanOutEnd = start;
  dispatcher = new Dispatcher({
    clock,
    workersPerTarget: options.workersPerTarget,
    reservedConcurrency: options.reservedConcurrency,
    retries: lambdaRetries,
    run: async (item) => {
      const deadline = clock.now() + timeoutMs;
      const report = await runCleanup(item, { getRemainingTimeInMillis: () => deadline - clock.now() }, deps);
      return { continued: report.status === 'continued' };
    },
    done: (item) => {
      if (item.account !== undefined && item.region !== undefined) {
        model.target(item.account, item.region).release(item.repositoryName);
      }
    },
  });

  const onProgress = options.onProgress;
  if (onProgress !== undefined) {
    clock.onStep = () =>
      onProgress(
        `virtual ${((clock.now() - start) / 1_000).toFixed(0)} s, ${model.totals.accepted} calls, ${model.totals.throttled} throttled, ${model.totals.deleted} deleted, ${dispatcher?.stats.started} invocations, ${model.held.now} images held, rss ${(process.memoryUsage.rss() / 1_048_576).toFixed(0)} MB, real ${((performance.now() - realStart) / 1_000).toFixed(0)} s`,
      );
  }
  clock.install(options.randomSeed ?? 7);
  try {
    const fanOut = (async () => {
      await runCleanupFanOut(
        { id: 'org-sim-run', time: new Date(start).toISOString(), detail: {} },
        deps as Parameters<typeof runCleanupFanOut>[1],
      );
      fanOutEnd = clock.now();
    })();
    let fanOutFailed: unknown;
    fanOut.catch((error: unknown) => {
      fanOutFailed = error;
    });
    let fanOutDone = false;
    void fanOut.finally(() => {
      fanOutDone = true;
    });
    await clock.run(() => {
      if (fanOutFailed !== undefined) throw fanOutFailed;
      finished = fanOutDone && dispatcher?.idle() === true;
      return finished;
    });
  } finally {
    clock.uninstall();
  }
  const end = clock.now();

  // The throttle-bound minimum: per target, per API, the calls answered beyond the burst at the API's rate.
  let bound = { seconds: 0, target: '', operation: '' };
  const callsByOperation: Record<string, number> = {};
  const throttledByOperation: Record<string, number> = {};
  for (const target of model.allTargets()) {
    addTo(callsByOperation, target.counters.accepted);
    addTo(throttledByOperation, target.counters.throttled);
    for (const [operation, calls] of Object.entries(target.counters.accepted)) {
      const rate = model.rateOf(operation);
      const seconds = Math.max(0, calls - rate.burst) / rate.perSecond;
      if (seconds > bound.seconds) {
        bound = { seconds, target: `${target.target.account}/${target.target.region}`, operation };
      }
    }
    // Anything not released (a chain that failed for good) is released now, so its deletions are counted.
    for (const name of target.activeNames()) target.release(name);
  }
  const repositoriesInShard = inShard.flatMap((target) => target.repositories);
  const images = repositoriesInShard.reduce((sum, repository) => sum + repository.images, 0);
  return {
    organisation,
    sweepSeconds: (end - start) / 1_000,
    fanOutSeconds: (fanOutEnd - start) / 1_000,
    throttleBoundSeconds: bound.seconds,
    throttleBoundTarget: bound.target,
    throttleBoundOperation: bound.operation,
    acceptedCalls: model.totals.accepted,
    throttledCalls: model.totals.throttled,
    callsByOperation,
    throttledByOperation,
    images,
    imagesDeleted: model.totals.deleted,
    repositories: repositoriesInShard.length,
    workItems,
    followUps,
    reportsByStatus,
    failedInvocations: dispatcher.stats.failed,
    droppedItems: dispatcher.stats.dropped,
    abandonedRepositories: abandoned,
    peakWorkers: dispatcher.stats.peak,
    peakWorkersPerTarget: dispatcher.stats.peakPerTarget,
    startedAt: dispatcher.startedAt,
    endedAt: dispatcher.endedAt,
    peakImagesHeld: model.held.peak,
    realSeconds: (performance.now() - realStart) / 1_000,
    peakRssMb: 0,
    clockSteps: clock.stats.steps,
    reports,
    model,
    config,
  };
}
