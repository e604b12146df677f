import { performance } from 'node:perf_hooks';
import { checkLifecyclePolicy, evaluateLifecyclePolicy, type LifecycleImage } from '@ecr-automation/lifecycle';
import { lintLifecyclePolicy } from '../shared/policy/lifecycle-lint/lint.ts';
import { emit, intEnv, progress, round } from './lib.ts';
import { prng } from './prng.ts';

/**
 * A lifecycle policy preview over one large repository: the work behind the local registry's
 * GetLifecyclePolicyPreview and the service's lifecycle comparison. A realistic three-rule policy (keep the newest
 * 50 `release-*` images, expire untagged images after 14 days, archive anything not pulled for 90 days) over
 * BENCH_LIFECYCLE_IMAGES images (default 100,000): multi-architecture indexes with two children each, signatures
 * (referrers) of a third of the indexes, single-platform images tagged `main-<sha>`, `pr-<n>-<sha>` or
 * `release-<version>`, untagged leftovers, a tenth of them archived; pushes spread over a year, half of them
 * pulled. The figure is the median of BENCH_LIFECYCLE_RUNS evaluations (default 7) after 2 warm-up runs, in ms.
 *
 * Then the lifecycle linter: BENCH_LIFECYCLE_POLICIES generated policies (default 1,000; 1 to 12 rules each, tagged,
 * untagged and any rules with pattern and prefix lists, every count type, archive rules, some refused by the
 * checker) linted on their own; the figure is the median of BENCH_LIFECYCLE_RUNS passes over all of them, in ms.
 */
const IMAGES = intEnv('BENCH_LIFECYCLE_IMAGES', 100_000);
const RUNS = intEnv('BENCH_LIFECYCLE_RUNS', 7);
const POLICIES = intEnv('BENCH_LIFECYCLE_POLICIES', 1_000);
const NOW = Date.parse('2026-12-06T12:00:00Z');
const DAY = 86_400_000;

function buildRepository(size: number): LifecycleImage[] {
  const random = prng(20_261_206);
  const pick = (n: number) => Math.floor(random() * n);
  const images: LifecycleImage[] = [];
  let serial = 0;
  const digest = () => `sha256:${(++serial).toString(16).padStart(64, '0')}`;
  const sha = () => pick(0xfffffff).toString(16).padStart(7, '0');
  const base = (tags: string[]): LifecycleImage => {
    const pushedAt = NOW - pick(365 * DAY);
    const archived = random() < 0.1;
    return {
      digest: digest(),
      tags,
      pushedAt,
      storageClass: archived ? 'archive' : 'standard',
      ...(random() < 0.5 ? { lastPulledAt: pushedAt + pick(NOW - pushedAt) } : {}),
      ...(archived ? { lastArchivedAt: pushedAt + pick(NOW - pushedAt) } : {}),
    };
  };
  while (images.length < size) {
    const roll = random();
    if (roll < 0.3 && images.length + 4 <= size) {
      // A multi-architecture index, its two platform manifests and (a third of the time) a signature.
      const tags = random() < 0.3 ? [`release-${pick(40)}.${pick(40)}.${pick(40)}`] : [`main-${sha()}`];
      const index = base(tags);
      images.push(index);
      for (let child = 0; child < 2; child++) {
        images.push({ ...base([]), pushedAt: index.pushedAt, referencedByIndex: [index.digest] });
      }
      if (random() < 0.33) images.push({ ...base([]), subjectDigest: index.digest });
    } else if (roll < 0.85) {
      const kind = random();
      const tags =
        kind < 0.5
          ? [`main-${sha()}`]
          : kind < 0.9
            ? [`pr-${pick(5000)}-${sha()}`]
            : [`release-${pick(40)}.${pick(40)}`];
      if (random() < 0.2) tags.push('latest-candidate');
      images.push(base(tags));
    } else {
      images.push(base([]));
    }
  }
  return images;
}

const check = checkLifecyclePolicy(
  JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: 'Keep the newest 50 releases',
        selection: {
          tagStatus: 'tagged',
          tagPatternList: ['release-*'],
          countType: 'imageCountMoreThan',
          countNumber: 50,
        },
        action: { type: 'expire' },
      },
      {
        rulePriority: 2,
        description: 'Expire untagged images after 14 days',
        selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
        action: { type: 'expire' },
      },
      {
        rulePriority: 3,
        description: 'Archive anything not pulled for 90 days',
        selection: { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 90 },
        action: { type: 'transition', targetStorageClass: 'archive' },
      },
    ],
  }),
);
if (!check.valid) throw new Error(check.reason);
const policy = check.policy;

