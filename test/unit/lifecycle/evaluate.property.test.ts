import {
  checkLifecyclePolicy,
  evaluateLifecyclePolicy,
  type LifecycleImage,
  type LifecyclePolicy,
  type LifecycleRule,
} from '@ecr-automation/lifecycle';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY, NOW } from './helpers.ts';

const RUNS = 300;
const TAG_UNITS = ['a', 'b', '-', '1'];
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

/** Tags and patterns over a tiny alphabet, so that patterns and prefixes often match. */
const tagArb = fc.string({ unit: fc.constantFrom(...TAG_UNITS), minLength: 1, maxLength: 5 });
const patternArb = fc.string({ unit: fc.constantFrom(...TAG_UNITS, '*', '*'), minLength: 1, maxLength: 6 });

/** The value in `weight` draws out of five, null otherwise. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, weight: number) =>
  fc.oneof({ arbitrary: fc.constant(null), weight: 5 - weight }, { arbitrary, weight });

/**
 * A repository: images pushed 0–60 days ago (distinct push times), some pulled, some archived, indexes listing
 * earlier images (nested and shared), referrers of earlier images or of images that are not there.
 */
const repositoryArb = (options: { graph: boolean }) =>
  fc
    .array(
      fc.record({
        tags: fc.array(tagArb, { maxLength: 3 }),
        ageMinutes: fc.integer({ min: 0, max: 60 * 24 * 60 }),
        pulledDaysAgo: fc.option(fc.integer({ min: 0, max: 60 })),
        archivedDaysAgo: sometimes(fc.integer({ min: 0, max: 200 }), 1),
        lists: fc.array(fc.nat(), { maxLength: options.graph ? 2 : 0 }),
        subject: options.graph ? sometimes(fc.nat(), 1) : fc.constant(null),
      }),
      { maxLength: 30 },
    )
    .map((drawn) => {
      const images: LifecycleImage[] = drawn.map((entry, n) => ({
        digest: digest(n + 1),
        tags: [...new Set(entry.tags)],
        // Distinct push times: the minute offset plus the position, in milliseconds.
        pushedAt: NOW - entry.ageMinutes * 60_000 - n,
        storageClass: entry.archivedDaysAgo === null ? 'standard' : 'archive',
        ...(entry.pulledDaysAgo === null ? {} : { lastPulledAt: NOW - entry.pulledDaysAgo * DAY }),
        ...(entry.archivedDaysAgo === null ? {} : { lastArchivedAt: NOW - entry.archivedDaysAgo * DAY }),
      }));
      // Indexes list images pushed after them in this array (no cycles); a subject may be any image or a missing one.
      drawn.forEach((entry, n) => {
        for (const pick of entry.lists) {
          if (n + 1 >= images.length) break;
          const child = images[n + 1 + (pick % (images.length - n - 1))] as LifecycleImage;
          child.referencedByIndex = [...new Set([...(child.referencedByIndex ?? []), digest(n + 1)])];
        }
        if (entry.subject !== null) (images[n] as LifecycleImage).subjectDigest = digest((entry.subject % 40) + 1);
      });
      return images;
    });

const ruleArb = fc.record({
  tagStatus: fc.constantFrom('tagged', 'untagged', 'any'),
  tagList: fc.constantFrom('tagPatternList', 'tagPrefixList'),
  tags: fc.array(patternArb, { minLength: 1, maxLength: 2 }),
  count: fc.constantFrom('imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned'),
  countNumber: fc.integer({ min: 1, max: 20 }),
  expire: fc.boolean(),
});

/** A policy ECR accepts: drawn rules, kept only when the package's checker accepts the document. */
const policyArb = fc
  .array(ruleArb, { minLength: 1, maxLength: 4 })
  .map((drawn) => ({
    rules: drawn.map((entry, n) => {
      const archive = entry.count === 'sinceImageTransitioned';
      const transition = entry.count === 'sinceImagePulled' || (!archive && !entry.expire);
      return {
        rulePriority: (n + 1) * 10,
        selection: {
          tagStatus: entry.tagStatus,
          ...(entry.tagStatus === 'tagged'
            ? {
                [entry.tagList]:
                  entry.tagList === 'tagPrefixList' ? entry.tags.map((t) => t.replaceAll('*', '')) : entry.tags,
              }
            : {}),
          ...(archive ? { storageClass: 'archive' } : {}),
          countType: entry.count,
          ...(entry.count === 'imageCountMoreThan' ? {} : { countUnit: 'days' }),
          countNumber: entry.countNumber,
        },
        action: transition ? { type: 'transition', targetStorageClass: 'archive' } : { type: 'expire' },
      };
    }),
  }))
  .map((document) => checkLifecyclePolicy(JSON.stringify(document)))
  .filter((check) => check.valid)
  .map((check) => (check as { policy: LifecyclePolicy }).policy);

