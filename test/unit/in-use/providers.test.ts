import { Readable } from 'node:stream';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListServicesCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import {
  GetFunctionCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { InUseImage } from '../../../shared/domain/in-use.ts';
import { createEcsGateway } from '../../../shared/ecs/index.ts';
import { ecsProvider, kubernetesProvider, lambdaProvider } from '../../../shared/in-use/index.ts';
import { createLambdaGateway } from '../../../shared/lambda/index.ts';
import { createS3Gateway } from '../../../shared/s3/index.ts';
import { createSsmGateway } from '../../../shared/ssm/index.ts';

const ecs = mockClient(ECSClient);
const lambda = mockClient(LambdaClient);
const s3 = mockClient(S3Client);
const ssm = mockClient(SSMClient);
afterEach(() => {
  ecs.reset();
  lambda.reset();
  s3.reset();
  ssm.reset();
});

const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const signal = () => new AbortController().signal;
const brief = (images: InUseImage[]) =>
  images.map((i) => `${i.usedBy.provider} ${i.usedBy.where} ${i.repositoryName} ${i.tag ?? '-'} ${i.digest ?? '-'}`);

describe('the ECS provider', () => {
  it('keeps running and pending tasks by the digest they run, and services’ task definitions, tags resolved through their tasks', async () => {
    // Prepare
    ecs.on(ListClustersCommand).resolves({ clusterArns: ['arn:aws:ecs:eu-west-1:123456789012:cluster/prod'] });
    ecs
      .on(ListTasksCommand, { desiredStatus: 'RUNNING' })
      .resolves({ taskArns: ['arn:task/prod/t1', 'arn:task/prod/t2'] });
    ecs.on(ListTasksCommand, { desiredStatus: 'PENDING' }).resolves({ taskArns: ['arn:task/prod/t3'] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: 'arn:task/prod/t1',
          group: 'service:web',
          taskDefinitionArn: 'td-web:2',
          containers: [{ name: 'web', image: `${HOST}/web:latest`, imageDigest: digest('a') }],
        },
        {
          taskArn: 'arn:task/prod/t2',
          group: 'family:batch',
          taskDefinitionArn: 'td-batch:1',
          containers: [
            { name: 'job', image: `${HOST}/batch@${digest('b')}`, imageDigest: digest('b') },
            { name: 'sidecar', image: 'docker.io/library/envoy:1', imageDigest: digest('f') },
          ],
        },
        {
          taskArn: 'arn:task/prod/t3',
          group: 'service:web',
          taskDefinitionArn: 'td-web:2',
          containers: [{ name: 'web', image: `${HOST}/web:latest` }],
        },
      ],
    });
    ecs.on(ListServicesCommand).resolves({ serviceArns: ['arn:service/prod/web', 'arn:service/prod/api'] });
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          serviceArn: 'arn:service/prod/web',
          serviceName: 'web',
          status: 'ACTIVE',
          taskDefinition: 'td-web:2',
          deployments: [{ taskDefinition: 'td-web:2' }],
        },
        { serviceArn: 'arn:service/prod/api', serviceName: 'api', status: 'ACTIVE', taskDefinition: 'td-api:7' },
      ],
    });
    ecs
      .on(DescribeTaskDefinitionCommand, { taskDefinition: 'td-web:2' })
      .resolves({ taskDefinition: { containerDefinitions: [{ name: 'web', image: `${HOST}/web:latest` }] } });
    ecs
      .on(DescribeTaskDefinitionCommand, { taskDefinition: 'td-api:7' })
      .resolves({ taskDefinition: { containerDefinitions: [{ name: 'api', image: `${HOST}/api:v7` }] } });
    const gateway = createEcsGateway(new ECSClient({ region: 'eu-west-1' }));
    // Act
    const images = await ecsProvider(gateway, { clusters: 'all' }).gather(signal());
    // Assess
    expect(brief(images)).toEqual([
      `ecs prod/web web latest ${digest('a')}`,
      `ecs prod/task/t2 batch - ${digest('b')}`,
      'ecs prod/web web latest -',
      `ecs prod/web web latest ${digest('a')}`,
      'ecs prod/web web latest -',
      'ecs prod/api api v7 -',
    ]);
    expect(images[0]).toMatchObject({ registry: 'private', registryId: '123456789012', region: 'eu-west-1' });
    expect(gateway.callCounts()).toEqual({
      ListClusters: 1,
      ListTasks: 2,
      DescribeTasks: 1,
      ListServices: 1,
      DescribeServices: 1,
      DescribeTaskDefinition: 2,
    });
  });

  it('reads only the configured clusters, without ListClusters', async () => {
    // Prepare
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    ecs.on(ListServicesCommand).resolves({ serviceArns: [] });
    const gateway = createEcsGateway(new ECSClient({ region: 'eu-west-1' }));
    // Act
    const images = await ecsProvider(gateway, { clusters: ['a', 'b'] }).gather(signal());
    // Assess
    expect(images).toEqual([]);
    expect(ecs.commandCalls(ListClustersCommand)).toHaveLength(0);
    expect(ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input.cluster)).toEqual(['a', 'a', 'b', 'b']);
    expect(ecs.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });
});

