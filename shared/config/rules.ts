import { matchesAnyGlob } from '../policy/glob.ts';

/** What every section's rules share: repository globs, excluded globs, and a switch. */
export interface RepositoryRule {
  repositories: readonly string[];
  exclude: readonly string[];
  enabled: boolean;
}

/** A rule's or the defaults' settings: any field of the policy, absent or undefined when not set. */
export type PolicySettings<Policy> = { [Key in keyof Policy]?: Policy[Key] | undefined };

/**
 * The policy for one repository in a section of rules: the first rule whose globs match (and whose excludes do not)
 * decides, its settings over the section's defaults over the built-in ones; undefined when that rule is disabled or
 * no rule matches. A setting that is an object (a rule's `tags`, `maxFindings`, ...) replaces the default as a whole;
 * a field left out (or undefined) does not hide the default beneath it.
 */
export function resolveRule<Policy extends object>(
  rules: readonly (RepositoryRule & PolicySettings<Policy>)[],
  defaults: PolicySettings<Policy>,
  builtIn: Policy,
  repositoryName: string,
): { rule: Policy; index: number } | undefined {
  const index = rules.findIndex(
    (rule) => matchesAnyGlob(repositoryName, rule.repositories) && !matchesAnyGlob(repositoryName, rule.exclude),
  );
  const matched = rules[index];
  if (!matched?.enabled) return undefined;
  const rule = { ...builtIn };
  for (const key in builtIn) {
    for (const layer of [defaults, matched]) {
      const value = layer[key];
      if (value !== undefined) rule[key] = value;
    }
  }
  return { rule, index };
}

/** The repositories a section's rules select, each with the rule that matched. */
export interface RepositorySelection<Repository, Match> {
  /** Repositories a rule selects (and the globs name, when given), in listing order. */
  selected: { repository: Repository; match: Match }[];
  /** Repositories the globs name that no enabled rule selects: left alone, and said so. */
  withoutRule: Repository[];
  /** Every repository listed. */
  listed: number;
}

/**
 * The one repository-selection loop of the service: walks the listing once (the gateway's DescribeRepositories
 * pages), narrows it by `globs` (a manual run's or the command line's; absent or empty narrows nothing), and keeps
 * each repository `ruleFor` gives a rule (`cleanupRuleFor`, `complianceRuleFor`, ...: the first matching rule, when
 * enabled). Used by the cleanup fan-out, the compliance scan and the cleanup CLI.
 */
export async function selectRepositories<Repository extends { name: string }, Match>(
  repositories: AsyncIterable<Repository>,
  ruleFor: (repositoryName: string) => Match | undefined,
  globs: readonly string[] = [],
): Promise<RepositorySelection<Repository, Match>> {
  const selection: RepositorySelection<Repository, Match> = { selected: [], withoutRule: [], listed: 0 };
  for await (const repository of repositories) {
    selection.listed++;
    if (globs.length > 0 && !matchesAnyGlob(repository.name, globs)) continue;
    const match = ruleFor(repository.name);
    if (match !== undefined) selection.selected.push({ repository, match });
    else if (globs.length > 0) selection.withoutRule.push(repository);
  }
  return selection;
}
