/**
 * EventBridge event patterns (content filtering), following
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html and
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html:
 *
 * - every field of a pattern must match (AND); the values listed for a field are alternatives (OR);
 * - a field's value is either an array of matchers (a leaf) or an object (a nested pattern), plus `$or`;
 * - matchers: exact string / number / boolean / null, `prefix`, `suffix`, `equals-ignore-case`, `wildcard`,
 *   `anything-but`, `numeric`, `exists`, `cidr`;
 * - an array in the event matches when any of its elements matches;
 * - a field missing from the event (or holding an object, or an empty array: no leaf value) matches only
 *   `{"exists": false}`; in particular `anything-but` does not match a missing field.
 */

import { wildcardMatches } from '../model/wildcard.ts';
import { cidrContains, parseCidr } from './cidr.ts';

export type EventPattern = { readonly [field: string]: unknown };

type Leaf = null | boolean | number | string;

const NUMERIC_LIMIT = 5e9;
const LOWER_OPS = new Set(['>', '>=']);
const UPPER_OPS = new Set(['<', '<=']);

class PatternError extends Error {
  constructor(path: string, reason: string) {
    super(`Invalid event pattern at "${path || '(root)'}": ${reason}`);
    this.name = 'PatternError';
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isLeafValue = (value: unknown): value is Leaf =>
  value === null || typeof value === 'string' || typeof value === 'boolean' || Number.isFinite(value);

const fieldPath = (path: string, key: string) => (path ? `${path}.${key}` : key);

// ---------------------------------------------------------------------------------------------------------------
// Validation

function validateObject(pattern: unknown, path: string): void {
  if (!isPlainObject(pattern)) throw new PatternError(path, 'a pattern must be a JSON object');
  const keys = Object.keys(pattern);
  if (keys.length === 0) throw new PatternError(path, 'a pattern object must name at least one field');
  for (const key of keys) {
    const value = pattern[key];
    const here = fieldPath(path, key);
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 1) {
        throw new PatternError(here, '"$or" takes a non-empty array of pattern objects');
      }
      value.forEach((sub, index) => {
        validateObject(sub, `${here}[${index}]`);
      });
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new PatternError(here, 'the list of values to match must not be empty');
      value.forEach((matcher, index) => {
        validateMatcher(matcher, `${here}[${index}]`);
      });
    } else if (isPlainObject(value)) {
      validateObject(value, here);
    } else {
      throw new PatternError(
        here,
        `a field must hold an array of values or a nested object, got ${JSON.stringify(value)}`,
      );
    }
  }
}

function requireString(value: unknown, path: string, operator: string): string {
  if (typeof value !== 'string') throw new PatternError(path, `"${operator}" takes a string`);
  return value;
}

function validateAffix(value: unknown, path: string, operator: 'prefix' | 'suffix'): void {
  if (typeof value === 'string') return;
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'equals-ignore-case') {
      requireString(value['equals-ignore-case'], path, `${operator}.equals-ignore-case`);
      return;
    }
  }
  throw new PatternError(path, `"${operator}" takes a string or {"equals-ignore-case": string}`);
}

function validateWildcard(value: unknown, path: string): void {
  const text = requireString(value, path, 'wildcard');
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') {
      const next = text[i + 1];
      if (next !== '*' && next !== '\\') {
        throw new PatternError(path, 'in "wildcard" a backslash may only escape "*" or "\\"');
      }
      i++;
    } else if (char === '*' && text[i + 1] === '*') {
      throw new PatternError(path, '"wildcard" does not allow consecutive wildcard characters');
    }
  }
}

function validateStringOrStrings(value: unknown, path: string, operator: string, check?: (s: unknown) => void) {
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0) throw new PatternError(path, `"${operator}" needs at least one value`);
  for (const item of values) {
    if (check) check(item);
    else requireString(item, path, operator);
  }
}

function validateAnythingBut(value: unknown, path: string): void {
  if (typeof value === 'string' || Number.isFinite(value)) return;
  if (Array.isArray(value)) {
    if (value.length === 0) throw new PatternError(path, '"anything-but" needs at least one value');
    const allStrings = value.every((item) => typeof item === 'string');
    const allNumbers = value.every((item) => Number.isFinite(item));
    if (!allStrings && !allNumbers) {
      throw new PatternError(path, '"anything-but" takes a list of only strings or only numbers');
    }
    return;
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    const [operator] = keys;
    if (keys.length === 1 && operator !== undefined) {
      const operand = value[operator];
      switch (operator) {
        case 'prefix':
        case 'suffix':
          requireString(operand, path, `anything-but.${operator}`);
          return;
        case 'equals-ignore-case':
          validateStringOrStrings(operand, path, 'anything-but.equals-ignore-case');
          return;
        case 'wildcard':
          validateStringOrStrings(operand, path, 'anything-but.wildcard', (item) => validateWildcard(item, path));
          return;
      }
    }
  }
  throw new PatternError(
    path,
    '"anything-but" takes a string, a number, a list of strings or numbers, or {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": ...}',
  );
}

