import { cleanupRuleFor } from '../../shared/config/load.ts';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import type { EcrGateway } from '../../shared/ecr/index.ts';
import type { CleanupRule } from '../../shared/policy/cleanup/plan.ts';
import { matchesAnyGlob } from '../../shared/policy/glob.ts';

export interface SelectedRepository {
  repositoryName: string;
  rule: CleanupRule;
  ruleIndex: number;
}

export interface Selection {
  /** Repositories an enabled rule matches (and `--repository` names, when given), by name. */
  selected: SelectedRepository[];
  /** Repositories `--repository` names that no enabled rule matches: left alone, and said so. */
  withoutRule: string[];
  /** Every repository listed. */
  listed: number;
}

/**
 * Which repositories to clean: the ones the config's first matching rule enables (the scheduler's choice), narrowed
 * by the `--repository` globs. Lists the registry once (DescribeRepositories, pages of 1000).
 */
export async function selectRepositories(
  gateway: EcrGateway,
  config: Readonly<ServiceConfig>,
  globs: readonly string[] = [],
): Promise<Selection> {
  const selected: SelectedRepository[] = [];
  const withoutRule: string[] = [];
  let listed = 0;
  for await (const repository of gateway.listRepositories()) {
    listed++;
    if (globs.length > 0 && !matchesAnyGlob(repository.name, globs)) continue;
    const match = cleanupRuleFor(config.cleanup, repository.name);
    if (match) selected.push({ repositoryName: repository.name, rule: match.rule, ruleIndex: match.index });
    else if (globs.length > 0) withoutRule.push(repository.name);
  }
  const byName = (a: string, b: string) => a.localeCompare(b);
  return {
    selected: selected.sort((a, b) => byName(a.repositoryName, b.repositoryName)),
    withoutRule: withoutRule.sort(byName),
    listed,
  };
}
