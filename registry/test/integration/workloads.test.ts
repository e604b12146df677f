import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { DescribeTasksCommand, ECSClient, ListClustersCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { demoFixture } from '../../src/control/demo.ts';
import { DEFAULT_ACCOUNT, DEFAULT_REGION } from '../../src/model/state.ts';
import { control, ecrClient, startTestRegistry } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const clients = (server: RegistryServer) => {
  const options = {
    endpoint: server.url,
    region: DEFAULT_REGION,
    credentials: { accessKeyId: DEFAULT_ACCOUNT, secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  };
  return { ecs: new ECSClient(options), lambda: new LambdaClient(options) };
};

describe('workloads: the demo and the data directory', () => {
  const servers: RegistryServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('the demo runs a service pinned to an old, never pulled, untagged digest, and an alias on a pr- build', async () => {
    const server = await startTestRegistry();
    servers.push(server);
    const loaded = await control<{ images: { repositoryName: string; id: string; imageDigest: string }[] }>(
      server,
      'load',
      demoFixture(),
    );
    const digestOf = (repository: string, id: string) =>
      loaded.images.find((image) => image.repositoryName === repository && image.id === id)?.imageDigest;
    const { ecs, lambda } = clients(server);
    const taskArns = (await ecs.send(new ListTasksCommand({ cluster: 'demo', serviceName: 'payments-api' }))).taskArns;
    expect(taskArns).toHaveLength(1);
    const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: 'demo', tasks: taskArns }));
    const pinned = tasks[0]?.containers?.[0]?.imageDigest;
    expect(pinned).toBe(digestOf('payments/api', 'stale-2'));
    const { imageDetails = [] } = await ecrClient(server, { account: DEFAULT_ACCOUNT }).send(
      new DescribeImagesCommand({ repositoryName: 'payments/api', imageIds: [{ imageDigest: pinned as string }] }),
    );
    expect(imageDetails[0]?.imageTags).toBeUndefined();
    expect(imageDetails[0]?.lastRecordedPullTime).toBeUndefined();
    expect(imageDetails[0]?.imagePushedAt?.getTime()).toBeLessThan(Date.now() - 100 * 86_400_000);

    const preview = await lambda.send(new GetFunctionCommand({ FunctionName: 'web-frontend', Qualifier: 'preview' }));
    expect(preview.Code?.ImageUri).toMatch(/\/web\/frontend:pr-42$/);
    expect(preview.Code?.ResolvedImageUri).toMatch(
      new RegExp(`/web/frontend@${digestOf('web/frontend', 'fe-pr-42')}$`),
    );
  });

  it('keeps workloads across restarts, through the journal and through a snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-ecr-workloads-'));
    dirs.push(dir);
    const fixture = {
      account: DEFAULT_ACCOUNT,
      region: DEFAULT_REGION,
      repositories: [],
      ecs: {
        taskDefinitions: [{ family: 'f', containers: [{ name: 'c', image: `x/y@sha256:${'e'.repeat(64)}` }] }],
        clusters: [{ name: 'kept', tasks: [{ id: 't1', taskDefinition: 'f:1' }] }],
      },
      lambda: { functions: [{ name: 'fn', imageUri: `x/y@sha256:${'e'.repeat(64)}` }] },
    };
    const first = await startTestRegistry({ dataDir: dir });
    await control(first, 'load', fixture);
    await first.close();
    const expectKept = async (server: RegistryServer) => {
      const { ecs, lambda } = clients(server);
      expect((await ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([
        `arn:aws:ecs:${DEFAULT_REGION}:${DEFAULT_ACCOUNT}:cluster/kept`,
      ]);
      const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: 'kept', tasks: ['t1'] }));
      expect(tasks[0]?.containers?.[0]?.imageDigest).toBe(`sha256:${'e'.repeat(64)}`);
      expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'fn' }))).Code?.ResolvedImageUri).toBe(
        `x/y@sha256:${'e'.repeat(64)}`,
      );
    };
    // Replayed from the journal.
    const second = await startTestRegistry({ dataDir: dir, compactBytes: 1 });
    await expectKept(second);
    // A change past `compactBytes` compacts the data directory into a snapshot.
    await control(second, 'load', { repositories: [{ name: 'compact-now' }] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await second.close();
    const third = await startTestRegistry({ dataDir: dir });
    servers.push(third);
    expect(third.dataDir?.replayedRecords).toBe(0);
    await expectKept(third);
    // A reset forgets them.
    await control(third, 'reset', {});
    expect((await clients(third).ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([]);
  });
});
