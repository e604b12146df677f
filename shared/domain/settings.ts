import { z } from 'zod';

/**
 * The settings of one repository the policy decides with, as zod schemas: the config file's sections are built from
 * them (`shared/config/`), and the policy's types are inferred from them, so the two never declare the same shape
 * twice. Only the shapes live here; the defaults live with the policy, the rule sections with the config.
 *
 * The tag-pattern schemas need a check of a pattern's regular expression (the RE2 analysis of
 * `shared/policy/regex.ts`), and the allow-list entries a reading of their expiry (`shared/policy/scan/allow-list.ts`),
 * which this folder may not import: `settingsSchemas` takes them as parameters.
 */

/** A repository-name glob as the config writes it. */
export const RepositoryGlob = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-z0-9._\-/*?]+$/, 'a repository-name glob: lower-case letters, digits, . _ - / and the wildcards * ** ?');

const Days = z.number().int().min(0).max(3650);

/**
 * A tag pattern of a cleanup tag selection: a glob, `{ regex }` (RE2, anchored), `{ form: 'semver' }`, or
 * `{ form: 'any' }` (every tag). The config checks a regex's cost with the policy's RE2 analysis
 * (`shared/config/schema.ts`), which this folder may not import.
 */
export const SelectionPatternSchema = z
  .union([
    z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9_.*?-]+$/, 'a tag glob: letters, digits, _ . - and the wildcards * ?')
      .describe('A tag glob: `*` matches any run of characters, `?` one character.'),
    z
      .strictObject({ regex: z.string().min(1).max(256) })
      .describe('A regular expression in RE2 syntax, matched in linear time; it must match the whole tag (anchored).'),
    z
      .strictObject({ form: z.enum(['semver', 'any']) })
      .describe('A named form: `semver` (Semantic Versioning 2.0.0, optional leading `v`) or `any` (every tag).'),
  ])
  .describe('A tag pattern: a glob string, { "regex": "..." }, { "form": "semver" } or { "form": "any" }.');
export type SelectionPattern = z.output<typeof SelectionPatternSchema>;

export const TagSelectionSchema = z.strictObject({
  tags: z.array(SelectionPatternSchema).min(1).max(20).describe('The tags this selection claims (first match wins).'),
  keepLast: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .optional()
    .describe('Keep the newest N images (by push time) carrying a tag this selection claims; an image counts once.'),
  keepNewerThanDays: Days.optional().describe('Keep images pushed within this many days.'),
  keepPulledWithinDays: Days.optional().describe(
    'Keep images pulled within this many days (push time when never pulled).',
  ),
  protect: z.boolean().optional().describe('Never release a tag this selection claims.'),
});
export type TagSelection = z.output<typeof TagSelectionSchema>;

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
  tagSelections: z
    .array(TagSelectionSchema)
    .max(50)
    .optional()
    .describe(
      'Retention of tagged images: each tag is claimed by the first selection whose pattern matches it; an image is deleted only when every tag it carries is released by the selection that claims it. A tag no selection claims keeps its image.',
    ),
  maxTaggedDeleteFraction: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe(
      "Safety brake for tagged images: refuse to delete more than this share of a repository's tagged images in one run.",
    ),
  action: z
    .enum(['delete', 'archive'])
    .optional()
    .describe(
      "What happens to the images the rule selects: 'delete' (the default) deletes them; 'archive' moves them to ECR's archive storage class (UpdateImageStorageClass), from which they can be restored. Private repositories only: ECR Public has no archive.",
    ),
  deleteArchivedAfterDays: z
    .number()
    .int()
    .min(1)
    .max(36_500)
    .optional()
    .describe(
      'Delete archived images (archived by this service or anyone) whose last archiving is more than this many days ago. Absent: archived images are kept. ECR charges at least 90 days of archive storage per archived image, even when it is deleted sooner. Private repositories only.',
    ),
});
/** The cleanup policy of one repository (`shared/policy/cleanup/plan.ts` names it `CleanupRule`). */
export type CleanupSettings = z.output<typeof CleanupSettingsSchema>;

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
    .union([z.literal('cleanup-job'), z.literal('no-breaking-rules'), PolicyDocument])
    .nullable()
    .describe(
      'The required lifecycle policy; "cleanup-job": the cleanup job owns it, so none; "no-breaking-rules": any policy whose rules do not break the cleanup\'s invariants (index children, signatures, releases; each offending rule reported); null: not checked.',
    ),
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

/** The compliance policy of one repository (`shared/policy/compliance/policy.ts` names it `CompliancePolicy`). */
export type ComplianceSettings = z.output<typeof ComplianceSettingsSchema>;

/** [M-ECRPUB] LogoImageBlob: a PNG of at most 512,000 bytes. */
export const MAX_PUBLIC_LOGO_BYTES = 512_000;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Why a base64 logo is refused (not base64, empty, too large, not a PNG), or undefined when ECR Public takes it. */
export function publicLogoProblem(base64: string): string | undefined {
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) return 'the logo must be base64 (RFC 4648, padded)';
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0) return 'the logo is empty';
  if (bytes.length > MAX_PUBLIC_LOGO_BYTES) {
    return `the logo is ${bytes.length} bytes; ECR Public takes at most ${MAX_PUBLIC_LOGO_BYTES}`;
  }
  if (!PNG_SIGNATURE.every((byte, index) => bytes[index] === byte)) return 'the logo must be a PNG image';
  return undefined;
}

