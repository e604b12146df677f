import { readFileSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BatchGetImageCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { type FixtureImage, loadFixture, startRegistryServer } from '@ecr-automation/local-registry';
import { runRepositoryCleanup } from '../shared/cleanup/entry.ts';
import { gatherRepository } from '../shared/cleanup/gather.ts';
import { conventionTagSubject, type ImageRecord, isIndex } from '../shared/domain/image.ts';
import { createEcrClient, createEcrGateway, type EcrGateway } from '../shared/ecr/index.ts';
import { createEcrPublicClient, createEcrPublicGateway } from '../shared/ecr-public/index.ts';
import { indexInUseSnapshot, inUseForRepository } from '../shared/in-use/repository.ts';
import { buildImageGraph, type CleanupPlan, planCleanup } from '../shared/policy/cleanup/plan.ts';
import {
  BENCH_RULE,
  byIdCallFloor,
  callFloor,
  cheaperReadCalls,
  FLEET_PROFILE,
  FLOOR_FORMULA,
  generateShape,
  inUseSnapshotOf,
  RETENTION_RULE,
  type ShapeImage,
  STALE_PROFILE,
  shapeMix,
  timedGateway,
  toFixtureImages,
  toImageRecords,
} from './cleanup-lib.ts';
import { emit, intEnv, progress, round, startRegistryProcess, timed } from './lib.ts';
import { prng } from './prng.ts';

/**
 * The cleanup's figures:
 *
 * 1. `planCleanup` over BENCH_CLEANUP_IMAGES synthetic images (default 1,000,000) in BENCH_CLEANUP_REPOSITORIES
 *    repositories (default 1,000), in this process: wall time of planning only (generation excluded), and the peak
 *    resident memory of the planning phase (VmHWM of /proc/self/status, reset through /proc/self/clear_refs after
 *    generation, cross-checked by sampling RSS after every repository).
 * 1b. The same fleet under RETENTION_RULE (tag selections: releases and `latest` protected, keepLast of branch and
 *    pull-request builds, keepPulledWithinDays, keepNewerThanDays) with one in-use snapshot of BENCH_CLEANUP_IN_USE
 *    references (default 10,000: half by digest, half by tag, ECS, Lambda and Kubernetes), as the worker runs it:
 *    the snapshot grouped by repository once, then per repository `inUseForRepository` and `planCleanup` with the
 *    images in use. Wall time of both and the peak resident memory, measured as in figure 1; the bench fails when a
 *    plan deletes an image in use or does not decide every image.
 * 2. ECR calls of `runRepositoryCleanup` on a BENCH_CLEANUP_CALLS_IMAGES repository (default 20,000) in a registry
 *    server started in this process and loaded in memory, against the floor the figure states: the listing, the
 *    index reads, the deletes, and the cheaper of reading by id and listing for each of the re-read before deleting
 *    and the check after (`vsIssueMinimum`; `vsByIdFloor` against the floor with both safety reads by id).
 * 3. End-to-end wall time of `runRepositoryCleanup` through the real SDK client over loopback HTTP on
 *    BENCH_CLEANUP_E2E_IMAGES images in one repository (default 100,000), against a registry server in its own
 *    process, seeded with one `POST /_local/load`.
 *
 * Every figure but 1b uses the same rule: the defaults (14 days old, not pulled for 30, 60-minute quiet period) with
 * the safety brake off, so that each plan does its full work (1b adds tag selections, with the tagged brake off
 * too). The cleanup principal is on the registry's pull-time exclusion list, as the scheduler arranges in
 * production: otherwise the gather's BatchGetImage of the indexes would record pulls, the re-read would see them as
 * changes and keep every index it read.
 */
const FLEET_IMAGES = intEnv('BENCH_CLEANUP_IMAGES', 1_000_000);
const FLEET_REPOSITORIES = intEnv('BENCH_CLEANUP_REPOSITORIES', 1_000);
const CALLS_IMAGES = intEnv('BENCH_CLEANUP_CALLS_IMAGES', 20_000);
const E2E_IMAGES = intEnv('BENCH_CLEANUP_E2E_IMAGES', 100_000);
const SPOT_CHECKS = intEnv('BENCH_CLEANUP_SPOT_CHECKS', 20);
const IN_USE_REFERENCES = intEnv('BENCH_CLEANUP_IN_USE', 10_000);

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
/** The local registry names the caller by its access key; the exclusion names the same principal. */
const ACCESS_KEY = 'bench-cleanup';
const PRINCIPAL_ARN = `arn:aws:iam::${ACCOUNT}:role/${ACCESS_KEY}`;
const CREDENTIALS = { accessKeyId: ACCESS_KEY, secretAccessKey: 'bench' };

const seconds = (ms: number) => round(ms / 1_000, 2);
const mb = (bytes: number) => round(bytes / 1_048_576, 1);

// ---- Memory: a callable gc and the kernel's peak-RSS counter ----

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function statusKb(field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false when the kernel or the sandbox does not allow it. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

// ---- Figures 1 and 1b: planning a million images ----

interface Fleet {
  now: number;
  repositories: { name: string; images: ImageRecord[] }[];
  mix: ReturnType<typeof shapeMix> & { untaggedPct: number };
  generationMs: number;
}

/** The synthetic fleet of figures 1 and 1b, generated once (the same seed gives the same fleet). */
function generateFleet(): Fleet {
  const now = Date.now();
  const perRepository = Math.floor(FLEET_IMAGES / FLEET_REPOSITORIES);
  const extra = FLEET_IMAGES % FLEET_REPOSITORIES;
  progress(`planning: generating ${FLEET_IMAGES} images in ${FLEET_REPOSITORIES} repositories`);
  const generationStarted = performance.now();
  const random = prng(20_260_101);
  const mix = { images: 0, tagged: 0, untagged: 0, indexes: 0, children: 0, referrers: 0, sigTags: 0 };
  const repositories: Fleet['repositories'] = [];
  for (let r = 0; r < FLEET_REPOSITORIES; r++) {
    const shape = generateShape(perRepository + (r < extra ? 1 : 0), FLEET_PROFILE, random);
    for (const [key, value] of Object.entries(shapeMix(shape))) mix[key as keyof typeof mix] += value;
    repositories.push({ name: `team-${r % 50}/service-${r}`, images: toImageRecords(shape, now, random) });
  }
  return {
    now,
    repositories,
    mix: { ...mix, untaggedPct: round((mix.untagged / mix.images) * 100, 1) },
    generationMs: performance.now() - generationStarted,
  };
}

function planningFigures(fleet: Fleet): void {
  const { now, repositories, mix, generationMs } = fleet;
  collectGarbage();
  collectGarbage();
  const heapBeforeMb = mb(process.memoryUsage().heapUsed);
  const peakReset = resetPeakRss();
  const rssBefore = process.memoryUsage.rss();
  progress(`planning: generated in ${seconds(generationMs)} s; heap ${heapBeforeMb} MB; planning`);

  const totals = { decisions: 0, toDelete: 0, braked: 0 };
  let sampledPeak = rssBefore;
  const started = performance.now();
  for (const repository of repositories) {
    const plan = planCleanup(repository.name, repository.images, BENCH_RULE, now);
    totals.decisions += plan.decisions.length;
    totals.toDelete += plan.toDelete.length;
    if (plan.brake) totals.braked++;
    const rss = process.memoryUsage.rss();
    if (rss > sampledPeak) sampledPeak = rss;
  }
  const planMs = performance.now() - started;
  const hwmKb = peakReset ? statusKb('VmHWM') : undefined;
  const peakMb = hwmKb === undefined ? mb(sampledPeak) : round(hwmKb / 1_024, 1);
  if (totals.decisions !== FLEET_IMAGES) throw new Error(`planned ${totals.decisions} of ${FLEET_IMAGES} images`);

  const common = {
    images: FLEET_IMAGES,
    repositories: FLEET_REPOSITORIES,
    toDelete: totals.toDelete,
    braked: totals.braked,
    mix,
    generationSeconds: seconds(generationMs),
    plansKept: false,
  };
  emit({
    name: 'cleanup_plan_1m_images_seconds',
    value: seconds(planMs),
    unit: 's',
    goal: '<= 5',
    ...common,
    usPerImage: round((planMs * 1_000) / FLEET_IMAGES, 2),
  });
  emit({
    name: 'cleanup_plan_1m_images_peak_rss_mb',
    value: peakMb,
    unit: 'MB',
    goal: '<= 1024',
    ...common,
    measured:
      hwmKb === undefined
        ? 'max of process.memoryUsage.rss() sampled after each repository (VmHWM could not be reset)'
        : 'VmHWM of /proc/self/status after planning, reset through /proc/self/clear_refs once the images were generated; includes the 1M input records the planner reads',
    rssBeforePlanningMb: mb(rssBefore),
    sampledPeakRssMb: mb(sampledPeak),
    inputHeapMb: heapBeforeMb,
  });
  collectGarbage();
}

/**
 * Figure 1b: the same fleet under RETENTION_RULE (tag selections) with one in-use snapshot of
 * BENCH_CLEANUP_IN_USE references (default 10,000). Timed per repository is what the worker does: map the snapshot
 * to the repository (`inUseForRepository`), then plan with the images in use. Throws when an image in use would be
 * deleted, or a plan does not decide every image.
 */
function retentionPlanningFigures(fleet: Fleet): void {
  const { now, repositories, mix: imageMix } = fleet;
  progress(`retention planning: building an in-use snapshot of ${IN_USE_REFERENCES} references`);
  const snapshotStarted = performance.now();
  const { snapshot, mix: inUseMix } = inUseSnapshotOf(
    repositories,
    RETENTION_RULE,
    { registryId: ACCOUNT, region: REGION },
    IN_USE_REFERENCES,
    now,
    prng(20_260_102),
  );
  const snapshotMs = performance.now() - snapshotStarted;
  collectGarbage();
  collectGarbage();
  const heapBeforeMb = mb(process.memoryUsage().heapUsed);
  const peakReset = resetPeakRss();
  const rssBefore = process.memoryUsage.rss();
  progress(`retention planning: snapshot built in ${seconds(snapshotMs)} s; heap ${heapBeforeMb} MB; planning`);

  const totals = {
    decisions: 0,
    toDelete: 0,
    braked: 0,
    blocked: 0,
    inUseDigests: 0,
    inUseKept: 0,
    released: 0,
    retained: 0,
    tagged: 0,
  };
  let sampledPeak = rssBefore;
  const indexStarted = performance.now();
  const index = indexInUseSnapshot(snapshot);
  let mappingMs = performance.now() - indexStarted;
  let planMs = 0;
  for (const repository of repositories) {
    const started = performance.now();
    const { inUse, blockedBy } = inUseForRepository(index, {
      registryId: ACCOUNT,
      region: REGION,
      repositoryName: repository.name,
      images: repository.images,
    });
    const mapped = performance.now();
    const plan = planCleanup(
      repository.name,
      repository.images,
      RETENTION_RULE,
      now,
      blockedBy.length > 0
        ? { inUseUnavailable: blockedBy.map((failure) => `${failure.provider}: ${failure.message}`).join('; ') }
        : { inUse },
    );
    const planned = performance.now();
    mappingMs += mapped - started;
    planMs += planned - mapped;

    // Untimed: the plan's counts and its safety with respect to what runs.
    if (plan.decisions.length !== repository.images.length) {
      throw new Error(`${repository.name}: ${plan.decisions.length} decisions for ${repository.images.length} images`);
    }
    let inUseKept = 0;
    for (const decision of plan.decisions) {
      if (decision.action === 'delete') {
        if (inUse.has(decision.digest)) {
          throw new Error(`${repository.name}: ${decision.digest} is in use and the plan deletes it`);
        }
        if (decision.reason.code === 'released') totals.released++;
      } else if (decision.reason.code === 'in-use') inUseKept++;
      else if (decision.reason.code === 'retained') totals.retained++;
    }
    for (const digest of plan.toDelete) {
      if (inUse.has(digest)) throw new Error(`${repository.name}: ${digest} is in use and the plan deletes it`);
    }
    if (inUseKept !== inUse.size) {
      throw new Error(`${repository.name}: ${inUse.size} images in use, ${inUseKept} kept as in use`);
    }
    totals.decisions += plan.decisions.length;
    totals.toDelete += plan.toDelete.length;
    totals.inUseDigests += inUse.size;
    totals.inUseKept += inUseKept;
    if (plan.brake) totals.braked++;
    if (blockedBy.length > 0) totals.blocked++;
    const rss = process.memoryUsage.rss();
    if (rss > sampledPeak) sampledPeak = rss;
  }
  const totalMs = mappingMs + planMs;
  const hwmKb = peakReset ? statusKb('VmHWM') : undefined;
  const peakMb = hwmKb === undefined ? mb(sampledPeak) : round(hwmKb / 1_024, 1);
  if (totals.decisions !== FLEET_IMAGES) throw new Error(`planned ${totals.decisions} of ${FLEET_IMAGES} images`);

  const common = {
    images: FLEET_IMAGES,
    repositories: FLEET_REPOSITORIES,
    inUseReferences: snapshot.images.length,
    inUseKept: totals.inUseKept,
    released: totals.released,
    retained: totals.retained,
    toDelete: totals.toDelete,
    braked: totals.braked,
    blocked: totals.blocked,
    tagSelections: RETENTION_RULE.tagSelections,
    inUseMix,
    mix: imageMix,
    snapshotSeconds: seconds(snapshotMs),
    plansKept: false,
  };
  emit({
    name: 'cleanup_plan_1m_images_retention_in_use_seconds',
    value: seconds(totalMs),
    unit: 's',
    goal: '<= 5',
    ...common,
    phaseSeconds: { inUseForRepository: seconds(mappingMs), planCleanup: seconds(planMs) },
    usPerImage: round((totalMs * 1_000) / FLEET_IMAGES, 2),
  });
  emit({
    name: 'cleanup_plan_1m_images_retention_in_use_peak_rss_mb',
    value: peakMb,
    unit: 'MB',
    goal: '<= 1024',
    ...common,
    measured:
      hwmKb === undefined
        ? 'max of process.memoryUsage.rss() sampled after each repository (VmHWM could not be reset)'
        : 'VmHWM of /proc/self/status after planning, reset through /proc/self/clear_refs once the images and the snapshot were built; includes the 1M input records and the snapshot',
    rssBeforePlanningMb: mb(rssBefore),
    sampledPeakRssMb: mb(sampledPeak),
    inputHeapMb: heapBeforeMb,
  });
  collectGarbage();
}

// ---- Shared by figures 2 and 3 ----

/** The distinct images a kept image needs (its children and referrers): what the verification reads. */
function edgeTargetsOf(images: readonly ImageRecord[], plan: CleanupPlan): number {
  const graph = buildImageGraph(images);
  const targets = new Set<string>();
  for (const decision of plan.decisions) {
    if (decision.action !== 'keep') continue;
    for (const child of graph.children.get(decision.digest) ?? []) targets.add(child);
    for (const referrer of graph.referrers.get(decision.digest) ?? []) targets.add(referrer);
  }
  return targets.size;
}

/** Puts the cleanup principal on the pull-time exclusion list (what the nightly fan-out does first). */
async function excludeCleanupPrincipal(client: ECRClient): Promise<void> {
  await createEcrGateway(client).excludeFromPullTime(PRINCIPAL_ARN);
}

/** BENCH_RULE for a public repository: ECR Public records no pull time, so no pull condition (as the config resolves it). */
const PUBLIC_BENCH_RULE = { ...BENCH_RULE, notPulledForDays: 0 };

const cleanupInput = (repositoryName: string, now: number) => ({
  runId: `bench-${now}`,
  repositoryName,
  dryRun: false,
  part: 1,
  now,
  rule: BENCH_RULE,
  remainingMs: () => Number.POSITIVE_INFINITY,
  reserveMs: 0,
});

// ---- Figure 2: calls against the floor ----

async function callFigure(): Promise<void> {
  const repositoryName = 'bench/calls';
  progress(`calls: ${CALLS_IMAGES} images in an in-process registry`);
  const server = await startRegistryServer({ port: 0 });
  try {
    const shape = generateShape(CALLS_IMAGES, FLEET_PROFILE, prng(2_026));
    const images: FixtureImage[] = toFixtureImages(shape, repositoryName);
    loadFixture(server.registry, { repositories: [{ name: repositoryName, images }] }, server.now());
    const client = createEcrClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
    await excludeCleanupPrincipal(client);
    // What the run will see, read beforehand with a gateway of its own (not counted), for the floor.
    const snapshot = await gatherRepository(createEcrGateway(client), repositoryName, server.now());
    const serverBefore = new Map(server.calls);

    const gateway = createEcrGateway(client);
    const now = Date.now();
    const started = performance.now();
    const result = await runRepositoryCleanup(gateway, cleanupInput(repositoryName, now));
    const runMs = performance.now() - started;
    const plan = result.plan;
    if (!plan || result.report.status !== 'completed') {
      throw new Error(`calls: the cleanup ended ${result.report.status}: ${result.report.message ?? ''}`);
    }
    const counts = gateway.callCounts();
    const calls = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const serverCalls = Object.fromEntries(
      [...server.calls]
        .map(([operation, n]): [string, number] => [operation, n - (serverBefore.get(operation) ?? 0)])
        .filter(([, n]) => n > 0),
    );
    const floorCounts = {
      images: snapshot.images.length,
      indexes: snapshot.images.filter(isIndex).length,
      toDelete: plan.toDelete.length,
      edgeTargets: edgeTargetsOf(snapshot.images, plan),
    };
    const floor = callFloor(floorCounts);
    const byIdFloor = byIdCallFloor(floorCounts);
    emit({
      name: 'cleanup_calls_vs_floor',
      value: round(calls / floor.total, 3),
      unit: 'x',
      goal: '<= 1.1',
      calls,
      floor: floor.total,
      floor_formula: FLOOR_FORMULA,
      floorParts: floor,
      // The issue's minimum as stated (list pages + index reads + deletes + the cheaper way for each of the re-read
      // and the check): the floor above.
      vsIssueMinimum: round(calls / floor.total, 3),
      byIdFloor,
      vsByIdFloor: round(calls / byIdFloor, 3),
      edgeTargets: floorCounts.edgeTargets,
      callsByOperation: counts,
      serverCallsByOperation: serverCalls,
      images: snapshot.images.length,
      indexes: snapshot.images.filter(isIndex).length,
      toDelete: plan.toDelete.length,
      deleted: result.report.counts.deleted,
      mix: shapeMix(shape),
      runSeconds: seconds(runMs),
    });
  } finally {
    await server.close();
  }
}

// ---- Figure 2b: an ECR Public repository's calls against the floor ----

/** The configs of plain images: anything else a manifest carries may be an artifact with a `subject`. */
const IMAGE_CONFIGS = new Set([
  'application/vnd.docker.container.image.v1+json',
  'application/vnd.oci.image.config.v1+json',
]);

export const PUBLIC_FLOOR_FORMULA =
  'ceil(images/1000) DescribeImages pages + 1 GetAuthorizationToken + 1 registry token + one /v2/ manifest read per index and per artifact (ECR Public names no subject and has no BatchGetImage) + min(ceil(toDelete/100) DescribeImages by id, ceil(images/1000) pages) (re-read) + ceil(toDelete/100) BatchDeleteImage + min(ceil(distinct edge targets of kept images/100) DescribeImages by id, ceil((images - toDelete)/1000) pages) (verify)';

/**
 * The same 20,000-image repository in the public registry, cleaned through the ECR Public gateway with a public rule
 * (no pull condition: ECR Public records none). Counted by the gateway and by the registry (`public:<Op>` and
 * `v2public:GET:manifest`), against the floor of PUBLIC_FLOOR_FORMULA.
 */
async function publicCallFigure(figure: string, signatures: 'referrers' | 'cosign-tags'): Promise<void> {
  const repositoryName = 'bench/public-calls';
  progress(
    `public calls: ${CALLS_IMAGES} images in an in-process registry's public registry, signatures as ${signatures}`,
  );
  const server = await startRegistryServer({ port: 0 });
  try {
    const generated = generateShape(CALLS_IMAGES, FLEET_PROFILE, prng(2_027));
    // `cosign-tags`: every signature and attestation stored under cosign's tag convention, none as an OCI referrer,
    // so that no manifest but the indexes' needs reading (the floor of ECR Public's API alone).
    const shape =
      signatures === 'referrers'
        ? generated
        : generated.map(
            (image): ShapeImage =>
              image.kind === 'referrer'
                ? { ...image, kind: 'sig' }
                : image.kind === 'orphan'
                  ? { ...image, kind: 'image' }
                  : image,
          );
    const images: FixtureImage[] = toFixtureImages(shape, repositoryName);
    loadFixture(
      server.registry,
      { repositories: [], publicRepositories: [{ name: repositoryName, images }] },
      server.now(),
    );
    const client = createEcrPublicClient({ endpoint: server.url, credentials: CREDENTIALS });
    const gatewayOf = () => createEcrPublicGateway(client, { registryUrl: server.url });
    const listed: ImageRecord[] = [];
    for await (const page of gatewayOf().listImages(repositoryName)) listed.push(...page);
    const snapshot = await gatherRepository(gatewayOf(), repositoryName, server.now());
    const serverBefore = new Map(server.calls);

    const gateway = gatewayOf();
    const now = Date.now();
    const started = performance.now();
    const result = await runRepositoryCleanup(gateway, {
      ...cleanupInput(repositoryName, now),
      rule: PUBLIC_BENCH_RULE,
      registry: 'public',
    });
    const runMs = performance.now() - started;
    const plan = result.plan;
    if (!plan || result.report.status !== 'completed') {
      throw new Error(`public calls: the cleanup ended ${result.report.status}: ${result.report.message ?? ''}`);
    }
    const counts = gateway.callCounts();
    const calls = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const serverCalls = Object.fromEntries(
      [...server.calls]
        .map(([operation, n]): [string, number] => [operation, n - (serverBefore.get(operation) ?? 0)])
        .filter(([, n]) => n > 0),
    );
    const indexes = listed.filter(isIndex).length;
    const artifacts = listed.filter(
      (image) =>
        !isIndex(image) &&
        image.manifestMediaType === 'application/vnd.oci.image.manifest.v1+json' &&
        !IMAGE_CONFIGS.has(image.artifactMediaType ?? ''),
    ).length;
    const edgeTargets = edgeTargetsOf(snapshot.images, plan);
    const floorParts = {
      describePages: Math.ceil(listed.length / 1_000),
      login: 2,
      manifestReads: indexes + artifacts,
      reReads: cheaperReadCalls(plan.toDelete.length, listed.length),
      deletes: Math.ceil(plan.toDelete.length / 100),
      verifyReads: cheaperReadCalls(edgeTargets, listed.length - plan.toDelete.length),
    };
    const floor = Object.values(floorParts).reduce((sum, n) => sum + n, 0);
    // The issue's minimum as stated: list pages + index reads (here the manifest reads) + deletes + the cheaper way
    // for each of the re-read and the check; no login.
    const issueMinimum = floor - floorParts.login;
    const byIdFloor =
      floor -
      floorParts.reReads -
      floorParts.verifyReads +
      Math.ceil(plan.toDelete.length / 100) +
      Math.ceil(edgeTargets / 100);
    emit({
      name: figure,
      signatures,
      value: round(calls / floor, 3),
      unit: 'x',
      goal: '<= 1.1',
      calls,
      floor,
      floor_formula: PUBLIC_FLOOR_FORMULA,
      floorParts,
      issueMinimum,
      vsIssueMinimum: round(calls / issueMinimum, 3),
      byIdFloor,
      vsByIdFloor: round(calls / byIdFloor, 3),
      edgeTargets,
      // Without the act's safety reads (re-read of the candidates, verification of what kept images need) and the
      // login: only the listing, the manifest reads and the deletes.
      readsAndDeletesOnly: round(
        (calls - (counts.DescribeImages ?? 0) + floorParts.describePages - 2) /
          (floorParts.describePages + floorParts.manifestReads + floorParts.deletes),
        3,
      ),
      callsByOperation: counts,
      serverCallsByOperation: serverCalls,
      images: listed.length,
      indexes,
      artifacts,
      toDelete: plan.toDelete.length,
      deleted: result.report.counts.deleted,
      mix: shapeMix(shape),
      runSeconds: seconds(runMs),
    });
  } finally {
    await server.close();
  }
}

// ---- Figure 3: 100,000 images end to end ----

interface LoadResponse {
  repositories: number;
  images: { imageDigest: string; imageTags: string[] }[];
}

const realTags = (tags: readonly string[]) => tags.filter((tag) => conventionTagSubject(tag) === undefined);

/** Reads `count` release-tagged images by tag (BatchGetImage), and every child of those that are indexes. */
async function spotCheck(
  client: ECRClient,
  gateway: EcrGateway,
  repositoryName: string,
  tags: string[],
): Promise<{ checked: number; children: number; failures: string[] }> {
  const failures: string[] = [];
  let children = 0;
  for (const tag of tags) {
    const response = await client.send(
      new BatchGetImageCommand({
        repositoryName,
        imageIds: [{ imageTag: tag }],
        acceptedMediaTypes: [
          'application/vnd.oci.image.manifest.v1+json',
          'application/vnd.oci.image.index.v1+json',
          'application/vnd.docker.distribution.manifest.v2+json',
          'application/vnd.docker.distribution.manifest.list.v2+json',
        ],
      }),
    );
    const manifest = response.images?.[0]?.imageManifest;
    if (!manifest) {
      failures.push(`${tag}: ${response.failures?.[0]?.failureCode ?? 'no manifest'}`);
      continue;
    }
    const listed = (JSON.parse(manifest) as { manifests?: { digest: string }[] }).manifests ?? [];
    if (listed.length > 0) {
      const read = await gateway.getManifests(
        repositoryName,
        listed.map((descriptor) => descriptor.digest),
      );
      children += read.manifests.length;
      for (const failure of read.failures) failures.push(`${tag} child ${failure.digest}: ${failure.code}`);
    }
  }
  return { checked: tags.length, children, failures };
}

async function endToEndFigure(): Promise<void> {
  const repositoryName = 'bench/e2e';
  progress(`end to end: starting the registry in its own process`);
  const server = await startRegistryProcess();
  try {
    const shape = generateShape(E2E_IMAGES, STALE_PROFILE, prng(100_000));
    const body = JSON.stringify({ repositories: [{ name: repositoryName, images: toFixtureImages(shape, 'e2e') }] });
    progress(`end to end: seeding ${E2E_IMAGES} images (${mb(Buffer.byteLength(body))} MB fixture, one POST)`);
    const seedStarted = performance.now();
    const response = await fetch(`${server.url}/_local/load`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    if (!response.ok) throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
    const loaded = (await response.json()) as LoadResponse;
    const seedMs = performance.now() - seedStarted;
    // `loaded.images` is in fixture order, the order of `shape`.
    const tagged = loaded.images.flatMap((image, position) => {
      const tag = realTags(image.imageTags)[0];
      return tag === undefined ? [] : [{ digest: image.imageDigest, tag, index: shape[position]?.kind === 'index' }];
    });
    progress(`end to end: seeded in ${seconds(seedMs)} s (${tagged.length} release-tagged images); cleaning`);

    const client = createEcrClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
    await excludeCleanupPrincipal(client);
    const { gateway, times } = timedGateway(createEcrGateway(client));
    const now = Date.now();
    let result: Awaited<ReturnType<typeof runRepositoryCleanup>> | undefined;
    const timing = await timed(server.pid, [], async () => {
      result = await runRepositoryCleanup(gateway, cleanupInput(repositoryName, now));
    });
    if (!result) throw new Error('end to end: no result');
    const { report } = result;
    if (report.status !== 'completed') throw new Error(`end to end: the cleanup ended ${report.status}`);
    const deleted = report.counts.deleted;
    progress(`end to end: ${deleted} deleted in ${seconds(timing.ms)} s; checking what is left`);

    // Afterwards: every release-tagged image is still listed, and a sample resolves whole by tag.
    const checker = createEcrGateway(client);
    const listedTagged = new Set<string>();
    for await (const page of checker.listImages(repositoryName, { tagStatus: 'TAGGED' })) {
      for (const image of page) listedTagged.add(image.digest);
    }
    let left = 0;
    for await (const page of checker.listImages(repositoryName)) left += page.length;
    const missingTagged = tagged.filter((image) => !listedTagged.has(image.digest)).length;
    // Half the sample from the tagged indexes (their children must resolve too), half from the tagged images.
    const random = prng(7);
    const pick = (from: typeof tagged, count: number) =>
      Array.from({ length: Math.min(count, from.length) }, () => from[Math.floor(random() * from.length)]?.tag ?? '');
    const indexes = tagged.filter((image) => image.index);
    const sample = [
      ...pick(indexes, Math.ceil(SPOT_CHECKS / 2)),
      ...pick(
        tagged.filter((image) => !image.index),
        Math.floor(SPOT_CHECKS / 2),
      ),
    ];
    const spot = await spotCheck(client, checker, repositoryName, sample);

    const inGateway = times.listImages + times.getManifests + times.describeImages + times.deleteImages;
    emit({
      name: 'cleanup_e2e_100k_images_seconds',
      value: seconds(timing.ms),
      unit: 's',
      goal: '<= 30',
      images: E2E_IMAGES,
      deleted,
      kept: report.counts.kept,
      failed: report.counts.failed,
      imagesLeft: left,
      taggedAllPresent: missingTagged === 0,
      taggedMissing: missingTagged,
      taggedSpotChecks: `${spot.checked - spot.failures.length}/${spot.checked} resolved by tag, ${spot.children} index children read`,
      spotCheckFailures: spot.failures.slice(0, 5),
      callsByOperation: report.apiCalls,
      phaseSeconds: {
        listImages: seconds(times.listImages),
        getManifests: seconds(times.getManifests),
        describeImages: seconds(times.describeImages),
        deleteImages: seconds(times.deleteImages),
        outsideGateway: seconds(timing.ms - inGateway),
      },
      clientCpuPct: timing.clientCpuPct,
      serverCpuPct: timing.serverCpuPct,
      otherCpuPct: timing.otherCpuPct,
      seedSeconds: seconds(seedMs),
      seeding: 'one POST /_local/load of the whole repository to a registry in its own process',
      mix: shapeMix(shape),
    });
    emit({
      name: 'cleanup_e2e_100k_images_deleted_per_s',
      value: round(deleted / (timing.ms / 1_000), 0),
      unit: 'images/s',
      goal: 'report',
      images: E2E_IMAGES,
      deleted,
      seconds: seconds(timing.ms),
    });
  } finally {
    await server.stop();
  }
}

const benchStarted = performance.now();
{
  const fleet = generateFleet();
  planningFigures(fleet);
  retentionPlanningFigures(fleet);
  fleet.repositories = [];
}
collectGarbage();
await callFigure();
await publicCallFigure('public_cleanup_calls_vs_floor', 'referrers');
await publicCallFigure('public_cleanup_cosign_tags_calls_vs_floor', 'cosign-tags');
await endToEndFigure();
progress(`cleanup benchmarks done in ${seconds(performance.now() - benchStarted)} s`);
