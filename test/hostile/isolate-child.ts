import { filterMatches, matchesPattern } from '@ecr-automation/local-registry/matching';
import { ConfigError, parseConfig } from '../../shared/config/load.ts';
import { scanningFilterMatches } from '../../shared/policy/compliance/check.ts';
import { matchesAnyGlob } from '../../shared/policy/glob.ts';
import { scanFilterMatches } from '../../shared/policy/push/scan.ts';
import { tagMatches } from '../../shared/policy/push/tags.ts';
import { declarationProblems } from '../../shared/policy/reconcile/limits.ts';

/** The child process of `isolate.ts`: runs one named function per message and answers with its result. */

/** The issues a config document has (none when it parses). */
function configIssues(document: unknown) {
  try {
    parseConfig(document);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

export const ISOLATED = {
  configIssues,
  declarationProblems,
  filterMatches,
  matchesAnyGlob,
  matchesPattern,
  scanFilterMatches,
  scanningFilterMatches,
  tagMatches,
};

interface Call {
  id: number;
  name: keyof typeof ISOLATED;
  args: unknown[];
}

process.on('message', ({ id, name, args }: Call) => {
  try {
    const value = (ISOLATED[name] as (...args: unknown[]) => unknown)(...args);
    process.send?.({ id, value });
  } catch (error) {
    process.send?.({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
process.send?.({ ready: true });
