import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStsClient } from '../../../shared/credentials/client.ts';
import { countedSending } from '../../../shared/ecr/calls.ts';
import { createEcrClient, createEcrGateway, type ECRClient, toGatewayError } from '../../../shared/ecr/index.ts';
import { createEcrPublicClient } from '../../../shared/ecr-public/client.ts';
import { createEcsClient } from '../../../shared/ecs/client.ts';
import { createEcsGateway } from '../../../shared/ecs/gateway.ts';
import { createLambdaClient } from '../../../shared/lambda/client.ts';
import { createOrganizationsClient } from '../../../shared/organizations/client.ts';
import { createS3Client } from '../../../shared/s3/client.ts';
import { createSnsClient } from '../../../shared/sns/client.ts';
import { createSsmClient } from '../../../shared/ssm/client.ts';
import { digestOf } from '../../helpers/images.ts';

/**
 * The re-send counts of gateways over one real client from `createEcrClient`, which resolves its middleware once per
 * command class: a loopback server stands in for ECR and answers 5xx to the first requests of a repository, as
 * scripted, so that the SDK's retries re-send them.
 */

let server: Server;
let url: string;
/** How many more requests of each repository are answered 503 before the server answers normally. */
let failuresLeft = new Map<string, number>();
/** Requests received, per repository. */
let received = new Map<string, number>();

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const sent = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        repositoryName?: string;
        nextToken?: string;
      };
      // ECS's ListClusters names no repository: it stands for one of its own.
      const repositoryName = sent.repositoryName ?? 'ecs/clusters';
      const { nextToken } = sent;
      received.set(repositoryName, (received.get(repositoryName) ?? 0) + 1);
      const failures = failuresLeft.get(repositoryName) ?? 0;
      failuresLeft.set(repositoryName, failures - 1);
      const [status, body] =
        failures > 0
          ? [503, { __type: 'ServiceUnavailableException', message: 'try again' }]
          : repositoryName === 'ecs/clusters'
            ? [200, { clusterArns: ['arn:aws:ecs:us-east-1:123456789012:cluster/main'] }]
            : [
                200,
                {
                  imageDetails: [{ repositoryName, imageDigest: digestOf(`${repositoryName}${nextToken ?? ''}`) }],
                  // A repository named '…/paged' has a second page.
                  ...(repositoryName.endsWith('/paged') && nextToken === undefined ? { nextToken: 'page-2' } : {}),
                },
              ];
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let client: ECRClient;

beforeEach(() => {
  failuresLeft = new Map();
  received = new Map();
  client = createEcrClient({
    endpoint: url,
    region: 'us-east-1',
    maxAttempts: 4,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  });
});

afterEach(() => {
  client.destroy();
  vi.restoreAllMocks();
});

const listAll = async (gateway: ReturnType<typeof createEcrGateway>, repositoryName: string) => {
  const digests: string[] = [];
  for await (const page of gateway.listImages(repositoryName)) digests.push(...page.map((image) => image.digest));
  return digests;
};

