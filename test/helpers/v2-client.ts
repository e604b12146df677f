import { createHash } from 'node:crypto';
import { request } from 'node:http';
import type { RegistryTarget } from './skopeo.ts';
import { targetUrl } from './skopeo.ts';

/**
 * A minimal OCI Distribution (`/v2/`) client, for what skopeo cannot send: a referrer manifest PUT, a tags page with
 * `n`/`last`, the referrers API, and blobs streamed without touching the disk (the blob benchmarks). Basic auth
 * with the target's creds, as docker and skopeo send ECR's `AWS:<password>`.
 */

export interface V2Response {
  status: number;
  headers: Headers;
  body: Buffer;
}

export class V2Error extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 500)}`);
    this.name = 'V2Error';
  }
}

function authHeaders(target: RegistryTarget): Record<string, string> {
  return target.creds ? { authorization: `Basic ${Buffer.from(target.creds).toString('base64')}` } : {};
}

/** One request to `/v2/...` (path from `/v2/` on, or an absolute URL the registry gave, such as a Location). */
export async function v2Request(
  target: RegistryTarget,
  method: string,
  path: string,
  init: { body?: Buffer; headers?: Record<string, string> } = {},
): Promise<V2Response> {
  const url = new URL(path, targetUrl(target));
  const response = await fetch(url, {
    method,
    headers: { ...authHeaders(target), ...init.headers },
    body: init.body,
  });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** The `code`s of a `/v2/` error body (`{"errors":[{"code":"NAME_UNKNOWN",...}]}`), empty when it has none. */
export function errorCodes(body: Buffer | string): string[] {
  try {
    const parsed = JSON.parse(body.toString()) as { errors?: { code?: string }[] };
    return (parsed.errors ?? []).map((error) => String(error.code));
  } catch {
    return [];
  }
}

/** `POST /v2/<name>/blobs/uploads/`: the absolute upload URL of a new session. */
export async function startUpload(target: RegistryTarget, repository: string): Promise<URL> {
  const started = await v2Request(target, 'POST', `/v2/${repository}/blobs/uploads/`);
  const location = started.headers.get('location');
  if (started.status !== 202 || !location) {
    throw new V2Error(started.status, started.body.toString(), `POST /v2/${repository}/blobs/uploads/`);
  }
  return new URL(location, targetUrl(target));
}

const withDigest = (upload: URL, digest: string) => {
  const url = new URL(upload);
  url.searchParams.set('digest', digest);
  return url;
};

/** A monolithic upload (POST, then PUT of the whole blob with `?digest=`), as skopeo pushes small blobs. */
export async function pushBlob(target: RegistryTarget, repository: string, bytes: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const upload = await startUpload(target, repository);
  const put = await v2Request(target, 'PUT', withDigest(upload, digest).href, {
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new V2Error(put.status, put.body.toString(), `PUT blob ${digest}`);
  return digest;
}

/** `PUT /v2/<name>/manifests/<reference>` with the bytes as given. */
export function putManifest(
  target: RegistryTarget,
  repository: string,
  reference: string,
  bytes: Buffer,
  mediaType: string,
): Promise<V2Response> {
  return v2Request(target, 'PUT', `/v2/${repository}/manifests/${reference}`, {
    body: bytes,
    headers: { 'content-type': mediaType },
  });
}

/** `GET /v2/<name>/tags/list` with optional `n` and `last`. */
export async function tagsPage(
  target: RegistryTarget,
  repository: string,
  query: { n?: number; last?: string } = {},
): Promise<{ status: number; tags: string[]; link: string | null }> {
  const params = new URLSearchParams();
  if (query.n !== undefined) params.set('n', String(query.n));
  if (query.last !== undefined) params.set('last', query.last);
  const suffix = params.size > 0 ? `?${params}` : '';
  const response = await v2Request(target, 'GET', `/v2/${repository}/tags/list${suffix}`);
  const tags = response.status === 200 ? ((JSON.parse(response.body.toString()) as { tags: string[] }).tags ?? []) : [];
  return { status: response.status, tags, link: response.headers.get('link') };
}

/** `GET /v2/<name>/referrers/<digest>` (OCI 1.1; absent from distribution 2.8). */
export function getReferrers(target: RegistryTarget, repository: string, digest: string): Promise<V2Response> {
  return v2Request(target, 'GET', `/v2/${repository}/referrers/${digest}`, {
    headers: { accept: 'application/vnd.oci.image.index.v1+json' },
  });
}

/** Whether a registry speaks `/v2/` at all: distribution answers 200 anonymously, ECR 401 with a Basic challenge. */
export async function probeV2(url: string): Promise<{ status: number; challenge: string | null }> {
  const response = await fetch(new URL('/v2/', url));
  await response.arrayBuffer();
  return { status: response.status, challenge: response.headers.get('www-authenticate') };
}

// ---- Streaming, for blobs too large to hold in memory ----

/**
 * PUTs a blob from an iterable of chunks into an upload session, with backpressure: at most one chunk waits in
 * the socket. `size` is sent as Content-Length. Resolves when the registry answers 201.
 */
export function putBlobStream(
  target: RegistryTarget,
  upload: URL,
  digest: string,
  size: number,
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>,
): Promise<void> {
  const url = withDigest(upload, digest);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PUT',
        headers: { ...authHeaders(target), 'content-type': 'application/octet-stream', 'content-length': size },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.once('end', () => {
          if (res.statusCode === 201) resolve();
          else reject(new V2Error(res.statusCode ?? 0, Buffer.concat(parts).toString(), `PUT blob ${digest}`));
        });
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    (async () => {
      for await (const chunk of chunks) {
        if (!req.write(chunk)) await new Promise<void>((drained) => req.once('drain', drained));
      }
      req.end();
    })().catch((error: unknown) => req.destroy(error as Error));
  });
}

/** Redirects a blob GET may take: ECR answers with a redirect to storage, distribution with S3 may too. */
const MAX_REDIRECTS = 3;

/**
 * GETs a blob and hashes it as it arrives, holding no more than a socket buffer: its digest and size. Follows
 * redirects (auth only to the registry's own origin, as docker and skopeo do).
 */
export function getBlobDigest(
  target: RegistryTarget,
  repository: string,
  digest: string,
): Promise<{ digest: string; size: number }> {
  const origin = new URL(targetUrl(target)).origin;
  const get = (url: URL, hops: number): Promise<{ digest: string; size: number }> =>
    new Promise((resolve, reject) => {
      const headers = url.origin === origin ? authHeaders(target) : {};
      const req = request(url, { method: 'GET', headers }, (res) => {
        const status = res.statusCode ?? 0;
        if ([301, 302, 303, 307, 308].includes(status) && res.headers.location && hops < MAX_REDIRECTS) {
          res.resume();
          resolve(get(new URL(res.headers.location, url), hops + 1));
          return;
        }
        if (status !== 200) {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.once('end', () => reject(new V2Error(status, Buffer.concat(parts).toString(), `GET blob ${digest}`)));
          return;
        }
        const hash = createHash('sha256');
        let size = 0;
        res.on('data', (part: Buffer) => {
          hash.update(part);
          size += part.length;
        });
        res.once('end', () => resolve({ digest: `sha256:${hash.digest('hex')}`, size }));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.end();
    });
  return get(new URL(`/v2/${repository}/blobs/${digest}`, origin), 0);
}
