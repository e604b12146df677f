import { constraintMessage, invalidParameter } from '../wire/errors.ts';
import type { Input, StringRule } from '../wire/validate.ts';
import { decodeToken, encodeToken } from './common.ts';

/**
 * What the registry-level settings share (replication.ts, pull-through-cache.ts, creation-templates.ts and the
 * registry policy in registry-settings.ts): prefixes, paging by key, policy documents. These operations came with
 * ValidationException in their models, so constraint errors use it; content errors in policy documents stay
 * InvalidParameterException, as for repository policies.
 */

/** Describe pages when `maxResults` is omitted ([M-ECR] member docs: "up to 100 results"). */
export const DEFAULT_DESCRIBE_PAGE = 100;
/** Repository-name grammar with an optional trailing `/`, or `ROOT` (PTC and template prefixes, [M-ECR]). */
export const PREFIX_PATTERN = /^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$/;
export const PREFIX_PATTERN_TEXT =
  '^([a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\/?|ROOT)$';
export const CUSTOM_ROLE_ARN: StringRule = { max: 2048 };
export const POLICY_TEXT: StringRule = { min: 0, max: 10_240 };

/** A trailing `/` is always assumed on PTC and template prefixes ([M-ECR]): `ecr-public` and `ecr-public/` are one. */
export const prefixKey = (prefix: string) => (prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);

export const present = <T extends Record<string, unknown>>(record: T) =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;

/** Named items and paging do not mix ([M-ECR], as for `repositoryNames` and `imageIds`). */
export function rejectPagingWithNames(input: Input, member: string): void {
  if (input.has(member) && (input.has('nextToken') || input.has('maxResults'))) {
    throw input.fail(`Invalid parameter: nextToken and maxResults cannot be used together with ${member}`);
  }
}

/** One page of a listing sorted by key; the token holds the last key returned, so deletions do not shift pages. */
export function pageByKey<T>(
  entries: Map<string, T>,
  listing: string,
  fingerprint: string,
  nextToken: string | undefined,
  maxResults: number | undefined,
): { items: T[]; nextToken?: string } {
  const after = nextToken === undefined ? undefined : decodeToken(nextToken, listing, fingerprint);
  if (after !== undefined && typeof after !== 'string') {
    throw invalidParameter(constraintMessage('nextToken', 'Invalid NextToken'));
  }
  const keys = [...entries.keys()].filter((key) => after === undefined || key > after).sort();
  const limit = maxResults ?? DEFAULT_DESCRIBE_PAGE;
  const page = keys.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((key) => entries.get(key) as T),
    ...(keys.length > limit && last !== undefined ? { nextToken: encodeToken(listing, fingerprint, last) } : {}),
  };
}

// Policy documents

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A policy must be a JSON object with a `Statement` (one statement object or a non-empty list of them). */
export function checkPolicyDocument(text: string, member: string, what: string): void {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw invalidParameter(constraintMessage(member, `Invalid ${what} provided`));
  }
  const statement = isObject(document) ? document.Statement : undefined;
  const statements = Array.isArray(statement) ? statement : [statement];
  if (statements.length === 0 || !statements.every(isObject)) {
    throw invalidParameter(constraintMessage(member, `Invalid ${what} provided`));
  }
}
