import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../../shared/domain/image.ts';
import {
  type CleanupPlanInput,
  type CleanupSummary,
  cleanupPlanDocument,
  type PlanDocument,
  type ReconcileSummary,
  reconcilePlanDocument,
} from '../../../shared/formats/plan-document.ts';
import { type CleanupRule, DEFAULT_CLEANUP_RULE, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import type { RegistryPlan } from '../../../shared/policy/reconcile/plan.ts';
import { DAY, digestOf, image, NOW } from '../../helpers/images.ts';
import { planSchemaErrors } from './validate.ts';

const TOOL = { name: 'ecr-automation', version: '9.8.7' };
const RULE: CleanupRule = { ...DEFAULT_CLEANUP_RULE, maxDeleteFraction: 1 };

const inputOf = (
  repositories: { name: string; images: ImageRecord[]; rule?: CleanupRule; ruleIndex?: number }[],
  options: Parameters<typeof planCleanup>[4] = {},
): CleanupPlanInput => ({
  createdAt: new Date(NOW).toISOString(),
  region: 'eu-west-1',
  repositories: repositories.map(({ name, images, rule = RULE, ruleIndex = 0 }) => ({
    repositoryName: name,
    ruleIndex,
    rule,
    images,
    plan: planCleanup(name, images, rule, NOW, options),
  })),
});

const changeOf = (document: PlanDocument, repository: string, name: string) =>
  document.resource_changes.find((change) => change.index === `${repository}@${digestOf(name)}`);

describe('the cleanup plan document', () => {
  it('shows an archiving as an update of the storage class, and an image in the archive as kept for it', () => {
    // Prepare
    const archiveRule: CleanupRule = { ...RULE, action: 'archive', deleteArchivedAfterDays: 365 };
    const images = [
      image('stale', { ageDays: 90 }),
      image('archived', { ageDays: 200, imageStatus: 'ARCHIVED', lastArchivedAt: NOW - 10 * DAY }),
      image('fresh', { ageDays: 1 }),
    ];

    // Act
    const document = cleanupPlanDocument(inputOf([{ name: 'team/app', images, rule: archiveRule }]), TOOL);

    // Assess
    expect(planSchemaErrors(document)).toEqual([]);
    expect(changeOf(document, 'team/app', 'stale')?.change).toMatchObject({
      actions: ['update'],
      before: { storage_class: 'STANDARD' },
      after: { storage_class: 'ARCHIVE', image_status: 'ARCHIVED' },
    });
    expect(changeOf(document, 'team/app', 'archived')).toMatchObject({
      change: { actions: ['no-op'], before: { storage_class: 'ARCHIVE', image_status: 'ARCHIVED' } },
      reason_category: 'archive',
      action_reason: 'archived',
    });
    const summary = document.summary as CleanupSummary;
    expect(summary.actions).toEqual({ delete: 0, update: 1, 'no-op': 2 });
    expect(summary.totals).toMatchObject({ images: 3, delete: 0, archive: 1, keep: 2 });
  });

  it('names who runs an image kept in use, and keeps its index and the index child for the same reason', () => {
    // Prepare
    const images = [
      image('child', { ageDays: 90 }),
      image('index', { ageDays: 90, children: ['child'] }),
      image('other', { ageDays: 90 }),
    ];
    const inUse = new Map([[digestOf('index'), [{ provider: 'ecs' as const, where: 'cluster/prod service/api' }]]]);

    // Act
    const document = cleanupPlanDocument(inputOf([{ name: 'app', images }], { inUse }), TOOL);

    // Assess
    expect(planSchemaErrors(document)).toEqual([]);
    expect(changeOf(document, 'app', 'index')).toMatchObject({
      reason_category: 'in-use',
      reason: { code: 'in-use', usedBy: [{ provider: 'ecs', where: 'cluster/prod service/api' }] },
    });
    expect(changeOf(document, 'app', 'child')).toMatchObject({
      reason_category: 'index',
      reason: { code: 'child-of-kept-index', via: digestOf('index') },
    });
    expect(changeOf(document, 'app', 'other')?.change.actions).toEqual(['delete']);
    // An address is a Terraform address with the key quoted as JSON: a repository name cannot break out of it.
    expect(changeOf(document, 'app', 'other')?.address).toBe(`aws_ecr_image.image["app@${digestOf('other')}"]`);
  });

  it('reports a tagged brake that held per repository, and which repositories it stopped', () => {
    // Prepare
    const rule: CleanupRule = {
      ...RULE,
      tagSelections: [{ tags: ['pr-*'], keepLast: 0 }],
      maxTaggedDeleteFraction: 0.1,
    } as CleanupRule;
    const images = [1, 2, 3].map((n) => image(`pr-${n}`, { tags: [`pr-${n}`], ageDays: 90 }));

    // Act
    const document = cleanupPlanDocument(
      inputOf([
        { name: 'a', images, rule, ruleIndex: 2 },
        { name: 'b', images: [image('b-stale', { ageDays: 90 })] },
      ]),
      TOOL,
    );

    // Assess
    expect(planSchemaErrors(document)).toEqual([]);
    const summary = document.summary as CleanupSummary;
    expect(summary.safety_brake).toEqual({ held: true, repositories: ['a'] });
    expect(summary.repositories[0]?.safety_brake).toMatchObject({ held: true, kind: 'tagged', would_delete: 3 });
    expect(summary.repositories[1]?.safety_brake).toEqual({ held: false });
    expect(summary.rules.map((entry) => [entry.rule_index, entry.delete])).toEqual([
      [0, 1],
      [2, 0],
    ]);
  });

  it('for any repository: valid, one change per image, and the summary adds up to the changes', () => {
    const imageArbitrary = fc.record({
      ageDays: fc.integer({ min: 0, max: 400 }),
      tagged: fc.boolean(),
      pulledDaysAgo: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
      size: fc.integer({ min: 0, max: 2 ** 40 }),
      parent: fc.option(fc.nat(), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(imageArbitrary, { maxLength: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (specs, fraction) => {
          // Prepare: some images are indexes over the ones before them.
          const images = specs.map((spec, i) => {
            const children = spec.parent !== undefined && i > 0 ? [`img-${spec.parent % i}`] : undefined;
            return image(`img-${i}`, {
              ageDays: spec.ageDays,
              tags: spec.tagged ? [`v${i}`] : [],
              sizeInBytes: spec.size,
              ...(spec.pulledDaysAgo === undefined ? {} : { pulledDaysAgo: spec.pulledDaysAgo }),
              ...(children === undefined ? {} : { children }),
            });
          });
          const rule = { ...RULE, maxDeleteFraction: fraction };

          // Act
          const document = cleanupPlanDocument(inputOf([{ name: 'repo', images, rule }]), TOOL);

          // Assess
          expect(planSchemaErrors(document)).toEqual([]);
          expect(document.resource_changes.map((change) => change.index).sort()).toEqual(
            images.map((entry) => `repo@${entry.digest}`).sort(),
          );
          const summary = document.summary as CleanupSummary;
          const deletions = document.resource_changes.filter((change) => change.change.actions[0] === 'delete');
          expect(summary.actions.delete).toBe(deletions.length);
          expect(summary.totals.delete).toBe(deletions.length);
          expect(summary.totals.keep + summary.totals.delete + summary.totals.archive).toBe(images.length);
          if (summary.safety_brake.held) expect(deletions).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('the registry reconcile plan document', () => {
  const plan: RegistryPlan = {
    changes: [
      {
        resource: 'pull-through-cache-rule',
        key: 'docker-hub',
        action: 'replace',
        fields: [{ field: 'upstreamRegistryUrl', before: 'registry-1.docker.io', after: 'docker.io' }],
      },
      { resource: 'creation-template', key: 'old', action: 'delete', fields: [{ field: 'prefix', before: 'old' }] },
      {
        resource: 'registry-policy-statement',
        key: 'AllowPull"]',
        action: 'create',
        fields: [{ field: 'Effect', after: 'Allow' }],
      },
    ],
    steps: [],
    problems: [],
    unmanaged: [{ resource: 'replication-rule', key: 'team-b/' }],
  };

  it('maps a replace to delete then create, a deletion to a null after, a creation to a null before', () => {
    // Act
    const document = reconcilePlanDocument(plan, { region: 'eu-west-1', timestamp: new Date(NOW).toISOString() }, TOOL);

    // Assess
    expect(planSchemaErrors(document)).toEqual([]);
    const [replace, deletion, creation] = document.resource_changes;
    expect(replace).toMatchObject({
      address: 'aws_ecr_pull_through_cache_rule.pull_through_cache_rule["docker-hub"]',
      change: {
        actions: ['delete', 'create'],
        before: { upstreamRegistryUrl: 'registry-1.docker.io' },
        after: { upstreamRegistryUrl: 'docker.io' },
      },
      action_reason: 'fields-differ-not-updatable',
      reason: { fields: ['upstreamRegistryUrl'] },
    });
    expect(deletion?.change).toEqual({ actions: ['delete'], before: { prefix: 'old' }, after: null });
    expect(creation?.change).toEqual({ actions: ['create'], before: null, after: { Effect: 'Allow' } });
    // A key with quotes stays inside its address's brackets.
    expect(creation?.address).toBe('aws_ecr_registry_policy.registry_policy_statement["AllowPull\\"]"]');
    expect(document.summary as ReconcileSummary).toEqual({
      actions: { create: 1, update: 0, delete: 1, replace: 1 },
      problems: [],
      unmanaged: [{ type: 'aws_ecr_replication_configuration', index: 'team-b/' }],
    });
  });

  it('carries the limits a plan would break, and the schema refuses a cleanup summary on a reconcile plan', () => {
    // Act
    const invalid = reconcilePlanDocument(
      { ...plan, problems: ['51 pull through cache rules'] },
      { region: 'x' },
      TOOL,
    );
    const mixed = { ...invalid, summary: { ...(invalid.summary as object), totals: {} } };

    // Assess
    expect(planSchemaErrors(invalid)).toEqual([]);
    expect(invalid.notes).toEqual(['invalid: 51 pull through cache rules']);
    expect(planSchemaErrors(mixed)).not.toEqual([]);
  });
});
