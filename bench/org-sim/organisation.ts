import { prng } from '../prng.ts';

/**
 * The simulated organisation: accounts × regions (the targets), repositories spread unevenly over them and images
 * spread unevenly over the repositories, all from one seed. Only the repositories' names, sizes and seeds are held;
 * their images are generated when a repository is first read (`model.ts`).
 */

export interface OrganisationSpec {
  accounts: number;
  regions: readonly string[];
  repositories: number;
  images: number;
  seed: number;
}

export interface RepositorySpec {
  /** Position in the organisation (0 … repositories − 1): the key of its per-repository counters. */
  index: number;
  name: string;
  images: number;
  /** The seed its images are generated from. */
  seed: number;
  /** A CI repository nobody cleaned for a year (mostly stale untagged builds), rather than a busy service's. */
  stale: boolean;
}

export interface TargetSpec {
  account: string;
  region: string;
  repositories: RepositorySpec[];
}

export interface Organisation {
  spec: OrganisationSpec;
  targets: TargetSpec[];
  /** Every repository, by `index`. */
  repositories: RepositorySpec[];
  /** The largest repository's image count. */
  largestRepository: number;
}

/** ECR's default quota of images per repository ([UG-QUOTA], docs/ecr-limits.md#service-quotas). */
export const MAX_IMAGES_PER_REPOSITORY = 100_000;

/** `count` split in proportion to `weights` (largest remainder), each share at least `min`. */
function apportion(count: number, weights: readonly number[], min: number): number[] {
  const total = weights.reduce((sum, w) => sum + w, 0);
  const free = count - min * weights.length;
  if (free < 0) throw new Error(`cannot give ${weights.length} shares at least ${min} each out of ${count}`);
  const exact = weights.map((w) => (free * w) / total);
  const shares = exact.map((x) => Math.floor(x));
  let left = free - shares.reduce((sum, n) => sum + n, 0);
  const byRemainder = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left <= 0) break;
    shares[i] = (shares[i] ?? 0) + 1;
    left -= 1;
  }
  return shares.map((n) => n + min);
}

/** The 12-digit id of the organisation's `n`-th account. */
export const accountId = (n: number): string => String(100_000_000_000 + n * 7_919).padStart(12, '0');

/**
 * Builds the organisation: target sizes skewed (a few accounts hold many repositories), repository sizes mostly
 * around the mean with 1 % holding 10–40 times as many images (capped at ECR's 100,000 a repository), and 30 % of
 * the repositories stale CI ones.
 */
export function buildOrganisation(spec: OrganisationSpec): Organisation {
  const random = prng(spec.seed);
  const targetsCount = spec.accounts * spec.regions.length;
  if (spec.repositories < targetsCount) throw new Error('fewer repositories than account-regions');
  if (spec.images < spec.repositories) throw new Error('fewer images than repositories');
  const targetWeights = Array.from({ length: targetsCount }, () => 0.3 + 3 * random() ** 2);
  const repositoriesPerTarget = apportion(spec.repositories, targetWeights, 1);
  const imageWeights = Array.from({ length: spec.repositories }, () =>
    random() < 0.01 ? 10 + 30 * random() : 0.5 + random(),
  );
  const imageCounts = apportion(spec.images, imageWeights, 1);
  // Above ECR's quota, the excess goes to the smallest repositories, one image each in turn.
  let excess = 0;
  for (const [i, n] of imageCounts.entries()) {
    if (n > MAX_IMAGES_PER_REPOSITORY) {
      excess += n - MAX_IMAGES_PER_REPOSITORY;
      imageCounts[i] = MAX_IMAGES_PER_REPOSITORY;
    }
  }
  for (let i = 0; excess > 0; i = (i + 1) % imageCounts.length) {
    if ((imageCounts[i] ?? 0) < MAX_IMAGES_PER_REPOSITORY) {
      imageCounts[i] = (imageCounts[i] ?? 0) + 1;
      excess -= 1;
    }
  }
  const repositories: RepositorySpec[] = imageCounts.map((images, index) => ({
    index,
    name: `team-${index % 50}/service-${index}`,
    images,
    seed: Math.floor(random() * 2 ** 31),
    stale: random() < 0.3,
  }));
  const targets: TargetSpec[] = [];
  let next = 0;
  for (let a = 0; a < spec.accounts; a++) {
    for (const region of spec.regions) {
      const count = repositoriesPerTarget[targets.length] ?? 0;
      targets.push({ account: accountId(a), region, repositories: repositories.slice(next, next + count) });
      next += count;
    }
  }
  return {
    spec,
    targets,
    repositories,
    largestRepository: imageCounts.reduce((max, n) => Math.max(max, n), 0),
  };
}

/** The organisation of 100 accounts × 2 regions, 20,000 repositories, 20,000,000 images, scaled. */
export function organisationAt(scale: number): OrganisationSpec {
  const accounts = Math.max(1, Math.round(100 * scale));
  const regions = ['us-east-1', 'eu-west-1'];
  const repositories = Math.max(accounts * regions.length, Math.round(20_000 * scale));
  return {
    accounts,
    regions,
    repositories,
    images: Math.max(repositories, Math.round(20_000_000 * scale)),
    seed: 20_261_206,
  };
}
