import { readFileSync } from 'node:fs';
import bundledConfig from '../../config/ecr-automation.json' with { type: 'json' };
import { readConfigFiles } from './files.ts';
import { parseConfig, parseConfigText } from './load.ts';
import type { ServiceConfig } from './schema.ts';

/**
 * The service's config: the file `CONFIG_FILE` names (or the comma-separated files, one per team), or else the one bundled at build time
 * (`config/ecr-automation.json`). Parsed and validated once per container.
 */
let cached: { key: string; config: Readonly<ServiceConfig> } | undefined;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ServiceConfig> {
  const path = env.CONFIG_FILE;
  const key = path ?? '(bundled)';
  if (cached?.key === key) return cached.config;
  let config: Readonly<ServiceConfig>;
  if (path?.includes(',')) {
    // Several files (one per team): their registry sections merge, see files.ts.
    config = readConfigFiles(
      path
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    );
  } else if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`Cannot read CONFIG_FILE ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    config = parseConfigText(text, path);
  } else {
    config = parseConfig(bundledConfig, 'config/ecr-automation.json');
  }
  cached = { key, config };
  return config;
}
