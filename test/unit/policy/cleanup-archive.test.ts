import { checkLifecyclePolicy, evaluateLifecyclePolicy } from '@ecr-automation/lifecycle';
import { describe, expect, it } from 'vitest';
import { ConfigError, cleanupConfigWarnings, cleanupRuleFor, parseConfig } from '../../../shared/config/load.ts';
import { costExplanation } from '../../../shared/policy/cleanup/cost.ts';
import { type CleanupRule, DEFAULT_CLEANUP_RULE, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import { compareWithCleanup } from '../../../shared/policy/lifecycle-lint/compare.ts';
import { toLifecycleImages } from '../../../shared/policy/lifecycle-lint/images.ts';
import { DAY, digestOf, image, NOW } from '../../helpers/images.ts';

const RULE: CleanupRule = { ...DEFAULT_CLEANUP_RULE, olderThanDays: 14, notPulledForDays: 30, maxDeleteFraction: 1 };

const plan = (images: Parameters<typeof planCleanup>[1], rule: Partial<CleanupRule> = {}) =>
  planCleanup('team/app', images, { ...RULE, ...rule }, NOW);

const decisionOf = (result: ReturnType<typeof plan>, name: string) => {
  const decision = result.decisions.find((d) => d.digest === digestOf(name));
  if (!decision) throw new Error(`no decision for ${name}`);
  return decision;
};

const issuesOf = (document: unknown) => {
  try {
    parseConfig(document);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
};

/** A repository with every kind of edge: an index with children, a subject with a signature, a tagged release. */
const REPOSITORY = [
  image('amd64'),
  image('arm64'),
  image('index', { children: ['amd64', 'arm64'] }),
  image('single'),
  image('single-sig', { subjectDigest: digestOf('single') }),
  image('release', { tags: ['v1'] }),
  image('young', { ageDays: 3 }),
  image('pulled', { pulledDaysAgo: 2 }),
];

describe('planCleanup with action: archive', () => {
  it('archives exactly what the same rule would delete, with the same reasons, and deletes nothing', () => {
    // Act
    const deleting = plan(REPOSITORY);
    const archiving = plan(REPOSITORY, { action: 'archive' });
    // Assess
    expect(archiving.toDelete).toEqual([]);
    expect(archiving.bytesReclaimed).toBe(0);
    expect(archiving.toArchive).toEqual(deleting.toDelete);
    for (const [index, decision] of archiving.decisions.entries()) {
      const other = deleting.decisions[index];
      expect(decision.reason).toEqual(other?.reason);
      expect(decision.action).toBe(other?.action === 'delete' ? 'archive' : 'keep');
    }
    expect(deleting.toArchive).toBeUndefined();
  });

  it('archives parents first: an index before its children, a subject before its referrers', () => {
    // Act
    const result = plan(REPOSITORY, { action: 'archive' });
    // Assess
    const order = result.toArchive ?? [];
    const at = (name: string) => order.indexOf(digestOf(name));
    expect(new Set(order)).toEqual(new Set(['index', 'amd64', 'arm64', 'single', 'single-sig'].map(digestOf)));
    expect(at('index')).toBeLessThan(at('amd64'));
    expect(at('index')).toBeLessThan(at('arm64'));
    expect(at('single')).toBeLessThan(at('single-sig'));
  });

  it('archives nothing when a safety brake holds', () => {
    // Act
    const result = plan(REPOSITORY, { action: 'archive', maxDeleteFraction: 0.1 });
    // Assess
    expect(result.brake).toBeDefined();
    expect(result.toArchive).toBeUndefined();
    expect(result.decisions.every((decision) => decision.action === 'keep')).toBe(true);
  });

  it('explains each archiving and deletion in storage terms', () => {
    // Act
    const archiving = plan([image('old')], { action: 'archive' });
    const deleting = plan([image('old')]);
    // Assess
    const archived = decisionOf(archiving, 'old');
    const deleted = decisionOf(deleting, 'old');
    expect(archived.action === 'archive' && archived.cost).toMatch(/reversible.*90-day minimum/);
    expect(deleted.action === 'delete' && deleted.cost).toMatch(/^deleted: stops \$0\.0009\/month of standard storage/);
    expect(costExplanation('delete', 10 * 1024 ** 3)).toContain('$1.00/month');
    expect(costExplanation('archive', 10 * 1024 ** 3)).toContain('at least $3.00');
    expect(costExplanation('delete', 10 * 1024 ** 3, { archived: true })).toMatch(/from the archive.*90-day minimum/);
  });
});

describe('planCleanup with deleteArchivedAfterDays', () => {
  const archived = (name: string, archivedDaysAgo: number, extra: Parameters<typeof image>[1] = {}) =>
    image(name, { imageStatus: 'ARCHIVED', lastArchivedAt: NOW - archivedDaysAgo * DAY, ...extra });

  it('deletes what has been archived longer than the setting, and keeps the rest of the archive', () => {
    // Act
    const result = plan(
      [
        archived('expired', 31, { tags: ['v1'] }),
        archived('recent', 29),
        image('restoring', { imageStatus: 'ACTIVATING', lastArchivedAt: NOW - 60 * DAY }),
      ],
      { deleteArchivedAfterDays: 30 },
    );
    // Assess
    expect(decisionOf(result, 'expired')).toMatchObject({
      action: 'delete',
      reason: {
        code: 'archive-expired',
        lastArchivedAt: new Date(NOW - 31 * DAY).toISOString(),
        days: 30,
      },
    });
    expect(decisionOf(result, 'expired').action === 'delete' && decisionOf(result, 'expired')).toMatchObject({
      cost: expect.stringContaining('from the archive'),
    });
    expect(decisionOf(result, 'recent')).toMatchObject({ action: 'keep', reason: { code: 'archived' } });
    expect(decisionOf(result, 'restoring')).toMatchObject({ action: 'keep', reason: { code: 'archived' } });
    expect(result.toDelete).toEqual([digestOf('expired')]);
  });

  it('keeps every archived image when the setting is absent', () => {
    // Act
    const result = plan([archived('old', 400)]);
    // Assess
    expect(decisionOf(result, 'old')).toMatchObject({ action: 'keep', reason: { code: 'archived' } });
  });

  it('deletes an expired subject with its archived referrers, the subject first, and keeps an active one', () => {
    // Act
    const result = plan(
      [
        archived('subject', 40),
        archived('sig', 10, { subjectDigest: digestOf('subject') }),
        image('sbom', { subjectDigest: digestOf('subject'), tags: ['keep-me'] }),
      ],
      { deleteArchivedAfterDays: 30, action: 'archive' },
    );
    // Assess
    expect(decisionOf(result, 'sig')).toMatchObject({
      action: 'delete',
      reason: { code: 'referrer-of-deleted-image', via: digestOf('subject') },
    });
    expect(result.toDelete).toEqual([digestOf('subject'), digestOf('sig')]);
    expect(decisionOf(result, 'sbom').action).toBe('keep');
  });

  it('deletes an expired archived index before the archived images it may list', () => {
    // Act: ECR serves no archived index's manifest, so its children are unknown to the plan
    const result = plan(
      [
        archived('child', 40, { ageDays: 100 }),
        archived('archived-index', 40, { ageDays: 100, manifestMediaType: 'application/vnd.oci.image.index.v1+json' }),
      ],
      { deleteArchivedAfterDays: 30 },
    );
    // Assess
    expect(result.toDelete).toEqual([digestOf('archived-index'), digestOf('child')]);
  });

  it('keeps an expired archived image that runs', () => {
    // Act
    const result = planCleanup('team/app', [archived('old', 400)], { ...RULE, deleteArchivedAfterDays: 30 }, NOW, {
      inUse: new Map([[digestOf('old'), [{ provider: 'ecs', where: 'cluster/service' }]]]),
    });
    // Assess
    expect(decisionOf(result, 'old')).toMatchObject({ action: 'keep', reason: { code: 'in-use' } });
  });

  it('counts a restore from the archive as activity', () => {
    // Act
    const result = plan([image('restored', { lastActivatedAt: NOW - 5 * DAY })], { action: 'archive' });
    // Assess
    expect(decisionOf(result, 'restored')).toMatchObject({
      action: 'keep',
      reason: { code: 'recently-pulled', lastActivityAt: new Date(NOW - 5 * DAY).toISOString() },
    });
  });
});

describe('the archive settings in the config', () => {
  it('resolve over the defaults for a private rule', () => {
    // Act
    const config = parseConfig({
      cleanup: { defaults: { action: 'archive' }, rules: [{ repositories: ['a/**'], deleteArchivedAfterDays: 180 }] },
    });
    // Assess
    expect(cleanupRuleFor(config.cleanup, 'a/b')?.rule).toMatchObject({
      action: 'archive',
      deleteArchivedAfterDays: 180,
    });
  });

  it('are refused on a public rule, naming the field', () => {
    // Act
    const issues = issuesOf({
      cleanup: {
        rules: [
          { repositories: ['a/**'], action: 'archive' },
          { registry: 'public', repositories: ['b/**'], action: 'archive', deleteArchivedAfterDays: 120 },
          { registry: 'public', repositories: ['c/**'], action: 'delete' },
        ],
      },
    });
    // Assess
    expect(issues).toEqual([
      {
        path: 'cleanup.rules[1].action',
        message: 'ECR Public has no archive storage class, so action cannot apply to a public rule',
      },
      {
        path: 'cleanup.rules[1].deleteArchivedAfterDays',
        message: 'ECR Public has no archive storage class, so deleteArchivedAfterDays cannot apply to a public rule',
      },
    ]);
  });

  it('are refused in the defaults when a public rule would inherit them', () => {
    // Act
    const issues = issuesOf({
      cleanup: { defaults: { deleteArchivedAfterDays: 120 }, rules: [{ registry: 'public', repositories: ['b/**'] }] },
    });
    // Assess
    expect(issues.map((issue) => issue.path)).toEqual(['cleanup.defaults.deleteArchivedAfterDays']);
  });

  it('refuse a deleteArchivedAfterDays below 1 or not whole', () => {
    // Assess
    for (const days of [0, 1.5]) {
      expect(issuesOf({ cleanup: { rules: [{ repositories: ['a/**'], deleteArchivedAfterDays: days }] } })).toEqual([
        expect.objectContaining({ path: 'cleanup.rules[0].deleteArchivedAfterDays' }),
      ]);
    }
  });

  it('warn when deleteArchivedAfterDays is under the 90-day minimum charge', () => {
    // Act
    const warnings = cleanupConfigWarnings(
      parseConfig({
        cleanup: {
          defaults: { deleteArchivedAfterDays: 90 },
          rules: [{ repositories: ['a/**'], deleteArchivedAfterDays: 30 }],
        },
      }).cleanup,
    );
    // Assess
    expect(warnings).toEqual([
      {
        path: 'cleanup.rules[0].deleteArchivedAfterDays',
        message:
          "deleteArchivedAfterDays 30 is under ECR's 90-day minimum archive storage charge: an image deleted sooner is still charged for 90 days",
      },
    ]);
  });
});

describe('compareWithCleanup with a cleanup that archives', () => {
  it('names the cleanup’s archiving as such, and counts it as a removal that agrees with a native transition', () => {
    // Prepare
    const images = [image('old'), image('release', { tags: ['v1'] })];
    const archiving = plan(images, { action: 'archive' });
    const check = checkLifecyclePolicy(
      JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 },
            action: { type: 'transition', targetStorageClass: 'archive' },
          },
        ],
      }),
    );
    if (!check.valid) throw new Error(check.reason);
    // Act
    const comparison = compareWithCleanup(
      evaluateLifecyclePolicy(check.policy, toLifecycleImages(images), NOW),
      archiving,
      images,
    );
    // Assess
    expect(comparison.rows[0]?.service).toMatchObject({ action: 'archive', reason: { code: 'stale-untagged' } });
    expect(comparison.summary).toMatchObject({ service: { delete: 0, keep: 1, archive: 1 }, agree: 2 });
  });
});
