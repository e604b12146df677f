import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../../shared/policy/reconcile/format.ts';
import type {
  CreationTemplate,
  PolicyStatement,
  PullThroughCacheRule,
  RegistryDeclaration,
  RegistrySnapshot,
  ReplicationRule,
} from '../../../shared/policy/reconcile/model.ts';
import { planRegistry, type RegistryPlan } from '../../../shared/policy/reconcile/plan.ts';

const EU = { region: 'eu-west-1', registryId: '111111111111' };
const US = { region: 'us-west-2', registryId: '111111111111' };
const rule = (filters: string[], destinations = [EU]): ReplicationRule => ({
  destinations,
  repositoryFilters: filters,
});

const DOCKER_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub';
const ptc = (prefix: string, overrides: Partial<PullThroughCacheRule> = {}): PullThroughCacheRule => ({
  prefix,
  upstreamRegistryUrl: 'public.ecr.aws',
  ...overrides,
});
const template = (prefix: string, overrides: Partial<CreationTemplate> = {}): CreationTemplate => ({
  prefix,
  appliedFor: ['CREATE_ON_PUSH'],
  imageTagMutability: 'MUTABLE',
  imageTagMutabilityExclusionFilters: [],
  encryptionType: 'AES256',
  resourceTags: {},
  ...overrides,
});

describe('planRegistry: replication rules', () => {
  it('creates a declared rule the registry lacks, in one PutReplicationConfiguration step', () => {
    // Prepare
    const declaration: RegistryDeclaration = { replication: { prune: false, rules: [rule(['team-a/'])] } };
    // Act
    const plan = planRegistry(declaration, { replication: [] });
    // Assess
    expect(plan.changes).toEqual([
      {
        resource: 'replication-rule',
        key: 'team-a/',
        action: 'create',
        fields: [
          { field: 'destinations', after: ['111111111111/eu-west-1'] },
          { field: 'repositoryFilters', after: ['team-a/'] },
        ],
      },
    ]);
    expect(plan.steps).toMatchObject([{ kind: 'put-replication', rules: [rule(['team-a/'])] }]);
  });

  it('updates the destinations of a rule covering the same repositories', () => {
    // Act
    const plan = planRegistry(
      { replication: { prune: false, rules: [rule(['team-a/'], [EU, US])] } },
      { replication: [rule(['team-a/'])] },
    );
    // Assess
    expect(plan.changes).toEqual([
      {
        resource: 'replication-rule',
        key: 'team-a/',
        action: 'update',
        fields: [
          {
            field: 'destinations',
            before: ['111111111111/eu-west-1'],
            after: ['111111111111/eu-west-1', '111111111111/us-west-2'],
          },
        ],
      },
    ]);
  });

  it('plans nothing when the registry already matches (destination order does not matter)', () => {
    // Act
    const plan = planRegistry(
      { replication: { prune: false, rules: [rule(['team-a/'], [US, EU])] } },
      { replication: [rule(['team-a/'], [EU, US])] },
    );
    // Assess
    expect(plan.changes).toEqual([]);
    expect(plan.steps).toEqual([]);
  });

  it('keeps a rule the config does not mention, and lists it as unmanaged, when not pruning', () => {
    // Act
    const plan = planRegistry(
      { replication: { prune: false, rules: [rule(['team-a/'])] } },
      { replication: [rule(['legacy/'], [US])] },
    );
    // Assess
    expect(plan.changes.map((c) => `${c.action} ${c.key}`)).toEqual(['create team-a/']);
    expect(plan.steps).toMatchObject([
      { kind: 'put-replication', rules: [rule(['legacy/'], [US]), rule(['team-a/'])] },
    ]);
    expect(plan.unmanaged).toEqual([{ resource: 'replication-rule', key: 'legacy/' }]);
  });

  it('deletes a rule the config does not mention when the config prunes', () => {
    // Act
    const plan = planRegistry({ replication: { prune: true, rules: [] } }, { replication: [rule(['legacy/'])] });
    // Assess
    expect(plan.changes).toMatchObject([{ resource: 'replication-rule', key: 'legacy/', action: 'delete' }]);
    expect(plan.steps).toMatchObject([{ kind: 'put-replication', rules: [] }]);
  });

  it('refuses a plan whose result would exceed 25 unique destinations', () => {
    // Prepare
    const many = (offset: number) =>
      Array.from({ length: 13 }, (_, i) => ({ region: 'eu-west-1', registryId: String(100000000000 + offset + i) }));
    // Act
    const plan = planRegistry(
      { replication: { prune: false, rules: [rule(['team-a/'], many(0))] } },
      { replication: [rule(['legacy/'], many(100))] },
    );
    // Assess
    expect(plan.problems).toEqual([expect.stringContaining('26 unique replication destinations')]);
  });
});

