import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prng } from '../../../bench/prng.ts';
import { conventionTagSubject, type ImageRecord } from '../../../shared/domain/image.ts';
import type { InUseReference } from '../../../shared/domain/in-use.ts';
import type { SelectionPattern, TagSelection } from '../../../shared/domain/settings.ts';
import { type CleanupPlan, type CleanupRule, decisionView, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import { DAY, INDEX, MANIFEST, MINUTE, NOW } from '../../helpers/images.ts';

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

/** The relations the planner must respect, worked out here independently of `buildImageGraph`. */
function relationsOf(images: readonly ImageRecord[]) {
  const byDigest = new Map(images.map((image) => [image.digest, image]));
  const parentsOf = new Map<string, string[]>();
  const subjectsOf = new Map<string, string[]>();
  for (const image of images) {
    for (const child of image.childDigests ?? []) {
      if (child !== image.digest && byDigest.has(child))
        parentsOf.set(child, [...(parentsOf.get(child) ?? []), image.digest]);
    }
    const subjects = [image.subjectDigest, ...image.tags.map(conventionTagSubject)].filter(
      (subject): subject is string => subject !== undefined && subject !== image.digest,
    );
    if (subjects.length > 0) subjectsOf.set(image.digest, subjects);
  }
  const realTagsOf = (image: ImageRecord) => image.tags.filter((tag) => conventionTagSubject(tag) === undefined);
  const isTopLevel = (image: ImageRecord) => !parentsOf.has(image.digest) && !subjectsOf.has(image.digest);
  return { byDigest, parentsOf, subjectsOf, realTagsOf, isTopLevel };
}

/** The patterns the tagged generator uses, matched here without the policy's matchers: `x*` a prefix, else exact. */
const oracleMatches = (pattern: SelectionPattern, tag: string): boolean => {
  if (typeof pattern !== 'string') return 'form' in pattern && pattern.form === 'any';
  return pattern.endsWith('*') ? tag.startsWith(pattern.slice(0, -1)) : tag === pattern;
};

/**
 * Which tagged images a tag selection must keep, worked out independently: a tag belongs to the first selection a
 * pattern of which matches it; that selection keeps it when it protects, or the image is among its newest keepLast
 * (each image counted once), pushed within keepNewerThanDays or pulled within keepPulledWithinDays; a tag no
 * selection claims keeps its image. `mustKeep` holds the images some tag keeps, `released` the others.
 */
function retentionOf(images: readonly ImageRecord[], selections: readonly TagSelection[]) {
  const realTagsOf = (image: ImageRecord) => image.tags.filter((tag) => conventionTagSubject(tag) === undefined);
  const claim = (tag: string) => selections.findIndex((selection) => selection.tags.some((p) => oracleMatches(p, tag)));
  const rankOf = selections.map((_, index) => {
    const members = images
      .filter((image) => realTagsOf(image).some((tag) => claim(tag) === index))
      .sort((a, b) => b.pushedAt - a.pushedAt || (a.digest < b.digest ? -1 : 1));
    return new Map(members.map((image, rank) => [image.digest, rank + 1]));
  });
  const mustKeep = new Set<string>();
  const released = new Set<string>();
  for (const image of images) {
    const tags = realTagsOf(image);
    if (tags.length === 0) continue;
    const keeps = tags.some((tag) => {
      const index = claim(tag);
      const selection = selections[index];
      if (selection === undefined) return true;
      const rank = rankOf[index]?.get(image.digest) ?? Number.POSITIVE_INFINITY;
      return (
        selection.protect === true ||
        (selection.keepLast !== undefined && rank <= selection.keepLast) ||
        (selection.keepNewerThanDays !== undefined && NOW - image.pushedAt < selection.keepNewerThanDays * DAY) ||
        (selection.keepPulledWithinDays !== undefined &&
          NOW - (image.lastPulledAt ?? image.pushedAt) < selection.keepPulledWithinDays * DAY)
      );
    });
    (keeps ? mustKeep : released).add(image.digest);
  }
  return { mustKeep, released, rankOf };
}

/**
 * What must hold after applying a plan, as a list of violations (plain checks: `expect` per image would make the
 * thousands of graphs ten times slower).
 */
function violationsOf(
  images: readonly ImageRecord[],
  plan: CleanupPlan,
  rule: CleanupRule,
  inUse: ReadonlyMap<string, readonly InUseReference[]> = new Map(),
): string[] {
  const violations: string[] = [];
  const { byDigest, parentsOf, subjectsOf, realTagsOf, isTopLevel } = relationsOf(images);
  const selections = rule.tagSelections ?? [];
  const { mustKeep, released, rankOf } = retentionOf(images, selections);
  const taggedTotal = images.filter((image) => realTagsOf(image).length > 0).length;
  const unclaimedOf = (image: ImageRecord) =>
    realTagsOf(image).filter(
      (tag) => !selections.some((selection) => selection.tags.some((p) => oracleMatches(p, tag))),
    );
  const doomed = new Set(plan.toDelete);
  // The plan decides each image once, in the order given, and its deletions are exactly its delete decisions.
  if (plan.decisions.length !== images.length || plan.decisions.some((d, i) => d.digest !== images[i]?.digest)) {
    violations.push('not one decision per image, in order');
  }
  if (doomed.size !== plan.toDelete.length) violations.push('a digest is deleted twice');
  const deleteDecisions = plan.decisions.filter((d) => d.action === 'delete');
  if (deleteDecisions.length !== doomed.size || deleteDecisions.some((d) => !doomed.has(d.digest))) {
    violations.push('toDelete differs from the delete decisions');
  }
  const bytes = plan.toDelete.reduce(
    (sum, d) => sum + ((byDigest.get(d)?.manifestMediaType === INDEX ? 0 : byDigest.get(d)?.sizeInBytes) ?? 0),
    0,
  );
  if (bytes !== plan.bytesReclaimed) violations.push(`bytesReclaimed ${plan.bytesReclaimed}, deleted ${bytes}`);

  // The brake fires exactly when the share deleted would exceed maxDeleteFraction without allowMassDelete, and then
  // deletes nothing, holding every image it would have deleted.
  // The untagged brake counts images without a tag against all images; the tagged brake tagged ones against the
  // tagged images.
  const isTagged = (digest: string) => realTagsOf(byDigest.get(digest) as ImageRecord).length > 0;
  const heldBy = (code: string) => plan.decisions.filter((d) => d.reason.code === code);
  const braked = heldBy('safety-brake').filter((d) => !isTagged(d.digest)).length;
  const taggedBraked = heldBy('tagged-safety-brake').filter((d) => isTagged(d.digest)).length;
  const maxTagged = rule.maxTaggedDeleteFraction ?? 0.1;
  if (plan.brake) {
    if (plan.toDelete.length > 0) violations.push('the brake held but the plan deletes');
    if (rule.allowMassDelete) violations.push('the brake held although allowMassDelete is set');
    if (plan.brake.tagged) {
      if (plan.brake.total !== taggedTotal || plan.brake.wouldDelete !== taggedBraked || taggedBraked === 0) {
        violations.push(
          `the tagged brake counts ${plan.brake.wouldDelete} of ${plan.brake.total}, held ${taggedBraked}`,
        );
      }
      if (!(taggedBraked / taggedTotal > maxTagged)) violations.push('the tagged brake held within the limit');
    } else {
      if (plan.brake.total !== images.length || plan.brake.wouldDelete !== braked || braked === 0) {
        violations.push(`the brake counts ${plan.brake.wouldDelete} of ${plan.brake.total}, held ${braked}`);
      }
      if (!(braked / images.length > rule.maxDeleteFraction)) violations.push('the brake held within the limit');
    }
  } else {
    if (braked + taggedBraked > 0) violations.push('images held by a brake that did not fire');
    const taggedDoomed = [...doomed].filter(isTagged).length;
    if (!rule.allowMassDelete && (doomed.size - taggedDoomed) / images.length > rule.maxDeleteFraction) {
      violations.push(`deletes ${doomed.size} of ${images.length} past the limit ${rule.maxDeleteFraction}`);
    }
    if (!rule.allowMassDelete && taggedDoomed / Math.max(taggedTotal, 1) > maxTagged) {
      violations.push(`deletes ${taggedDoomed} of ${taggedTotal} tagged past the limit ${maxTagged}`);
    }
  }

  // Apply the plan the way ECR would: an image still listed by a present index cannot be deleted; and referrers go
  // after their subject.
  const present = new Set(byDigest.keys());
  for (const digestToDelete of plan.toDelete) {
    if (!byDigest.has(digestToDelete)) violations.push(`deletes ${digestToDelete}, which is not in the repository`);
    if ((parentsOf.get(digestToDelete) ?? []).some((parent) => present.has(parent))) {
      violations.push(`ImageReferencedByManifestList for ${digestToDelete}`);
    }
    if ((subjectsOf.get(digestToDelete) ?? []).some((subject) => doomed.has(subject) && present.has(subject))) {
      violations.push(`deletes referrer ${digestToDelete} before its subject`);
    }
    present.delete(digestToDelete);
  }

  // keepLatestUntagged: the newest N untagged top-level images, by push time, are kept; tagged images, referrers and
  // index children never take a slot.
  const latest = images
    .filter((image) => realTagsOf(image).length === 0 && isTopLevel(image))
    .sort((a, b) => b.pushedAt - a.pushedAt || (a.digest < b.digest ? -1 : 1))
    .slice(0, rule.keepLatestUntagged)
    .map((image) => image.digest);
  latest.forEach((digest, index) => {
    if (!present.has(digest)) violations.push(`deleted ${digest}, untagged number ${index + 1} by push time`);
  });

  const decisionOf = new Map(plan.decisions.map((d) => [d.digest, d]));
  for (const image of images) {
    const age = NOW - image.pushedAt;
    const idle = NOW - (image.lastPulledAt ?? image.pushedAt);
    if (!present.has(image.digest)) {
      // Nothing deleted carries a real tag its selection keeps (or no selection claims), is in use, or was pushed in
      // the quiet period; no untagged image pulled recently, and no untagged top-level image younger than
      // olderThanDays, is deleted (children and referrers follow their index or subject).
      if (realTagsOf(image).length > 0 && !released.has(image.digest))
        violations.push(`deleted tagged ${image.digest}`);
      if (mustKeep.has(image.digest)) violations.push(`deleted ${image.digest}, which a selection keeps`);
      if ((inUse.get(image.digest) ?? []).length > 0) violations.push(`deleted ${image.digest}, in use`);
      if (age < rule.quietPeriodMinutes * MINUTE) violations.push(`deleted quiet ${image.digest}`);
      if (realTagsOf(image).length > 0) continue;
      if (idle < rule.notPulledForDays * DAY) violations.push(`deleted recently pulled ${image.digest}`);
      if (isTopLevel(image) && age < rule.olderThanDays * DAY) violations.push(`deleted young ${image.digest}`);
      continue;
    }
    // Every kept image resolves whole: its children (and so, transitively, theirs) are still there...
    for (const child of image.childDigests ?? []) {
      if (byDigest.has(child) && !present.has(child)) violations.push(`kept ${image.digest} lost child ${child}`);
    }
    // ...and is kept for a reason that holds.
    const reason = decisionOf.get(image.digest)?.reason;
    const why = `kept ${image.digest} as ${reason?.code}`;
    switch (reason?.code) {
      case 'tagged':
        // The tags no selection claims, which keep the image as any tagged image.
        if (unclaimedOf(image).join() !== reason.tags.join() || reason.tags.length === 0) violations.push(why);
        break;
      case 'quiet-period':
        if (!(age < rule.quietPeriodMinutes * MINUTE)) violations.push(why);
        break;
      case 'recently-pulled':
        if (!(idle < rule.notPulledForDays * DAY)) violations.push(why);
        break;
      case 'recently-pushed':
        if (!(age < rule.olderThanDays * DAY) || !isTopLevel(image)) violations.push(why);
        break;
      case 'keep-latest-untagged':
        if (latest[reason.rank - 1] !== image.digest) violations.push(`${why} ${reason.rank}`);
        break;
      case 'child-of-kept-index':
        if (!present.has(reason.via) || !parentsOf.get(image.digest)?.includes(reason.via)) violations.push(why);
        break;
      case 'referrer-of-kept-image':
        if (!present.has(reason.via) || !subjectsOf.get(image.digest)?.includes(reason.via)) violations.push(why);
        break;
      case 'safety-brake':
        if (!plan.brake || plan.brake.tagged) violations.push(why);
        break;
      case 'tagged-safety-brake':
        if (!plan.brake?.tagged) violations.push(why);
        break;
      case 'in-use':
        if ((inUse.get(image.digest) ?? []).length === 0) violations.push(why);
        break;
      case 'retained': {
        const selection = selections[reason.selection];
        const claimed = selection?.tags.some((p) => oracleMatches(p, reason.tag)) === true;
        const first = selections.findIndex((other) => other.tags.some((p) => oracleMatches(p, reason.tag)));
        const rank = rankOf[reason.selection]?.get(image.digest);
        if (!claimed || first !== reason.selection || !mustKeep.has(image.digest)) violations.push(why);
        if (reason.condition === 'keepLast' && (rank !== reason.rank || (rank ?? 0) > (selection?.keepLast ?? 0))) {
          violations.push(`${why} rank ${reason.rank}`);
        }
        break;
      }
      default:
        violations.push(`kept ${image.digest} without a reason`);
    }
  }
  // ...and so are the referrers of every kept image.
  for (const [referrer, subjects] of subjectsOf) {
    if (!present.has(referrer) && subjects.some((subject) => byDigest.has(subject) && present.has(subject))) {
      violations.push(`kept a subject of ${referrer}, which is deleted`);
    }
  }
  // Every deletion gives the reason that makes it go.
  for (const decision of deleteDecisions) {
    const image = byDigest.get(decision.digest) as ImageRecord;
    const { reason } = decision;
    const why = `deleted ${decision.digest} as ${reason.code}`;
    if (reason.code === 'child-of-deleted-index') {
      if (!doomed.has(reason.via) || !parentsOf.get(image.digest)?.includes(reason.via)) violations.push(why);
    } else if (reason.code === 'referrer-of-deleted-image') {
      if (!doomed.has(reason.via) || !subjectsOf.get(image.digest)?.includes(reason.via)) violations.push(why);
    } else if (reason.code === 'orphaned-referrer') {
      if (byDigest.has(reason.subject) || !subjectsOf.get(image.digest)?.includes(reason.subject)) violations.push(why);
    } else if (reason.code === 'released') {
      if (!released.has(image.digest) || reason.tags.join() !== realTagsOf(image).join()) violations.push(why);
    } else if (reason.code === 'archive-expired') {
      if (image.imageStatus !== 'ARCHIVED') violations.push(why);
    } else if (!isTopLevel(image) || reason.pushedAt !== new Date(image.pushedAt).toISOString()) {
      violations.push(why);
    }
  }
  return violations;
}

const RUNS = Number(process.env.PROPERTY_RUNS ?? 10_000);
/** Change to explore other graphs; a failure names its seed (`seed: ..., path: ...`), which replays it exactly. */
const BASE_SEED = Number(process.env.PROPERTY_SEED ?? 20_261_124);
/**
 * The runs are split into test cases, and each case into batches with their own seeds, with a turn of the event loop
 * between batches: the worker then answers vitest's RPC (onTaskUpdate) promptly however slow the machine, instead of
 * blocking it for minutes and timing out.
 */
const CASES = 20;
const BATCH = 25;
const perCase = Math.ceil(RUNS / CASES);
const cases = Array.from({ length: CASES }, (_, index) => ({ index, firstSeed: BASE_SEED + index * 1_000 }));

/**
 * Graph sizes: mostly small graphs, where the edge cases are (a brake at the limit, fewer roots than slots, one shared
 * child), and one in ten of up to 1,000 images, where the graph shapes combine; the same checks at a fifth of the cost
 * of sizes spread evenly up to 1,000.
 */
const sizeArbitrary = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: 1, max: 100 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 1_000 }) },
);

