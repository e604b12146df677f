import { describe, expect, it } from 'vitest';
import { compliancePlanDocument } from '../../../shared/formats/plan-document.ts';
import { compliancePicture } from '../../../shared/pictures/compliance.ts';
import {
  type ComplianceCheck,
  checkRepository,
  type RepositoryFacts,
} from '../../../shared/policy/compliance/check.ts';
import { type CompliancePlan, planRepository, tallyChecks } from '../../../shared/policy/compliance/plan.ts';
import { type CompliancePolicy, DEFAULT_COMPLIANCE_POLICY } from '../../../shared/policy/compliance/policy.ts';
import { planSchemaErrors } from '../formats/validate.ts';

const OWN = '123456789012';
const facts = (name: string, overrides: Partial<RepositoryFacts> = {}): RepositoryFacts => ({
  name,
  arn: `arn:aws:ecr:us-east-1:${OWN}:repository/${name}`,
  registryId: OWN,
  imageTagMutability: 'IMMUTABLE',
  imageTagMutabilityExclusionFilters: [],
  scanOnPush: true,
  encryptionType: 'AES256',
  lifecyclePolicy: null,
  repositoryPolicy: null,
  tags: { team: 'a' },
  ...overrides,
});
const POLICY: CompliancePolicy = {
  ...DEFAULT_COMPLIANCE_POLICY,
  mode: 'enforce',
  tagMutability: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['latest'] },
  scanOnPush: true,
  lifecyclePolicy: 'cleanup-job',
  repositoryPolicy: { allowedAccounts: [] },
  requiredTags: ['team', 'owner'],
  tagDefaults: { owner: 'platform' },
};
const planOf = (one: RepositoryFacts, policy = POLICY) =>
  planRepository(one, { rule: policy, index: 2 }, undefined, checkRepository(one, policy, undefined));

describe('the compliance plan', () => {
  it('lists each checked setting with its actual and wanted values and the fix enforce mode would make', () => {
    const plan = planOf(
      facts('team/app', { imageTagMutability: 'MUTABLE', lifecyclePolicy: '{"rules":[{},{}]}', tags: { team: '' } }),
    );

    expect(plan).toMatchObject({ repository: 'team/app', ruleIndex: 2, mode: 'enforce', compliant: false });
    expect(plan.settings.map((setting) => [setting.check, setting.status, setting.actual, setting.fix])).toEqual([
      ['tag-mutability', 'drift', 'MUTABLE', 'PutImageTagMutability IMMUTABLE_WITH_EXCLUSION [latest]'],
      ['scan-on-push', 'compliant', 'on', undefined],
      ['lifecycle-policy', 'drift', 'a policy (2 rules)', 'DeleteLifecyclePolicy'],
      ['repository-policy', 'compliant', 'none', undefined],
      ['required-tags', 'drift', 'none of them', 'TagResource owner=platform'],
    ]);
    const tags = plan.settings.find((setting) => setting.check === 'required-tags');
    expect(tags?.before).toEqual({ tags: { team: '', owner: null } });
    expect(tags?.after).toEqual({ tags: { team: '', owner: 'platform' } });
    expect(plan.settings.find((setting) => setting.check === 'lifecycle-policy')?.after).toEqual({
      lifecycle_policy: null,
    });
  });

  it('lists only what the rule checks, and a compliant repository has no fix', () => {
    const plan = planOf(facts('team/ok'), { ...DEFAULT_COMPLIANCE_POLICY, scanOnPush: true, encryption: 'AES256' });

    expect(plan.compliant).toBe(true);
    expect(plan.settings.map((setting) => [setting.check, setting.status, setting.fix])).toEqual([
      ['scan-on-push', 'compliant', undefined],
      ['encryption', 'compliant', undefined],
    ]);
  });

  it('describes a policy text that is not JSON, or JSON null, without throwing', () => {
    const plan = planOf(facts('team/odd', { lifecyclePolicy: 'null', repositoryPolicy: '{"Statement": ' }), {
      ...POLICY,
      lifecyclePolicy: 'no-breaking-rules',
    });

    expect(plan.settings.find((setting) => setting.check === 'lifecycle-policy')?.actual).toBe(
      'a policy (no rules list)',
    );
    expect(plan.settings.find((setting) => setting.check === 'repository-policy')?.actual).toBe(
      'a policy that is not JSON',
    );
  });

  it('gives the same figures to the plan document (which the schema accepts) and to the HTML report', () => {
    const plan: CompliancePlan = {
      createdAt: '2026-01-02T03:04:05.000Z',
      region: 'eu-west-1',
      listed: 5,
      repositories: [
        planOf(
          facts('a/ok', {
            imageTagMutabilityExclusionFilters: ['latest'],
            imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
            tags: { team: 'a', owner: 'b' },
          }),
        ),
        planOf(facts('b/drift', { scanOnPush: false })),
        planOf(facts('c/drift', { encryptionType: 'KMS', imageTagMutability: 'MUTABLE' })),
      ],
      withoutRule: ['z/none'],
    };

    const document = compliancePlanDocument(plan, { name: 'ecr-automation', version: '0.1.0' });
    const picture = compliancePicture(plan);

    expect(planSchemaErrors(document)).toEqual([]);
    expect(document.summary).toMatchObject({ counts: { repositories: 5, checked: 3, compliant: 1, drifting: 2 } });
    expect(picture.compliance).toMatchObject({ listed: 5, checked: 3, compliant: 1, drifting: 2 });
    expect(picture.compliance?.checks).toEqual((document.summary as { checks: unknown }).checks);
    expect(picture.compliance?.rows).toHaveLength(plan.repositories.length * 5);
    expect(document.resource_changes.filter((change) => change.change.actions[0] === 'no-op')).toHaveLength(1);
    expect(document.notes).toEqual(['z/none: matched by --repository but by no enabled compliance rule']);
    expect(picture.notes).toEqual(document.notes);
  });
});

describe('Function: tallyChecks', () => {
  const setting = (check: ComplianceCheck, status: 'compliant' | 'drift', fix?: string) => ({
    check,
    status,
    actual: '',
    wanted: '',
    before: {},
    after: {},
    ...(fix === undefined ? {} : { fix }),
    reasons: [],
    details: [],
  });
  const repository = (name: string, settings: ReturnType<typeof setting>[]) => ({
    repository: name,
    ruleIndex: 0,
    mode: 'enforce' as const,
    compliant: settings.every((one) => one.status === 'compliant'),
    settings,
  });

  it('counts each check’s repositories, compliant, drifting and fixable ones, in the checks’ order', () => {
    // Act
    const tally = tallyChecks({
      repositories: [
        repository('a', [setting('encryption', 'drift'), setting('tag-mutability', 'drift', 'set IMMUTABLE')]),
        repository('b', [setting('encryption', 'compliant'), setting('tag-mutability', 'compliant')]),
        repository('c', [setting('tag-mutability', 'drift', 'set IMMUTABLE')]),
      ],
    });
    // Assess: scan-on-push and the others no rule asked for are left out.
    expect(tally).toEqual([
      { check: 'tag-mutability', checked: 3, compliant: 1, drifting: 2, fixable: 2 },
      { check: 'encryption', checked: 2, compliant: 1, drifting: 1, fixable: 0 },
    ]);
  });

  it('is empty for a plan of no repositories', () => {
    expect(tallyChecks({ repositories: [] })).toEqual([]);
  });
});
