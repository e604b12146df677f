import { createHash } from 'node:crypto';
import { AccessDeniedError, RepositoryNotFoundError } from '../ecr/errors.ts';
import { ACCEPTED_MANIFEST_MEDIA_TYPES, IMAGE_NOT_FOUND, manifestMediaTypeOf } from '../ecr/mapping.ts';
import type { ItemFailure, ManifestRecord } from '../ecr/types.ts';

/**
 * Manifest reads over the registry API of ECR Public (`/v2/`), which is the only way to read a public manifest:
 * ECR Public has no BatchGetImage. The login is public.ecr.aws's: ECR Public's GetAuthorizationToken gives
 * `base64(AWS:<password>)`, which `/token/` exchanges (HTTP Basic) for a bearer token scoped to one repository's
 * pull, which `GET /v2/<alias>/<name>/manifests/<digest>` takes.
 *
 * The registry's answers are hostile input: every body is read up to a bound, every exchange has a time limit, the
 * bytes must hash to the digest asked for, and nothing of a response is trusted beyond that.
 */

/** The largest manifest a registry accepts (OCI distribution's recommended minimum, which ECR enforces). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A `/token/` answer or an OCI error body is small; anything larger is not one. */
const MAX_SMALL_BODY_BYTES = 64 * 1024;

/** The only digests read: `sha256:` and 64 lowercase hex digits (what ECR Public stores). */
export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The repository name pattern of ECR Public [M-ECRPUB], checked before a name is put in a URL. */
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const ALIAS = /^[a-z0-9][a-z0-9_-]{0,49}$/;

/** The service name public.ecr.aws's token endpoint expects. */
const TOKEN_SERVICE = 'public.ecr.aws';

export interface ManifestReaderOptions {
  /** `https://public.ecr.aws`, or the local registry's own address. */
  registryUrl: string;
  /** Time limit of one HTTP exchange, body included, ms. */
  timeoutMs: number;
  /** ECR Public's `authorizationToken` (`base64(AWS:<password>)`), cached by the caller; `fresh` skips its cache. */
  authorizationToken(fresh: boolean): Promise<string>;
  /** Counts one request to the registry API: `GetManifest`, or `GetRegistryToken` for a `/token/` exchange. */
  count(operation: 'GetManifest' | 'GetRegistryToken'): void;
}

/** One read's outcome: the manifest, or a per-digest failure (`retryable` ones are worth another round). */
export type ManifestReadOutcome = { manifest: ManifestRecord } | { failure: ItemFailure };

/** A failure of the exchange itself (network, time limit, 429, 5xx): worth another round. */
class TransientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TransientError';
  }
}

export interface ManifestReader {
  read(alias: string, repositoryName: string, digest: string): Promise<ManifestReadOutcome>;
}

