import { z } from 'zod';
import { RepositoryGlob } from '../domain/settings.ts';

/**
 * The config's `cleanup.inUse` section: the in-use protection providers of the cleanup ("never delete what runs"),
 * for the account and region the service runs in. Each provider is optional; each covers every repository unless
 * it names `repositories` (globs) or `exclude`. A provider that fails or times out stops every deletion in the
 * repositories it covers for that run (fail closed).
 */

const coverage = {
  repositories: z
    .array(RepositoryGlob)
    .min(1)
    .optional()
    .describe('The repositories whose images this provider protects (globs); default every repository.'),
  exclude: z.array(RepositoryGlob).optional().describe('Repository globs this provider does not cover.'),
};

/** An ECS cluster or Lambda function, by name or ARN. */
const ResourceName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_:/.-]+$/, 'a name or ARN: letters, digits and _ : / . -');

export const EcsInUseSchema = z
  .strictObject({
    clusters: z
      .union([z.literal('all'), z.array(ResourceName).min(1).max(100)])
      .default('all')
      .describe("The clusters whose tasks and services are read: 'all' (ListClusters) or names or ARNs."),
    ...coverage,
  })
  .describe('ECS: running and pending tasks by the digest they run, and the task definitions of active services.');

export const LambdaInUseSchema = z
  .strictObject({
    functions: z
      .union([z.literal('all'), z.array(ResourceName).min(1).max(1000)])
      .default('all')
      .describe("The functions read: 'all' (ListFunctions) or names. Only container-image functions keep images."),
    ...coverage,
  })
  .describe('Lambda: every version and alias of container-image functions, by the digest each resolved to.');

const S3ListSource = z
  .strictObject({
    bucket: z
      .string()
      .min(3)
      .max(63)
      .regex(/^[a-z0-9.-]+$/, 'an S3 bucket name')
      .describe('The bucket of the list object.'),
    key: z
      .string()
      .min(1)
      .max(1024)
      // S3's safe characters less `*`: the key is written into an IAM resource, where `*` and `?` are wildcards.
      .regex(/^[A-Za-z0-9!_.'()/-]+$/, "an S3 key of letters, digits and ! _ . ' ( ) / -")
      .describe('The key of the list object.'),
  })
  .describe('An S3 object holding the list (read with s3:GetObject, at most 8 MiB).');

const SsmListSource = z
  .strictObject({
    parameter: z
      .string()
      .min(1)
      .max(1011)
      .regex(/^[A-Za-z0-9_./-]+$/, 'an SSM parameter name')
      .describe('The name of a String parameter holding the list (read with ssm:GetParameter).'),
  })
  .describe('An SSM parameter holding the list.');

export const KubernetesInUseSchema = z
  .union([z.strictObject({ s3: S3ListSource, ...coverage }), z.strictObject({ ssm: SsmListSource, ...coverage })])
  .describe(
    'Kubernetes (EKS or any cluster): the version-1 image list the cluster exports (README: "Images in use"), from an S3 object or an SSM parameter.',
  );

export const InUseConfigSchema = z
  .strictObject({
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(600)
      .default(60)
      .describe('Each provider’s time limit per run; one that takes longer fails, and fails closed.'),
    cacheSeconds: z
      .number()
      .int()
      .min(0)
      .max(900)
      .default(60)
      .describe(
        'How long a cleanup worker reuses what the providers found for the next repositories it cleans (0: read for every repository). A failed read is never reused.',
      ),
    ecs: EcsInUseSchema.optional(),
    lambda: LambdaInUseSchema.optional(),
    kubernetes: KubernetesInUseSchema.optional(),
  })
  .describe(
    'Images in use are never deleted: each provider lists what runs, and a provider that fails stops deletion in the repositories it covers.',
  );
export type InUseConfig = z.infer<typeof InUseConfigSchema>;

/** Whether any provider is configured (and so whether the cleanup worker's role needs their read actions). */
export const hasInUseProviders = (inUse: InUseConfig | undefined): inUse is InUseConfig =>
  inUse !== undefined && (inUse.ecs !== undefined || inUse.lambda !== undefined || inUse.kubernetes !== undefined);
