import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../shared/config/load.ts';
import { roleResourceName } from '../../../shared/config/targets-schema.ts';
import { ECR_REGIONS, partitionOf } from '../../../shared/domain/regions.ts';

const issuesOf = (document: unknown) => {
  try {
    parseConfig(document);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
};

const GOOD = {
  accounts: ['111122223333'],
  organizationalUnits: ['ou-ab12-cdef3456', 'r-ab12'],
  exclude: ['444455556666'],
  regions: ['eu-west-1', 'us-east-1'],
  roleName: 'EcrAutomation',
  externalId: 'ecr-automation:prod/2026',
};

const targetsIssues = (targets: unknown) => issuesOf({ targets });

describe('the targets section', () => {
  it('is absent by default', () => {
    // Act
    const config = parseConfig({});
    // Assess
    expect(config.targets).toBeUndefined();
  });

  it('takes accounts, organisational units, exclusions, regions and a role, and fills in the session duration', () => {
    // Act
    const { targets } = parseConfig({ targets: GOOD });
    // Assess
    expect(targets).toEqual({ ...GOOD, sessionDurationSeconds: 3600 });
  });

  it('takes accounts alone or organisational units alone, a role behind a path, and the China and GovCloud regions', () => {
    // Assess
    expect(targetsIssues({ accounts: ['111122223333'], regions: ['cn-north-1'], roleName: 'R' })).toEqual([]);
    expect(
      targetsIssues({
        organizationalUnits: ['ou-ab12-cdef3456'],
        regions: ['us-gov-west-1'],
        roleName: '/platform/ecr/EcrAutomation',
        sessionDurationSeconds: 43_200,
        maxConcurrencyPerTarget: 50,
      }),
    ).toEqual([]);
  });

  it('refuses an account id that is not 12 digits, with its path', () => {
    // Assess
    expect(targetsIssues({ ...GOOD, accounts: ['111122223333', '12345'] })).toEqual([
      { path: 'targets.accounts[1]', message: 'an AWS account id: 12 digits' },
    ]);
    expect(targetsIssues({ ...GOOD, exclude: ['abcdefghijkl'] })).toEqual([
      { path: 'targets.exclude[0]', message: 'an AWS account id: 12 digits' },
    ]);
  });

  it('refuses a region ECR does not serve, naming it', () => {
    // Act
    const issues = targetsIssues({ ...GOOD, regions: ['eu-west-1', 'mars-north-1'] });
    // Assess
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('targets.regions[1]');
    expect(issues[0]?.message).toMatch(/^"mars-north-1" is not a region ECR serves/);
    expect(targetsIssues({ ...GOOD, regions: [] })[0]?.path).toBe('targets.regions');
  });

  it('refuses an invalid role name', () => {
    // Assess
    for (const roleName of ['', 'Ecr Automation', 'role*', 'a'.repeat(65), 'path/without/leading/slash', '/p/*/R']) {
      expect(targetsIssues({ ...GOOD, roleName }).map((issue) => issue.path)).toEqual(['targets.roleName']);
    }
  });

  it('refuses an invalid external id, organisational unit, session duration and concurrency', () => {
    // Assess
    expect(targetsIssues({ ...GOOD, externalId: 'x' })[0]?.path).toBe('targets.externalId');
    expect(targetsIssues({ ...GOOD, externalId: 'has space' })[0]?.path).toBe('targets.externalId');
    expect(targetsIssues({ ...GOOD, organizationalUnits: ['ou-AB12-cdef3456'] })[0]?.path).toBe(
      'targets.organizationalUnits[0]',
    );
    expect(targetsIssues({ ...GOOD, sessionDurationSeconds: 899 })[0]?.path).toBe('targets.sessionDurationSeconds');
    expect(targetsIssues({ ...GOOD, sessionDurationSeconds: 43_201 })[0]?.path).toBe('targets.sessionDurationSeconds');
    expect(targetsIssues({ ...GOOD, maxConcurrencyPerTarget: 0 })[0]?.path).toBe('targets.maxConcurrencyPerTarget');
    expect(targetsIssues({ ...GOOD, maxConcurrencyPerTarget: 2.5 })[0]?.path).toBe('targets.maxConcurrencyPerTarget');
  });

  it('needs accounts or organisational units', () => {
    // Assess
    expect(targetsIssues({ regions: ['eu-west-1'], roleName: 'R' })).toEqual([
      { path: 'targets.accounts', message: 'name at least one of accounts and organizationalUnits' },
    ]);
  });

  it('refuses an account both listed and excluded, with the listed one’s path', () => {
    // Assess
    expect(targetsIssues({ ...GOOD, accounts: ['111122223333', '444455556666'] })).toEqual([
      {
        path: 'targets.accounts[1]',
        message: 'account 444455556666 is both listed and excluded: remove it from one of accounts and exclude',
      },
    ]);
  });

  it('refuses unknown keys, and the whole config fails with the field path in its message', () => {
    // Assess
    expect(targetsIssues({ ...GOOD, role: 'R' })[0]?.path).toBe('targets');
    expect(() => parseConfig({ targets: { ...GOOD, accounts: ['1'] } })).toThrow(
      /^Invalid config: targets\.accounts\[0\]: an AWS account id: 12 digits$/,
    );
  });
});

describe('the ECR regions', () => {
  it('place each region in its partition', () => {
    // Assess
    expect(partitionOf('eu-west-1')).toBe('aws');
    expect(partitionOf('cn-northwest-1')).toBe('aws-cn');
    expect(partitionOf('us-gov-east-1')).toBe('aws-us-gov');
    expect(partitionOf('cn-south-9')).toBe('aws-cn');
    expect(ECR_REGIONS['aws-cn']).toEqual(['cn-north-1', 'cn-northwest-1']);
  });

  it('write a role behind a path without its leading slash', () => {
    // Assess
    expect(roleResourceName('/platform/ecr/EcrAutomation')).toBe('platform/ecr/EcrAutomation');
    expect(roleResourceName('EcrAutomation')).toBe('EcrAutomation');
  });
});
