import { describe, expect, it } from 'vitest';
import { classifyImage } from '../../../shared/policy/push/classify.ts';
import { judgePush, needsRegistryScanning, type PushFacts, tagsToJudge } from '../../../shared/policy/push/judge.ts';
import { decideMutability } from '../../../shared/policy/push/mutability.ts';
import { DEFAULT_PUSH_POLICY, type PushPolicy } from '../../../shared/policy/push/policy.ts';
import { decideScan, isScannable, scanFilterMatches } from '../../../shared/policy/push/scan.ts';
import { describePattern, judgeTags, tagMatches } from '../../../shared/policy/push/tags.ts';
import { digestOf, INDEX, MANIFEST } from '../../helpers/images.ts';

const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const SIG_TAG = `sha256-${'ab'.repeat(32)}.sig`;

const facts = (overrides: Partial<PushFacts> & { tags?: string[] } = {}): PushFacts => {
  const { tags, ...rest } = overrides;
  return {
    repositoryName: 'payments/api',
    image: { digest: digestOf('pushed'), tags: tags ?? ['v1.2.3'], manifestMediaType: MANIFEST },
    pushedTag: 'v1.2.3',
    repository: { imageTagMutability: 'MUTABLE', exclusions: [], scanOnPush: false },
    registryScanning: { scanType: 'BASIC', rules: [] },
    ...rest,
  };
};

describe('classifyImage', () => {
  it('reads a Docker image config or a Docker manifest list like their OCI equivalents', () => {
    // Assess
    expect(classifyImage({ manifestMediaType: MANIFEST, artifactMediaType: DOCKER_CONFIG }, ['v1'])).toBe('image');
    expect(classifyImage({ manifestMediaType: DOCKER_LIST }, [])).toBe('index');
  });

  it('calls an image with a real tag beside a convention tag an image, and an untagged one without subject too', () => {
    // Assess
    expect(classifyImage({ manifestMediaType: MANIFEST }, ['v1', SIG_TAG])).toBe('image');
    expect(classifyImage({ manifestMediaType: MANIFEST }, [])).toBe('image');
    expect(classifyImage({ manifestMediaType: MANIFEST, subjectDigest: digestOf('x') }, ['v1'])).toBe('referrer');
  });
});

describe('tagsToJudge', () => {
  it('judges the image’s tags, sorted, plus the pushed tag only when it is gone', () => {
    // Assess
    expect(tagsToJudge(facts({ tags: ['b', 'a'], pushedTag: 'c', pushedTagNow: 'gone' }))).toEqual(['a', 'b', 'c']);
    expect(tagsToJudge(facts({ tags: ['b', 'a'], pushedTag: 'c', pushedTagNow: 'moved' }))).toEqual(['a', 'b']);
    expect(tagsToJudge(facts({ tags: ['b', 'a'], pushedTag: 'c' }))).toEqual(['a', 'b']);
    expect(tagsToJudge(facts({ tags: ['a'], pushedTag: 'a', pushedTagNow: 'gone' }))).toEqual(['a']);
  });
});

describe('needsRegistryScanning', () => {
  it('judges the kind by the tags judged: an image whose only tag is a convention tag is a referrer', () => {
    // Prepare
    const policy: PushPolicy = { ...DEFAULT_PUSH_POLICY, scan: true };
    // Assess
    expect(needsRegistryScanning(facts({ tags: [SIG_TAG], pushedTag: SIG_TAG }), policy)).toBe(false);
    expect(needsRegistryScanning(facts({ tags: [], pushedTag: 'v1', pushedTagNow: 'gone' }), policy)).toBe(true);
  });
});

