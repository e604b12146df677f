/**
 * Images that run: what the in-use protection providers (ECS, Lambda, Kubernetes lists) report, and what the
 * cleanup planner keeps because of it. Pure shapes, shared by the providers (`shared/in-use/`) and the policy.
 */

/** Where an image is used, for the plan's reason: `ecs` `cluster/service` or `cluster/task`, `lambda` `function:alias`, `k8s` `namespace/pod`. */
export interface InUseReference {
  provider: 'ecs' | 'lambda' | 'k8s';
  where: string;
}

/**
 * One image reference a provider found in use, already resolved to this registry: the repository's name, and the
 * digest when the workload pins one or the provider resolved it, else the tag it names.
 */
export interface InUseImage {
  /** The private registry of an account (`<acct>.dkr.ecr.<region>.amazonaws.com`), or ECR Public (`public.ecr.aws`). Default private. */
  registry?: 'private' | 'public';
  /** The account that owns the registry the reference names; for ECR Public, the registry's alias. */
  registryId: string;
  region: string;
  repositoryName: string;
  digest?: string;
  tag?: string;
  usedBy: InUseReference;
}

/** What the providers gathered for a run: the images in use, and the providers that failed (fail closed). */
export interface InUseSnapshot {
  images: readonly InUseImage[];
  /** A provider that failed or timed out: nothing is deleted in the repositories it covers, and the report says why. */
  failures: readonly InUseFailure[];
}

/** A provider that failed or timed out, and the repositories it covers (globs; absent: every repository). */
export interface InUseFailure {
  provider: InUseReference['provider'];
  message: string;
  repositories?: readonly string[];
  exclude?: readonly string[];
}