describe('planRegistry: pull through cache rules', () => {
  it('creates a missing rule', () => {
    // Act
    const plan = planRegistry(
      { pullThroughCache: { prune: false, rules: [ptc('ecr-public')] } },
      {
        pullThroughCacheRules: [],
      },
    );
    // Assess
    expect(plan.changes).toEqual([
      {
        resource: 'pull-through-cache-rule',
        key: 'ecr-public',
        action: 'create',
        fields: [{ field: 'upstreamRegistryUrl', after: 'public.ecr.aws' }],
      },
    ]);
    expect(plan.steps).toMatchObject([{ kind: 'create-pull-through-cache-rule', rule: ptc('ecr-public') }]);
  });

  it('updates a changed credential in place', () => {
    // Prepare
    const current = ptc('docker-hub', {
      upstreamRegistryUrl: 'registry-1.docker.io',
      credentialArn: `${DOCKER_SECRET}-old`,
    });
    const wanted = { ...current, credentialArn: DOCKER_SECRET };
    // Act
    const plan = planRegistry(
      { pullThroughCache: { prune: false, rules: [wanted] } },
      { pullThroughCacheRules: [current] },
    );
    // Assess
    expect(plan.changes).toEqual([
      {
        resource: 'pull-through-cache-rule',
        key: 'docker-hub',
        action: 'update',
        fields: [{ field: 'credentialArn', before: `${DOCKER_SECRET}-old`, after: DOCKER_SECRET }],
      },
    ]);
    expect(plan.steps[0]?.kind).toBe('update-pull-through-cache-rule');
  });

  it('replaces a rule whose upstream changed (ECR cannot update it)', () => {
    // Act
    const plan = planRegistry(
      { pullThroughCache: { prune: false, rules: [ptc('cache', { upstreamRegistryUrl: 'quay.io' })] } },
      { pullThroughCacheRules: [ptc('cache')] },
    );
    // Assess
    expect(plan.changes).toMatchObject([
      { action: 'replace', fields: [{ field: 'upstreamRegistryUrl', before: 'public.ecr.aws', after: 'quay.io' }] },
    ]);
  });

  it('plans nothing when the registry filled in the upstream name and the ROOT prefix', () => {
    // Act
    const plan = planRegistry(
      { pullThroughCache: { prune: false, rules: [ptc('ecr-public')] } },
      {
        pullThroughCacheRules: [
          ptc('ecr-public', { upstreamRegistry: 'ecr-public', upstreamRepositoryPrefix: 'ROOT' }),
        ],
      },
    );
    // Assess
    expect(plan.changes).toEqual([]);
  });

  it('deletes an unmentioned rule only when pruning', () => {
    // Prepare
    const snapshot: RegistrySnapshot = { pullThroughCacheRules: [ptc('old')] };
    // Act
    const kept = planRegistry({ pullThroughCache: { prune: false, rules: [] } }, snapshot);
    const pruned = planRegistry({ pullThroughCache: { prune: true, rules: [] } }, snapshot);
    // Assess
    expect(kept.changes).toEqual([]);
    expect(kept.unmanaged).toEqual([{ resource: 'pull-through-cache-rule', key: 'old' }]);
    expect(pruned.changes).toMatchObject([{ action: 'delete', key: 'old' }]);
    expect(pruned.steps).toMatchObject([{ kind: 'delete-pull-through-cache-rule', prefix: 'old' }]);
  });
});

