import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { type DistributionRegistry, startDistribution } from '../test/helpers/distribution.ts';
import { createOciLayout, type OciLayout } from '../test/helpers/oci-layout.ts';
import {
  distributionTarget,
  localRegistryTarget,
  pullToLayout,
  pushLayout,
  type RegistryTarget,
} from '../test/helpers/skopeo.ts';
import { getBlobDigest, probeV2, putBlobStream, startUpload } from '../test/helpers/v2-client.ts';
import {
  emit,
  intEnv,
  progress,
  residentMb,
  round,
  type ServerProcess,
  startBlobFloorProcess,
  startRegistryProcess,
  type Timing,
  timed,
} from './lib.ts';

/**
 * Blobs through the OCI Distribution API (`/v2/`) over loopback, for the local registry and for CNCF distribution
 * 2.8 (Debian's `docker-registry`, the reference), each in its own process:
 *
 * - the floor: the same upload and download against a bare node server that streams each upload into a file while
 *   hashing it and streams the file back, run first and alone: what this client and the simplest node server that
 *   stores blobs on disk reach on this machine;
 * - upload and download throughput: a monolithic upload (POST, then one PUT of BENCH_BLOB_MB MiB streamed from a
 *   generator, never held in memory) and a GET streamed into a SHA-256; best of BENCH_BLOB_ROUNDS rounds, each with
 *   a new blob (so no round is served from a previous one);
 * - resident memory growth of the server (VmRSS of /proc/<pid>/status, sampled every RSS_SAMPLE_MS) while a
 *   BENCH_RSS_BLOB_MB MiB layer streams up and then down, over its RSS just before;
 * - `skopeo copy` of one image (real gzip tar layers, BENCH_SKOPEO_MB MiB in all) from an OCI layout to each registry
 *   and back, side by side in each of BENCH_SKOPEO_ROUNDS rounds (which registry goes first alternates; each round
 *   has new layers, so that neither registry nor skopeo's blob cache has them): the local registry's best time over
 *   distribution's.
 *
 * The local registry's figures are measured only when its `/v2/` answers as ECR's does (401 with a Basic challenge);
 * otherwise each prints with `value: null` and the reason (BENCH_REQUIRE_LOCAL_V2=1 makes that an error). MB here is
 * 10^6 bytes.
 *
 * Run alone: `npx tsx bench/blobs.bench.ts` (or with the others: `npm run bench`). Smaller, for a quick check:
 * `BENCH_BLOB_MB=32 BENCH_RSS_BLOB_MB=128 BENCH_SKOPEO_MB=8 BENCH_BLOB_ROUNDS=1 BENCH_SKOPEO_ROUNDS=1 npx tsx bench/blobs.bench.ts`.
 */
const MIB = 1024 * 1024;
const BLOB_BYTES = intEnv('BENCH_BLOB_MB', 256) * MIB;
const BLOB_ROUNDS = intEnv('BENCH_BLOB_ROUNDS', 3);
const RSS_BLOB_BYTES = intEnv('BENCH_RSS_BLOB_MB', 1024) * MIB;
const SKOPEO_BYTES = intEnv('BENCH_SKOPEO_MB', 40) * MIB;
const SKOPEO_ROUNDS = intEnv('BENCH_SKOPEO_ROUNDS', 3);
/** The image skopeo copies: this many layers of equal size, as a small application image has. */
const SKOPEO_LAYERS = 4;
/** The generator's chunk: what one write to the socket carries. */
const CHUNK_BYTES = MIB;
const RSS_SAMPLE_MS = 20;
const THROUGHPUT_GOAL = '>= 300';
const RSS_GROWTH_GOAL = '< 50';
const REPOSITORY = 'bench/blobs';

type Measured = { target: RegistryTarget; pid: number };

/**
 * BLOB_BYTES of data that compresses no better than real layers: one random MiB, each chunk a copy stamped with its
 * index and the blob's seed (a fresh buffer per chunk: a buffer handed to the socket must not change).
 */
