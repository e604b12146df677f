import { z } from 'zod';
import { declarationProblems, PREFIX_PATTERN } from '../policy/reconcile/limits.ts';
import type { RegistryDeclaration } from '../policy/reconcile/model.ts';

/**
 * The config's `registry` section: the registry-level settings `reconcile-registry` keeps in line with the config
 * (replication, pull through cache rules, repository creation templates, registry scanning, registry policy). A
 * section left out is not managed; `prune: true` makes the config the owner of the whole section. ECR's limits are
 * checked here, so that a config ECR would refuse is a config error before any call.
 */

/** Policy documents may be written as JSON objects; they are kept as JSON text (what ECR stores). */
const PolicyDocument = z
  .union([z.string().min(1), z.record(z.string(), z.unknown())])
  .transform((value) => (typeof value === 'string' ? value : JSON.stringify(value)));

/** A trailing `/` is always assumed on prefixes ([M-ECR]): `team-a/` and `team-a` are one prefix. */
const Prefix = z
  .string()
  .regex(PREFIX_PATTERN, 'a repository-name prefix (optionally ending in /) or ROOT')
  .transform((prefix) => (prefix.endsWith('/') ? prefix.slice(0, -1) : prefix));

const Prune = z
  .boolean()
  .default(false)
  .describe('The config owns the whole section: what it does not mention is deleted. Default false: left alone.');

export const ReplicationRuleConfigSchema = z.strictObject({
  destinations: z
    .array(
      z.strictObject({
        region: z.string().regex(/^[0-9a-z-]{2,25}$/, 'an AWS region'),
        registryId: z.string().regex(/^[0-9]{12}$/, 'a 12-digit account id'),
      }),
    )
    .min(1)
    .max(25)
    .describe('Where matching repositories are replicated (25 unique destinations across all rules).'),
  repositoryFilters: z
    .array(z.string().min(2).max(256))
    .max(100)
    .default([])
    .describe('Repository-name prefixes (PREFIX_MATCH); none: every repository.'),
});

export const PullThroughCacheRuleConfigSchema = z.strictObject({
  prefix: Prefix.describe('ecrRepositoryPrefix: 2-30 characters of a repository name, or ROOT.'),
  upstreamRegistryUrl: z.string().min(1).describe('registry-1.docker.io, public.ecr.aws, ghcr.io, quay.io, ...'),
  upstreamRegistry: z
    .enum([
      'ecr',
      'ecr-public',
      'quay',
      'k8s',
      'docker-hub',
      'github-container-registry',
      'azure-container-registry',
      'gitlab-container-registry',
      'chainguard',
    ])
    .optional(),
  credentialArn: z
    .string()
    .optional()
    .describe('Secrets Manager secret ecr-pullthroughcache/... (Docker Hub, GHCR, ...).'),
  customRoleArn: z.string().max(2048).optional(),
  upstreamRepositoryPrefix: z.string().min(2).max(30).optional(),
});

const Mutability = z.enum(['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION']);

export const CreationTemplateConfigSchema = z.strictObject({
  prefix: Prefix.describe('Repositories created under this prefix get the template; ROOT: every other one.'),
  appliedFor: z
    .array(z.enum(['REPLICATION', 'PULL_THROUGH_CACHE', 'CREATE_ON_PUSH']))
    .min(1)
    .max(3)
    .describe('The ways of creating a repository the template applies to.'),
  description: z.string().max(256).optional(),
  imageTagMutability: Mutability.default('MUTABLE'),
  imageTagMutabilityExclusionFilters: z
    .array(z.string().regex(/^[0-9a-zA-Z._*-]{1,128}$/, 'a WILDCARD tag filter'))
    .max(5)
    .default([]),
  encryptionType: z.enum(['AES256', 'KMS', 'KMS_DSSE']).default('AES256'),
  kmsKey: z.string().min(1).max(2048).optional(),
  lifecyclePolicy: PolicyDocument.optional().describe('A lifecycle policy (JSON object or text) for new repositories.'),
  repositoryPolicy: PolicyDocument.optional().describe(
    'A repository policy (JSON object or text) for new repositories.',
  ),
  resourceTags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
  customRoleArn: z.string().max(2048).optional(),
});

