import { canonicalJson, replicationRuleKey } from './keys.ts';
import type {
  CreationTemplate,
  PolicyStatement,
  PullThroughCacheRule,
  RegistryDeclaration,
  ReplicationRule,
  ScanningRule,
  SourcedDeclaration,
} from './model.ts';

export interface MergedDeclaration {
  declaration: RegistryDeclaration;
  /** Which file declared each resource, by `<resource> <key>` (for reports and conflict messages). */
  sources: Record<string, string>;
  /** Two files declaring the same resource differently; each message names both files. Empty when they agree. */
  conflicts: string[];
}

/** Keyed union of several files' lists: the same item twice is kept once, the same key with other content conflicts. */
function unionByKey<T>(
  entries: readonly { source: string; items: readonly T[] }[],
  keyOf: (item: T) => string,
  label: string,
  sources: Record<string, string>,
  conflicts: string[],
): T[] {
  const merged = new Map<string, { item: T; source: string }>();
  for (const { source, items } of entries) {
    for (const item of items) {
      const key = keyOf(item);
      const seen = merged.get(key);
      if (!seen) {
        merged.set(key, { item, source });
        sources[`${label} ${key}`] = source;
      } else if (canonicalJson(seen.item) !== canonicalJson(item)) {
        conflicts.push(`${label} ${key} is declared differently in ${seen.source} and in ${source}`);
      }
    }
  }
  return [...merged.values()].map(({ item }) => item);
}

/**
 * Merges the `registry` sections of several config files (one per team) into one declaration, so that no team's
 * rules clobber another's: the registry singletons (replication, registry scanning) are unions of every file's
 * rules, the registry policy the union of every file's statements by `Sid`, keyed resources (pull through cache
 * rules, creation templates) are unions by prefix. The same resource
 * declared differently in two files is a conflict naming both. A section no file declares stays undeclared (and so
 * unmanaged); `prune` holds for a section when any file that declares it says so.
 */
export function mergeDeclarations(files: readonly SourcedDeclaration[]): MergedDeclaration {
  const sources: Record<string, string> = {};
  const conflicts: string[] = [];
  const declaration: RegistryDeclaration = {};

  const replication = files.flatMap(({ source, declaration: d }) =>
    d.replication ? [{ source, ...d.replication }] : [],
  );
  if (replication.length > 0) {
    declaration.replication = {
      prune: replication.some((entry) => entry.prune),
      rules: unionByKey<ReplicationRule>(
        replication.map(({ source, rules }) => ({ source, items: rules })),
        replicationRuleKey,
        'replication rule',
        sources,
        conflicts,
      ),
    };
  }

  const cache = files.flatMap(({ source, declaration: d }) =>
    d.pullThroughCache ? [{ source, ...d.pullThroughCache }] : [],
  );
  if (cache.length > 0) {
    declaration.pullThroughCache = {
      prune: cache.some((entry) => entry.prune),
      rules: unionByKey<PullThroughCacheRule>(
        cache.map(({ source, rules }) => ({ source, items: rules })),
        (rule) => rule.prefix,
        'pull through cache rule',
        sources,
        conflicts,
      ),
    };
  }

  const templates = files.flatMap(({ source, declaration: d }) =>
    d.creationTemplates ? [{ source, ...d.creationTemplates }] : [],
  );
  if (templates.length > 0) {
    declaration.creationTemplates = {
      prune: templates.some((entry) => entry.prune),
      templates: unionByKey<CreationTemplate>(
        templates.map(({ source, templates: items }) => ({ source, items })),
        (template) => template.prefix,
        'creation template',
        sources,
        conflicts,
      ),
    };
  }

  const scanning = files.flatMap(({ source, declaration: d }) => (d.scanning ? [{ source, ...d.scanning }] : []));
  if (scanning.length > 0) {
    let scanType: { value: string; source: string } | undefined;
    for (const entry of scanning) {
      if (entry.scanType === undefined) continue;
      if (scanType === undefined) scanType = { value: entry.scanType, source: entry.source };
      else if (scanType.value !== entry.scanType) {
        conflicts.push(
          `registry scan type is ${scanType.value} in ${scanType.source} and ${entry.scanType} in ${entry.source}`,
        );
      }
    }
    // Rules of one frequency from several files: their filters add up.
    const byFrequency = new Map<string, Set<string>>();
    for (const entry of scanning) {
      for (const rule of entry.rules) {
        const filters = byFrequency.get(rule.scanFrequency) ?? new Set<string>();
        for (const filter of rule.repositoryFilters) filters.add(filter);
        byFrequency.set(rule.scanFrequency, filters);
      }
    }
    const rules: ScanningRule[] = [...byFrequency].map(([scanFrequency, filters]) => ({
      scanFrequency,
      repositoryFilters: [...filters],
    }));
    declaration.scanning = {
      prune: scanning.some((entry) => entry.prune),
      ...(scanType ? { scanType: scanType.value } : {}),
      rules,
    };
  }

  const policy = files.flatMap(({ source, declaration: d }) =>
    d.registryPolicy ? [{ source, ...d.registryPolicy }] : [],
  );
  if (policy.length > 0) {
    declaration.registryPolicy = {
      prune: policy.some((entry) => entry.prune),
      statements: unionByKey<PolicyStatement>(
        policy.map(({ source, statements }) => ({ source, items: statements })),
        (statement) => statement.Sid,
        'registry policy statement',
        sources,
        conflicts,
      ),
    };
  }

  return { declaration, sources, conflicts };
}
