import { Readable } from 'node:stream';
import {
  ClusterNotFoundException,
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
import { AccessDeniedError, EcrGatewayError, EcrUnavailableError, ThrottledError } from '../../../shared/ecr/index.ts';
import { createEcsGateway, MAX_SERVICES_PER_DESCRIBE, MAX_TASKS_PER_DESCRIBE } from '../../../shared/ecs/index.ts';
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

const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};

const ecsGateway = () => createEcsGateway(new ECSClient({ region: 'eu-west-1' }));
const lambdaGateway = () => createLambdaGateway(new LambdaClient({ region: 'eu-west-1' }));

/** Every command a mock received, by name: the gateways send nothing but their reads. */
const commandNames = (mock: { calls(): { args: [unknown, ...unknown[]] }[] }) =>
  new Set(mock.calls().map((call) => (call.args[0] as object).constructor.name));

describe('the ECS gateway', () => {
  it('pages clusters, services and tasks to the end with pages of 100', async () => {
    // Prepare
    ecs
      .on(ListClustersCommand)
      .resolvesOnce({ clusterArns: ['c1'], nextToken: 't1' })
      .resolvesOnce({ clusterArns: ['c2'] });
    ecs
      .on(ListServicesCommand)
      .resolvesOnce({ serviceArns: ['s1'], nextToken: 'n' })
      .resolvesOnce({ serviceArns: ['s2'] });
    ecs.on(ListTasksCommand).resolves({ taskArns: ['t1', 't2'] });
    const gateway = ecsGateway();
    // Act
    const clusters = await collect(gateway.listClusters());
    const services = await collect(gateway.listServices('c1'));
    const pending = await collect(gateway.listTasks('c1', 'PENDING'));
    // Assess
    expect(clusters).toEqual(['c1', 'c2']);
    expect(services).toEqual(['s1', 's2']);
    expect(pending).toEqual(['t1', 't2']);
    expect(ecs.commandCalls(ListClustersCommand).map((c) => c.args[0].input)).toEqual([
      { maxResults: 100, nextToken: undefined },
      { maxResults: 100, nextToken: 't1' },
    ]);
    expect(ecs.commandCalls(ListServicesCommand)[1]?.args[0].input).toEqual({
      cluster: 'c1',
      maxResults: 100,
      nextToken: 'n',
    });
    expect(ecs.commandCalls(ListTasksCommand)[0]?.args[0].input).toMatchObject({ desiredStatus: 'PENDING' });
    expect(gateway.callCounts()).toEqual({ ListClusters: 2, ListServices: 2, ListTasks: 1 });
  });

  it('stops a listing whose token repeats instead of looping', async () => {
    // Prepare
    ecs.on(ListClustersCommand).resolves({ clusterArns: ['c1'], nextToken: 'same' });
    // Act
    const clusters = await collect(ecsGateway().listClusters());
    // Assess
    expect(clusters).toEqual(['c1', 'c1']);
    expect(ecs.commandCalls(ListClustersCommand)).toHaveLength(2);
  });

  it('describes services 10 at a time and tasks 100 at a time, with every task definition a service runs', async () => {
    // Prepare
    const serviceArns = Array.from({ length: 23 }, (_, i) => `svc-${i}`);
    const taskArns = Array.from({ length: 250 }, (_, i) => `task-${i}`);
    ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({
      services: input.services.map((arn) => ({
        serviceArn: arn,
        serviceName: arn,
        status: 'ACTIVE',
        taskDefinition: 'td:2',
        deployments: [{ taskDefinition: 'td:2' }, { taskDefinition: 'td:1' }],
      })),
      failures: [{ arn: 'gone', reason: 'MISSING' }],
    }));
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
      tasks: input.tasks.map((arn) => ({
        taskArn: arn,
        group: 'service:web',
        containers: [{ name: 'app', image: 'repo:latest', imageDigest: 'sha256:abc' }, { name: 'no-image' }],
      })),
    }));
    const gateway = ecsGateway();
    // Act
    const services = await gateway.describeServices('prod', serviceArns);
    const tasks = await gateway.describeTasks('prod', taskArns);
    // Assess
    expect(ecs.commandCalls(DescribeServicesCommand).map((c) => (c.args[0].input.services ?? []).length)).toEqual([
      MAX_SERVICES_PER_DESCRIBE,
      MAX_SERVICES_PER_DESCRIBE,
      3,
    ]);
    expect(ecs.commandCalls(DescribeTasksCommand).map((c) => (c.args[0].input.tasks ?? []).length)).toEqual([
      MAX_TASKS_PER_DESCRIBE,
      MAX_TASKS_PER_DESCRIBE,
      50,
    ]);
    expect(services.services).toHaveLength(23);
    expect(services.services[0]).toEqual({
      serviceArn: 'svc-0',
      serviceName: 'svc-0',
      clusterArn: 'prod',
      status: 'ACTIVE',
      taskDefinitions: ['td:2', 'td:1'],
    });
    expect(services.failures).toContainEqual({ arn: 'gone', reason: 'MISSING' });
    expect(tasks.tasks).toHaveLength(250);
    expect(tasks.tasks[0]?.containers).toEqual([{ name: 'app', image: 'repo:latest', imageDigest: 'sha256:abc' }]);
  });

  it('reads a task definition’s container images', async () => {
    // Prepare
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: 'arn:td:1',
        containerDefinitions: [{ name: 'a', image: 'repo:1' }, { name: 'b' }],
      },
    });
    // Act
    const definition = await ecsGateway().describeTaskDefinition('td:1');
    // Assess
    expect(definition).toEqual({ taskDefinitionArn: 'arn:td:1', containers: [{ name: 'a', image: 'repo:1' }] });
  });

  it('maps errors into the gateway error tree, naming the service, the operation and the cluster', async () => {
    // Prepare
    ecs.on(ListTasksCommand).rejects(new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} }));
    ecs.on(ListClustersCommand).rejects({ name: 'AccessDeniedException', message: 'no', $metadata: {} });
    ecs.on(ListServicesCommand).rejects({ name: 'ThrottlingException', message: 'slow', $metadata: {} });
    ecs.on(DescribeTasksCommand).rejects({ name: 'ServerException', message: 'boom', $metadata: {} });
    const gateway = ecsGateway();
    // Act
    const notFound = await collect(gateway.listTasks('prod', 'RUNNING')).catch((e: unknown) => e);
    const denied = await collect(gateway.listClusters()).catch((e: unknown) => e);
    const throttled = await collect(gateway.listServices('prod')).catch((e: unknown) => e);
    const unavailable = await gateway.describeTasks('prod', ['t']).catch((e: unknown) => e);
    // Assess
    expect(notFound).toBeInstanceOf(EcrGatewayError);
    expect((notFound as Error).message).toMatch(
      /^ECS ListTasks on 'prod': ClusterNotFoundException: Cluster not found/,
    );
    expect(denied).toBeInstanceOf(AccessDeniedError);
    expect(throttled).toBeInstanceOf(ThrottledError);
    expect(unavailable).toBeInstanceOf(EcrUnavailableError);
  });
});