describe('planRegistry: repository creation templates', () => {
  it('creates a missing template with every declared field in the diff', () => {
    // Act
    const plan = planRegistry(
      { creationTemplates: { prune: false, templates: [template('team-a', { resourceTags: { team: 'a' } })] } },
      { creationTemplates: [] },
    );
    // Assess
    expect(plan.changes[0]).toMatchObject({ action: 'create', key: 'team-a' });
    expect(plan.changes[0]?.fields).toContainEqual({ field: 'resourceTags', after: { team: 'a' } });
  });

  it('updates only the fields that differ', () => {
    // Act
    const plan = planRegistry(
      { creationTemplates: { prune: false, templates: [template('team-a', { imageTagMutability: 'IMMUTABLE' })] } },
      { creationTemplates: [template('team-a')] },
    );
    // Assess
    expect(plan.changes).toEqual([
      {
        resource: 'creation-template',
        key: 'team-a',
        action: 'update',
        fields: [{ field: 'imageTagMutability', before: 'MUTABLE', after: 'IMMUTABLE' }],
      },
    ]);
  });

  it('sees no change in a lifecycle policy written with other spacing and key order', () => {
    // Prepare
    const policy = {
      rules: [
        {
          rulePriority: 1,
          selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 5 },
          action: { type: 'expire' },
        },
      ],
    };
    const reordered =
      '{ "rules": [ { "action": { "type": "expire" }, "rulePriority": 1, "selection": { "countNumber": 5, "countType": "imageCountMoreThan", "tagStatus": "untagged" } } ] }';
    // Act
    const plan = planRegistry(
      {
        creationTemplates: {
          prune: false,
          templates: [template('team-a', { lifecyclePolicy: JSON.stringify(policy) })],
        },
      },
      { creationTemplates: [template('team-a', { lifecyclePolicy: reordered })] },
    );
    // Assess
    expect(plan.changes).toEqual([]);
  });

  it('deletes an unmentioned template only when pruning', () => {
    // Act
    const kept = planRegistry(
      { creationTemplates: { prune: false, templates: [] } },
      { creationTemplates: [template('old')] },
    );
    const pruned = planRegistry(
      { creationTemplates: { prune: true, templates: [] } },
      { creationTemplates: [template('old')] },
    );
    // Assess
    expect(kept.changes).toEqual([]);
    expect(pruned.changes).toMatchObject([{ resource: 'creation-template', key: 'old', action: 'delete' }]);
  });
});

describe('planRegistry: registry scanning', () => {
  const current = { scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['legacy-*'] }] };

  it("adds declared filters to the registry's own when not pruning", () => {
    // Act
    const plan = planRegistry(
      { scanning: { prune: false, rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['team-a/*'] }] } },
      { scanning: current },
    );
    // Assess
    expect(plan.changes).toEqual([
      {
        resource: 'registry-scanning',
        key: 'registry',
        action: 'update',
        fields: [{ field: 'rules.SCAN_ON_PUSH', before: ['legacy-*'], after: ['legacy-*', 'team-a/*'] }],
      },
    ]);
    expect(plan.steps).toMatchObject([
      {
        kind: 'put-scanning',
        configuration: { scanType: 'BASIC', rules: [{ repositoryFilters: ['legacy-*', 'team-a/*'] }] },
      },
    ]);
  });

  it('plans nothing when the declared filters are already there', () => {
    // Act
    const plan = planRegistry(
      {
        scanning: {
          prune: false,
          scanType: 'BASIC',
          rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['legacy-*'] }],
        },
      },
      { scanning: current },
    );
    // Assess
    expect(plan.changes).toEqual([]);
  });

  it('replaces the filters and drops undeclared frequencies when pruning', () => {
    // Act
    const plan = planRegistry(
      { scanning: { prune: true, rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['*'] }] } },
      { scanning: current },
    );
    // Assess
    expect(plan.changes[0]?.fields).toEqual([{ field: 'rules.SCAN_ON_PUSH', before: ['legacy-*'], after: ['*'] }]);
  });

  it('never touches scanning when the config has no scanning section', () => {
    // Act
    const plan = planRegistry({ replication: { prune: true, rules: [] } }, { replication: [], scanning: current });
    // Assess
    expect(plan.changes).toEqual([]);
  });
});

