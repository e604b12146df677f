import type { ServerResponse } from 'node:http';
import type { BusApiError } from '../bus/event-bus.ts';
import { EcrException } from './errors.ts';

/** Responses in ECR's JSON 1.1 protocol: the body encoded with as little copying as a large listing page needs. */

export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** Bodies at least this long are encoded into `outBuffer` rather than into a buffer of their own. */
const LARGE_BODY_CHARS = 16 * 1024;
/** A top-level array member at least this long is serialised element by element (see `jsonPieces`). */
const PIECEWISE_ITEMS = 64;
/** Array elements per piece: pieces of a few KB, well below the size V8 allocates apart from its young heap. */
const PIECE_ITEMS = 16;
/** Larger bodies than this get a buffer of their own, so that one huge response does not stay resident. */
const MAX_REUSED_BYTES = 4 * 1024 * 1024;
/**
 * One reused buffer for large response bodies. A fresh buffer of a few hundred KB (a DescribeImages page of 1,000
 * images is ~330 KB) is memory the kernel maps on first touch, which cost more than building the page; the reused
 * one is mapped already. It belongs to one response at a time, until that response has been handed to the socket
 * ('finish') or abandoned ('close'); another large body meanwhile gets a buffer of its own.
 */
let outBuffer: Buffer | undefined;
let outOwner: ServerResponse | undefined;

/**
 * A JSON array given as the texts of its elements, written as they are into the response: for a listing page whose
 * elements are written straight from stored records (DescribeImages). JSON.stringify of it gives the same text.
 */
export class JsonTextList {
  constructor(readonly texts: readonly string[]) {}

  toJSON(): unknown[] {
    return this.texts.map((text) => JSON.parse(text));
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null &&
  typeof value === 'object' &&
  Object.getPrototypeOf(value) === Object.prototype &&
  !('toJSON' in value);

/**
 * `JSON.stringify(body)` as consecutive pieces, when `body` is a plain object with a long array member (a page of a
 * listing); otherwise undefined. V8 builds a long JSON text as a rope that is flattened into one large fresh string
 * when it is encoded; pieces of a few elements each stay small. Same text: members in property order, members whose
 * value JSON omits (undefined, functions) left out, such array elements written as `null` (as in the slices).
 */
function jsonPieces(body: unknown): string[] | undefined {
  if (!isPlainObject(body)) return undefined;
  let long = false;
  for (const key in body) {
    const value = body[key];
    if ((Array.isArray(value) && value.length >= PIECEWISE_ITEMS) || value instanceof JsonTextList) long = true;
  }
  if (!long) return undefined;
  const pieces = ['{'];
  let separator = '';
  for (const key of Object.keys(body)) {
    const value = body[key];
    if (value instanceof JsonTextList) {
      pieces.push(`${separator}${JSON.stringify(key)}:[`);
      const texts = value.texts;
      for (let i = 0; i < texts.length; i += PIECE_ITEMS) {
        pieces.push(`${i === 0 ? '' : ','}${texts.slice(i, i + PIECE_ITEMS).join(',')}`);
      }
      pieces.push(']');
    } else if (Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype) {
      pieces.push(`${separator}${JSON.stringify(key)}:[`);
      for (let i = 0; i < value.length; i += PIECE_ITEMS) {
        // The elements of a slice, without the slice's brackets.
        const text = JSON.stringify(value.slice(i, i + PIECE_ITEMS));
        pieces.push(`${i === 0 ? '' : ','}${text.slice(1, -1)}`);
      }
      pieces.push(']');
    } else {
      const text = JSON.stringify(value);
      if (text === undefined) continue;
      pieces.push(`${separator}${JSON.stringify(key)}:${text}`);
    }
    separator = ',';
  }
  pieces.push('}');
  return pieces;
}

/** The response body: a short text as is, a long one encoded once into `outBuffer` (or a buffer of its own). */
function encodeBody(res: ServerResponse, body: unknown): Buffer | string {
  let pieces = jsonPieces(body);
  if (pieces === undefined) {
    const text = JSON.stringify(body);
    if (text.length < LARGE_BODY_CHARS) return text;
    pieces = [text];
  }
  let length = 0;
  for (const piece of pieces) length += Buffer.byteLength(piece, 'utf8');
  let target: Buffer;
  if (outOwner !== undefined || length > MAX_REUSED_BYTES) {
    target = Buffer.allocUnsafe(length);
  } else {
    if (outBuffer === undefined || outBuffer.length < length) {
      outBuffer = Buffer.allocUnsafeSlow(Math.min(MAX_REUSED_BYTES, Math.max(length, 2 * (outBuffer?.length ?? 0))));
    }
    target = outBuffer;
    outOwner = res;
    const release = () => {
      if (outOwner === res) outOwner = undefined;
    };
    res.once('finish', release);
    res.once('close', release);
  }
  let offset = 0;
  for (const piece of pieces) offset += target.write(piece, offset, 'utf8');
  return target.subarray(0, length);
}

export function send(res: ServerResponse, status: number, body: unknown, requestId: string) {
  const payload = encodeBody(res, body ?? {});
  res.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length,
    'x-amzn-requestid': requestId,
  });
  res.end(payload);
}

export function sendError(res: ServerResponse, error: EcrException | BusApiError, requestId: string) {
  const extra = error instanceof EcrException ? error.extra : {};
  send(res, error.status, { __type: error.type, message: error.message, ...extra }, requestId);
}
