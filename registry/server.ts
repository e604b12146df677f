import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BusApiError, EventBus } from './bus/event-bus.ts';
import type { OpContext, RegistrySettings, ServiceEvent } from './context.ts';
import { handleControl } from './control.ts';
import { EcrException } from './errors.ts';
import { Faults } from './faults.ts';
import { ecrOperations } from './ops/index.ts';
import { DEFAULT_ACCOUNT, DEFAULT_REGION, Registry } from './state.ts';

export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
export const EVENTS_TARGET_PREFIX = 'AWSEvents.';
export const CONTROL_PREFIX = '/_local/';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
/** ECR's largest member is a 4 MiB manifest; JSON escaping can grow it, so the body cap leaves room for that. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
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
}

/** Account and region of a request, from its SigV4 credential scope (`Credential=<key>/<date>/<region>/<service>/aws4_request`). */
export interface RequestScope {
  account: string;
  region: string;
  accessKeyId: string;
}

// `Credential=` only at the start or after a separator: unanchored, `[^/,\s]+` could run from every `Credential=` of a
// long header to its end (quadratic in the header).
const CREDENTIAL = /(?:^|[\s,])Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

/** The access key selects the account when it is 12 digits; any other key uses the default account. */
export function parseScope(authorization: string | undefined): RequestScope | undefined {
  const match = authorization ? CREDENTIAL.exec(authorization) : null;
  if (!match) return undefined;
  const accessKeyId = match[1] as string;
  return {
    accessKeyId,
    account: /^\d{12}$/.test(accessKeyId) ? accessKeyId : DEFAULT_ACCOUNT,
    region: match[3] ?? DEFAULT_REGION,
  };
}

export interface RegistryServer {
  readonly url: string;
  readonly port: number;
  readonly registry: Registry;
  readonly bus: EventBus;
  readonly faults: Faults;
  /** Calls served per ECR or EventBridge operation since start or the last reset. */
  readonly calls: Map<string, number>;
  /** The registry clock: real time plus an offset the control API can move. */
  now(): number;
  advanceClock(ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function send(res: ServerResponse, status: number, body: unknown, requestId: string) {
  const payload = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': requestId,
  });
  res.end(payload);
}

function sendError(res: ServerResponse, error: EcrException | BusApiError, requestId: string) {
  const extra = error instanceof EcrException ? error.extra : {};
  send(res, error.status, { __type: error.type, message: error.message, ...extra }, requestId);
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk as Buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

/** Requests after which a pause is worth a full collection. */
const IDLE_GC_MIN_REQUESTS = 1_000;
/** How long without requests counts as a pause. */
const IDLE_GC_QUIET_MS = 500;

/**
 * When node runs with `--expose-gc` (as `npm start` and `npm run registry` do), a full garbage collection once the
 * registry goes quiet after a burst of requests: V8 otherwise keeps the burst's garbage, and the heap pages it grew
 * into, resident until memory pressure, which for an in-memory store doubles its footprint at rest.
 */
function startIdleCollector(): { touch(): void; stop(): void } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return { touch: () => {}, stop: () => {} };
  let requests = 0;
  let lastRequestAt = 0;
  const timer = setInterval(() => {
    if (requests >= IDLE_GC_MIN_REQUESTS && Date.now() - lastRequestAt >= IDLE_GC_QUIET_MS) {
      requests = 0;
      gc();
    }
  }, IDLE_GC_QUIET_MS);
  timer.unref();
  return {
    touch: () => {
      requests++;
      lastRequestAt = Date.now();
    },
    stop: () => clearInterval(timer),
  };
}

/** Starts the local registry and event bus on loopback. */
export async function startRegistryServer(options: RegistryServerOptions = {}): Promise<RegistryServer> {
  const host = options.host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
    throw new Error(`The local registry listens on loopback only; refusing host ${host}`);
  }
  const registry = new Registry();
  const faults = new Faults();
  const calls = new Map<string, number>();
  const settings: RegistrySettings = { scanDurationMs: options.scanDurationMs ?? 25 };
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;
  const bus = options.bus ?? new EventBus({ now });
  const timers = new Set<NodeJS.Timeout>();
  const idleCollector = startIdleCollector();

  const later = (delayMs: number, task: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      task();
    }, delayMs);
    timers.add(timer);
  };

  const context = (operation: string, scope: RequestScope): OpContext => ({
    operation,
    account: scope.account,
    region: scope.region,
    accessKeyId: scope.accessKeyId,
    state: registry.state(scope.account, scope.region),
    registry,
    settings,
    now,
    later,
    emit: (event: ServiceEvent) => {
      bus.emit({
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

  const server: Server = createServer(async (req, res) => {
    idleCollector.touch();
    const requestId = randomUUID();
    try {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path.startsWith(CONTROL_PREFIX)) {
        const body = await readBody(req);
        await handleControl(req, res, path.slice(CONTROL_PREFIX.length), body, serverApi);
        return;
      }
      const body = await readBody(req);
      if (body === undefined) {
        sendError(
          res,
          new EcrException('RequestEntityTooLargeException', `Request body exceeds ${MAX_BODY_BYTES} bytes`, 413),
          requestId,
        );
        return;
      }
      const target = req.headers['x-amz-target'];
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
            .state(due.account ?? scope.account, due.region ?? scope.region)
            .repositories.delete(due.repositoryName);
        }
        const fault = faults.next(operation);
        if (fault.latencyMs > 0) await sleep(fault.latencyMs);
        if (fault.fail === 'throttle') throw new EcrException('ThrottlingException', 'Rate exceeded');
        if (fault.fail === 'server') throw new EcrException('ServerException', 'Injected server error', 500);
        const output = await handler(input as Record<string, unknown>, context(operation, scope));
        send(res, 200, output, requestId);
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const serverApi: RegistryServer = {
    url: `http://${host === '::1' ? '[::1]' : host}:${port}`,
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
    },
  };
  return serverApi;
}