/** A deliberately naive matcher (recursive, fine for the short tags here) to check the engine's selection. */
const globMatches = (pattern: string, tag: string): boolean => {
  if (pattern === '') return tag === '';
  if (pattern[0] === '*')
    return globMatches(pattern.slice(1), tag) || (tag !== '' && globMatches(pattern, tag.slice(1)));
  return tag !== '' && tag[0] === pattern[0] && globMatches(pattern.slice(1), tag.slice(1));
};

const selects = (rule: LifecycleRule, image: LifecycleImage): boolean => {
  const { selection } = rule;
  if (selection.storageClass !== image.storageClass) return false;
  if (selection.tagStatus === 'any') return true;
  if (selection.tagStatus === 'untagged') return image.tags.length === 0;
  if (image.tags.length === 0) return false;
  if (selection.tagPatternList) return selection.tagPatternList.every((p) => image.tags.some((t) => globMatches(p, t)));
  return (selection.tagPrefixList ?? []).every((p) => image.tags.some((t) => t.startsWith(p)));
};

describe('evaluateLifecyclePolicy properties', () => {
  it('acts on each image at most once, by the first rule whose selection matches it', () => {
    fc.assert(
      fc.property(policyArb, repositoryArb({ graph: true }), (policy, images) => {
        // Act
        const result = evaluateLifecyclePolicy(policy, images, NOW);

        // Assess: every image is either acted on once or kept once.
        const acted = result.actions.map((entry) => entry.digest);
        expect(new Set(acted).size).toBe(acted.length);
        expect([...acted, ...result.kept.map((entry) => entry.digest)].sort()).toEqual(
          images.map((entry) => entry.digest).sort(),
        );
        const present = new Set(images.map((entry) => entry.digest));
        const byPriority = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority);
        for (const action of result.actions) {
          const image = images.find((entry) => entry.digest === action.digest) as LifecycleImage;
          if (image.subjectDigest !== undefined && present.has(image.subjectDigest)) continue;
          const first = byPriority.find((rule) => selects(rule, image));
          expect(action.appliedRulePriority).toBe(first?.rulePriority);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('with an imageCountMoreThan rule first, acts on exactly max(0, candidates − N) of its candidates: all but the N newest', () => {
    const countRule = fc.record({
      tagStatus: fc.constantFrom('tagged', 'untagged', 'any'),
      prefix: fc.constantFrom('a', 'b', '1'),
      countNumber: fc.integer({ min: 1, max: 10 }),
    });
    // Lower-priority rules (drawn like any policy's) must not change what the first rule does to its candidates.
    const lowerRules = fc.option(policyArb, { nil: undefined });
    fc.assert(
      fc.property(
        countRule,
        lowerRules,
        repositoryArb({ graph: false }),
        ({ tagStatus, prefix, countNumber }, lower, images) => {
          // Prepare
          const first = {
            rulePriority: 1,
            selection: {
              tagStatus,
              ...(tagStatus === 'tagged' ? { tagPrefixList: [prefix] } : {}),
              countType: 'imageCountMoreThan',
              countNumber,
            },
            action: { type: 'expire' },
          };
          const check = checkLifecyclePolicy(JSON.stringify({ rules: [first, ...(lower?.rules ?? [])] }));
          fc.pre(check.valid);
          if (!check.valid) return;
          const rule = check.policy.rules[0] as LifecycleRule;
          const candidates = images.filter((image) => selects(rule, image)).sort((a, b) => b.pushedAt - a.pushedAt);

          // Act
          const result = evaluateLifecyclePolicy(check.policy, images, NOW);

          // Assess
          const acted = new Map(result.actions.map((entry) => [entry.digest, entry.appliedRulePriority]));
          const actedCandidates = candidates.filter((image) => acted.has(image.digest));
          expect(actedCandidates).toHaveLength(Math.max(0, candidates.length - countNumber));
          candidates.forEach((image, rank) => {
            expect(acted.get(image.digest)).toBe(rank >= countNumber ? 1 : undefined);
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never acts on an image a kept index lists, nor on a referrer whose subject stays', () => {
    fc.assert(
      fc.property(policyArb, repositoryArb({ graph: true }), (policy, images) => {
        // Act
        const result = evaluateLifecyclePolicy(policy, images, NOW);

        // Assess
        const actions = new Map(result.actions.map((entry) => [entry.digest, entry.action.type]));
        const present = new Set(images.map((entry) => entry.digest));
        for (const image of images) {
          const own = actions.get(image.digest);
          if (own === undefined) continue;
          for (const index of image.referencedByIndex ?? []) {
            expect(actions.has(index)).toBe(true);
            if (own === 'expire') expect(actions.get(index)).toBe('expire');
          }
          if (image.subjectDigest !== undefined && present.has(image.subjectDigest)) {
            expect(actions.get(image.subjectDigest)).toBe(own);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
