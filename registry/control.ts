import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Fixture, loadFixture, resolveTime } from './fixtures.ts';
import type { RegistryServer } from './server.ts';
import { DEFAULT_ACCOUNT, DEFAULT_REGION, type FindingsSet, type ImageRecord } from './state.ts';

/**
 * The control API, served under `/_local/` so that it can never be mistaken for ECR (which only answers `POST /`).
 * It is for tests, demos and benchmarks: load fixtures, move time, attach findings, inject faults, read counters.
 *
 * | Method and path                 | Body / answer                                                                  |
 * |---------------------------------|--------------------------------------------------------------------------------|
 * | POST /_local/reset              | clears every account, fault, counter, clock offset and bus log                  |
 * | POST /_local/load               | a fixture (see fixtures.ts) → `{ repositories, images }` with each image's digest |
 * | GET  /_local/calls              | `{ total, operations: { PutImage: 3, ... } }`                                   |
 * | POST /_local/faults             | `{ operation, throttleRate?, serverErrorRate?, latencyMs? }` or `{ repositoryName, afterCalls }` |
 * | POST /_local/faults/clear       | removes every fault                                                            |
 * | GET  /_local/faults             | the faults in force                                                            |
 * | GET  /_local/memory             | the server's memory (after a full GC when node runs with --expose-gc)          |
 * | POST /_local/clock              | `{ advanceSeconds }` moves the registry clock forward                           |
 * | POST /_local/image-times        | `{ repositoryName, imageDigest|imageTag, pushedAt?, lastPulledAt? }` (ISO, epoch s, or "-3d") |
 * | POST /_local/findings           | `{ repositoryName, imageDigest|imageTag, findings?, enhancedFindings? }`; for a digest not pushed yet, kept until its push |
 * | GET  /_local/bus/events         | every event the bus accepted                                                   |
 * | GET  /_local/bus/deliveries     | every delivery to a target, with attempts and result                           |
 * | GET  /_local/bus/dead-letters   | events whose target failed after its retries                                   |
 * | GET  /_local/bus/rules          | the rules and schedules                                                        |
 * | POST /_local/bus/fire           | `{ rule }` fires a schedule rule now                                           |
 *
 * `account` and `region` may be given in any body; they default to 123456789012 and us-east-1.
 */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  body: Buffer | undefined,
  server: RegistryServer,
): Promise<void> {
  const reply = (status: number, payload: unknown) => {
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  let input: Record<string, unknown> = {};
  if (body && body.length > 0) {
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
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
  const method = req.method ?? 'GET';
  const key = `${method} ${route.replace(/\/$/, '')}`;
  try {
    const result = await route_(key, input, server);
    if (result === NOT_FOUND) reply(404, { error: `No control route ${method} /_local/${route}` });
    else reply(200, result ?? { ok: true });
  } catch (error) {
    reply(400, { error: error instanceof Error ? error.message : String(error) });
  }
}

const NOT_FOUND = Symbol('not found');

const scopeOf = (input: Record<string, unknown>, server: RegistryServer) => {
  const account = typeof input.account === 'string' ? input.account : DEFAULT_ACCOUNT;
  const region = typeof input.region === 'string' ? input.region : DEFAULT_REGION;
  return server.registry.state(account, region);
};

function findImage(input: Record<string, unknown>, server: RegistryServer): ImageRecord {
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
  const state = scopeOf(input, server);
  const name = input.repositoryName;
  const digest = input.imageDigest;
  if (typeof name !== 'string' || typeof digest !== 'string') return undefined;
  if (state.repositories.get(name)?.images.get(digest)) return undefined;
  const set: FindingsSet = {
    findings: asList(input.findings, 'findings'),
    enhancedFindings: asList(input.enhancedFindings, 'enhancedFindings'),
  };
  state.pendingFindings.set(`${name}@${digest}`, set);
  return {
    imageDigest: digest,
    pending: true,
    findings: set.findings.length,
    enhancedFindings: set.enhancedFindings.length,
  };
}

const asList = (value: unknown, name: string): Record<string, unknown>[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${name} must be a list`);
  return value as Record<string, unknown>[];
};

async function route_(key: string, input: Record<string, unknown>, server: RegistryServer): Promise<unknown> {
  switch (key) {
    case 'POST reset':
      server.reset();
      return { ok: true };
    case 'POST load':
      return loadFixture(server.registry, input as unknown as Fixture, server.now());
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
        images: [...server.registry.all()].reduce(
          (n, state) => n + [...state.repositories.values()].reduce((m, repository) => m + repository.images.size, 0),
          0,
        ),
      };
    }
    case 'GET faults':
      return server.faults.describe();
    case 'POST faults/clear':
      server.faults.clear();
      return { ok: true };
    case 'POST faults': {
      if (typeof input.repositoryName === 'string') {
        const afterCalls = Number(input.afterCalls ?? 0);
        if (!Number.isInteger(afterCalls) || afterCalls < 0) throw new Error('afterCalls must be a whole number ≥ 0');
        server.faults.vanish({
          repositoryName: input.repositoryName,
          afterCalls,
          account: typeof input.account === 'string' ? input.account : undefined,
          region: typeof input.region === 'string' ? input.region : undefined,
        });
        return server.faults.describe();
      }
      if (typeof input.operation !== 'string') throw new Error('operation (or repositoryName) is required');
      const rate = (name: string) => {
        const value = input[name];
        if (value === undefined) return undefined;
        if (typeof value !== 'number' || value < 0 || value > 1) throw new Error(`${name} must be between 0 and 1`);
        return value;
      };
      const latencyMs = input.latencyMs === undefined ? undefined : Number(input.latencyMs);
      if (latencyMs !== undefined && (!Number.isFinite(latencyMs) || latencyMs < 0)) {
        throw new Error('latencyMs must be ≥ 0');
      }
      server.faults.set(input.operation, {
        throttleRate: rate('throttleRate'),
        serverErrorRate: rate('serverErrorRate'),
        latencyMs,
      });
      return server.faults.describe();
    }
    case 'POST clock': {
      const seconds = Number(input.advanceSeconds);
      if (!Number.isFinite(seconds) || seconds < 0) throw new Error('advanceSeconds must be a number ≥ 0');
      server.advanceClock(seconds * 1000);
      return { now: new Date(server.now()).toISOString() };
    }
    case 'POST image-times': {
      const image = findImage(input, server);
      const now = server.now();
      if (input.pushedAt !== undefined) image.pushedAt = resolveTime(input.pushedAt, now);
      if (input.lastPulledAt === null) image.lastPulledAt = undefined;
      else if (input.lastPulledAt !== undefined) image.lastPulledAt = resolveTime(input.lastPulledAt, now);
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
    case 'GET bus/deliveries':
      return { deliveries: server.bus.deliveries };
    case 'GET bus/dead-letters':
      return { deadLetters: server.bus.deadLetters };
    case 'GET bus/rules':
      return { rules: server.bus.listRules() };
    case 'POST bus/fire': {
      if (typeof input.rule !== 'string') throw new Error('rule is required');
      const deliveries = await server.bus.fireSchedule(input.rule);
      return { deliveries };
    }
    default:
      return NOT_FOUND;
  }
}
