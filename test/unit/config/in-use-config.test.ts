import { describe, expect, it } from 'vitest';
import { hasInUseProviders } from '../../../shared/config/in-use-schema.ts';
import { ConfigError, parseConfig } from '../../../shared/config/load.ts';

const issuesOf = (document: unknown) => {
  try {
    parseConfig(document);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
};

describe("the cleanup's inUse section", () => {
  it('is absent by default: no provider', () => {
    // Act
    const { cleanup } = parseConfig({ cleanup: { rules: [] } });
    // Assess
    expect(cleanup.inUse).toBeUndefined();
    expect(hasInUseProviders(cleanup.inUse)).toBe(false);
  });

  it('fills in every cluster and function, and the timeout', () => {
    // Act
    const { cleanup } = parseConfig({
      cleanup: {
        inUse: { ecs: {}, lambda: { repositories: ['lambda/**'] }, kubernetes: { ssm: { parameter: '/eks/images' } } },
      },
    });
    // Assess
    expect(cleanup.inUse).toEqual({
      timeoutSeconds: 60,
      cacheSeconds: 60,
      ecs: { clusters: 'all' },
      lambda: { functions: 'all', repositories: ['lambda/**'] },
      kubernetes: { ssm: { parameter: '/eks/images' } },
    });
    expect(hasInUseProviders(cleanup.inUse)).toBe(true);
    expect(hasInUseProviders({ timeoutSeconds: 60, cacheSeconds: 60 })).toBe(false);
  });

  it('takes a Kubernetes list from S3 or SSM, not both, and refuses unknown keys', () => {
    // Assess
    expect(issuesOf({ cleanup: { inUse: { kubernetes: { s3: { bucket: 'lists', key: 'eks/prod.json' } } } } })).toEqual(
      [],
    );
    expect(
      issuesOf({
        cleanup: { inUse: { kubernetes: { s3: { bucket: 'lists', key: 'k' }, ssm: { parameter: '/p' } } } },
      }).length,
    ).toBeGreaterThan(0);
    expect(issuesOf({ cleanup: { inUse: { ecs: { cluster: 'prod' } } } }).length).toBeGreaterThan(0);
    expect(issuesOf({ cleanup: { inUse: { timeoutSeconds: 0 } } }).length).toBeGreaterThan(0);
    expect(issuesOf({ cleanup: { inUse: { ecs: { clusters: [] } } } }).length).toBeGreaterThan(0);
    expect(issuesOf({ cleanup: { inUse: { lambda: { functions: ['bad name'] } } } }).length).toBeGreaterThan(0);
    expect(issuesOf({ cleanup: { inUse: { kubernetes: { s3: { bucket: 'B!', key: 'k' } } } } }).length).toBeGreaterThan(
      0,
    );
    // Written into an IAM resource: no wildcard, no CloudFormation substitution.
    for (const key of ['lists/*', 'a?b', `\${AWS::AccountId}/x`]) {
      expect(issuesOf({ cleanup: { inUse: { kubernetes: { s3: { bucket: 'lists', key } } } } }).length).toBeGreaterThan(
        0,
      );
    }
  });

  it('refuses hostile values of cacheSeconds and of the archive settings, naming the field', () => {
    // Act
    const paths = (document: unknown) => [...new Set(issuesOf(document).map((issue) => issue.path))];
    // Assess
    for (const cacheSeconds of [-1, 901, 1e308, 0.5, '60', null]) {
      expect(paths({ cleanup: { inUse: { ecs: {}, cacheSeconds } } }), String(cacheSeconds)).toEqual([
        'cleanup.inUse.cacheSeconds',
      ]);
    }
    for (const deleteArchivedAfterDays of [0, -5, 1e308, 2.5, 'soon']) {
      expect(
        paths({ cleanup: { rules: [{ repositories: ['**'], deleteArchivedAfterDays }] } }),
        String(deleteArchivedAfterDays),
      ).toEqual(['cleanup.rules[0].deleteArchivedAfterDays']);
    }
    expect(paths({ cleanup: { rules: [{ repositories: ['**'], action: 'shred' }] } })).toEqual([
      'cleanup.rules[0].action',
    ]);
  });
});
