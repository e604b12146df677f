import { describe, expect, it } from 'vitest';
import { parseConfigDocuments } from '../../../shared/config/files.ts';
import { ConfigError } from '../../../shared/config/load.ts';
import { declarationProblems } from '../../../shared/policy/reconcile/limits.ts';
import { mergeDeclarations } from '../../../shared/policy/reconcile/merge.ts';

const EU = { region: 'eu-west-1', registryId: '111111111111' };
const US = { region: 'us-west-2', registryId: '222222222222' };

const teamFile = (team: string, destination: typeof EU) => ({
  source: `teams/${team}.json`,
  document: {
    registry: { replication: { rules: [{ destinations: [destination], repositoryFilters: [`${team}/`] }] } },
  },
});

describe('mergeDeclarations', () => {
  it("keeps both teams' replication rules (neither clobbers the other)", () => {
    // Act
    const merged = mergeDeclarations([
      {
        source: 'a.json',
        declaration: { replication: { prune: false, rules: [{ destinations: [EU], repositoryFilters: ['a/'] }] } },
      },
      {
        source: 'b.json',
        declaration: { replication: { prune: false, rules: [{ destinations: [US], repositoryFilters: ['b/'] }] } },
      },
    ]);
    // Assess
    expect(merged.conflicts).toEqual([]);
    expect(merged.declaration.replication?.rules.map((rule) => rule.repositoryFilters)).toEqual([['a/'], ['b/']]);
    expect(merged.sources).toEqual({ 'replication rule a/': 'a.json', 'replication rule b/': 'b.json' });
  });

  it('names both files when they declare the same rule differently', () => {
    // Act
    const merged = mergeDeclarations([
      {
        source: 'a.json',
        declaration: { replication: { prune: false, rules: [{ destinations: [EU], repositoryFilters: ['shared/'] }] } },
      },
      {
        source: 'b.json',
        declaration: { replication: { prune: false, rules: [{ destinations: [US], repositoryFilters: ['shared/'] }] } },
      },
    ]);
    // Assess
    expect(merged.conflicts).toEqual(['replication rule shared/ is declared differently in a.json and in b.json']);
  });

  it('adds up scanning filters per frequency and names both files on differing scan types', () => {
    // Act
    const merged = mergeDeclarations([
      {
        source: 'a.json',
        declaration: {
          scanning: {
            prune: false,
            scanType: 'BASIC',
            rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['a/*'] }],
          },
        },
      },
      {
        source: 'b.json',
        declaration: {
          scanning: {
            prune: false,
            scanType: 'ENHANCED',
            rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['b/*'] }],
          },
        },
      },
    ]);
    // Assess
    expect(merged.declaration.scanning?.rules).toEqual([
      { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['a/*', 'b/*'] },
    ]);
    expect(merged.conflicts).toEqual(['registry scan type is BASIC in a.json and ENHANCED in b.json']);
  });

  it('leaves a section no file declares undeclared (so it stays unmanaged)', () => {
    // Act
    const merged = mergeDeclarations([{ source: 'a.json', declaration: { replication: { prune: false, rules: [] } } }]);
    // Assess
    expect(merged.declaration).toEqual({ replication: { prune: false, rules: [] } });
  });
});

describe('parseConfigDocuments', () => {
  it("merges two teams' files into one config holding both teams' replication rules", () => {
    // Act
    const config = parseConfigDocuments([teamFile('team-a', EU), teamFile('team-b', US)]);
    // Assess
    expect(config.registry.replication?.rules).toEqual([
      { destinations: [EU], repositoryFilters: ['team-a/'] },
      { destinations: [US], repositoryFilters: ['team-b/'] },
    ]);
  });

  it('refuses two files that both declare the cleanup section, naming both', () => {
    // Act
    const attempt = () =>
      parseConfigDocuments([
        { source: 'one.json', document: { cleanup: { rules: [] } } },
        { source: 'two.json', document: { cleanup: { rules: [] } } },
      ]);
    // Assess
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/'cleanup' is declared in both one.json and two.json/);
  });

  it('checks the quota across files: 11 rules from two files is an error before any call', () => {
    // Prepare
    const rules = (team: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({ destinations: [EU], repositoryFilters: [`${team}-${i}/`] }));
    // Act
    const attempt = () =>
      parseConfigDocuments([
        { source: 'a.json', document: { registry: { replication: { rules: rules('a', 6) } } } },
        { source: 'b.json', document: { registry: { replication: { rules: rules('b', 5) } } } },
      ]);
    // Assess
    expect(attempt).toThrow(/^Invalid a.json \+ b.json: registry.replication.rules: .*<=10 items/);
  });
});

