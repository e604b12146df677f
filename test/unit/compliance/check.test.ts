import { describe, expect, it } from 'vitest';
import {
  checkRepository,
  coveredByRegistryScanning,
  type RepositoryFacts,
} from '../../../shared/policy/compliance/check.ts';
import { type CompliancePolicy, DEFAULT_COMPLIANCE_POLICY } from '../../../shared/policy/compliance/policy.ts';
import { repositoryPolicyFindings } from '../../../shared/policy/compliance/repository-policy.ts';

const OWN = '123456789012';
const facts = (overrides: Partial<RepositoryFacts> = {}): RepositoryFacts => ({
  name: 'team-a/api',
  arn: `arn:aws:ecr:us-east-1:${OWN}:repository/team-a/api`,
  registryId: OWN,
  imageTagMutability: 'IMMUTABLE',
  imageTagMutabilityExclusionFilters: [],
  scanOnPush: true,
  encryptionType: 'AES256',
  lifecyclePolicy: null,
  repositoryPolicy: null,
  tags: { team: 'a', 'cost-center': '42' },
  ...overrides,
});
const policy = (overrides: Partial<CompliancePolicy> = {}): CompliancePolicy => ({
  ...DEFAULT_COMPLIANCE_POLICY,
  ...overrides,
});
const LIFECYCLE = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 5 },
      action: { type: 'expire' },
    },
  ],
});
const statement = (extra: Record<string, unknown>) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'S1', Effect: 'Allow', Action: ['ecr:BatchGetImage'], ...extra }],
  });

