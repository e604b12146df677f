import { describe, expect, it } from 'vitest';
import type { ImageKind } from '../../../shared/policy/push/classify.ts';
import type { EnforcementMode, TagRules } from '../../../shared/policy/push/policy.ts';
import { judgeTags, tagMatches } from '../../../shared/policy/push/tags.ts';

const SIG_TAG = `sha256-${'ab'.repeat(32)}.sig`;

const judge = (
  tags: string[],
  rules: Partial<TagRules>,
  options: Partial<{
    kind: ImageKind;
    currentTags: string[];
    pushedTag: string;
    mode: EnforcementMode;
    undoPush: boolean;
  }> = {},
) =>
  judgeTags({
    kind: options.kind ?? 'image',
    tags,
    currentTags: options.currentTags ?? tags,
    pushedTag: options.pushedTag ?? tags[tags.length - 1],
    rules: { forbidden: [], ...rules },
    mode: options.mode ?? 'enforce',
    undoPush: options.undoPush ?? false,
  });

describe('tagMatches', () => {
  it('matches globs with * and ?', () => {
    // Assess
    expect(tagMatches('release-*', 'release-2026.11')).toBe(true);
    expect(tagMatches('v?', 'v1')).toBe(true);
    expect(tagMatches('v?', 'v10')).toBe(false);
    expect(tagMatches('latest', 'latest-2')).toBe(false);
  });

  it('anchors a regex to the whole tag', () => {
    // Assess
    expect(tagMatches({ regex: 'v\\d+' }, 'v12')).toBe(true);
    expect(tagMatches({ regex: 'v\\d+' }, 'xv12y')).toBe(false);
    expect(tagMatches({ regex: 'main-[0-9a-f]{7}|pr-\\d+' }, 'pr-42')).toBe(true);
  });

  it('knows semver, with or without a leading v, and with a pre-release', () => {
    // Assess
    const semver = { form: 'semver' } as const;
    for (const tag of ['1.2.3', 'v1.2.3', '0.0.1', '1.2.3-rc.1', 'v10.20.30-alpha-beta.2']) {
      expect(tagMatches(semver, tag), tag).toBe(true);
    }
    for (const tag of ['1.2', 'v1', 'latest', '01.2.3', '1.2.3.4', 'version-1.2.3', '1.2.3-']) {
      expect(tagMatches(semver, tag), tag).toBe(false);
    }
  });
});

describe('judgeTags', () => {
  it('passes tags that break no rule', () => {
    // Act
    const judgement = judge(['v1.2.3'], { forbidden: ['latest'], required: { form: 'semver' }, maxTagsPerImage: 3 });
    // Assess
    expect(judgement).toEqual({
      reason: { code: 'no-violations' },
      exempt: [],
      violations: [],
      toRemove: [],
      undo: false,
    });
  });

  it('flags a forbidden tag and removes it in enforce mode when the image keeps another tag', () => {
    // Act
    const judgement = judge(['latest', 'v1.2.3'], { forbidden: ['latest'] }, { pushedTag: 'latest' });
    // Assess
    expect(judgement.violations).toEqual([
      { violation: { code: 'forbidden', tag: 'latest', pattern: 'latest' }, resolution: 'remove' },
    ]);
    expect(judgement.toRemove).toEqual(['latest']);
    expect(judgement.undo).toBe(false);
  });

  it('only reports in report mode', () => {
    // Act
    const judgement = judge(['latest', 'v1.2.3'], { forbidden: ['latest'] }, { mode: 'report' });
    // Assess
    expect(judgement.violations.map((v) => v.resolution)).toEqual(['report']);
    expect(judgement.toRemove).toEqual([]);
  });

  it("leaves an offending tag that is the image's only tag in place: removing it would delete the image", () => {
    // Act
    const judgement = judge(['latest'], { forbidden: ['latest'] });
    // Assess
    expect(judgement.violations.map((v) => v.resolution)).toEqual(['left-in-place']);
    expect(judgement.toRemove).toEqual([]);
  });

  it('leaves every offending tag in place when together they are all the tags of the image', () => {
    // Act
    const judgement = judge(['dev', 'latest'], { forbidden: ['latest'], allowed: [{ form: 'semver' }] });
    // Assess
    expect(judgement.violations.map((v) => [v.violation.code, v.resolution])).toEqual([
      ['not-allowed', 'left-in-place'],
      ['forbidden', 'left-in-place'],
    ]);
    expect(judgement.toRemove).toEqual([]);
  });

  it('undoes the push when every tag offends and the policy says so', () => {
    // Act
    const judgement = judge(['latest'], { forbidden: ['latest'] }, { undoPush: true });
    // Assess
    expect(judgement.violations.map((v) => v.resolution)).toEqual(['undo']);
    expect(judgement).toMatchObject({ toRemove: ['latest'], undo: true });
  });

  it('flags a tag no allowed pattern matches', () => {
    // Act
    const judgement = judge(['feature-x', 'v2.0.0'], { allowed: [{ form: 'semver' }, 'main-*'] });
    // Assess
    expect(judgement.violations).toEqual([
      {
        violation: { code: 'not-allowed', tag: 'feature-x', allowed: ['semver', 'main-*'] },
        resolution: 'remove',
      },
    ]);
  });

  it('reports a missing required tag (no removal can fix that), whatever the mode', () => {
    // Act
    const judgement = judge(['main-7f3c2a1'], { required: { regex: 'v\\d+\\.\\d+\\.\\d+' } });
    // Assess
    expect(judgement.violations).toEqual([
      { violation: { code: 'missing-required-tag', required: '/v\\d+\\.\\d+\\.\\d+/' }, resolution: 'report' },
    ]);
    expect(judgement.toRemove).toEqual([]);
  });

  it('flags too many tags and removes the pushed tag, the one that went over the limit', () => {
    // Act
    const judgement = judge(['a', 'b', 'c'], { maxTagsPerImage: 2 }, { pushedTag: 'c' });
    // Assess
    expect(judgement.violations).toEqual([
      { violation: { code: 'too-many-tags', count: 3, max: 2, tag: 'c' }, resolution: 'remove' },
    ]);
    expect(judgement.toRemove).toEqual(['c']);
  });

  it('judges a tag removed since the push as offending, but removes only tags still on the image', () => {
    // Act: a re-delivered event after the first delivery removed `latest`.
    const judgement = judge(['latest', 'v1.2.3'], { forbidden: ['latest'] }, { currentTags: ['v1.2.3'] });
    // Assess
    expect(judgement.violations.map((v) => v.resolution)).toEqual(['remove']);
    expect(judgement.toRemove).toEqual([]);
  });

  it('does not judge an untagged push: an index child or an image pushed by digest', () => {
    // Act
    const judgement = judge([], { required: { form: 'semver' } });
    // Assess
    expect(judgement.reason).toEqual({ code: 'untagged-push', kind: 'image' });
    expect(judgement.violations).toEqual([]);
  });

  it('does not judge a referrer, nor count convention tags against the limit', () => {
    // Act
    const referrer = judge([SIG_TAG], { required: { form: 'semver' } }, { kind: 'referrer' });
    const image = judge(['v1.0.0', SIG_TAG], { maxTagsPerImage: 1, allowed: [{ form: 'semver' }] });
    // Assess
    expect(referrer.reason).toEqual({ code: 'referrer' });
    expect(image.reason).toEqual({ code: 'no-violations' });
    expect(image.exempt).toEqual([SIG_TAG]);
  });
});
