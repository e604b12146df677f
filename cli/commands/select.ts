import type { CleanupGateway, RegistryKind } from '../../shared/cleanup/gateway.ts';
import { cleanupRuleFor } from '../../shared/config/load.ts';
import { selectRepositories as select } from '../../shared/config/rules.ts';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import type { CleanupRule } from '../../shared/policy/cleanup/plan.ts';

/** What the CLI needs of a registry's gateway: the cleanup's, and the repository listing (ECR's or ECR Public's). */
export type CliGateway = CleanupGateway & { listRepositories(): AsyncIterable<{ name: string }> };

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
 * Which repositories of a registry to clean: the ones the config's first matching rule for that registry enables
 * (the scheduler's choice), narrowed
 * by the `--repository` globs. Lists the registry once (DescribeRepositories, pages of 1000).
 */
export async function selectRepositories(
  gateway: CliGateway,
  config: Readonly<ServiceConfig>,
  globs: readonly string[] = [],
  registry: RegistryKind = 'private',
): Promise<Selection> {
  const selection = await select(
    gateway.listRepositories(),
    (name) => cleanupRuleFor(config.cleanup, name, registry),
    globs,
  );
  const byName = (a: string, b: string) => a.localeCompare(b);
  return {
    selected: selection.selected
      .map(({ repository, match }) => ({ repositoryName: repository.name, rule: match.rule, ruleIndex: match.index }))
      .sort((a, b) => byName(a.repositoryName, b.repositoryName)),
    withoutRule: selection.withoutRule.map((repository) => repository.name).sort(byName),
    listed: selection.listed,
  };
}
