/**
 * Test helpers for programs that run against the local registry: start one on a free port, and real AWS SDK clients
 * pointed at it (the `./testing` export; the clients are optional peer dependencies).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECRPUBLICClient } from '@aws-sdk/client-ecr-public';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { type FixturePublicRepository, type LoadedFixture, loadFixtureWithContent } from './control/fixtures.ts';
import { type RegistryServer, type RegistryServerOptions, startRegistryServer } from './wire/server.ts';

export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'us-east-1';

/** Starts the local registry on a free loopback port, for one test file. */
export async function startTestRegistry(options: RegistryServerOptions = {}): Promise<RegistryServer> {
  return startRegistryServer({ port: 0, scanDurationMs: 5, ...options });
}

/** A real ECR client pointed at the local registry; the access key picks the account when it is 12 digits. */
export function ecrClient(
  server: RegistryServer,
  options: { account?: string; region?: string; maxAttempts?: number } = {},
): ECRClient {
  return new ECRClient({
    endpoint: server.url,
    region: options.region ?? TEST_REGION,
    credentials: { accessKeyId: options.account ?? 'AKIDLOCALTEST', secretAccessKey: 'local-secret' },
    maxAttempts: options.maxAttempts ?? 1,
  });
}

/** A real ECR Public client pointed at the local registry (ECR Public is served in us-east-1 only). */
export function ecrPublicClient(
  server: RegistryServer,
  options: { account?: string; region?: string; maxAttempts?: number } = {},
): ECRPUBLICClient {
  return new ECRPUBLICClient({
    endpoint: server.url,
    region: options.region ?? 'us-east-1',
    credentials: { accessKeyId: options.account ?? 'AKIDLOCALTEST', secretAccessKey: 'local-secret' },
    maxAttempts: options.maxAttempts ?? 1,
  });
}

export function eventBridgeClient(server: RegistryServer, options: { account?: string; region?: string } = {}) {
  return new EventBridgeClient({
    endpoint: server.url,
    region: options.region ?? TEST_REGION,
    credentials: { accessKeyId: options.account ?? 'AKIDLOCALTEST', secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  });
}

/** Calls the control API (`/_local/...`). */
export async function control<T = unknown>(
  server: Pick<RegistryServer, 'url'>,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${server.url}/_local/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`control ${path}: HTTP ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A raw JSON 1.1 request, for bad-input tests the SDK would refuse to send. */
export async function rawEcrRequest(
  server: RegistryServer,
  operation: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonEC2ContainerRegistry_V20150921.${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST/20261124/${TEST_REGION}/ecr/aws4_request, SignedHeaders=host, Signature=0`,
      ...headers,
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A raw ECR Public JSON 1.1 request (`SpencerFrontendService.<operation>`), for input the SDK would not send. */
export async function rawPublicRequest(
  server: RegistryServer,
  operation: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return rawEcrRequest(server, operation, body, {
    'x-amz-target': `SpencerFrontendService.${operation}`,
    authorization: `AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST/20261124/us-east-1/ecr-public/aws4_request, SignedHeaders=host, Signature=0`,
    ...headers,
  });
}

/** The error a call fails with (undefined when it succeeds), so that several calls can run before the assertions. */
export const failureOf = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (error: unknown) => error,
  );

/**
 * Fills the registry's state with `count` records directly, with a turn of the event loop every `batch` records. The
 * server runs in the test's process: a synchronous stretch of seconds (100,000 records on a loaded machine) lets the
 * server's keep-alive timer (5 s) close the client's idle socket before the client can notice, and the next request
 * then fails with ECONNRESET although nothing is wrong.
 */
export async function fillInBatches(count: number, add: (index: number) => void, batch = 2_000): Promise<void> {
  for (let index = 0; index < count; index++) {
    add(index);
    if ((index + 1) % batch === 0) await new Promise(setImmediate);
  }
  await new Promise(setImmediate);
}

/**
 * Declares the config and layers of a hand-made manifest in a repository without content (placeholders,
 * `POST /_local/blobs`), so that PutImage accepts it as ECR accepts a manifest whose layers were uploaded.
 */
export async function declareBlobs(
  server: Pick<RegistryServer, 'url'>,
  repositoryName: string,
  manifest: string,
  options: { account?: string; region?: string } = {},
): Promise<void> {
  await control(server, 'blobs', { repositoryName, manifest, ...options });
}

/**
 * Creates ECR Public repositories with images in the registry's own process (what `POST /_local/load` does with a
 * fixture's `publicRepositories`, without the JSON round trip: 20,000 images load in about a second). `content: true`
 * gives every image real blobs; else they are placeholders. With a data directory, use `POST /_local/load`, which is
 * journalled.
 */
export function loadPublicRepositories(
  server: Pick<RegistryServer, 'registry' | 'now'>,
  repositories: FixturePublicRepository[],
  options: { account?: string; content?: boolean } = {},
): Promise<LoadedFixture> {
  const fixture = {
    account: options.account,
    content: options.content,
    repositories: [],
    publicRepositories: repositories,
  };
  return loadFixtureWithContent(server.registry, fixture, server.now());
}

/** The `local-ecr` command line (bin/local-ecr.js) running as a process of its own. */
export interface RegistryCli {
  child: ChildProcess;
  url: string;
  /** An ECR client pointed at it (account 123456789012, us-east-1, no retries). */
  client: ECRClient;
}

const LOCAL_ECR_BIN = resolve(import.meta.dirname, '../bin/local-ecr.js');

/** Starts `local-ecr --port 0 --data-dir <dataDir>`; resolves once it prints its URL, rejects if it exits first. */
export function startRegistryCli(dataDir: string): Promise<RegistryCli> {
  const child = spawn(process.execPath, [LOCAL_ECR_BIN, '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  return new Promise((resolveUrl, reject) => {
    child.once('exit', (code) => reject(new Error(`local-ecr exited with ${code} before listening: ${stderr}`)));
    lines.on('line', (line) => {
      const match = /^local registry: (http\S+)$/.exec(line);
      if (!match) return;
      const url = match[1] as string;
      resolveUrl({
        child,
        url,
        client: new ECRClient({
          endpoint: url,
          region: TEST_REGION,
          credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret' },
          maxAttempts: 1,
        }),
      });
    });
  });
}

/** Kills a `local-ecr` process with SIGKILL (no shutdown code runs), when still running, and waits for its exit. */
export function killRegistryCli(running: { child: ChildProcess }): Promise<void> {
  return new Promise((done) => {
    if (running.child.exitCode !== null || running.child.signalCode !== null) {
      done();
      return;
    }
    running.child.once('exit', () => done());
    running.child.kill('SIGKILL');
  });
}
