import { z } from 'zod';
import { ComplianceSettingsSchema, PublicComplianceSettingsSchema, RepositoryGlob } from '../domain/settings.ts';
import {
  type CompliancePolicy,
  DEFAULT_COMPLIANCE_POLICY,
  DEFAULT_PUBLIC_COMPLIANCE_POLICY,
  type PublicCompliancePolicy,
} from '../policy/compliance/policy.ts';
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

export const PublicComplianceRuleSchema = PublicComplianceSettingsSchema.partial().extend({
  repositories: z.array(RepositoryGlob).min(1).describe('Public repository-name globs this rule applies to.'),
  exclude: z.array(RepositoryGlob).default([]).describe('Public repository-name globs excluded from this rule.'),
  enabled: z.boolean().default(true).describe('A disabled rule matches its repositories and leaves them alone.'),
});

export const PublicComplianceConfigSchema = z
  .strictObject({
    defaults: PublicComplianceSettingsSchema.partial().default({}),
    rules: z
      .array(PublicComplianceRuleSchema.strict())
      .default([])
      .describe(
        'The first rule whose globs match an ECR Public repository decides its policy; unmatched repositories are skipped.',
      ),
  })
  .describe("ECR Public repositories (the account's public registry): catalog data and repository policy.");
export type PublicComplianceConfig = z.infer<typeof PublicComplianceConfigSchema>;

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
  public: PublicComplianceConfigSchema.default({ defaults: {}, rules: [] }),
});
export type ComplianceConfig = z.infer<typeof ComplianceConfigSchema>;

export const COMPLIANCE_CONFIG_DEFAULT: ComplianceConfig = {
  dryRun: false,
  concurrency: 8,
  defaults: {},
  rules: [],
  public: { defaults: {}, rules: [] },
};

/** The compliance policy of one repository: the first enabled rule whose globs match, over the defaults. */
export function complianceRuleFor(
  config: ComplianceConfig,
  repositoryName: string,
): { rule: CompliancePolicy; index: number } | undefined {
  return resolveRule<CompliancePolicy>(config.rules, config.defaults, DEFAULT_COMPLIANCE_POLICY, repositoryName);
}

/** The compliance policy of one ECR Public repository: the first enabled public rule whose globs match, over the defaults. */
export function publicComplianceRuleFor(
  config: PublicComplianceConfig,
  repositoryName: string,
): { rule: PublicCompliancePolicy; index: number } | undefined {
  return resolveRule<PublicCompliancePolicy>(
    config.rules,
    config.defaults,
    DEFAULT_PUBLIC_COMPLIANCE_POLICY,
    repositoryName,
  );
}

/** Whether the config checks ECR Public at all: an enabled public rule (a run with none makes no ECR Public call). */
export const checksPublicRepositories = (config: ComplianceConfig): boolean =>
  config.public.rules.some((rule) => rule.enabled);
