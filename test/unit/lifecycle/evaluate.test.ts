import { compileTagPattern, evaluateLifecyclePolicy, tagMatchesPattern } from '@ecr-automation/lifecycle';
import { describe, expect, it } from 'vitest';
import { digestOf, image, NOW, nameOf, policyOf, rule } from './helpers.ts';

const untaggedOlderThan = (days: number) =>
  policyOf({
    rules: [rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: days })],
  });

const anyOlderThan = (days: number) =>
  policyOf({
    rules: [rule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: days })],
  });

const actedNames = (result: ReturnType<typeof evaluateLifecyclePolicy>) =>
  result.actions.map((entry) => nameOf(entry.digest)).sort();

const reasonOf = (result: ReturnType<typeof evaluateLifecyclePolicy>, name: string) =>
  result.kept.find((entry) => entry.digest === digestOf(name))?.reason;

describe('evaluateLifecyclePolicy: manifest lists', () => {
  it('keeps the children of an index that stays, and says which index keeps them', () => {
    // Prepare: an old untagged child listed by a tagged (kept) index.
    const images = [
      image('index', ['v1'], 30),
      image('child', [], 30, { referencedByIndex: [digestOf('index')] }),
      image('loose', [], 30),
    ];

    // Act
    const result = evaluateLifecyclePolicy(untaggedOlderThan(7), images, NOW);

    // Assess
    expect(actedNames(result)).toEqual(['loose']);
    expect(reasonOf(result, 'child')).toEqual({
      kind: 'child-of-kept-index',
      indexDigest: digestOf('index'),
      withheldRulePriority: 1,
    });
  });

  it('expires the children with their index, and keeps a child another (kept) index still lists', () => {
    // Prepare
    const old = digestOf('old-index');
    const fresh = digestOf('fresh-index');
    const images = [
      image('old-index', [], 30),
      image('fresh-index', [], 1),
      image('only-old', [], 30, { referencedByIndex: [old] }),
      image('shared', [], 30, { referencedByIndex: [old, fresh] }),
    ];

    // Act
    const result = evaluateLifecyclePolicy(untaggedOlderThan(7), images, NOW);

    // Assess
    expect(actedNames(result)).toEqual(['old-index', 'only-old']);
    expect(reasonOf(result, 'shared')).toMatchObject({ kind: 'child-of-kept-index', indexDigest: fresh });
  });

  it('follows nested indexes to a fixed point: a kept outer index keeps the inner index and its children', () => {
    // Prepare: outer (tagged, kept) → inner (untagged, old) → leaf (untagged, old).
    const images = [
      image('leaf', [], 30, { referencedByIndex: [digestOf('inner')] }),
      image('inner', [], 30, { referencedByIndex: [digestOf('outer')] }),
      image('outer', ['release'], 30),
    ];

    // Act
    const result = evaluateLifecyclePolicy(untaggedOlderThan(7), images, NOW);

    // Assess
    expect(result.actions).toEqual([]);
    expect(reasonOf(result, 'leaf')).toMatchObject({ kind: 'child-of-kept-index', indexDigest: digestOf('inner') });
    expect(reasonOf(result, 'inner')).toMatchObject({ kind: 'child-of-kept-index', indexDigest: digestOf('outer') });
  });

  it('does not expire a child whose index is only archived', () => {
    // Prepare: the index is archived by rule 1 (not pulled for 30 days), the child would be expired by rule 2.
    const policy = policyOf({
      rules: [
        rule(
          1,
          {
            tagStatus: 'tagged',
            tagPatternList: ['*'],
            countType: 'sinceImagePulled',
            countUnit: 'days',
            countNumber: 30,
          },
          { type: 'transition', targetStorageClass: 'archive' },
        ),
        rule(2, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }),
      ],
    });
    const images = [image('index', ['v1'], 60), image('child', [], 60, { referencedByIndex: [digestOf('index')] })];

    // Act
    const result = evaluateLifecyclePolicy(policy, images, NOW);

    // Assess
    expect(actedNames(result)).toEqual(['index']);
    expect(reasonOf(result, 'child')).toMatchObject({ kind: 'child-of-kept-index', withheldRulePriority: 2 });
  });
});