describe('judgePush', () => {
  it('by default reports, scans every pushed image, judges no tag and leaves mutability alone', () => {
    // Act
    const decision = judgePush(
      facts({
        tags: ['latest'],
        pushedTag: 'latest',
        repository: { imageTagMutability: 'MUTABLE', exclusions: [], scanOnPush: false },
      }),
      DEFAULT_PUSH_POLICY,
    );
    // Assess
    expect(decision).toEqual({
      kind: 'image',
      tags: ['latest'],
      scan: { reason: { code: 'service-scans' }, start: true },
      tagPolicy: { reason: { code: 'no-violations' }, exempt: [], violations: [], toRemove: [], undo: false },
      mutability: { reason: { code: 'no-mutability-policy' } },
    });
  });

  it('has a default policy that reports, scans, forbids no tag, leaves mutability alone and never undoes a push', () => {
    // Assess
    expect(DEFAULT_PUSH_POLICY).toEqual({
      mode: 'report',
      scan: true,
      tags: { forbidden: [] },
      tagMutability: null,
      undoPush: false,
    });
  });

  it('passes the repository, its scan-on-push flag and the registry rules to the scan decision', () => {
    // Act
    const flagged = judgePush(
      facts({ repository: { imageTagMutability: 'MUTABLE', exclusions: [], scanOnPush: true } }),
      DEFAULT_PUSH_POLICY,
    );
    const byRule = judgePush(
      facts({
        registryScanning: {
          scanType: 'BASIC',
          rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'payments/*' }] }],
        },
      }),
      DEFAULT_PUSH_POLICY,
    );
    const notScanned = judgePush(facts(), { ...DEFAULT_PUSH_POLICY, scan: false });
    // Assess
    expect(flagged.scan.reason).toEqual({ code: 'ecr-scans-on-push', scanType: 'BASIC', via: 'repository-setting' });
    expect(byRule.scan.reason).toMatchObject({ via: 'registry-rule', filter: 'payments/*' });
    expect(notScanned.scan).toEqual({ reason: { code: 'scan-not-required' }, start: false });
  });

  it('removes offending tags and corrects mutability in enforce mode, and only reports in report mode', () => {
    // Prepare
    const policy: PushPolicy = {
      ...DEFAULT_PUSH_POLICY,
      mode: 'enforce',
      tags: { forbidden: ['latest'] },
      tagMutability: { setting: 'IMMUTABLE', exclusions: [] },
    };
    const pushed = facts({ tags: ['latest', 'v1'], pushedTag: 'latest' });
    // Act
    const enforced = judgePush(pushed, policy);
    const reported = judgePush(pushed, { ...policy, mode: 'report' });
    // Assess
    expect(enforced.tagPolicy.toRemove).toEqual(['latest']);
    expect(enforced.mutability.change).toEqual({ setting: 'IMMUTABLE', exclusions: [] });
    expect(enforced.scan.start).toBe(true);
    expect(reported.tagPolicy.toRemove).toEqual([]);
    expect(reported.mutability.change).toBeUndefined();
  });

  it('judges the tags of an index and does not scan it', () => {
    // Act
    const decision = judgePush(
      facts({ image: { digest: digestOf('i'), tags: ['latest'], manifestMediaType: INDEX }, pushedTag: 'latest' }),
      { ...DEFAULT_PUSH_POLICY, tags: { forbidden: ['latest'] } },
    );
    // Assess
    expect(decision.kind).toBe('index');
    expect(decision.scan).toEqual({ reason: { code: 'not-an-image', kind: 'index' }, start: false });
    expect(decision.tagPolicy.violations).toEqual([
      { violation: { code: 'forbidden', tag: 'latest', pattern: 'latest' }, resolution: 'report' },
    ]);
  });
});

describe('decideMutability', () => {
  it('sees a missing exclusion filter as drift, even when the others match', () => {
    // Act
    const decision = decideMutability({
      found: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['dev-*'] },
      policy: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['dev-*', 'latest'] },
      mode: 'enforce',
    });
    const extra = decideMutability({
      found: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['dev-*', 'latest'] },
      policy: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['dev-*'] },
      mode: 'enforce',
    });
    // Assess
    expect(decision.reason.code).toBe('drift');
    expect(extra).toEqual({
      reason: {
        code: 'drift',
        found: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['dev-*', 'latest'] },
        required: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['dev-*'] },
      },
      change: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['dev-*'] },
    });
  });

  it('sees as many exclusion filters, but other ones, as drift', () => {
    // Act
    const decision = decideMutability({
      found: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['dev-*'] },
      policy: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['release-*'] },
      mode: 'enforce',
    });
    // Assess
    expect(decision.change).toEqual({ setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['release-*'] });
  });

  it('reports the exclusions found sorted, whatever order the repository lists them in', () => {
    // Act
    const decision = decideMutability({
      found: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['latest', 'dev-*'] },
      policy: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['release-*'] },
      mode: 'report',
    });
    // Assess
    expect(decision.reason).toEqual({
      code: 'drift',
      found: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['dev-*', 'latest'] },
      required: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['release-*'] },
    });
  });

  it('sees another setting as drift with the same exclusions, and ignores exclusions a plain policy lists', () => {
    // Act
    const otherSetting = decideMutability({
      found: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['dev-*'] },
      policy: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['dev-*'] },
      mode: 'enforce',
    });
    const plain = decideMutability({
      found: { setting: 'MUTABLE', exclusions: [] },
      policy: { setting: 'MUTABLE', exclusions: ['dev-*'] },
      mode: 'enforce',
    });
    const plainDrift = decideMutability({
      found: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['dev-*'] },
      policy: { setting: 'MUTABLE', exclusions: ['dev-*'] },
      mode: 'enforce',
    });
    // Assess
    expect(otherSetting.change).toEqual({ setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['dev-*'] });
    expect(plain).toEqual({ reason: { code: 'as-policy', setting: 'MUTABLE', exclusions: [] } });
    expect(plainDrift).toEqual({
      reason: {
        code: 'drift',
        found: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['dev-*'] },
        required: { setting: 'MUTABLE', exclusions: [] },
      },
      change: { setting: 'MUTABLE', exclusions: [] },
    });
  });
});

