import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { buildImageManifest } from '@ecr-automation/local-registry';
import {
  emit,
  type Figure,
  findMotoPython,
  forkWorker,
  intEnv,
  progress,
  residentMb,
  round,
  runInFlight,
  type ServerProcess,
  serveWorker,
  sleep,
  startHttpFloorProcess,
  startMotoProcess,
  startRegistryProcess,
  type Timing,
  timed,
  type WorkerProcess,
} from './lib.ts';

/**
 * The local registry under load, through the real ECRClient over loopback HTTP, against a registry server in its
 * own process: PutImage while filling one repository, DescribeImages pages of 1,000, BatchDeleteImage of 100 ids,
 * the server's resident memory when full; then the same phases at a small size against the registry and against
 * moto, for ratios that compare like with like.
 *
 * The load comes from BENCH_CLIENTS worker processes (default 2), each with its own ECRClient, which share the
 * BENCH_IN_FLIGHT requests (default 8): one node process running the SDK tops out near 4,000-4,800 PutImage/s on one
 * core even against a server that does nothing, below the goal this measures.
 *
 * BENCH_IMAGES (default 100,000) sizes the full run, BENCH_FLOOR_CALLS (default 20,000) the floor (a bare node HTTP
 * server answering `{}`, registry_http_floor_us_per_call), BENCH_COMPARE_IMAGES (default 3,000) the comparison with moto
 * (best of BENCH_COMPARE_REPEATS rounds, default 3). BENCH_CPU_PROF_DIR makes the registry server write a CPU
 * profile there. Each figure's `clientCpuPct`, `serverCpuPct` and `otherCpuPct` (the rest of the machine) say where
 * the time went; a large `otherCpuPct` means other work competed with that measurement.
 */
const FULL_IMAGES = intEnv('BENCH_IMAGES', 100_000);
const COMPARE_IMAGES = intEnv('BENCH_COMPARE_IMAGES', 3_000);
/** PutImage calls sent to the bare HTTP server for the floor figure (BENCH_FLOOR_CALLS), after as many to warm up. */
const FLOOR_CALLS = intEnv('BENCH_FLOOR_CALLS', 20_000);
const IN_FLIGHT = intEnv('BENCH_IN_FLIGHT', 8);
const CLIENTS = Math.min(intEnv('BENCH_CLIENTS', 2), IN_FLIGHT);
/** DescribeImages `maxResults` upper bound ([M-ECR] DescribeImages). */
const PAGE_SIZE = 1_000;
/** BatchDeleteImage `imageIds` upper bound ([M-ECR] BatchDeleteImage). */
const IDS_PER_DELETE = 100;
const MANIFEST_BYTES = 1_024;
const LAYER_SIZES = [2_811_478, 31_457_280, 1_048_576];
/** The base layers every benchmark image shares. */
const SHARED_LAYERS = LAYER_SIZES.map(
  (_, i) => `sha256:${createHash('sha256').update(`bench-layer-${i}`).digest('hex')}`,
);

/**
 * Declares the config and layers of `bodies` in `repository` without content (`POST /_local/blobs`, 1,000 a call), as
 * the layer uploads before a real push would leave them; a server without that control route (moto, which checks no
 * layers) is left alone.
 */