describe('evaluateLifecyclePolicy: referrers', () => {
  it('expires a referrer with its subject, under the subject rule, and never counts it as a candidate', () => {
    // Prepare: keep 1 of any; the signature is newer than both images but follows its subject.
    const policy = policyOf({
      rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 })],
    });
    const images = [
      image('old', ['v1'], 10),
      image('new', ['v2'], 5),
      image('sig-old', [], 1, { subjectDigest: digestOf('old') }),
      image('sig-new', [], 1, { subjectDigest: digestOf('new') }),
    ];

    // Act
    const result = evaluateLifecyclePolicy(policy, images, NOW);

    // Assess
    expect(actedNames(result)).toEqual(['old', 'sig-old']);
    expect(result.actions.find((entry) => nameOf(entry.digest) === 'sig-old')).toMatchObject({
      appliedRulePriority: 1,
      action: { type: 'expire' },
      followsSubject: digestOf('old'),
    });
    expect(reasonOf(result, 'sig-new')).toEqual({ kind: 'referrer-of-kept-subject', subjectDigest: digestOf('new') });
    expect(reasonOf(result, 'new')).toMatchObject({ kind: 'within-count', rank: 1 });
  });

  it('follows chains of referrers, and treats a referrer whose subject is gone as an ordinary image', () => {
    // Prepare
    const images = [
      image('subject', [], 30),
      image('sbom', [], 1, { subjectDigest: digestOf('subject') }),
      image('sbom-sig', [], 1, { subjectDigest: digestOf('sbom') }),
      image('orphan', [], 30, { subjectDigest: digestOf('deleted') }),
    ];

    // Act
    const result = evaluateLifecyclePolicy(untaggedOlderThan(7), images, NOW);

    // Assess
    expect(actedNames(result)).toEqual(['orphan', 'sbom', 'sbom-sig', 'subject']);
  });

  it('keeps a referrer whose subject is kept by an index', () => {
    // Prepare
    const images = [
      image('index', ['v1'], 1),
      image('child', [], 30, { referencedByIndex: [digestOf('index')] }),
      image('sig', [], 30, { subjectDigest: digestOf('child') }),
    ];

    // Act
    const result = evaluateLifecyclePolicy(untaggedOlderThan(7), images, NOW);

    // Assess
    expect(result.actions).toEqual([]);
    expect(reasonOf(result, 'sig')).toEqual({ kind: 'referrer-of-kept-subject', subjectDigest: digestOf('child') });
  });

  it('archives a referrer with its subject, and leaves an archived referrer where it is', () => {
    // Prepare
    const policy = policyOf({
      rules: [
        rule(
          1,
          {
            tagStatus: 'tagged',
            tagPrefixList: ['v'],
            countType: 'sinceImagePulled',
            countUnit: 'days',
            countNumber: 30,
          },
          { type: 'transition', targetStorageClass: 'archive' },
        ),
      ],
    });
    const images = [
      image('subject', ['v1'], 60),
      image('sig', [], 60, { subjectDigest: digestOf('subject') }),
      image('old-sig', [], 60, { subjectDigest: digestOf('subject'), storageClass: 'archive' }),
    ];

    // Act
    const result = evaluateLifecyclePolicy(policy, images, NOW);

    // Assess
    expect(actedNames(result)).toEqual(['sig', 'subject']);
    expect(result.summary).toEqual({
      expiringImageTotalCount: 0,
      transitioningImageTotalCounts: [{ targetStorageClass: 'ARCHIVE', imageTotalCount: 2 }],
    });
    expect(reasonOf(result, 'old-sig')).toEqual({ kind: 'already-archived', subjectDigest: digestOf('subject') });
  });

  it('keeps referrers that refer to each other in a cycle', () => {
    // Prepare
    const images = [
      image('a', [], 30, { subjectDigest: digestOf('b') }),
      image('b', [], 30, { subjectDigest: digestOf('a') }),
    ];

    // Act
    const result = evaluateLifecyclePolicy(anyOlderThan(7), images, NOW);

    // Assess
    expect(result.actions).toEqual([]);
  });
});

