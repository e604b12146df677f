import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BusEvent, RegistryServer } from '@ecr-automation/local-registry';
import { z } from 'zod';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import { isEcrRegion } from '../../shared/domain/regions.ts';
import { ImageDigest } from '../../shared/events/schemas.ts';
import { dashboardBundle } from './bundle.ts';
import { DashboardFeed } from './feed.ts';
import { DASHBOARD_JOBS, JobRunner } from './jobs.ts';
import { PAGE_HTML } from './page.ts';
import { imagesView, imageView, MAX_PAGE, registriesView, reportsView, repositoriesView, scansView } from './views.ts';

/**
 * The local dashboard: a page and a JSON API under `/_dashboard/` on the local registry's port (mounted with
 * `RegistryServer.mount`, never mistaken for ECR's `POST /` or the registry API's `/v2/`). Everything is read-only
 * but `POST /_dashboard/api/jobs/<rule>`, which fires a scheduled job in dry run only (see jobs.ts), and only from the
 * dashboard's own page: a custom header no cross-site form can send (a script would need a CORS preflight, which is
 * never granted) and, when the browser names them, its own origin and `Sec-Fetch-Site: same-origin`.
 */
export const DASHBOARD_PREFIX = '/_dashboard/';
/** The header a dry-run request must carry, with this value. */
export const ACTION_HEADER = 'x-dashboard-action';
export const ACTION_VALUE = 'dry-run';
/** A longer query string is refused (414). */
const MAX_QUERY_CHARS = 2_048;

export interface DashboardOptions {
  server: RegistryServer;
  config: () => Readonly<ServiceConfig>;
  /** The deployment's own account and region (the service's registry). */
  own: { account: string; region: string };
  /** The service's bus (`LOCAL_EVENT_BUS`): its events are the reports. */
  serviceBus: string;
}

export interface Dashboard {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  readonly feed: DashboardFeed;
  close(): void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const Account = z.string().regex(/^\d{12}$/, 'a 12-digit account id');
const Region = z
  .string()
  .max(32)
  .refine((region) => isEcrRegion(region), 'a region ECR serves');
const Repository = z.string().min(1).max(256);
const Whole = (max: number) =>
  z.string().max(16).regex(/^\d+$/, 'a whole number').transform(Number).pipe(z.number().int().min(0).max(max));

/** The query parameters of each read route: anything else, or a parameter given twice, is a 400. */
const QUERIES = {
  registries: z.strictObject({}),
  repositories: z.strictObject({ account: Account.optional(), region: Region.optional() }),
  images: z.strictObject({
    account: Account.optional(),
    region: Region.optional(),
    repository: Repository,
    after: Whole(Number.MAX_SAFE_INTEGER).optional(),
    limit: Whole(MAX_PAGE).pipe(z.number().min(1)).optional(),
  }),
  image: z.strictObject({
    account: Account.optional(),
    region: Region.optional(),
    repository: Repository,
    digest: ImageDigest,
  }),
  reports: z.strictObject({ limit: Whole(1_000).pipe(z.number().min(1)).optional() }),
  scans: z.strictObject({ limit: Whole(500).pipe(z.number().min(1)).optional() }),
  jobs: z.strictObject({}),
  events: z.strictObject({}),
} as const;
type Route = keyof typeof QUERIES;

function parseQuery<R extends Route>(route: R, search: string): z.output<(typeof QUERIES)[R]> {
  const params = new URLSearchParams(search);
  // No prototype: `__proto__=x` is a key like any other (and so refused as unknown), not the object's prototype.
  const record: Record<string, string> = Object.create(null);
  for (const [key, value] of params) {
    if (Object.hasOwn(record, key))
      throw new HttpError(400, `Query parameter ${JSON.stringify(key.slice(0, 64))} is given twice`);
    record[key] = value;
  }
  const parsed = QUERIES[route].safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length
      ? String(issue.path[0]).slice(0, 64)
      : issue && 'keys' in issue
        ? String(issue.keys).slice(0, 64)
        : '';
    throw new HttpError(400, `Bad query parameter ${JSON.stringify(where)}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data as z.output<(typeof QUERIES)[R]>;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
  });
  res.end(text);
}

/** Why a POST is not the dashboard page's own, or undefined when it is. */
function foreignRequest(req: IncomingMessage): string | undefined {
  if (req.headers[ACTION_HEADER] !== ACTION_VALUE) return `A dry-run request carries ${ACTION_HEADER}: ${ACTION_VALUE}`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host}`)
    return `Origin ${origin.slice(0, 100)} is not the dashboard's`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin')
    return `Sec-Fetch-Site ${String(site).slice(0, 32)} is not same-origin`;
  const length = req.headers['content-length'];
  if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
    return 'A dry-run request has no body: the server decides what runs';
  }
  return undefined;
}