async function declareBlobs(url: string, repository: string, bodies: string[]): Promise<void> {
  const blobs = new Map<string, number>();
  for (const body of bodies) {
    const { config, layers } = JSON.parse(body) as { config: Blob; layers: Blob[] };
    for (const blob of [config, ...layers]) blobs.set(blob.digest, blob.size);
  }
  const list = [...blobs].map(([digest, size]) => ({ digest, size }));
  for (let i = 0; i < list.length; i += 1_000) {
    const response = await fetch(`${url}/_local/blobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repositoryName: repository, blobs: list.slice(i, i + 1_000) }),
    });
    await response.arrayBuffer();
    // moto answers a path it does not serve with 404 or 500: it checks no layers, so there is nothing to declare.
    if (response.status === 404 || response.status >= 500) return;
    if (!response.ok) throw new Error(`declaring blobs in ${repository}: HTTP ${response.status}`);
  }
}

interface Blob {
  digest: string;
  size: number;
}
const PAD_ANNOTATION = 'org.opencontainers.image.description';
/** Pushed, listed and deleted through the load workers before timing, so that the JIT of both sides is warm. */
const WARMUP_IMAGES = 5_000;
/** moto has no JIT to warm and the workers are warm by then: this only loads its ECR backend. */
const MOTO_WARMUP_IMAGES = 300;
const COMPARE_REPOSITORY = 'bench/compare';
/**
 * Rounds of the comparison, each side's best round per phase reported: other work on the machine only ever slows
 * a round down, so the fastest is the least disturbed.
 */
const COMPARE_REPEATS = intEnv('BENCH_COMPARE_REPEATS', 3);
/** Pause between the fill and the memory reading, for the server to finish what the last requests left. */
const RSS_SETTLE_MS = Number(process.env.BENCH_RSS_SETTLE_MS ?? 2_000);
const REPOSITORY = 'bench/images';
const CLIENT_FLAG = '--load-client';

// ---- Load worker: one ECRClient, the images of its share of the range ----

/**
 * A unique image manifest of about MANIFEST_BYTES bytes, padded with an annotation of digest-like hex: padding that
 * compresses no better than real manifests (the registry stores manifests deflated, so `xxxx…` would flatter it).
 */
function manifestFor(seed: string): string {
  // Builds share their base layers (one set for the whole run) and each has a config of its own, as CI builds do.
  const build = (pad: string) => {
    const manifest = JSON.parse(
      buildImageManifest({ seed, layerSizes: LAYER_SIZES, annotations: { [PAD_ANNOTATION]: pad } }),
    ) as { layers: { digest: string }[] };
    manifest.layers = manifest.layers.map((layer, i) => ({ ...layer, digest: SHARED_LAYERS[i] as string }));
    return JSON.stringify(manifest, null, 2);
  };
  const bare = Buffer.byteLength(build(''), 'utf8');
  let pad = '';
  for (let k = 0; pad.length < MANIFEST_BYTES - bare; k++) {
    pad += createHash('sha256').update(`${seed}:${k}`).digest('hex');
  }
  return build(pad.slice(0, Math.max(0, MANIFEST_BYTES - bare)));
}

function clientFor(url: string): ECRClient {
  return new ECRClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDBENCHMARK', secretAccessKey: 'bench-secret' },
    maxAttempts: 1,
    // Resolves the middleware stack once per command class instead of on every send (an SDK option).
    cacheMiddleware: true,
  });
}

interface Share {
  repository: string;
  /** Image numbers [from, to) of this worker. */
  from: number;
  to: number;
  inFlight: number;
}

interface DescribeCounts {
  pages: number;
  images: number;
}

interface DeleteCounts {
  calls: number;
  images: number;
  /** Ids reported as failures: moto's BatchDeleteImage deletes by list index and races with itself. */
  failures: number;
}

async function putShare(client: ECRClient, share: Share, bodies: string[]): Promise<string[]> {
  const digests: string[] = new Array(bodies.length);
  await runInFlight(bodies.length, share.inFlight, async (i) => {
    const output = await client.send(
      new PutImageCommand({
        repositoryName: share.repository,
        imageManifest: bodies[i],
        imageTag: `build-${share.from + i}`,
      }),
    );
    const digest = output.image?.imageId?.imageDigest;
    if (!digest) throw new Error(`PutImage ${share.from + i} returned no digest`);
    digests[i] = digest;
  });
  return digests;
}

/** PutImage calls whose answers are not read: against the bare HTTP server, which answers `{}`. */
async function putBlind(client: ECRClient, share: Share, bodies: string[]): Promise<void> {
  await runInFlight(bodies.length, share.inFlight, async (i) => {
    await client.send(
      new PutImageCommand({ repositoryName: share.repository, imageManifest: bodies[i], imageTag: `build-${i}` }),
    );
  });
}

/** `walkers` concurrent passes, each paginating the whole repository once. */
async function describeRepository(
  client: ECRClient,
  repository: string,
  walkers: number,
  expected: number,
): Promise<DescribeCounts> {
  const counts = { pages: 0, images: 0 };
  const walk = async () => {
    let seen = 0;
    let nextToken: string | undefined;
    do {
      const output = await client.send(
        new DescribeImagesCommand({ repositoryName: repository, maxResults: PAGE_SIZE, nextToken }),
      );
      counts.pages += 1;
      seen += output.imageDetails?.length ?? 0;
      nextToken = output.nextToken;
    } while (nextToken);
    if (seen !== expected) throw new Error(`DescribeImages listed ${seen} images of ${expected}`);
    counts.images += seen;
  };
  await Promise.all(Array.from({ length: walkers }, walk));
  return counts;
}

async function deleteDigests(
  client: ECRClient,
  repository: string,
  digests: string[],
  inFlight: number,
): Promise<DeleteCounts> {
  const counts = { calls: Math.ceil(digests.length / IDS_PER_DELETE), images: 0, failures: 0 };
  await runInFlight(counts.calls, inFlight, async (call) => {
    const imageIds = digests
      .slice(call * IDS_PER_DELETE, (call + 1) * IDS_PER_DELETE)
      .map((imageDigest) => ({ imageDigest }));
    const output = await client.send(new BatchDeleteImageCommand({ repositoryName: repository, imageIds }));
    counts.images += output.imageIds?.length ?? 0;
    counts.failures += output.failures?.length ?? 0;
  });
  return counts;
}

function runLoadWorker(): void {
  let client: ECRClient | undefined;
  const connected = () => {
    if (!client) throw new Error('load worker: connect first');
    return client;
  };
  let prepared: { share: Share; bodies: string[] } | undefined;
  let serverUrl = '';
  const pushed = new Map<string, string[]>();
  serveWorker({
    /** Points the worker at a server; the process (and its warm JIT) is kept from one server to the next. */
    connect: async (args: { url: string }) => {
      serverUrl = args.url;
      client?.destroy();
      client = clientFor(args.url);
      pushed.clear();
      return true;
    },
    prepare: async (share: Share) => {
      prepared = {
        share,
        bodies: Array.from({ length: share.to - share.from }, (_, i) =>
          manifestFor(`${share.repository}-${share.from + i}`),
        ),
      };
      await declareBlobs(serverUrl, share.repository, prepared.bodies);
      return prepared.bodies.length;
    },
    put: async () => {
      if (!prepared) throw new Error('put before prepare');
      pushed.set(prepared.share.repository, await putShare(connected(), prepared.share, prepared.bodies));
      return prepared.bodies.length;
    },
    putBlind: async () => {
      if (!prepared) throw new Error('putBlind before prepare');
      await putBlind(connected(), prepared.share, prepared.bodies);
      return prepared.bodies.length;
    },
    describe: async (args: { repository: string; walkers: number; expected: number }) =>
      describeRepository(connected(), args.repository, args.walkers, args.expected),
    delete: async (args: { repository: string; inFlight: number }) =>
      deleteDigests(connected(), args.repository, pushed.get(args.repository) ?? [], args.inFlight),
    createRepository: async (args: { repository: string }) =>
      connected()
        .send(new CreateRepositoryCommand({ repositoryName: args.repository }))
        .then(() => true),
  });
}

// ---- Orchestration: the server, the load workers, the timed phases ----

/** `total` split into `parts` near-equal integers. */
const split = (total: number, parts: number) =>
  Array.from({ length: parts }, (_, k) => Math.floor(total / parts) + (k < total % parts ? 1 : 0));

/**
 * The load: CLIENTS worker processes, `in flight` and the image range shared between them. The same workers serve
 * every server in turn, so that the SDK code in them is as warm for moto as for the registry.
 */
class Load {
  private current: ServerProcess | undefined;

  private constructor(private readonly workers: WorkerProcess[]) {}

  static async start(): Promise<Load> {
    const file = fileURLToPath(import.meta.url);
    return new Load(await Promise.all(Array.from({ length: CLIENTS }, () => forkWorker(file, [CLIENT_FLAG]))));
  }

  get server(): ServerProcess {
    if (!this.current) throw new Error('no server connected');
    return this.current;
  }

  /** Points every worker at `server` and warms both up with `warmupImages` pushed, listed and deleted. */
  async connect(server: ServerProcess, warmupImages: number): Promise<void> {
    this.current = server;
    await this.all('connect', () => ({ url: server.url }));
    const repository = 'bench/warmup';
    await this.prepare(repository, warmupImages);
    await this.put();
    await this.describe(repository, warmupImages);
    await this.delete(repository, warmupImages);
  }

  /** Points every worker at a server that answers `{}` to anything (no warm-up of listings and deletes). */
  async connectBare(server: ServerProcess): Promise<void> {
    this.current = server;
    await this.all('connect', () => ({ url: server.url }));
  }

  putBlind(): Promise<Timing> {
    return this.timed(() => this.all('putBlind', () => undefined));
  }

  private get clientPids() {
    return this.workers.map((worker) => worker.pid);
  }

  private timed<T>(phase: () => Promise<T>): Promise<Timing & { result: T }> {
    let result: T | undefined;
    return timed(this.server.pid, this.clientPids, async () => {
      result = await phase();
    }).then((timing) => ({ ...timing, result: result as T }));
  }

  private all<T>(op: string, args: (k: number) => unknown): Promise<T[]> {
    return Promise.all(this.workers.map((worker, k) => worker.call<T>(op, args(k))));
  }

  /** Builds the manifests in the workers (untimed): ranges aligned on IDS_PER_DELETE, so each delete is full. */
  async prepare(repository: string, images: number): Promise<void> {
    await this.workers[0]?.call('createRepository', { repository });
    const perWorker = Math.ceil(images / CLIENTS / IDS_PER_DELETE) * IDS_PER_DELETE;
    const inFlight = split(IN_FLIGHT, CLIENTS);
    await this.all('prepare', (k) => ({
      repository,
      from: Math.min(images, k * perWorker),
      to: Math.min(images, (k + 1) * perWorker),
      inFlight: inFlight[k],
    }));
  }

  put(): Promise<Timing> {
    return this.timed(() => this.all('put', () => undefined));
  }

  async describe(repository: string, expected: number): Promise<DescribeTiming> {
    const walkers = split(IN_FLIGHT, CLIENTS);
    const timing = await this.timed(() =>
      this.all<DescribeCounts>('describe', (k) => ({ repository, walkers: walkers[k], expected })),
    );
    const pages = timing.result.reduce((sum, counts) => sum + counts.pages, 0);
    const images = timing.result.reduce((sum, counts) => sum + counts.images, 0);
    return { ...timing, pages, images, passes: IN_FLIGHT };
  }

  async delete(repository: string, expected: number): Promise<DeleteTiming> {
    const inFlight = split(IN_FLIGHT, CLIENTS);
    const timing = await this.timed(() =>
      this.all<DeleteCounts>('delete', (k) => ({ repository, inFlight: inFlight[k] })),
    );
    const sum = (pick: (counts: DeleteCounts) => number) => timing.result.reduce((total, c) => total + pick(c), 0);
    const counts = { calls: sum((c) => c.calls), images: sum((c) => c.images), failures: sum((c) => c.failures) };
    // moto's own race may fail some ids; the registry must delete every one.
    if (this.server.name !== 'moto' && (counts.failures > 0 || counts.images !== expected)) {
      throw new Error(`BatchDeleteImage deleted ${counts.images} of ${expected} images (${counts.failures} failures)`);
    }
    return { ...timing, ...counts };
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }
}

/** Runs `run` against a fresh server, which is stopped whatever happens. */
async function onServer<T>(
  load: Load,
  start: () => Promise<ServerProcess>,
  warmupImages: number,
  run: () => Promise<T>,
): Promise<T> {
  const server = await start();
  try {
    progress(`${server.name} at ${server.url} (pid ${server.pid}); ${CLIENTS} load workers, ${IN_FLIGHT} in flight`);
    await load.connect(server, warmupImages);
    return await run();
  } finally {
    await server.stop();
  }
}

const perSecond = (count: number, ms: number) => round((count * 1_000) / ms, 1);
const cpu = (timing: Timing) => ({
  clientCpuPct: timing.clientCpuPct,
  serverCpuPct: timing.serverCpuPct,
  otherCpuPct: timing.otherCpuPct,
});
/** Server CPU time per call, in µs: what a call costs the server whoever was the bottleneck. */
const serverUsPerCall = (timing: Timing, calls: number) =>
  timing.serverCpuPct === undefined ? null : round(((timing.serverCpuPct / 100) * timing.ms * 1_000) / calls, 0);
const loadFields = () => ({ inFlight: IN_FLIGHT, clients: CLIENTS });

/** The full-size run: fill to FULL_IMAGES, memory, pages, deletes. */
async function fullRun(load: Load): Promise<void> {
  const server = load.server;
  progress(`building ${FULL_IMAGES} manifests of ~${MANIFEST_BYTES} bytes`);
  await load.prepare(REPOSITORY, FULL_IMAGES);

  progress(`PutImage × ${FULL_IMAGES}`);
  const filled = await load.put();
  emit({
    name: 'registry_putimage_per_s',
    value: perSecond(FULL_IMAGES, filled.ms),
    unit: 'images/s',
    goal: '>= 5000',
    n: FULL_IMAGES,
    ...loadFields(),
    manifestBytes: Buffer.byteLength(manifestFor('size'), 'utf8'),
    seconds: round(filled.ms / 1_000, 2),
    ...cpu(filled),
    serverUsPerCall: serverUsPerCall(filled, FULL_IMAGES),
  });
  emit({
    name: 'registry_putimage_server_us_per_call',
    value: serverUsPerCall(filled, FULL_IMAGES),
    unit: 'µs',
    goal: '<= 100',
    of: 'server CPU (user + system) per PutImage while filling',
    n: FULL_IMAGES,
    ...loadFields(),
    ...cpu(filled),
  });

  const rssRightAfterFill = residentMb(server.pid);
  await sleep(RSS_SETTLE_MS);
  const rss = residentMb(server.pid);
  emit({
    name: 'registry_rss_mb',
    value: rss === undefined ? null : round(rss, 1),
    unit: 'MB',
    goal: '<= 200',
    images: FULL_IMAGES,
    settleMs: RSS_SETTLE_MS,
    rightAfterFillMb: rssRightAfterFill === undefined ? null : round(rssRightAfterFill, 1),
    emptyServerMb: server.startRssMb === undefined ? null : round(server.startRssMb, 1),
  });

  progress(`DescribeImages: ${IN_FLIGHT} passes over ${FULL_IMAGES} images, pages of ${PAGE_SIZE}`);
  const described = await load.describe(REPOSITORY, FULL_IMAGES);
  emit({
    name: 'registry_describe_pages_per_s',
    value: perSecond(described.pages, described.ms),
    unit: 'pages/s',
    goal: '>= 200',
    n: described.pages,
    pageSize: PAGE_SIZE,
    passes: described.passes,
    ...loadFields(),
    imagesPerS: perSecond(described.images, described.ms),
    ...cpu(described),
    serverUsPerCall: serverUsPerCall(described, described.pages),
  });
  emit({
    name: 'registry_describe_server_us_per_page',
    value: serverUsPerCall(described, described.pages),
    unit: 'µs',
    goal: '<= 1000',
    of: `server CPU (user + system) per DescribeImages page of ${PAGE_SIZE} images`,
    n: described.pages,
    images: FULL_IMAGES,
    ...loadFields(),
    ...cpu(described),
  });

  progress(`BatchDeleteImage: ${FULL_IMAGES} images, ${IDS_PER_DELETE} ids a call`);
  const deleted = await load.delete(REPOSITORY, FULL_IMAGES);
  const deleteFields = {
    n: deleted.calls,
    idsPerCall: IDS_PER_DELETE,
    ...loadFields(),
    ...cpu(deleted),
    serverUsPerCall: serverUsPerCall(deleted, deleted.calls),
  };
  emit({
    name: 'registry_batchdelete_calls_per_s',
    value: perSecond(deleted.calls, deleted.ms),
    unit: 'calls/s',
    goal: 'report',
    ...deleteFields,
  });
  emit({
    name: 'registry_batchdelete_images_per_s',
    value: perSecond(deleted.images, deleted.ms),
    unit: 'images/s',
    goal: 'report',
    ...deleteFields,
  });
}

type DescribeTiming = Timing & DescribeCounts & { passes: number };
type DeleteTiming = Timing & DeleteCounts;

const fastest = <T extends Timing>(timings: T[]): T =>
  timings.reduce((best, timing) => (timing.ms < best.ms ? timing : best));

interface CompareResult {
  putPerS: number;
  describedPerS: number;
  deleteCallsPerS: number;
  figures: Figure[];
}

/** The same three phases at COMPARE_IMAGES, for the registry and for moto alike. */
async function compareRun(load: Load): Promise<CompareResult> {
  const side = load.server.name;
  progress(
    `${side}: ${COMPARE_REPEATS} × (PutImage × ${COMPARE_IMAGES}, DescribeImages × ${IN_FLIGHT} passes, BatchDeleteImage)`,
  );
  const rounds: { put: Timing; described: DescribeTiming; deleted: DeleteTiming }[] = [];
  for (let round = 0; round < COMPARE_REPEATS; round++) {
    // A repository per round: moto's racy deletes can leave an image behind, which the next round would push again.
    const repository = `${COMPARE_REPOSITORY}-${round}`;
    await load.prepare(repository, COMPARE_IMAGES);
    const put = await load.put();
    const described = await load.describe(repository, COMPARE_IMAGES);
    const deleted = await load.delete(repository, COMPARE_IMAGES);
    rounds.push({ put, described, deleted });
  }
  const put = fastest(rounds.map((r) => r.put));
  const described = fastest(rounds.map((r) => r.described));
  const deleted = fastest(rounds.map((r) => r.deleted));
  const result = {
    putPerS: perSecond(COMPARE_IMAGES, put.ms),
    describedPerS: perSecond(described.images, described.ms),
    deleteCallsPerS: perSecond(deleted.calls, deleted.ms),
  };
  const common = { n: COMPARE_IMAGES, ...loadFields(), bestOf: COMPARE_REPEATS };
  const figures: Figure[] = [
    {
      name: `compare_${side}_putimage_per_s`,
      value: result.putPerS,
      unit: 'images/s',
      goal: 'report',
      ...common,
      ...cpu(put),
    },
    {
      name: `compare_${side}_describe_images_per_s`,
      value: result.describedPerS,
      unit: 'images/s',
      goal: 'report',
      ...common,
      calls: described.pages,
      passes: described.passes,
      maxResults: PAGE_SIZE,
      ...cpu(described),
    },
    {
      name: `compare_${side}_batchdelete_calls_per_s`,
      value: result.deleteCallsPerS,
      unit: 'calls/s',
      goal: 'report',
      ...common,
      calls: deleted.calls,
      idsPerCall: IDS_PER_DELETE,
      failures: deleted.failures,
      ...cpu(deleted),
    },
  ];
  return { ...result, figures };
}

const RATIOS: { name: string; goal: string; of: string; pick: (result: CompareResult) => number }[] = [
  { name: 'registry_vs_moto_putimage_ratio', goal: '>= 10', of: 'PutImage images/s', pick: (r) => r.putPerS },
  {
    name: 'registry_vs_moto_describe_ratio',
    goal: 'report',
    of: 'DescribeImages images described/s (moto ignores maxResults)',
    pick: (r) => r.describedPerS,
  },
  {
    name: 'registry_vs_moto_batchdelete_ratio',
    goal: 'report',
    of: 'BatchDeleteImage calls/s',
    pick: (r) => r.deleteCallsPerS,
  },
];

function emitMotoSkipped(skipped: string): void {
  const names = [
    'compare_moto_putimage_per_s',
    'compare_moto_describe_images_per_s',
    'compare_moto_batchdelete_calls_per_s',
  ];
  for (const name of names) emit({ name, value: null, unit: '/s', goal: 'report', skipped });
  for (const { name, goal, of } of RATIOS) emit({ name, value: null, unit: 'x', goal, of, skipped });
}

/** moto at COMPARE_IMAGES on its own server, then the ratios to the registry's figures at the same size. */
async function motoComparison(load: Load, registry: CompareResult): Promise<void> {
  const found = findMotoPython();
  if ('skipped' in found) {
    emitMotoSkipped(found.skipped);
    return;
  }
  const moto = await onServer(
    load,
    () => startMotoProcess(found.python),
    MOTO_WARMUP_IMAGES,
    () => compareRun(load),
  );
  for (const figure of moto.figures) emit(figure);
  for (const { name, goal, of, pick } of RATIOS) {
    const value = round(pick(registry) / pick(moto), 2);
    emit({ name, value, unit: 'x', goal, of, n: COMPARE_IMAGES, ...loadFields() });
  }
}

/**
 * The floor: PutImage through the same clients against a bare node HTTP server that reads the body and answers `{}`.
 * Its server CPU per call is what any node HTTP server costs here, to read beside registry_putimage_server_us_per_call.
 */
async function httpFloor(load: Load): Promise<void> {
  const server = await startHttpFloorProcess();
  try {
    progress(
      `bare HTTP server at ${server.url} (pid ${server.pid}): PutImage × ${FLOOR_CALLS} after as many to warm up`,
    );
    await load.connectBare(server);
    await load.prepare('bench/floor', FLOOR_CALLS);
    await load.putBlind();
    const timing = await load.putBlind();
    emit({
      name: 'registry_http_floor_us_per_call',
      value: serverUsPerCall(timing, FLOOR_CALLS),
      unit: 'µs',
      goal: 'report',
      of: 'server CPU (user + system) per PutImage answered `{}` by a bare node HTTP server: the floor under the registry',
      n: FLOOR_CALLS,
      callsPerS: perSecond(FLOOR_CALLS, timing.ms),
      ...loadFields(),
      ...cpu(timing),
    });
  } finally {
    await server.stop();
  }
}

/**
 * The floor on a bare HTTP server, then the full run on the registry, then the comparison run on the same (warm, now empty) registry in another
 * repository, then on moto.
 */
async function main(): Promise<void> {
  const load = await Load.start();
  try {
    await httpFloor(load);
    const registry = await onServer(load, startRegistryProcess, WARMUP_IMAGES, async () => {
      await fullRun(load);
      return compareRun(load);
    });
    for (const figure of registry.figures) emit(figure);
    await motoComparison(load, registry);
  } catch (error) {
    progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  } finally {
    await load.stop();
  }
}

if (process.argv.includes(CLIENT_FLAG)) runLoadWorker();
else await main();
