import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { emit, intEnv, progress, round } from './lib.ts';
import { organisationAt } from './org-sim/organisation.ts';
import { type ApiRate, DEFAULT_RATES } from './org-sim/rates.ts';
import { defaultThreads, type SimulationFigures, simulateInThreads } from './org-sim/threads.ts';

/**
 * The largest users: the real scheduler (`runCleanupFanOut`), workers (`runCleanup`), planner and gateway, over a
 * real `ECRClient` with the SDK's adaptive retries, against an in-process model of ECR at organisation scale (100
 * accounts × 2 regions, 20,000 repositories, 20,000,000 images) on a virtual clock. See docs/organisation-scale.md.
 *
 * Knobs: BENCH_ORG_SCALE (default 1: the full organisation; 0.01 runs in seconds), BENCH_ORG_WORKERS (work items of
 * one account and region at once, default 2), BENCH_ORG_CONCURRENCY (the worker function's concurrency, default
 * 1000: Lambda's default concurrency per account and region), BENCH_ORG_CLIENT_CONCURRENCY (requests in flight per
 * target client, default unbounded), BENCH_ORG_RATE_<Operation>=<perSecond>[:<burst>] (the modelled rates),
 * BENCH_ORG_SMALL=0 to skip the ten-times-smaller organisation's runs, BENCH_ORG_FULL=0 to run only those,
 * BENCH_ORG_SERIALIZE=1 for clients that serialise their requests as production's do;
 * BENCH_ORG_HEAP_MB, BENCH_ORG_SEMI_SPACE_MB and BENCH_ORG_HEAP_GROWING_PERCENT tune each thread's V8 heap (below).
 */

function scaleFromEnv(): number {
  const text = process.env.BENCH_ORG_SCALE;
  if (text === undefined || text === '') return 1;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 1)
    throw new Error(`BENCH_ORG_SCALE must be in (0, 1], not ${text}`);
  return value;
}

function ratesFromEnv(): Partial<Record<string, ApiRate>> {
  const rates: Partial<Record<string, ApiRate>> = {};
  for (const [name, text] of Object.entries(process.env)) {
    if (!name.startsWith('BENCH_ORG_RATE_') || text === undefined || text === '') continue;
    const operation = name.slice('BENCH_ORG_RATE_'.length);
    const [perSecondText, burstText] = text.split(':');
    const perSecond = Number(perSecondText);
    const burst = burstText === undefined ? (DEFAULT_RATES[operation]?.burst ?? perSecond) : Number(burstText);
    if (!(perSecond > 0) || !(burst >= 1)) throw new Error(`${name} must be <perSecond>[:<burst>], not ${text}`);
    rates[operation] = { perSecond, burst };
  }
  return rates;
}

// ---- Memory: the kernel's peak-RSS counter, reset before each run ----

