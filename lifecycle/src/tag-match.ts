/**
 * Tag selection of a lifecycle rule: `tagPatternList` entries with `*` wildcards (anchored at both ends, `*` matching
 * any run of characters, nothing else special) and `tagPrefixList` entries. Patterns come from policy documents, so
 * a match never backtracks: the literal pieces between wildcards are found left to right with a Knuth–Morris–Pratt
 * search, and the earliest occurrence of each piece is always the right one to take, which makes a match linear in
 * the length of the tag plus the length of the pattern.
 */

/** A literal piece of a pattern with its KMP failure table. */
interface Piece {
  readonly text: string;
  readonly failure: Int32Array;
}

/** A compiled `tagPatternList` entry. */
export interface TagPattern {
  readonly source: string;
  /** The literal before the first `*` (the whole pattern when it has none). */
  readonly head: string;
  /** The literal after the last `*`; undefined when the pattern has no `*`. */
  readonly tail: string | undefined;
  /** The non-empty literals between wildcards, in order. */
  readonly middle: readonly Piece[];
}

function failureTable(text: string): Int32Array {
  const table = new Int32Array(text.length);
  let matched = 0;
  for (let index = 1; index < text.length; index++) {
    while (matched > 0 && text.charCodeAt(index) !== text.charCodeAt(matched)) matched = table[matched - 1] as number;
    if (text.charCodeAt(index) === text.charCodeAt(matched)) matched++;
    table[index] = matched;
  }
  return table;
}

/** The index just after the first occurrence of `piece` in `text[from, to)`, or -1. */
function findAfter(piece: Piece, text: string, from: number, to: number): number {
  const { text: needle, failure } = piece;
  let matched = 0;
  for (let index = from; index < to; index++) {
    const code = text.charCodeAt(index);
    while (matched > 0 && code !== needle.charCodeAt(matched)) matched = failure[matched - 1] as number;
    if (code === needle.charCodeAt(matched)) matched++;
    if (matched === needle.length) return index + 1;
  }
  return -1;
}

export function compileTagPattern(source: string): TagPattern {
  const parts = source.split('*');
  if (parts.length === 1) return { source, head: source, tail: undefined, middle: [] };
  const middle = parts
    .slice(1, -1)
    .filter((part) => part !== '')
    .map((text) => ({ text, failure: failureTable(text) }));
  return { source, head: parts[0] as string, tail: parts[parts.length - 1] as string, middle };
}

/** Whether the whole tag matches the pattern. */
export function tagMatchesPattern(pattern: TagPattern, tag: string): boolean {
  const { head, tail, middle } = pattern;
  if (tail === undefined) return tag === head;
  if (tag.length < head.length + tail.length || !tag.startsWith(head) || !tag.endsWith(tail)) return false;
  // The pieces must fit, in order and without overlapping, between the head and the tail.
  let position = head.length;
  const end = tag.length - tail.length;
  for (const piece of middle) {
    position = findAfter(piece, tag, position, end);
    if (position < 0) return false;
  }
  return true;
}

/** A rule's tag selection, compiled once per evaluation. */
export type TagSelector = (tags: readonly string[]) => boolean;

/**
 * `tagPatternList`: every pattern matches at least one of the image's tags (not necessarily the same one) [UG-LCP:
 * "If you specify multiple tags, only the images with all specified tags are selected"].
 */
export function patternSelector(patterns: readonly string[]): TagSelector {
  const compiled = patterns.map(compileTagPattern);
  return (tags) => compiled.every((pattern) => tags.some((tag) => tagMatchesPattern(pattern, tag)));
}

/** `tagPrefixList`: every prefix begins at least one of the image's tags. */
export function prefixSelector(prefixes: readonly string[]): TagSelector {
  return (tags) => prefixes.every((prefix) => tags.some((tag) => tag.startsWith(prefix)));
}