const ruleArbitrary = fc.record({
  olderThanDays: fc.integer({ min: 0, max: 90 }),
  notPulledForDays: fc.integer({ min: 0, max: 90 }),
  quietPeriodMinutes: fc.integer({ min: 0, max: 120 }),
  keepLatestUntagged: fc.integer({ min: 0, max: 5 }),
  // Round shares too, so that a run deleting exactly the limit (2 of 4 at 0.5) comes up.
  maxDeleteFraction: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.2, 0.25, 0.5, 1)),
  allowMassDelete: fc.boolean(),
});

describe(`planCleanup over ${RUNS} random registry graphs, one in ten of up to 1,000 images`, () => {
  it.each(cases)(
    'keeps what the rule keeps, leaves every kept image whole, and deletes in an order ECR accepts (case $index, seeds from $firstSeed)',
    async ({ firstSeed }) => {
      for (let done = 0, seed = firstSeed; done < perCase; done += BATCH, seed++) {
        fc.assert(
          fc.property(fc.integer(), sizeArbitrary, ruleArbitrary, (graphSeed, size, rule: CleanupRule) => {
            const images = randomRepository(graphSeed, size);
            const plan = planCleanup('prop/repo', images, rule, NOW);
            expect(violationsOf(images, plan, rule)).toEqual([]);
            if (plan.brake) {
              // Allowed, the same run deletes exactly what the brake held.
              const allowed = planCleanup('prop/repo', images, { ...rule, allowMassDelete: true }, NOW);
              expect(allowed.toDelete.length).toBe(plan.brake.wouldDelete);
            }
          }),
          { numRuns: Math.min(BATCH, perCase - done), seed },
        );
        await new Promise(setImmediate);
      }
    },
    120_000,
  );
});