describe('the Lambda provider', () => {
  it('keeps every version’s resolved digest and each alias’s versions, and skips zip functions', async () => {
    // Prepare
    lambda.on(ListFunctionsCommand).resolves({
      Functions: [
        { FunctionName: 'api', PackageType: 'Image' },
        { FunctionName: 'zip', PackageType: 'Zip' },
      ],
    });
    lambda.on(ListVersionsByFunctionCommand).resolves({
      Versions: [
        { FunctionName: 'api', Version: '$LATEST', PackageType: 'Image' },
        { FunctionName: 'api', Version: '1', PackageType: 'Image' },
      ],
    });
    lambda
      .on(GetFunctionCommand, { Qualifier: '$LATEST' })
      .resolves({ Code: { ImageUri: `${HOST}/api:main`, ResolvedImageUri: `${HOST}/api@${digest('c')}` } });
    lambda
      .on(GetFunctionCommand, { Qualifier: '1' })
      .resolves({ Code: { ImageUri: `${HOST}/api:main`, ResolvedImageUri: `${HOST}/api@${digest('d')}` } });
    lambda
      .on(GetFunctionCommand, { Qualifier: 'canary' })
      .resolves({ Code: { ImageUri: `${HOST}/api@${digest('e')}`, ResolvedImageUri: `${HOST}/api@${digest('e')}` } });
    lambda.on(ListAliasesCommand).resolves({
      Aliases: [
        { Name: 'live', FunctionVersion: '1' },
        { Name: 'canary', FunctionVersion: '2' },
      ],
    });
    const gateway = createLambdaGateway(new LambdaClient({ region: 'eu-west-1' }));
    // Act
    const images = await lambdaProvider(gateway, { functions: 'all' }).gather(signal());
    // Assess
    expect(brief(images)).toEqual([
      `lambda api:$LATEST api main ${digest('c')}`,
      `lambda api:1 api main ${digest('d')}`,
      `lambda api:live api main ${digest('d')}`,
      `lambda api:canary api - ${digest('e')}`,
    ]);
    expect(lambda.commandCalls(ListVersionsByFunctionCommand).map((c) => c.args[0].input.FunctionName)).toEqual([
      'api',
    ]);
    expect(gateway.callCounts()).toEqual({
      ListFunctions: 1,
      ListVersionsByFunction: 1,
      GetFunction: 3,
      ListAliases: 1,
    });
  });

  it('reads only the configured functions', async () => {
    // Prepare
    lambda.on(ListFunctionsCommand).resolves({ Functions: [{ FunctionName: 'other', PackageType: 'Image' }] });
    const gateway = createLambdaGateway(new LambdaClient({ region: 'eu-west-1' }));
    // Act
    const images = await lambdaProvider(gateway, { functions: ['api'] }).gather(signal());
    // Assess
    expect(images).toEqual([]);
    expect(lambda.commandCalls(ListVersionsByFunctionCommand)).toHaveLength(0);
  });
});

describe('the Kubernetes provider', () => {
  const list = {
    version: 1,
    cluster: 'eks-prod',
    images: [
      {
        namespace: 'shop',
        pod: 'web-1',
        image: `${HOST}/web:1.4`,
        imageID: `docker-pullable://${HOST}/web@${digest('a')}`,
      },
      { namespace: 'shop', pod: 'web-2', image: `${HOST}/web:1.4` },
      { namespace: 'kube-system', pod: 'coredns', image: 'registry.k8s.io/coredns:1.11' },
      { namespace: 'tools', pod: 'cli', image: 'public.ecr.aws/team/cli:2' },
    ],
  };

  it('reads the list from S3, bounded, and keeps each pod’s image by its imageID', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: Readable.from([Buffer.from(JSON.stringify(list))]) as never });
    const gateway = createS3Gateway(new S3Client({ region: 'eu-west-1' }));
    // Act
    const images = await kubernetesProvider({ s3: { bucket: 'b', key: 'k8s.json' }, gateway }).gather(signal());
    // Assess
    expect(brief(images)).toEqual([
      `k8s shop/web-1 web 1.4 ${digest('a')}`,
      'k8s shop/web-2 web 1.4 -',
      'k8s tools/cli cli 2 -',
    ]);
    expect(images[2]).toMatchObject({ registry: 'public', registryId: 'team' });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toMatchObject({ Range: 'bytes=0-8388608' });
  });

  it('reads the list from an SSM parameter and fails on an invalid one', async () => {
    // Prepare
    ssm
      .on(GetParameterCommand)
      .resolvesOnce({ Parameter: { Value: JSON.stringify(list) } })
      .resolvesOnce({ Parameter: { Value: JSON.stringify({ ...list, version: 9 }) } });
    const provider = kubernetesProvider({
      ssm: { parameter: '/eks/images' },
      gateway: createSsmGateway(new SSMClient({ region: 'eu-west-1' })),
    });
    // Act
    const images = await provider.gather(signal());
    const failure = await provider.gather(signal()).catch((e: unknown) => e);
    // Assess
    expect(images).toHaveLength(3);
    expect((failure as Error).message).toMatch(/not a valid version-1 list: version/);
  });

  it('fails on an object that is not UTF-8', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: Readable.from([Buffer.from([0xff, 0xfe, 0x00])]) as never });
    const gateway = createS3Gateway(new S3Client({ region: 'eu-west-1' }));
    // Act
    const failure = await kubernetesProvider({ s3: { bucket: 'b', key: 'k' }, gateway })
      .gather(signal())
      .catch((e: unknown) => e);
    // Assess
    expect(failure).toBeInstanceOf(Error);
  });
});
