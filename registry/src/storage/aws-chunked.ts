import { S3Error } from './state.ts';

/**
 * The `aws-chunked` content encoding S3 clients send a streamed body in (the AWS SDKs for JavaScript v3 send PutObject
 * this way by default, with a CRC32 checksum as a trailer): chunks of `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`,
 * a last chunk of size 0, then trailing headers (`x-amz-checksum-crc32:<base64>`, `x-amz-trailer-signature:...`), one
 * a line, and an empty line. Chunk signatures are not checked (no signature is).
 */
export interface DecodedChunks {
  body: Buffer;
  /** Trailing headers, names in lowercase. */
  trailers: Record<string, string>;
}

/** Longest chunk header or trailer line read. */
const MAX_LINE = 4096;
/** Most trailing headers read. */
const MAX_TRAILERS = 16;

const malformed = (why: string) =>
  new S3Error('IncompleteBody', `The aws-chunked request body is malformed: ${why}`, 400);

/** Decodes an `aws-chunked` body; a framing error is IncompleteBody (400). */
export function decodeAwsChunked(raw: Buffer): DecodedChunks {
  const parts: Buffer[] = [];
  let at = 0;
  const line = (): string => {
    const end = raw.indexOf('\r\n', at);
    if (end < 0 || end - at > MAX_LINE) throw malformed('a chunk header or trailer line does not end');
    const text = raw.toString('latin1', at, end);
    at = end + 2;
    return text;
  };
  for (;;) {
    const header = line();
    const sizeText = (header.split(';', 1)[0] ?? '').trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw malformed(`the chunk size '${sizeText.slice(0, 16)}' is not hex`);
    const size = Number.parseInt(sizeText, 16);
    if (size === 0) break;
    if (at + size + 2 > raw.length) throw malformed('a chunk is shorter than its size');
    parts.push(raw.subarray(at, at + size));
    at += size;
    if (raw[at] !== 0x0d || raw[at + 1] !== 0x0a) throw malformed('a chunk does not end with CRLF');
    at += 2;
  }
  const trailers: Record<string, string> = {};
  let count = 0;
  while (at < raw.length) {
    const text = line();
    if (text === '') break;
    if (++count > MAX_TRAILERS) throw malformed('too many trailing headers');
    const colon = text.indexOf(':');
    if (colon <= 0) throw malformed('a trailing header has no name');
    trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
  }
  return { body: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), trailers };
}