/** Tags the tagged runs draw from: families the selections' patterns claim, releases, and one no pattern names. */
const TAG_FAMILIES = ['pr-', 'main-', 'v1.', 'feature-', 'latest'];
const PATTERNS: SelectionPattern[] = ['pr-*', 'main-*', 'v*', 'feature-*', 'latest', 'pr-1*', { form: 'any' }];

/**
 * The random repository with random real tags (none, one or several, from a few families, so that images share
 * selections and carry tags of two) in place of its own, convention tags kept; and a random set of images in use.
 */
function randomTaggedRepository(seed: number, size: number) {
  const random = prng(seed ^ 0x5bd1e995);
  const pick = (n: number) => Math.floor(random() * n);
  const inUse = new Map<string, InUseReference[]>();
  const images = randomRepository(seed, size).map((image) => {
    const convention = image.tags.filter((tag) => conventionTagSubject(tag) !== undefined);
    const count = convention.length > 0 ? 0 : ([0, 1, 1, 1, 2, 3][pick(6)] as number);
    const tags = new Set<string>();
    for (let t = 0; t < count; t++)
      tags.add(`${TAG_FAMILIES[pick(TAG_FAMILIES.length)]}${pick(30)}`.replace(/^latest\d+$/, 'latest'));
    if (random() < 0.05) inUse.set(image.digest, [{ provider: 'ecs', where: `cluster/service-${pick(9)}` }]);
    return { ...image, tags: [...convention, ...tags] };
  });
  return { images, inUse };
}

