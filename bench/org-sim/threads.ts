import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { peakOverlap } from './dispatcher.ts';
import type { OrganisationSpec } from './organisation.ts';
import type { SimulationOptions, SimulationResult } from './simulation.ts';

/**
 * The simulation over several threads: the organisation's account-regions split into shards (`shardOf`), each shard
 * simulated by the real scheduler and workers in a worker thread of its own, on a virtual clock of its own, and the
 * figures put together. Account-regions share nothing in ECR (each has its own request rates) and nothing in the
 * model, so a split changes no figure but two: the worker function's concurrency over the organisation, which a
 * shard cannot see — the run is split only when that limit cannot bind (`workersPerTarget` × account-regions ≤
 * `reservedConcurrency`), otherwise it runs in one thread — and the peak of images held, which is the shards' peaks
 * added up (an upper bound). The peak of workers running at once is exact: found from every invocation's start and
 * end (`peakOverlap`).
 */

/** What `simulate` measured, without what cannot leave a thread (the model, reports, config). */
export interface SimulationFigures
  extends Omit<SimulationResult, 'organisation' | 'model' | 'reports' | 'config' | 'startedAt' | 'endedAt'> {
  spec: OrganisationSpec;
  /** Threads the organisation ran in. */
  threads: number;
}

/** The options a thread can be sent (no functions, no `keep`). */
export type ThreadedOptions = Omit<SimulationOptions, 'keep' | 'onProgress' | 'shard'>;

export function figuresOf(result: SimulationResult, threads = 1): SimulationFigures {
  const {
    organisation,
    model: _model,
    reports: _reports,
    config: _config,
    startedAt: _startedAt,
    endedAt: _endedAt,
    ...figures
  } = result;
  return { ...figures, spec: organisation.spec, threads };
}

/** A message from a shard's thread. */
export type ThreadMessage =
  | { kind: 'progress'; status: string }
  | { kind: 'done'; figures: SimulationFigures; startedAt: number[]; endedAt: number[] }
  | { kind: 'failed'; message: string };

const add = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value;
};

/** The shards' figures as one organisation's. */
export function mergeShards(
  shards: readonly { figures: SimulationFigures; startedAt: readonly number[]; endedAt: readonly number[] }[],
  realSeconds: number,
): SimulationFigures {
  const first = shards[0]?.figures;
  if (first === undefined) throw new Error('no shard ran');
  const sum = (pick: (figures: SimulationFigures) => number) =>
    shards.reduce((total, shard) => total + pick(shard.figures), 0);
  const max = (pick: (figures: SimulationFigures) => number) =>
    shards.reduce((most, shard) => Math.max(most, pick(shard.figures)), 0);
  const bound = shards
    .map((shard) => shard.figures)
    .reduce((most, figures) => (figures.throttleBoundSeconds > most.throttleBoundSeconds ? figures : most), first);
  const callsByOperation: Record<string, number> = {};
  const throttledByOperation: Record<string, number> = {};
  const reportsByStatus: Record<string, number> = {};
  for (const { figures } of shards) {
    add(callsByOperation, figures.callsByOperation);
    add(throttledByOperation, figures.throttledByOperation);
    add(reportsByStatus, figures.reportsByStatus);
  }
  return {
    spec: first.spec,
    threads: shards.length,
    sweepSeconds: max((f) => f.sweepSeconds),
    fanOutSeconds: max((f) => f.fanOutSeconds),
    throttleBoundSeconds: bound.throttleBoundSeconds,
    throttleBoundTarget: bound.throttleBoundTarget,
    throttleBoundOperation: bound.throttleBoundOperation,
    acceptedCalls: sum((f) => f.acceptedCalls),
    throttledCalls: sum((f) => f.throttledCalls),
    callsByOperation,
    throttledByOperation,
    images: sum((f) => f.images),
    imagesDeleted: sum((f) => f.imagesDeleted),
    repositories: sum((f) => f.repositories),
    workItems: sum((f) => f.workItems),
    followUps: sum((f) => f.followUps),
    reportsByStatus,
    failedInvocations: sum((f) => f.failedInvocations),
    droppedItems: sum((f) => f.droppedItems),
    abandonedRepositories: sum((f) => f.abandonedRepositories),
    peakWorkers: peakOverlap(shards),
    peakWorkersPerTarget: max((f) => f.peakWorkersPerTarget),
    peakImagesHeld: sum((f) => f.peakImagesHeld),
    realSeconds,
    peakRssMb: 0,
    clockSteps: sum((f) => f.clockSteps),
  };
}

/** Threads to use by default: one per processor. */
export const defaultThreads = (): number => availableParallelism();

/**
 * Simulates the organisation in up to `threads` worker threads (one shard each), or in this thread when one is
 * asked for, or when the worker function's concurrency over the organisation could bind.
 */
export async function simulateInThreads(
  options: ThreadedOptions,
  threads: number,
  onProgress?: (status: string) => void,
): Promise<SimulationFigures> {
  const targets = options.organisation.accounts * options.organisation.regions.length;
  const count = Math.max(1, Math.min(threads, targets));
  const capCanBind = options.workersPerTarget * targets > options.reservedConcurrency;
  if (count === 1 || capCanBind) {
    // Loaded here, not at the top: a split run's main thread only waits for its threads, and would otherwise hold a
    // copy of the model, the SDK and the service of its own.
    const { simulate } = await import('./simulation.ts');
    return figuresOf(await simulate({ ...options, ...(onProgress === undefined ? {} : { onProgress }) }));
  }
  const realStart = performance.now();
  const runs = Array.from(
    { length: count },
    (_, index) =>
      new Promise<{ figures: SimulationFigures; startedAt: number[]; endedAt: number[] }>((resolve, reject) => {
        const worker = new Worker(new URL('./thread.mjs', import.meta.url), {
          workerData: {
            entry: new URL('./thread-entry.ts', import.meta.url).href,
            options: { ...options, randomSeed: (options.randomSeed ?? 7) + index },
            shard: { index, count },
          },
        });
        let settled = false;
        worker.on('message', (message: ThreadMessage) => {
          if (message.kind === 'progress') onProgress?.(`thread ${index + 1}/${count}: ${message.status}`);
          else if (message.kind === 'failed') {
            settled = true;
            reject(new Error(`thread ${index + 1}/${count}: ${message.message}`));
          } else {
            settled = true;
            resolve(message);
          }
        });
        worker.on('error', (error) => {
          settled = true;
          reject(error);
        });
        worker.on('exit', (code) => {
          if (!settled) reject(new Error(`thread ${index + 1}/${count} exited with ${code} before its figures`));
        });
      }),
  );
  const shards = await Promise.all(runs);
  return mergeShards(shards, (performance.now() - realStart) / 1_000);
}
