import { describe, expect, it } from 'vitest';
import {
  buildImageGraph,
  type CleanupRule,
  DEFAULT_CLEANUP_RULE,
  planCleanup,
} from '../../../shared/policy/cleanup/plan.ts';
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

  it('gives an image protected by its index or subject its own reason when it has one', () => {
    // Act
    const result = plan([
      image('tagged-child', { tags: ['amd64'] }),
      image('pulled-child', { pulledDaysAgo: 2 }),
      image('index', { tags: ['v1'], children: ['tagged-child', 'pulled-child'] }),
      image('pulled-sig', { pulledDaysAgo: 2, subjectDigest: digestOf('index') }),
    ]);
    // Assess
    expect(fate(result, 'tagged-child')).toMatchObject({ action: 'keep', code: 'tagged' });
    expect(fate(result, 'pulled-child')).toMatchObject({ action: 'keep', code: 'recently-pulled' });
    expect(fate(result, 'pulled-sig')).toMatchObject({ action: 'keep', code: 'recently-pulled' });
  });

  it("reports a nested index whose only pull is the cleanup's own read as a child of its kept index", () => {
    // Prepare
    const images = [
      image('leaf'),
      image('nested', { children: ['leaf'], pulledDaysAgo: 0 }),
      image('pulled-child', { pulledDaysAgo: 2 }),
      image('tagged-nested', { tags: ['arm64'], children: [], pulledDaysAgo: 0 }),
      image('index', { tags: ['v1'], children: ['nested', 'pulled-child', 'tagged-nested'] }),
      image('pulled-root', { pulledDaysAgo: 0 }),
    ];
    const ownReads = new Set(['nested', 'pulled-root', 'tagged-nested'].map(digestOf));
    // Act
    const result = planCleanup('team/app', images, RULE, NOW, { ownReads });
    // Assess
    expect(fate(result, 'nested')).toMatchObject({ action: 'keep', reason: { via: digestOf('index') } });
    expect(fate(result, 'nested').code).toBe('child-of-kept-index');
    expect(fate(result, 'leaf')).toMatchObject({ action: 'keep', reason: { via: digestOf('nested') } });
    expect(fate(result, 'pulled-child').code).toBe('recently-pulled');
    // Only a pull that may be our own read gives way: a tag is the image's own reason, whoever else keeps it.
    expect(fate(result, 'tagged-nested').code).toBe('tagged');
    // Nothing protects it but the pull: it stays kept, for being pulled.
    expect(fate(result, 'pulled-root')).toMatchObject({ action: 'keep', code: 'recently-pulled' });
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

  it('ranks keepLatestUntagged by push time, not by digest', () => {
    // Prepare: digest order (0…, 8…, f…) is neither the age order nor its reverse.
    const hex = (char: string) => `sha256:${char.repeat(64)}`;
    const images = [
      image('oldest', { digest: hex('0'), ageDays: 100 }),
      image('newest', { digest: hex('8'), ageDays: 80 }),
      image('middle', { digest: hex('f'), ageDays: 90 }),
    ];
    // Act
    const one = planCleanup('team/app', images, { ...RULE, keepLatestUntagged: 1 }, NOW);
    const two = planCleanup('team/app', images, { ...RULE, keepLatestUntagged: 2 }, NOW);
    // Assess
    expect(one.toDelete).toEqual([hex('0'), hex('f')]);
    expect(one.decisions[1]).toMatchObject({ action: 'keep', reason: { code: 'keep-latest-untagged', rank: 1 } });
    expect(two.toDelete).toEqual([hex('0')]);
    expect(two.decisions[2]).toMatchObject({ action: 'keep', reason: { code: 'keep-latest-untagged', rank: 2 } });
  });

  it('breaks a tie in push time by digest, so the image kept does not depend on listing order', () => {
    // Prepare
    const pushedAt = NOW - 100 * DAY;
    const low = image('low', { digest: `sha256:${'1'.repeat(64)}`, pushedAt });
    const high = image('high', { digest: `sha256:${'e'.repeat(64)}`, pushedAt });
    // Act
    const listed = planCleanup('team/app', [low, high], { ...RULE, keepLatestUntagged: 1 }, NOW);
    const reversed = planCleanup('team/app', [high, low], { ...RULE, keepLatestUntagged: 1 }, NOW);
    // Assess
    expect(listed.toDelete).toEqual([high.digest]);
    expect(reversed.toDelete).toEqual([high.digest]);
  });

  it('gives keepLatestUntagged slots to untagged top-level images only: not to tagged images, referrers or children', () => {
    // Act: everything but `candidate` and the stale index is newer than `candidate`.
    const result = plan(
      [
        image('candidate', { ageDays: 60 }),
        image('tagged', { ageDays: 50, tags: ['v1'] }),
        image('orphan-sig', { ageDays: 51, subjectDigest: digestOf('long-gone') }),
        image('cosign-sig', { ageDays: 52, tags: [`${digestOf('long-gone').replace(':', '-')}.sig`] }),
        image('child', { ageDays: 53 }),
        image('old-index', { ageDays: 70, children: ['child'] }),
      ],
      { keepLatestUntagged: 1 },
    );
    // Assess
    expect(fate(result, 'candidate')).toMatchObject({
      action: 'keep',
      reason: { code: 'keep-latest-untagged', rank: 1 },
    });
    expect(fate(result, 'tagged')).toMatchObject({ action: 'keep', code: 'tagged' });
    expect(fate(result, 'orphan-sig')).toMatchObject({ action: 'delete', code: 'orphaned-referrer' });
    expect(fate(result, 'cosign-sig')).toMatchObject({ action: 'delete', code: 'orphaned-referrer' });
    expect(fate(result, 'child')).toMatchObject({ action: 'delete', code: 'child-of-deleted-index' });
    expect(fate(result, 'old-index')).toMatchObject({ action: 'delete', code: 'stale-untagged' });
  });

  it('counts a newest untagged image kept for another reason as one of the latest N', () => {
    // Act
    const result = plan(
      [image('pulled', { ageDays: 80, pulledDaysAgo: 1 }), image('second', { ageDays: 90 }), image('third')],
      { keepLatestUntagged: 2 },
    );
    // Assess
    expect(fate(result, 'pulled')).toMatchObject({ action: 'keep', code: 'recently-pulled' });
    expect(fate(result, 'second')).toMatchObject({ action: 'keep', reason: { code: 'keep-latest-untagged', rank: 2 } });
    expect(fate(result, 'third')).toMatchObject({ action: 'delete' });
  });

  it('treats an age exactly at a threshold as past it', () => {
    // Act
    const result = plan(
      [
        image('at-older-than', { ageDays: 14, pulledDaysAgo: 40 }),
        image('at-not-pulled-for', { pulledDaysAgo: 30 }),
        image('at-quiet-period', { pushedAt: NOW - 60 * MINUTE }),
        image('inside-quiet-period', { pushedAt: NOW - 60 * MINUTE + 1 }),
      ],
      { olderThanDays: 14, notPulledForDays: 30, quietPeriodMinutes: 60 },
    );
    const quiet = plan([image('at-quiet-period', { pushedAt: NOW - 60 * MINUTE })], {
      olderThanDays: 0,
      notPulledForDays: 0,
    });
    // Assess
    expect(fate(result, 'at-older-than')).toMatchObject({ action: 'delete', code: 'stale-untagged' });
    expect(fate(result, 'at-not-pulled-for')).toMatchObject({ action: 'delete', code: 'stale-untagged' });
    expect(fate(result, 'inside-quiet-period')).toMatchObject({ action: 'keep', code: 'quiet-period' });
    expect(fate(quiet, 'at-quiet-period')).toMatchObject({ action: 'delete', code: 'stale-untagged' });
  });

  it('deletes young children and referrers of a deleted image: age alone keeps only top-level images', () => {
    // Act
    const result = plan(
      [
        image('young-child', { ageDays: 5, pulledDaysAgo: 40 }),
        image('index', { children: ['young-child'] }),
        image('young-sig', { ageDays: 5, pulledDaysAgo: 40, subjectDigest: digestOf('index') }),
        image('young-root', { ageDays: 5, pulledDaysAgo: 40 }),
      ],
      { olderThanDays: 14, notPulledForDays: 30 },
    );
    // Assess
    expect(fate(result, 'young-child')).toMatchObject({ action: 'delete', code: 'child-of-deleted-index' });
    expect(fate(result, 'young-sig')).toMatchObject({ action: 'delete', code: 'referrer-of-deleted-image' });
    expect(fate(result, 'young-root')).toMatchObject({
      action: 'keep',
      reason: { code: 'recently-pushed', olderThanDays: 14, pushedAt: new Date(NOW - 5 * DAY).toISOString() },
    });
  });

  it('says when and by what rule each image is kept or deleted', () => {
    // Act
    const result = plan([
      image('stale', { pulledDaysAgo: 45 }),
      image('never-pulled'),
      image('pulled', { pulledDaysAgo: 3 }),
      image('quiet', { pushedAt: NOW - 5 * MINUTE }),
    ]);
    // Assess
    expect(fate(result, 'stale').reason).toEqual({
      code: 'stale-untagged',
      pushedAt: new Date(NOW - 100 * DAY).toISOString(),
      lastPulledAt: new Date(NOW - 45 * DAY).toISOString(),
    });
    expect(fate(result, 'never-pulled').reason).toEqual({
      code: 'stale-untagged',
      pushedAt: new Date(NOW - 100 * DAY).toISOString(),
    });
    expect(fate(result, 'pulled').reason).toEqual({
      code: 'recently-pulled',
      lastActivityAt: new Date(NOW - 3 * DAY).toISOString(),
      notPulledForDays: 30,
    });
    expect(fate(result, 'quiet').reason).toEqual({
      code: 'quiet-period',
      pushedAt: new Date(NOW - 5 * MINUTE).toISOString(),
    });
    expect(result).toMatchObject({ repositoryName: 'team/app', plannedAt: new Date(NOW).toISOString() });
    expect(result.decisions[0]).toEqual({
      digest: digestOf('stale'),
      action: 'delete',
      reason: expect.anything(),
      tags: [],
      sizeInBytes: 10_000_000,
      cost: expect.stringMatching(/^deleted: stops/),
    });
  });

  it('refuses to plan over a reference cycle rather than leave part of it undeleted', () => {
    // Prepare: content-addressed manifests cannot form a cycle; records that do come from a broken gatherer.
    const indexes = [image('a', { children: ['b'] }), image('b', { children: ['a'] })];
    const referrers = [image('x', { subjectDigest: digestOf('y') }), image('y', { subjectDigest: digestOf('x') })];
    // Act and Assess
    expect(() => plan(indexes)).toThrow(/invariant: the reference graph has a cycle/);
    expect(() => plan(referrers)).toThrow(/invariant: the reference graph has a cycle/);
  });

  it('plans an image that names itself, or a child not in the repository, like any other image', () => {
    // Prepare
    const stale = image('self', { children: ['child'] });
    const listsItself = { ...stale, childDigests: [stale.digest, digestOf('child')] };
    const signsItself = image('signs-itself', {
      ageDays: 5,
      pulledDaysAgo: 40,
      subjectDigest: digestOf('signs-itself'),
    });
    // Act
    const result = plan([
      image('child'),
      listsItself,
      signsItself,
      image('gone-child-index', { children: ['absent'] }),
    ]);
    // Assess
    expect(fate(result, 'self')).toMatchObject({ action: 'delete', code: 'stale-untagged' });
    expect(fate(result, 'child')).toMatchObject({ action: 'delete', code: 'child-of-deleted-index' });
    expect(fate(result, 'signs-itself')).toMatchObject({ action: 'keep', code: 'recently-pushed' });
    expect(fate(result, 'gone-child-index')).toMatchObject({ action: 'delete', code: 'stale-untagged' });
    expect(result.toDelete).toEqual([digestOf('self'), digestOf('gone-child-index'), digestOf('child')]);
  });

  it('deletes exactly the allowed share, and does not brake a run that deletes nothing', () => {
    // Prepare
    const half = [image('a'), image('b'), image('c', { tags: ['v1'] }), image('d', { tags: ['v2'] })];
    // Act
    const atLimit = plan(half, { maxDeleteFraction: 0.5 });
    const nothing = plan([image('t', { tags: ['v1'] })], { maxDeleteFraction: 0 });
    const empty = plan([], { maxDeleteFraction: 0 });
    // Assess
    expect(atLimit.brake).toBeUndefined();
    expect(atLimit.toDelete).toEqual([digestOf('a'), digestOf('b')]);
    expect(nothing).toMatchObject({ toDelete: [], bytesReclaimed: 0 });
    expect(nothing.brake).toBeUndefined();
    expect(empty).toMatchObject({ decisions: [], toDelete: [], bytesReclaimed: 0 });
    expect(empty.brake).toBeUndefined();
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
    expect(braked.brake?.message).toBe(
      'Refusing to delete 3 of 4 images (75.0%): the limit is 50.0% per run; set allowMassDelete to proceed',
    );
    expect(braked.bytesReclaimed).toBe(0);
    expect(fate(braked, 'a')).toMatchObject({
      action: 'keep',
      reason: { code: 'safety-brake', wouldDelete: 3, total: 4, maxDeleteFraction: 0.5 },
    });
    // Exactly the counts: the report's schema is strict, and the message is the plan's, once.
    expect(braked.decisions.find((decision) => decision.digest === digestOf('a'))?.reason).toStrictEqual({
      code: 'safety-brake',
      wouldDelete: 3,
      total: 4,
      maxDeleteFraction: 0.5,
    });
    expect(fate(braked, 'keep')).toMatchObject({ action: 'keep', code: 'tagged' });
    expect(allowed.brake).toBeUndefined();
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

describe('buildImageGraph', () => {
  it('records each edge once, between images that are there, and none from an image to itself', () => {
    // Prepare
    const index = image('index', { children: ['a', 'a', 'absent', 'index'] });
    const cosign = `${digestOf('a').replace(':', '-')}.sig`;
    const sig = image('sig', { subjectDigest: digestOf('a'), tags: [cosign] });
    const selfSig = image('self-sig', { subjectDigest: digestOf('self-sig') });
    // Act
    const graph = buildImageGraph([
      image('a'),
      index,
      sig,
      selfSig,
      image('orphan', { subjectDigest: digestOf('gone') }),
    ]);
    // Assess
    expect(Object.fromEntries(graph.children)).toEqual({ [digestOf('index')]: [digestOf('a')] });
    expect(Object.fromEntries(graph.parents)).toEqual({ [digestOf('a')]: [digestOf('index')] });
    expect(Object.fromEntries(graph.referrers)).toEqual({ [digestOf('a')]: [digestOf('sig')] });
    expect(Object.fromEntries(graph.subjectOf)).toEqual({
      [digestOf('sig')]: digestOf('a'),
      [digestOf('orphan')]: digestOf('gone'),
    });
    expect([...graph.byDigest.keys()]).toHaveLength(5);
  });

  it('records a referrer under every subject it names (its subject and its convention tags), once each', () => {
    // Prepare
    const tagOf = (name: string, suffix: string) => `${digestOf(name).replace(':', '-')}${suffix}`;
    const multi = image('multi', {
      subjectDigest: digestOf('a'),
      tags: [tagOf('a', '.sig'), tagOf('b', '.sig'), tagOf('b', '.att'), tagOf('multi', '.sig'), tagOf('c', '')],
    });
    const tagOnly = image('tag-only', { tags: ['v1', tagOf('c', '.sbom')] });
    // Act
    const graph = buildImageGraph([image('a'), image('b'), image('c'), multi, tagOnly]);
    // Assess
    expect(Object.fromEntries(graph.referrers)).toEqual({
      [digestOf('a')]: [digestOf('multi')],
      [digestOf('b')]: [digestOf('multi')],
      [digestOf('c')]: [digestOf('multi'), digestOf('tag-only')],
    });
    expect([digestOf('a'), digestOf('b'), digestOf('c')]).toContain(graph.subjectOf.get(digestOf('multi')));
    expect(graph.subjectOf.get(digestOf('tag-only'))).toBe(digestOf('c'));
  });
});
