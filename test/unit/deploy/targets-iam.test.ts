import { describe, expect, it } from 'vitest';
import { type IamStatement, serviceManifest } from '../../../service/manifest.ts';
import { parseConfig } from '../../../shared/config/load.ts';

const TARGETS = { organizationalUnits: ['ou-ab12-cdef3456'], regions: ['eu-west-1'], roleName: 'EcrAutomation' };
const CROSS_ACCOUNT = ['scheduledCleanup', 'cleanupRepository', 'scheduledCompliance', 'reconcileRegistry'];

const stsOf = (statements: readonly IamStatement[]) =>
  statements.filter((statement) => statement.Action.some((action) => action.startsWith('sts:')));

const manifestWith = (targets: unknown) =>
  serviceManifest(parseConfig({ cleanup: { rules: [{ repositories: ['**'] }] }, ...(targets ? { targets } : {}) }));

describe('the target role’s rights', () => {
  it('are none without targets, in every function', () => {
    // Prepare
    const manifest = manifestWith(undefined);
    // Assess
    for (const spec of Object.values(manifest)) expect(stsOf(spec.iam)).toEqual([]);
  });

  it('let the cleanup scheduler and worker, compliance and the reconcile assume the target role only', () => {
    // Prepare
    const manifest = manifestWith(TARGETS);
    // Act
    const byFunction = Object.fromEntries(Object.entries(manifest).map(([name, spec]) => [name, stsOf(spec.iam)]));
    // Assess
    for (const [name, statements] of Object.entries(byFunction)) {
      expect(statements, name).toEqual(
        CROSS_ACCOUNT.includes(name)
          ? [
              {
                Effect: 'Allow',
                Action: ['sts:AssumeRole'],
                Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/EcrAutomation` },
              },
            ]
          : [],
      );
    }
  });

  it('name the role behind its path, without the leading slash', () => {
    // Prepare
    const manifest = manifestWith({ ...TARGETS, roleName: '/platform/ecr/EcrAutomation' });
    // Assess
    expect(stsOf(manifest.reconcileRegistry.iam)).toEqual([
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole'],
        Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/platform/ecr/EcrAutomation` },
      },
    ]);
  });
});
