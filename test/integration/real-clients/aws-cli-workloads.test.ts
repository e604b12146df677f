import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI, boto3, requireRealClients, run } from '../../helpers/real-clients.ts';
import { control, startTestRegistry } from '../../helpers/registry.ts';

const DIGEST = `sha256:${'1f'.repeat(32)}`;

/** The Debian AWS CLI's `ecs` and `lambda` commands and boto3 against the workloads a fixture declares. */
describe('AWS CLI v2 ecs and lambda commands against the local registry', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  const aws = (service: string, args: string[]) =>
    run(AWS_CLI, [service, ...args, '--region', 'us-east-1', '--endpoint-url', server.url, '--output', 'json']);

  beforeAll(async () => {
    requireRealClients();
    server = await startTestRegistry();
    await control(server, 'load', {
      region: 'us-east-1',
      repositories: [],
      ecs: {
        taskDefinitions: [{ family: 'app', containers: [{ name: 'app', image: `example/app@${DIGEST}` }] }],
        clusters: [{ name: 'one', tasks: [{ id: 'task1', taskDefinition: 'app:1' }] }, { name: 'two' }],
      },
      lambda: { functions: [{ name: 'fn', imageUri: `example/app@${DIGEST}` }] },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lists clusters, pages through them, and describes a task', async () => {
    const listed = await aws('ecs', ['list-clusters']);
    expect(listed, listed.stderr).toMatchObject({ code: 0 });
    expect((JSON.parse(listed.stdout) as { clusterArns: string[] }).clusterArns).toHaveLength(2);
    const paged = await aws('ecs', ['list-clusters', '--page-size', '1']);
    expect((JSON.parse(paged.stdout) as { clusterArns: string[] }).clusterArns).toHaveLength(2);
    const tasks = await aws('ecs', ['describe-tasks', '--cluster', 'one', '--tasks', 'task1']);
    expect(tasks, tasks.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(tasks.stdout)).toMatchObject({ tasks: [{ containers: [{ imageDigest: DIGEST }] }] });
    const missing = await aws('ecs', ['list-services', '--cluster', 'three']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('ClusterNotFoundException');
  });

  it('lists functions and gets one with its resolved image', async () => {
    const listed = await aws('lambda', ['list-functions']);
    expect(listed, listed.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(listed.stdout)).toMatchObject({ Functions: [{ FunctionName: 'fn', PackageType: 'Image' }] });
    const got = await aws('lambda', ['get-function', '--function-name', 'fn']);
    expect(JSON.parse(got.stdout)).toMatchObject({ Code: { ResolvedImageUri: `example/app@${DIGEST}` } });
    const missing = await aws('lambda', ['get-function', '--function-name', 'ghost']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('ResourceNotFoundException');
  });

  it('boto3 pages ECS tasks and reads a Lambda error as ResourceNotFoundException', async () => {
    const result = await boto3(
      server.url,
      `
import boto3
ecs = boto3.client('ecs', endpoint_url=ENDPOINT, region_name='us-east-1')
arns = [a for page in ecs.get_paginator('list_tasks').paginate(cluster='one', PaginationConfig={'PageSize': 1}) for a in page['taskArns']]
tasks = ecs.describe_tasks(cluster='one', tasks=arns)['tasks']
lam = boto3.client('lambda', endpoint_url=ENDPOINT, region_name='us-east-1')
try:
    lam.get_function(FunctionName='ghost')
    missing = 'found'
except lam.exceptions.ResourceNotFoundException as error:
    missing = error.response['Error']['Code']
print(len(arns), tasks[0]['containers'][0]['imageDigest'], missing)
`,
    );
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: `1 ${DIGEST} ResourceNotFoundException\n` });
  });
});
