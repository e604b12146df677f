import {
  CreateRepositoryCommand,
  DeleteLifecyclePolicyCommand,
  type ECRClient,
  GetLifecyclePolicyCommand,
  PutLifecyclePolicyCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ecrClient, rawEcrRequest, startTestRegistry, TEST_ACCOUNT } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const EXPIRE_UNTAGGED = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'expire untagged images after 14 days',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    },
  ],
});

const KEEP_LAST_TEN = JSON.stringify({
  rules: [
    {
      rulePriority: 5,
      description: 'keep the last ten release images',
      selection: { tagStatus: 'tagged', tagPrefixList: ['release'], countType: 'imageCountMoreThan', countNumber: 10 },
      action: { type: 'expire' },
    },
  ],
});

describe('lifecycle policy operations', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    await client.send(new CreateRepositoryCommand({ repositoryName: 'lcp/app' }));
  });

  const put = (lifecyclePolicyText: string, repositoryName = 'lcp/app') =>
    client.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText }));
  const get = (repositoryName = 'lcp/app') => client.send(new GetLifecyclePolicyCommand({ repositoryName }));
  const storedText = async () => (await get()).lifecyclePolicyText;

  it('puts, gets and deletes a policy with ECR’s output shapes', async () => {
    // Prepare
    const before = server.now();
    // Act
    const putResult = await put(EXPIRE_UNTAGGED);
    const getResult = await get();
    const deleteResult = await client.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'lcp/app' }));
    const afterDelete = get();
    // Assess
    const shape = { registryId: TEST_ACCOUNT, repositoryName: 'lcp/app', lifecyclePolicyText: EXPIRE_UNTAGGED };
    expect(putResult).toEqual({ $metadata: expect.any(Object), ...shape });
    expect(getResult).toEqual({ $metadata: expect.any(Object), ...shape, lastEvaluatedAt: expect.any(Date) });
    expect(getResult.lastEvaluatedAt?.getTime()).toBeGreaterThanOrEqual(before);
    expect(deleteResult).toEqual({
      $metadata: expect.any(Object),
      ...shape,
      lastEvaluatedAt: getResult.lastEvaluatedAt,
    });
    await expect(afterDelete).rejects.toMatchObject({
      name: 'LifecyclePolicyNotFoundException',
      message: `Lifecycle policy does not exist for the repository with name 'lcp/app' in the registry with id '${TEST_ACCOUNT}'`,
    });
  });

  it('replaces an existing policy', async () => {
    // Prepare
    await put(EXPIRE_UNTAGGED);
    // Act
    await put(KEEP_LAST_TEN);
    // Assess
    expect(await storedText()).toBe(KEEP_LAST_TEN);
  });

  it('answers get and delete without a policy with LifecyclePolicyNotFoundException', async () => {
    // Act
    const getting = get();
    const deleting = client.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'lcp/app' }));
    // Assess
    await expect(getting).rejects.toMatchObject({ name: 'LifecyclePolicyNotFoundException' });
    await expect(deleting).rejects.toMatchObject({ name: 'LifecyclePolicyNotFoundException' });
  });

  it('answers every operation on an unknown repository with RepositoryNotFoundException', async () => {
    // Act
    const attempts = [
      put(EXPIRE_UNTAGGED, 'lcp/none'),
      get('lcp/none'),
      client.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'lcp/none' })),
    ];
    // Assess
    for (const attempt of attempts)
      await expect(attempt).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
  });

  it('rejects a text under 100 characters by the model constraint', async () => {
    // Prepare
    await put(EXPIRE_UNTAGGED);
    const short = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'any' } }] });
    // Act
    const attempt = put(short);
    // Assess
    expect(short.length).toBeLessThan(100);
    await expect(attempt).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message:
        "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'Member must have length greater than or equal to 100'",
    });
    expect(await storedText()).toBe(EXPIRE_UNTAGGED);
  });

  it('rejects a text over 30,720 characters', async () => {
    // Prepare
    const long = JSON.stringify({
      rules: [{ ...JSON.parse(EXPIRE_UNTAGGED).rules[0], description: 'x'.repeat(30_720) }],
    });
    // Act
    const attempt = put(long);
    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('Member must have length less than or equal to 30720'),
    });
    await expect(get()).rejects.toMatchObject({ name: 'LifecyclePolicyNotFoundException' });
  });

  it.each([
    [
      'a rule with countNumber 0',
      {
        ...JSON.parse(EXPIRE_UNTAGGED).rules[0],
        selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 0 },
      },
      'countNumber must be a positive integer',
    ],
    [
      'a tagged rule without a tag list',
      {
        ...JSON.parse(KEEP_LAST_TEN).rules[0],
        selection: { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 10 },
      },
      'requires exactly one of tagPatternList and tagPrefixList',
    ],
    [
      'an unknown action',
      { ...JSON.parse(EXPIRE_UNTAGGED).rules[0], action: { type: 'delete' } },
      'type must be one of [expire, transition]',
    ],
    [
      'an unknown rule property',
      { ...JSON.parse(EXPIRE_UNTAGGED).rules[0], enabled: true },
      "unknown property 'enabled'",
    ],
  ])('rejects %s, says what is wrong and stores nothing', async (_case, rule, reason) => {
    // Prepare
    await put(KEEP_LAST_TEN);
    const text = JSON.stringify({ rules: [rule] });
    // Act
    const attempt = put(text);
    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringMatching(
        /^Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: .+'$/,
      ),
    });
    await expect(attempt).rejects.toMatchObject({ message: expect.stringContaining(reason) });
    expect(await storedText()).toBe(KEEP_LAST_TEN);
  });

  it('rejects text that is not JSON', async () => {
    // Act
    const attempt = put(`${EXPIRE_UNTAGGED.slice(0, -1)},`);
    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('not valid JSON'),
    });
    await expect(get()).rejects.toMatchObject({ name: 'LifecyclePolicyNotFoundException' });
  });

  it('answers a missing text with InvalidParameterException and a non-string one with SerializationException', async () => {
    // Act
    const missing = await rawEcrRequest(server, 'PutLifecyclePolicy', JSON.stringify({ repositoryName: 'lcp/app' }));
    const object = await rawEcrRequest(
      server,
      'PutLifecyclePolicy',
      JSON.stringify({ repositoryName: 'lcp/app', lifecyclePolicyText: JSON.parse(EXPIRE_UNTAGGED) }),
    );
    // Assess
    expect(missing.body).toMatchObject({
      __type: 'InvalidParameterException',
      message: "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'Member must not be null'",
    });
    expect(object.body.__type).toBe('SerializationException');
    await expect(get()).rejects.toMatchObject({ name: 'LifecyclePolicyNotFoundException' });
  });

  it('keeps policies per registry', async () => {
    // Prepare
    const otherClient = ecrClient(server, { account: '111111111111' });
    await otherClient.send(new CreateRepositoryCommand({ repositoryName: 'lcp/app' }));
    // Act
    await otherClient.send(
      new PutLifecyclePolicyCommand({ repositoryName: 'lcp/app', lifecyclePolicyText: KEEP_LAST_TEN }),
    );
    const other = await otherClient.send(
      new GetLifecyclePolicyCommand({ repositoryName: 'lcp/app', registryId: '111111111111' }),
    );
    // Assess
    expect(other).toMatchObject({ registryId: '111111111111', lifecyclePolicyText: KEEP_LAST_TEN });
    await expect(get()).rejects.toMatchObject({ name: 'LifecyclePolicyNotFoundException' });
  });
});
