import { z } from 'zod';

/**
 * The service's config file. One zod schema per section, strict objects everywhere (a typo is an error, not a
 * silently ignored key), defaults filled in by parsing. `npm run config:schema` writes the JSON Schema for editors.
 */

const Days = z.number().int().min(0).max(3650);
const RepositoryGlob = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-z0-9._\-/*?]+$/, 'a repository-name glob: lower-case letters, digits, . _ - / and the wildcards * ** ?');

export const CleanupSettingsSchema = z.strictObject({
  olderThanDays: Days.describe('An untagged image is a candidate only when pushed more than this many days ago.'),
  notPulledForDays: Days.describe(
    'An untagged image is a candidate only when not pulled within this many days (push time when never pulled).',
  ),
  quietPeriodMinutes: z
    .number()
    .int()
    .min(0)
    .max(10_080)
    .describe('Nothing pushed within this many minutes is deleted (a multi-arch push may be in flight).'),
  keepLatestUntagged: z.number().int().min(0).max(10_000).describe('Keep this many newest untagged images.'),
  maxDeleteFraction: z
    .number()
    .min(0)
    .max(1)
    .describe('Safety brake: refuse to delete more than this share of a repository in one run.'),
  allowMassDelete: z.boolean().describe('Lift the safety brake for the matched repositories.'),
});
export type CleanupSettings = z.infer<typeof CleanupSettingsSchema>;

export const CleanupRuleSchema = CleanupSettingsSchema.partial().extend({
  repositories: z.array(RepositoryGlob).min(1).describe('Repository-name globs this rule applies to.'),
  exclude: z.array(RepositoryGlob).default([]).describe('Repository-name globs excluded from this rule.'),
  enabled: z.boolean().default(true).describe('A disabled rule matches its repositories and leaves them alone.'),
});
export type CleanupRuleConfig = z.infer<typeof CleanupRuleSchema>;

export const CleanupConfigSchema = z.strictObject({
  dryRun: z.boolean().default(false).describe('Plan and report only; the ECR gateway refuses every mutating call.'),
  defaults: CleanupSettingsSchema.partial().default({}),
  rules: z
    .array(CleanupRuleSchema.strict())
    .default([])
    .describe(
      'The first rule whose globs match a repository decides its settings; unmatched repositories are left alone.',
    ),
});
export type CleanupConfig = z.infer<typeof CleanupConfigSchema>;

export const ServiceConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  cleanup: CleanupConfigSchema.default({ dryRun: false, defaults: {}, rules: [] }),
});
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;

/** The JSON Schema of the config file, for editors (`"$schema": "./config.schema.json"`). */
export const serviceConfigJsonSchema = () => z.toJSONSchema(ServiceConfigSchema, { io: 'input' });