describe('decideScan', () => {
  const decide = (registry: Parameters<typeof decideScan>[0]['registry'], repositoryName = 'payments/api') =>
    decideScan({
      repositoryName,
      kind: 'image',
      manifestMediaType: undefined,
      repositoryScanOnPush: false,
      registry,
      policyScans: true,
    });

  it('scans an image whose manifest type is not known, as ECR reads it', () => {
    // Assess
    expect(isScannable('image', undefined)).toBe(true);
    expect(isScannable('artifact', MANIFEST)).toBe(false);
    expect(decide({ scanType: 'BASIC', rules: [] }).start).toBe(true);
  });

  it('under BASIC, counts only SCAN_ON_PUSH rules, and names the first rule’s matching filter', () => {
    // Act
    const continuousOnly = decide({
      scanType: 'BASIC',
      rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*' }] }],
    });
    const secondRule = decide({
      scanType: 'BASIC',
      rules: [
        { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'web/*' }] },
        { scanFrequency: 'MANUAL', repositoryFilters: [{ filter: 'payments' }] },
        { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'data' }, { filter: 'pay*' }] },
        { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: '*' }] },
      ],
    });
    // Assess
    expect(continuousOnly).toEqual({ reason: { code: 'service-scans' }, start: true });
    expect(secondRule).toEqual({
      reason: { code: 'ecr-scans-on-push', scanType: 'BASIC', via: 'registry-rule', filter: 'pay*' },
      start: false,
    });
  });

  it('under ENHANCED, ignores MANUAL rules', () => {
    // Act
    const decision = decide({
      scanType: 'ENHANCED',
      rules: [{ scanFrequency: 'MANUAL', repositoryFilters: [{ filter: '*' }] }],
    });
    // Assess
    expect(decision).toEqual({ reason: { code: 'enhanced-scanning-not-covering' }, start: false });
  });

  it('reads a wildcard filter’s other characters literally', () => {
    // Assess
    expect(scanFilterMatches('a+b*', 'a+b/c')).toBe(true);
    expect(scanFilterMatches('a+b*', 'aab/c')).toBe(false);
    expect(scanFilterMatches('(x)|y*', '(x)|yz')).toBe(true);
    expect(scanFilterMatches('(x)|y*', 'x')).toBe(false);
    expect(scanFilterMatches('[ab]?*', '[ab]?')).toBe(true);
    expect(scanFilterMatches('[ab]?*', 'a')).toBe(false);
    expect(scanFilterMatches('^$\\{1}*', '^$\\{1}')).toBe(true);
    expect(scanFilterMatches('*api', 'payments/api-v2')).toBe(false);
  });
});