describe('checkRepository', () => {
  it('finds nothing for a repository that meets every check', () => {
    // Act
    const findings = checkRepository(
      facts({ lifecyclePolicy: LIFECYCLE }),
      policy({
        tagMutability: { setting: 'IMMUTABLE', exclusions: [] },
        scanOnPush: true,
        lifecyclePolicy: LIFECYCLE,
        repositoryPolicy: { allowedAccounts: [] },
        requiredTags: ['team', 'cost-center'],
        encryption: 'AES256',
      }),
      undefined,
    );
    // Assess
    expect(findings).toEqual([]);
  });

  it('tells a wrong setting from wrong exclusion filters, and fixes both with PutImageTagMutability', () => {
    // Prepare
    const wanted = policy({ tagMutability: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['latest', 'dev-*'] } });
    // Act
    const wrongSetting = checkRepository(facts(), wanted, undefined);
    const wrongFilters = checkRepository(
      facts({ imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: ['latest'] }),
      wanted,
      undefined,
    );
    const sameFiltersOtherOrder = checkRepository(
      facts({
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: ['dev-*', 'latest'],
      }),
      wanted,
      undefined,
    );
    // Assess
    expect(wrongSetting).toMatchObject([
      {
        check: 'tag-mutability',
        reason: 'tag-mutability-differs',
        fix: { kind: 'put-tag-mutability', setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['latest', 'dev-*'] },
      },
    ]);
    expect(wrongFilters).toMatchObject([{ check: 'tag-mutability', reason: 'exclusions-differ' }]);
    expect(sameFiltersOtherOrder).toEqual([]);
  });

  it('accepts scan on push from a registry scanning rule instead of the repository flag', () => {
    // Prepare
    const repository = facts({ scanOnPush: false });
    const covering = { scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['team-a/*'] }] };
    const other = { scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['team-b/*'] }] };
    // Act
    const covered = checkRepository(repository, policy({ scanOnPush: true }), covering);
    const uncovered = checkRepository(repository, policy({ scanOnPush: true }), other);
    // Assess
    expect(covered).toEqual([]);
    expect(uncovered).toMatchObject([
      { check: 'scan-on-push', reason: 'no-scan-on-push', fix: { kind: 'put-scan-on-push' } },
    ]);
  });

  it('requires the lifecycle policy, compared without regard to spacing or key order', () => {
    // Prepare
    const reordered = JSON.stringify(
      {
        rules: [
          {
            action: { type: 'expire' },
            selection: { countNumber: 5, countType: 'imageCountMoreThan', tagStatus: 'untagged' },
            rulePriority: 1,
          },
        ],
      },
      null,
      4,
    );
    // Act
    const missing = checkRepository(
      facts({ lifecyclePolicy: null }),
      policy({ lifecyclePolicy: LIFECYCLE }),
      undefined,
    );
    const same = checkRepository(
      facts({ lifecyclePolicy: reordered }),
      policy({ lifecyclePolicy: LIFECYCLE }),
      undefined,
    );
    const differs = checkRepository(
      facts({ lifecyclePolicy: LIFECYCLE.replace('5', '9') }),
      policy({ lifecyclePolicy: LIFECYCLE }),
      undefined,
    );
    // Assess
    expect(missing).toMatchObject([
      { reason: 'lifecycle-policy-missing', fix: { kind: 'put-lifecycle-policy', policyText: LIFECYCLE } },
    ]);
    expect(same).toEqual([]);
    expect(differs).toMatchObject([{ reason: 'lifecycle-policy-differs' }]);
  });

  it('reports each rule of a lifecycle policy that breaks what the cleanup keeps, and accepts one that does not', () => {
    // Prepare
    const rule = (rulePriority: number, selection: Record<string, unknown>) => ({
      rulePriority,
      selection,
      action: { type: 'expire' },
    });
    const breaking = JSON.stringify({
      rules: [
        rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 5 }),
        rule(2, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
      ],
    });
    const harmless = JSON.stringify({
      rules: [
        rule(1, { tagStatus: 'tagged', tagPrefixList: ['pr-'], countType: 'imageCountMoreThan', countNumber: 20 }),
      ],
    });
    // Act
    const findings = checkRepository(
      facts({ lifecyclePolicy: breaking }),
      policy({ lifecyclePolicy: 'no-breaking-rules' }),
      undefined,
    );
    const fine = checkRepository(
      facts({ lifecyclePolicy: harmless }),
      policy({ lifecyclePolicy: 'no-breaking-rules' }),
      undefined,
    );
    const none = checkRepository(
      facts({ lifecyclePolicy: null }),
      policy({ lifecyclePolicy: 'no-breaking-rules' }),
      undefined,
    );
    // Assess: each finding names its rule and carries the linter's fix; none is fixed automatically
    expect(findings.length).toBeGreaterThanOrEqual(3);
    expect(findings.every((finding) => finding.reason === 'lifecycle-rule-breaks-cleanup' && !finding.fix)).toBe(true);
    const details = findings.map((finding) => finding.detail);
    expect(details).toContainEqual(expect.stringMatching(/^rule 1: count-includes-artifacts: .*\(fix: .+\)$/));
    expect(details).toContainEqual(expect.stringMatching(/^rule 1: expires-index-children: /));
    expect(details).toContainEqual(expect.stringMatching(/^rule 2: releases-unprotected: /));
    expect(fine).toEqual([]);
    expect(none).toEqual([]);
  });

  it('requires no lifecycle policy where the cleanup job owns the repository', () => {
    // Act
    const findings = checkRepository(
      facts({ lifecyclePolicy: LIFECYCLE }),
      policy({ lifecyclePolicy: 'cleanup-job' }),
      undefined,
    );
    const clean = checkRepository(
      facts({ lifecyclePolicy: null }),
      policy({ lifecyclePolicy: 'cleanup-job' }),
      undefined,
    );
    // Assess
    expect(findings).toMatchObject([
      { reason: 'lifecycle-policy-competes-with-cleanup', fix: { kind: 'delete-lifecycle-policy' } },
    ]);
    expect(clean).toEqual([]);
  });

  it('reports missing required tags, fixing only those with a default value', () => {
    // Act
    const findings = checkRepository(
      facts({ tags: { team: 'a' } }),
      policy({ requiredTags: ['team', 'cost-center', 'owner'], tagDefaults: { 'cost-center': 'unassigned' } }),
      undefined,
    );
    // Assess
    expect(findings).toEqual([
      {
        check: 'required-tags',
        reason: 'required-tags-missing',
        detail: 'missing resource tags: cost-center, owner',
        fix: { kind: 'tag-resource', tags: { 'cost-center': 'unassigned' } },
      },
    ]);
  });

  it('reports encryption without a fix (ECR cannot change it), and counts KMS_DSSE as KMS', () => {
    // Act
    const aes = checkRepository(facts({ encryptionType: 'AES256' }), policy({ encryption: 'KMS' }), undefined);
    const dsse = checkRepository(facts({ encryptionType: 'KMS_DSSE' }), policy({ encryption: 'KMS' }), undefined);
    // Assess
    expect(aes).toMatchObject([{ check: 'encryption', reason: 'encryption-differs' }]);
    expect(aes[0]).not.toHaveProperty('fix');
    expect(dsse).toEqual([]);
  });

  it('reports a public or cross-account repository policy without a fix', () => {
    // Act
    const findings = checkRepository(
      facts({ repositoryPolicy: statement({ Principal: '*' }) }),
      policy({ repositoryPolicy: { allowedAccounts: [] } }),
      undefined,
    );
    // Assess
    expect(findings).toEqual([
      { check: 'repository-policy', reason: 'public-access', detail: 'statement S1 grants access to everyone' },
    ]);
  });
});