/** The catalog data fields of an ECR Public repository a rule may require. */
export const PUBLIC_CATALOG_FIELDS = [
  'description',
  'aboutText',
  'usageText',
  'architectures',
  'operatingSystems',
  'logo',
] as const;
export type PublicCatalogField = (typeof PUBLIC_CATALOG_FIELDS)[number];

/** [M-ECRPUB] Architecture and OperatingSystem: strings of 1 to 50 characters, at most 50 of each. */
const CatalogLabel = z.string().min(1).max(50);

/** The catalog data enforce mode fills in, within ECR Public's limits [M-ECRPUB]. */
export const PublicCatalogValuesSchema = z.strictObject({
  description: z.string().min(1).max(1024).optional().describe('The short description (at most 1,024 characters).'),
  aboutText: z
    .string()
    .min(1)
    .max(25_600)
    .optional()
    .describe('The "About" section, in Markdown (at most 25,600 characters).'),
  usageText: z
    .string()
    .min(1)
    .max(25_600)
    .optional()
    .describe('The "Usage" section, in Markdown (at most 25,600 characters).'),
  architectures: z
    .array(CatalogLabel)
    .min(1)
    .max(50)
    .optional()
    .describe(
      'Architectures (1 to 50 characters each, at most 50); the Gallery shows ARM, ARM 64, x86 and x86-64 as badges.',
    ),
  operatingSystems: z
    .array(CatalogLabel)
    .min(1)
    .max(50)
    .optional()
    .describe(
      'Operating systems (1 to 50 characters each, at most 50); the Gallery shows Linux and Windows as badges.',
    ),
  logo: z
    .string()
    .max(Math.ceil(MAX_PUBLIC_LOGO_BYTES / 3) * 4 + 4)
    .superRefine((value, context) => {
      const problem = publicLogoProblem(value);
      if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe('The logo: a PNG of at most 512,000 bytes, base64-encoded.'),
});
export type PublicCatalogValues = z.output<typeof PublicCatalogValuesSchema>;

export const PublicComplianceSettingsSchema = z.strictObject({
  mode: z
    .enum(['report', 'enforce'])
    .describe('report: publish findings only. enforce: also fill in the catalog data from `catalog`.'),
  requiredCatalog: z
    .array(z.enum(PUBLIC_CATALOG_FIELDS))
    .max(PUBLIC_CATALOG_FIELDS.length)
    .describe('Catalog data fields every repository must have (an empty string or list counts as missing).'),
  catalog: PublicCatalogValuesSchema.describe(
    'Enforce mode: the values given to missing fields (a required field without one is reported only).',
  ),
  overwrite: z
    .boolean()
    .describe(
      'Enforce mode: also replace a text or list field whose value differs from `catalog` (never a logo: ECR Public gives back only its URL). false: fill in only what is missing.',
    ),
  forbidPublicWrite: z
    .boolean()
    .describe(
      'The repository policy may grant no write action (ecr-public:PutImage, ...: anything but reads) to everyone ("*") without a condition. Reading is public by nature.',
    ),
});

/** The compliance policy of one public repository (`PublicCompliancePolicy` in `shared/policy/compliance/`). */
export type PublicComplianceSettings = z.output<typeof PublicComplianceSettingsSchema>;

/** The checks the schemas need from the policy, which this folder may not import. */
export interface SettingsChecks {
  /** Why a regular expression is refused (too costly, not RE2), or undefined when it is accepted. */
  patternProblem: (source: string) => string | undefined;
  /** When an allow-list entry's `expires` stops counting (epoch ms); NaN when it cannot be read. */
  expiryMs: (expires: string) => number;
}

/** The schemas that need the policy's checks: tag patterns and what is built on them, and allow-list entries. */
export function settingsSchemas({ patternProblem, expiryMs }: SettingsChecks) {
  const TagPatternSchema = z
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
              const problem = patternProblem(source);
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

  const TagRulesSchema = z.strictObject({
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

  const PushSettingsSchema = z.strictObject({
    mode: z
      .enum(['report', 'enforce'])
      .describe(
        'report: publish the verdict only. enforce: also correct the tag mutability and remove offending tags.',
      ),
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

  const FindingCount = z.number().int().min(0).max(1_000_000);

  const ScanSettingsSchema = z.strictObject({
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

  const AllowListEntrySchema = z
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

  return { TagPatternSchema, TagRulesSchema, PushSettingsSchema, ScanSettingsSchema, AllowListEntrySchema };
}

type SettingsSchemas = ReturnType<typeof settingsSchemas>;

/** A tag pattern: a glob, `{ regex }` (RE2, anchored) or `{ form: 'semver' }`. */
export type TagPatternSettings = z.output<SettingsSchemas['TagPatternSchema']>;
/** The tag rules of a push policy. */
export type TagRulesSettings = z.output<SettingsSchemas['TagRulesSchema']>;
/** A repository's required tag mutability. */
export type TagMutabilitySettings = z.output<typeof TagMutabilitySchema>;
/** The push policy of one repository (`shared/policy/push/policy.ts` names it `PushPolicy`). */
export type PushSettings = z.output<SettingsSchemas['PushSettingsSchema']>;
/** The scan policy of one repository (`shared/policy/scan/policy.ts` names it `ScanPolicy`). */
export type ScanSettings = z.output<SettingsSchemas['ScanSettingsSchema']>;
/** An allow-list entry (`shared/policy/scan/allow-list.ts` names it `AllowListEntry`). */
export type AllowListEntrySettings = z.output<SettingsSchemas['AllowListEntrySchema']>;
