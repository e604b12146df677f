import { readFileSync } from 'node:fs';
import { mergeDeclarations } from '../policy/reconcile/merge.ts';
import { ConfigError, parseConfig } from './load.ts';
import { declarationOf } from './registry-schema.ts';
import type { ServiceConfig } from './schema.ts';

/** One config file: where it came from (for messages) and its parsed JSON. */
export interface ConfigDocument {
  source: string;
  document: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A config split across several files (one per team). Each file is validated alone first (its errors name it).
 * The `registry` sections are merged (`mergeDeclarations`): every team's replication rules, pull through cache rules,
 * creation templates, scanning filters and registry policy statements (by Sid) add up, and the same resource declared differently in two files is a
 * `ConfigError` naming both. Any other section may come from one file only: two files both declaring `cleanup`
 * (say) is also a conflict naming both, never a silent "last file wins".
 */
export function parseConfigDocuments(documents: readonly ConfigDocument[]): Readonly<ServiceConfig> {
  const [first] = documents;
  if (first === undefined) throw new ConfigError('No config files given');
  if (documents.length === 1) return parseConfig(first.document, first.source);
  const parsed = documents.map(({ source, document }) => ({ source, document, config: parseConfig(document, source) }));
  const conflicts: string[] = [];
  const owner = new Map<string, string>();
  const combined: Record<string, unknown> = {};
  for (const { source, document } of parsed) {
    if (!isObject(document)) continue;
    for (const [section, value] of Object.entries(document)) {
      if (section === '$schema' || section === 'registry') continue;
      const previous = owner.get(section);
      if (previous !== undefined) conflicts.push(`section '${section}' is declared in both ${previous} and ${source}`);
      else {
        owner.set(section, source);
        combined[section] = value;
      }
    }
  }
  const withRegistry = parsed.filter(({ document }) => isObject(document) && document.registry !== undefined);
  const merged = mergeDeclarations(
    withRegistry.map(({ source, config }) => ({ source, declaration: declarationOf(config.registry) })),
  );
  conflicts.push(...merged.conflicts);
  if (conflicts.length > 0) {
    throw new ConfigError(
      `Invalid config (${documents.map((d) => d.source).join(', ')}): ${conflicts.join('; ')}`,
      conflicts.map((message) => ({ path: 'registry', message })),
    );
  }
  const dryRun = withRegistry.some(({ config: c }) => c.registry.dryRun);
  // The merged declaration is re-validated as a whole: quotas (10 rules, 25 destinations) hold across the files.
  return parseConfig(
    { ...combined, registry: { dryRun, ...merged.declaration } },
    documents.map((d) => d.source).join(' + '),
  );
}

/** Reads and parses config files (JSON); an unreadable file or bad JSON is a `ConfigError` naming the file. */
export function readConfigFiles(paths: readonly string[]): Readonly<ServiceConfig> {
  return parseConfigDocuments(
    paths.map((path) => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw new ConfigError(
          `Cannot read config file ${path}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      try {
        return { source: path, document: JSON.parse(text) as unknown };
      } catch (error) {
        throw new ConfigError(`Invalid ${path}: not JSON (${error instanceof Error ? error.message : String(error)})`);
      }
    }),
  );
}
