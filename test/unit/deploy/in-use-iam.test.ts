import { describe, expect, it } from 'vitest';
import { type IamStatement, serviceManifest } from '../../../service/manifest.ts';
import { parseConfig } from '../../../shared/config/load.ts';

const sub = (text: string) => ({ 'Fn::Sub': text });
const regional = (service: string, rest: string) =>
  sub(`arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`);

const IN_USE_SERVICES = /^(ecs|lambda|s3|ssm):/;
/** The statements on the providers' services, less the cleanup runs' reports in the service's own bucket. */
const inUseOf = (statements: readonly IamStatement[]) =>
  statements.filter(
    (statement) =>
      statement.Action.some((action) => IN_USE_SERVICES.test(action)) &&
      !JSON.stringify(statement.Resource).includes('ReportsBucket'),
  );

const manifestWith = (inUse: unknown) =>
  serviceManifest(parseConfig({ cleanup: { rules: [{ repositories: ['**'] }], ...(inUse ? { inUse } : {}) } }));

describe('the in-use providers’ rights', () => {
  it('are none when no provider is configured, in every function', () => {
    // Prepare
    const manifests = [manifestWith(undefined), manifestWith({ timeoutSeconds: 30 })];
    // Assess
    for (const manifest of manifests) {
      for (const spec of Object.values(manifest)) expect(inUseOf(spec.iam)).toEqual([]);
    }
  });

  it('let the cleanup worker read its repository’s URI (DescribeRepositories) only when a provider is configured', () => {
    // Prepare
    const actions = (inUse: unknown) =>
      manifestWith(inUse).cleanupRepository.iam.flatMap((statement) => statement.Action);
    // Assess
    expect(actions(undefined)).not.toContain('ecr:DescribeRepositories');
    expect(actions({ timeoutSeconds: 30 })).not.toContain('ecr:DescribeRepositories');
    expect(actions({ lambda: {} })).toContain('ecr:DescribeRepositories');
  });

  it('go to the cleanup worker only: exactly the reads of every cluster, every function and the S3 object', () => {
    // Prepare
    const manifest = manifestWith({
      ecs: {},
      lambda: {},
      kubernetes: { s3: { bucket: 'k8s-lists', key: 'eks/prod.json' } },
    });
    // Act
    const worker = inUseOf(manifest.cleanupRepository.iam);
    const others = Object.entries(manifest)
      .filter(([name]) => name !== 'cleanupRepository')
      .flatMap(([, spec]) => inUseOf(spec.iam));
    // Assess
    expect(others).toEqual([]);
    expect(worker).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'ecs:ListClusters',
          'ecs:ListServices',
          'ecs:DescribeServices',
          'ecs:ListTasks',
          'ecs:DescribeTasks',
          'ecs:DescribeTaskDefinition',
        ],
        Resource: '*',
      },
      { Effect: 'Allow', Action: ['lambda:ListFunctions'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['lambda:ListVersionsByFunction', 'lambda:ListAliases', 'lambda:GetFunction'],
        Resource: [regional('lambda', 'function:*')],
      },
      {
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: sub(`arn:\${AWS::Partition}:s3:::k8s-lists/eks/prod.json`),
      },
    ]);
  });

  it('scope named clusters and functions, and the SSM parameter, without ListClusters', () => {
    // Prepare
    const manifest = manifestWith({
      ecs: { clusters: ['prod', 'arn:aws:ecs:eu-west-1:123456789012:cluster/batch'] },
      lambda: { functions: ['api', 'arn:aws:lambda:eu-west-1:123456789012:function:worker:live'] },
      kubernetes: { ssm: { parameter: '/eks/prod/images' } },
    });
    // Act
    const worker = inUseOf(manifest.cleanupRepository.iam);
    const actions = worker.flatMap((statement) => statement.Action);
    // Assess
    expect(actions).not.toContain('ecs:ListClusters');
    expect(actions.filter((action) => !IN_USE_SERVICES.test(action))).toEqual([]);
    expect(worker).toContainEqual({
      Effect: 'Allow',
      Action: ['ecs:ListServices', 'ecs:ListTasks'],
      Resource: '*',
      Condition: { ArnEquals: { 'ecs:cluster': [regional('ecs', 'cluster/prod'), regional('ecs', 'cluster/batch')] } },
    });
    expect(worker).toContainEqual({
      Effect: 'Allow',
      Action: ['ecs:DescribeServices', 'ecs:DescribeTasks'],
      Resource: [
        regional('ecs', 'service/prod/*'),
        regional('ecs', 'task/prod/*'),
        regional('ecs', 'service/batch/*'),
        regional('ecs', 'task/batch/*'),
      ],
    });
    expect(worker).toContainEqual({
      Effect: 'Allow',
      Action: ['lambda:ListVersionsByFunction', 'lambda:ListAliases', 'lambda:GetFunction'],
      Resource: [
        regional('lambda', 'function:api'),
        regional('lambda', 'function:api:*'),
        regional('lambda', 'function:worker'),
        regional('lambda', 'function:worker:*'),
      ],
    });
    expect(worker).toContainEqual({
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: regional('ssm', 'parameter/eks/prod/images'),
    });
    expect(actions).not.toContain('s3:GetObject');
  });

  it('grant no write of any provider’s service', () => {
    // Prepare
    const manifest = manifestWith({ ecs: {}, lambda: {}, kubernetes: { s3: { bucket: 'b-1', key: 'k' } } });
    // Act
    const actions = inUseOf(manifest.cleanupRepository.iam).flatMap((statement) => statement.Action);
    // Assess
    expect(actions.filter((action) => !/:(List|Describe|Get)[A-Za-z]+$/.test(action))).toEqual([]);
  });
});