const selectionArbitrary: fc.Arbitrary<TagSelection> = fc.record(
  {
    tags: fc.array(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 2 }),
    keepLast: fc.integer({ min: 0, max: 4 }),
    keepNewerThanDays: fc.integer({ min: 0, max: 120 }),
    keepPulledWithinDays: fc.integer({ min: 0, max: 120 }),
    protect: fc.boolean(),
  },
  { requiredKeys: ['tags'] },
);

const taggedRuleArbitrary = fc.record({
  olderThanDays: fc.integer({ min: 0, max: 90 }),
  notPulledForDays: fc.integer({ min: 0, max: 90 }),
  quietPeriodMinutes: fc.integer({ min: 0, max: 120 }),
  keepLatestUntagged: fc.integer({ min: 0, max: 3 }),
  maxDeleteFraction: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.5, 1)),
  allowMassDelete: fc.boolean(),
  tagSelections: fc.array(selectionArbitrary, { maxLength: 4 }),
  maxTaggedDeleteFraction: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0.1, 0.25, 1)),
});

describe(`planCleanup with tag selections and images in use over ${RUNS} random registries of up to 40 images`, () => {
  it.each(cases)(
    'deletes no image a selection keeps or a workload runs, keeps the newest N per selection, and keeps every untagged promise (case $index, seeds from $firstSeed)',
    async ({ firstSeed }) => {
      // That the runs reach what they check: tagged images deleted, and images kept because they are in use.
      let taggedDeleted = 0;
      let keptInUse = 0;
      for (let done = 0, seed = firstSeed; done < perCase; done += BATCH, seed++) {
        fc.assert(
          fc.property(
            fc.integer(),
            fc.integer({ min: 1, max: 40 }),
            taggedRuleArbitrary,
            (graphSeed, size, rule: CleanupRule) => {
              const { images, inUse } = randomTaggedRepository(graphSeed, size);
              const plan = planCleanup('prop/repo', images, rule, NOW, { inUse });
              expect(violationsOf(images, plan, rule, inUse)).toEqual([]);
              taggedDeleted += plan.decisions.filter(
                (d) => d.action === 'delete' && d.reason.code === 'released',
              ).length;
              keptInUse += plan.decisions.filter((d) => d.reason.code === 'in-use').length;
              if (plan.brake) {
                const held = plan.decisions.filter((d) => d.reason.code.endsWith('safety-brake')).length;
                const allowed = planCleanup('prop/repo', images, { ...rule, allowMassDelete: true }, NOW, { inUse });
                expect(allowed.toDelete.length).toBe(held);
              }
              const unknown = planCleanup('prop/repo', images, rule, NOW, { inUse, inUseUnavailable: 'down' });
              expect(unknown.toDelete).toEqual([]);
              expect(unknown.decisions.every((d) => d.reason.code === 'in-use-unknown')).toBe(true);
            },
          ),
          { numRuns: Math.min(BATCH, perCase - done), seed: seed + 500 },
        );
        await new Promise(setImmediate);
      }
      // With the few runs of mutation testing (PROPERTY_RUNS=200, 10 a case) a case may reach neither.
      if (perCase >= 100) {
        expect(taggedDeleted).toBeGreaterThan(0);
        expect(keptInUse).toBeGreaterThan(0);
      }
    },
    120_000,
  );
});