function statusKb(field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const text = readFileSync('/proc/self/status', 'utf8');
    const line = text.split('\n').find((one) => one.startsWith(`${field}:`));
    const kb = line === undefined ? Number.NaN : Number.parseInt(line.slice(field.length + 1).trim(), 10);
    return Number.isFinite(kb) ? kb : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false when not allowed. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

const peakRssMb = (): number => {
  const kb = statusKb('VmHWM');
  return kb === undefined ? round(process.resourceUsage().maxRSS / 1_024, 1) : round(kb / 1_024, 1);
};

async function measured(run: () => Promise<SimulationFigures>): Promise<SimulationFigures> {
  const reset = resetPeakRss();
  const result = await run();
  return { ...result, peakRssMb: reset ? peakRssMb() : round(process.resourceUsage().maxRSS / 1_024, 1) };
}

function emitFigures(result: SimulationFigures, suffix: string, context: Record<string, unknown>): void {
  const calls = result.acceptedCalls + result.throttledCalls;
  const common = {
    ...context,
    accounts: result.spec.accounts,
    regions: result.spec.regions.length,
    threads: result.threads,
    repositories: result.repositories,
    images: result.images,
  };
  const ratio = result.throttleBoundSeconds > 0 ? result.sweepSeconds / result.throttleBoundSeconds : null;
  emit({
    name: `org_sweep_virtual_seconds${suffix}`,
    value: round(result.sweepSeconds, 1),
    unit: 's',
    goal: 'report',
    ...common,
    fanOutSeconds: round(result.fanOutSeconds, 1),
  });
  emit({
    name: `org_throttle_bound_seconds${suffix}`,
    value: round(result.throttleBoundSeconds, 1),
    unit: 's',
    goal: 'report',
    ...common,
    boundBy: `${result.throttleBoundOperation} in ${result.throttleBoundTarget}`,
    rates: { ...DEFAULT_RATES, ...rates },
  });
  emit({
    name: `org_sweep_vs_throttle_bound${suffix}`,
    value: ratio === null ? null : round(ratio, 2),
    unit: 'x',
    goal: '<= 1.2',
    ...common,
  });
  emit({
    name: `org_calls_per_image${suffix}`,
    value: round(calls / result.images, 4),
    unit: 'calls/image',
    goal: 'report',
    ...common,
    calls,
    callsByOperation: result.callsByOperation,
  });
  emit({
    name: `org_throttled_calls${suffix}`,
    value: result.throttledCalls,
    unit: 'calls',
    goal: 'report',
    ...common,
    throttledByOperation: result.throttledByOperation,
  });
  emit({
    name: `org_throttled_share${suffix}`,
    value: calls === 0 ? 0 : round((100 * result.throttledCalls) / calls, 2),
    unit: '%',
    goal: 'report',
    ...common,
  });
  emit({
    name: `org_peak_workers${suffix}`,
    value: result.peakWorkers,
    unit: 'workers',
    goal: 'report',
    ...common,
    peakPerAccountRegion: result.peakWorkersPerTarget,
  });
  emit({
    name: `org_real_seconds${suffix}`,
    value: round(result.realSeconds, 1),
    unit: 's',
    goal: '< 120',
    ...common,
    clockSteps: result.clockSteps,
  });
  emit({
    name: `org_peak_rss_mb${suffix}`,
    value: result.peakRssMb,
    unit: 'MB',
    goal: '< 2048',
    ...common,
    peakImagesHeld: result.peakImagesHeld,
  });
  emit({
    name: `org_images_deleted${suffix}`,
    value: result.imagesDeleted,
    unit: 'images',
    goal: 'report',
    ...common,
    workItems: result.workItems,
    followUps: result.followUps,
    reportsByStatus: result.reportsByStatus,
    failedInvocations: result.failedInvocations,
    droppedItems: result.droppedItems,
    abandonedRepositories: result.abandonedRepositories,
  });
}

/**
 * The heap limit of each thread's V8 isolate (BENCH_ORG_HEAP_MB; V8's flag holds for every thread of the process):
 * every running worker's repository is held in this one process (a Lambda would have a gigabyte each). By default
 * 1,800 MB over the threads, at least 900 MB each: at the full organisation a thread's live heap peaks near 400 MB
 * in two threads, and V8 would otherwise let each old generation grow to about four times that before collecting
 * (3.3–3.4 GB resident, against 1.9 GB with the default, for about a tenth less time). Too tight a limit makes V8
 * collect without end; one thread holding the whole organisation needs about twice as much.
 */
const defaultHeapMb = (threads: number): number => Math.max(900, Math.ceil(1_800 / threads));

/**
 * The young generation's semi-space of each isolate (BENCH_ORG_SEMI_SPACE_MB), default 80 MB (V8's own is 16). Two
 * hundred workers interleave on each thread's event loop, so much of what one allocates is still live at the next
 * scavenge when the young generation is small: at the full organisation with a 900–1,000 MB heap, 16 MB took 142 s,
 * 64 MB 117–123 s, 72 MB 95–109 s and 80 MB 91–102 s (docs/organisation-scale.md); 80 MB costs about 200 MB more
 * resident memory over the two threads than 64 MB.
 */
const DEFAULT_SEMI_SPACE_MB = 80;

/**
 * How far V8 lets the old generation grow past what is live before it collects again (BENCH_ORG_HEAP_GROWING_PERCENT,
 * V8's `--heap-growing-percent`), unset by default: V8 then chooses, within the heap limit above.
 */
const heapGrowingPercent = process.env.BENCH_ORG_HEAP_GROWING_PERCENT
  ? intEnv('BENCH_ORG_HEAP_GROWING_PERCENT', 100)
  : undefined;

/** The benchmark runs itself again with that heap unless the heap's limit is set already. */
if (!process.execArgv.some((flag) => flag.startsWith('--max-old-space-size'))) {
  const heapMb = intEnv('BENCH_ORG_HEAP_MB', defaultHeapMb(intEnv('BENCH_ORG_THREADS', defaultThreads())));
  const semiSpaceMb = intEnv('BENCH_ORG_SEMI_SPACE_MB', DEFAULT_SEMI_SPACE_MB);
  const child = spawnSync(
    process.execPath,
    [
      `--max-old-space-size=${heapMb}`,
      `--max-semi-space-size=${semiSpaceMb}`,
      ...(heapGrowingPercent === undefined ? [] : [`--heap-growing-percent=${heapGrowingPercent}`]),
      ...process.execArgv,
      fileURLToPath(import.meta.url),
    ],
    { stdio: 'inherit', env: process.env },
  );
  process.exit(child.status ?? 1);
}

const scale = scaleFromEnv();
const workers = intEnv('BENCH_ORG_WORKERS', 2);
const concurrency = intEnv('BENCH_ORG_CONCURRENCY', 1_000);
const clientConcurrency = process.env.BENCH_ORG_CLIENT_CONCURRENCY
  ? intEnv('BENCH_ORG_CLIENT_CONCURRENCY', 1)
  : undefined;
const rates = ratesFromEnv();
/** BENCH_ORG_SERIALIZE=1: the model's clients make the HTTP request as production's do (docs/organisation-scale.md). */
const serializeRequests = process.env.BENCH_ORG_SERIALIZE === '1';
const threads = intEnv('BENCH_ORG_THREADS', defaultThreads());
const context = {
  scale,
  workersPerAccountRegion: workers,
  reservedConcurrency: concurrency,
  ...(clientConcurrency === undefined ? {} : { clientConcurrency }),
  ...(serializeRequests ? { serializeRequests } : {}),
};

const full = organisationAt(scale);
if (process.env.BENCH_ORG_FULL !== '0') {
  progress(
    `organisation: ${full.accounts} accounts × ${full.regions.length} regions, ${full.repositories} repositories, ${full.images} images; ${workers} workers per account-region; ${threads} threads`,
  );
  const result = await measured(() =>
    simulateInThreads(
      {
        organisation: full,
        workersPerTarget: workers,
        reservedConcurrency: concurrency,
        ...(clientConcurrency === undefined ? {} : { clientConcurrency }),
        ...(serializeRequests ? { serializeRequests } : {}),
        rates,
      },
      threads,
      progress,
    ),
  );
  emitFigures(result, '', context);
}

if (process.env.BENCH_ORG_SMALL !== '0') {
  const small = organisationAt(scale / 10);
  for (const w of [1, 10, 100]) {
    progress(`organisation / 10: ${small.accounts} accounts, ${small.images} images; ${w} workers per account-region`);
    const one = await measured(() =>
      simulateInThreads(
        {
          organisation: small,
          workersPerTarget: w,
          reservedConcurrency: concurrency,
          ...(clientConcurrency === undefined ? {} : { clientConcurrency }),
          ...(serializeRequests ? { serializeRequests } : {}),
          rates,
        },
        threads,
        progress,
      ),
    );
    emitFigures(one, `_w${w}`, { ...context, workersPerAccountRegion: w, scale: scale / 10 });
  }
}
