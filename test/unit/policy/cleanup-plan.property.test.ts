import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conventionTagSubject, type ImageRecord } from '../../../shared/domain/image.ts';
import { type CleanupPlan, type CleanupRule, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import { DAY, INDEX, MANIFEST, MINUTE, NOW } from '../../helpers/images.ts';

/** A small seeded PRNG (mulberry32), so that one fast-check integer describes a whole registry graph. */
const prng = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

/**
 * A random repository: images, indexes over earlier manifests (nested, sharing children), OCI referrers of earlier
 * images (including referrers of referrers and of images that are not there), cosign tag-convention artifacts, real
 * tags, push ages from minutes to a year, some pulls.
 */
function randomRepository(seed: number, size: number): ImageRecord[] {
  const random = prng(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const images: ImageRecord[] = [];
  for (let i = 0; i < size; i++) {
    const roll = random();
    const ageMs = random() < 0.05 ? pick(120) * MINUTE : pick(365) * DAY + pick(DAY);
    const base = {
      digest: digest(i + 1),
      pushedAt: NOW - ageMs,
      sizeInBytes: 1 + pick(50_000_000),
      ...(random() < 0.3 ? { lastPulledAt: NOW - pick(120) * DAY } : {}),
    };
    const tags = random() < 0.25 ? [`v${i}`] : [];
    if (roll < 0.2 && i > 0) {
      const children = new Set<string>();
      const count = 1 + pick(Math.min(4, i));
      for (let c = 0; c < count; c++) children.add(digest(1 + pick(i)));
      images.push({ ...base, tags, manifestMediaType: INDEX, childDigests: [...children] });
    } else if (roll < 0.35) {
      const subject = i > 0 && random() < 0.85 ? digest(1 + pick(i)) : digest(size + 1 + pick(1000));
      images.push({ ...base, tags: random() < 0.2 ? tags : [], manifestMediaType: MANIFEST, subjectDigest: subject });
    } else if (roll < 0.42) {
      const subject = i > 0 && random() < 0.85 ? digest(1 + pick(i)) : digest(size + 1 + pick(1000));
      const suffix = ['.sig', '.att', '.sbom'][pick(3)] as string;
      images.push({ ...base, tags: [`${subject.replace(':', '-')}${suffix}`], manifestMediaType: MANIFEST });
    } else {
      images.push({ ...base, tags, manifestMediaType: MANIFEST });
    }
  }
  // Shuffle, so that listing order says nothing about the graph.
  for (let i = images.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [images[i], images[j]] = [images[j] as ImageRecord, images[i] as ImageRecord];
  }
  return images;
}

/**
 * What must hold after applying a plan, as a list of violations (plain checks: `expect` per image would make the
 * 10,000 graphs ten times slower).
 */
function violationsOf(images: readonly ImageRecord[], plan: CleanupPlan, rule: CleanupRule): string[] {
  const violations: string[] = [];
  const byDigest = new Map(images.map((image) => [image.digest, image]));
  const doomed = new Set(plan.toDelete);
  // The plan decides each image once, and its deletions are exactly its delete decisions.
  if (plan.decisions.length !== images.length) violations.push('not one decision per image');
  if (doomed.size !== plan.toDelete.length) violations.push('a digest is deleted twice');
  const deleteDecisions = plan.decisions.filter((d) => d.action === 'delete');
  if (deleteDecisions.length !== doomed.size || deleteDecisions.some((d) => !doomed.has(d.digest))) {
    violations.push('toDelete differs from the delete decisions');
  }
  if (plan.brake && plan.toDelete.length > 0) violations.push('the brake held but the plan deletes');

  // Apply the plan the way ECR would: an image still listed by a present index cannot be deleted.
  const present = new Set(byDigest.keys());
  const parentsOf = new Map<string, string[]>();
  for (const image of images) {
    for (const child of image.childDigests ?? []) parentsOf.set(child, [...(parentsOf.get(child) ?? []), image.digest]);
  }
  for (const digestToDelete of plan.toDelete) {
    if (!byDigest.has(digestToDelete)) violations.push(`deletes ${digestToDelete}, which is not in the repository`);
    if ((parentsOf.get(digestToDelete) ?? []).some((parent) => present.has(parent))) {
      violations.push(`ImageReferencedByManifestList for ${digestToDelete}`);
    }
    present.delete(digestToDelete);
  }

  for (const image of images) {
    if (!present.has(image.digest)) {
      // Nothing deleted carries a real tag, was pushed in the quiet period or pulled recently.
      if (image.tags.some((tag) => !conventionTagSubject(tag))) violations.push(`deleted tagged ${image.digest}`);
      if (NOW - image.pushedAt < rule.quietPeriodMinutes * MINUTE) violations.push(`deleted quiet ${image.digest}`);
      if (NOW - (image.lastPulledAt ?? image.pushedAt) < rule.notPulledForDays * DAY) {
        violations.push(`deleted recently pulled ${image.digest}`);
      }
      continue;
    }
    // Every kept image resolves whole: its children (and so, transitively, theirs) are still there...
    for (const child of image.childDigests ?? []) {
      if (byDigest.has(child) && !present.has(child)) violations.push(`kept ${image.digest} lost child ${child}`);
    }
  }
  // ...and so are the referrers of every kept image.
  for (const image of images) {
    const subject = image.subjectDigest ?? image.tags.map(conventionTagSubject).find((found) => found !== undefined);
    if (subject && byDigest.has(subject) && present.has(subject) && !present.has(image.digest)) {
      violations.push(`kept ${subject} lost referrer ${image.digest}`);
    }
  }
  return violations;
}

const RUNS = Number(process.env.PROPERTY_RUNS ?? 10_000);
/** The runs are split into chunks with their own seeds, so that the test worker can report between them. */
const CHUNKS = 20;
const chunks = Array.from({ length: CHUNKS }, (_, chunk) => chunk);

describe(`planCleanup over ${RUNS} random registry graphs of up to 1,000 images`, () => {
  it.each(chunks)(
    'leaves every kept image whole and deletes only what the plan names, in an order ECR accepts (chunk %i)',
    (chunk) => {
      fc.assert(
        fc.property(
          fc.integer(),
          fc.integer({ min: 1, max: 1_000 }),
          fc.record({
            olderThanDays: fc.integer({ min: 0, max: 90 }),
            notPulledForDays: fc.integer({ min: 0, max: 90 }),
            quietPeriodMinutes: fc.integer({ min: 0, max: 120 }),
            keepLatestUntagged: fc.integer({ min: 0, max: 5 }),
            maxDeleteFraction: fc.double({ min: 0, max: 1, noNaN: true }),
            allowMassDelete: fc.boolean(),
          }),
          (seed, size, rule: CleanupRule) => {
            const images = randomRepository(seed, size);
            const plan = planCleanup('prop/repo', images, rule, NOW);
            expect(violationsOf(images, plan, rule)).toEqual([]);
          },
        ),
        { numRuns: Math.ceil(RUNS / CHUNKS), seed: 20_261_124 + chunk },
      );
    },
    120_000,
  );
});
