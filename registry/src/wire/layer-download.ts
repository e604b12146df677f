import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlobStore } from '../model/blob-store.ts';
import { sendBlob } from './blob-response.ts';

/**
 * The layer downloads GetDownloadUrlForLayer hands out. ECR answers a pre-signed S3 URL that needs no credentials and
 * expires; the local registry answers a URL of its own address under `LAYER_DOWNLOAD_PREFIX`, signed the same way in
 * spirit: `X-Amz-Date` (when it was issued, registry time) and `X-Amz-Expires` (seconds) are covered by an HMAC-SHA256
 * `X-Amz-Signature` with a key of the running server, so a URL cannot be forged, altered or used once expired. A
 * refusal is an S3-style XML error (403), as the bucket behind ECR's URL answers.
 */

/** Path of a layer download: `/_layer-downloads/<digest>?X-Amz-Date=…&X-Amz-Expires=…&X-Amz-Signature=…`. */
export const LAYER_DOWNLOAD_PREFIX = '/_layer-downloads/';
/** How long a URL is valid: one hour, the `X-Amz-Expires=3600` of the URLs ECR hands out. */
export const LAYER_URL_TTL_SECONDS = 3_600;
/** Longest query string a download may have (the registry's own are ~150 characters). */
const MAX_QUERY_CHARS = 1_024;
/** `YYYYMMDDTHHMMSSZ`, as S3's `X-Amz-Date`. */
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const amzDate = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

const signatureOf = (key: Buffer, digest: string, date: string, expires: string) =>
  createHmac('sha256', key).update(`layer-download\n${digest}\n${date}\n${expires}`).digest();

/** A download URL of `digest`, issued at `now` (registry time, epoch ms) and valid for `LAYER_URL_TTL_SECONDS`. */
export function layerDownloadUrl(endpoint: string, key: Buffer, digest: string, now: number): string {
  const date = amzDate(now);
  const expires = String(LAYER_URL_TTL_SECONDS);
  const signature = signatureOf(key, digest, date, expires).toString('hex');
  return `${endpoint}${LAYER_DOWNLOAD_PREFIX}${digest}?X-Amz-Date=${date}&X-Amz-Expires=${expires}&X-Amz-Signature=${signature}`;
}

function sendS3Error(res: ServerResponse, method: string | undefined, status: number, code: string, message: string) {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) });
  res.end(method === 'HEAD' ? undefined : text);
}

/**
 * Answers a request under `LAYER_DOWNLOAD_PREFIX`: the blob (GET or HEAD, with `Range`) when the signature is the
 * registry's and the URL has not expired by `now` (registry time), else an S3-style error.
 */
export async function serveLayerDownload(
  req: IncomingMessage,
  res: ServerResponse,
  options: { blobs: BlobStore; key: Buffer; now: number },
): Promise<void> {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') {
    sendS3Error(res, method, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    return;
  }
  const url = req.url ?? '';
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  const query = queryAt < 0 ? '' : url.slice(queryAt + 1);
  let digest: string;
  try {
    digest = decodeURIComponent(path.slice(LAYER_DOWNLOAD_PREFIX.length));
  } catch {
    digest = '';
  }
  const params = query.length <= MAX_QUERY_CHARS ? new URLSearchParams(query) : new URLSearchParams();
  const date = params.get('X-Amz-Date');
  const expires = params.get('X-Amz-Expires');
  const signature = params.get('X-Amz-Signature');
  if (date === null || expires === null || signature === null) {
    sendS3Error(
      res,
      method,
      403,
      'AccessDenied',
      'Query-string authentication requires the X-Amz-Date, X-Amz-Expires and X-Amz-Signature parameters',
    );
    return;
  }
  const expected = signatureOf(options.key, digest, date, expires);
  const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    sendS3Error(
      res,
      method,
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
    return;
  }
  // Signed by this server, so both are its own well-formed values.
  const [, year, month, day, hour, minute, second] = AMZ_DATE.exec(date) ?? [];
  const issuedAt = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  if (!(options.now < issuedAt + Number(expires) * 1000)) {
    sendS3Error(res, method, 403, 'AccessDenied', 'Request has expired');
    return;
  }
  if (!(await sendBlob(req, res, options.blobs, digest))) {
    sendS3Error(res, method, 404, 'NoSuchKey', 'The specified key does not exist.');
  }
}
