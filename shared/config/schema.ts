import { z } from 'zod';
import { CleanupSettingsSchema, settingsSchemas, TagMutabilitySchema } from '../domain/settings.ts';
import { regexProblem } from '../policy/regex.ts';
import { expiryOf } from '../policy/scan/allow-list.ts';
import { COMPLIANCE_CONFIG_DEFAULT, ComplianceConfigSchema } from './compliance-schema.ts';
import { RegistrySectionSchema } from './registry-schema.ts';

/**
 * The service's config file. One zod schema per section, strict objects everywhere (a typo is an error, not a
 * silently ignored key), defaults filled in by parsing. `npm run config:schema` writes the JSON Schema for editors.
 */

/** The settings schemas whose tag patterns are checked with the RE2 analysis of `shared/policy/regex.ts`. */
export const { TagPatternSchema, TagRulesSchema, PushSettingsSchema, ScanSettingsSchema } =
  settingsSchemas(regexProblem);
export { CleanupSettingsSchema, TagMutabilitySchema };

const RepositoryGlob = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-z0-9._\-/*?]+$/, 'a repository-name glob: lower-case letters, digits, . _ - / and the wildcards * ** ?');

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

export const ScanRuleSchema = ScanSettingsSchema.partial().extend({
  repositories: z.array(RepositoryGlob).min(1).describe('Repository-name globs this rule applies to.'),
  exclude: z.array(RepositoryGlob).default([]).describe('Repository-name globs excluded from this rule.'),
  enabled: z.boolean().default(true).describe('A disabled rule matches its repositories and leaves them alone.'),
});
export type ScanRuleConfig = z.infer<typeof ScanRuleSchema>;

const DAY_MS = 86_400_000;
const expiryMs = (expires: string) => expiryOf({ expires });

export const AllowListEntrySchema = z
  .strictObject({
    id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'a vulnerability id such as CVE-2024-3094')
      .describe('The vulnerability id (CVE-..., GHSA-...), compared without regard to case.'),
    package: z.string().min(1).max(256).optional().describe('Only this package: "name" or "name@version".'),
    repositories: z.array(RepositoryGlob).min(1).optional().describe('Only these repositories (globs).'),
    digest: z
      .string()
      .regex(/^sha256:[a-f0-9]{64}$/, 'an image digest (sha256:<64 hex>)')
      .optional()
      .describe('Only this image.'),
    expires: z
      .string({ error: (issue) => (issue.input === undefined ? 'required' : 'an expiry date (YYYY-MM-DD)') })
      .refine((value) => Number.isFinite(expiryMs(value)), 'an expiry date, YYYY-MM-DD or an ISO date-time')
      .describe('Mandatory: the entry counts until this date (YYYY-MM-DD: through that day, UTC).'),
    owner: z.string().min(1).max(256).describe('Who accepted the risk (a person or team to ask).'),
    reason: z.string().min(1).max(1024).describe('Why the finding is accepted.'),
  })
  // Runs even when a field failed (`when`), so that the error names the entry whose expiry is missing.
  .refine(
    (entry: unknown) =>
      typeof entry !== 'object' || entry === null || (entry as { expires?: unknown }).expires !== undefined,
    {
      when: () => true,
      path: ['expires'],
      error: (issue) =>
        `allow-list entry ${String((issue.input as { id?: unknown } | undefined)?.id ?? '(no id)')} has no expiry ` +
        'date: every entry needs "expires" (YYYY-MM-DD)',
    },
  );
export type AllowListEntryConfig = z.infer<typeof AllowListEntrySchema>;

export const ScanConfigSchema = z
  .strictObject({
    dryRun: z
      .boolean()
      .default(false)
      .describe('Judge and publish verdicts only; the ECR gateway refuses every mutating call.'),
    defaults: ScanSettingsSchema.partial().default({}),
    rules: z
      .array(ScanRuleSchema.strict())
      .default([])
      .describe(
        'The first rule whose globs match a repository decides its scan policy; scans of unmatched repositories get a skipped verdict.',
      ),
    allowList: z.array(AllowListEntrySchema).default([]).describe('Accepted findings, each with an expiry.'),
    allowListMaxDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(90)
      .describe('An allow-list entry may expire at most this many days after the config is loaded.'),
    allowListReport: z
      .strictObject({
        expiringWithinDays: z
          .number()
          .int()
          .min(1)
          .max(365)
          .default(14)
          .describe('The daily allow-list report lists entries expiring within this many days.'),
      })
      .default({ expiringWithinDays: 14 }),
  })
  .superRefine((scan, ctx) => {
    // The only clock in the config: "at most N days ahead" is relative to when the config is loaded.
    const horizon = Date.now() + scan.allowListMaxDays * DAY_MS;
    scan.allowList.forEach((entry, index) => {
      if (expiryMs(entry.expires) > horizon) {
        ctx.addIssue({
          code: 'custom',
          path: ['allowList', index, 'expires'],
          message:
            `allow-list entry ${entry.id} (owner ${entry.owner}) expires ${entry.expires}, more than ` +
            `${scan.allowListMaxDays} days ahead (allowListMaxDays)`,
        });
      }
    });
  });
export type ScanConfig = z.infer<typeof ScanConfigSchema>;

export const ServiceConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  cleanup: CleanupConfigSchema.default({ dryRun: false, defaults: {}, rules: [] }),
  push: PushConfigSchema.default({ dryRun: false, defaults: {}, rules: [] }),
  scan: ScanConfigSchema.default({
    dryRun: false,
    defaults: {},
    rules: [],
    allowList: [],
    allowListMaxDays: 90,
    allowListReport: { expiringWithinDays: 14 },
  }),
  compliance: ComplianceConfigSchema.default(COMPLIANCE_CONFIG_DEFAULT).describe(
    'Repository settings checked (and in enforce mode fixed) across the registry by scheduled-compliance.',
  ),
  registry: RegistrySectionSchema.default({ dryRun: false }).describe(
    'Registry-level settings reconciled by reconcile-registry; a section left out is not managed.',
  ),
});
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;

/** The JSON Schema of the config file, for editors (`"$schema": "./config.schema.json"`). */
export const serviceConfigJsonSchema = () => z.toJSONSchema(ServiceConfigSchema, { io: 'input' });