describe('re-send counts over a client that caches its middleware', () => {
  it('resolves the middleware of a command class once, however many sends', async () => {
    // Prepare
    const resolve = vi.spyOn(DescribeImagesCommand.prototype, 'resolveMiddleware');
    const gateway = createEcrGateway(client);
    // Act
    await listAll(gateway, 'team/a');
    await gateway.findImageByTag('team/a', 'v1');
    await gateway.describeImages('team/a', [digestOf('team/a')]);
    // Assess
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(gateway.callCounts()).toEqual({ DescribeImages: 3 });
  });

  it("counts each gateway's re-sends, never another's, when two gateways over one client send at once", async () => {
    // Prepare: team/a's first two requests fail and are re-sent; team/b's never fail
    failuresLeft.set('team/a', 2);
    const one = createEcrGateway(client);
    const two = createEcrGateway(client);
    // Act
    const [listedA, listedB] = await Promise.all([listAll(one, 'team/a'), listAll(two, 'team/b')]);
    // Assess
    expect(listedA).toEqual([digestOf('team/a')]);
    expect(listedB).toEqual([digestOf('team/b')]);
    expect(received).toEqual(
      new Map([
        ['team/a', 3],
        ['team/b', 1],
      ]),
    );
    expect(one.callCounts()).toEqual({ DescribeImages: 3 });
    expect(two.callCounts()).toEqual({ DescribeImages: 1 });
  });

  it("counts a later send of the same class from its own first attempt, not the earlier send's", async () => {
    // Prepare
    failuresLeft.set('team/a', 2);
    const gateway = createEcrGateway(client);
    // Act: the first send is re-sent twice, the second and third are answered at once
    await gateway.describeImages('team/a', [digestOf('team/a')]);
    await gateway.describeImages('team/a', [digestOf('team/a')]);
    await gateway.findImageByTag('team/b', 'v1');
    // Assess
    expect(received.get('team/a')).toBe(4);
    expect(gateway.callCounts()).toEqual({ DescribeImages: 5 });
  });

  it('counts each send of one command object on its own, when two counters send it at once', async () => {
    // Prepare: both first attempts fail, both re-sends succeed
    failuresLeft.set('team/a', 2);
    const one = countedSending<'DescribeImages', ECRClient>(client, toGatewayError);
    const two = countedSending<'DescribeImages', ECRClient>(client, toGatewayError);
    const command = new DescribeImagesCommand({ repositoryName: 'team/a' });
    // Act
    await Promise.all([
      one.call('DescribeImages', 'team/a', () => one.client.send(command)),
      two.call('DescribeImages', 'team/a', () => two.client.send(command)),
    ]);
    // Assess
    expect(received.get('team/a')).toBe(4);
    expect(one.callCounts()).toEqual({ DescribeImages: 2 });
    expect(two.callCounts()).toEqual({ DescribeImages: 2 });
    expect(command.input).toEqual({ repositoryName: 'team/a' });
  });

  it('keeps each page’s request as it was sent: a later page’s token never shows in an earlier page’s input', async () => {
    // Prepare
    const sent: object[] = [];
    const gateway = createEcrGateway(client);
    client.middlewareStack.add(
      (next) => async (args) => {
        sent.push(args.input);
        return next(args);
      },
      { step: 'initialize', name: 'recordsInputs' },
    );
    // Act
    const listed = await listAll(gateway, 'team/paged');
    // Assess
    expect(listed).toEqual([digestOf('team/paged'), digestOf('team/pagedpage-2')]);
    expect(sent).toEqual([
      { repositoryName: 'team/paged', maxResults: 1000 },
      { repositoryName: 'team/paged', maxResults: 1000, nextToken: 'page-2' },
    ]);
    expect(gateway.callCounts()).toEqual({ DescribeImages: 2 });
  });
});

describe('the clients the service builds', () => {
  const settings = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } };

  it.each([
    ['ECR', () => createEcrClient(settings)],
    ['ECR Public', () => createEcrPublicClient(settings)],
    ['STS', () => createStsClient(settings)],
    ['Organizations', () => createOrganizationsClient(settings)],
    ['ECS', () => createEcsClient(settings)],
    ['Lambda', () => createLambdaClient(settings)],
    ['SSM', () => createSsmClient(settings)],
    ['SNS', () => createSnsClient(settings)],
  ])('%s: resolves its middleware once per command class, with the re-send count in it from the start', (_, make) => {
    // Act
    const made = make();
    // Assess
    expect(made.config.cacheMiddleware).toBe(true);
    expect(made.middlewareStack.identify().join(' ')).toContain('serviceCountsResends');
    made.destroy();
  });

  it("S3: resolves its middleware on every send, as its endpoint and signing depend on each request's bucket", () => {
    // Act
    const made = createS3Client(settings);
    // Assess
    expect(made.config.cacheMiddleware).not.toBe(true);
    made.destroy();
  });

  it('ECS: counts the re-sends of a request answered 5xx, over its cached middleware', async () => {
    // Prepare
    failuresLeft.set('ecs/clusters', 1);
    const ecs = createEcsClient({ ...settings, endpoint: url, maxAttempts: 3 });
    const gateway = createEcsGateway(ecs);
    // Act
    const clusters: string[] = [];
    for await (const cluster of gateway.listClusters()) clusters.push(cluster);
    for await (const cluster of gateway.listClusters()) clusters.push(cluster);
    ecs.destroy();
    // Assess
    expect(clusters).toHaveLength(2);
    expect(received.get('ecs/clusters')).toBe(3);
    expect(gateway.callCounts()).toEqual({ ListClusters: 3 });
  });
});
