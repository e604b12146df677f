import { evaluateLifecyclePolicy, type LifecycleImage } from '@ecr-automation/lifecycle';
import { describe, expect, it } from 'vitest';
import { DAY, digestOf, image, NOW, nameOf, policyOf, rule } from './helpers.ts';

/**
 * The examples of the user guide, each with its repository and the outcome the guide states, and cases for the
 * properties page's statements (tag pattern lists, archiving). Every case names its page and the example's title or
 * the statement. Where an example gives two images the same age ("1 day ago"), the later one in the
 * guide's list is pushed a minute later, so that "the newest" is the one the guide keeps.
 */
const EXAMPLES = 'https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html';
const PARAMETERS = 'https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html';

interface Case {
  name: string;
  policy: { rules: unknown[] };
  images: LifecycleImage[];
  /** Names of the images acted on, with the rule priority and action type. */
  acted: Record<string, [number, 'expire' | 'transition']>;
}

const MINUTE = 60_000;

const CASES: Case[] = [
  {
    name: `${EXAMPLES} — Filtering on image age (prod* older than 14 days)`,
    policy: {
      rules: [
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['prod*'],
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 14,
        }),
      ],
    },
    images: [
      image('A', ['prod-1'], 20),
      image('B', ['prod-2'], 10),
      image('C', ['beta-1'], 30),
      image('D', [], 30),
      image('E', ['prod'], 15),
    ],
    acted: { A: [1, 'expire'], E: [1, 'expire'] },
  },
  {
    name: `${EXAMPLES} — Filtering on image count (keep only one untagged image, expire all others)`,
    policy: { rules: [rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 })] },
    images: [image('A', [], 3), image('B', [], 2), image('C', [], 1), image('D', ['v1'], 5)],
    acted: { A: [1, 'expire'], B: [1, 'expire'] },
  },
  {
    name: `${EXAMPLES} — Filtering on multiple rules, Example A (prod then beta: only Image A is expired)`,
    policy: {
      rules: [
        rule(1, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 1 }),
        rule(2, { tagStatus: 'tagged', tagPrefixList: ['beta'], countType: 'imageCountMoreThan', countNumber: 1 }),
      ],
    },
    images: [image('A', ['beta-1', 'prod-1'], 10), image('B', ['beta-2', 'prod-2'], 9), image('C', ['beta-3'], 8)],
    acted: { A: [1, 'expire'] },
  },
  {
    name: `${EXAMPLES} — Filtering on multiple rules, Example B (beta then prod: Images A and B are expired)`,
    policy: {
      rules: [
        rule(1, { tagStatus: 'tagged', tagPrefixList: ['beta'], countType: 'imageCountMoreThan', countNumber: 1 }),
        rule(2, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 1 }),
      ],
    },
    images: [image('A', ['beta-1', 'prod-1'], 10), image('B', ['beta-2', 'prod-2'], 9), image('C', ['beta-3'], 8)],
    acted: { A: [1, 'expire'], B: [1, 'expire'] },
  },
  {
    name: `${EXAMPLES} — Filtering on multiple tags in a single rule, Example A (all prefixes must match: Image C)`,
    policy: {
      rules: [
        rule(1, {
          tagStatus: 'tagged',
          tagPrefixList: ['alpha', 'beta'],
          countType: 'sinceImagePushed',
          countNumber: 5,
          countUnit: 'days',
        }),
      ],
    },
    images: [
      image('A', ['alpha-1'], 12),
      image('B', ['beta-1'], 11),
      image('C', ['alpha-2', 'beta-2'], 10),
      image('D', ['alpha-3'], 4),
      image('E', ['beta-3'], 3),
      image('F', ['alpha-4', 'beta-4'], 2),
    ],
    acted: { C: [1, 'expire'] },
  },
  {
    name: `${EXAMPLES} — Filtering on multiple tags in a single rule, Example B (tags are not exclusive: A and B)`,
    policy: {
      rules: [
        rule(1, {
          tagStatus: 'tagged',
          tagPrefixList: ['alpha', 'beta'],
          countType: 'imageCountMoreThan',
          countNumber: 1,
        }),
      ],
    },
    images: [
      image('A', ['alpha-1', 'beta-1', 'gamma-1'], 10),
      image('B', ['alpha-2', 'beta-2'], 9),
      image('C', ['alpha-3', 'beta-3', 'gamma-2'], 8),
    ],
    acted: { A: [1, 'expire'], B: [1, 'expire'] },
  },
  {
    name: `${PARAMETERS} — tagPatternList: "If you specify multiple tags, only the images with all specified tags are selected"`,
    policy: {
      rules: [
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['alpha-*', '*-2'],
          countType: 'imageCountMoreThan',
          countNumber: 1,
        }),
      ],
    },
    images: [
      image('A', ['alpha-1', 'beta-2'], 10),
      image('B', ['alpha-2'], 9),
      image('C', ['alpha-3'], 8),
      image('D', ['alpha-4', 'gamma-2'], 7),
    ],
    acted: { A: [1, 'expire'], B: [1, 'expire'] },
  },
  {
    name: `${EXAMPLES} — Filtering on all images, Example A (any, keep the newest one: A, B and C)`,
    policy: { rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 })] },
    images: [image('A', ['alpha-1'], 4), image('B', ['beta-1'], 3), image('C', [], 2), image('D', ['alpha-2'], 1)],
    acted: { A: [1, 'expire'], B: [1, 'expire'], C: [1, 'expire'] },
  },
  {
    name: `${EXAMPLES} — Filtering on all images, Example B (all rule types: A, B and D)`,
    policy: {
      rules: [
        rule(1, { tagStatus: 'tagged', tagPrefixList: ['alpha'], countType: 'imageCountMoreThan', countNumber: 1 }),
        rule(2, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }),
        rule(3, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }),
      ],
    },
    images: [
      image('A', ['alpha-1', 'beta-1'], 4),
      image('B', [], 3),
      image('C', ['alpha-2'], 2),
      image('D', ['git hash'], 1),
      { ...image('E', [], 1), pushedAt: NOW - DAY + MINUTE },
    ],
    acted: { A: [1, 'expire'], B: [2, 'expire'], D: [3, 'expire'] },
  },
  {
    name: `${PARAMETERS} — countType sinceImagePulled: images not pulled for N days are archived (transition)`,
    policy: {
      rules: [
        rule(
          1,
          { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 },
          { type: 'transition', targetStorageClass: 'archive' },
        ),
      ],
    },
    images: [
      image('A', ['v1'], 90, { lastPulledAt: NOW - 40 * DAY }),
      image('B', ['v2'], 90, { lastPulledAt: NOW - 5 * DAY }),
      image('C', ['v3'], 60),
      image('D', ['v4'], 10),
      // Restored 3 days ago: the old pull does not make it eligible again.
      image('E', ['v5'], 200, { lastPulledAt: NOW - 150 * DAY, lastActivatedAt: NOW - 3 * DAY }),
      image('F', ['v6'], 200, { storageClass: 'archive', lastArchivedAt: NOW - 100 * DAY }),
    ],
    acted: { A: [1, 'transition'], C: [1, 'transition'] },
  },
  {
    name: `${PARAMETERS} — countType sinceImageTransitioned with storageClass archive: archived images expire`,
    policy: {
      rules: [
        rule(
          1,
          { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 },
          { type: 'transition', targetStorageClass: 'archive' },
        ),
        rule(2, {
          tagStatus: 'any',
          storageClass: 'archive',
          countType: 'sinceImageTransitioned',
          countUnit: 'days',
          countNumber: 90,
        }),
      ],
    },
    images: [
      image('A', ['v1'], 300, { storageClass: 'archive', lastArchivedAt: NOW - 100 * DAY }),
      image('B', ['v2'], 300, { storageClass: 'archive', lastArchivedAt: NOW - 50 * DAY }),
      image('C', ['v3'], 300, { lastPulledAt: NOW - 31 * DAY }),
    ],
    acted: { A: [2, 'expire'], C: [1, 'transition'] },
  },
];

