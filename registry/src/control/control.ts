import type { IncomingMessage, ServerResponse } from 'node:http';
import { OCI_DIGEST, parseManifest } from '../model/manifests.ts';
import {
  DEFAULT_ACCOUNT,
  DEFAULT_REGION,
  ECR_REGIONS,
  type FindingsSet,
  type RegistryState,
  type StoredImage,
} from '../model/state.ts';
import type { OpContext } from '../ops/context.ts';
import { runLifecyclePolicies } from '../ops/lifecycle-preview.ts';
import { jsonDepthExceeds } from '../wire/http-guards.ts';
import type { RegistryServer } from '../wire/registry-server.ts';
import { type Fixture, loadFixtureWithContent, resolveTime } from './fixtures.ts';

/** Largest clock move one `POST /_local/clock` may ask for: ten years. */
export const MAX_ADVANCE_SECONDS = 10 * 365 * 86_400;
/** Largest total clock offset: a hundred years (Date stays valid far beyond; the registry's times stay meaningful). */
export const MAX_CLOCK_OFFSET_MS = 100 * 365 * 86_400_000;
/** Largest injected latency: one minute (an SDK gives up long before). */
export const MAX_LATENCY_MS = 60_000;
/** Largest `afterCalls` of a vanishing repository. */
export const MAX_AFTER_CALLS = 1_000_000_000;
/** Operations with a fault, and vanishing repositories, at once. */
export const MAX_FAULTS = 100;
/** Findings per image (or pending digest) the control API attaches. */
export const MAX_FINDINGS = 10_000;
/** Deepest JSON nesting of a control API body (fixtures and findings are a few levels deep). */
export const MAX_CONTROL_DEPTH = 64;

