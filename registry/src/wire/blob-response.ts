import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../model/blob-store.ts';

/**
 * Sends a stored blob: the whole of it (200), or one `Range: bytes=a-b` of it (206, RFC 9110; a range that does not
 * fit is 416 with `Content-Range: bytes *\/size`). HEAD sends the headers only. Streams from disk: memory stays flat
 * whatever the size. Returns false (sending nothing) when the blob is not stored.
 */
export async function sendBlob(
  req: IncomingMessage,
  res: ServerResponse,
  blobs: BlobStore,
  digest: string,
  headers: Record<string, string> = {},
): Promise<boolean> {
  const size = blobs.size(digest);
  if (size === undefined) return false;
  const range = parseRange(req.headers.range, size);
  const base = {
    'content-type': 'application/octet-stream',
    'docker-content-digest': digest,
    'accept-ranges': 'bytes',
    etag: `"${digest}"`,
    ...headers,
  };
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...base, 'content-range': `bytes */${size}`, 'content-length': 0 });
    res.end();
    return true;
  }
  const length = range ? range.end - range.start + 1 : size;
  res.writeHead(range ? 206 : 200, {
    ...base,
    'content-length': length,
    ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${size}` } : {}),
  });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return true;
  }
  const stream = blobs.read(digest, range);
  if (!stream) {
    res.destroy();
    return true;
  }
  await pipeline(stream, res).catch(() => res.destroy());
  return true;
}

/** One `bytes=` range of a blob of `size` bytes; undefined for none (or one that is not a single byte range: send all). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    // Suffix range: the last N bytes.
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}
