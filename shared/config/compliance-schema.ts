import { z } from 'zod';
import { type CompliancePolicy, DEFAULT_COMPLIANCE_POLICY } from '../policy/compliance/policy.ts';
import { resolveRule } from './rules.ts';

/**
 * The config's `compliance` section: the repository settings `scheduled-compliance` checks across the registry
 * (first matching rule over the defaults, like the cleanup and push sections).
 */

const RepositoryGlob = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-z0-9._\-/*?]+$/, 'a repository-name glob: lower-case letters, digits, . _ - / and the wildcards * ** ?');

const PolicyDocument = z
  .union([z.string().min(1), z.record(z.string(), z.unknown())])
  .transform((value) => (typeof value === 'string' ? value : JSON.stringify(value)));

export const ComplianceSettingsSchema = z.strictObject({
  mode: z
    .enum(['report', 'enforce'])
    .describe('report: publish findings only. enforce: also fix tag mutability, scan on push, lifecycle policy, tags.'),
  tagMutability: z
    .strictObject({
      setting: z.enum(['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION']),
      exclusions: z
        .array(z.string().regex(/^[0-9a-zA-Z._*-]{1,128}$/, 'a WILDCARD tag filter'))
        .max(5)
        .default([]),
    })
    .refine((value) => value.setting.endsWith('_WITH_EXCLUSION') === value.exclusions.length > 0, {
      message: 'the *_WITH_EXCLUSION settings need 1 to 5 exclusions, and the other settings none',
      path: ['exclusions'],
    })
    .nullable()
    .describe('The required tag mutability; null: not checked.'),
  scanOnPush: z
    .boolean()
    .describe('Images must be scanned on push (the repository flag, or a registry scanning rule covering it).'),
  lifecyclePolicy: z
    .union([z.literal('cleanup-job'), PolicyDocument])
    .nullable()
    .describe('The required lifecycle policy; "cleanup-job": the cleanup job owns it, so none; null: not checked.'),
  repositoryPolicy: z
    .strictObject({
      allowedAccounts: z
        .array(z.string().regex(/^[0-9]{12}$/, 'a 12-digit account id'))
        .default([])
        .describe('Accounts other than this one that a policy may grant to.'),
    })
    .nullable()
    .describe('No grant to everyone without a condition, no cross-account principal outside allowedAccounts.'),
  requiredTags: z.array(z.string().min(1).max(128)).describe('Resource tags every repository must carry.'),
  tagDefaults: z
    .record(z.string().min(1).max(128), z.string().max(256))
    .describe('Enforce mode: the values given to missing required tags (a tag without one is reported only).'),
  encryption: z
    .enum(['AES256', 'KMS'])
    .nullable()
    .describe('The required encryption; report only (ECR cannot change it after creation). null: not checked.'),
});

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