/**
 * The control API, served under `/_local/` so that it can never be mistaken for ECR (which only answers `POST /`).
 * It is for tests, demos and benchmarks: load fixtures, move time, attach findings, inject faults, read counters.
 *
 * | Method and path                 | Body / answer                                                                  |
 * |---------------------------------|--------------------------------------------------------------------------------|
 * | POST /_local/reset              | clears every account, fault, counter, clock offset and bus log                  |
 * | POST /_local/load               | a fixture (see fixtures.ts) → `{ repositories, images }` with each image's digest |
 * | GET  /_local/calls              | `{ total, operations: { PutImage: 3, 'public:PutImage': 1, ... } }`             |
 * | POST /_local/faults             | `{ operation, throttleRate?, serverErrorRate?, latencyMs? }` (ECR Public's as `public:<Op>`, S3's as `s3:<Op>`) or `{ repositoryName, afterCalls }` |
 * | POST /_local/faults/clear       | removes every fault                                                            |
 * | GET  /_local/faults             | the faults in force                                                            |
 * | GET  /_local/memory             | the server's memory (after a full GC when node runs with --expose-gc), account/region states, bus log bytes, S3 buckets, objects and bytes |
 * | POST /_local/clock              | `{ advanceSeconds }` (0 to 10 years) moves the registry clock forward          |
 * | GET  /_local/clock              | `{ now, epochMs }`: the registry clock (ISO and epoch ms)                      |
 * | POST /_local/image-times        | `{ repositoryName, imageDigest|imageTag, pushedAt?, lastPulledAt? }` (ISO, epoch s, or "-3d") |
 * | POST /_local/findings           | `{ repositoryName, imageDigest|imageTag, findings?, enhancedFindings? }`; for a digest not pushed yet, kept until its push |
 * | GET  /_local/bus/events         | every event the bus accepted                                                   |
 * | GET  /_local/bus/deliveries     | every delivery to a target, with attempts and result                           |
 * | GET  /_local/bus/dead-letters   | events whose target failed after its retries                                   |
 * | GET  /_local/bus/rules          | the rules and schedules                                                        |
 * | GET  /_local/sns/messages       | the messages published to SNS topics, oldest first (the newest 200 at most)     |
 * | POST /_local/bus/fire           | `{ rule }` fires a schedule rule now                                           |
 * | POST /_local/lifecycle/run      | `{ repositoryName? }` carries out the stored lifecycle policies now → `{ repositories: [{ repositoryName, expired, transitioned, failed }] }` |
 *
 * `account` and `region` may be given in any body; they default to 123456789012 and us-east-1 (an account is 12
 * digits, a region one the registry serves).
 *
 * Every request must be addressed to a loopback `Host` (and, from a browser, come from a loopback `Origin`: the
 * server checks both), and every POST must carry `Content-Type: application/json`: a web page can send neither, so
 * it cannot drive the control API. Anything else is answered 403 and changes nothing. Every number is checked
 * against its bound before anything changes (see the `MAX_*` constants).
 */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  body: Buffer | undefined,
  server: RegistryServer,
  ecr: EcrContextFor,
  onChange?: (route: string, input: Record<string, unknown>) => void,
): Promise<void> {
  const reply = (status: number, payload: unknown) => {
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  let input: Record<string, unknown> = {};
  const method = req.method ?? 'GET';
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if ((method !== 'GET' && method !== 'HEAD') || (body !== undefined && body.length > 0)) {
    if (contentType !== 'application/json') {
      reply(403, {
        error: `Forbidden: the control API takes Content-Type: application/json, not '${contentType.slice(0, 100)}'`,
      });
      return;
    }
  }
  if (body && body.length > 0) {
    const text = body.toString('utf8');
    if (jsonDepthExceeds(text, MAX_CONTROL_DEPTH)) {
      reply(400, { error: `The body nests deeper than ${MAX_CONTROL_DEPTH} levels` });
      return;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      reply(400, { error: 'The control API takes a JSON object body' });
      return;
    }
  } else if (body === undefined) {
    reply(413, { error: 'Body too large' });
    return;
  }
  const key = `${method} ${route.replace(/\/$/, '')}`;
  try {
    const result = await route_(key, input, server, ecr);
    if (result === NOT_FOUND) reply(404, { error: `No control route ${method} /_local/${route}` });
    else {
      if (onChange && CONTROL_CHANGES.has(key)) onChange(key, input);
      reply(200, result ?? { ok: true });
    }
  } catch (error) {
    reply(400, { error: error instanceof Error ? error.message : String(error) });
  }
}

const NOT_FOUND = Symbol('not found');

/**
 * The context of an ECR operation in `state` (of `account` and `region`), at the control call's registry time, for
 * the routes that act as ECR does (`POST lifecycle/run`): its events are emitted, except while a journal is replayed.
 */
export type EcrContextFor = (account: string, region: string, state: RegistryState) => OpContext;

/**
 * The control routes that change the registry's state, which a data directory keeps (journalled with their body and
 * the registry time, and replayed with `replayControl`; `POST reset` empties the journal instead). Faults are not
 * kept (a restart clears them, as a test that sets them expects to start clean), nor are counters, and `POST
 * bus/fire` is a delivery, not state.
 */
export const CONTROL_CHANGES: ReadonlySet<string> = new Set([
  'POST reset',
  'POST load',
  'POST blobs',
  'POST clock',
  'POST image-times',
  'POST findings',
  'POST lifecycle/run',
]);

/** Replays a journalled control route (one of `CONTROL_CHANGES`) against `server`, whose `now` is the recorded time. */
export async function replayControl(
  route: string,
  input: Record<string, unknown>,
  server: RegistryServer,
  ecr: EcrContextFor,
): Promise<void> {
  if (!CONTROL_CHANGES.has(route)) throw new Error(`${route} is not a control route that changes state`);
  await route_(route, input, server, ecr);
}

/** The account and region a body names (checked: 12 digits, a served region). */
function accountRegion(input: Record<string, unknown>): { account: string; region: string } {
  const account = input.account ?? DEFAULT_ACCOUNT;
  const region = input.region ?? DEFAULT_REGION;
  if (typeof account !== 'string' || !/^[0-9]{12}$/.test(account)) throw new Error('account must be 12 digits');
  if (typeof region !== 'string' || !ECR_REGIONS.has(region)) {
    throw new Error(`region must be one the registry serves (${[...ECR_REGIONS].join(', ')})`);
  }
  return { account, region };
}

/** The state of the body's account and region: `create` for a change, else an empty one when it holds none. */
const scopeOf = (input: Record<string, unknown>, server: RegistryServer, create = false) => {
  const { account, region } = accountRegion(input);
  return create ? server.registry.state(account, region) : server.registry.peek(account, region);
};

function findImage(input: Record<string, unknown>, server: RegistryServer): StoredImage {
  const state = scopeOf(input, server);
  const name = input.repositoryName;
  if (typeof name !== 'string') throw new Error('repositoryName is required');
  const repository = state.repositories.get(name);
  if (!repository) throw new Error(`No repository ${name} in ${state.account}/${state.region}`);
  const image =
    typeof input.imageDigest === 'string'
      ? repository.images.get(input.imageDigest)
      : typeof input.imageTag === 'string'
        ? repository.images.byTagName(input.imageTag)
        : undefined;
  if (!image) throw new Error(`No image ${String(input.imageDigest ?? input.imageTag)} in ${name}`);
  return image;
}

/**
 * Findings for a digest not pushed yet (`imageDigest` given, no such image): kept until the push, which attaches
 * them, so that the scan on push reports them.
 */
function pendingFindingsFor(input: Record<string, unknown>, server: RegistryServer) {
  const name = input.repositoryName;
  const digest = input.imageDigest;
  if (typeof name !== 'string' || typeof digest !== 'string') return undefined;
  if (scopeOf(input, server).repositories.get(name)?.images.get(digest)) return undefined;
  if (!REPOSITORY_NAME_TEXT.test(name) || name.length > 256) throw new Error('repositoryName is not a repository name');
  if (!DIGEST_TEXT.test(digest)) throw new Error('imageDigest must be sha256:<64 hex> or sha512:<128 hex>');
  const set: FindingsSet = {
    findings: asList(input.findings, 'findings'),
    enhancedFindings: asList(input.enhancedFindings, 'enhancedFindings'),
  };
  const state = scopeOf(input, server, true);
  if (!state.pendingFindings.has(`${name}@${digest}`) && state.pendingFindings.size >= MAX_PENDING_FINDINGS) {
    throw new Error(`At most ${MAX_PENDING_FINDINGS} digests may wait for their findings; push some first`);
  }
  state.pendingFindings.set(`${name}@${digest}`, set);
  return {
    imageDigest: digest,
    pending: true,
    findings: set.findings.length,
    enhancedFindings: set.enhancedFindings.length,
  };
}

/** Digests waiting for their push with findings, per account and region. */
export const MAX_PENDING_FINDINGS = 1_000;
const REPOSITORY_NAME_TEXT = /^[a-z0-9][a-z0-9._/-]*$/;
const DIGEST_TEXT = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

const asList = (value: unknown, name: string): Record<string, unknown>[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${name} must be a list`);
  if (value.length > MAX_FINDINGS) throw new Error(`${name} may hold at most ${MAX_FINDINGS} findings`);
  if (!value.every((item) => item !== null && typeof item === 'object' && !Array.isArray(item))) {
    throw new Error(`${name} must be a list of objects`);
  }
  return value as Record<string, unknown>[];
};

/** A number from the body, checked against its bounds before anything changes. */
function boundedNumber(
  input: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  options: { integer?: boolean } = {},
): number | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (options.integer && !Number.isInteger(value))
  ) {
    throw new Error(`${name} must be ${options.integer ? 'a whole number' : 'a number'} between ${min} and ${max}`);
  }
  return value;
}

/** At most this many blobs per `POST /_local/blobs`. */
const MAX_DECLARED_BLOBS = 1_000;

/**
 * `POST /_local/blobs {account?, region?, repositoryName, manifest?, blobs?: [{digest, size}]}`: declares blobs in a
 * repository without content (placeholders: PutImage's layer check passes, a download answers that the layer is
 * inaccessible), for tests and demos that push hand-made manifests. With `manifest`, its config and layers.
 */
function declareBlobs(input: Record<string, unknown>, server: RegistryServer): unknown {
  const { account, region } = accountRegion(input);
  const repository = server.registry.existing(account, region)?.repositories.get(String(input.repositoryName));
  if (!repository) throw new Error(`No repository ${String(input.repositoryName)} in ${account}/${region}`);
  const declared: { digest: string; size: number }[] = [];
  if (input.manifest !== undefined) {
    if (typeof input.manifest !== 'string') throw new Error('manifest must be a string');
    declared.push(
      ...parseManifest(input.manifest, typeof input.mediaType === 'string' ? input.mediaType : undefined).blobs,
    );
  }
  if (input.blobs !== undefined) {
    if (!Array.isArray(input.blobs) || input.blobs.length > MAX_DECLARED_BLOBS) {
      throw new Error(`blobs must be a list of at most ${MAX_DECLARED_BLOBS} {digest, size}`);
    }
    for (const blob of input.blobs as { digest?: unknown; size?: unknown }[]) {
      if (typeof blob?.digest !== 'string' || !OCI_DIGEST.test(blob.digest))
        throw new Error('each blob needs a sha256 or sha512 digest');
      if (typeof blob.size !== 'number' || !Number.isSafeInteger(blob.size) || blob.size < 0) {
        throw new Error('each blob needs a non-negative integer size');
      }
      declared.push({ digest: blob.digest, size: blob.size });
    }
  }
  let placeholders = 0;
  for (const blob of declared) {
    repository.layers.set(blob.digest, blob.size);
    if (!server.registry.blobs.has(blob.digest)) placeholders++;
  }
  return { repositoryName: repository.name, blobs: declared.length, placeholders };
}

/**
 * `POST /_local/lifecycle/run {account?, region?, repositoryName?}`: carries out the stored lifecycle policies of the
 * account and region (of one repository when named) at the registry's time, as ECR runs them
 * (ops/lifecycle-preview.ts).
 */
function runLifecycle(input: Record<string, unknown>, server: RegistryServer, ecr: EcrContextFor): unknown {
  const { account, region } = accountRegion(input);
  const name = input.repositoryName;
  if (name !== undefined && (typeof name !== 'string' || name.length > 256)) {
    throw new Error('repositoryName must be a repository name');
  }
  const state = server.registry.existing(account, region);
  if (!state) {
    if (name !== undefined) throw new Error(`No repository ${name} in ${account}/${region}`);
    return { repositories: [] };
  }
  return { repositories: runLifecyclePolicies(ecr(account, region, state), state, name) };
}

async function route_(
  key: string,
  input: Record<string, unknown>,
  server: RegistryServer,
  ecr: EcrContextFor,
): Promise<unknown> {
  switch (key) {
    case 'POST reset':
      server.reset();
      return { ok: true };
    case 'POST load': {
      const { account, region } = accountRegion(input);
      const held = server.registry.existing(account, region);
      try {
        return await loadFixtureWithContent(server.registry, input as unknown as Fixture, server.now());
      } catch (error) {
        // A fixture that fails before its first repository leaves no state for a new account behind.
        const state = server.registry.existing(account, region);
        if (!held && state && state.repositories.size === 0) server.registry.release(state);
        const publicState = server.registry.publicRegistries.existing(account);
        if (publicState) server.registry.publicRegistries.release(publicState);
        throw error;
      }
    }
    case 'POST blobs':
      return declareBlobs(input, server);
    case 'GET calls': {
      const operations = Object.fromEntries([...server.calls].sort(([a], [b]) => a.localeCompare(b)));
      const total = [...server.calls.values()].reduce((sum, n) => sum + n, 0);
      return { total, operations };
    }
    case 'GET memory': {
      // With `node --expose-gc`, a full collection first, so that the figures are live data rather than garbage.
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const usage = process.memoryUsage();
      const mb = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10;
      return {
        collected: gc !== undefined,
        rssMb: mb(usage.rss),
        heapUsedMb: mb(usage.heapUsed),
        heapTotalMb: mb(usage.heapTotal),
        externalMb: mb(usage.external),
        states: server.registry.size,
        busLogBytes: server.bus.logUsage(),
        images: [...server.registry.all()].reduce(
          (n, state) => n + [...state.repositories.values()].reduce((m, repository) => m + repository.images.size, 0),
          0,
        ),
        s3: {
          buckets: server.registry.storage.bucketCount,
          objects: server.registry.storage.totalObjects,
          bytes: server.registry.storage.totalBytes,
        },
      };
    }
    case 'GET faults':
      return server.faults.describe();
    case 'POST faults/clear':
      server.faults.clear();
      return { ok: true };
    case 'POST faults': {
      if (typeof input.repositoryName === 'string') {
        const afterCalls = boundedNumber(input, 'afterCalls', 0, MAX_AFTER_CALLS, { integer: true }) ?? 0;
        if (input.account !== undefined || input.region !== undefined) accountRegion(input);
        if (input.repositoryName.length > 256) throw new Error('repositoryName is longer than 256 characters');
        if (server.faults.describe().vanishingRepositories.length >= MAX_FAULTS) {
          throw new Error(`At most ${MAX_FAULTS} vanishing repositories at once; POST /_local/faults/clear first`);
        }
        server.faults.vanish({
          repositoryName: input.repositoryName,
          afterCalls,
          account: typeof input.account === 'string' ? input.account : undefined,
          region: typeof input.region === 'string' ? input.region : undefined,
        });
        return server.faults.describe();
      }
      if (typeof input.operation !== 'string' || !/^[A-Za-z0-9:]{1,64}$/.test(input.operation)) {
        throw new Error('operation (an operation name, or repositoryName) is required');
      }
      const fault = {
        throttleRate: boundedNumber(input, 'throttleRate', 0, 1),
        serverErrorRate: boundedNumber(input, 'serverErrorRate', 0, 1),
        latencyMs: boundedNumber(input, 'latencyMs', 0, MAX_LATENCY_MS),
      };
      const faults = server.faults.describe().operations;
      if (!Object.hasOwn(faults, input.operation) && Object.keys(faults).length >= MAX_FAULTS) {
        throw new Error(`At most ${MAX_FAULTS} operations with faults at once; POST /_local/faults/clear first`);
      }
      server.faults.set(input.operation, fault);
      return server.faults.describe();
    }
    case 'POST clock': {
      const seconds = boundedNumber(input, 'advanceSeconds', 0, MAX_ADVANCE_SECONDS);
      if (seconds === undefined) throw new Error('advanceSeconds is required');
      if (server.now() - Date.now() + seconds * 1000 > MAX_CLOCK_OFFSET_MS) {
        throw new Error('The registry clock may run at most 100 years ahead; POST /_local/reset sets it back');
      }
      server.advanceClock(seconds * 1000);
      return { now: new Date(server.now()).toISOString() };
    }
    case 'GET clock':
      return { now: new Date(server.now()).toISOString(), epochMs: server.now() };
    case 'POST image-times': {
      const image = findImage(input, server);
      const now = server.now();
      const pushedAt = input.pushedAt === undefined ? undefined : resolveTime(input.pushedAt, now);
      const lastPulledAt =
        input.lastPulledAt === undefined || input.lastPulledAt === null
          ? undefined
          : resolveTime(input.lastPulledAt, now);
      if (pushedAt !== undefined) image.pushedAt = pushedAt;
      if (input.lastPulledAt === null) image.lastPulledAt = undefined;
      else if (lastPulledAt !== undefined) image.lastPulledAt = lastPulledAt;
      return {
        imageDigest: image.digest,
        pushedAt: new Date(image.pushedAt).toISOString(),
        lastPulledAt: image.lastPulledAt === undefined ? undefined : new Date(image.lastPulledAt).toISOString(),
      };
    }
    case 'POST findings': {
      const pending = pendingFindingsFor(input, server);
      if (pending) return pending;
      const image = findImage(input, server);
      const set: FindingsSet = {
        findings: asList(input.findings, 'findings'),
        enhancedFindings: asList(input.enhancedFindings, 'enhancedFindings'),
      };
      image.attachedFindings = set;
      return {
        imageDigest: image.digest,
        findings: set.findings.length,
        enhancedFindings: set.enhancedFindings.length,
      };
    }
    case 'GET bus/events':
      return { events: server.bus.events };
    case 'GET sns/messages':
      return { messages: server.topics.messages() };
    case 'GET bus/deliveries':
      return { deliveries: server.bus.deliveries };
    case 'GET bus/dead-letters':
      return { deadLetters: server.bus.deadLetters };
    case 'GET bus/rules':
      return { rules: server.bus.listRules() };
    case 'POST bus/fire': {
      if (typeof input.rule !== 'string' || input.rule.length > 64) throw new Error('rule (a rule name) is required');
      const deliveries = await server.bus.fireSchedule(input.rule);
      return { deliveries };
    }
    case 'POST lifecycle/run':
      return runLifecycle(input, server, ecr);
    default:
      return NOT_FOUND;
  }
}