export const RegistryScanningConfigSchema = z.strictObject({
  prune: z
    .boolean()
    .default(false)
    .describe("The config's filters replace the registry's; default false: the config's filters are added."),
  scanType: z.enum(['BASIC', 'ENHANCED']).optional().describe("Absent: the registry's scan type is kept."),
  rules: z
    .array(
      z.strictObject({
        scanFrequency: z.enum(['SCAN_ON_PUSH', 'CONTINUOUS_SCAN']),
        repositoryFilters: z.array(z.string().min(1).max(255)).max(100).describe('WILDCARD filters (`*`).'),
      }),
    )
    .max(2)
    .default([]),
});

const OneOrMore = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const Principals = z.union([z.literal('*'), z.record(z.string(), z.union([z.string(), z.array(z.string())]))]);

/** One registry policy statement, IAM's shape; `Sid` is required (its identity when files merge and plans compare). */
export const PolicyStatementConfigSchema = z
  .strictObject({
    Sid: z
      .string()
      .regex(/^[A-Za-z0-9]+$/, "IAM's Sid: letters and digits only")
      .describe('Required, unique across every config file: the statement is compared and merged by its Sid.'),
    Effect: z.enum(['Allow', 'Deny']),
    Principal: Principals.optional(),
    NotPrincipal: Principals.optional(),
    Action: OneOrMore.optional().describe(
      'ecr:CreateRepository, ecr:ReplicateImage, ecr:BatchImportUpstreamImage, ...',
    ),
    NotAction: OneOrMore.optional(),
    Resource: OneOrMore.optional(),
    NotResource: OneOrMore.optional(),
    Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .refine((statement) => (statement.Principal === undefined) !== (statement.NotPrincipal === undefined), {
    message: 'a registry policy statement needs Principal or NotPrincipal (one of them)',
  })
  .refine((statement) => (statement.Action === undefined) !== (statement.NotAction === undefined), {
    message: 'a registry policy statement needs Action or NotAction (one of them)',
  });

export const RegistrySectionSchema = z
  .strictObject({
    dryRun: z.boolean().default(false).describe('Plan and report only; the ECR gateway refuses every mutating call.'),
    replication: z
      .strictObject({ prune: Prune, rules: z.array(ReplicationRuleConfigSchema).max(10) })
      .optional()
      .describe('Replication rules (10 at most, 25 unique destinations).'),
    pullThroughCache: z
      .strictObject({ prune: Prune, rules: z.array(PullThroughCacheRuleConfigSchema).max(50) })
      .optional()
      .describe('Pull through cache rules (50 at most).'),
    creationTemplates: z
      .strictObject({ prune: Prune, templates: z.array(CreationTemplateConfigSchema) })
      .optional()
      .describe('Repository creation templates.'),
    scanning: RegistryScanningConfigSchema.optional().describe(
      'Registry scanning. Absent: left as it is (never switched off because the section is gone).',
    ),
    registryPolicy: z
      .strictObject({
        prune: z
          .boolean()
          .default(false)
          .describe(
            "The config owns the whole policy: statements it does not mention are removed, and the policy is deleted when none is left. Default false: the registry's other statements are kept.",
          ),
        statements: z.array(PolicyStatementConfigSchema).default([]),
      })
      .optional()
      .describe(
        'Statements of the registry policy (GetRegistryPolicy / PutRegistryPolicy), by Sid; 10,240 characters at most in all.',
      ),
  })
  .superRefine((section, ctx) => {
    for (const problem of declarationProblems(declarationOf(section), '')) {
      const [path = '', message = problem] = problem.split(/: (.*)/s);
      const parts = path
        .replace(/^\./, '')
        .split(/[.[\]]+/)
        .filter(Boolean)
        .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
      ctx.addIssue({ code: 'custom', path: parts, message });
    }
  });
export type RegistrySection = z.infer<typeof RegistrySectionSchema>;

/** The `registry` section as the reconciler's declaration (the shapes are the same; this drops `dryRun`). */
export function declarationOf(section: Omit<RegistrySection, 'dryRun'>): RegistryDeclaration {
  const declaration: RegistryDeclaration = {};
  if (section.replication) declaration.replication = section.replication;
  if (section.pullThroughCache) declaration.pullThroughCache = section.pullThroughCache;
  if (section.creationTemplates) declaration.creationTemplates = section.creationTemplates;
  if (section.scanning) declaration.scanning = section.scanning;
  if (section.registryPolicy) declaration.registryPolicy = section.registryPolicy;
  return declaration;
}
