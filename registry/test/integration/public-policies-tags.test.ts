import {
  CreateRepositoryCommand,
  DeleteRepositoryPolicyCommand,
  type ECRPUBLICClient,
  GetRepositoryPolicyCommand,
  ListTagsForResourceCommand,
  SetRepositoryPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-ecr-public';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  control,
  ecrPublicClient,
  failureOf,
  rawPublicRequest,
  startTestRegistry,
  TEST_ACCOUNT,
} from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const arnOf = (name: string, account = TEST_ACCOUNT) => `arn:aws:ecr-public::${account}:repository/${name}`;
const nameOf = (error: unknown) => (error as { name?: string } | undefined)?.name;

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: '*', Action: ['ecr-public:DescribeImages'] }],
});

describe('ECR Public: repository policies and resource tags', () => {
  let server: RegistryServer;
  let client: ECRPUBLICClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrPublicClient(server);
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });
  beforeEach(async () => {
    await control(server, 'reset', {});
    await client.send(new CreateRepositoryCommand({ repositoryName: 'app' }));
  });

  it('sets, gets and deletes a repository policy', async () => {
    const none = await failureOf(client.send(new GetRepositoryPolicyCommand({ repositoryName: 'app' })));
    expect(nameOf(none)).toBe('RepositoryPolicyNotFoundException');
    const set = await client.send(new SetRepositoryPolicyCommand({ repositoryName: 'app', policyText: POLICY }));
    expect(set).toMatchObject({ registryId: TEST_ACCOUNT, repositoryName: 'app', policyText: POLICY });
    const got = await client.send(new GetRepositoryPolicyCommand({ repositoryName: 'app' }));
    expect(got).toMatchObject({ registryId: TEST_ACCOUNT, repositoryName: 'app', policyText: POLICY });
    for (const policyText of [
      'not json',
      '{}',
      JSON.stringify({ Statement: [{ Effect: 'Maybe' }] }),
      'x'.repeat(10_241),
    ]) {
      const error = await failureOf(client.send(new SetRepositoryPolicyCommand({ repositoryName: 'app', policyText })));
      expect(nameOf(error)).toBe('InvalidParameterException');
    }
    const missing = await failureOf(
      client.send(new SetRepositoryPolicyCommand({ repositoryName: 'nope', policyText: POLICY })),
    );
    expect(nameOf(missing)).toBe('RepositoryNotFoundException');
    expect((await client.send(new GetRepositoryPolicyCommand({ repositoryName: 'app' }))).policyText).toBe(POLICY);
    const deleted = await client.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'app' }));
    expect(deleted.policyText).toBe(POLICY);
    const again = await failureOf(client.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'app' })));
    expect(nameOf(again)).toBe('RepositoryPolicyNotFoundException');
    const noText = await rawPublicRequest(server, 'SetRepositoryPolicy', JSON.stringify({ repositoryName: 'app' }));
    expect(noText.body.__type).toBe('InvalidParameterException');
  });

  it('tags, lists and untags a repository by its public ARN', async () => {
    await client.send(
      new TagResourceCommand({
        resourceArn: arnOf('app'),
        tags: [
          { Key: 'team', Value: 'a' },
          { Key: 'env', Value: '' },
        ],
      }),
    );
    await client.send(new TagResourceCommand({ resourceArn: arnOf('app'), tags: [{ Key: 'team', Value: 'b' }] }));
    const listed = await client.send(new ListTagsForResourceCommand({ resourceArn: arnOf('app') }));
    expect(listed.tags).toEqual([
      { Key: 'team', Value: 'b' },
      { Key: 'env', Value: '' },
    ]);
    await client.send(new UntagResourceCommand({ resourceArn: arnOf('app'), tagKeys: ['env', 'absent'] }));
    expect((await client.send(new ListTagsForResourceCommand({ resourceArn: arnOf('app') }))).tags).toEqual([
      { Key: 'team', Value: 'b' },
    ]);
  });

  it('refuses bad ARNs and tags, and more than 50 tags, changing nothing', async () => {
    await client.send(new TagResourceCommand({ resourceArn: arnOf('app'), tags: [{ Key: 'keep', Value: 'v' }] }));
    const cases: [() => Promise<unknown>, string][] = [
      [
        () => client.send(new TagResourceCommand({ resourceArn: arnOf('nope'), tags: [{ Key: 'k', Value: 'v' }] })),
        'RepositoryNotFoundException',
      ],
      [
        () =>
          client.send(
            new TagResourceCommand({ resourceArn: 'arn:aws:ecr:us-east-1:123456789012:repository/app', tags: [] }),
          ),
        'InvalidParameterException',
      ],
      [
        () => client.send(new TagResourceCommand({ resourceArn: arnOf('app', '210987654321'), tags: [] })),
        'InvalidParameterException',
      ],
      [
        () => client.send(new TagResourceCommand({ resourceArn: arnOf('app'), tags: [{ Key: '', Value: 'v' }] })),
        'InvalidTagParameterException',
      ],
      [
        () => client.send(new TagResourceCommand({ resourceArn: arnOf('app'), tags: [{ Key: 'aws:x', Value: 'v' }] })),
        'InvalidTagParameterException',
      ],
      [
        () =>
          client.send(
            new TagResourceCommand({ resourceArn: arnOf('app'), tags: [{ Key: 'k'.repeat(129), Value: 'v' }] }),
          ),
        'InvalidTagParameterException',
      ],
      [
        () =>
          client.send(
            new TagResourceCommand({
              resourceArn: arnOf('app'),
              tags: Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
            }),
          ),
        'TooManyTagsException',
      ],
      [
        () => client.send(new UntagResourceCommand({ resourceArn: arnOf('nope'), tagKeys: ['keep'] })),
        'RepositoryNotFoundException',
      ],
      [
        () => client.send(new UntagResourceCommand({ resourceArn: arnOf('app'), tagKeys: [''] })),
        'InvalidParameterException',
      ],
      [() => client.send(new ListTagsForResourceCommand({ resourceArn: 'not-an-arn' })), 'InvalidParameterException'],
    ];
    for (const [command, expected] of cases) {
      expect(nameOf(await failureOf(command()))).toBe(expected);
    }
    const overList = await rawPublicRequest(
      server,
      'TagResource',
      JSON.stringify({
        resourceArn: arnOf('app'),
        tags: Array.from({ length: 201 }, (_, i) => ({ Key: `k${i}`, Value: '' })),
      }),
    );
    expect(overList.body.__type).toBe('InvalidParameterException');
    const noKeys = await rawPublicRequest(server, 'UntagResource', JSON.stringify({ resourceArn: arnOf('app') }));
    expect(noKeys.body.__type).toBe('InvalidParameterException');
    expect((await client.send(new ListTagsForResourceCommand({ resourceArn: arnOf('app') }))).tags).toEqual([
      { Key: 'keep', Value: 'v' },
    ]);
  });
});
