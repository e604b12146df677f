import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { awsEcr } from './real-clients.ts';

/**
 * skopeo 1.9 (Debian's `/usr/bin/skopeo`) against a `/v2/` registry: CNCF distribution or the local registry, named
 * by a target. Every command fails with skopeo's stderr in the message.
 */
export const SKOPEO = '/usr/bin/skopeo';

/** A `/v2/` registry as skopeo (and the raw client in v2-client.ts) reach it: plain HTTP on loopback. */
export interface RegistryTarget {
  /** For messages and test names: `distribution`, `local registry`. */
  name: string;
  /** `127.0.0.1:PORT`. */
  host: string;
  /** `USER:PASSWORD` (for ECR `AWS:<password>` from `aws ecr get-login-password`); anonymous when absent. */
  creds?: string;
  tlsVerify: false;
}

export const targetUrl = (target: RegistryTarget) => `http://${target.host}`;

/** Fails with the install command when skopeo is missing (`.ci/run` installs it). */
export function requireSkopeo(): void {
  if (!existsSync(SKOPEO)) throw new Error(`${SKOPEO} is missing: apt-get install -y skopeo (as .ci/run does)`);
}

export class SkopeoError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`skopeo ${args.join(' ')} exited with ${code}:\n${stderr.trim()}`);
    this.name = 'SkopeoError';
  }
}

/**
 * Each command's own HOME and auth file, removed when it ends: no credentials or registries.conf of the machine's
 * user reach the tests, and none are left behind.
 */
function skopeoEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/bin:/bin',
    HOME: home,
    REGISTRY_AUTH_FILE: join(home, 'auth.json'),
    XDG_RUNTIME_DIR: home,
    TMPDIR: tmpdir(),
  };
}

const SKOPEO_TIMEOUT_MS = 300_000;

/**
 * `skopeo --insecure-policy ARGS`: stdout as a Buffer (manifests are compared byte for byte), or a SkopeoError.
 * `--insecure-policy`: signature policy is not under test, and the machine's policy.json may be stricter.
 */
export function skopeo(args: readonly string[]): Promise<Buffer> {
  const full = ['--insecure-policy', ...args];
  const home = mkdtempSync(join(tmpdir(), 'skopeo-home-'));
  return new Promise((resolve, reject) => {
    execFile(
      SKOPEO,
      full,
      { env: skopeoEnv(home), encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: SKOPEO_TIMEOUT_MS },
      (error, stdout, stderr) => {
        rmSync(home, { recursive: true, force: true });
        if (error) {
          // The password stays out of messages: `--creds=AWS:<password>`.
          const shown = full.map((arg) => arg.replace(/^(--[a-z-]*creds=[^:]*:).*/, '$1<password>'));
          reject(new SkopeoError(shown, typeof error.code === 'number' ? error.code : 1, stderr.toString('utf8')));
        } else resolve(stdout);
      },
    );
  });
}

const credsFlag = (flag: string, target: RegistryTarget) => (target.creds ? [`${flag}=${target.creds}`] : []);
const tlsFlag = (flag: string, target: RegistryTarget) => [`${flag}=${target.tlsVerify}`];
const dockerRef = (target: RegistryTarget, repository: string, reference: string) =>
  `docker://${target.host}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;

export interface CopyOptions {
  /** `--all`: an index and every child it lists. */
  all?: boolean;
}

/**
 * `skopeo copy oci:LAYOUT:TAG docker://HOST/REPO:TAG`. `--preserve-digests` makes skopeo fail rather than rewrite
 * a manifest, so that what lands in the registry is what the layout holds.
 */
export async function pushLayout(
  target: RegistryTarget,
  layoutDir: string,
  tag: string,
  repository: string,
  options: CopyOptions = {},
): Promise<void> {
  await skopeo([
    'copy',
    '--quiet',
    '--preserve-digests',
    ...(options.all ? ['--all'] : []),
    ...tlsFlag('--dest-tls-verify', target),
    ...credsFlag('--dest-creds', target),
    `oci:${layoutDir}:${tag}`,
    dockerRef(target, repository, tag),
  ]);
}

/** `skopeo copy docker://HOST/REPO:REF oci:OUT:TAG` (or `dir:OUT` when `format` is `dir`). */
export async function pullToLayout(
  target: RegistryTarget,
  repository: string,
  reference: string,
  outDir: string,
  options: CopyOptions & { format?: 'oci' | 'dir'; tag?: string } = {},
): Promise<void> {
  const destination = options.format === 'dir' ? `dir:${outDir}` : `oci:${outDir}:${options.tag ?? 'pulled'}`;
  await skopeo([
    'copy',
    '--quiet',
    '--preserve-digests',
    ...(options.all ? ['--all'] : []),
    ...tlsFlag('--src-tls-verify', target),
    ...credsFlag('--src-creds', target),
    dockerRef(target, repository, reference),
    destination,
  ]);
}

/** `skopeo inspect --raw`: the manifest's bytes exactly as the registry serves them. */
export function inspectRaw(target: RegistryTarget, repository: string, reference: string): Promise<Buffer> {
  return skopeo([
    'inspect',
    '--raw',
    ...tlsFlag('--tls-verify', target),
    ...credsFlag('--creds', target),
    dockerRef(target, repository, reference),
  ]);
}

/** `skopeo inspect` (not raw): skopeo's summary of an image (for an index, of the child for this machine). */
export async function inspect(
  target: RegistryTarget,
  repository: string,
  reference: string,
): Promise<{ Digest: string; Architecture: string; Os: string; Layers: string[] }> {
  const out = await skopeo([
    'inspect',
    ...tlsFlag('--tls-verify', target),
    ...credsFlag('--creds', target),
    dockerRef(target, repository, reference),
  ]);
  return JSON.parse(out.toString('utf8'));
}

/** `skopeo list-tags`: every tag (skopeo follows the `Link` header when a registry pages). */
export async function listTags(target: RegistryTarget, repository: string): Promise<string[]> {
  const out = await skopeo([
    'list-tags',
    ...tlsFlag('--tls-verify', target),
    ...credsFlag('--creds', target),
    `docker://${target.host}/${repository}`,
  ]);
  return (JSON.parse(out.toString('utf8')) as { Tags: string[] }).Tags;
}

/** `skopeo delete docker://HOST/REPO@DIGEST`. */
export async function deleteImage(target: RegistryTarget, repository: string, digest: string): Promise<void> {
  await skopeo([
    'delete',
    ...tlsFlag('--tls-verify', target),
    ...credsFlag('--creds', target),
    dockerRef(target, repository, digest),
  ]);
}

/** A target for CNCF distribution: anonymous, as it runs without auth. */
export function distributionTarget(registry: { host: string }): RegistryTarget {
  return { name: 'distribution', host: registry.host, tlsVerify: false };
}

/**
 * A target for the local registry, logged in as docker login would be: `AWS:$(aws ecr get-login-password)` from
 * Debian's AWS CLI pointed at the registry (fake credentials, region us-east-1; see real-clients.ts).
 */
export async function localRegistryTarget(server: RegistryServer | { url: string }): Promise<RegistryTarget> {
  const login = await awsEcr(server.url, ['get-login-password']);
  if (login.code !== 0) throw new Error(`aws ecr get-login-password failed (${login.code}): ${login.stderr}`);
  return {
    name: 'local registry',
    host: new URL(server.url).host,
    creds: `AWS:${login.stdout.trim()}`,
    tlsVerify: false,
  };
}
