import { z } from 'zod';
import { regexProblem } from '../policy/regex.ts';
import { expiryOf } from '../policy/scan/allow-list.ts';
import { COMPLIANCE_CONFIG_DEFAULT, ComplianceConfigSchema } from './compliance-schema.ts';
import { RegistrySectionSchema } from './registry-schema.ts';

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
        regex: z
          .string()
          .min(1)
          .max(256)
          .superRefine((source, context) => {
            const problem = regexProblem(source);
            if (problem !== undefined) {
              context.addIssue({ code: 'custom', message: problem });
            }
          }),
      })
      .describe(
        'A regular expression in RE2 syntax (matched in linear time: no backreferences, no lookaround; at most 500 RE2 instructions and 16 Unicode classes \\p, repetitions counted); it must match the whole tag (it is anchored).',
      ),
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

/** ECR's `ImageTagMutabilityExclusionFilter.filter` ([M-ECR], docs/ecr-limits.md#api-shapes-and-limits). */
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

const FindingCount = z.number().int().min(0).max(1_000_000);

export const ScanSettingsSchema = z.strictObject({
  mode: z
    .enum(['report', 'enforce'])
    .describe('report: publish the verdict only. enforce: also quarantine-tag or untag an image that fails.'),
  maxFindings: z
    .strictObject({
      CRITICAL: FindingCount.optional(),
      HIGH: FindingCount.optional(),
      MEDIUM: FindingCount.optional(),
      LOW: FindingCount.optional(),
      INFORMATIONAL: FindingCount.optional(),
      UNDEFINED: FindingCount.optional(),
      UNTRIAGED: FindingCount.optional(),
    })
    .describe(
      'The most findings allowed per severity (after the allow-list); a severity not listed is not limited. ' +
        "A rule that sets it replaces the defaults' maxFindings as a whole.",
    ),
  cvssThreshold: z
    .number()
    .min(0)
    .max(10)
    .nullable()
    .describe('A finding with a CVSS score at or above this fails the image; null: no CVSS threshold.'),
  onlyFixable: z.boolean().describe('Count only findings with a fix available; the others are reported as ignored.'),
  quarantineTagPrefix: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'a tag prefix: letters, digits, _ . - (not starting with . or -)')
    .nullable()
    .describe(
      'Enforce mode: tag a failing image <prefix><12 hex digits of its digest> (removed again once it passes); null: none.',
    ),
  untag: z
    .array(TagPatternSchema)
    .describe('Enforce mode: remove the tags of a failing image that match these (never its last tag).'),
});
export type ScanSettings = z.infer<typeof ScanSettingsSchema>;

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