describe('repositoryPolicyFindings', () => {
  it('flags "Principal": "*" and {"AWS": "*"} without a condition, not with one', () => {
    // Act
    const star = repositoryPolicyFindings(statement({ Principal: '*' }), OWN, []);
    const awsStar = repositoryPolicyFindings(statement({ Principal: { AWS: '*' } }), OWN, []);
    const conditioned = repositoryPolicyFindings(
      statement({ Principal: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc' } } }),
      OWN,
      [],
    );
    // Assess
    expect(star.map((f) => f.reason)).toEqual(['public-access']);
    expect(awsStar.map((f) => f.reason)).toEqual(['public-access']);
    expect(conditioned).toEqual([]);
  });

  it('flags principals of accounts outside the allowed list, by id or by ARN', () => {
    // Act
    const findings = repositoryPolicyFindings(
      statement({
        Principal: {
          AWS: [
            `arn:aws:iam::${OWN}:root`,
            'arn:aws:iam::210987654321:role/ci',
            '999999999999',
            'arn:aws:iam::111111111111:root',
          ],
        },
      }),
      OWN,
      ['111111111111'],
    );
    // Assess
    expect(findings.map((f) => f.detail)).toEqual([
      'statement S1 grants to arn:aws:iam::210987654321:role/ci (account 210987654321 is not allowed)',
      'statement S1 grants to 999999999999 (account 999999999999 is not allowed)',
    ]);
  });

  it('ignores Deny statements and reports a policy that is not JSON', () => {
    // Act
    const deny = repositoryPolicyFindings(
      JSON.stringify({ Statement: { Effect: 'Deny', Principal: '*', Action: 'ecr:*' } }),
      OWN,
      [],
    );
    const broken = repositoryPolicyFindings('{not json', OWN, []);
    // Assess
    expect(deny).toEqual([]);
    expect(broken.map((f) => f.reason)).toEqual(['unreadable-policy']);
  });
});

describe('coveredByRegistryScanning', () => {
  it('matches wildcard filters whole and plain filters as substrings, on push or continuous rules only', () => {
    // Prepare
    const scanning = (frequency: string, filter: string) => ({
      scanType: 'ENHANCED',
      rules: [{ scanFrequency: frequency, repositoryFilters: [filter] }],
    });
    // Assess
    expect(coveredByRegistryScanning(scanning('SCAN_ON_PUSH', 'team-*'), 'team-a/api')).toBe(true);
    expect(coveredByRegistryScanning(scanning('CONTINUOUS_SCAN', 'a/ap'), 'team-a/api')).toBe(true);
    expect(coveredByRegistryScanning(scanning('SCAN_ON_PUSH', 'team-b*'), 'team-a/api')).toBe(false);
    expect(coveredByRegistryScanning(scanning('MANUAL', '*'), 'team-a/api')).toBe(false);
  });
});
