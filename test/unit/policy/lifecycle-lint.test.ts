import { checkLifecyclePolicy, evaluateLifecyclePolicy } from '@ecr-automation/lifecycle';
import { describe, expect, it } from 'vitest';
import type { InUseReference } from '../../../shared/domain/in-use.ts';
import { type CleanupRule, DEFAULT_CLEANUP_RULE, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import { compareWithCleanup } from '../../../shared/policy/lifecycle-lint/compare.ts';
import { toLifecycleImages } from '../../../shared/policy/lifecycle-lint/images.ts';
import {
  type LintFinding,
  lintLifecyclePolicy,
  MAX_LIFECYCLE_POLICY_CHARS,
} from '../../../shared/policy/lifecycle-lint/lint.ts';
import { digestOf, image, NOW } from '../../helpers/images.ts';

type Rule = Record<string, unknown>;

const rule = (rulePriority: number, selection: Rule, action: Rule = { type: 'expire' }): Rule => ({
  rulePriority,
  selection,
  action,
});
const policy = (...rules: Rule[]) => JSON.stringify({ rules });
const codes = (findings: readonly LintFinding[]) => findings.map((finding) => `${finding.rule} ${finding.code}`);

const KEEP_RELEASES = rule(1, {
  tagStatus: 'tagged',
  tagPatternList: ['v*'],
  countType: 'imageCountMoreThan',
  countNumber: 20,
});
const EXPIRE_PULL_REQUESTS = rule(2, {
  tagStatus: 'tagged',
  tagPatternList: ['pr-*'],
  countType: 'sinceImagePushed',
  countUnit: 'days',
  countNumber: 14,
});
const ANY_OLDER_THAN_30_DAYS = { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 };

const RULE: CleanupRule = { ...DEFAULT_CLEANUP_RULE, maxDeleteFraction: 1, maxTaggedDeleteFraction: 1 };

/**
 * A signed multi-architecture release (an OCI signature and a cosign `.sig` tag beside it), an untagged build a
 * workload runs, and a stale untagged build; all pushed 100 days ago.
 */
const v1Hex = digestOf('v1').slice('sha256:'.length);
const REPOSITORY = [
  image('v1-amd64'),
  image('v1-arm64'),
  image('v1', { tags: ['v1.0.0'], children: ['v1-amd64', 'v1-arm64'] }),
  image('v1-sig', { subjectDigest: digestOf('v1') }),
  image('v1-cosign', { tags: [`sha256-${v1Hex}.sig`] }),
  image('pinned'),
  image('old'),
];
const IN_USE = new Map<string, InUseReference[]>([[digestOf('pinned'), [{ provider: 'ecs', where: 'prod/api' }]]]);
const PLAN = planCleanup('team/app', REPOSITORY, RULE, NOW, { inUse: IN_USE });

const compare = (text: string) => {
  const check = checkLifecyclePolicy(text);
  if (!check.valid) throw new Error(check.reason);
  const evaluation = evaluateLifecyclePolicy(check.policy, toLifecycleImages(REPOSITORY), NOW);
  return compareWithCleanup(evaluation, PLAN, REPOSITORY);
};
const breaksOf = (comparison: ReturnType<typeof compare>) =>
  comparison.breaks.map((found) => `${found.code} ${REPOSITORY.find((i) => i.digest === found.digest)?.tags[0] ?? ''}`);
const rowOf = (comparison: ReturnType<typeof compare>, name: string) =>
  comparison.rows.find((row) => row.digest === digestOf(name));

describe('lintLifecyclePolicy', () => {
  it('finds nothing in a policy that keeps the newest releases and expires pull request builds', () => {
    // Act
    const findings = lintLifecyclePolicy(policy(KEEP_RELEASES, EXPIRE_PULL_REQUESTS));
    // Assess
    expect(findings).toEqual([]);
  });

  it('finds nothing against a repository where both rules select images and nothing kept is removed', () => {
    // Prepare
    const images = [image('release', { tags: ['v1.0.0'] }), image('pr', { tags: ['pr-1'], ageDays: 3 })];
    const plan = planCleanup('team/app', images, RULE, NOW);
    // Act
    const findings = lintLifecyclePolicy(policy(KEEP_RELEASES, EXPIRE_PULL_REQUESTS), { images, plan, now: NOW });
    // Assess
    expect(findings).toEqual([]);
  });

  it('reports an invalid document with the checker message', () => {
    // Act
    const findings = lintLifecyclePolicy(JSON.stringify({ rules: [] }));
    // Assess
    expect(findings).toEqual([
      {
        rule: null,
        code: 'invalid-policy',
        message: "Lifecycle policy validation failure: 'rules' must be a non-empty list",
        fix: expect.any(String),
      },
    ]);
  });

  it('reports a document longer than ECR accepts without parsing it', () => {
    // Act
    const findings = lintLifecyclePolicy(`{${' '.repeat(MAX_LIFECYCLE_POLICY_CHARS)}}`);
    // Assess
    expect(codes(findings)).toEqual(['null policy-too-large']);
  });

  it('reports a tagStatus any rule that is not last, with the fix, where ECR refuses the policy', () => {
    // Act
    const findings = lintLifecyclePolicy(policy(rule(1, ANY_OLDER_THAN_30_DAYS), { ...EXPIRE_PULL_REQUESTS }));
    // Assess
    expect(codes(findings)).toEqual(['1 any-rule-not-last']);
    expect(findings[0]?.fix).toContain('highest rulePriority');
  });

  it('reports a tag list of several patterns: an image must carry tags for all of them', () => {
    // Act
    const findings = lintLifecyclePolicy(
      policy(rule(1, { ...(EXPIRE_PULL_REQUESTS.selection as Rule), tagPatternList: ['pr-*', 'feature-*'] })),
    );
    // Assess
    expect(codes(findings)).toEqual(['1 tag-list-is-and']);
    expect(findings[0]?.fix).toBe('write one rule per pattern (["pr-*"], ["feature-*"])');
  });

  it('reports the same of a prefix list', () => {
    // Act
    const findings = lintLifecyclePolicy(
      policy(
        rule(3, {
          tagStatus: 'tagged',
          tagPrefixList: ['pr', 'feature'],
          countType: 'imageCountMoreThan',
          countNumber: 5,
        }),
      ),
    );
    // Assess
    expect(codes(findings)).toEqual(['3 tag-list-is-and']);
  });

  it('reports imageCountMoreThan on untagged images: index children and artifacts take places in the count', () => {
    // Act
    const findings = lintLifecyclePolicy(
      policy(
        rule(
          1,
          { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 10 },
          { type: 'transition', targetStorageClass: 'archive' },
        ),
      ),
    );
    // Assess
    expect(codes(findings)).toEqual(['1 count-includes-artifacts']);
  });

  it('reports an untagged expire rule: it selects index children, kept while listed and orphaned after', () => {
    // Act
    const findings = lintLifecyclePolicy(
      policy(rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 })),
    );
    // Assess
    expect(codes(findings)).toEqual(['1 expires-index-children']);
    expect(findings[0]?.message).toContain('orphans');
  });

  it('reports release tags expired by age after a short time', () => {
    // Act
    const findings = lintLifecyclePolicy(
      policy(
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['v*'],
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 30,
        }),
      ),
    );
    // Assess
    expect(codes(findings)).toEqual(['1 releases-expire-by-age']);
  });

  it('leaves release tags kept for a long time alone', () => {
    // Act
    const findings = lintLifecyclePolicy(
      policy(
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['v*'],
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 730,
        }),
      ),
    );
    // Assess
    expect(findings).toEqual([]);
  });

  it('reports an any expire rule no earlier rule keeps releases from, and not one after a release rule', () => {
    // Act
    const unprotected = lintLifecyclePolicy(policy(EXPIRE_PULL_REQUESTS, rule(5, ANY_OLDER_THAN_30_DAYS)));
    const protectedByRule = lintLifecyclePolicy(policy(KEEP_RELEASES, rule(5, ANY_OLDER_THAN_30_DAYS)));
    // Assess
    expect(codes(unprotected)).toEqual(['5 expires-index-children', '5 releases-unprotected']);
    expect(codes(protectedByRule)).toEqual(['5 expires-index-children']);
  });

  it('reports archived images expired before the archive minimum of 90 days', () => {
    // Act
    const findings = lintLifecyclePolicy(
      policy(
        rule(
          1,
          {
            tagStatus: 'tagged',
            tagPatternList: ['pr-*'],
            countType: 'sinceImagePulled',
            countUnit: 'days',
            countNumber: 30,
          },
          { type: 'transition', targetStorageClass: 'archive' },
        ),
        rule(2, {
          tagStatus: 'tagged',
          tagPatternList: ['pr-*'],
          storageClass: 'archive',
          countType: 'sinceImageTransitioned',
          countUnit: 'days',
          countNumber: 30,
        }),
      ),
    );
    // Assess
    expect(codes(findings)).toEqual(['2 archive-minimum-charge']);
    expect(findings[0]?.message).toContain('another rule archives them');
  });

  it('reports a rule that selects no image of the repository', () => {
    // Prepare
    const images = [image('release', { tags: ['v1.0.0'] })];
    // Act
    const findings = lintLifecyclePolicy(policy(KEEP_RELEASES, EXPIRE_PULL_REQUESTS), { images, now: NOW });
    // Assess
    expect(codes(findings)).toEqual(['2 rule-matches-nothing']);
  });

  it('reports, rule by rule, the images the policy removes that the cleanup keeps, by the reason it keeps them', () => {
    // Act
    const findings = lintLifecyclePolicy(policy(rule(1, ANY_OLDER_THAN_30_DAYS)), {
      images: REPOSITORY,
      plan: PLAN,
      now: NOW,
    });
    // Assess
    expect(codes(findings)).toEqual([
      '1 expires-index-children',
      '1 releases-unprotected',
      '1 in-use-expired',
      '1 kept-child-expired',
      '1 kept-referrer-expired',
      '1 retained-tag-expired',
    ]);
    expect(findings.find((finding) => finding.code === 'in-use-expired')?.message).toContain('ecs prod/api');
    expect(findings.find((finding) => finding.code === 'kept-child-expired')?.message).toMatch(/^2 image\(s\)/);
  });

  it('reports a cosign signature the policy expires while its image stays', () => {
    // Prepare: a newer attestation under the tag convention takes the one place the count keeps.
    const images = [...REPOSITORY, image('v1-cosign-att', { tags: [`sha256-${v1Hex}.att`], ageDays: 1 })];
    const plan = planCleanup('team/app', images, RULE, NOW, { inUse: IN_USE });
    // Act
    const findings = lintLifecyclePolicy(
      policy(
        rule(1, { tagStatus: 'tagged', tagPrefixList: ['sha256-'], countType: 'imageCountMoreThan', countNumber: 1 }),
        rule(2, { tagStatus: 'tagged', tagPatternList: ['v*'], countType: 'imageCountMoreThan', countNumber: 5 }),
      ),
      { images, now: NOW, plan },
    );
    // Assess
    expect(codes(findings)).toEqual(['1 kept-referrer-expired', '1 referrer-removed-subject-stays']);
    expect(findings[1]?.message).toContain(`sha256-${v1Hex}.sig`);
  });
});