describe('the Lambda gateway', () => {
  it('pages functions, versions and aliases by marker with pages of 50', async () => {
    // Prepare
    lambda
      .on(ListFunctionsCommand)
      .resolvesOnce({
        Functions: [{ FunctionName: 'a', PackageType: 'Image', Version: '$LATEST' }, {}],
        NextMarker: 'm',
      })
      .resolvesOnce({ Functions: [{ FunctionName: 'b', PackageType: 'Zip' }] });
    lambda.on(ListVersionsByFunctionCommand).resolves({
      Versions: [
        { FunctionName: 'a', Version: '$LATEST', PackageType: 'Image' },
        { FunctionName: 'a', Version: '1', PackageType: 'Image' },
      ],
    });
    lambda.on(ListAliasesCommand).resolves({
      Aliases: [{ Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }],
    });
    const gateway = lambdaGateway();
    // Act
    const functions = await collect(gateway.listFunctions());
    const versions = await collect(gateway.listVersions('a'));
    const aliases = await collect(gateway.listAliases('a'));
    // Assess
    expect(functions).toEqual([
      { functionName: 'a', packageType: 'Image', version: '$LATEST' },
      { functionName: 'b', packageType: 'Zip', version: '$LATEST' },
    ]);
    expect(lambda.commandCalls(ListFunctionsCommand).map((c) => c.args[0].input)).toEqual([
      { Marker: undefined, MaxItems: 50 },
      { Marker: 'm', MaxItems: 50 },
    ]);
    expect(versions.map((v) => v.version)).toEqual(['$LATEST', '1']);
    expect(lambda.commandCalls(ListVersionsByFunctionCommand)[0]?.args[0].input).toEqual({
      FunctionName: 'a',
      Marker: undefined,
      MaxItems: 50,
    });
    expect(aliases).toEqual([{ name: 'live', functionVersion: '1', additionalVersions: ['2'] }]);
    expect(gateway.callCounts()).toEqual({ ListFunctions: 2, ListVersionsByFunction: 1, ListAliases: 1 });
  });

  it('reads a version’s image and its resolved digest with GetFunction and a qualifier', async () => {
    // Prepare
    lambda.on(GetFunctionCommand).resolves({
      Configuration: { FunctionName: 'a', Version: '3', PackageType: 'Image' },
      Code: { ImageUri: 'repo:latest', ResolvedImageUri: 'repo@sha256:abc' },
    });
    // Act
    const code = await lambdaGateway().getFunction('a', '3');
    // Assess
    expect(code).toEqual({
      functionName: 'a',
      version: '3',
      packageType: 'Image',
      imageUri: 'repo:latest',
      resolvedImageUri: 'repo@sha256:abc',
    });
    expect(lambda.commandCalls(GetFunctionCommand)[0]?.args[0].input).toEqual({ FunctionName: 'a', Qualifier: '3' });
  });

  it('maps Lambda’s errors (its 500 is ServiceException) and sends only reads', async () => {
    // Prepare
    lambda.on(GetFunctionCommand).rejects({ name: 'ServiceException', message: 'oops', $metadata: {} });
    lambda.on(ListFunctionsCommand).rejects({ name: 'TooManyRequestsException', message: 'slow', $metadata: {} });
    const gateway = lambdaGateway();
    // Act
    const unavailable = await gateway.getFunction('a', 'live').catch((e: unknown) => e);
    const throttled = await collect(gateway.listFunctions()).catch((e: unknown) => e);
    // Assess
    expect(unavailable).toBeInstanceOf(EcrUnavailableError);
    expect((unavailable as Error).message).toMatch(/^Lambda GetFunction on 'a:live': ServiceException/);
    expect(throttled).toBeInstanceOf(ThrottledError);
    expect([...commandNames(lambda)].sort()).toEqual(['GetFunctionCommand', 'ListFunctionsCommand']);
  });
});

