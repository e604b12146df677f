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

const compiles = (source: string) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
};

export const TagPatternSchema = z
  .union([
    z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9_.*?-]+$/, 'a tag glob: letters, digits, _ . - and the wildcards * ?')
      .describe('A tag glob: `*` matches any run of characters, `?` one character.'),
    z
      .strictObject({
        regex: z.string().min(1).max(256).refine(compiles, 'not a valid regular expression'),
      })
      .describe('A regular expression; it must match the whole tag (it is anchored).'),
    z
      .strictObject({ form: z.enum(['semver']) })
      .describe('A named form: `semver` is Semantic Versioning 2.0.0, with an optional leading `v`.'),
  ])
  .describe('A tag pattern: a glob string, { "regex": "..." } or { "form": "semver" }.');

export const TagRulesSchema = z.strictObject({
  allowed: z
    .array(TagPatternSchema)
    .min(1)
    .optional()
    .describe('When set, every tag must match one of these patterns.'),
  forbidden: z.array(TagPatternSchema).default([]).describe('No tag may match any of these (e.g. "latest").'),
  required: TagPatternSchema.optional().describe('The image must carry at least one tag matching this pattern.'),
  maxTagsPerImage: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('At most this many tags per image; in enforce mode the tag whose push went over the limit is removed.'),
});

/** ECR's `ImageTagMutabilityExclusionFilter.filter` ([M-ECR], ecr-facts §11). */
const MutabilityExclusion = z
  .string()
  .regex(/^[0-9a-zA-Z._*-]{1,128}$/, 'an exclusion filter: 1-128 characters of letters, digits, . _ - and *');

export const TagMutabilitySchema = z
  .strictObject({
    setting: z
      .enum(['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'])
      .describe("The repository's required ImageTagMutability."),
    exclusions: z
      .array(MutabilityExclusion)
      .max(5)
      .default([])
      .describe('WILDCARD tag filters for the *_WITH_EXCLUSION settings (1 to 5); none for the others.'),
  })
  .refine((value) => value.setting.endsWith('_WITH_EXCLUSION') === value.exclusions.length > 0, {
    message: 'the *_WITH_EXCLUSION settings need 1 to 5 exclusions, and the other settings none',
    path: ['exclusions'],
  });

export const PushSettingsSchema = z.strictObject({
  mode: z
    .enum(['report', 'enforce'])
    .describe('report: publish the verdict only. enforce: also correct the tag mutability and remove offending tags.'),
  scan: z.boolean().describe('Start a basic scan of every pushed image that ECR does not scan on push.'),
  tags: TagRulesSchema.describe("The tag policy. A rule that sets it replaces the defaults' tag policy as a whole."),
  tagMutability: TagMutabilitySchema.nullable().describe(
    "The repository's required tag mutability; null leaves it as it is.",
  ),
  undoPush: z
    .boolean()
    .describe(
      'Enforce mode, when every tag of a pushed image offends: remove them anyway, which deletes the image. ' +
        'Default false: such tags are reported and left in place.',
    ),
});
export type PushSettings = z.infer<typeof PushSettingsSchema>;

export const PushRuleSchema = PushSettingsSchema.partial().extend({
  repositories: z.array(RepositoryGlob).min(1).describe('Repository-name globs this rule applies to.'),
  exclude: z.array(RepositoryGlob).default([]).describe('Repository-name globs excluded from this rule.'),
  enabled: z.boolean().default(true).describe('A disabled rule matches its repositories and leaves them alone.'),
});
export type PushRuleConfig = z.infer<typeof PushRuleSchema>;

export const PushConfigSchema = z.strictObject({
  dryRun: z
    .boolean()
    .default(false)
    .describe('Judge and publish verdicts only; the ECR gateway refuses every mutating call (no scan either).'),
  defaults: PushSettingsSchema.partial().default({}),
  rules: z
    .array(PushRuleSchema.strict())
    .default([])
    .describe(
      'The first rule whose globs match a repository decides its push policy; pushes to unmatched repositories get a skipped verdict.',
    ),
});
export type PushConfig = z.infer<typeof PushConfigSchema>;

export const ServiceConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  cleanup: CleanupConfigSchema.default({ dryRun: false, defaults: {}, rules: [] }),
  push: PushConfigSchema.default({ dryRun: false, defaults: {}, rules: [] }),
});
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;

/** The JSON Schema of the config file, for editors (`"$schema": "./config.schema.json"`). */
export const serviceConfigJsonSchema = () => z.toJSONSchema(ServiceConfigSchema, { io: 'input' });