describe('declarationProblems', () => {
  it('names the field of each broken ECR limit', () => {
    // Act
    const problems = declarationProblems({
      pullThroughCache: {
        prune: false,
        rules: [
          { prefix: 'docker-hub', upstreamRegistryUrl: 'docker.io' },
          { prefix: 'ghcr', upstreamRegistryUrl: 'ghcr.io' },
          { prefix: 'x', upstreamRegistryUrl: 'quay.io' },
        ],
      },
      creationTemplates: {
        prune: false,
        templates: [
          {
            prefix: 'Team-A',
            appliedFor: ['CREATE_ON_PUSH'],
            imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
            imageTagMutabilityExclusionFilters: [],
            encryptionType: 'AES256',
            resourceTags: {},
          },
        ],
      },
      scanning: {
        prune: false,
        scanType: 'BASIC',
        rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: ['*'] }],
      },
    });
    // Assess
    expect(problems).toEqual([
      expect.stringMatching(
        /^registry.pullThroughCache.rules\[0\].upstreamRegistryUrl: 'docker.io' is not an upstream/,
      ),
      "registry.pullThroughCache.rules[1].credentialArn: the upstream 'github-container-registry' needs a Secrets Manager credential",
      expect.stringMatching(/^registry.pullThroughCache.rules\[2\].prefix: 'x' is not a pull through cache prefix/),
      expect.stringMatching(/^registry.creationTemplates.templates\[0\].prefix: 'Team-A'/),
      expect.stringMatching(/^registry.creationTemplates.templates\[0\].imageTagMutabilityExclusionFilters/),
      expect.stringMatching(/^registry.scanning.rules: BASIC scanning supports SCAN_ON_PUSH rules only/),
    ]);
  });
});

describe('registry policy across files', () => {
  const statement = (sid: string, account: string) => ({
    Sid: sid,
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${account}:root` },
    Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
    Resource: 'arn:aws:ecr:us-east-1:123456789012:repository/*',
  });
  const policyFile = (source: string, ...statements: Record<string, unknown>[]) => ({
    source,
    document: { registry: { registryPolicy: { statements } } },
  });

  it("keeps both teams' statements (neither clobbers the other), and one copy of a statement both declare alike", () => {
    // Prepare
    const shared = statement('OrgPull', '999999999999');
    const { Sid, Effect, ...rest } = shared;
    const sharedReordered = { ...rest, Effect, Sid };
    // Act
    const config = parseConfigDocuments([
      policyFile('teams/team-a.json', statement('TeamA', '111111111111'), shared),
      policyFile('teams/team-b.json', statement('TeamB', '222222222222'), sharedReordered),
    ]);
    // Assess
    expect(config.registry.registryPolicy).toEqual({
      prune: false,
      statements: [statement('TeamA', '111111111111'), shared, statement('TeamB', '222222222222')],
    });
  });

  it('refuses the same Sid declared differently in two files, naming both files', () => {
    // Act
    const attempt = () =>
      parseConfigDocuments([
        policyFile('teams/team-a.json', statement('Replication', '111111111111')),
        policyFile('teams/team-b.json', statement('Replication', '222222222222')),
      ]);
    // Assess
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      'registry policy statement Replication is declared differently in teams/team-a.json and in teams/team-b.json',
    );
  });

  it('refuses a statement without a Sid, and a Sid used twice in one file', () => {
    // Prepare
    const { Sid: _none, ...withoutSid } = statement('X', '111111111111');
    // Act
    const missing = () => parseConfigDocuments([policyFile('a.json', withoutSid)]);
    const twice = () =>
      parseConfigDocuments([
        policyFile('a.json', statement('Same', '111111111111'), statement('Same', '222222222222')),
      ]);
    // Assess
    expect(missing).toThrow(/registry.registryPolicy.statements\[0\].Sid: Invalid input: expected string/);
    expect(twice).toThrow(/registry.registryPolicy.statements\[1\].Sid: 'Same' is already the Sid of statements\[0\]/);
  });

  it('refuses, naming the size, statements from two files that together exceed 10,240 characters', () => {
    // Prepare
    const big = (sid: string) => ({
      ...statement(sid, '111111111111'),
      Resource: Array.from({ length: 100 }, (_, i) => `arn:aws:ecr:us-east-1:123456789012:repository/${sid}-${i}`),
    });
    // Act
    const attempt = () =>
      parseConfigDocuments([policyFile('a.json', big('TeamA')), policyFile('b.json', big('TeamB'))]);
    // Assess
    expect(attempt).toThrow(
      /^Invalid a.json \+ b.json: registry.registryPolicy.statements: the registry policy would be 1\d,\d{3} characters, ECR allows at most 10,240/,
    );
  });
});
