import { describe, expect, it } from 'vitest';
import { serviceManifest } from '../../../service/manifest.ts';
import { parseConfig } from '../../../shared/config/load.ts';

const sub = (text: string) => ({ 'Fn::Sub': text });
const repository = (name: string) =>
  sub(`arn:\${AWS::Partition}:ecr:\${AWS::Region}:\${AWS::AccountId}:repository/${name}`);

const workerStatements = (cleanup: unknown) =>
  serviceManifest(parseConfig({ cleanup })).cleanupRepository.iam.filter((statement) =>
    statement.Action.some((action) => action.startsWith('ecr:')),
  );

describe('the cleanup worker’s ECR rights', () => {
  it('read and delete only in the repositories the private rules match', () => {
    // Act
    const statements = workerStatements({
      rules: [
        { repositories: ['team/**'] },
        { repositories: ['sandbox/*'], enabled: false },
        { registry: 'public', repositories: ['tools/**'] },
      ],
    });
    // Assess: the disabled rule and the public rule grant nothing here (ECR Public has its own statements)
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['ecr:DescribeImages', 'ecr:BatchGetImage'], Resource: [repository('team/*')] },
      { Effect: 'Allow', Action: ['ecr:BatchDeleteImage'], Resource: [repository('team/*')] },
    ]);
  });

  it('delete nothing in dry run, and read the repository’s URI only with in-use providers', () => {
    // Act
    const dry = workerStatements({ dryRun: true, rules: [{ repositories: ['**'] }], inUse: { ecs: {} } });
    // Assess
    expect(dry.flatMap((statement) => statement.Action)).toEqual([
      'ecr:DescribeImages',
      'ecr:BatchGetImage',
      'ecr:DescribeRepositories',
    ]);
    expect(dry[0]?.Resource).toEqual([repository('*')]);
  });

  it('archive only in the repositories whose rules archive, and never in dry run', () => {
    // Act
    const rules = [
      { repositories: ['team/**'], action: 'archive' },
      { repositories: ['tools/*'] },
      { repositories: ['sandbox/*'], action: 'archive', enabled: false },
    ];
    const statements = workerStatements({ rules });
    const inherited = workerStatements({ defaults: { action: 'archive' }, rules: [{ repositories: ['apps/*'] }] });
    const dry = workerStatements({ dryRun: true, rules });
    // Assess
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['ecr:UpdateImageStorageClass'],
      Resource: [repository('team/*')],
    });
    expect(statements.filter((statement) => statement.Action.includes('ecr:UpdateImageStorageClass'))).toHaveLength(1);
    expect(inherited).toContainEqual({
      Effect: 'Allow',
      Action: ['ecr:UpdateImageStorageClass'],
      Resource: [repository('apps/*')],
    });
    expect(dry.flatMap((statement) => statement.Action)).not.toContain('ecr:UpdateImageStorageClass');
  });

  it('have no ECR rights when no private rule is enabled', () => {
    // Assess
    expect(workerStatements({ rules: [{ registry: 'public', repositories: ['**'] }] })).toEqual([]);
  });
});
