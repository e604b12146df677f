import { matchesAnyGlob } from '../policy/glob.ts';

/** What every section's rules share: repository globs, excluded globs, and a switch. */
export interface RepositoryRule {
  repositories: readonly string[];
  exclude: readonly string[];
  enabled: boolean;
}

/** An object's own fields that are set: an absent optional field must not hide a default. */
const defined = (value: object): object =>
  Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined));

/**
 * The policy for one repository in a section of rules: the first rule whose globs match (and whose excludes do not)
 * decides, its settings over the section's defaults over the built-in ones; undefined when that rule is disabled or
 * no rule matches. A setting that is an object (a rule's `tags`, `maxFindings`, ...) replaces the default as a whole.
 */
export function resolveRule<Policy extends object>(
  rules: readonly (RepositoryRule & object)[],
  defaults: object,
  builtIn: Policy,
  repositoryName: string,
): { rule: Policy; index: number } | undefined {
  const index = rules.findIndex(
    (rule) => matchesAnyGlob(repositoryName, rule.repositories) && !matchesAnyGlob(repositoryName, rule.exclude),
  );
  const matched = rules[index];
  if (!matched?.enabled) return undefined;
  const { repositories: _r, exclude: _e, enabled: _n, ...settings } = matched;
  return { rule: { ...builtIn, ...defined(defaults), ...defined(settings) } as Policy, index };
}
