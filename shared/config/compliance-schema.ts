import { z } from 'zod';
import { ComplianceSettingsSchema, RepositoryGlob } from '../domain/settings.ts';
import { type CompliancePolicy, DEFAULT_COMPLIANCE_POLICY } from '../policy/compliance/policy.ts';
import { resolveRule } from './rules.ts';

/**
 * The config's `compliance` section: the repository settings `scheduled-compliance` checks across the registry
 * (first matching rule over the defaults, like the cleanup and push sections).
 */

export { ComplianceSettingsSchema };

export const ComplianceRuleSchema = ComplianceSettingsSchema.partial().extend({
  repositories: z.array(RepositoryGlob).min(1).describe('Repository-name globs this rule applies to.'),
  exclude: z.array(RepositoryGlob).default([]).describe('Repository-name globs excluded from this rule.'),
  enabled: z.boolean().default(true).describe('A disabled rule matches its repositories and leaves them alone.'),
});

export const ComplianceConfigSchema = z.strictObject({
  dryRun: z.boolean().default(false).describe('Check and report only; the ECR gateway refuses every mutating call.'),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(50)
    .default(8)
    .describe('Repositories checked at once (bounds the request rate on ECR).'),
  defaults: ComplianceSettingsSchema.partial().default({}),
  rules: z
    .array(ComplianceRuleSchema.strict())
    .default([])
    .describe('The first rule whose globs match a repository decides its policy; unmatched repositories are skipped.'),
});
export type ComplianceConfig = z.infer<typeof ComplianceConfigSchema>;

export const COMPLIANCE_CONFIG_DEFAULT: ComplianceConfig = { dryRun: false, concurrency: 8, defaults: {}, rules: [] };

/** The compliance policy of one repository: the first enabled rule whose globs match, over the defaults. */
export function complianceRuleFor(
  config: ComplianceConfig,
  repositoryName: string,
): { rule: CompliancePolicy; index: number } | undefined {
  return resolveRule<CompliancePolicy>(config.rules, config.defaults, DEFAULT_COMPLIANCE_POLICY, repositoryName);
}
