import { describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../../shared/domain/image.ts';
import type { TagSelection } from '../../../shared/domain/settings.ts';
import { type CleanupRule, DEFAULT_CLEANUP_RULE, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import { DAY, digestOf, image, MINUTE, NOW } from '../../helpers/images.ts';

const RULE: CleanupRule = {
  ...DEFAULT_CLEANUP_RULE,
  olderThanDays: 14,
  notPulledForDays: 30,
  maxDeleteFraction: 1,
  maxTaggedDeleteFraction: 1,
};

const plan = (
  images: Parameters<typeof planCleanup>[1],
  tagSelections: TagSelection[],
  rule: Partial<CleanupRule> = {},
  options: Parameters<typeof planCleanup>[4] = {},
) => planCleanup('team/app', images, { ...RULE, tagSelections, ...rule }, NOW, options);

const fate = (result: ReturnType<typeof plan>, name: string) => {
  const decision = result.decisions.find((d) => d.digest === digestOf(name));
  if (!decision) throw new Error(`no decision for ${name}`);
  return { action: decision.action, code: decision.reason.code, reason: decision.reason };
};

/** `count` images tagged `<prefix>1` (newest) ... `<prefix><count>` (oldest), one day apart, from 100 days ago. */
const series = (prefix: string, count: number, extra: Partial<Parameters<typeof image>[1]> = {}) =>
  Array.from({ length: count }, (_, index) =>
    image(`${prefix}${index + 1}`, { tags: [`${prefix}${index + 1}`], ageDays: 100 + index, ...extra }),
  );

describe('planCleanup with tag selections', () => {
  it('keeps the newest keepLast images of a selection and deletes the one ranked just beyond', () => {
    // Act
    const result = plan(series('pr-', 4), [{ tags: ['pr-*'], keepLast: 3 }]);
    // Assess
    expect(fate(result, 'pr-3')).toMatchObject({
      action: 'keep',
      code: 'retained',
      reason: { tag: 'pr-3', selection: 0, condition: 'keepLast', rank: 3, explanation: 'keepLast 3 of pr-* (rank 3)' },
    });
    expect(fate(result, 'pr-4')).toMatchObject({
      action: 'delete',
      code: 'released',
      reason: { tags: ['pr-4'], explanations: ['pr-4: pr-* beyond keepLast 3 (rank 4)'] },
    });
    expect(result.toDelete).toEqual([digestOf('pr-4')]);
  });

  it('ranks by push time, not by listing order, and breaks ties by digest', () => {
    // Prepare
    const images = series('pr-', 3).reverse();
    // Act
    const result = plan(images, [{ tags: ['pr-*'], keepLast: 1 }]);
    // Assess
    expect(result.toDelete.sort()).toEqual([digestOf('pr-2'), digestOf('pr-3')].sort());
  });

  it('counts an image once however many of its tags a selection claims', () => {
    // Prepare: the newest carries two pr tags; keepLast 2 keeps it and the next one.
    const images = [
      image('a', { tags: ['pr-1', 'pr-1b'], ageDays: 100 }),
      image('b', { tags: ['pr-2'], ageDays: 101 }),
      image('c', { tags: ['pr-3'], ageDays: 102 }),
    ];
    // Act
    const result = plan(images, [{ tags: ['pr-*'], keepLast: 2 }]);
    // Assess
    expect(fate(result, 'b')).toMatchObject({ action: 'keep', reason: { rank: 2 } });
    expect(fate(result, 'c')).toMatchObject({ action: 'delete', reason: { tags: ['pr-3'] } });
  });

  it('keeps images pushed within keepNewerThanDays, and releases one pushed exactly that many days ago', () => {
    // Prepare
    const images = [
      image('young', { tags: ['main-1'], pushedAt: NOW - 7 * DAY + 1 }),
      image('exact', { tags: ['main-2'], pushedAt: NOW - 7 * DAY }),
    ];
    // Act
    const result = plan(images, [{ tags: ['main-*'], keepNewerThanDays: 7 }], { quietPeriodMinutes: 0 });
    // Assess
    expect(fate(result, 'young')).toMatchObject({
      action: 'keep',
      reason: { condition: 'keepNewerThanDays', explanation: 'keepNewerThanDays 7 of main-* (pushed 6 days ago)' },
    });
    expect(fate(result, 'exact')).toMatchObject({
      action: 'delete',
      reason: { explanations: ['main-2: main-* pushed 7 days ago'] },
    });
  });

  it('keeps images pulled within keepPulledWithinDays (push time when never pulled), exact days released', () => {
    // Prepare
    const images = [
      image('pulled', { tags: ['feature-a'], lastPulledAt: NOW - 30 * DAY + 1 }),
      image('stale', { tags: ['feature-b'], lastPulledAt: NOW - 30 * DAY }),
      image('never', { tags: ['feature-c'], pushedAt: NOW - 29 * DAY }),
      image('old', { tags: ['feature-d'], ageDays: 40 }),
    ];
    // Act
    const result = plan(images, [{ tags: ['feature-*'], keepPulledWithinDays: 30 }]);
    // Assess
    expect(fate(result, 'pulled')).toMatchObject({ action: 'keep', reason: { condition: 'keepPulledWithinDays' } });
    expect(fate(result, 'never')).toMatchObject({
      action: 'keep',
      reason: { explanation: 'keepPulledWithinDays 30 of feature-* (pushed 29 days ago)' },
    });
    expect(fate(result, 'stale')).toMatchObject({
      action: 'delete',
      reason: { explanations: ['feature-b: feature-* not pulled for 30 days'] },
    });
    expect(fate(result, 'old')).toMatchObject({
      action: 'delete',
      reason: { explanations: ['feature-d: feature-* never pulled (pushed 40 days ago)'] },
    });
  });

  it('explains a release with every condition that failed', () => {
    // Prepare
    const images = [...series('pr-', 21, { pulledDaysAgo: 31 })];
    // Act
    const result = plan(images, [{ tags: ['pr-*'], keepLast: 20, keepPulledWithinDays: 30 }]);
    // Assess
    expect(fate(result, 'pr-21').reason).toEqual({
      code: 'released',
      tags: ['pr-21'],
      explanations: ['pr-21: pr-* beyond keepLast 20 (rank 21) and not pulled for 31 days'],
    });
    expect(result.toDelete).toEqual([digestOf('pr-21')]);
  });

  it('protects every image a protecting selection claims, whatever its age', () => {
    // Act
    const result = plan(
      [image('rel', { tags: ['v1.2.0'], ageDays: 3000 })],
      [{ tags: [{ form: 'semver' }], protect: true }],
    );
    // Assess
    expect(fate(result, 'rel')).toMatchObject({
      action: 'keep',
      reason: { code: 'retained', condition: 'protect', explanation: 'protect of semver' },
    });
  });

  it('releases everything a selection without keep conditions claims', () => {
    // Act
    const result = plan([image('tmp', { tags: ['tmp-1'] })], [{ tags: ['tmp-*'] }]);
    // Assess
    expect(fate(result, 'tmp')).toMatchObject({
      action: 'delete',
      reason: { explanations: ['tmp-1: tmp-* keeps nothing'] },
    });
  });

  it('gives a tag to the first selection whose pattern matches, not to a later one', () => {
    // Prepare: `pr-*` first releases pr-1 although the later `any` selection protects.
    const selections: TagSelection[] = [
      { tags: ['pr-*'], keepLast: 0 },
      { tags: [{ form: 'any' }], protect: true },
    ];
    // Act
    const result = plan([image('pr', { tags: ['pr-1'] }), image('other', { tags: ['nightly'] })], selections);
    // Assess
    expect(fate(result, 'pr').action).toBe('delete');
    expect(fate(result, 'other')).toMatchObject({ action: 'keep', reason: { selection: 1, condition: 'protect' } });
  });

  it('keeps an image tagged pr-12 and v1.2.0 by the release selection', () => {
    // Prepare
    const selections: TagSelection[] = [
      { tags: ['pr-*'], keepLast: 0 },
      { tags: [{ form: 'semver' }], protect: true },
    ];
    // Act
    const result = plan([image('both', { tags: ['pr-12', 'v1.2.0'] })], selections);
    // Assess
    expect(fate(result, 'both')).toMatchObject({
      action: 'keep',
      reason: { code: 'retained', tag: 'v1.2.0', selection: 1, condition: 'protect' },
    });
  });

  it('keeps an image with a tag no selection claims, as any tagged image', () => {
    // Act
    const result = plan([image('mixed', { tags: ['pr-1', 'latest'] })], [{ tags: ['pr-*'], keepLast: 0 }]);
    // Assess
    expect(fate(result, 'mixed')).toMatchObject({ action: 'keep', code: 'tagged', reason: { tags: ['latest'] } });
  });

  it('matches anchored regexes and the semver form', () => {
    // Prepare
    const selections: TagSelection[] = [
      { tags: [{ regex: 'build-[0-9]+' }], keepLast: 0 },
      { tags: [{ form: 'semver' }], keepLast: 0 },
    ];
    const images = [
      image('num', { tags: ['build-12'] }),
      image('suffix', { tags: ['build-12x'] }),
      image('ver', { tags: ['v2.0.1'] }),
      image('notver', { tags: ['v2.0'] }),
    ];
    // Act
    const result = plan(images, selections);
    // Assess
    expect(fate(result, 'num').action).toBe('delete');
    expect(fate(result, 'suffix')).toMatchObject({ action: 'keep', code: 'tagged' });
    expect(fate(result, 'ver').action).toBe('delete');
    expect(fate(result, 'notver')).toMatchObject({ action: 'keep', code: 'tagged' });
  });

  it('never releases a cosign convention tag: the artifact follows its subject', () => {
    // Prepare
    const subject = image('subject', { tags: ['v1'] });
    const signature = image('sig', { tags: [`${subject.digest.replace(':', '-')}.sig`] });
    const selections: TagSelection[] = [{ tags: [{ form: 'any' }], protect: true }];
    // Act
    const kept = plan([subject, signature], selections);
    const released = plan([subject, signature], [{ tags: [{ form: 'any' }], keepLast: 0 }]);
    // Assess
    expect(fate(kept, 'sig')).toMatchObject({ action: 'keep', code: 'referrer-of-kept-image' });
    expect(fate(released, 'sig')).toMatchObject({ action: 'delete', code: 'referrer-of-deleted-image' });
    expect(released.toDelete).toEqual([subject.digest, signature.digest]);
  });

  it('keeps a released image in the quiet period', () => {
    // Act
    const result = plan([image('new', { tags: ['pr-1'], pushedAt: NOW - 5 * MINUTE })], [{ tags: ['pr-*'] }]);
    // Assess
    expect(fate(result, 'new')).toMatchObject({ action: 'keep', code: 'quiet-period' });
  });

  it('does not apply the untagged rules to a released tagged image', () => {
    // Act: pulled yesterday, pushed 2 days ago, but its selection keeps nothing.
    const result = plan([image('x', { tags: ['pr-1'], ageDays: 2, pulledDaysAgo: 1 })], [{ tags: ['pr-*'] }]);
    // Assess
    expect(fate(result, 'x').action).toBe('delete');
  });

  it('deletes a released index with its children and referrers, unless a kept image needs them', () => {
    // Prepare
    const images = [
      image('amd64'),
      image('arm64'),
      image('old-index', { tags: ['pr-1'], children: ['amd64', 'arm64'], ageDays: 101 }),
      image('new-index', { tags: ['pr-2'], children: ['arm64'], ageDays: 100 }),
      image('sbom', { subjectDigest: digestOf('old-index') }),
    ];
    // Act
    const result = plan(images, [{ tags: ['pr-*'], keepLast: 1 }]);
    // Assess
    expect(fate(result, 'old-index')).toMatchObject({ action: 'delete', code: 'released' });
    expect(fate(result, 'amd64')).toMatchObject({ action: 'delete', code: 'child-of-deleted-index' });
    expect(fate(result, 'sbom')).toMatchObject({ action: 'delete', code: 'referrer-of-deleted-image' });
    expect(fate(result, 'arm64')).toMatchObject({ action: 'keep', code: 'child-of-kept-index' });
    expect(result.toDelete.indexOf(digestOf('old-index'))).toBeLessThan(result.toDelete.indexOf(digestOf('amd64')));
  });

  it('breaks a tie in push time by digest, the same way every run', () => {
    // Prepare: two images pushed at the same instant; the one whose digest sorts first ranks first.
    const pushedAt = NOW - 50 * DAY;
    const [first, second] = [
      image('tie-a', { tags: ['pr-a'], pushedAt }),
      image('tie-b', { tags: ['pr-b'], pushedAt }),
    ].sort((a, b) => a.digest.localeCompare(b.digest)) as [ImageRecord, ImageRecord];
    // Act
    const result = plan([second, first], [{ tags: ['pr-*'], keepLast: 1 }]);
    // Assess
    expect(result.toDelete).toEqual([second.digest]);
  });

  it('names the first condition that keeps, protect before keepLast before the day conditions', () => {
    // Prepare
    const images = [image('x', { tags: ['pr-1'], ageDays: 1, pulledDaysAgo: 1 })];
    const all = { keepLast: 5, keepNewerThanDays: 10, keepPulledWithinDays: 10 };
    // Act
    const protect = plan(images, [{ tags: ['pr-*'], protect: true, ...all }]);
    const last = plan(images, [{ tags: ['pr-*'], ...all }]);
    const newer = plan(images, [{ tags: ['pr-*'], ...all, keepLast: 0 }]);
    const pulled = plan(images, [{ tags: ['pr-*'], keepPulledWithinDays: 10 }]);
    // Assess
    expect(fate(protect, 'x').reason).toMatchObject({ condition: 'protect' });
    expect(fate(last, 'x').reason).toMatchObject({ condition: 'keepLast', rank: 1 });
    expect(fate(newer, 'x').reason).toMatchObject({ condition: 'keepNewerThanDays' });
    expect(fate(pulled, 'x').reason).toMatchObject({
      condition: 'keepPulledWithinDays',
      explanation: 'keepPulledWithinDays 10 of pr-* (pulled 1 days ago)',
    });
  });

  it('ranks only the images carrying a tag the selection claims', () => {
    // Prepare: a newer main image does not take a pr slot.
    const images = [image('main', { tags: ['main-1'], ageDays: 1 }), image('pr', { tags: ['pr-1'], ageDays: 50 })];
    // Act
    const result = plan(images, [
      { tags: ['pr-*'], keepLast: 1 },
      { tags: ['main-*'], keepLast: 1 },
    ]);
    // Assess
    expect(fate(result, 'pr').reason).toMatchObject({ code: 'retained', rank: 1, selection: 0 });
    expect(fate(result, 'main').reason).toMatchObject({ code: 'retained', rank: 1, selection: 1 });
  });

  it('lists only the unclaimed tags of an image kept as tagged, and all tags of a released one', () => {
    // Act
    const kept = plan([image('a', { tags: ['pr-1', 'latest', 'pr-2'] })], [{ tags: ['pr-*'] }]);
    const released = plan([image('b', { tags: ['pr-1', 'pr-2'] })], [{ tags: ['pr-*'] }]);
    // Assess
    expect(fate(kept, 'a').reason).toEqual({ code: 'tagged', tags: ['latest'] });
    expect(fate(released, 'b').reason).toEqual({
      code: 'released',
      tags: ['pr-1', 'pr-2'],
      explanations: ['pr-1: pr-* keeps nothing', 'pr-2: pr-* keeps nothing'],
    });
  });

  it('names a selection by its patterns, a regex between slashes', () => {
    // Act
    const result = plan([image('b', { tags: ['b-1'] })], [{ tags: [{ regex: 'b-[0-9]+' }, 'c-*'] }]);
    // Assess
    expect(fate(result, 'b').reason).toMatchObject({ explanations: ['b-1: /b-[0-9]+/,c-* keeps nothing'] });
  });

  it('gives the reason of the first tag that keeps the image, in the order of its tags', () => {
    // Prepare
    const selections: TagSelection[] = [
      { tags: ['pr-*'], keepLast: 5 },
      { tags: [{ form: 'semver' }], protect: true },
    ];
    // Act
    const result = plan([image('x', { tags: ['pr-1', 'v1.0.0'] })], selections);
    // Assess
    expect(fate(result, 'x').reason).toMatchObject({ code: 'retained', tag: 'pr-1', condition: 'keepLast' });
  });

  it('leaves the untagged rules as they were when no selection is set', () => {
    // Act
    const result = plan([image('old'), image('rel', { tags: ['v1'] })], []);
    // Assess
    expect(fate(result, 'old')).toMatchObject({ action: 'delete', code: 'stale-untagged' });
    expect(fate(result, 'rel')).toMatchObject({ action: 'keep', code: 'tagged', reason: { tags: ['v1'] } });
  });
});

describe('planCleanup with images in use', () => {
  const usedBy = [{ provider: 'ecs' as const, where: 'prod/api' }];

  it('keeps an image in use whatever its selection says, with its children and referrers', () => {
    // Prepare
    const images = [
      image('child'),
      image('index', { tags: ['pr-1'], children: ['child'] }),
      image('sig', { subjectDigest: digestOf('index') }),
      image('other', { tags: ['pr-2'] }),
    ];
    // Act
    const result = plan(images, [{ tags: ['pr-*'] }], {}, { inUse: new Map([[digestOf('index'), usedBy]]) });
    // Assess
    expect(fate(result, 'index')).toMatchObject({ action: 'keep', reason: { code: 'in-use', usedBy } });
    expect(fate(result, 'child')).toMatchObject({ action: 'keep', code: 'child-of-kept-index' });
    expect(fate(result, 'sig')).toMatchObject({ action: 'keep', code: 'referrer-of-kept-image' });
    expect(result.toDelete).toEqual([digestOf('other')]);
  });

  it('keeps an untagged image in use, and ignores an empty list of uses', () => {
    // Act
    const result = plan(
      [image('a'), image('b')],
      [],
      {},
      {
        inUse: new Map([
          [digestOf('a'), usedBy],
          [digestOf('b'), []],
        ]),
      },
    );
    // Assess
    expect(fate(result, 'a')).toMatchObject({ action: 'keep', code: 'in-use' });
    expect(fate(result, 'b')).toMatchObject({ action: 'delete', code: 'stale-untagged' });
  });

  it('deletes nothing when what runs is unknown, and says why for every image', () => {
    // Act
    const result = plan(
      [image('old'), image('pr', { tags: ['pr-1'] })],
      [{ tags: ['pr-*'] }],
      {},
      {
        inUseUnavailable: 'ecs: AccessDenied',
      },
    );
    // Assess
    expect(result.toDelete).toEqual([]);
    expect(result.bytesReclaimed).toBe(0);
    expect(result.brake).toBeUndefined();
    expect(result.decisions.map((d) => [d.action, d.reason])).toEqual([
      ['keep', { code: 'in-use-unknown', message: 'ecs: AccessDenied' }],
      ['keep', { code: 'in-use-unknown', message: 'ecs: AccessDenied' }],
    ]);
  });
});

describe('the tagged safety brake', () => {
  const tenTagged = series('pr-', 10);

  it('lets through exactly the limit and holds one tagged image more', () => {
    // Act
    const atLimit = plan(tenTagged, [{ tags: ['pr-*'], keepLast: 9 }], { maxTaggedDeleteFraction: 0.1 });
    const over = plan(tenTagged, [{ tags: ['pr-*'], keepLast: 8 }], { maxTaggedDeleteFraction: 0.1 });
    // Assess
    expect(atLimit.brake).toBeUndefined();
    expect(atLimit.toDelete).toHaveLength(1);
    expect(over.toDelete).toEqual([]);
    expect(over.brake).toMatchObject({ wouldDelete: 2, total: 10, maxDeleteFraction: 0.1, tagged: true });
    expect(over.brake?.message).toContain('2 of 10 tagged images (20.0%)');
    expect(fate(over, 'pr-10').reason).toEqual({
      code: 'tagged-safety-brake',
      wouldDelete: 2,
      total: 10,
      maxTaggedDeleteFraction: 0.1,
    });
  });

  it('defaults to 10% of the tagged images', () => {
    // Act
    const result = plan(tenTagged, [{ tags: ['pr-*'], keepLast: 8 }], { maxTaggedDeleteFraction: undefined });
    // Assess
    expect(result.brake).toMatchObject({ maxDeleteFraction: 0.1, tagged: true });
  });

  it('counts tagged and untagged deletions apart', () => {
    // Prepare: 10 tagged, 10 untagged; deleting 1 tagged and 10 untagged.
    const images = [...tenTagged, ...Array.from({ length: 10 }, (_, i) => image(`u${i}`))];
    // Act
    const untaggedHeld = plan(images, [{ tags: ['pr-*'], keepLast: 9 }], {
      maxDeleteFraction: 0.4,
      maxTaggedDeleteFraction: 0.1,
    });
    const passes = plan(images, [{ tags: ['pr-*'], keepLast: 9 }], {
      maxDeleteFraction: 0.5,
      maxTaggedDeleteFraction: 0.1,
    });
    // Assess: 10 of 20 images untagged is 50%, over 40% but not over 50%; the tagged one does not count there.
    expect(untaggedHeld.brake).toMatchObject({ wouldDelete: 10, total: 20, maxDeleteFraction: 0.4 });
    expect(untaggedHeld.brake?.tagged).toBeUndefined();
    expect(fate(untaggedHeld, 'pr-10')).toMatchObject({ action: 'keep', code: 'safety-brake' });
    expect(passes.brake).toBeUndefined();
    expect(passes.toDelete).toHaveLength(11);
  });

  it('is lifted by allowMassDelete', () => {
    // Act
    const result = plan(tenTagged, [{ tags: ['pr-*'], keepLast: 0 }], {
      maxTaggedDeleteFraction: 0.1,
      allowMassDelete: true,
    });
    // Assess
    expect(result.brake).toBeUndefined();
    expect(result.toDelete).toHaveLength(10);
  });
});
