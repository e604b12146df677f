import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListServicesCommand,
  ListTasksCommand,
  paginateListClusters,
  paginateListTasks,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { control, failureOf, startTestRegistry, TEST_ACCOUNT, TEST_REGION } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const HOST = `${TEST_ACCOUNT}.dkr.ecr.${TEST_REGION}.amazonaws.com`;
const DIGEST = `sha256:${'ab'.repeat(32)}`;

function ecsClient(server: RegistryServer, options: { account?: string; region?: string } = {}) {
  return new ECSClient({
    endpoint: server.url,
    region: options.region ?? TEST_REGION,
    credentials: { accessKeyId: options.account ?? TEST_ACCOUNT, secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  });
}

async function rawEcs(server: RegistryServer, operation: string, body: string) {
  const response = await fetch(`${server.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonEC2ContainerServiceV20141113.${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=${TEST_ACCOUNT}/20261124/${TEST_REGION}/ecs/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const FIXTURE = {
  account: TEST_ACCOUNT,
  region: TEST_REGION,
  resolve: true,
  repositories: [
    {
      name: 'api',
      images: [
        { id: 'v1', tags: ['v1'] },
        { id: 'v2', tags: ['v2'] },
      ],
    },
  ],
  ecs: {
    taskDefinitions: [
      { family: 'api', containers: [{ name: 'app', image: `${HOST}/api:v1` }] },
      { family: 'api', containers: [{ name: 'app', image: `${HOST}/api:v2` }] },
      { family: 'batch', revision: 7, containers: [{ name: 'job', image: `${HOST}/api@${DIGEST}` }] },
    ],
    clusters: [
      {
        name: 'prod',
        services: [
          { name: 'api', taskDefinition: 'api:2', desiredCount: 2 },
          { name: 'old', taskDefinition: 'api:1', desiredCount: 0, runningCount: 0 },
        ],
        tasks: [
          { id: 'a1', service: 'api' },
          { id: 'a2', service: 'api', lastStatus: 'PENDING' },
          { id: 's1', service: 'old', lastStatus: 'STOPPED', stoppedAt: '-1h' },
          { id: 'b1', taskDefinition: 'batch:7', launchType: 'EC2' },
        ],
      },
      { name: 'default' },
      ...Array.from({ length: 12 }, (_, i) => ({ name: `c${String(i).padStart(2, '0')}` })),
    ],
  },
};

describe('ECS over JSON 1.1', () => {
  let server: RegistryServer;
  let ecs: ECSClient;
  let v1: string;
  let v2: string;
  beforeAll(async () => {
    server = await startTestRegistry();
    ecs = ecsClient(server);
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    await control(server, 'reset', {});
    const loaded = await control<{ images: { id: string; imageDigest: string }[]; workloads: unknown }>(
      server,
      'load',
      FIXTURE,
    );
    expect(loaded.workloads).toEqual({ clusters: 14, taskDefinitions: 3, functions: 0 });
    v1 = loaded.images.find((image) => image.id === 'v1')?.imageDigest as string;
    v2 = loaded.images.find((image) => image.id === 'v2')?.imageDigest as string;
  });

  it('lists clusters with paging up to 100 and rejects maxResults outside 1..100', async () => {
    const first = await ecs.send(new ListClustersCommand({ maxResults: 5 }));
    expect(first.clusterArns).toEqual(
      ['prod', 'default', 'c00', 'c01', 'c02'].map(
        (name) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:cluster/${name}`,
      ),
    );
    expect(first.nextToken).toBeDefined();
    const all: string[] = [];
    for await (const page of paginateListClusters({ client: ecs, pageSize: 4 }, {}))
      all.push(...(page.clusterArns ?? []));
    expect(all).toHaveLength(14);
    for (const maxResults of [0, 101]) {
      const error = await failureOf(ecs.send(new ListClustersCommand({ maxResults })));
      expect(error).toMatchObject({ name: 'InvalidParameterException' });
    }
    expect(await failureOf(ecs.send(new ListClustersCommand({ nextToken: 'bogus' })))).toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  it('is per account and region', async () => {
    const other = ecsClient(server, { account: '210987654321' });
    expect((await other.send(new ListClustersCommand({}))).clusterArns).toEqual([]);
    const west = ecsClient(server, { region: 'eu-west-1' });
    expect(await failureOf(west.send(new ListServicesCommand({ cluster: 'prod' })))).toMatchObject({
      name: 'ClusterNotFoundException',
    });
  });

  it('lists and describes services with their task definition and deployments', async () => {
    const listed = await ecs.send(new ListServicesCommand({ cluster: 'prod' }));
    expect(listed.serviceArns).toEqual([
      `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:service/prod/api`,
      `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:service/prod/old`,
    ]);
    const paged = await ecs.send(new ListServicesCommand({ cluster: 'prod', maxResults: 1 }));
    expect(paged.serviceArns).toHaveLength(1);
    const next = await ecs.send(
      new ListServicesCommand({ cluster: 'prod', maxResults: 1, nextToken: paged.nextToken }),
    );
    expect(next.serviceArns?.[0]).toMatch(/service\/prod\/old$/);
    expect(next.nextToken).toBeUndefined();

    const described = await ecs.send(
      new DescribeServicesCommand({
        cluster: `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:cluster/prod`,
        services: ['api', listed.serviceArns?.[1] as string, 'ghost'],
      }),
    );
    expect(described.services?.map((service) => service.serviceName)).toEqual(['api', 'old']);
    const api = described.services?.[0];
    expect(api).toMatchObject({
      status: 'ACTIVE',
      desiredCount: 2,
      runningCount: 2,
      taskDefinition: `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task-definition/api:2`,
      deployments: [
        { status: 'PRIMARY', taskDefinition: `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task-definition/api:2` },
      ],
    });
    expect(api?.createdAt).toBeInstanceOf(Date);
    expect(described.failures).toEqual([
      { arn: `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:service/prod/ghost`, reason: 'MISSING' },
    ]);
    const tooMany = await failureOf(
      ecs.send(
        new DescribeServicesCommand({ cluster: 'prod', services: Array.from({ length: 11 }, (_, i) => `s${i}`) }),
      ),
    );
    expect(tooMany).toMatchObject({ name: 'InvalidParameterException' });
    const elsewhere = await failureOf(
      ecs.send(
        new DescribeServicesCommand({
          cluster: `arn:aws:ecs:${TEST_REGION}:210987654321:cluster/prod`,
          services: ['api'],
        }),
      ),
    );
    expect(elsewhere).toMatchObject({ name: 'ClusterNotFoundException' });
    expect(
      await failureOf(ecs.send(new DescribeServicesCommand({ cluster: 'nope', services: ['api'] }))),
    ).toMatchObject({
      name: 'ClusterNotFoundException',
    });
  });

  it('lists tasks by desired status, service and family, and rejects a missing service', async () => {
    const ids = async (input: Record<string, unknown>) =>
      ((await ecs.send(new ListTasksCommand({ cluster: 'prod', ...input }))).taskArns ?? []).map((arn) =>
        arn.split('/').pop(),
      );
    expect(await ids({})).toEqual(['a1', 'a2', 'b1']);
    expect(await ids({ desiredStatus: 'RUNNING' })).toEqual(['a1', 'a2', 'b1']);
    expect(await ids({ desiredStatus: 'STOPPED' })).toEqual(['s1']);
    expect(await ids({ desiredStatus: 'PENDING' })).toEqual([]);
    expect(await ids({ serviceName: 'api' })).toEqual(['a1', 'a2']);
    expect(await ids({ family: 'batch' })).toEqual(['b1']);
    expect(await ids({ launchType: 'EC2' })).toEqual(['b1']);
    const pages: string[][] = [];
    for await (const page of paginateListTasks({ client: ecs, pageSize: 2 }, { cluster: 'prod' })) {
      pages.push(page.taskArns ?? []);
    }
    expect(pages.map((page) => page.length)).toEqual([2, 1]);
    expect(await failureOf(ecs.send(new ListTasksCommand({ cluster: 'prod', serviceName: 'ghost' })))).toMatchObject({
      name: 'ServiceNotFoundException',
    });
    expect(await failureOf(ecs.send(new ListTasksCommand({ maxResults: 101 })))).toMatchObject({
      name: 'InvalidParameterException',
    });
    expect(await failureOf(ecs.send(new ListTasksCommand({ cluster: 'nope' })))).toMatchObject({
      name: 'ClusterNotFoundException',
    });
    for (const input of [
      { family: 'api', serviceName: 'api' },
      { startedBy: 'someone', family: 'api' },
      { family: 'api:1' },
    ]) {
      expect(await failureOf(ecs.send(new ListTasksCommand({ cluster: 'prod', ...input })))).toMatchObject({
        name: 'InvalidParameterException',
      });
    }
    // No `cluster`: the default cluster.
    expect((await ecs.send(new ListTasksCommand({}))).taskArns).toEqual([]);
  });

  it('describes tasks with their containers image and resolved digest', async () => {
    const described = await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: ['a1', 's1', 'b1', 'zz'] }));
    expect(described.tasks?.map((task) => [task.lastStatus, task.desiredStatus])).toEqual([
      ['RUNNING', 'RUNNING'],
      ['STOPPED', 'STOPPED'],
      ['RUNNING', 'RUNNING'],
    ]);
    expect(described.tasks?.[0]?.containers?.[0]).toMatchObject({
      name: 'app',
      image: `${HOST}/api:v2`,
      imageDigest: v2,
    });
    expect(described.tasks?.[1]?.containers?.[0]).toMatchObject({ image: `${HOST}/api:v1`, imageDigest: v1 });
    expect(described.tasks?.[2]?.containers?.[0]).toMatchObject({
      image: `${HOST}/api@${DIGEST}`,
      imageDigest: DIGEST,
    });
    expect(described.tasks?.[0]).toMatchObject({
      group: 'service:api',
      taskDefinitionArn: `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task-definition/api:2`,
    });
    expect(described.tasks?.[1]?.stoppedAt).toBeInstanceOf(Date);
    expect(described.failures).toEqual([
      { arn: `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task/prod/zz`, reason: 'MISSING' },
    ]);
    const tooMany = await failureOf(
      ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: Array.from({ length: 101 }, (_, i) => `t${i}`) })),
    );
    expect(tooMany).toMatchObject({ name: 'InvalidParameterException' });
  });

  it('describes task definitions by family, family:revision and ARN', async () => {
    const latest = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'api' }));
    expect(latest.taskDefinition).toMatchObject({
      family: 'api',
      revision: 2,
      status: 'ACTIVE',
      containerDefinitions: [{ name: 'app', image: `${HOST}/api:v2` }],
    });
    const first = await ecs.send(
      new DescribeTaskDefinitionCommand({
        taskDefinition: `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task-definition/api:1`,
      }),
    );
    expect(first.taskDefinition?.containerDefinitions?.[0]?.image).toBe(`${HOST}/api:v1`);
    expect(await failureOf(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'api:9' })))).toMatchObject({
      name: 'ClientException',
    });
    expect(await failureOf(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'api:x' })))).toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  it('counts calls as ecs:<Op> and injects faults by that name', async () => {
    await control(server, 'faults', { operation: 'ecs:ListTasks', throttleRate: 1 });
    expect(await failureOf(ecs.send(new ListTasksCommand({ cluster: 'prod' })))).toMatchObject({
      name: 'ThrottlingException',
    });
    await control(server, 'faults', { operation: 'ecs:ListTasks', serverErrorRate: 1 });
    expect(await failureOf(ecs.send(new ListTasksCommand({ cluster: 'prod' })))).toMatchObject({
      name: 'ServerException',
      $metadata: { httpStatusCode: 500 },
    });
    await ecs.send(new ListClustersCommand({}));
    const calls = await control<{ operations: Record<string, number> }>(server, 'calls');
    expect(calls.operations).toMatchObject({ 'ecs:ListTasks': 2, 'ecs:ListClusters': 1 });
  });

  it('answers hostile input with its own error shape and changes nothing', async () => {
    const before = JSON.stringify([...server.registry.workloads.all()]);
    expect(await rawEcs(server, 'ListClusters', '{not json')).toMatchObject({
      status: 400,
      body: { __type: 'SerializationException' },
    });
    expect(await rawEcs(server, 'ListClusters', '[]')).toMatchObject({ body: { __type: 'SerializationException' } });
    expect(await rawEcs(server, 'ListClusters', '{"maxResults":"5"}')).toMatchObject({
      body: { __type: 'SerializationException' },
    });
    expect(await rawEcs(server, 'ListClusters', '{"maxResults":1e9}')).toMatchObject({
      body: { __type: 'InvalidParameterException' },
    });
    expect(await rawEcs(server, 'DescribeTasks', '{"cluster":"prod","tasks":"a1"}')).toMatchObject({
      body: { __type: 'SerializationException' },
    });
    expect(await rawEcs(server, 'DescribeTasks', '{"cluster":"prod","tasks":[1]}')).toMatchObject({
      body: { __type: 'SerializationException' },
    });
    const huge = JSON.stringify({ cluster: 'prod', services: Array.from({ length: 100_000 }, (_, i) => `s${i}`) });
    expect(await rawEcs(server, 'DescribeServices', huge)).toMatchObject({
      body: { __type: 'InvalidParameterException' },
    });
    expect(await rawEcs(server, 'ListTasks', '{"cluster":{"a":1}}')).toMatchObject({
      body: { __type: 'SerializationException' },
    });
    expect(await rawEcs(server, 'RunTask', '{}')).toMatchObject({ body: { __type: 'UnknownOperationException' } });
    expect(JSON.stringify([...server.registry.workloads.all()])).toBe(before);
  });

  it('refuses a bad fixture whole', async () => {
    const bad = (ecs: unknown) => control(server, 'load', { repositories: [{ name: 'extra' }], ecs });
    await expect(
      bad({ clusters: [{ name: 'x', services: [{ name: 's', taskDefinition: 'nope:1' }] }] }),
    ).rejects.toThrow(/no task definition nope:1/);
    await expect(
      control(server, 'load', {
        resolve: true,
        repositories: [],
        ecs: {
          taskDefinitions: [{ family: 'z', containers: [{ name: 'a', image: `${HOST}/api:missing` }] }],
          clusters: [{ name: 'z', tasks: [{ taskDefinition: 'z:1' }] }],
        },
      }),
    ).rejects.toThrow(/Cannot resolve/);
    await expect(bad({ clusters: [{ name: 'prod' }] })).rejects.toThrow(/already exists/);
    expect(server.registry.existing(TEST_ACCOUNT, TEST_REGION)?.repositories.has('extra')).toBe(false);
    expect((await ecs.send(new ListClustersCommand({}))).clusterArns).toHaveLength(14);
  });
});
