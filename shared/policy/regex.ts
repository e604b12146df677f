import { RE2JS } from 're2js';
import { cachedMatchers, type NameMatcher } from './glob.ts';

/**
 * Regular expressions from config (`{ "regex": ... }` tag patterns) use RE2 syntax and are compiled with re2js, which
 * matches in time linear in the text: a pattern such as `(a+)+b` cannot stall a handler. RE2 has no backreferences
 * and no lookaround; `regexProblem` says so at config load, naming what it refused.
 */

/**
 * The largest program (RE2's measure of a pattern's cost) a config regex may compile to. Matching is linear in the
 * text but proportional to the program too: `(?:a{1,30}){1,30}b` compiles to 1,802 instructions and took about
 * 100 ms per 128-character tag; compiling and a first match take about 1 µs per instruction each, and several ms for
 * a program of 1,000 on a loaded machine. Real tag patterns take tens of instructions (`v\d+\.\d+\.\d+`: 11, the
 * semver.org pattern 65), and a class counted over a whole 128-character tag (`[a-z0-9]{1,128}`) 257. It is also
 * re2js's threshold for its bit-state backtracker, which `buildRegex` relies on: above it, matching falls back to the
 * slower (still linear) NFA.
 */
export const MAX_REGEX_PROGRAM_SIZE = 500;

/**
 * The most Unicode classes (`\p{...}`, `\P{...}`, `\pL`) a config regex may use, each counted as many times as its
 * repetitions copy it. Each is a table of hundreds of ranges that RE2 builds while parsing (and case-folds under
 * `(?i)`), then copies into every instruction that tests it, before any size shows: sixty `\pL` under `(?i)` compile
 * to 62 instructions but took 5 to 10 ms; `[\p{L}\p{N}]{1,499}` compiled twice as slowly as
 * `[a-z]{1,499}`. Tags are ASCII, so a tag regex hardly needs one.
 */
export const MAX_REGEX_UNICODE_CLASSES = 16;

/** The longest config regex (the config schema's bound too): `regexSizeBound` and the compile stay short. */
export const MAX_REGEX_LENGTH = 256;

/** Sizes saturate here, so that `{0}` after a huge body stays a number. */
const SATURATED = 1e9;
const cap = (size: number) => Math.min(size, SATURATED);

/** A group being scanned: its finished alternatives, the current one, and the last atom (a quantifier's operand). */
interface Frame {
  readonly capture: boolean;
  /** Sizes of the finished alternatives; a run of single characters counts once (RE2 makes it one class). */
  alternatives: number;
  branches: number;
  /** Whether the alternative finished last was a single character (it may join the next one's class). */
  lastBranchSingle: boolean;
  /** The current alternative, without its last atom. */
  concat: number;
  atoms: number;
  last: number | undefined;
  /** Unicode classes, as `alternatives`, `concat` and `last` count instructions. */
  alternativesTables: number;
  concatTables: number;
  lastTables: number;
  /** Whether the last atom is a single character or class, without a quantifier. */
  lastSingle: boolean;
}

const newFrame = (capture: boolean): Frame => ({
  capture,
  alternatives: 0,
  branches: 0,
  lastBranchSingle: false,
  concat: 0,
  atoms: 0,
  last: undefined,
  lastSingle: false,
  alternativesTables: 0,
  concatTables: 0,
  lastTables: 0,
});

function addAtom(frame: Frame, size: number, single: boolean, tables = 0): void {
  frame.concat = cap(frame.concat + (frame.last ?? 0));
  frame.concatTables = cap(frame.concatTables + frame.lastTables);
  frame.atoms += 1;
  frame.last = size;
  frame.lastSingle = single;
  frame.lastTables = tables;
}

function endBranch(frame: Frame): void {
  const single = frame.atoms === 1 && frame.lastSingle;
  const size = Math.max(1, cap(frame.concat + (frame.last ?? 0)));
  // Adjacent single-character alternatives merge into one class: `a|b|[cd]` is one instruction.
  if (!(single && frame.lastBranchSingle)) {
    frame.alternatives = cap(frame.alternatives + size);
    frame.branches += 1;
  }
  frame.alternativesTables = cap(frame.alternativesTables + frame.concatTables + frame.lastTables);
  frame.lastBranchSingle = single;
  frame.concat = 0;
  frame.atoms = 0;
  frame.last = undefined;
  frame.lastSingle = false;
  frame.concatTables = 0;
  frame.lastTables = 0;
}

/** A regex's measure: an upper bound of its program's size, and its Unicode classes as repetitions copy them. */
export interface RegexMeasure {
  readonly size: number;
  readonly unicodeClasses: number;
}

/** The measure of a finished group: its alternatives, one instruction per split, two for a capture. */
function endGroup(frame: Frame): RegexMeasure {
  endBranch(frame);
  return {
    size: cap(frame.alternatives + (frame.branches - 1) + (frame.capture ? 2 : 0)),
    unicodeClasses: frame.alternativesTables,
  };
}