describe('compareWithCleanup', () => {
  it('names every image an any-rule expires that the cleanup keeps, by what the cleanup keeps it for', () => {
    // Act
    const comparison = compare(policy(rule(1, ANY_OLDER_THAN_30_DAYS)));
    // Assess
    expect(breaksOf(comparison).sort()).toEqual(
      [
        'kept-child-expired ',
        'kept-child-expired ',
        'retained-tag-expired v1.0.0',
        'kept-referrer-expired ',
        `kept-referrer-expired sha256-${v1Hex}.sig`,
        'in-use-expired ',
      ].sort(),
    );
    expect(rowOf(comparison, 'pinned')).toMatchObject({
      native: { action: 'expire', rulePriority: 1 },
      service: { action: 'keep', reason: { code: 'in-use' } },
      breaks: [{ code: 'in-use-expired', rulePriority: 1 }],
    });
    expect(rowOf(comparison, 'v1-sig')?.native).toEqual({
      action: 'expire',
      rulePriority: 1,
      followsSubject: digestOf('v1'),
    });
    expect(rowOf(comparison, 'old')).toMatchObject({
      native: { action: 'expire' },
      service: { action: 'delete', reason: { code: 'stale-untagged' } },
      breaks: [],
    });
    expect(comparison.summary).toEqual({
      images: 7,
      native: { expire: 7, transition: 0, keep: 0 },
      service: { delete: 1, keep: 6 },
      agree: 1,
      nativeOnly: 6,
      serviceOnly: 0,
      breaks: { 'kept-child-expired': 2, 'retained-tag-expired': 1, 'kept-referrer-expired': 2, 'in-use-expired': 1 },
    });
  });

  it('names the children an expired index leaves behind', () => {
    // Act
    const comparison = compare(
      policy(
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['v*'],
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 30,
        }),
      ),
    );
    // Assess
    expect(rowOf(comparison, 'v1-amd64')).toMatchObject({
      native: { action: 'keep', reason: { kind: 'not-selected' } },
      breaks: [{ code: 'children-left-behind', rulePriority: 1, via: digestOf('v1') }],
    });
    expect(comparison.summary.breaks['children-left-behind']).toBe(2);
  });

  it('names a cosign signature expired while its image stays', () => {
    // Act
    const comparison = compare(
      policy(
        rule(1, {
          tagStatus: 'tagged',
          tagPrefixList: ['sha256-'],
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 30,
        }),
      ),
    );
    // Assess
    expect(rowOf(comparison, 'v1-cosign')?.breaks.map((found) => found.code)).toEqual([
      'kept-referrer-expired',
      'referrer-removed-subject-stays',
    ]);
    expect(rowOf(comparison, 'v1')?.native.action).toBe('keep');
  });

  it('names a release a tag selection retains that the policy expires, with the selection that keeps it', () => {
    // Prepare
    const images = [image('r1', { tags: ['v1.0.0'] }), image('r2', { tags: ['v2.0.0'], ageDays: 50 })];
    const plan = planCleanup('team/app', images, { ...RULE, tagSelections: [{ tags: ['v*'], keepLast: 1 }] }, NOW);
    const check = checkLifecyclePolicy(policy(rule(1, ANY_OLDER_THAN_30_DAYS)));
    if (!check.valid) throw new Error(check.reason);
    // Act
    const comparison = compareWithCleanup(
      evaluateLifecyclePolicy(check.policy, toLifecycleImages(images), NOW),
      plan,
      images,
    );
    // Assess
    expect(comparison.breaks).toEqual([
      expect.objectContaining({
        code: 'retained-tag-expired',
        digest: digestOf('r2'),
        message: expect.stringContaining('keepLast 1 of v*'),
      }),
    ]);
    expect(comparison.rows[0]).toMatchObject({
      service: { action: 'delete', reason: { code: 'released' } },
      breaks: [],
    });
  });

  it('finds no break when the policy removes only what the cleanup deletes', () => {
    // Act
    const comparison = compare(
      policy(
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['nothing-*'],
          countType: 'imageCountMoreThan',
          countNumber: 1,
        }),
      ),
    );
    // Assess
    expect(comparison.breaks).toEqual([]);
    expect(comparison.summary).toMatchObject({ agree: 6, nativeOnly: 0, serviceOnly: 1 });
  });
});
