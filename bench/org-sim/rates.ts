/**
 * The request rates the model of ECR allows each account and region, in a module of their own: the benchmark's
 * main thread reads them without loading the model, the SDK or the service.
 */

/** A request rate: tokens per second, and the bucket's size (the burst a quiet client may send at once). */
export interface ApiRate {
  perSecond: number;
  burst: number;
}

/**
 * The request rates per account and region. ECR's user guide publishes rates for a few APIs only
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html, [UG-QUOTA] in
 * docs/ecr-limits.md#service-quotas): BatchGetImage 2,000 per second (and PutImage 10, which the cleanup does not
 * call). It publishes none for DescribeImages, BatchDeleteImage, DescribeRepositories or the pull-time exclusion
 * calls; for those the values below are conservative choices of this simulation (UNCONFIRMED: AWS states no
 * figure), each overridable with BENCH_ORG_RATE_<Operation>=<perSecond>[:<burst>].
 */
export const DEFAULT_RATES: Readonly<Record<string, ApiRate>> = {
  // Published: 2,000 per second.
  BatchGetImage: { perSecond: 2_000, burst: 2_000 },
  // Not published: chosen.
  DescribeImages: { perSecond: 20, burst: 40 },
  BatchDeleteImage: { perSecond: 10, burst: 20 },
  DescribeRepositories: { perSecond: 10, burst: 20 },
  ListPullTimeUpdateExclusions: { perSecond: 5, burst: 10 },
  RegisterPullTimeUpdateExclusion: { perSecond: 5, burst: 10 },
};

/** Any operation not listed above. */
export const FALLBACK_RATE: ApiRate = { perSecond: 5, burst: 10 };