/** The size of `body` repeated `{min,max}` times (`max` -1: unbounded), as RE2 expands it. */
function repeated(body: number, min: number, max: number): number {
  if (max === -1) return min === 0 ? cap(body + 2) : cap(min * body + 1);
  return Math.max(1, cap(max * body + (max - min)));
}

const DIGIT = /[0-9]/;
/** `(?:`, `(?flags:`, and the lookarounds RE2 refuses (`(?=`, `(?!`, `(?<=`, `(?<!`): groups that do not capture. */
const GROUP_OPENING = /^\(\?(?:[imsU-]*:|=|!|<=|<!)/;
const HEX = /[0-9A-Fa-f]/;

/** `{n}`, `{n,}` or `{n,m}` at `at`: the counts and the index after `}`, or undefined (then `{` is a literal). */
function countedRepetition(source: string, at: number): { min: number; max: number; end: number } | undefined {
  let i = at + 1;
  const number = () => {
    const start = i;
    while (i < source.length && DIGIT.test(source[i] as string)) i++;
    return i === start ? undefined : Math.min(Number(source.slice(start, Math.min(i, start + 10))), SATURATED);
  };
  const min = number();
  if (min === undefined) return undefined;
  let max = min;
  if (source[i] === ',') {
    i++;
    max = source[i] === '}' ? -1 : (number() ?? Number.NaN);
    if (Number.isNaN(max)) return undefined;
  }
  return source[i] === '}' ? { min, max, end: i + 1 } : undefined;
}

/** The index after the `}` that closes a `{` at `at` (as in `\p{Greek}`, `\x{10FFFF}`), or the end. */
function afterBrace(source: string, at: number): number {
  const close = source.indexOf('}', at);
  return close < 0 ? source.length : close + 1;
}

/**
 * The index after the `]` that closes a class opened at `at`, as RE2 reads it (`[]a]`, `[^]a]`, `[[:alpha:]]`), and
 * the Unicode classes in it.
 */
function afterClass(source: string, at: number): [end: number, unicodeClasses: number] {
  let tables = 0;
  let i = at + 1;
  if (source[i] === '^') i++;
  if (source[i] === ']') i++;
  while (i < source.length && source[i] !== ']') {
    if (source[i] === '\\') {
      const kind = source[i + 1];
      if (kind === 'p' || kind === 'P') tables++;
      i = (kind === 'p' || kind === 'P' || kind === 'x') && source[i + 2] === '{' ? afterBrace(source, i + 2) : i + 2;
    } else if (source.startsWith('[:', i)) {
      const close = source.indexOf(':]', i + 2);
      i = close < 0 ? i + 1 : close + 2;
    } else i++;
  }
  return [Math.min(i + 1, source.length), tables];
}

/**
 * An upper bound of the number of instructions RE2 compiles `source` to, found in one pass over the source without
 * building anything: RE2's own size measure (each character, class and assertion 1, a repetition's body counted as
 * many times as it may repeat, one instruction per split, two per capture, two for the program's start and end),
 * with runs of single-character alternatives counted as one class, as RE2 merges them. For nested counted
 * repetitions (`(?:a{1,30}){1,30}b`: 1,802) it is the program's size; it is larger where RE2 factors alternatives
 * (`ab|ac` into `a[bc]`). Syntax RE2 refuses is measured as best it can be; the compile refuses it.
 */
export function regexSizeBound(source: string): number {
  return measureRegex(source).size;
}

/** `regexSizeBound`, and the Unicode classes (`\p`, `\P`) counted as many times as repetitions copy them. */
export function measureRegex(source: string): RegexMeasure {
  const stack: Frame[] = [newFrame(false)];
  const top = () => stack[stack.length - 1] as Frame;
  const quantify = (min: number, max: number) => {
    const frame = top();
    if (frame.last === undefined) return; // Nothing to repeat: RE2 refuses it.
    frame.last = repeated(frame.last, min, max);
    frame.lastTables = cap(frame.lastTables * (max === -1 ? Math.max(min, 1) : max));
    frame.lastSingle = false;
  };
  let i = 0;
  while (i < source.length) {
    const char = source[i] as string;
    switch (char) {
      case '(': {
        if (source[i + 1] !== '?') {
          stack.push(newFrame(true));
          i++;
          break;
        }
        // `(?flags)` sets flags (nothing to count); `(?flags:`, `(?:`, lookarounds are groups; named groups capture.
        const flags = /^\(\?[imsU-]*\)/.exec(source.slice(i, i + 16));
        if (flags) {
          i += flags[0].length;
          break;
        }
        const opening = GROUP_OPENING.exec(source.slice(i, i + 16));
        if (opening) {
          stack.push(newFrame(false));
          i += opening[0].length;
          break;
        }
        const named = /^\(\?P?<[^>=!]/.test(source.slice(i, i + 5));
        stack.push(newFrame(named));
        // `(?P<name>`: the name up to `>`; anything else after `(?` RE2 refuses.
        const close = named ? source.indexOf('>', i) : -1;
        i = close < 0 ? i + 2 : close + 1;
        break;
      }
      case ')': {
        if (stack.length > 1) {
          const group = endGroup(stack.pop() as Frame);
          addAtom(top(), group.size, false, group.unicodeClasses);
        }
        i++;
        break;
      }
      case '|':
        endBranch(top());
        i++;
        break;
      case '*':
      case '+':
      case '?':
        // One split each; `repeated` counts `*` as 2, as RE2's parser does (an over-count by one).
        quantify(char === '+' ? 1 : 0, char === '?' ? 1 : -1);
        i++;
        if (source[i] === '?') i++; // non-greedy
        break;
      case '{': {
        const counts = countedRepetition(source, i);
        if (counts) {
          quantify(counts.min, counts.max);
          i = counts.end;
          if (source[i] === '?') i++;
        } else {
          addAtom(top(), 1, true);
          i++;
        }
        break;
      }
      case '[': {
        const [end, tables] = afterClass(source, i);
        addAtom(top(), 1, true, tables);
        i = end;
        break;
      }
      case '\\': {
        const kind = source[i + 1];
        if (kind === 'Q') {
          // `\Q...\E`: each character a literal.
          const end = source.indexOf('\\E', i + 2);
          const stop = end < 0 ? source.length : end;
          for (let j = i + 2; j < stop; j++) addAtom(top(), 1, true);
          i = end < 0 ? source.length : end + 2;
        } else if ((kind === 'p' || kind === 'P' || kind === 'x') && source[i + 2] === '{') {
          addAtom(top(), 1, true, kind === 'x' ? 0 : 1);
          i = afterBrace(source, i + 2);
        } else if (kind === 'x') {
          // `\xHH`: one character.
          addAtom(top(), 1, true);
          i += 2;
          for (let digits = 0; digits < 2 && HEX.test(source[i] ?? ''); digits++) i++;
        } else {
          // `\d`, `\pL`, `\b`, `\A`, an escaped character: one instruction (a following octal digit counts apart).
          const unicode = kind === 'p' || kind === 'P' ? 1 : 0;
          addAtom(top(), 1, kind !== 'A' && kind !== 'z' && kind !== 'b' && kind !== 'B' && kind !== 'E', unicode);
          i += kind === 'p' || kind === 'P' ? 3 : 2;
        }
        break;
      }
      case '^':
      case '$':
        addAtom(top(), 1, false);
        i++;
        break;
      default:
        // A literal character (a surrogate pair is one rune: counting it twice only over-counts) or `.`.
        addAtom(top(), 1, true);
        i++;
    }
  }
  while (stack.length > 1) {
    const group = endGroup(stack.pop() as Frame);
    addAtom(top(), group.size, false, group.unicodeClasses);
  }
  const whole = endGroup(stack[0] as Frame);
  return { size: cap(whole.size + 2), unicodeClasses: whole.unicodeClasses };
}

/** Why a regular expression is refused (RE2 cannot compile it, or it is too large), or undefined when it is fine. */
export function regexProblem(source: string): string | undefined {
  if (source.length > MAX_REGEX_LENGTH) return `too long: ${source.length} characters, at most ${MAX_REGEX_LENGTH}`;
  // Measured before compiling: RE2 builds the whole program (a hostile one costs tens of ms) before its size shows.
  const { size: bound, unicodeClasses } = measureRegex(source);
  if (bound > MAX_REGEX_PROGRAM_SIZE) return tooLarge(`up to ${bound}`);
  if (unicodeClasses > MAX_REGEX_UNICODE_CLASSES) {
    return `too many Unicode classes: ${unicodeClasses} \\p or \\P with repetitions counted, at most ${MAX_REGEX_UNICODE_CLASSES} (tags are ASCII: use classes such as [A-Za-z0-9])`;
  }
  let size: number;
  try {
    size = RE2JS.compile(source).programSize();
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/^error parsing regexp: /, '');
    return `not a regular expression in RE2 syntax (no backreferences, no lookaround): ${reason}`;
  }
  // The bound is not below the size; this only guards against a construct it misreads.
  return size > MAX_REGEX_PROGRAM_SIZE ? tooLarge(String(size)) : undefined;
}

const tooLarge = (size: string) =>
  `too large: it compiles to ${size} RE2 instructions, at most ${MAX_REGEX_PROGRAM_SIZE} (use fewer or smaller counted repetitions)`;

/**
 * A regular expression (RE2 syntax) that must match the whole text, compiled (not kept). Throws when invalid.
 *
 * It matches through re2js's `Matcher`, which asks for the match's bounds: for a program of at most 500 instructions
 * (re2js's own threshold, and `MAX_REGEX_PROGRAM_SIZE`) and a tag of up to 524 characters, that runs RE2's bit-state
 * backtracker, which visits each instruction at most once per position. `RE2JS.matches` asks for no bounds and runs the
 * lazy DFA instead, which is faster once its states are built but built them slowly for each new tag:
 * `(?:a{1,12}){1,12}b` took 7 to 11 ms on a 128-character tag the first time, against 0.3 ms here.
 */
export function buildRegex(source: string): NameMatcher {
  const re2 = RE2JS.compile(source);
  return { test: (text) => re2.matcher(text).matches() };
}

/** `buildRegex`, compiled once and kept. Throws when invalid. */
export const compileRegex = cachedMatchers(buildRegex);
