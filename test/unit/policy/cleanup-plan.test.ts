import { describe, expect, it } from 'vitest';
import { type CleanupRule, DEFAULT_CLEANUP_RULE, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import { DAY, digestOf, image, MINUTE, NOW } from '../../helpers/images.ts';

const RULE: CleanupRule = { ...DEFAULT_CLEANUP_RULE, olderThanDays: 14, notPulledForDays: 30, maxDeleteFraction: 1 };

const plan = (images: Parameters<typeof planCleanup>[1], rule: Partial<CleanupRule> = {}) =>
  planCleanup('team/app', images, { ...RULE, ...rule }, NOW);

const fate = (result: ReturnType<typeof plan>, name: string) => {
  const decision = result.decisions.find((d) => d.digest === digestOf(name));
  if (!decision) throw new Error(`no decision for ${name}`);
  return { action: decision.action, code: decision.reason.code, reason: decision.reason };
};

describe('planCleanup', () => {
  it('deletes a stale untagged image and keeps a tagged one', () => {
    // Act
    const result = plan([image('old'), image('release', { tags: ['v1'] })]);
    // Assess
    expect(fate(result, 'old')).toMatchObject({ action: 'delete', code: 'stale-untagged' });
    expect(fate(result, 'release')).toMatchObject({ action: 'keep', code: 'tagged', reason: { tags: ['v1'] } });
    expect(result.toDelete).toEqual([digestOf('old')]);
    expect(result.bytesReclaimed).toBe(10_000_000);
  });

  it('keeps an untagged image pushed more recently than olderThanDays', () => {
    // Act
    const result = plan([image('young', { ageDays: 10 })], { notPulledForDays: 0 });
    // Assess
    expect(fate(result, 'young')).toMatchObject({ action: 'keep', code: 'recently-pushed' });
  });

  it('keeps a recently pulled untagged image, and uses push time for one never pulled', () => {
    // Act
    const result = plan([
      image('pulled', { ageDays: 200, pulledDaysAgo: 7 }),
      image('pulled-long-ago', { ageDays: 200, pulledDaysAgo: 90 }),
      image('never-pulled-young', { ageDays: 20 }),
    ]);
    // Assess
    expect(fate(result, 'pulled')).toMatchObject({ action: 'keep', code: 'recently-pulled' });
    expect(fate(result, 'pulled-long-ago')).toMatchObject({ action: 'delete', code: 'stale-untagged' });
    expect(fate(result, 'never-pulled-young')).toMatchObject({ action: 'keep', code: 'recently-pulled' });
  });

  it('keeps anything pushed inside the quiet period, whatever the thresholds', () => {
    // Act
    const result = plan([image('in-flight', { pushedAt: NOW - 10 * MINUTE })], {
      olderThanDays: 0,
      notPulledForDays: 0,
    });
    // Assess
    expect(fate(result, 'in-flight')).toMatchObject({ action: 'keep', code: 'quiet-period' });
  });

  it('keeps the untagged children of a tagged index', () => {
    // Act
    const result = plan([
      image('amd64'),
      image('arm64'),
      image('index', { tags: ['v2'], children: ['amd64', 'arm64'] }),
    ]);
    // Assess
    expect(fate(result, 'amd64')).toMatchObject({
      action: 'keep',
      code: 'child-of-kept-index',
      reason: { via: digestOf('index') },
    });
    expect(fate(result, 'arm64')).toMatchObject({ action: 'keep', code: 'child-of-kept-index' });
    expect(result.toDelete).toEqual([]);
  });

  it('deletes an untagged index with its children, the index first', () => {
    // Act
    const result = plan([image('amd64'), image('arm64'), image('index', { children: ['amd64', 'arm64'] })]);
    // Assess
    expect(fate(result, 'index')).toMatchObject({ action: 'delete', code: 'stale-untagged' });
    expect(fate(result, 'amd64')).toMatchObject({ action: 'delete', code: 'child-of-deleted-index' });
    expect(result.toDelete[0]).toBe(digestOf('index'));
    expect(new Set(result.toDelete)).toEqual(new Set(['index', 'amd64', 'arm64'].map(digestOf)));
    expect(result.bytesReclaimed).toBe(20_000_000);
  });

  it('protects every level of a nested index under a tagged root', () => {
    // Act
    const result = plan([
      image('leaf'),
      image('inner', { children: ['leaf'] }),
      image('outer', { tags: ['v3'], children: ['inner'] }),
    ]);
    // Assess
    expect(fate(result, 'inner')).toMatchObject({
      action: 'keep',
      code: 'child-of-kept-index',
      reason: { via: digestOf('outer') },
    });
    expect(fate(result, 'leaf')).toMatchObject({
      action: 'keep',
      code: 'child-of-kept-index',
      reason: { via: digestOf('inner') },
    });
  });

  it('deletes a nested untagged index outermost first', () => {
    // Act
    const result = plan([
      image('leaf'),
      image('inner', { children: ['leaf'] }),
      image('outer', { children: ['inner'] }),
    ]);
    // Assess
    expect(result.toDelete).toEqual(['outer', 'inner', 'leaf'].map(digestOf));
  });

  it('keeps a child shared by a kept index and a deleted one', () => {
    // Act
    const result = plan([
      image('shared'),
      image('only-old'),
      image('kept-index', { tags: ['v1'], children: ['shared'] }),
      image('old-index', { children: ['shared', 'only-old'] }),
    ]);
    // Assess
    expect(fate(result, 'shared')).toMatchObject({
      action: 'keep',
      code: 'child-of-kept-index',
      reason: { via: digestOf('kept-index') },
    });
    expect(fate(result, 'old-index')).toMatchObject({ action: 'delete' });
    expect(fate(result, 'only-old')).toMatchObject({ action: 'delete', code: 'child-of-deleted-index' });
  });

  it('keeps the signature and attestation of a kept image, and a referrer of a referrer', () => {
    // Act
    const result = plan([
      image('app', { tags: ['v1'] }),
      image('sig', { subjectDigest: digestOf('app') }),
      image('att', { subjectDigest: digestOf('app') }),
      image('sig-of-att', { subjectDigest: digestOf('att') }),
    ]);
    // Assess
    expect(fate(result, 'sig')).toMatchObject({ action: 'keep', code: 'referrer-of-kept-image' });
    expect(fate(result, 'sig-of-att')).toMatchObject({
      action: 'keep',
      code: 'referrer-of-kept-image',
      reason: { via: digestOf('att') },
    });
  });

  it('deletes the referrers of a deleted image after it, and an orphaned attestation', () => {
    // Act
    const result = plan([
      image('old'),
      image('old-sig', { subjectDigest: digestOf('old') }),
      image('orphan-att', { subjectDigest: digestOf('long-gone') }),
    ]);
    // Assess
    expect(fate(result, 'old-sig')).toMatchObject({ action: 'delete', code: 'referrer-of-deleted-image' });
    expect(fate(result, 'orphan-att')).toMatchObject({
      action: 'delete',
      code: 'orphaned-referrer',
      reason: { subject: digestOf('long-gone') },
    });
    expect(result.toDelete.indexOf(digestOf('old'))).toBeLessThan(result.toDelete.indexOf(digestOf('old-sig')));
  });

  it('treats cosign tag-convention signatures as referrers of their subject', () => {
    // Prepare
    const subjectTag = (name: string, suffix: string) => `${digestOf(name).replace(':', '-')}${suffix}`;
    // Act
    const result = plan([
      image('kept', { tags: ['v1'] }),
      image('kept-sig', { tags: [subjectTag('kept', '.sig')] }),
      image('gone'),
      image('gone-att', { tags: [subjectTag('gone', '.att')] }),
      image('orphan-sbom', { tags: [subjectTag('never-here', '.sbom')] }),
    ]);
    // Assess
    expect(fate(result, 'kept-sig')).toMatchObject({ action: 'keep', code: 'referrer-of-kept-image' });
    expect(fate(result, 'gone-att')).toMatchObject({ action: 'delete', code: 'referrer-of-deleted-image' });
    expect(fate(result, 'orphan-sbom')).toMatchObject({ action: 'delete', code: 'orphaned-referrer' });
  });

  it('keeps the newest untagged images when keepLatestUntagged is set', () => {
    // Act
    const result = plan([image('a', { ageDays: 100 }), image('b', { ageDays: 90 }), image('c', { ageDays: 80 })], {
      keepLatestUntagged: 2,
    });
    // Assess
    expect(fate(result, 'c')).toMatchObject({ action: 'keep', code: 'keep-latest-untagged', reason: { rank: 1 } });
    expect(fate(result, 'b')).toMatchObject({ action: 'keep', code: 'keep-latest-untagged', reason: { rank: 2 } });
    expect(fate(result, 'a')).toMatchObject({ action: 'delete' });
  });

  it('holds the safety brake when a run would delete more than the allowed share, and says why', () => {
    // Prepare
    const images = [image('a'), image('b'), image('c'), image('keep', { tags: ['v1'] })];
    // Act
    const braked = plan(images, { maxDeleteFraction: 0.5 });
    const allowed = plan(images, { maxDeleteFraction: 0.5, allowMassDelete: true });
    // Assess
    expect(braked.toDelete).toEqual([]);
    expect(braked.brake).toMatchObject({ wouldDelete: 3, total: 4, maxDeleteFraction: 0.5 });
    expect(braked.brake?.message).toMatch(/Refusing to delete 3 of 4 images \(75\.0%\)/);
    expect(fate(braked, 'a')).toMatchObject({ action: 'keep', code: 'safety-brake' });
    expect(allowed.toDelete).toHaveLength(3);
  });

  it('does not modify its input and decides every image exactly once', () => {
    // Prepare
    const images = [image('a'), image('i', { children: ['a'], tags: ['x'] })];
    const snapshot = JSON.stringify(images);
    // Act
    const result = plan(images);
    // Assess
    expect(JSON.stringify(images)).toBe(snapshot);
    expect(result.decisions.map((d) => d.digest)).toEqual(images.map((i) => i.digest));
  });

  it('refuses to plan with an index whose children were not read', () => {
    // Prepare
    const unread = { ...image('i', { children: [] }), childDigests: undefined };
    // Act and Assess
    expect(() => plan([unread])).toThrow(/invariant: index .* has no child list/);
  });

  it('ignores a pull time in the future relative to the thresholds (clock skew keeps the image)', () => {
    // Act
    const result = plan([image('skewed', { lastPulledAt: NOW + DAY })]);
    // Assess
    expect(fate(result, 'skewed')).toMatchObject({ action: 'keep', code: 'recently-pulled' });
  });
});
