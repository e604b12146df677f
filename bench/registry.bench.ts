import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { buildImageManifest } from '../registry/manifests.ts';
import {
  emit,
  type Figure,
  findMotoPython,
  intEnv,
  progress,
  residentMb,
  round,
  runInFlight,
  type ServerProcess,
  sleep,
  startMotoProcess,
  startRegistryProcess,
  type Timing,
  timed,
} from './lib.ts';

/**
 * The local registry under load, through the real ECRClient over loopback HTTP, against a registry server in its
 * own process: PutImage while filling one repository, DescribeImages pages of 1,000, BatchDeleteImage of 100 ids,
 * the server's resident memory when full; then the same phases at a small size against the registry and against
 * moto, for ratios that compare like with like.
 *
 * BENCH_IMAGES (default 100,000) sizes the full run, BENCH_COMPARE_IMAGES (default 3,000) the comparison with
 * moto, BENCH_IN_FLIGHT (default 8) the requests outstanding at any time.
 */
const FULL_IMAGES = intEnv('BENCH_IMAGES', 100_000);
const COMPARE_IMAGES = intEnv('BENCH_COMPARE_IMAGES', 3_000);
const IN_FLIGHT = intEnv('BENCH_IN_FLIGHT', 8);
/** DescribeImages `maxResults` upper bound ([M-ECR] DescribeImages). */
const PAGE_SIZE = 1_000;
/** BatchDeleteImage `imageIds` upper bound ([M-ECR] BatchDeleteImage). */
const IDS_PER_DELETE = 100;
const MANIFEST_BYTES = 1_024;
const LAYER_SIZES = [2_811_478, 31_457_280, 1_048_576];
const PAD_ANNOTATION = 'org.opencontainers.image.description';
/** Pushed, listed and deleted on every server before timing, so that both JIT and moto's lazy imports are warm. */
const WARMUP_IMAGES = 300;
/** Pause between the fill and the memory reading, for the server to finish what the last requests left. */
const RSS_SETTLE_MS = 2_000;
const REPOSITORY = 'bench/images';
const WARMUP_REPOSITORY = 'bench/warmup';

/** A unique image manifest of about MANIFEST_BYTES bytes, padded with an annotation. */
function manifestFor(seed: string): string {
  const build = (pad: string) =>
    buildImageManifest({ seed, layerSizes: LAYER_SIZES, annotations: { [PAD_ANNOTATION]: pad } });
  const bare = Buffer.byteLength(build(''), 'utf8');
  return build('x'.repeat(Math.max(0, MANIFEST_BYTES - bare)));
}

function manifests(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => manifestFor(`${prefix}-${i}`));
}

function clientFor(server: ServerProcess): ECRClient {
  return new ECRClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDBENCHMARK', secretAccessKey: 'bench-secret' },
    maxAttempts: 1,
  });
}

async function createRepository(client: ECRClient, name: string): Promise<void> {
  await client.send(new CreateRepositoryCommand({ repositoryName: name }));
}

interface FillResult extends Timing {
  digests: string[];
}

async function fill(
  client: ECRClient,
  server: ServerProcess,
  repository: string,
  bodies: string[],
): Promise<FillResult> {
  const digests: string[] = new Array(bodies.length);
  const timing = await timed(server.pid, async () => {
    await runInFlight(bodies.length, IN_FLIGHT, async (i) => {
      const output = await client.send(
        new PutImageCommand({ repositoryName: repository, imageManifest: bodies[i], imageTag: `build-${i}` }),
      );
      const digest = output.image?.imageId?.imageDigest;
      if (!digest) throw new Error(`PutImage ${i} returned no digest`);
      digests[i] = digest;
    });
  });
  return { ...timing, digests };
}

interface DescribeResult extends Timing {
  pages: number;
  images: number;
  passes: number;
}

/** IN_FLIGHT walkers each paginate the whole repository once, so that IN_FLIGHT pages are outstanding. */
async function describeAll(
  client: ECRClient,
  server: ServerProcess,
  repository: string,
  expected: number,
): Promise<DescribeResult> {
  let pages = 0;
  let images = 0;
  const walk = async () => {
    let seen = 0;
    let nextToken: string | undefined;
    do {
      const output = await client.send(
        new DescribeImagesCommand({ repositoryName: repository, maxResults: PAGE_SIZE, nextToken }),
      );
      pages += 1;
      seen += output.imageDetails?.length ?? 0;
      nextToken = output.nextToken;
    } while (nextToken);
    if (seen !== expected) throw new Error(`DescribeImages listed ${seen} images of ${expected} on ${server.name}`);
    images += seen;
  };
  const timing = await timed(server.pid, async () => {
    await Promise.all(Array.from({ length: IN_FLIGHT }, walk));
  });
  return { ...timing, pages, images, passes: IN_FLIGHT };
}

