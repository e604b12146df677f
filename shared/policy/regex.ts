import { RE2JS } from 're2js';
import type { NameMatcher } from './glob.ts';

/**
 * Regular expressions from config (`{ "regex": ... }` tag patterns) use RE2 syntax and are compiled with re2js, which
 * matches in time linear in the text: a pattern such as `(a+)+b` cannot stall a handler. RE2 has no backreferences
 * and no lookaround; `regexProblem` says so at config load, naming what it refused.
 */

/**
 * The largest program (RE2's measure of a pattern's cost) a config regex may compile to. Matching is linear in the
 * text but proportional to the program too: `(?:a{1,30}){1,30}b` compiles to 1,802 instructions and took about
 * 100 ms per 128-character tag. Real tag patterns take tens of instructions (`v\d+\.\d+\.\d+`: 11).
 */
export const MAX_REGEX_PROGRAM_SIZE = 1000;

const MAX_CACHED = 1000;
const compiled = new Map<string, NameMatcher>();

/** Why a regular expression is refused (RE2 cannot compile it, or it is too large), or undefined when it is fine. */
export function regexProblem(source: string): string | undefined {
  let size: number;
  try {
    size = RE2JS.compile(source).programSize();
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/^error parsing regexp: /, '');
    return `not a regular expression in RE2 syntax (no backreferences, no lookaround): ${reason}`;
  }
  return size > MAX_REGEX_PROGRAM_SIZE
    ? `too large: it compiles to ${size} RE2 instructions, at most ${MAX_REGEX_PROGRAM_SIZE} (use fewer or smaller counted repetitions)`
    : undefined;
}

/** A regular expression (RE2 syntax) that must match the whole text; compiled once and kept. Throws when invalid. */
export function compileRegex(source: string): NameMatcher {
  let matcher = compiled.get(source);
  if (!matcher) {
    const re2 = RE2JS.compile(source);
    matcher = { test: (text) => re2.matches(text) };
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(source, matcher);
  }
  return matcher;
}