const builtAt = performance.now();
const images = buildRepository(IMAGES);
progress(`lifecycle: ${images.length} images generated in ${round(performance.now() - builtAt)} ms`);

let last = evaluateLifecyclePolicy(policy, images, NOW);
for (let warm = 0; warm < 2; warm++) last = evaluateLifecyclePolicy(policy, images, NOW);
const times: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const started = performance.now();
  last = evaluateLifecyclePolicy(policy, images, NOW);
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] as number;

const reasons: Record<string, number> = {};
for (const kept of last.kept) reasons[kept.reason.kind] = (reasons[kept.reason.kind] ?? 0) + 1;
emit({
  name: 'lifecycle_preview_100k_images_ms',
  value: round(median, 1),
  unit: 'ms',
  goal: '<= 1000',
  images: images.length,
  rules: policy.rules.length,
  runs: RUNS,
  minMs: round(times[0] as number, 1),
  maxMs: round(times[times.length - 1] as number, 1),
  expiring: last.summary.expiringImageTotalCount,
  transitioning: last.summary.transitioningImageTotalCounts?.[0]?.imageTotalCount ?? 0,
  kept: reasons,
});

/** One generated policy document: varied rules, some of them breaking the checker's rules on purpose. */
function generatePolicy(random: () => number): string {
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  const count = 1 + Math.floor(random() * 12);
  const rules: unknown[] = [];
  let untagged = 0;
  for (let index = 0; index < count; index++) {
    // A tagStatus any rule belongs last; one elsewhere now and then, which the checker refuses.
    const last = index === count - 1;
    // One untagged rule per storage class is allowed: a second one now and then, which the checker refuses too.
    let tagStatus =
      (last && random() < 0.5) || random() < 0.03 ? 'any' : pick(['tagged', 'tagged', 'tagged', 'untagged']);
    if (tagStatus === 'untagged' && untagged++ > 0 && random() < 0.9) tagStatus = 'tagged';
    const archived = tagStatus !== 'untagged' && random() < 0.1;
    const countType = archived
      ? 'sinceImageTransitioned'
      : pick(['imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled'] as const);
    const selection: Record<string, unknown> = { tagStatus, countType, countNumber: 1 + Math.floor(random() * 400) };
    if (countType !== 'imageCountMoreThan') selection.countUnit = 'days';
    if (archived) selection.storageClass = 'archive';
    if (tagStatus === 'tagged') {
      const entries = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
        pick(['v*', 'release-*', 'pr-*', 'main-*-*', '*.*.*', 'feature-*', 'sha256-*', 'nightly', '*-rc*']),
      );
      if (random() < 0.7) selection.tagPatternList = entries;
      else selection.tagPrefixList = entries.map((entry) => entry.replaceAll('*', '') || 'x');
    }
    const action =
      countType === 'sinceImagePulled' || (!archived && random() < 0.2)
        ? { type: 'transition', targetStorageClass: 'archive' }
        : { type: 'expire' };
    rules.push({
      rulePriority: (index + 1) * pick([1, 1, 1, 10]),
      description: `rule ${index + 1}`,
      selection,
      action,
    });
  }
  return JSON.stringify({ rules });
}

const policyRandom = prng(1_000);
const policies = Array.from({ length: POLICIES }, () => generatePolicy(policyRandom));
const lintAll = () => {
  const byCode: Record<string, number> = {};
  for (const text of policies) {
    for (const finding of lintLifecyclePolicy(text)) byCode[finding.code] = (byCode[finding.code] ?? 0) + 1;
  }
  return byCode;
};
let findings = lintAll();
for (let warm = 0; warm < 2; warm++) findings = lintAll();
const lintTimes: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const started = performance.now();
  findings = lintAll();
  lintTimes.push(performance.now() - started);
}
lintTimes.sort((a, b) => a - b);
emit({
  name: 'lifecycle_lint_1000_policies_ms',
  value: round(lintTimes[Math.floor(lintTimes.length / 2)] as number, 1),
  unit: 'ms',
  goal: '<= 1000',
  policies: policies.length,
  runs: RUNS,
  minMs: round(lintTimes[0] as number, 1),
  maxMs: round(lintTimes[lintTimes.length - 1] as number, 1),
  findings,
});
