import type { PolicyStatement } from './model.ts';

/**
 * The registry policy as a list of statements: the text ECR stores and the statements a plan compares. Pure.
 */

/** The IAM policy language version every policy the reconciler writes declares. */
export const POLICY_VERSION = '2012-10-17';

/** A statement of the registry as found, under the key a plan compares it by. */
export interface KeyedStatement {
  /** Its `Sid`; a statement without one gets `(statement N without Sid)`, a repeated Sid `<Sid> (again, N)`. */
  key: string;
  statement: Record<string, unknown>;
}

/** The policy document ECR receives: compact JSON (the 10,240-character limit counts every character). */
export const registryPolicyText = (statements: readonly Record<string, unknown>[]): string =>
  JSON.stringify({ Version: POLICY_VERSION, Statement: statements });

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The statements of a registry policy's text, keyed by `Sid` (IAM allows a single statement object as well as a
 * list). Undefined text: no policy, no statements. Text that is not a policy document: an error message instead.
 */
export function parseRegistryPolicy(text: string | undefined): { statements: KeyedStatement[] } | { error: string } {
  if (text === undefined) return { statements: [] };
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { error: 'the registry policy in the registry is not JSON' };
  }
  const raw = isObject(document) ? document.Statement : undefined;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (!list.every(isObject))
    return { error: 'the registry policy in the registry has a statement that is not an object' };
  const seen = new Map<string, number>();
  const statements = list.map((statement, index): KeyedStatement => {
    const sid = typeof statement.Sid === 'string' && statement.Sid !== '' ? statement.Sid : undefined;
    if (sid === undefined) return { key: `(statement ${index + 1} without Sid)`, statement };
    const times = (seen.get(sid) ?? 0) + 1;
    seen.set(sid, times);
    return { key: times === 1 ? sid : `${sid} (again, ${times})`, statement };
  });
  return { statements };
}

/** A statement's fields in the order IAM documents them, then any others in name order; never `Sid` (the key). */
const FIELD_ORDER = [
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
];

export function statementFields(...statements: (Record<string, unknown> | PolicyStatement | undefined)[]): string[] {
  const names = new Set(statements.flatMap((statement) => Object.keys(statement ?? {})));
  names.delete('Sid');
  const known = FIELD_ORDER.filter((name) => names.has(name));
  const others = [...names].filter((name) => !FIELD_ORDER.includes(name)).sort();
  return [...known, ...others];
}