describe('evaluateLifecyclePolicy: selection', () => {
  it('selects by storage class, and says why an image no rule selects stays', () => {
    // Prepare
    const images = [image('archived', [], 30, { storageClass: 'archive', lastArchivedAt: NOW }), image('fresh', [], 1)];

    // Act
    const result = evaluateLifecyclePolicy(untaggedOlderThan(7), images, NOW);

    // Assess
    expect(result.actions).toEqual([]);
    expect(reasonOf(result, 'archived')).toEqual({ kind: 'not-selected' });
    expect(reasonOf(result, 'fresh')).toEqual({
      kind: 'too-young',
      rulePriority: 1,
      countType: 'sinceImagePushed',
      ageDays: 1,
    });
  });

  it('acts on an image only after more than countNumber days', () => {
    // Prepare
    const images = [image('exactly', [], 7), { ...image('just-over', [], 7), pushedAt: NOW - 7 * 86_400_000 - 1 }];

    // Act
    const result = evaluateLifecyclePolicy(untaggedOlderThan(7), images, NOW);

    // Assess
    expect(actedNames(result)).toEqual(['just-over']);
  });

  it('does not depend on the order of the input', () => {
    // Prepare: equal push times; the count must pick the same images whatever the order.
    const policy = policyOf({
      rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 2 })],
    });
    const images = ['a', 'b', 'c', 'd', 'e'].map((name) => image(name, [], 3));

    // Act
    const forward = evaluateLifecyclePolicy(policy, images, NOW);
    const backward = evaluateLifecyclePolicy(policy, [...images].reverse(), NOW);

    // Assess
    expect(actedNames(forward)).toEqual(actedNames(backward));
    expect(forward.actions).toHaveLength(3);
  });

  it('rejects an image listed twice', () => {
    expect(() => evaluateLifecyclePolicy(anyOlderThan(1), [image('a', [], 3), image('a', ['x'], 3)], NOW)).toThrow(
      /invariant/,
    );
  });
});

describe('tag patterns', () => {
  it.each([
    ['prod*', 'prod', true],
    ['prod*', 'production', true],
    ['prod*', 'preprod', false],
    ['*prod', 'preprod', true],
    ['*prod*', 'a-prod-b', true],
    ['prod', 'prod', true],
    ['prod', 'prod1', false],
    ['*', '', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['ab*ba', 'aba', false],
    ['ab*ba', 'abba', true],
    ['*aa*aa', 'aaa', false],
    ['*aa*aa', 'aaaa', true],
    ['*test*1*2*', 'my-test-1-2-x', true],
    ['*test*1*2*', 'my-test-2-1-x', false],
  ])('%s against %s is %s', (pattern, tag, expected) => {
    expect(tagMatchesPattern(compileTagPattern(pattern), tag)).toBe(expected);
  });

  it('matches a hostile pattern over a 10,000-character tag without backtracking', () => {
    // Prepare: a backtracking matcher explores ~n^4 positions here; this one scans the tag once.
    const tag = 'a'.repeat(10_000);
    const policy = policyOf({
      rules: [
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['*a*a*a*a', '*a*a*a*b'],
          countType: 'imageCountMoreThan',
          countNumber: 1,
        }),
      ],
    });
    const images = Array.from({ length: 50 }, (_, n) => image(`i${n}`, [tag, `${tag}c`], n + 1));

    // Act
    const result = evaluateLifecyclePolicy(policy, images, NOW);

    // Assess: no tag ends in b, so nothing is selected.
    expect(result.actions).toEqual([]);
    expect(tagMatchesPattern(compileTagPattern('*a*a*a*a'), tag)).toBe(true);
    expect(tagMatchesPattern(compileTagPattern('*a*a*a*b'), tag)).toBe(false);
    expect(tagMatchesPattern(compileTagPattern(`*${'a'.repeat(5000)}b*a`), tag)).toBe(false);
  });
});
