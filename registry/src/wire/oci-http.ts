import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The HTTP side of the registry API (wire/distribution.ts): OCI error responses ([OCI-DIST] Error Codes), empty and
 * JSON answers, and request bodies read within limits.
 */

/** An OCI error response ([OCI-DIST] Error Codes). */
export class DistributionError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly detail?: unknown,
    /** Close the connection after answering and a short lingering read: the request body is too large to drain. */
    readonly close = false,
  ) {
    super(message);
  }
}

// Responses

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string>): void {
  res.writeHead(status, { 'content-length': 0, ...headers });
  res.end();
}

export function sendDistributionError(req: IncomingMessage, res: ServerResponse, error: DistributionError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const entry = {
    code: error.code,
    message: error.message,
    ...(error.detail === undefined ? {} : { detail: error.detail }),
  };
  const text = JSON.stringify({ errors: [entry] });
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...error.headers,
  });
  res.end(req.method === 'HEAD' ? undefined : text);
  if (error.close && !req.complete) lingerThenClose(req);
}

/** How much of a refused body is read (and discarded) after the answer, and for how long, before the connection closes. */
const LINGER_BYTES = 16 * 1024 * 1024;
const LINGER_MS = 2_000;

/**
 * Closes the connection of a request whose body is too large to drain, after a short lingering read: a client still
 * sending when the connection is reset may lose the answer (a 413) it was sent, so the registry reads on for a
 * bounded time and number of bytes first (as web servers' lingering close does).
 */
function lingerThenClose(req: IncomingMessage): void {
  let drained = 0;
  const timer = setTimeout(() => req.destroy(), LINGER_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > LINGER_BYTES) req.destroy();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

// Request bodies

/** The declared `Content-Length`, undefined when absent; a malformed one is SIZE_INVALID. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  if (!/^\d{1,16}$/.test(header)) throw new DistributionError(400, 'SIZE_INVALID', 'invalid Content-Length');
  return Number(header);
}

/** Whether the request carries a body (a non-zero length, or chunked encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = declaredLength(req);
  return length === undefined ? req.headers['transfer-encoding'] !== undefined : length > 0;
}

/** Reads a body of at most `limit` bytes; past it, 413 at once (the rest is not read: see `lingerThenClose`). */
export function readLimited(req: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const tooLarge = () =>
    new DistributionError(413, 'MANIFEST_INVALID', `The ${what} is larger than ${limit} bytes`, {}, { limit }, true);
  const length = declaredLength(req);
  if (length !== undefined && length > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge());
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('The request was closed before its body ended'));
    });
  });
}