interface DeleteResult extends Timing {
  calls: number;
  images: number;
  /** Ids a call reported as failures: moto's BatchDeleteImage deletes by list index and races with itself. */
  failures: number;
}

async function deleteAll(
  client: ECRClient,
  server: ServerProcess,
  repository: string,
  digests: string[],
): Promise<DeleteResult> {
  const calls = Math.ceil(digests.length / IDS_PER_DELETE);
  let images = 0;
  let failures = 0;
  const timing = await timed(server.pid, async () => {
    await runInFlight(calls, IN_FLIGHT, async (call) => {
      const ids = digests.slice(call * IDS_PER_DELETE, (call + 1) * IDS_PER_DELETE).map((imageDigest) => ({ imageDigest }));
      const output = await client.send(new BatchDeleteImageCommand({ repositoryName: repository, imageIds: ids }));
      images += output.imageIds?.length ?? 0;
      failures += output.failures?.length ?? 0;
    });
  });
  const exact = server.name !== 'moto';
  if (exact && (failures > 0 || images !== digests.length)) {
    throw new Error(`BatchDeleteImage on ${server.name} deleted ${images} of ${digests.length} images (${failures} failures)`);
  }
  return { ...timing, calls, images, failures };
}

async function warmUp(client: ECRClient, server: ServerProcess): Promise<void> {
  await createRepository(client, WARMUP_REPOSITORY);
  const { digests } = await fill(client, server, WARMUP_REPOSITORY, manifests('warmup', WARMUP_IMAGES));
  await describeAll(client, server, WARMUP_REPOSITORY, WARMUP_IMAGES);
  await deleteAll(client, server, WARMUP_REPOSITORY, digests);
}

const perSecond = (count: number, ms: number) => round((count * 1_000) / ms, 1);
const cpu = (timing: Timing) => ({ clientCpuPct: timing.clientCpuPct, serverCpuPct: timing.serverCpuPct });

/** The full-size run: fill to FULL_IMAGES, memory, pages, deletes. */
async function fullRun(): Promise<void> {
  progress(`building ${FULL_IMAGES} manifests of ~${MANIFEST_BYTES} bytes`);
  const bodies = manifests('image', FULL_IMAGES);
  const server = await startRegistryProcess();
  try {
    const client = clientFor(server);
    progress(`registry at ${server.url} (pid ${server.pid}); warming up`);
    await warmUp(client, server);
    await createRepository(client, REPOSITORY);

    progress(`PutImage × ${FULL_IMAGES}, ${IN_FLIGHT} in flight`);
    const filled = await fill(client, server, REPOSITORY, bodies);
    emit({
      name: 'registry_putimage_per_s',
      value: perSecond(FULL_IMAGES, filled.ms),
      unit: 'images/s',
      goal: '>= 5000',
      n: FULL_IMAGES,
      inFlight: IN_FLIGHT,
      manifestBytes: Buffer.byteLength(bodies[0] ?? '', 'utf8'),
      seconds: round(filled.ms / 1_000, 2),
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
    });

    progress(`DescribeImages: ${IN_FLIGHT} passes over ${FULL_IMAGES} images, pages of ${PAGE_SIZE}`);
    const described = await describeAll(client, server, REPOSITORY, FULL_IMAGES);
    emit({
      name: 'registry_describe_pages_per_s',
      value: perSecond(described.pages, described.ms),
      unit: 'pages/s',
      goal: '>= 200',
      n: described.pages,
      pageSize: PAGE_SIZE,
      passes: described.passes,
      inFlight: IN_FLIGHT,
      imagesPerS: perSecond(described.images, described.ms),
      ...cpu(described),
    });

    progress(`BatchDeleteImage: ${FULL_IMAGES} images, ${IDS_PER_DELETE} ids a call`);
    const deleted = await deleteAll(client, server, REPOSITORY, filled.digests);
    const deleteFields = { n: deleted.calls, idsPerCall: IDS_PER_DELETE, inFlight: IN_FLIGHT, ...cpu(deleted) };
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
  } finally {
    await server.stop();
  }
}