function validateNumeric(value: unknown, path: string): void {
  if (!Array.isArray(value) || (value.length !== 2 && value.length !== 4)) {
    throw new PatternError(path, '"numeric" takes [operator, number] or [operator, number, operator, number]');
  }
  const conditions: [string, number][] = [];
  for (let i = 0; i < value.length; i += 2) {
    const operator: unknown = value[i];
    const operand: unknown = value[i + 1];
    if (typeof operator !== 'string' || !['<', '<=', '=', '>', '>='].includes(operator)) {
      throw new PatternError(path, `"numeric" operator ${JSON.stringify(operator)} is not one of <, <=, =, >, >=`);
    }
    if (typeof operand !== 'number' || !Number.isFinite(operand)) {
      throw new PatternError(path, `"numeric" operand ${JSON.stringify(operand)} is not a number`);
    }
    if (Math.abs(operand) > NUMERIC_LIMIT) {
      throw new PatternError(path, `"numeric" operand ${operand} is outside -5e9..5e9`);
    }
    conditions.push([operator, operand]);
  }
  if (conditions.length === 2) {
    const [[op1, n1] = ['', 0], [op2, n2] = ['', 0]] = conditions;
    const lower = LOWER_OPS.has(op1) ? n1 : LOWER_OPS.has(op2) ? n2 : undefined;
    const upper = UPPER_OPS.has(op1) ? n1 : UPPER_OPS.has(op2) ? n2 : undefined;
    if (lower === undefined || upper === undefined) {
      throw new PatternError(
        path,
        '"numeric" with two conditions needs one lower bound (> or >=) and one upper bound (< or <=)',
      );
    }
    if (lower >= upper) throw new PatternError(path, `"numeric" range is empty (lower ${lower} >= upper ${upper})`);
  }
}

function validateCidr(value: unknown, path: string): void {
  const text = requireString(value, path, 'cidr');
  if (!parseCidr(text)) throw new PatternError(path, `"cidr" value "${text}" is not an IPv4 or IPv6 CIDR block`);
}

function validateMatcher(matcher: unknown, path: string): void {
  if (isLeafValue(matcher)) {
    if (typeof matcher === 'number' && Math.abs(matcher) > NUMERIC_LIMIT) {
      throw new PatternError(path, `number ${matcher} is outside -5e9..5e9`);
    }
    return;
  }
  if (!isPlainObject(matcher)) {
    throw new PatternError(path, `a value to match must be a string, number, boolean, null or an operator object`);
  }
  const keys = Object.keys(matcher);
  const [operator] = keys;
  if (keys.length !== 1 || operator === undefined) {
    throw new PatternError(path, `an operator object must hold exactly one operator, got ${JSON.stringify(keys)}`);
  }
  const operand = matcher[operator];
  const here = `${path}.${operator}`;
  switch (operator) {
    case 'prefix':
    case 'suffix':
      validateAffix(operand, here, operator);
      return;
    case 'equals-ignore-case':
      requireString(operand, here, operator);
      return;
    case 'wildcard':
      validateWildcard(operand, here);
      return;
    case 'anything-but':
      validateAnythingBut(operand, here);
      return;
    case 'numeric':
      validateNumeric(operand, here);
      return;
    case 'exists':
      if (typeof operand !== 'boolean') throw new PatternError(here, '"exists" takes true or false');
      return;
    case 'cidr':
      validateCidr(operand, here);
      return;
    default:
      throw new PatternError(path, `unknown operator "${operator}"`);
  }
}

const validated = new WeakSet<object>();

/** Throws an Error naming the offending path when `pattern` is not a valid EventBridge event pattern. */
export function validatePattern(pattern: unknown): asserts pattern is EventPattern {
  if (isPlainObject(pattern) && validated.has(pattern)) return;
  validateObject(pattern, '');
  validated.add(pattern as object);
}

// ---------------------------------------------------------------------------------------------------------------
// Matching

/** The leaf values found at a field: scalars, flattened out of arrays; objects are not leaves. */
function leaves(value: unknown, out: Leaf[] = []): Leaf[] {
  if (Array.isArray(value)) {
    for (const item of value) leaves(item, out);
  } else if (isLeafValue(value)) {
    out.push(value);
  }
  return out;
}

const lower = (text: string) => text.toLowerCase();

