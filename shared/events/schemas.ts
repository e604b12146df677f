import { z } from 'zod';

/** detail-types of the events the service publishes on its bus. */
export const DETAIL_TYPES = {
  cleanupWorkItem: 'Cleanup Work Item',
  cleanupReport: 'Cleanup Report',
  cleanupFanOutReport: 'Cleanup Fan-Out Report',
  organisationCleanupReport: 'Organisation Cleanup Report',
  imagePushVerdict: 'Image Push Verdict',
  imageScanVerdict: 'Image Scan Verdict',
  allowListReport: 'Allow List Report',
  complianceReport: 'Compliance Report',
  complianceDrift: 'Compliance Drift',
  registryReconcileReport: 'Registry Reconcile Report',
} as const;

/** detail-types of the ECR events the service reacts to (`source: aws.ecr`). */
export const ECR_DETAIL_TYPES = {
  imageAction: 'ECR Image Action',
  imageScan: 'ECR Image Scan',
} as const;

/** detail-types of the Inspector events the service reacts to (`source: aws.inspector2`, enhanced scanning). */
export const INSPECTOR_DETAIL_TYPES = {
  scan: 'Inspector2 Scan',
  finding: 'Inspector2 Finding',
} as const;

const REPOSITORY_NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const RepositoryName = z.string().min(2).max(256).regex(REPOSITORY_NAME, 'an ECR repository name');

const REPOSITORY_ARN_PREFIX = /^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository\//;

/** A repository name, or its ARN (as Inspector writes it). */
const RepositoryNameOrArn = z
  .string()
  .min(2)
  .max(2048)
  .refine((value) => REPOSITORY_NAME.test(value.replace(REPOSITORY_ARN_PREFIX, '')), 'an ECR repository name or ARN');

/**
 * One repository to clean: published by `scheduled-cleanup`, or by a worker handing over before its deadline.
 * The worker trusts an item only for *what to look at* (repository, run id, part): the plan, the quiet period and
 * the safety brake are recomputed from the worker's own config, the registry's state and the worker's own clock.
 */
/** An AWS account id (12 digits), as work items and reports name a target account. */
export const TargetAccount = z.string().regex(/^\d{12}$/, 'an AWS account id: 12 digits');
/** An AWS region's name (`eu-west-1`, `us-gov-west-1`); the worker cleans only in its config's regions. */
export const TargetRegionName = z.string().regex(/^[a-z]{2}(?:-[a-z]{1,12}){1,3}-\d{1,2}$/, 'an AWS region name');

export const CleanupWorkItemSchema = z
  .strictObject({
    runId: z.string().min(1).max(128),
    /**
     * The target account and region (the config's `targets`), both or neither; absent: the deployment's own account
     * and region. They say only where to look: the worker cleans only in an account and region its own config's
     * `targets` names (and the organisation lists, for accounts found by organisational unit).
     */
    account: TargetAccount.optional(),
    region: TargetRegionName.optional(),
    /**
     * The registry of the repository: `public` for ECR Public, absent for the private registry. It says only where to
     * look: the worker cleans only a repository one of its own config's rules for that registry matches.
     */
    registry: z.enum(['private', 'public']).optional(),
    repositoryName: RepositoryName,
    /** May turn dry run on, never off: the config's `cleanup.dryRun: true` stands. */
    dryRun: z.boolean(),
    /** 1 for the first invocation; a follow-up continues the same run as part 2, 3, ... */
    part: z.number().int().min(1).max(10_000).default(1),
    /** When the run was scheduled, for the record only: the worker plans with its own clock. */
    plannedAt: z.iso.datetime(),
    /**
     * Ignored. Older versions marked follow-ups with it to skip the safety brake; it is still accepted so that items in
     * flight across a deployment parse, but only the config (`allowMassDelete`) lifts the brake.
     */
    brakeCleared: z.boolean().optional(),
  })
  .refine((item) => (item.account === undefined) === (item.region === undefined), {
    message: 'a target names both its account and its region, or neither',
    path: ['region'],
  });
export type CleanupWorkItem = z.infer<typeof CleanupWorkItemSchema>;

/** The schedule's event (`detail: {}`), or a manual run's overrides. */
export const ScheduledCleanupDetailSchema = z.strictObject({
  /** May turn dry run on, never off: the config's `cleanup.dryRun: true` stands. */
  dryRun: z.boolean().optional(),
  /** Only these repository-name globs (default: every repository a rule matches). */
  repositories: z.array(z.string().min(1).max(256)).min(1).optional(),
});
export type ScheduledCleanupDetail = z.infer<typeof ScheduledCleanupDetailSchema>;

/**
 * An image digest as ECR writes it: `sha256:` and 64 lowercase hex digits (`sha512:` and 128 for the OCI's other
 * registered algorithm). Anything else (`sha256:xyz`) is rejected at the edge: it could only fail later, after ECR
 * calls, on every retry.
 */
export const ImageDigest = z
  .string()
  .regex(/^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/, 'an image digest (sha256: and 64 lowercase hex digits)');