describe('evaluateLifecyclePolicy on the user guide examples', () => {
  it.each(CASES)('$name', ({ policy, images, acted }) => {
    // Act
    const result = evaluateLifecyclePolicy(policyOf(policy), images, NOW);

    // Assess
    const got = Object.fromEntries(
      result.actions.map((entry) => [nameOf(entry.digest), [entry.appliedRulePriority, entry.action.type]]),
    );
    expect(got).toEqual(acted);
    expect(result.kept.map((entry) => nameOf(entry.digest)).sort()).toEqual(
      images.map((entry) => nameOf(entry.digest)).filter((name) => !(name in acted)),
    );
    const expiring = Object.values(acted).filter(([, type]) => type === 'expire').length;
    expect(result.summary.expiringImageTotalCount).toBe(expiring);
    const transitioning = Object.keys(acted).length - expiring;
    expect(result.summary.transitioningImageTotalCounts).toEqual(
      transitioning === 0 ? undefined : [{ targetStorageClass: 'ARCHIVE', imageTotalCount: transitioning }],
    );
  });

  it('explains Example A of "Filtering on multiple rules": Image B is selected by rule 1, which keeps it', () => {
    // Prepare
    const policy = policyOf(CASES[2]?.policy as { rules: unknown[] });

    // Act
    const result = evaluateLifecyclePolicy(policy, (CASES[2] as Case).images, NOW);

    // Assess
    expect(result.kept.map(({ digest, reason }) => [nameOf(digest), reason])).toEqual([
      [
        'B',
        { kind: 'selected-by-higher-priority-rule', rulePriority: 1, keptBy: 'within-count', wouldActRulePriority: 2 },
      ],
      ['C', { kind: 'within-count', rulePriority: 2, countNumber: 1, rank: 1 }],
    ]);
  });

  it('gives the action fields of a GetLifecyclePolicyPreview result item', () => {
    // Prepare
    const images = [image('A', ['prod-1'], 20)];

    // Act
    const result = evaluateLifecyclePolicy(policyOf(CASES[0]?.policy as { rules: unknown[] }), images, NOW);

    // Assess
    expect(result.actions).toEqual([
      {
        digest: digestOf('A'),
        tags: ['prod-1'],
        pushedAt: NOW - 20 * DAY,
        storageClass: 'standard',
        appliedRulePriority: 1,
        action: { type: 'expire' },
      },
    ]);
  });
});