describe('formatPlan', () => {
  it('prints each change with a per-field diff and a summary line', () => {
    // Prepare
    const plan = planRegistry(
      { replication: { prune: false, rules: [rule(['team-a/'], [EU, US])] } },
      { replication: [rule(['team-a/'])] },
    );
    // Act
    const lines = formatPlan(plan);
    // Assess
    expect(lines).toEqual([
      '~ update replication-rule team-a/',
      '    destinations: ["111111111111/eu-west-1"] → ["111111111111/eu-west-1", "111111111111/us-west-2"]',
      'Plan: 0 to create, 1 to update, 0 to replace, 0 to delete.',
    ]);
  });

  it('says so when there is nothing to change', () => {
    // Assess
    expect(formatPlan(planRegistry({}, {}))).toEqual(['No changes: the registry matches the config.']);
  });
});

describe('planRegistry: registry policy', () => {
  const replicateFrom = (account: string, sid = `Replicate${account}`): PolicyStatement => ({
    Sid: sid,
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${account}:root` },
    Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
    Resource: 'arn:aws:ecr:us-east-1:123456789012:repository/*',
  });
  const policyText = (...statements: Record<string, unknown>[]) =>
    JSON.stringify({ Version: '2012-10-17', Statement: statements });
  const statementsOf = (plan: RegistryPlan) => {
    const step = plan.steps[0];
    if (step?.kind !== 'put-registry-policy') throw new Error(`expected a put-registry-policy step, got ${step?.kind}`);
    return (JSON.parse(step.policyText) as { Statement: Record<string, unknown>[] }).Statement;
  };

  it('creates the policy the registry lacks, with a per-field diff of the statement', () => {
    // Act
    const plan = planRegistry({ registryPolicy: { prune: false, statements: [replicateFrom('111111111111')] } }, {});
    // Assess
    expect(plan.changes).toEqual([
      {
        resource: 'registry-policy-statement',
        key: 'Replicate111111111111',
        action: 'create',
        fields: [
          { field: 'Effect', after: 'Allow' },
          { field: 'Principal', after: { AWS: 'arn:aws:iam::111111111111:root' } },
          { field: 'Action', after: ['ecr:CreateRepository', 'ecr:ReplicateImage'] },
          { field: 'Resource', after: 'arn:aws:ecr:us-east-1:123456789012:repository/*' },
        ],
      },
    ]);
    expect(plan.steps).toHaveLength(1);
    expect(statementsOf(plan)).toEqual([replicateFrom('111111111111')]);
  });

  it('updates only the fields of a statement that differ', () => {
    // Prepare
    const current = { ...replicateFrom('111111111111'), Action: 'ecr:ReplicateImage' };
    // Act
    const plan = planRegistry(
      { registryPolicy: { prune: false, statements: [replicateFrom('111111111111')] } },
      { registryPolicyText: policyText(current) },
    );
    // Assess
    expect(plan.changes).toEqual([
      {
        resource: 'registry-policy-statement',
        key: 'Replicate111111111111',
        action: 'update',
        fields: [
          { field: 'Action', before: 'ecr:ReplicateImage', after: ['ecr:CreateRepository', 'ecr:ReplicateImage'] },
        ],
      },
    ]);
    expect(statementsOf(plan)).toEqual([replicateFrom('111111111111')]);
  });

  it('plans nothing for the same statements in another key order and spacing', () => {
    // Prepare
    const reordered = `{
      "Statement": [ { "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/*",
        "Action": [ "ecr:CreateRepository", "ecr:ReplicateImage" ],
        "Principal": { "AWS": "arn:aws:iam::111111111111:root" }, "Effect": "Allow", "Sid": "Replicate111111111111" } ],
      "Version": "2012-10-17"
    }`;
    // Act
    const plan = planRegistry(
      { registryPolicy: { prune: false, statements: [replicateFrom('111111111111')] } },
      { registryPolicyText: reordered },
    );
    // Assess
    expect(plan.changes).toEqual([]);
    expect(plan.steps).toEqual([]);
  });

  it('keeps the statements the config does not mention (with or without a Sid) in the one put, unless pruning', () => {
    // Prepare
    const other = replicateFrom('222222222222', 'OtherTeam');
    const { Sid: _none, ...withoutSid } = replicateFrom('333333333333');
    const snapshot: RegistrySnapshot = { registryPolicyText: policyText(other, withoutSid) };
    const declared = [replicateFrom('111111111111')];
    // Act
    const kept = planRegistry({ registryPolicy: { prune: false, statements: declared } }, snapshot);
    const pruned = planRegistry({ registryPolicy: { prune: true, statements: declared } }, snapshot);
    // Assess
    expect(kept.changes.map((c) => `${c.action} ${c.key}`)).toEqual(['create Replicate111111111111']);
    expect(kept.unmanaged).toEqual([
      { resource: 'registry-policy-statement', key: 'OtherTeam' },
      { resource: 'registry-policy-statement', key: '(statement 2 without Sid)' },
    ]);
    expect(statementsOf(kept)).toEqual([other, withoutSid, replicateFrom('111111111111')]);
    expect(pruned.changes.map((c) => `${c.action} ${c.key}`)).toEqual([
      'delete OtherTeam',
      'delete (statement 2 without Sid)',
      'create Replicate111111111111',
    ]);
    expect(statementsOf(pruned)).toEqual([replicateFrom('111111111111')]);
  });

  it('deletes the policy when pruning leaves no statement, and only then', () => {
    // Prepare
    const snapshot: RegistrySnapshot = { registryPolicyText: policyText(replicateFrom('222222222222', 'Stray')) };
    // Act
    const pruned = planRegistry({ registryPolicy: { prune: true, statements: [] } }, snapshot);
    const kept = planRegistry({ registryPolicy: { prune: false, statements: [] } }, snapshot);
    // Assess
    expect(pruned.changes).toMatchObject([{ resource: 'registry-policy-statement', key: 'Stray', action: 'delete' }]);
    expect(pruned.steps).toMatchObject([{ kind: 'delete-registry-policy' }]);
    expect(kept.changes).toEqual([]);
    expect(kept.steps).toEqual([]);
  });

  it('plans nothing, and deletes nothing, when pruning an empty declaration against no policy', () => {
    // Act
    const plan = planRegistry({ registryPolicy: { prune: true, statements: [] } }, {});
    // Assess
    expect(plan.steps).toEqual([]);
  });

  it("refuses a plan whose policy (the config's plus the kept statements) would exceed 10,240 characters", () => {
    // Prepare
    const big = (sid: string) => ({
      ...replicateFrom('222222222222', sid),
      Resource: Array.from({ length: 60 }, (_, i) => `arn:aws:ecr:us-east-1:123456789012:repository/${sid}-${i}`),
    });
    // Act
    const plan = planRegistry(
      { registryPolicy: { prune: false, statements: [big('Mine')] } },
      { registryPolicyText: policyText(big('Theirs'), big('Others')) },
    );
    // Assess
    expect(plan.problems).toEqual([
      expect.stringMatching(
        /^registry policy after the plan: the registry policy would be 1\d,\d{3} characters, ECR allows at most 10,240$/,
      ),
    ]);
  });

  it('refuses to plan over a registry policy that is not JSON', () => {
    // Act
    const plan = planRegistry(
      { registryPolicy: { prune: true, statements: [] } },
      { registryPolicyText: '{"Statement": [' },
    );
    // Assess
    expect(plan.steps).toEqual([]);
    expect(plan.problems).toEqual([expect.stringContaining('the registry policy in the registry is not JSON')]);
  });

  it('prints one block per statement with its changed fields', () => {
    // Prepare
    const current = { ...replicateFrom('111111111111'), Effect: 'Deny' };
    const plan = planRegistry(
      { registryPolicy: { prune: false, statements: [replicateFrom('111111111111')] } },
      { registryPolicyText: policyText(current) },
    );
    // Act
    const lines = formatPlan(plan);
    // Assess
    expect(lines).toEqual([
      '~ update registry-policy-statement Replicate111111111111',
      '    Effect: "Deny" → "Allow"',
      'Plan: 0 to create, 1 to update, 0 to replace, 0 to delete.',
    ]);
  });
});