export function createManifestReader(options: ManifestReaderOptions): ManifestReader {
  let base = options.registryUrl;
  while (base.endsWith('/')) base = base.slice(0, -1);
  /** Bearer tokens per repository, kept until the registry refuses one. */
  const bearers = new Map<string, Promise<string>>();

  const denied = (repositoryName: string, message: string) =>
    new AccessDeniedError(`GetManifest on repository '${repositoryName}': ${message}`, {
      operation: 'GetManifest',
      repository: repositoryName,
      code: 'UNAUTHORIZED',
    });

  async function exchange(url: string, headers: Record<string, string>): Promise<Response> {
    try {
      return await fetch(url, { headers, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs) });
    } catch (error) {
      throw new TransientError('RegistryUnavailable', `the registry could not be reached: ${describe(error)}`);
    }
  }

  async function requestBearer(path: string, repositoryName: string): Promise<string> {
    for (const fresh of [false, true]) {
      const basic = await options.authorizationToken(fresh);
      const url = `${base}/token/?service=${encodeURIComponent(TOKEN_SERVICE)}&scope=${encodeURIComponent(`repository:${path}:pull`)}`;
      options.count('GetRegistryToken');
      const response = await exchange(url, { Authorization: `Basic ${basic}` });
      if (response.status === 401 && !fresh) {
        await discard(response);
        continue; // The authorization token may have expired early: ask ECR Public for a new one, once.
      }
      throwIfTransient(response, '/token/');
      if (response.status === 401 || response.status === 403) {
        await discard(response);
        throw denied(repositoryName, `the registry refused the authorization token (HTTP ${response.status})`);
      }
      const body = await readBounded(response, MAX_SMALL_BODY_BYTES);
      if (response.status !== 200 || body === undefined) {
        throw new TransientError('InvalidTokenResponse', `/token/ answered HTTP ${response.status}`);
      }
      const token = parseToken(body);
      if (token === undefined) throw new TransientError('InvalidTokenResponse', '/token/ answered no token');
      return token;
    }
    throw denied(repositoryName, 'the registry refused the authorization token');
  }

  function bearerFor(path: string, repositoryName: string, fresh: boolean): Promise<string> {
    const cached = bearers.get(path);
    if (cached && !fresh) return cached;
    const pending = requestBearer(path, repositoryName);
    bearers.set(path, pending);
    pending.catch(() => {
      if (bearers.get(path) === pending) bearers.delete(path);
    });
    return pending;
  }

  async function readOnce(path: string, repositoryName: string, digest: string): Promise<ManifestReadOutcome> {
    const url = `${base}/v2/${path}/manifests/${digest}`;
    for (const fresh of [false, true]) {
      const bearer = await bearerFor(path, repositoryName, fresh);
      options.count('GetManifest');
      const response = await exchange(url, {
        Authorization: `Bearer ${bearer}`,
        Accept: ACCEPTED_MANIFEST_MEDIA_TYPES.join(', '),
      });
      if (response.status === 401 && !fresh) {
        await discard(response);
        continue; // The bearer token expired: exchange a new one, once.
      }
      throwIfTransient(response, 'the manifest read');
      if (response.status === 401 || response.status === 403) {
        await discard(response);
        throw denied(repositoryName, `the registry refused the pull token (HTTP ${response.status})`);
      }
      if (response.status === 404) return notFound(response, repositoryName, digest);
      if (response.status !== 200) {
        await discard(response);
        return failed(digest, `HTTP${response.status}`, `the registry answered HTTP ${response.status}`, false);
      }
      const body = await readBounded(response, MAX_MANIFEST_BYTES);
      if (body === undefined) {
        return failed(digest, 'ManifestTooLarge', `the manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, false);
      }
      const actual = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      if (actual !== digest) {
        return failed(digest, 'DigestMismatch', `the registry answered bytes whose digest is ${actual}`, false);
      }
      const manifest = Buffer.from(body).toString('utf8');
      const contentType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
      const reported = ACCEPTED_MANIFEST_MEDIA_TYPES.includes(contentType) ? contentType : undefined;
      return { manifest: { digest, mediaType: manifestMediaTypeOf(manifest, reported), manifest } };
    }
    throw denied(repositoryName, 'the registry refused the pull token');
  }

  async function notFound(response: Response, repositoryName: string, digest: string): Promise<ManifestReadOutcome> {
    const body = await readBounded(response, MAX_SMALL_BODY_BYTES);
    const codes = body === undefined ? [] : ociErrorCodes(body);
    if (codes.includes('NAME_UNKNOWN')) {
      throw new RepositoryNotFoundError(
        `GetManifest on repository '${repositoryName}': NAME_UNKNOWN: the registry does not know the repository`,
        { operation: 'GetManifest', repository: repositoryName, code: 'RepositoryNotFoundException' },
      );
    }
    return failed(digest, IMAGE_NOT_FOUND, `the registry has no manifest ${digest} (${codes[0] ?? 'HTTP 404'})`, false);
  }

  return {
    async read(alias, repositoryName, digest) {
      if (!SHA256_DIGEST.test(digest)) {
        return failed(digest, 'InvalidImageDigest', 'not a sha256 digest', false);
      }
      if (!ALIAS.test(alias) || !REPOSITORY_NAME.test(repositoryName)) {
        return failed(
          digest,
          'InvalidRepositoryName',
          `'${alias}/${repositoryName}' is not a public repository`,
          false,
        );
      }
      try {
        return await readOnce(`${alias}/${repositoryName}`, repositoryName, digest);
      } catch (error) {
        if (error instanceof TransientError) return failed(digest, error.code, error.message, true);
        throw error;
      }
    },
  };
}

function throwIfTransient(response: Response, what: string): void {
  if (response.status === 429) {
    void discard(response);
    throw new TransientError('TooManyRequests', `${what} was throttled (HTTP 429)`);
  }
  if (response.status >= 500) {
    void discard(response);
    throw new TransientError('RegistryUnavailable', `${what} failed with HTTP ${response.status}`);
  }
}

const failed = (digest: string, code: string, reason: string, retryable: boolean): ManifestReadOutcome => ({
  failure: { digest, code, reason, retryable },
});

/**
 * The body, or undefined when it is larger than `max` bytes (then the rest is not read). A body cut short by the
 * time limit or the connection is a transient failure.
 */
async function readBounded(response: Response, max: number): Promise<Uint8Array | undefined> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    await discard(response);
    return undefined;
  }
  if (response.body === null) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        return undefined;
      }
      chunks.push(value);
    }
  } catch (error) {
    throw new TransientError('RegistryUnavailable', `the response was cut short: ${describe(error)}`);
  }
  return Buffer.concat(chunks);
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** `{"token": ...}` (or the OAuth2 spelling `access_token`), a short printable string. */
function parseToken(body: Uint8Array): string | undefined {
  const parsed = parseJson(body);
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { token, access_token: accessToken } = parsed as Record<string, unknown>;
  const value = typeof token === 'string' && token !== '' ? token : accessToken;
  return typeof value === 'string' && /^[\x21-\x7e]{1,8192}$/.test(value) ? value : undefined;
}

/** The `code`s of an OCI error body `{"errors":[{"code":...}]}`. */
function ociErrorCodes(body: Uint8Array): string[] {
  const parsed = parseJson(body);
  if (typeof parsed !== 'object' || parsed === null) return [];
  const { errors } = parsed as { errors?: unknown };
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((entry) =>
    typeof entry === 'object' && entry !== null && typeof (entry as { code?: unknown }).code === 'string'
      ? [(entry as { code: string }).code]
      : [],
  );
}

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
