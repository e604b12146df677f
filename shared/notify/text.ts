import prettyBytes from 'pretty-bytes';

/**
 * The text of a notification, every piece of which comes from an event (hostile input): one line per value, control
 * and invisible formatting characters removed, each value and list bounded, the subject as SNS takes it.
 */

/** SNS: a subject is ASCII, has no line breaks or control characters, and is less than 100 characters. */
export const MAX_SUBJECT_CHARS = 99;
/**
 * The message is at most this many bytes of UTF-8: a quarter of SNS's 256 KB (which counts the attributes too), and
 * far more than a message of bounded lists needs; a longer one is cut at a line and says so.
 */
export const MAX_MESSAGE_BYTES = 65_536;
/** A list shows at most this many lines, then "and N more". */
export const MAX_LIST_LINES = 20;
/** A value from the event shows at most this many characters. */
export const MAX_VALUE_CHARS = 200;

/**
 * Control characters (C0, C1, DEL), format characters (zero-width, bidirectional overrides and isolates, the
 * byte-order mark, the soft hyphen), line and paragraph separators, and lone surrogates (not UTF-8): characters that
 * break a line, hide text or reorder it (a "Trojan source" subject), or that SNS refuses.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]+/gu;

/** One line of at most `max` characters of `value`: unsafe characters become a space, runs of spaces one. */
export function clean(value: unknown, max = MAX_VALUE_CHARS): string {
  const text = typeof value === 'string' ? value : String(value);
  // Only what can be shown is read: a megabyte of text costs no more than a few hundred characters.
  const head = text.length > max * 4 ? text.slice(0, max * 4) : text;
  const line = head.replace(UNSAFE, ' ').replace(/ {2,}/g, ' ').trim();
  const chars = [...line];
  return chars.length > max || head.length < text.length ? `${chars.slice(0, max - 1).join('')}…` : line;
}

/** A subject SNS accepts: printable ASCII only (others become `?`), one line, at most MAX_SUBJECT_CHARS. */
export function subjectOf(text: string): string {
  const ascii = clean(text, MAX_SUBJECT_CHARS * 2).replace(/[^\x20-\x7e]/g, '?');
  const subject = ascii.length > MAX_SUBJECT_CHARS ? `${ascii.slice(0, MAX_SUBJECT_CHARS - 3)}...` : ascii;
  // SNS wants it to begin with a letter, a number or punctuation: never a space.
  return subject.trim() === '' ? 'ecr-automation notification' : subject.trim();
}

/** `2.6 TiB`: bytes in binary units, as the CLI prints them. */
export const bytes = (count: number) => prettyBytes(count, { binary: true, maximumFractionDigits: 1 });

/** `1,234`. */
export const count = (value: number) => value.toLocaleString('en-US');

/** `1 image`, `3 images`. */
export const plural = (value: number, one: string, many = `${one}s`) => `${count(value)} ${value === 1 ? one : many}`;

/** At most MAX_LIST_LINES lines of `items` as `- line`, then `- and N more` counting `total` (default: all items). */
export function list<T>(items: readonly T[], line: (item: T) => string, total = items.length): string[] {
  const shown = items.slice(0, MAX_LIST_LINES).map((item) => `- ${line(item)}`);
  const more = Math.max(total, items.length) - shown.length;
  return more > 0 ? [...shown, `- and ${count(more)} more`] : shown;
}

/** A titled list, or nothing when the list is empty. */
export function section<T>(title: string, items: readonly T[], line: (item: T) => string, total?: number): string[] {
  if (items.length === 0 && (total ?? 0) === 0) return [];
  return ['', `${title}:`, ...list(items, line, total)];
}

/** The lines joined, at most MAX_MESSAGE_BYTES of UTF-8: a longer message is cut at a line and says so. */
export function messageOf(lines: readonly string[]): string {
  const encoder = new TextEncoder();
  const notice = '(The message was shortened: the report has the rest.)';
  const budget = MAX_MESSAGE_BYTES - encoder.encode(`\n${notice}`).byteLength;
  const kept: string[] = [];
  let size = 0;
  for (const line of lines) {
    const lineBytes = encoder.encode(line).byteLength + 1;
    if (size + lineBytes > budget) return [...kept, notice].join('\n');
    kept.push(line);
    size += lineBytes;
  }
  return kept.join('\n');
}

/** A link to an object of the reports bucket: its `s3://` URI, and in the `aws` partition the console's page. */
export function objectLinks(bucket: string, key: string, region: string): string[] {
  const uri = `s3://${bucket}/${key}`;
  // The console of the aws partition; China and GovCloud have consoles of their own, so only the URI is given there.
  if (region.startsWith('cn-') || region.startsWith('us-gov-') || region.startsWith('us-iso')) return [uri];
  const query = new URLSearchParams({ region, bucketType: 'general', prefix: key });
  return [uri, `https://${region}.console.aws.amazon.com/s3/object/${encodeURIComponent(bucket)}?${query.toString()}`];
}
