import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BusApiError, EventBus } from '../bus/event-bus.ts';
import { handleControl } from '../control/control.ts';
import { Faults } from '../control/faults.ts';
import { BlobStore } from '../model/blob-store.ts';
import { AccountLimitError, ECR_REGIONS, Registry, type RegistryState } from '../model/state.ts';
import type { EmittedEvent, OpContext, OpSettings } from '../ops/context.ts';
import { ecrOperations } from '../ops/index.ts';
import { UPLOAD_LAYER_PART_BODY_BYTES } from '../ops/layers.ts';
import { type DistributionHost, serveDistribution } from './distribution.ts';
import { EcrException } from './errors.ts';
import { jsonDepthExceeds, loopbackHost, loopbackOrigin } from './http-guards.ts';
import { startIdleCollector } from './idle-gc.ts';
import { JSON_CONTENT_TYPE, send, sendError } from './json-response.ts';
import { LAYER_DOWNLOAD_PREFIX, serveLayerDownload } from './layer-download.ts';
import type { RegistryServer } from './registry-server.ts';
import { parseScope, type RequestScope } from './sigv4.ts';

export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
export const EVENTS_TARGET_PREFIX = 'AWSEvents.';
export const CONTROL_PREFIX = '/_local/';
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

export interface RegistryServerOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Bind address; only loopback addresses are accepted. */
  host?: string;
  /** The event bus that receives the events ECR emits and serves PutEvents; one is created when omitted. */
  bus?: EventBus;
  scanDurationMs?: number;
  /** Memory budget of each bus log in bytes (events, deliveries, dead letters); default `DEFAULT_LOG_BYTES` (32 MiB). */
  busLogBytes?: number;
  /** Where blobs (and, later, the whole state) live; a temporary directory, removed on close, when omitted. */
  dataDir?: string;
}

export type { RegistryServer } from './registry-server.ts';

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

/** Starts the local registry and event bus on loopback. */
export async function startRegistryServer(options: RegistryServerOptions = {}): Promise<RegistryServer> {
  const host = options.host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
    throw new Error(`The local registry listens on loopback only; refusing host ${host}`);
  }
  const blobs = await BlobStore.open(options.dataDir);
  const registry = new Registry(blobs);
  const faults = new Faults();
  const calls = new Map<string, number>();
  const settings: OpSettings = {
    scanDurationMs: options.scanDurationMs ?? 25,
    endpoint: '',
    layerUrlKey: randomBytes(32),
  };
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;
  const bus = options.bus ?? new EventBus({ now, logBytes: options.busLogBytes });
  const timers = new Set<NodeJS.Timeout>();
  let layerPartsInFlight = 0;
  const idleCollector = startIdleCollector();

  const later = (delayMs: number, task: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      task();
    }, delayMs);
    timers.add(timer);
  };

  const context = (operation: string, scope: RequestScope, state: RegistryState): OpContext => ({
    operation,
    account: scope.account,
    region: scope.region,
    accessKeyId: scope.accessKeyId,
    state,
    registry,
    settings,
    now,
    later,
    journal: () => undefined,
    emit: (event: EmittedEvent) => {
      bus.publish({
        source: 'aws.ecr',
        detailType: event.detailType,
        detail: event.detail,
        resources: event.resources ?? [],
        account: scope.account,
        region: scope.region,
        time: new Date(now()),
      });
    },
  });

  const distribution: DistributionHost = { registry, now, context, endpoint: () => settings.endpoint };

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
      if (refusal !== undefined) {
        req.resume();
        if (path.startsWith(CONTROL_PREFIX)) {
          const text = JSON.stringify({ error: `Forbidden: ${refusal}` });
          res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        } else {
          sendError(
            res,
            new EcrException('AccessDeniedException', `The local registry refuses this request: ${refusal}`, 403),
            requestId,
          );
        }
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
      if (path.startsWith(CONTROL_PREFIX)) {
        const body = await readBody(req);
        await handleControl(req, res, path.slice(CONTROL_PREFIX.length), body, serverApi);
        return;
      }
      // A layer part (up to 20 MiB, as base64 in JSON) is the one body allowed past MAX_BODY_BYTES; at most
      // MAX_LAYER_PARTS_IN_FLIGHT are held at once (each costs ~100 MB while it is read, parsed and decoded), the
      // others are throttled as ECR throttles UploadLayerPart, and the SDKs and the CLI retry them.
      const target = req.headers['x-amz-target'];
      const layerPart = target === `${ECR_TARGET_PREFIX}UploadLayerPart`;
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
          registry
            .existing(due.account ?? scope.account, due.region ?? scope.region)
            ?.repositories.delete(due.repositoryName);
        }
        const fault = faults.next(operation);
        if (fault.latencyMs > 0) await sleep(fault.latencyMs);
        if (fault.fail === 'throttle') throw new EcrException('ThrottlingException', 'Rate exceeded');
        if (fault.fail === 'server') throw new EcrException('ServerException', 'Injected server error', 500);
        // State for an account and region is kept only when a request leaves something in it: a read of one that has
        // none sees an empty registry, and a failed first write leaves nothing behind.
        // Past the account limit a new account gets a detached state: the request is validated and answered as
        // usual, unless it would leave something in that state (LimitExceededException; a new, empty registry has
        // no repository, so nothing was emitted or scheduled for it).
        const held = registry.existing(scope.account, scope.region);
        const detached = !held && !registry.canHold(scope.account);
        const state =
          held ?? (detached ? registry.peek(scope.account, scope.region) : registry.state(scope.account, scope.region));
        try {
          const output = await handler(input as Record<string, unknown>, context(operation, scope, state));
          if (detached && !isPristine(state)) throw new AccountLimitError(scope.account);
          send(res, 200, output, requestId);
        } finally {
          if (!held && !detached && isPristine(state)) registry.release(state);
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
    bus,
    faults,
    calls,
    now,
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
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      bus.stopSchedules();
      idleCollector.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await blobs.close();
    },
  };
  return serverApi;
}