describe('judgeTags', () => {
  const judge = (tags: string[], input: Partial<Parameters<typeof judgeTags>[0]> = {}) =>
    judgeTags({
      kind: 'image',
      tags,
      currentTags: tags,
      pushedTag: tags[0],
      rules: { forbidden: [] },
      mode: 'enforce',
      undoPush: false,
      ...input,
    });

  it('reports too many tags without removing one when the push was by digest, and does not count exempt tags', () => {
    // Act
    const byDigest = judge(['a', 'b', 'c'], { pushedTag: undefined, rules: { forbidden: [], maxTagsPerImage: 2 } });
    const atLimit = judge(['a', 'b', SIG_TAG], { rules: { forbidden: [], maxTagsPerImage: 2 } });
    const movedAway = judge(['a', 'b', 'c'], { pushedTag: 'z', rules: { forbidden: [], maxTagsPerImage: 2 } });
    // Assess
    expect(byDigest.violations).toStrictEqual([
      { violation: { code: 'too-many-tags', count: 3, max: 2 }, resolution: 'report' },
    ]);
    expect(byDigest.toRemove).toEqual([]);
    expect(atLimit.reason).toEqual({ code: 'no-violations' });
    expect(movedAway.violations).toEqual([
      { violation: { code: 'too-many-tags', count: 3, max: 2 }, resolution: 'report' },
    ]);
  });

  it('removes an offending tag even when the image keeps only a tag that is not judged', () => {
    // Act: the convention tag stays, so removing `latest` does not delete the image.
    const judgement = judge(['latest', SIG_TAG], { rules: { forbidden: ['latest'] } });
    // Assess
    expect(judgement.exempt).toEqual([SIG_TAG]);
    expect(judgement.toRemove).toEqual(['latest']);
    expect(judgement.violations.map((v) => v.resolution)).toEqual(['remove']);
  });

  it('removes several offending tags, sorted, keeping the compliant one', () => {
    // Act
    const judgement = judge(['zeta', 'alpha', 'v1.0.0'], { rules: { forbidden: [], allowed: [{ form: 'semver' }] } });
    // Assess
    expect(judgement.toRemove).toEqual(['alpha', 'zeta']);
    expect(judgement.reason).toEqual({ code: 'violations', count: 2 });
    expect(judgement.undo).toBe(false);
  });

  it('does not undo a push whose offending tags are already gone', () => {
    // Act
    const judgement = judge(['latest'], { currentTags: [], rules: { forbidden: ['latest'] }, undoPush: true });
    // Assess
    expect(judgement.toRemove).toEqual([]);
    expect(judgement.undo).toBe(false);
    expect(judgement.violations.map((v) => v.resolution)).toEqual(['remove']);
  });

  it('reports a missing required tag alone, without touching the other tags, in enforce mode', () => {
    // Act
    const judgement = judge(['latest', 'main'], {
      rules: { forbidden: ['latest'], required: { form: 'semver' } },
      undoPush: true,
    });
    // Assess
    expect(judgement.violations).toEqual([
      { violation: { code: 'forbidden', tag: 'latest', pattern: 'latest' }, resolution: 'remove' },
      { violation: { code: 'missing-required-tag', required: 'semver' }, resolution: 'report' },
    ]);
    expect(judgement.toRemove).toEqual(['latest']);
  });

  it('removes the pushed tag that went over the limit together with a forbidden one, undoing the push if asked', () => {
    // Act
    const judgement = judge(['latest', 'b'], {
      pushedTag: 'b',
      rules: { forbidden: ['latest'], maxTagsPerImage: 1 },
      undoPush: true,
    });
    // Assess
    expect(judgement.toRemove).toEqual(['b', 'latest']);
    expect(judgement.undo).toBe(true);
    expect(judgement.violations.map((v) => v.resolution)).toEqual(['undo', 'undo']);
  });

  it('describes each kind of pattern readably', () => {
    // Assess
    expect([
      describePattern('latest'),
      describePattern({ regex: 'v\\d+' }),
      describePattern({ form: 'semver' }),
    ]).toEqual(['latest', '/v\\d+/', 'semver']);
  });

  it('knows the edges of semver: numbers without leading zeros, pre-releases of dot-separated identifiers', () => {
    // Prepare
    const semver = { form: 'semver' } as const;
    // Assess
    for (const tag of [
      '10.0.0',
      '1.0.0-0',
      '1.0.0-0a',
      '1.0.0-123',
      '1.0.0-a-b.c',
      '1.0.0-alpha.beta1',
      '1.0.0-x.7.z.92',
      '1.10.100',
      '0.0.0',
    ]) {
      expect(tagMatches(semver, tag), tag).toBe(true);
    }
    for (const tag of [
      '1.0.0-01',
      '1.01.0',
      '1.0.01',
      '1.0.0-a..b',
      '1.0.0-a.',
      'vv1.0.0',
      '1.0.0.',
      'x1.0.0',
      'a.b.c',
    ]) {
      expect(tagMatches(semver, tag), tag).toBe(false);
    }
  });

  it('matches a glob’s other characters literally, and a regex and a glob of the same text apart', () => {
    // Assess
    expect(tagMatches('v1.0', 'v1x0')).toBe(false);
    expect(tagMatches('v1.0', 'v1.0')).toBe(true);
    expect(tagMatches({ regex: 'v1.0' }, 'v1x0')).toBe(true);
    expect(tagMatches('v1.*', 'v1.0')).toBe(true);
  });
});