/** Everything `decisionView` tells of a plan, read through it (for a plan made here, before its list is made). */
function viewed(plan: CleanupPlan, images: readonly ImageRecord[]) {
  const view = decisionView(plan);
  const digests = [...images.map((image) => image.digest), digest(1_000_000)];
  return {
    size: view.size,
    keptCount: view.keptCount,
    kept: [...view.kept()],
    all: [...view.all()],
    get: digests.map((one) => view.get(one)),
    keeps: digests.map((one) => view.keeps(one)),
    sizeInBytes: digests.map((one) => view.sizeInBytes(one)),
  };
}

describe('decisionView over random registries with tag selections, images in use, brakes and archives', () => {
  it('reads, one at a time, exactly the decisions the plan lists, before its list is made and after', () => {
    let lazy = 0;
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 1, max: 60 }),
        taggedRuleArbitrary,
        fc.boolean(),
        (graphSeed, size, rule: CleanupRule, archive) => {
          const { images, inUse } = randomTaggedRepository(graphSeed, size);
          const withRule: CleanupRule = archive ? { ...rule, action: 'archive' } : rule;
          const plan = planCleanup('prop/repo', images, withRule, NOW, { inUse });
          // Read through the view first: the plan's list is not made yet.
          const first = viewed(plan, images);
          // The same plan made again, its list read first: the view then reads the list.
          const listed = planCleanup('prop/repo', images, withRule, NOW, { inUse });
          const decisions = listed.decisions;
          const byDigest = new Map(decisions.map((decision) => [decision.digest, decision]));
          const expected = {
            size: decisions.length,
            keptCount: decisions.filter((decision) => decision.action === 'keep').length,
            kept: decisions.filter((decision) => decision.action === 'keep'),
            all: decisions,
            get: [...images.map((image) => byDigest.get(image.digest)), undefined],
            keeps: [...images.map((image) => byDigest.get(image.digest)?.action === 'keep'), false],
            sizeInBytes: [...images.map((image) => image.sizeInBytes), undefined],
          };
          expect(first).toEqual(expected);
          expect(viewed(listed, images)).toEqual(expected);
          // A copy of the plan (as a plan file gives it back) is read from its list.
          expect(viewed(JSON.parse(JSON.stringify(plan)) as CleanupPlan, images)).toEqual(expected);
          expect(plan.decisions).toEqual(decisions);
          if (first.kept.length < first.size) lazy += 1;
        },
      ),
      { numRuns: Math.min(RUNS, 500), seed: BASE_SEED + 7 },
    );
    expect(lazy).toBeGreaterThan(0);
  });
});
