import type { ReplicationRule } from './model.ts';

/** JSON with object keys sorted at every level: equal values give equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  const sort = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sort);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(
        Object.entries(item as Record<string, unknown>)
          .filter(([, field]) => field !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([key, field]) => [key, sort(field)]),
      );
    }
    return item;
  };
  return JSON.stringify(sort(value));
}

/** A policy document's text in canonical form (so that whitespace and key order are not drift); bad JSON as is. */
export function canonicalPolicyText(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    return canonicalJson(JSON.parse(text));
  } catch {
    return text;
  }
}

/**
 * A replication rule's identity: the repositories it covers (its sorted filters, `*` for all). Its destinations are
 * what an update changes.
 */
export const replicationRuleKey = (rule: ReplicationRule): string =>
  rule.repositoryFilters.length === 0 ? '*' : [...rule.repositoryFilters].sort().join(',');

/** Destinations as a sorted list of `registryId/region`. */
export const destinationList = (rule: ReplicationRule): string[] =>
  [...new Set(rule.destinations.map((d) => `${d.registryId}/${d.region}`))].sort();
