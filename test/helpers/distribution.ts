import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * CNCF distribution (Debian's `docker-registry`, 2.8.2): the reference `/v2/` registry the local one is compared
 * with. Started per test file on a free loopback port, with a fresh filesystem root removed when it stops.
 */
export const DOCKER_REGISTRY = '/usr/bin/docker-registry';

export interface DistributionRegistry {
  /** `127.0.0.1:PORT`, as skopeo names a registry. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  pid: number;
  rootDir: string;
  stop(): Promise<void>;
}

/** Fails with the install command when distribution is missing (`.ci/run` installs it). */
export function requireDistribution(): void {
  if (!existsSync(DOCKER_REGISTRY)) {
    throw new Error(`${DOCKER_REGISTRY} is missing: apt-get install -y docker-registry (as .ci/run does)`);
  }
}

const START_TIMEOUT_MS = 20_000;
/** Another process may take the free port between our probe and distribution's listen: try a few ports. */
const START_ATTEMPTS = 3;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** No auth, filesystem storage, deletes on (the API ECR's BatchDeleteImage maps to), little logging. */
function configYaml(port: number, rootDir: string): string {
  return `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${rootDir}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: local-test-secret
`;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
}

async function startOnce(dir: string): Promise<DistributionRegistry | { failed: string }> {
  const port = await freePort();
  const rootDir = join(dir, 'storage');
  const config = join(dir, 'config.yml');
  writeFileSync(config, configYaml(port, rootDir));
  const child = spawn(DOCKER_REGISTRY, ['serve', config], {
    env: { PATH: '/usr/bin:/bin', HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kept: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      kept.push(line);
      if (kept.length > 20) kept.shift();
    });
  }
  // A test process that ends without stopping it (a crash, a killed worker) takes distribution and its files with it.
  const killOnExit = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const stopChild = stopper(child);
  const stop = async () => {
    process.off('exit', killOnExit);
    await stopChild();
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const response = await fetch(`${url}/v2/`);
      await response.arrayBuffer();
      if (response.status === 200) {
        return { host: `127.0.0.1:${port}`, url, pid: child.pid as number, rootDir, stop };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  await stop();
  return { failed: `docker-registry did not answer GET /v2/ on port ${port}:\n${kept.join('\n')}` };
}

/** Starts `docker-registry serve CONFIG` on a free loopback port and waits until `GET /v2/` answers 200. */
export async function startDistribution(): Promise<DistributionRegistry> {
  requireDistribution();
  const dir = mkdtempSync(join(tmpdir(), 'distribution-'));
  let reason = '';
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const started = await startOnce(dir);
    if ('failed' in started) {
      reason = started.failed;
      continue;
    }
    return {
      ...started,
      stop: async () => {
        await started.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(reason);
}

export interface BasicAuthProxy {
  host: string;
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of a `/v2/` registry that demands HTTP Basic auth as ECR does: 401 with
 * `WWW-Authenticate: Basic` and an UNAUTHORIZED error without the right `Authorization`, the request passed through
 * (Host kept, so upload Locations name the proxy) with it. Distribution's own htpasswd auth needs bcrypt hashes;
 * this needs nothing, and lets the login path the local registry's tests take run against distribution.
 */
export async function startBasicAuthProxy(upstream: string, creds: string): Promise<BasicAuthProxy> {
  const expected = `Basic ${Buffer.from(creds).toString('base64')}`;
  const target = new URL(upstream);
  const server = createHttpServer((req, res) => {
    if (req.headers.authorization !== expected) {
      req.resume();
      const body = JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
      res.writeHead(401, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'www-authenticate': `Basic realm="${target.host}",service="distribution"`,
      });
      res.end(body);
      return;
    }
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.once('error', (error) => res.destroy(error));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
