import { describe, expect, it } from 'vitest';
import { classifyImage } from '../../../shared/policy/push/classify.ts';
import { judgePush, needsRegistryScanning, type PushFacts } from '../../../shared/policy/push/judge.ts';
import { decideMutability } from '../../../shared/policy/push/mutability.ts';
import { DEFAULT_PUSH_POLICY, type PushPolicy } from '../../../shared/policy/push/policy.ts';
import { digestOf, INDEX, MANIFEST } from '../../helpers/images.ts';

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const SBOM = 'application/spdx+json';
const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';

const POLICY: PushPolicy = {
  ...DEFAULT_PUSH_POLICY,
  mode: 'enforce',
  tags: { forbidden: ['latest'], required: { form: 'semver' } },
  tagMutability: { setting: 'IMMUTABLE', exclusions: [] },
};

const facts = (overrides: Partial<PushFacts> & { tags?: string[] } = {}): PushFacts => {
  const { tags, ...rest } = overrides;
  return {
    repositoryName: 'payments/api',
    image: {
      digest: digestOf('pushed'),
      tags: tags ?? ['v1.2.3'],
      manifestMediaType: MANIFEST,
      artifactMediaType: OCI_CONFIG,
    },
    pushedTag: 'v1.2.3',
    repository: { imageTagMutability: 'IMMUTABLE', exclusions: [], scanOnPush: false },
    registryScanning: { scanType: 'BASIC', rules: [] },
    ...rest,
  };
};

describe('classifyImage', () => {
  it('tells images, indexes, referrers and artifacts apart', () => {
    // Assess
    expect(classifyImage({ manifestMediaType: MANIFEST, artifactMediaType: OCI_CONFIG }, ['v1'])).toBe('image');
    expect(classifyImage({ manifestMediaType: MANIFEST }, [])).toBe('image');
    expect(classifyImage({ manifestMediaType: INDEX }, ['v1'])).toBe('index');
    expect(
      classifyImage({ manifestMediaType: MANIFEST, artifactMediaType: SBOM, subjectDigest: digestOf('x') }, []),
    ).toBe('referrer');
    expect(
      classifyImage({ manifestMediaType: MANIFEST, artifactMediaType: OCI_CONFIG }, [`sha256-${'a'.repeat(64)}.sig`]),
    ).toBe('referrer');
    expect(classifyImage({ manifestMediaType: MANIFEST, artifactMediaType: HELM_CONFIG }, ['1.0.0'])).toBe('artifact');
  });
});

describe('decideMutability', () => {
  it('passes a repository already as the policy says, whatever the order of exclusions', () => {
    // Act
    const decision = decideMutability({
      found: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['dev-*', 'latest'] },
      policy: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['latest', 'dev-*'] },
      mode: 'enforce',
    });
    // Assess
    expect(decision).toEqual({
      reason: { code: 'as-policy', setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['dev-*', 'latest'] },
    });
  });

  it('corrects a MUTABLE repository under an IMMUTABLE policy in enforce mode', () => {
    // Act
    const decision = decideMutability({
      found: { setting: 'MUTABLE', exclusions: [] },
      policy: { setting: 'IMMUTABLE', exclusions: [] },
      mode: 'enforce',
    });
    // Assess
    expect(decision).toEqual({
      reason: {
        code: 'drift',
        found: { setting: 'MUTABLE', exclusions: [] },
        required: { setting: 'IMMUTABLE', exclusions: [] },
      },
      change: { setting: 'IMMUTABLE', exclusions: [] },
    });
  });

  it('sees different exclusion filters as drift', () => {
    // Act
    const decision = decideMutability({
      found: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['latest'] },
      policy: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['latest', 'dev-*'] },
      mode: 'enforce',
    });
    // Assess
    expect(decision.change).toEqual({ setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['dev-*', 'latest'] });
  });

  it('ignores stale exclusion filters of a plain setting', () => {
    // Act
    const decision = decideMutability({
      found: { setting: 'IMMUTABLE', exclusions: ['latest'] },
      policy: { setting: 'IMMUTABLE', exclusions: [] },
      mode: 'enforce',
    });
    // Assess
    expect(decision.reason.code).toBe('as-policy');
  });

  it('reports the drift without a change in report mode, and does nothing without a mutability policy', () => {
    // Act
    const reported = decideMutability({
      found: { setting: 'MUTABLE', exclusions: [] },
      policy: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['release-*'] },
      mode: 'report',
    });
    const none = decideMutability({ found: { setting: 'MUTABLE', exclusions: [] }, policy: null, mode: 'enforce' });
    // Assess
    expect(reported.reason.code).toBe('drift');
    expect(reported.change).toBeUndefined();
    expect(none).toEqual({ reason: { code: 'no-mutability-policy' } });
  });
});

describe('judgePush', () => {
  it('judges a compliant push: a scan to start, tags and mutability as the policy says', () => {
    // Act
    const decision = judgePush(facts(), POLICY);
    // Assess
    expect(decision).toMatchObject({
      kind: 'image',
      tags: ['v1.2.3'],
      scan: { start: true, reason: { code: 'service-scans' } },
      tagPolicy: { reason: { code: 'no-violations' }, toRemove: [] },
      mutability: { reason: { code: 'as-policy' } },
    });
  });

  it('judges a pushed tag that was removed since (a re-delivery) as if it were still there', () => {
    // Act
    const first = judgePush(facts({ tags: ['latest', 'v1.2.3'], pushedTag: 'latest' }), POLICY);
    const again = judgePush(facts({ tags: ['v1.2.3'], pushedTag: 'latest', pushedTagNow: 'gone' }), POLICY);
    // Assess
    expect(again.tags).toEqual(first.tags);
    expect(again.tagPolicy.violations).toEqual(first.tagPolicy.violations);
    expect(first.tagPolicy.toRemove).toEqual(['latest']);
    expect(again.tagPolicy.toRemove).toEqual([]);
  });

  it('does not judge a pushed tag that has moved to another image since', () => {
    // Act
    const decision = judgePush(facts({ tags: [], pushedTag: 'latest', pushedTagNow: 'moved' }), POLICY);
    // Assess
    expect(decision.tags).toEqual([]);
    expect(decision.tagPolicy.reason).toEqual({ code: 'untagged-push', kind: 'image' });
  });

  it('skips the scan of a push it undoes', () => {
    // Act
    const decision = judgePush(facts({ tags: ['latest'], pushedTag: 'latest' }), { ...POLICY, undoPush: true });
    // Assess
    expect(decision.tagPolicy.undo).toBe(true);
    expect(decision.scan).toEqual({ reason: { code: 'push-undone' }, start: false });
  });

  it('needs the registry scanning configuration only for a scannable image under a policy that scans', () => {
    // Assess
    expect(needsRegistryScanning(facts(), POLICY)).toBe(true);
    expect(needsRegistryScanning(facts(), { ...POLICY, scan: false })).toBe(false);
    const index = facts({ image: { digest: digestOf('i'), tags: ['v1.2.3'], manifestMediaType: INDEX } });
    expect(needsRegistryScanning(index, POLICY)).toBe(false);
  });
});
