import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** The repository root, so that the benchmarks run the same from any working directory. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** One benchmark figure: printed as one JSON line on stdout. */
export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  /** `">= 5000"`, `"<= 200"`, or `"report"` when the figure has no target. */
  goal: string;
  [extra: string]: unknown;
}

export function emit(figure: Figure): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

/** Progress for people: stderr, so that stdout stays one JSON figure per line. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/**
 * The environment for child processes, without NODE_EXTRA_CA_CERTS: loading the extra certificates adds about
 * 70 ms to every node start on the benchmark machines, and nothing here talks TLS.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // The SDK's "node >= 22 after January 2027" notice, once per process, would only add noise to the progress.
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** A positive integer from the environment, or the default. */
export function intEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, not ${text}`);
  return value;
}

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Rounds for display, to `digits` decimals. */
export const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/**
 * Runs `task(0) … task(total - 1)` with exactly `inFlight` tasks outstanding (fewer only at the end) and
 * returns the elapsed wall time in ms.
 */
export async function runInFlight(total: number, inFlight: number, task: (index: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const index = next++;
      await task(index);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, worker));
  return performance.now() - started;
}

/** CPU seconds (user + system) a process has used, from `/proc/<pid>/stat`; undefined when unreadable. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based) of the line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** USER_HZ on Linux: 100 on every mainstream kernel configuration. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident memory of a process in MB (VmRSS of `/proc/<pid>/status`). */
export function residentMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Wall time and the CPU share of the clients (this process and its load workers) and of the server over a phase. */
export interface Timing {
  ms: number;
  /** CPU used over wall time, in % of one core (200 is two cores busy). */
  clientCpuPct: number;
  serverCpuPct?: number;
  /** CPU the rest of the machine used meanwhile: well above 0, other work competed with the benchmark. */
  otherCpuPct?: number;
}

const cpuSeconds = (pids: number[]) => pids.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0);
const ownCpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};
const percentOf = (cpuSecondsUsed: number, ms: number) => round(((cpuSecondsUsed * 1_000) / ms) * 100, 0);

/** Busy CPU seconds of the whole machine (all cores), from the `cpu` line of `/proc/stat`. */
function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    // user nice system idle iowait irq softirq steal ...: everything but idle and iowait is busy.
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>((sum, ticks) => sum + (ticks ?? 0), 0);
    return busy / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export async function timed(serverPid: number, clientPids: number[], phase: () => Promise<unknown>): Promise<Timing> {
  const clientBefore = ownCpuSeconds() + cpuSeconds(clientPids);
  const serverBefore = processCpuSeconds(serverPid);
  const machineBefore = machineBusySeconds();
  const started = performance.now();
  await phase();
  const ms = performance.now() - started;
  const client = ownCpuSeconds() + cpuSeconds(clientPids) - clientBefore;
  const serverAfter = processCpuSeconds(serverPid);
  const machineAfter = machineBusySeconds();
  const server = serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore;
  const machine = machineBefore === undefined || machineAfter === undefined ? undefined : machineAfter - machineBefore;
  return {
    ms,
    clientCpuPct: percentOf(client, ms),
    serverCpuPct: server === undefined ? undefined : percentOf(server, ms),
    otherCpuPct:
      server === undefined || machine === undefined ? undefined : Math.max(0, percentOf(machine - client - server, ms)),
  };
}

/** One load-generating child process, driven by requests over its IPC channel (see `serveWorker`). */
export interface WorkerProcess {
  pid: number;
  call<T>(op: string, args?: unknown): Promise<T>;
  stop(): Promise<void>;
}

interface WorkerReply {
  id: number;
  result?: unknown;
  error?: string;
}

/**
 * Forks `file` with `node --import tsx` and an IPC channel; resolves once the worker is ready. Its stdout goes to
 * this process's stderr, so that stdout keeps only figures.
 */
export async function forkWorker(file: string, args: string[]): Promise<WorkerProcess> {
  const child = fork(file, args, {
    cwd: ROOT,
    env: childEnv(),
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const failAll = (error: Error) => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  child.on('exit', (code) => failAll(new Error(`load worker ${child.pid} exited with code ${code}`)));
  const ready = new Promise<void>((resolveReady, reject) => {
    child.once('error', reject);
    child.once('message', () => resolveReady());
  });
  child.on('message', (message: WorkerReply) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error === undefined) waiter.resolve(message.result);
    else waiter.reject(new Error(message.error));
  });
  await ready;
  return {
    pid: child.pid as number,
    call: <T>(op: string, callArgs?: unknown) =>
      new Promise<T>((resolveCall, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolveCall as (value: unknown) => void, reject });
        child.send({ id, op, args: callArgs });
      }),
    stop: stopper(child),
  };
}

/** The worker side of `forkWorker`: answers each request with its handler's result or error. */
export function serveWorker(handlers: Record<string, (args: never) => Promise<unknown>>): void {
  process.on('message', async (message: { id: number; op: string; args: never }) => {
    const reply = (body: Omit<WorkerReply, 'id'>) => process.send?.({ id: message.id, ...body });
    const handler = Object.hasOwn(handlers, message.op) ? handlers[message.op] : undefined;
    if (!handler) {
      reply({ error: `unknown worker operation ${message.op}` });
      return;
    }
    try {
      reply({ result: await handler(message.args) });
    } catch (error) {
      reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ id: 0, result: 'ready' });
}

/** A server the benchmark started, in its own process. */
export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** Resident memory in MB once the server answered, before any load. */
  startRssMb?: number;
  stop(): Promise<void>;
}

/** The node flags of the registry's scripts in package.json. */
const REGISTRY_NODE_FLAGS = '--expose-gc --max-semi-space-size=4 --heap-growing-percent=5';
const REGISTRY_BANNER = /^local registry: (http:\/\/\S+)$/;

/**
 * The registry server alone (`registry/src/main.ts`), bundled with esbuild and run by plain `node`: what is measured is
 * the server, not the TypeScript loader (tsx's loader thread alone adds about 40 MB of resident memory).
 */
function bundleRegistry(): string {
  const outfile = resolve(ROOT, '.bench', 'registry-main.mjs');
  buildSync({
    entryPoints: [resolve(ROOT, 'registry', 'src', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}
const START_TIMEOUT_MS = 30_000;

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

/**
 * A bare node HTTP server on loopback that reads each request's body and answers `{}` as ECR's JSON protocol would:
 * what any node HTTP server costs per request, the floor under the registry's own figures. Run with the registry's
 * node flags, like the registry.
 */
const HTTP_FLOOR_SERVER = `
import { createServer } from 'node:http';
const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': 2, 'x-amzn-requestid': crypto.randomUUID() });
    res.end('{}');
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log('local registry: http://127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

/** Starts the bare HTTP server of HTTP_FLOOR_SERVER (same banner as the registry), for the per-request floor. */
export async function startHttpFloorProcess(): Promise<ServerProcess> {
  const flags = (process.env.BENCH_REGISTRY_NODE_FLAGS ?? REGISTRY_NODE_FLAGS).split(' ').filter(Boolean);
  return startBannerProcess('http-floor', [...flags, '--input-type=module', '-e', HTTP_FLOOR_SERVER]);
}

/**
 * A bare node HTTP server on loopback that speaks just enough `/v2/` for a monolithic blob upload and a download:
 * POST answers 202 with a Location; PUT streams the body into a file while hashing it (what any registry must do)
 * and renames it to its digest; GET streams the file back. No checks, no state beyond the files: the floor under the
 * registry's blob figures. Run with the registry's node flags, like the registry.
 */
const BLOB_FLOOR_SERVER = `
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const dir = mkdtempSync(join(tmpdir(), 'blob-floor-'));
let next = 0;
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://floor');
  if (req.method === 'POST') {
    req.resume();
    res.writeHead(202, { location: '/v2/floor/blobs/uploads/' + next++, 'content-length': 0 });
    return res.end();
  }
  if (req.method === 'PUT') {
    const hash = createHash('sha256');
    const partial = join(dir, 'upload-' + url.pathname.split('/').pop());
    const file = createWriteStream(partial);
    req.on('data', (chunk) => hash.update(chunk));
    req.pipe(file);
    file.once('finish', () => {
      const digest = 'sha256:' + hash.digest('hex');
      const ok = digest === url.searchParams.get('digest');
      if (ok) renameSync(partial, join(dir, digest));
      res.writeHead(ok ? 201 : 400, { 'content-length': 0 });
      res.end();
    });
    return;
  }
  const path = join(dir, url.pathname.split('/').pop());
  let size;
  try { size = statSync(path).size; } catch { res.writeHead(404, { 'content-length': 0 }); return res.end(); }
  res.writeHead(200, { 'content-length': size });
  createReadStream(path).pipe(res);
});
server.listen(0, '127.0.0.1', () => console.log('local registry: http://127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => { rmSync(dir, { recursive: true, force: true }); process.exit(0); });
`;

/** Starts the bare blob server of BLOB_FLOOR_SERVER (same banner as the registry), for the blob throughput floor. */
export async function startBlobFloorProcess(): Promise<ServerProcess> {
  const flags = (process.env.BENCH_REGISTRY_NODE_FLAGS ?? REGISTRY_NODE_FLAGS).split(' ').filter(Boolean);
  return startBannerProcess('blob-floor', [...flags, '--input-type=module', '-e', BLOB_FLOOR_SERVER]);
}

/**
 * Starts the local registry (`cli/start.ts`) in its own process and reads its URL from the first line it prints.
 * With BENCH_CPU_PROF_DIR set, the server writes a V8 CPU profile there when it stops.
 */
export async function startRegistryProcess(): Promise<ServerProcess> {
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : [];
  // The node flags `npm run registry` and `npm start` use (package.json), unless BENCH_REGISTRY_NODE_FLAGS says others.
  const flags = (process.env.BENCH_REGISTRY_NODE_FLAGS ?? REGISTRY_NODE_FLAGS).split(' ').filter(Boolean);
  return startBannerProcess('registry', [...profile, ...flags, bundleRegistry(), '--port', '0']);
}

/** Starts `node args` and reads its URL from the registry's banner, its first line. */
async function startBannerProcess(name: string, args: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = stopper(child);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the local registry did not print its URL in time')),
        START_TIMEOUT_MS,
      );
      child.once('exit', (code) =>
        reject(new Error(`the local registry exited with code ${code} before printing its URL`)),
      );
      lines.once('line', (line) => {
        clearTimeout(timer);
        const match = REGISTRY_BANNER.exec(line.trim());
        if (match?.[1]) resolveUrl(match[1]);
        else reject(new Error(`unexpected first line from the local registry: ${line}`));
      });
    });
    // Keep draining stdout so that the server never blocks on a full pipe.
    lines.on('line', () => {});
    const pid = child.pid as number;
    return { name, url, pid, startRssMb: residentMb(pid), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The Python executable that can run `python3 -m moto.server`, or why moto cannot run here. */
export function findMotoPython(): { python: string } | { skipped: string } {
  // Asks `python3` (a pyenv shim here) for the real interpreter, so that the server's pid is Python's own.
  const check = spawnSync('python3', ['-c', 'import sys, moto, moto.server; print(sys.executable)'], {
    env: childEnv(),
    encoding: 'utf8',
  });
  const python = check.stdout?.trim();
  if (check.error || check.status !== 0 || !python) return { skipped: 'moto not installed' };
  return { python };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Keeps the last lines a process wrote, for the error message when it fails. */
function tail(stream: NodeJS.ReadableStream | null, keep = 20): () => string {
  const kept: string[] = [];
  if (stream) {
    createInterface({ input: stream }).on('line', (line) => {
      kept.push(line);
      if (kept.length > keep) kept.shift();
    });
  }
  return () => kept.join('\n');
}

/** Starts `python3 -m moto.server` on a free loopback port and waits until it answers HTTP. */
export async function startMotoProcess(python: string): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: ROOT,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = stopper(child);
  // moto (werkzeug) logs every request; drained here, kept only for a failure message.
  const output = tail(child.stderr);
  tail(child.stdout);
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      await fetch(`${url}/moto-api/`);
      return { name: 'moto', url, pid: child.pid as number, stop };
    } catch {
      await sleep(100);
    }
  }
  await stop();
  throw new Error(`moto did not start on port ${port}:\n${output()}`);
}