function* blobChunks(seed: number, size: number, base: Buffer): Generator<Buffer> {
  for (let offset = 0, index = 0; offset < size; offset += CHUNK_BYTES, index++) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size - offset));
    base.copy(chunk, 0, 0, chunk.length);
    chunk.writeUInt32BE(seed, 0);
    chunk.writeUInt32BE(index, 4);
    yield chunk;
  }
}

function digestOf(seed: number, size: number, base: Buffer): string {
  const hash = createHash('sha256');
  for (const chunk of blobChunks(seed, size, base)) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

const mbPerSecond = (bytes: number, ms: number) => round(bytes / 1e6 / (ms / 1000), 0);

/** One blob up (POST + streamed PUT) and down (GET streamed into a hash): the timing of each. */
async function upAndDown(
  measured: Measured,
  seed: number,
  size: number,
  base: Buffer,
): Promise<{ up: Timing; down: Timing }> {
  const { target, pid } = measured;
  const digest = digestOf(seed, size, base);
  const up = await timed(pid, [], async () => {
    const upload = await startUpload(target, REPOSITORY);
    await putBlobStream(target, upload, digest, size, blobChunks(seed, size, base));
  });
  let got = { digest: '', size: 0 };
  const down = await timed(pid, [], async () => {
    got = await getBlobDigest(target, REPOSITORY, digest);
  });
  if (got.digest !== digest || got.size !== size) {
    throw new Error(`${target.name} served ${got.digest} (${got.size} bytes) for ${digest} (${size} bytes)`);
  }
  return { up, down };
}

/** Samples a process's VmRSS until stopped: the RSS at the start and the highest seen. */
function sampleRss(pid: number): { stop(): { startMb: number; peakMb: number; samples: number } } {
  const startMb = residentMb(pid) ?? Number.NaN;
  let peakMb = startMb;
  let samples = 1;
  const timer = setInterval(() => {
    const mb = residentMb(pid);
    if (mb !== undefined) {
      peakMb = Math.max(peakMb, mb);
      samples++;
    }
  }, RSS_SAMPLE_MS);
  return {
    stop: () => {
      clearInterval(timer);
      const mb = residentMb(pid);
      if (mb !== undefined) peakMb = Math.max(peakMb, mb);
      return { startMb, peakMb, samples: samples + 1 };
    },
  };
}

let seedCounter = 1;

/** The round with the shortest time, and its CPU shares (a large otherCpuPct: other work competed with it). */
function bestOf(timings: Timing[], bytes: number) {
  const best = timings.reduce((a, b) => (b.ms < a.ms ? b : a));
  return {
    value: mbPerSecond(bytes, best.ms),
    all: timings.map((timing) => mbPerSecond(bytes, timing.ms)),
    clientCpuPct: best.clientCpuPct,
    serverCpuPct: best.serverCpuPct,
    otherCpuPct: best.otherCpuPct,
  };
}

/**
 * Upload and download throughput (best of BLOB_ROUNDS), then, with `rss`, the server's resident memory growth while
 * one RSS_BLOB_BYTES layer streams up and down.
 */
async function measureBlobs(
  label: string,
  measured: Measured,
  base: Buffer,
  options: { goals: boolean; rss: boolean; of?: string },
): Promise<void> {
  // Warm-up: one small blob each way, so that neither side's first-request costs land in a round.
  await upAndDown(measured, seedCounter++, 8 * MIB, base);
  const rounds: { up: Timing; down: Timing }[] = [];
  for (let index = 0; index < BLOB_ROUNDS; index++) {
    const result = await upAndDown(measured, seedCounter++, BLOB_BYTES, base);
    rounds.push(result);
    progress(`${label}: round ${index + 1}: up ${round(result.up.ms, 0)} ms, down ${round(result.down.ms, 0)} ms`);
  }
  const fields = {
    target: measured.target.name,
    blobBytes: BLOB_BYTES,
    rounds: BLOB_ROUNDS,
    ...(options.of ? { of: options.of } : {}),
  };
  const goal = options.goals ? THROUGHPUT_GOAL : 'report';
  const up = bestOf(
    rounds.map((r) => r.up),
    BLOB_BYTES,
  );
  const down = bestOf(
    rounds.map((r) => r.down),
    BLOB_BYTES,
  );
  emit({ name: `${label}_blob_upload_mb_s`, unit: 'MB/s', goal, ...up, ...fields });
  emit({ name: `${label}_blob_download_mb_s`, unit: 'MB/s', goal, ...down, ...fields });
  if (!options.rss) return;

  // Resident memory while one large layer streams up, then down.
  const sampler = sampleRss(measured.pid);
  const big = await upAndDown(measured, seedCounter++, RSS_BLOB_BYTES, base);
  const rss = sampler.stop();
  emit({
    name: `${label}_blob_rss_growth_mb`,
    value: round(rss.peakMb - rss.startMb, 1),
    unit: 'MB',
    goal: options.goals ? RSS_GROWTH_GOAL : 'report',
    of: 'peak VmRSS of the server process while the layer streams up and down, over its VmRSS just before',
    target: measured.target.name,
    layerBytes: RSS_BLOB_BYTES,
    startMb: round(rss.startMb, 1),
    peakMb: round(rss.peakMb, 1),
    samples: rss.samples,
    upMbS: mbPerSecond(RSS_BLOB_BYTES, big.up.ms),
    downMbS: mbPerSecond(RSS_BLOB_BYTES, big.down.ms),
  });
}

function emitNotMeasured(label: string, reason: string): void {
  progress(`${label}: not measured: ${reason}`);
  const skipped = reason;
  emit({ name: `${label}_blob_upload_mb_s`, value: null, unit: 'MB/s', goal: THROUGHPUT_GOAL, skipped });
  emit({ name: `${label}_blob_download_mb_s`, value: null, unit: 'MB/s', goal: THROUGHPUT_GOAL, skipped });
  emit({ name: `${label}_blob_rss_growth_mb`, value: null, unit: 'MB', goal: RSS_GROWTH_GOAL, skipped });
}

/** One OCI layout per skopeo round, each image with new layers. */
function buildSkopeoLayouts(): OciLayout[] {
  return Array.from({ length: SKOPEO_ROUNDS }, (_, index) => {
    const layout = createOciLayout();
    const layerBytes = Math.ceil(SKOPEO_BYTES / SKOPEO_LAYERS);
    const image = layout.addImage({
      seed: `bench-skopeo-${process.pid}-${index}`,
      layers: Array.from({ length: SKOPEO_LAYERS }, () => ({ size: layerBytes, files: 4 })),
    });
    layout.tag('v1', image.descriptor);
    return layout;
  });
}

async function timeMs(task: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await task();
  return performance.now() - started;
}

/** skopeo push and pull of the same image to each registry, side by side in each round: best times and ratios. */
async function measureSkopeo(reference: RegistryTarget, ours: RegistryTarget | { skipped: string }): Promise<void> {
  const layouts = buildSkopeoLayouts();
  const targets = 'skipped' in ours ? [reference] : [reference, ours];
  const times = new Map(targets.map((target) => [target.name, { push: [] as number[], pull: [] as number[] }]));
  const work = mkdtempSync(join(tmpdir(), 'bench-skopeo-'));
  try {
    for (const [index, layout] of layouts.entries()) {
      const order = index % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        const repository = `bench/skopeo-${index}`;
        const out = join(work, `${target.name.replace(/\W/g, '-')}-${index}`);
        const push = await timeMs(() => pushLayout(target, layout.dir, 'v1', repository));
        const pull = await timeMs(() => pullToLayout(target, repository, 'v1', out));
        times.get(target.name)?.push.push(push);
        times.get(target.name)?.pull.push(pull);
        progress(`skopeo round ${index + 1}: ${target.name}: push ${round(push, 0)} ms, pull ${round(pull, 0)} ms`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    for (const layout of layouts) rmSync(layout.dir, { recursive: true, force: true });
  }
  const best = (name: string, phase: 'push' | 'pull') => Math.min(...(times.get(name)?.[phase] ?? []));
  const fields = { imageBytes: SKOPEO_BYTES, layers: SKOPEO_LAYERS, rounds: SKOPEO_ROUNDS, of: 'best round' };
  for (const phase of ['push', 'pull'] as const) {
    emit({
      name: `distribution_skopeo_${phase}_s`,
      value: round(best(reference.name, phase) / 1000, 2),
      unit: 's',
      goal: 'report',
      all: times.get(reference.name)?.[phase].map((ms) => round(ms / 1000, 2)),
      ...fields,
    });
    const ratioName = `registry_skopeo_${phase}_vs_distribution`;
    if ('skipped' in ours) {
      emit({ name: `registry_skopeo_${phase}_s`, value: null, unit: 's', goal: 'report', skipped: ours.skipped });
      emit({ name: ratioName, value: null, unit: 'x', goal: '<= 1.0', skipped: ours.skipped });
      continue;
    }
    emit({
      name: `registry_skopeo_${phase}_s`,
      value: round(best(ours.name, phase) / 1000, 2),
      unit: 's',
      goal: 'report',
      all: times.get(ours.name)?.[phase].map((ms) => round(ms / 1000, 2)),
      ...fields,
    });
    emit({
      name: ratioName,
      value: round(best(ours.name, phase) / best(reference.name, phase), 2),
      unit: 'x',
      goal: '<= 1.0',
      ...fields,
      of: `local registry's best skopeo ${phase} time over distribution's, same image, same rounds`,
    });
  }
}

/** BENCH_REQUIRE_LOCAL_V2=1: fail, rather than print "not measured", when the local registry has no `/v2/`. */
const LOCAL_V2_REQUIRED = process.env.BENCH_REQUIRE_LOCAL_V2 === '1';

/** The local registry's target when its `/v2/` answers as ECR's does, with a repository created (ECR creates none). */
async function localTarget(registry: ServerProcess): Promise<RegistryTarget | { skipped: string }> {
  const { status, challenge } = await probeV2(registry.url);
  if (status !== 401 || !challenge?.toLowerCase().startsWith('basic')) {
    const reason = `the local registry's GET /v2/ answers ${status}, not 401 with a Basic challenge: no /v2/ API yet`;
    if (LOCAL_V2_REQUIRED) throw new Error(`BENCH_REQUIRE_LOCAL_V2=1: ${reason}`);
    return { skipped: reason };
  }
  const ecr = new ECRClient({
    endpoint: registry.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCALBENCH', secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  });
  await ecr.send(new CreateRepositoryCommand({ repositoryName: REPOSITORY }));
  for (let index = 0; index < SKOPEO_ROUNDS; index++) {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: `bench/skopeo-${index}` }));
  }
  ecr.destroy();
  return localRegistryTarget(registry);
}

const base = randomBytes(CHUNK_BYTES);
let distribution: DistributionRegistry | undefined;
let registry: ServerProcess | undefined;
let floor: ServerProcess | undefined;
try {
  floor = await startBlobFloorProcess();
  progress(`floor (a bare node server, blobs in files): ${BLOB_ROUNDS} × ${BLOB_BYTES / MIB} MiB blobs`);
  await measureBlobs(
    'blob_floor',
    { target: { name: 'floor', host: new URL(floor.url).host, tlsVerify: false }, pid: floor.pid },
    base,
    { goals: false, rss: false, of: 'a bare node server that hashes uploads into files and streams them back' },
  );
  await floor.stop();
  floor = undefined;

  distribution = await startDistribution();
  registry = await startRegistryProcess();
  const reference = distributionTarget(distribution);
  const ours = await localTarget(registry);

  progress(`distribution: ${BLOB_ROUNDS} × ${BLOB_BYTES / MIB} MiB blobs, then ${RSS_BLOB_BYTES / MIB} MiB`);
  await measureBlobs('distribution', { target: reference, pid: distribution.pid }, base, { goals: false, rss: true });
  if ('skipped' in ours) emitNotMeasured('registry', ours.skipped);
  else {
    progress(`local registry: ${BLOB_ROUNDS} × ${BLOB_BYTES / MIB} MiB blobs, then ${RSS_BLOB_BYTES / MIB} MiB`);
    await measureBlobs('registry', { target: ours, pid: registry.pid }, base, { goals: true, rss: true });
  }
  await measureSkopeo(reference, ours);
} finally {
  await floor?.stop();
  await registry?.stop();
  await distribution?.stop();
}
