import { z } from 'zod';
import {
  CleanupSettingsSchema,
  RepositoryGlob,
  settingsSchemas,
  TagMutabilitySchema,
  type TagSelection,
} from '../domain/settings.ts';
import { regexProblem } from '../policy/regex.ts';
import { expiryOf } from '../policy/scan/allow-list.ts';
import { COMPLIANCE_CONFIG_DEFAULT, ComplianceConfigSchema } from './compliance-schema.ts';
import { InUseConfigSchema } from './in-use-schema.ts';
import { NotificationsConfigSchema } from './notifications-schema.ts';
import { RegistrySectionSchema } from './registry-schema.ts';
import { TargetsConfigSchema } from './targets-schema.ts';

/**
 * The service's config file. One zod schema per section, strict objects everywhere (a typo is an error, not a
 * silently ignored key), defaults filled in by parsing. `npm run config:schema` writes the JSON Schema for editors.
 */

const expiryMs = (expires: string) => expiryOf({ expires });

/**
 * The settings schemas that need the policy's checks: tag patterns (the RE2 analysis of `shared/policy/regex.ts`) and
 * allow-list entries (the expiry reading of `shared/policy/scan/allow-list.ts`).
 */
export const { TagPatternSchema, TagRulesSchema, PushSettingsSchema, ScanSettingsSchema, AllowListEntrySchema } =
  settingsSchemas({ patternProblem: regexProblem, expiryMs });
export { CleanupSettingsSchema, TagMutabilitySchema };

/** The registry a cleanup rule applies to: the account's private ECR registry, or its ECR Public one. */
export const CleanupRegistrySchema = z
  .enum(['private', 'public'])
  .describe(
    "The registry whose repositories this rule applies to: 'private' (ECR, in the service's region) or 'public' (ECR Public).",
  );

/**
 * The cleanup settings that rest on pull times, which ECR Public does not record: a public rule may not set them,
 * nor inherit them from the defaults (they would silently mean something else: push time, as for a never-pulled
 * image).
 */
export const PULL_BASED_CLEANUP_SETTINGS = ['notPulledForDays'] as const satisfies readonly (keyof z.infer<
  typeof CleanupSettingsSchema
>)[];

/** The cleanup settings of ECR's archive storage class, which ECR Public does not have: a public rule may not set them. */
export const ARCHIVE_CLEANUP_SETTINGS = [
  'action',
  'deleteArchivedAfterDays',
] as const satisfies readonly (keyof z.infer<typeof CleanupSettingsSchema>)[];

/** Whether an archive setting's value asks for the archive (`action: 'delete'` does not). */
const usesArchive = (setting: (typeof ARCHIVE_CLEANUP_SETTINGS)[number], value: unknown) =>
  value !== undefined && !(setting === 'action' && value === 'delete');

export const CleanupRuleSchema = CleanupSettingsSchema.partial().extend({
  registry: CleanupRegistrySchema.default('private'),
  repositories: z.array(RepositoryGlob).min(1).describe('Repository-name globs this rule applies to.'),
  exclude: z.array(RepositoryGlob).default([]).describe('Repository-name globs excluded from this rule.'),
  enabled: z.boolean().default(true).describe('A disabled rule matches its repositories and leaves them alone.'),
});
export type CleanupRuleConfig = z.infer<typeof CleanupRuleSchema>;

export const CleanupConfigSchema = z
  .strictObject({
    dryRun: z.boolean().default(false).describe('Plan and report only; the ECR gateway refuses every mutating call.'),
    defaults: CleanupSettingsSchema.partial().default({}),
    rules: z
      .array(CleanupRuleSchema.strict())
      .default([])
      .describe(
        'The first rule of a registry whose globs match a repository of that registry decides its settings; unmatched repositories are left alone.',
      ),
    inUse: InUseConfigSchema.optional(),
  })
  .superRefine((cleanup, context) => {
    // Tag selections' regexes: RE2 syntax within the cost bounds, refused with the pattern's field path.
    const checkSelections = (selections: readonly TagSelection[] | undefined, path: (string | number)[]) => {
      selections?.forEach((selection, s) => {
        selection.tags.forEach((pattern, p) => {
          if (typeof pattern !== 'object' || !('regex' in pattern)) return;
          const problem = regexProblem(pattern.regex);
          if (problem !== undefined) {
            context.addIssue({
              code: 'custom',
              path: [...path, 'tagSelections', s, 'tags', p, 'regex'],
              message: problem,
            });
          }
        });
      });
    };
    checkSelections(cleanup.defaults.tagSelections, ['defaults']);
    for (const [index, rule] of cleanup.rules.entries()) checkSelections(rule.tagSelections, ['rules', index]);
    cleanup.rules.forEach((rule, index) => {
      if (rule.registry !== 'public') return;
      for (const setting of PULL_BASED_CLEANUP_SETTINGS) {
        if (rule[setting] !== undefined) {
          context.addIssue({
            code: 'custom',
            path: ['rules', index, setting],
            message: `ECR Public records no pull time, so ${setting} cannot apply to a public rule`,
          });
        } else if (cleanup.defaults[setting] !== undefined) {
          context.addIssue({
            code: 'custom',
            path: ['defaults', setting],
            message: `ECR Public records no pull time, so ${setting} cannot apply to a public rule (rules[${index}] would inherit it from the defaults: set it on the private rules instead)`,
          });
        }
      }
      for (const setting of ARCHIVE_CLEANUP_SETTINGS) {
        if (usesArchive(setting, rule[setting])) {
          context.addIssue({
            code: 'custom',
            path: ['rules', index, setting],
            message: `ECR Public has no archive storage class, so ${setting} cannot apply to a public rule`,
          });
        } else if (rule[setting] === undefined && usesArchive(setting, cleanup.defaults[setting])) {
          context.addIssue({
            code: 'custom',
            path: ['defaults', setting],
            message: `ECR Public has no archive storage class, so ${setting} cannot apply to a public rule (rules[${index}] would inherit it from the defaults: set it on the private rules instead)`,
          });
        }
      }
      // The same for a tag selection's pull condition, on the rule's own selections or the ones it inherits.
      const own = rule.tagSelections !== undefined;
      (rule.tagSelections ?? cleanup.defaults.tagSelections ?? []).forEach((selection, s) => {
        if (selection.keepPulledWithinDays === undefined) return;
        context.addIssue({
          code: 'custom',
          path: [...(own ? ['rules', index] : ['defaults']), 'tagSelections', s, 'keepPulledWithinDays'],
          message: own
            ? 'ECR Public records no pull time, so keepPulledWithinDays cannot apply to a public rule'
            : `ECR Public records no pull time, so keepPulledWithinDays cannot apply to a public rule (rules[${index}] would inherit these selections from the defaults: give it its own tagSelections)`,
        });
      });
    });
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
  targets: TargetsConfigSchema.optional(),
  notifications: NotificationsConfigSchema.optional(),
});
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;

/** The JSON Schema of the config file, for editors (`"$schema": "./config.schema.json"`). */
export const serviceConfigJsonSchema = () => z.toJSONSchema(ServiceConfigSchema, { io: 'input' });