/** An image tag: ECR's limit is 300 characters of letters, digits, `.`, `_` and `-` (not starting with `.` or `-`). */
const ImageTag = z
  .string()
  .regex(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,299}$/, 'an image tag (letters, digits, . _ -; at most 300 characters)');

/** A media type (`type/subtype`, with optional parameters after `;`), as ECR names manifests and artifacts. */
const MediaType = z
  .string()
  .max(255)
  .regex(
    /^[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]*\/[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]*(?:\s*;.*)?$/,
    'a media type (type/subtype)',
  );

/**
 * The detail of ECR's "ECR Image Action" event (docs/ecr-limits.md#ecr-events): `action-type` PUSH, DELETE or
 * UPDATE_STORAGE_CLASS. Only `action-type`, `result`, `repository-name` and `image-digest` are always present;
 * `image-tag` is absent for a push or delete by digest. Unknown fields are allowed (AWS adds fields to its events
 * without notice).
 */
export const EcrImageActionDetailSchema = z.looseObject({
  'action-type': z.string().min(1),
  result: z.string().min(1),
  'repository-name': RepositoryName,
  'image-digest': ImageDigest,
  'image-tag': ImageTag.optional(),
  'manifest-media-type': MediaType.optional(),
  'artifact-media-type': MediaType.optional(),
  'target-storage-class': z.string().optional(),
  'last-activated-at': z.string().optional(),
});
export type EcrImageActionDetail = z.infer<typeof EcrImageActionDetailSchema>;

/** A successful push: what the `on-image-push` rule lets through. */
export const EcrImagePushDetailSchema = EcrImageActionDetailSchema.extend({
  'action-type': z.literal('PUSH'),
  result: z.literal('SUCCESS'),
});
export type EcrImagePushDetail = z.infer<typeof EcrImagePushDetailSchema>;

/**
 * `finding-severity-counts`: severities with no findings are absent; Inspector adds `TOTAL`
 * (docs/ecr-limits.md#events).
 */
const SeverityCounts = z.record(z.string(), z.number().int().min(0));

/**
 * The detail of ECR's "ECR Image Scan" (basic scanning, docs/ecr-limits.md#ecr-events): `scan-status` COMPLETE, or
 * FAILED. `image-tags` may be empty. Unknown fields are allowed.
 */
export const EcrImageScanDetailSchema = z.looseObject({
  'scan-status': z.string().min(1),
  'repository-name': RepositoryName,
  'image-digest': ImageDigest,
  'image-tags': z.array(ImageTag).max(1000).default([]),
  'finding-severity-counts': SeverityCounts.optional(),
});
export type EcrImageScanDetail = z.infer<typeof EcrImageScanDetailSchema>;

/**
 * The detail of Inspector's "Inspector2 Scan" (the initial enhanced scan of an image). Its `repository-name` holds the
 * repository ARN in AWS's example, not the name (docs/ecr-limits.md#inspector-events): both are accepted.
 */
export const InspectorScanDetailSchema = z.looseObject({
  'scan-status': z.string().min(1),
  'repository-name': RepositoryNameOrArn,
  'image-digest': ImageDigest,
  'image-tags': z.array(ImageTag).max(1000).default([]),
  'finding-severity-counts': SeverityCounts.optional(),
});
export type InspectorScanDetail = z.infer<typeof InspectorScanDetailSchema>;

/**
 * The detail of "Inspector2 Finding": an Inspector `Finding` (docs/ecr-limits.md#inspector-events), reduced to what
 * the verdict reads. The image is `resources[].details.awsEcrContainerImage` (`imageHash` is the digest); timestamps
 * are human strings ("Dec 3, 2021, 6:02:30 PM"), not ISO; `status` CLOSED means the finding went away.
 */
export const InspectorFindingDetailSchema = z.looseObject({
  findingArn: z.string().min(1),
  severity: z.string().min(1),
  status: z.string().min(1),
  type: z.string().optional(),
  title: z.string().optional(),
  inspectorScore: z.number().optional(),
  fixAvailable: z.string().optional(),
  exploitAvailable: z.string().optional(),
  firstObservedAt: z.string().optional(),
  updatedAt: z.string().optional(),
  packageVulnerabilityDetails: z
    .looseObject({
      vulnerabilityId: z.string().min(1),
      vulnerablePackages: z
        .array(
          z.looseObject({
            name: z.string(),
            version: z.string().optional(),
            fixedInVersion: z.string().optional(),
          }),
        )
        .default([]),
    })
    .optional(),
  resources: z
    .array(
      z.looseObject({
        type: z.string(),
        id: z.string().optional(),
        details: z
          .looseObject({
            awsEcrContainerImage: z
              .looseObject({
                repositoryName: RepositoryName,
                imageHash: ImageDigest,
                imageTags: z.array(ImageTag).max(1000).optional(),
              })
              .optional(),
          })
          .optional(),
      }),
    )
    .min(1),
});
export type InspectorFindingDetail = z.infer<typeof InspectorFindingDetailSchema>;