interface CompareResult {
  putPerS: number;
  describedPerS: number;
  deleteCallsPerS: number;
  put: Timing;
  described: DescribeResult;
  deleted: DeleteResult;
}

/** The same three phases at COMPARE_IMAGES on a fresh server, for the registry and for moto alike. */
async function compareRun(server: ServerProcess): Promise<CompareResult> {
  const client = clientFor(server);
  progress(`${server.name} at ${server.url} (pid ${server.pid}); warming up`);
  await warmUp(client, server);
  await createRepository(client, REPOSITORY);
  progress(`${server.name}: PutImage × ${COMPARE_IMAGES}, DescribeImages × ${IN_FLIGHT} passes, BatchDeleteImage`);
  const put = await fill(client, server, REPOSITORY, manifests('compare', COMPARE_IMAGES));
  const described = await describeAll(client, server, REPOSITORY, COMPARE_IMAGES);
  const deleted = await deleteAll(client, server, REPOSITORY, put.digests);
  return {
    putPerS: perSecond(COMPARE_IMAGES, put.ms),
    describedPerS: perSecond(described.images, described.ms),
    deleteCallsPerS: perSecond(deleted.calls, deleted.ms),
    put,
    described,
    deleted,
  };
}

function compareFigures(side: 'registry' | 'moto', result: CompareResult | { skipped: string }): Figure[] {
  const common = { n: COMPARE_IMAGES, inFlight: IN_FLIGHT };
  if ('skipped' in result) {
    return [
      { name: `compare_${side}_putimage_per_s`, value: null, unit: 'images/s', goal: 'report', ...result, ...common },
      { name: `compare_${side}_describe_images_per_s`, value: null, unit: 'images/s', goal: 'report', ...result },
      { name: `compare_${side}_batchdelete_calls_per_s`, value: null, unit: 'calls/s', goal: 'report', ...result },
    ];
  }
  return [
    {
      name: `compare_${side}_putimage_per_s`,
      value: result.putPerS,
      unit: 'images/s',
      goal: 'report',
      ...common,
      ...cpu(result.put),
    },
    {
      name: `compare_${side}_describe_images_per_s`,
      value: result.describedPerS,
      unit: 'images/s',
      goal: 'report',
      ...common,
      calls: result.described.pages,
      passes: result.described.passes,
      maxResults: PAGE_SIZE,
      ...cpu(result.described),
    },
    {
      name: `compare_${side}_batchdelete_calls_per_s`,
      value: result.deleteCallsPerS,
      unit: 'calls/s',
      goal: 'report',
      ...common,
      calls: result.deleted.calls,
      idsPerCall: IDS_PER_DELETE,
      failures: result.deleted.failures,
      ...cpu(result.deleted),
    },
  ];
}

async function onFreshServer<T>(start: () => Promise<ServerProcess>, run: (server: ServerProcess) => Promise<T>) {
  const server = await start();
  try {
    return await run(server);
  } finally {
    await server.stop();
  }
}

/** The registry and moto at COMPARE_IMAGES, each on a fresh server, then the ratios. */
async function comparison(): Promise<void> {
  const registry = await onFreshServer(startRegistryProcess, compareRun);
  for (const figure of compareFigures('registry', registry)) emit(figure);

  const found = findMotoPython();
  const moto = 'python' in found ? await onFreshServer(() => startMotoProcess(found.python), compareRun) : found;
  for (const figure of compareFigures('moto', moto)) emit(figure);

  const ratio = (ours: number, theirs: number) => round(ours / theirs, 2);
  const ratios: [string, string, (r: CompareResult) => number, string][] = [
    ['registry_vs_moto_putimage_ratio', '>= 10', (r) => r.putPerS, 'PutImage images/s'],
    ['registry_vs_moto_describe_ratio', 'report', (r) => r.describedPerS, 'DescribeImages images described/s'],
    ['registry_vs_moto_batchdelete_ratio', 'report', (r) => r.deleteCallsPerS, 'BatchDeleteImage calls/s'],
  ];
  for (const [name, goal, pick, of] of ratios) {
    const value = 'skipped' in moto ? null : ratio(pick(registry), pick(moto));
    emit({
      name,
      value,
      unit: 'x',
      goal,
      of,
      n: COMPARE_IMAGES,
      inFlight: IN_FLIGHT,
      ...('skipped' in moto ? moto : {}),
    });
  }
}

try {
  await fullRun();
  await comparison();
} catch (error) {
  progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