export function createDashboard(options: DashboardOptions): Dashboard {
  const { server, own } = options;
  const feed = new DashboardFeed();
  const jobs = new JobRunner(server);

  // Every event on both buses, as it is accepted (a rule's target runs asynchronously, as EventBridge delivers).
  for (const eventBusName of ['default', options.serviceBus]) {
    server.bus.addRule({
      name: 'local-dashboard',
      eventBusName,
      eventPattern: { source: [{ prefix: '' }] },
      target: (event: BusEvent) => {
        feed.add(event, eventBusName === options.serviceBus);
      },
      targetName: 'local-dashboard',
      maximumRetryAttempts: 0,
    });
  }

  /** The registry state a query names: the service's own by default; an account and region given together. */
  const stateOf = (query: { account?: string; region?: string }) => {
    if ((query.account === undefined) !== (query.region === undefined)) {
      throw new HttpError(400, 'Give both account and region, or neither');
    }
    const account = query.account ?? own.account;
    const region = query.region ?? own.region;
    return {
      state: server.registry.existing(account, region),
      own: account === own.account && region === own.region,
    };
  };

  const read = async (route: string, search: string, req: IncomingMessage, res: ServerResponse) => {
    switch (route) {
      case 'registries':
        parseQuery('registries', search);
        return sendJson(res, 200, { own, registries: registriesView(server, own) });
      case 'repositories': {
        const query = parseQuery('repositories', search);
        const { state, own: isOwn } = stateOf(query);
        return sendJson(res, 200, { repositories: repositoriesView(state, feed, isOwn) });
      }
      case 'images': {
        const query = parseQuery('images', search);
        const { state, own: isOwn } = stateOf(query);
        const view = imagesView(state, feed, isOwn, {
          repository: query.repository,
          after: query.after ?? 0,
          limit: query.limit ?? 200,
        });
        if (!view) throw new HttpError(404, `No repository ${JSON.stringify(query.repository.slice(0, 256))}`);
        return sendJson(res, 200, view);
      }
      case 'image': {
        const query = parseQuery('image', search);
        const { state, own: isOwn } = stateOf(query);
        const view = imageView(state, feed, isOwn, query);
        if (!view)
          throw new HttpError(404, `No image ${query.digest} in ${JSON.stringify(query.repository.slice(0, 256))}`);
        return sendJson(res, 200, view);
      }
      case 'reports': {
        const query = parseQuery('reports', search);
        return sendJson(res, 200, reportsView(feed, query.limit ?? 100));
      }
      case 'scans': {
        const query = parseQuery('scans', search);
        return sendJson(res, 200, scansView(feed, options.config(), server.now(), query.limit ?? 100));
      }
      case 'jobs':
        parseQuery('jobs', search);
        return sendJson(res, 200, {
          jobs: DASHBOARD_JOBS.map((job) => ({ ...job, running: jobs.isRunning(job.rule) })),
        });
      case 'events': {
        parseQuery('events', search);
        if (req.method !== 'GET') throw new HttpError(405, 'The live stream is read with GET');
        const last = req.headers['last-event-id'];
        const lastSeq = typeof last === 'string' && /^\d{1,15}$/.test(last) ? Number(last) : undefined;
        feed.stream(res, lastSeq);
        return;
      }
      default:
        throw new HttpError(404, 'No such dashboard route');
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = req.url ?? '/';
      const mark = url.indexOf('?');
      const path = mark === -1 ? url : url.slice(0, mark);
      const search = mark === -1 ? '' : url.slice(mark + 1);
      if (search.length > MAX_QUERY_CHARS)
        throw new HttpError(414, `The query string is longer than ${MAX_QUERY_CHARS} characters`);
      const rest = path.slice(DASHBOARD_PREFIX.length);
      if (req.method === 'POST' && rest.startsWith('api/jobs/')) {
        req.resume();
        const refusal = foreignRequest(req);
        if (refusal) throw new HttpError(403, refusal);
        if (search !== '') throw new HttpError(400, 'A dry-run request takes no query parameters');
        const job = jobs.find(rest.slice('api/jobs/'.length));
        if (!job) throw new HttpError(404, 'No such job: the dashboard fires only the jobs GET api/jobs lists');
        if (jobs.isRunning(job.rule)) throw new HttpError(409, `${job.rule} is running already`);
        return sendJson(res, 200, await jobs.run(job));
      }
      req.resume();
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        throw new HttpError(405, `${String(req.method).slice(0, 16)} is not allowed here: the dashboard is read-only`);
      }
      if (rest === '') {
        if (search !== '') parseQuery('jobs', search);
        const body = PAGE_HTML;
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          'cache-control': 'no-store',
          'content-security-policy':
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          ...SECURITY_HEADERS,
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (rest === 'app.js' || rest === 'app.css') {
        const bundle = await dashboardBundle();
        const body = rest === 'app.js' ? bundle.js : bundle.css;
        res.writeHead(200, {
          'content-type': `${rest === 'app.js' ? 'text/javascript' : 'text/css'}; charset=utf-8`,
          'content-length': Buffer.byteLength(body),
          'cache-control': 'no-cache',
          ...SECURITY_HEADERS,
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (rest.startsWith('api/')) {
        await read(rest.slice('api/'.length), search, req, res);
        return;
      }
      throw new HttpError(404, 'No such dashboard page');
    } catch (error) {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (error instanceof HttpError) {
        sendJson(res, error.status, { error: error.message });
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      sendJson(res, 500, { error: `Dashboard error: ${message}` });
    }
  };

  return {
    handle,
    feed,
    close: () => feed.close(),
  };
}