describe('the S3 gateway', () => {
  /** A streamed body, as the SDK's Node handler gives it (an async-iterable Readable). */
  const stream = (...chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c))) as never;

  it('reads an object within its bound, asking for one byte past it', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: stream('{"a":', '1}') });
    const gateway = createS3Gateway(new S3Client({ region: 'eu-west-1' }));
    // Act
    const bytes = await gateway.getObject('bucket', 'k8s/images.json', { maxBytes: 1000 });
    // Assess
    expect(new TextDecoder().decode(bytes)).toBe('{"a":1}');
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'bucket',
      Key: 'k8s/images.json',
      Range: 'bytes=0-1000',
    });
    expect(gateway.callCounts()).toEqual({ GetObject: 1 });
  });

  it('refuses an object past its bound, whatever its declared length', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: stream('x'.repeat(600), 'y'.repeat(600)) });
    const gateway = createS3Gateway(new S3Client({ region: 'eu-west-1' }));
    // Act
    const error = await gateway.getObject('bucket', 'key', { maxBytes: 1000 }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(EcrGatewayError);
    expect((error as EcrGatewayError).code).toBe('ObjectTooLarge');
  });

  it('maps a missing object and a denied read', async () => {
    // Prepare
    s3.on(GetObjectCommand)
      .rejectsOnce({ name: 'NoSuchKey', message: 'none', $metadata: { httpStatusCode: 404 } })
      .rejectsOnce({ name: 'AccessDenied', message: 'no', $metadata: { httpStatusCode: 403 } });
    const gateway = createS3Gateway(new S3Client({ region: 'eu-west-1' }));
    // Act
    const missing = await gateway.getObject('b', 'k', { maxBytes: 10 }).catch((e: unknown) => e);
    const denied = await gateway.getObject('b', 'k', { maxBytes: 10 }).catch((e: unknown) => e);
    // Assess
    expect((missing as EcrGatewayError).code).toBe('NoSuchKey');
    expect((missing as Error).message).toMatch(/^S3 GetObject on 's3:\/\/b\/k': NoSuchKey/);
    expect(denied).toBeInstanceOf(AccessDeniedError);
  });
});

describe('the SSM gateway', () => {
  it('reads a parameter without decryption and maps a missing one', async () => {
    // Prepare
    ssm
      .on(GetParameterCommand)
      .resolvesOnce({ Parameter: { Name: '/k8s/images', Value: '{}' } })
      .rejectsOnce({ name: 'ParameterNotFound', message: 'none', $metadata: { httpStatusCode: 400 } });
    const gateway = createSsmGateway(new SSMClient({ region: 'eu-west-1' }));
    // Act
    const value = await gateway.getParameter('/k8s/images');
    const missing = await gateway.getParameter('/k8s/other').catch((e: unknown) => e);
    // Assess
    expect(value).toBe('{}');
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({
      Name: '/k8s/images',
      WithDecryption: false,
    });
    expect((missing as EcrGatewayError).code).toBe('ParameterNotFound');
    expect(gateway.callCounts()).toEqual({ GetParameter: 2 });
  });
});
