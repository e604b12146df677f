import { RE2JS } from 're2js';
import type { NameMatcher } from './glob.ts';

/**
 * Regular expressions from config (`{ "regex": ... }` tag patterns) use RE2 syntax and are compiled with re2js, which
 * matches in time linear in the text: a pattern such as `(a+)+b` cannot stall a handler. RE2 has no backreferences
 * and no lookaround; `regexProblem` says so at config load, naming what it refused.
 */

const MAX_CACHED = 1000;
const compiled = new Map<string, NameMatcher>();

/** Why RE2 refuses a regular expression (`invalid or unsupported Perl syntax: \`(?=\``), or undefined when it compiles. */
export function regexProblem(source: string): string | undefined {
  try {
    RE2JS.compile(source);
    return undefined;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).replace(/^error parsing regexp: /, '');
  }
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
