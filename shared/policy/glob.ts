import { RE2JS } from 're2js';

/**
 * Name patterns, matched in time linear in the name whatever the pattern: a pattern comes from config or from ECR
 * (a scanning filter another team wrote), so it must never be able to stall a handler. No backtracking `RegExp` is
 * built from a pattern: `*`-only wildcards are matched by `wildcardMatches`, globs are compiled with RE2 (re2js).
 */

/** A compiled pattern: whether a whole string matches it. */
export interface NameMatcher {
  test(text: string): boolean;
}

/**
 * A `*`-only wildcard (ECR's `WILDCARD` filters): `*` matches any run of characters, `/` included, every other
 * character itself, and the whole text must match. The first piece must be a prefix and the last a suffix; the pieces
 * between are found in turn, each at its leftmost place after the one before (for `*` alone the leftmost place is
 * never worse than a later one). No backtracking: each piece is searched for once.
 */
export function wildcardMatches(pattern: string, text: string): boolean {
  const pieces = pattern.split('*');
  const first = pieces[0] as string;
  if (pieces.length === 1) return text === first;
  const last = pieces[pieces.length - 1] as string;
  const end = text.length - last.length;
  if (end < first.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  let at = first.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] as string;
    if (piece === '') continue;
    const found = text.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

const RE2_SPECIAL = /[\\^$.|?*+()[\]{}]/g;

/** The RE2 source of a glob, anchored by `matches` (a whole-string match). */
function globSource(glob: string): string {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === '*') {
      if (glob[i + 1] === '*') {
        i++;
        // `**/` also matches no segment at all (`a/**/b` matches `a/b`).
        if (glob[i + 1] === '/') {
          i++;
          source += '(?:.*/)?';
        } else source += '.*';
      } else source += '[^/]*';
    } else if (char === '?') source += '[^/]';
    else source += char.replace(RE2_SPECIAL, '\\$&');
  }
  return source;
}

const MAX_CACHED = 1000;

/**
 * `build`, called once per pattern and its matcher kept; the cache is emptied when it holds `MAX_CACHED` patterns,
 * so that patterns from input cannot grow it without bound.
 */
export function cachedMatchers(build: (pattern: string) => NameMatcher): (pattern: string) => NameMatcher {
  const compiled = new Map<string, NameMatcher>();
  return (pattern) => {
    let matcher = compiled.get(pattern);
    if (!matcher) {
      matcher = build(pattern);
      if (compiled.size >= MAX_CACHED) compiled.clear();
      compiled.set(pattern, matcher);
    }
    return matcher;
  };
}

/**
 * Repository-name globs: `*` matches within one path segment (no `/`), `**` matches across segments, `?` matches
 * one character. `payments/*` matches `payments/api` but not `payments/api/v2`; `payments/**` matches both.
 * Compiled once (with RE2, linear in the name) and kept.
 */
export const compileGlob = cachedMatchers((glob) => {
  const re2 = RE2JS.compile(globSource(glob));
  return { test: (text) => re2.matches(text) };
});

export function matchesAnyGlob(name: string, globs: readonly string[]): boolean {
  return globs.some((glob) => compileGlob(glob).test(name));
}
