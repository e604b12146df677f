import { MEDIA_TYPES } from './manifests.ts';

/**
 * A compact form of ASCII manifest text, exact to the character: runs of lowercase hex (digests) become their raw
 * bytes, and the text manifests repeat (keys, media types, indentation) becomes one-byte tokens; everything else is
 * kept as is. A 1 KB image manifest packs to about 230 bytes (zlib with a preset dictionary gave ~310) in a few µs
 * either way. Manifests it cannot carry (a character outside printable ASCII, tab, LF and CR) are left to the caller.
 *
 * Packed form, one byte per character: a byte below 0x80 other than HEX_RUN is itself; HEX_RUN, then a count n
 * (1–255), then n raw bytes, is 2n hex digits; a byte from 0x80 on is TOKENS[byte - 0x80].
 */

const HEX_RUN = 0x01;
/** Shorter hex runs (a size of 4 digits, a word like `added`) stay literal: a run costs two bytes more than its bytes. */
const MIN_HEX_DIGITS = 8;
const MAX_RUN_BYTES = 255;

const keys = ['schemaVersion', 'mediaType', 'config', 'layers', 'manifests', 'digest', 'size', 'platform'];
const moreKeys = ['architecture', 'os', 'annotations', 'subject', 'artifactType', 'urls', 'variant'];
/** Longest first where one token starts another, so that the first match found at a position is the longest. */
const TOKENS: readonly string[] = [
  ...Object.values(MEDIA_TYPES).map((type) => `"${type}"`),
  'application/vnd.',
  ...keys.map((key) => `"${key}": `),
  ...keys.map((key) => `"${key}":`),
  ...moreKeys.map((key) => `"${key}": `),
  '"sha256:',
  '"org.opencontainers.image.',
  '"amd64"',
  '"arm64"',
  '"linux"',
  ...[12, 10, 8, 6, 4, 2].map((indent) => `\n${' '.repeat(indent)}`),
  ...[5, 4, 3, 2, 1].map((indent) => `\n${'\t'.repeat(indent)}`),
  '\n',
].sort((a, b) => b.length - a.length);
if (TOKENS.length > 0x80) throw new Error('manifest codec: more than 128 tokens');

/** Tokens by their first two character codes (`first * 0x80 + second`), longest first. */
const TOKENS_BY_START: (number[] | undefined)[] = new Array(0x80 * 0x80);
/** The one-character tokens by their character code. */
const SINGLE_TOKEN = new Int16Array(0x80).fill(-1);
TOKENS.forEach((token, index) => {
  if (token.length === 1) {
    SINGLE_TOKEN[token.charCodeAt(0)] = index;
    return;
  }
  const start = token.charCodeAt(0) * 0x80 + token.charCodeAt(1);
  const bucket = TOKENS_BY_START[start] ?? [];
  bucket.push(index);
  TOKENS_BY_START[start] = bucket;
});

/** Value of a lowercase hex digit, -1 for anything else. */
const HEX_VALUE = new Int8Array(0x10000).fill(-1);
for (let digit = 0; digit < 16; digit++) HEX_VALUE[digit.toString(16).charCodeAt(0)] = digit;
const hexValue = (code: number) => HEX_VALUE[code] as number;
const HEX_PAIRS = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** Whether a character may stand for itself in the packed form. */
const literal = (code: number) => (code >= 0x20 && code < 0x80) || code === 0x09 || code === 0x0a || code === 0x0d;

let scratch = Buffer.allocUnsafe(4_096);

/** The packed form of `text` as a one-byte string, or undefined when `text` has a character the codec cannot carry. */
export function encodeManifest(text: string): string | undefined {
  const length = text.length;
  // Never larger than the text plus a run header per 8 digits, bounded by length + 1.
  if (scratch.length < length + 8) scratch = Buffer.allocUnsafe(Math.max(length + 8, 2 * scratch.length));
  const out = scratch;
  let at = 0;
  let i = 0;
  while (i < length) {
    const code = text.charCodeAt(i);
    if (hexValue(code) >= 0) {
      let end = i + 1;
      while (end < length && hexValue(text.charCodeAt(end)) >= 0) end++;
      let digits = (end - i) & ~1;
      if (digits >= MIN_HEX_DIGITS) {
        while (digits > 0) {
          const bytes = Math.min(MAX_RUN_BYTES, digits >> 1);
          out[at++] = HEX_RUN;
          out[at++] = bytes;
          for (let k = 0; k < bytes; k++, i += 2) {
            out[at++] = (hexValue(text.charCodeAt(i)) << 4) | hexValue(text.charCodeAt(i + 1));
          }
          digits -= bytes * 2;
        }
        continue;
      }
    }
    if (!literal(code)) return undefined;
    const next = i + 1 < length ? text.charCodeAt(i + 1) : 0;
    const candidates = next < 0x80 ? TOKENS_BY_START[code * 0x80 + next] : undefined;
    let matched = -1;
    if (candidates !== undefined) {
      for (const index of candidates) {
        if (text.startsWith(TOKENS[index] as string, i)) {
          matched = index;
          break;
        }
      }
    }
    if (matched < 0) matched = SINGLE_TOKEN[code] as number;
    if (matched >= 0) {
      out[at++] = 0x80 + matched;
      i += (TOKENS[matched] as string).length;
      continue;
    }
    out[at++] = code;
    i++;
  }
  return out.toString('latin1', 0, at);
}

/** The text `encodeManifest` packed. */
export function decodeManifest(packed: string): string {
  const parts: string[] = [];
  let runStart = 0;
  let i = 0;
  const length = packed.length;
  while (i < length) {
    const code = packed.charCodeAt(i);
    if (code !== HEX_RUN && code < 0x80) {
      i++;
      continue;
    }
    if (i > runStart) parts.push(packed.slice(runStart, i));
    if (code === HEX_RUN) {
      const bytes = packed.charCodeAt(i + 1);
      let hex = '';
      for (let k = 0; k < bytes; k++) hex += HEX_PAIRS[packed.charCodeAt(i + 2 + k)];
      parts.push(hex);
      i += 2 + bytes;
    } else {
      parts.push(TOKENS[code - 0x80] as string);
      i++;
    }
    runStart = i;
  }
  if (length > runStart) parts.push(packed.slice(runStart));
  return parts.join('');
}
