import { readFileSync } from 'node:fs';
import bundledConfig from '../../config/ecr-automation.json' with { type: 'json' };
import { parseConfig, parseConfigText } from './load.ts';
import type { ServiceConfig } from './schema.ts';

/**
 * The service's config: the file `CONFIG_FILE` names, or else the one bundled at build time
 * (`config/ecr-automation.json`). Parsed and validated once per container.
 */
let cached: { key: string; config: Readonly<ServiceConfig> } | undefined;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ServiceConfig> {
  const path = env.CONFIG_FILE;
  const key = path ?? '(bundled)';
  if (cached?.key === key) return cached.config;
  let config: Readonly<ServiceConfig>;
  if (path) {
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