function matchesAffix(spec: unknown, value: string, operator: 'prefix' | 'suffix'): boolean {
  const ignoreCase = isPlainObject(spec);
  const wanted = ignoreCase ? String(spec['equals-ignore-case']) : String(spec);
  const subject = ignoreCase ? lower(value) : value;
  const needle = ignoreCase ? lower(wanted) : wanted;
  return operator === 'prefix' ? subject.startsWith(needle) : subject.endsWith(needle);
}

const wildcardCache = new Map<string, string[]>();

/** The literal pieces of a `wildcard` value between its unescaped `*`s (a backslash escapes `*` or a backslash). */
function wildcardPieces(pattern: string): string[] {
  let pieces = wildcardCache.get(pattern);
  if (!pieces) {
    pieces = [''];
    for (let i = 0; i < pattern.length; i++) {
      const char = pattern[i] as string;
      if (char === '*') pieces.push('');
      else {
        const literal = char === '\\' ? (pattern[++i] ?? '') : char;
        pieces[pieces.length - 1] += literal;
      }
    }
    if (wildcardCache.size >= 1000) wildcardCache.clear();
    wildcardCache.set(pattern, pieces);
  }
  return pieces;
}

/** Whether a string matches a `wildcard` value: in time linear in the string, whatever the value. */
const wildcardTest = (pattern: string, value: string) => wildcardMatches(wildcardPieces(pattern), value);

function matchesAnythingBut(spec: unknown, value: Leaf): boolean {
  if (typeof spec === 'string' || typeof spec === 'number') return value !== spec;
  if (Array.isArray(spec)) return !spec.includes(value);
  if (!isPlainObject(spec) || typeof value !== 'string') return false;
  const [operator = ''] = Object.keys(spec);
  const operand = spec[operator];
  const list = (Array.isArray(operand) ? operand : [operand]).map(String);
  switch (operator) {
    case 'prefix':
      return !value.startsWith(String(operand));
    case 'suffix':
      return !value.endsWith(String(operand));
    case 'equals-ignore-case':
      return !list.some((item) => lower(item) === lower(value));
    case 'wildcard':
      return !list.some((item) => wildcardTest(item, value));
    default:
      return false;
  }
}

function matchesNumeric(spec: readonly unknown[], value: number): boolean {
  for (let i = 0; i < spec.length; i += 2) {
    const operand = Number(spec[i + 1]);
    switch (spec[i]) {
      case '<':
        if (!(value < operand)) return false;
        break;
      case '<=':
        if (!(value <= operand)) return false;
        break;
      case '=':
        if (value !== operand) return false;
        break;
      case '>':
        if (!(value > operand)) return false;
        break;
      case '>=':
        if (!(value >= operand)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function matchesLeaf(matcher: unknown, value: Leaf): boolean {
  if (!isPlainObject(matcher)) return matcher === value;
  const [operator = ''] = Object.keys(matcher);
  const operand = matcher[operator];
  switch (operator) {
    case 'prefix':
    case 'suffix':
      return typeof value === 'string' && matchesAffix(operand, value, operator);
    case 'equals-ignore-case':
      return typeof value === 'string' && lower(value) === lower(String(operand));
    case 'wildcard':
      return typeof value === 'string' && wildcardTest(String(operand), value);
    case 'anything-but':
      return matchesAnythingBut(operand, value);
    case 'numeric':
      return typeof value === 'number' && Array.isArray(operand) && matchesNumeric(operand, value);
    case 'cidr':
      return typeof value === 'string' && cidrContains(String(operand), value);
    default:
      return false;
  }
}

function matchesField(matchers: readonly unknown[], fieldValue: unknown): boolean {
  const values = leaves(fieldValue);
  return matchers.some((matcher) => {
    if (isPlainObject(matcher) && 'exists' in matcher) return matcher.exists === values.length > 0;
    return values.some((value) => matchesLeaf(matcher, value));
  });
}

function matchesObject(pattern: Record<string, unknown>, subject: Record<string, unknown>): boolean {
  for (const [key, spec] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(spec) || !spec.some((sub) => isPlainObject(sub) && matchesObject(sub, subject))) return false;
      continue;
    }
    const value = Object.hasOwn(subject, key) ? subject[key] : undefined;
    if (Array.isArray(spec)) {
      if (!matchesField(spec, value)) return false;
    } else if (isPlainObject(spec)) {
      const candidates = (Array.isArray(value) ? value : [value]).filter(isPlainObject);
      if (candidates.length === 0) candidates.push({});
      if (!candidates.some((candidate) => matchesObject(spec, candidate))) return false;
    } else {
      return false;
    }
  }
  return true;
}

/**
 * Whether `event` (an event envelope: source, detail-type, detail, ...) matches `pattern`. The pattern is
 * validated on first use (an invalid pattern throws).
 */
export function matchesPattern(pattern: object, event: unknown): boolean {
  validatePattern(pattern);
  return matchesObject(pattern, isPlainObject(event) ? event : {});
}
