import {
  CreateRepositoryCommand,
  type CreateRepositoryCommandInput,
  DeleteRepositoryCommand,
  DeleteRepositoryPolicyCommand,
  DescribeRepositoriesCommand,
  type ECRClient,
  GetRepositoryPolicyCommand,
  ListTagsForResourceCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  paginateDescribeRepositories,
  type Repository,
  SetRepositoryPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newRepository } from '../../src/model/records.ts';
import { MAX_REPOSITORIES_PER_REGISTRY } from '../../src/ops/repositories.ts';
import {
  control,
  ecrClient,
  fillInBatches,
  rawEcrRequest,
  startTestRegistry,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const arnOf = (name: string, region = TEST_REGION, account = TEST_ACCOUNT) =>
  `arn:aws:ecr:${region}:${account}:repository/${name}`;

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'pull',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` },
      Action: ['ecr:BatchGetImage'],
    },
  ],
});

const tagsOf = (count: number, prefix = 'k') =>
  Array.from({ length: count }, (_, index) => ({ Key: `${prefix}${index}`, Value: `v${index}` }));

describe('repository operations', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  const create = (input: CreateRepositoryCommandInput) => client.send(new CreateRepositoryCommand(input));

  /** Every repository of the default registry, through the SDK paginator. */
  const allRepositories = async (): Promise<Repository[]> => {
    const found: Repository[] = [];
    for await (const page of paginateDescribeRepositories({ client }, {})) found.push(...(page.repositories ?? []));
    return found;
  };

  const raw = async (operation: string, body: unknown) =>
    rawEcrRequest(server, operation, typeof body === 'string' ? body : JSON.stringify(body));

  describe('CreateRepository', () => {
    it('returns the repository with ECR’s defaults and only present members', async () => {
      // Prepare
      const before = Date.now() / 1000;
      // Act
      const { repository } = await create({ repositoryName: 'team/app' });
      // Assess
      expect(repository).toEqual({
        repositoryArn: arnOf('team/app'),
        registryId: TEST_ACCOUNT,
        repositoryName: 'team/app',
        repositoryUri: `${TEST_ACCOUNT}.dkr.ecr.${TEST_REGION}.amazonaws.com/team/app`,
        createdAt: expect.any(Date),
        imageTagMutability: 'MUTABLE',
        imageScanningConfiguration: { scanOnPush: false },
        encryptionConfiguration: { encryptionType: 'AES256' },
      });
      expect((repository?.createdAt?.getTime() ?? 0) / 1000).toBeGreaterThanOrEqual(Math.floor(before));
    });

    it('stores tags, exclusion filters, scan on push and a given KMS key', async () => {
      // Act
      const { repository } = await create({
        repositoryName: 'team/secure',
        tags: [
          { Key: 'team', Value: 'platform' },
          { Key: 'cost-center', Value: '' },
        ],
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/team-key' },
      });
      const described = await client.send(new DescribeRepositoriesCommand({ repositoryNames: ['team/secure'] }));
      const tags = await client.send(new ListTagsForResourceCommand({ resourceArn: arnOf('team/secure') }));
      // Assess
      expect(repository).toMatchObject({
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/team-key' },
      });
      expect(described.repositories).toEqual([repository]);
      expect(tags.tags).toEqual([
        { Key: 'team', Value: 'platform' },
        { Key: 'cost-center', Value: '' },
      ]);
    });

    it('uses the AWS-managed ECR key for KMS and KMS_DSSE when no key is given', async () => {
      // Act
      const kms = await create({ repositoryName: 'enc/kms', encryptionConfiguration: { encryptionType: 'KMS' } });
      const dsse = await create({
        repositoryName: 'enc/dsse',
        encryptionConfiguration: { encryptionType: 'KMS_DSSE' },
      });
      // Assess
      const managedKey = new RegExp(`^arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/[0-9a-f-]{36}$`);
      expect(kms.repository?.encryptionConfiguration).toEqual({
        encryptionType: 'KMS',
        kmsKey: expect.stringMatching(managedKey),
      });
      expect(dsse.repository?.encryptionConfiguration).toEqual({
        encryptionType: 'KMS_DSSE',
        kmsKey: kms.repository?.encryptionConfiguration?.kmsKey,
      });
    });

    it('refuses to create in the registry of another account (AccessDeniedException) and creates nothing', async () => {
      // Act
      const attempt = create({ repositoryName: 'other/app', registryId: '111111111111' });
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'AccessDeniedException' });
      expect(server.registry.existing('111111111111', TEST_REGION)).toBeUndefined();
      expect(await allRepositories()).toEqual([]);
    });

    it('rejects an existing name with RepositoryAlreadyExistsException and keeps the first repository', async () => {
      // Prepare
      const { repository: first } = await create({ repositoryName: 'team/app' });
      // Act
      const attempt = create({ repositoryName: 'team/app', imageTagMutability: 'IMMUTABLE' });
      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'RepositoryAlreadyExistsException',
        message: `The repository with name 'team/app' already exists in the registry with id '${TEST_ACCOUNT}'`,
      });
      expect(await allRepositories()).toEqual([first]);
    });

    it('accepts a 256-character name and rejects a 257-character one', async () => {
      // Prepare
      const name256 = `a/${'b'.repeat(254)}`;
      const name257 = `a/${'b'.repeat(255)}`;
      // Act
      const accepted = await create({ repositoryName: name256 });
      const rejected = create({ repositoryName: name257 });
      // Assess
      expect(accepted.repository?.repositoryName).toBe(name256);
      await expect(rejected).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message:
          "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must have length less than or equal to 256'",
      });
      expect((await allRepositories()).map((r) => r.repositoryName)).toEqual([name256]);
    });

    it.each([
      ['an upper-case name', 'Team/App'],
      ['a one-character name', 'a'],
      ['a leading separator', '-app'],
      ['a trailing slash', 'team/'],
      ['a double slash', 'team//app'],
    ])('rejects %s without creating anything', async (_case, repositoryName) => {
      // Act
      const attempt = create({ repositoryName });
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidParameterException' });
      expect(await allRepositories()).toEqual([]);
    });

    it('accepts the separators the name grammar allows', async () => {
      // Act
      const names = ['a__b', 'a---b', 'a.b_c-d/e.f'];
      for (const repositoryName of names) await create({ repositoryName });
      // Assess
      expect((await allRepositories()).map((r) => r.repositoryName)).toEqual(names);
    });

    it('accepts 50 tags and rejects 51 with TooManyTagsException', async () => {
      // Act
      await create({ repositoryName: 'tags/fifty', tags: tagsOf(50) });
      const attempt = create({ repositoryName: 'tags/fifty-one', tags: tagsOf(51) });
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TooManyTagsException' });
      expect((await allRepositories()).map((r) => r.repositoryName)).toEqual(['tags/fifty']);
    });

    it.each([
      ['a 129-character key', [{ Key: 'k'.repeat(129), Value: 'v' }]],
      ['an empty key', [{ Key: '', Value: 'v' }]],
      ['a key with the reserved aws: prefix', [{ Key: 'aws:createdBy', Value: 'me' }]],
      ['a key with the reserved AWS: prefix in upper case', [{ Key: 'AWS:owner', Value: 'me' }]],
      ['a key with a character outside the tag set', [{ Key: 'team#1', Value: 'v' }]],
      ['a 257-character value', [{ Key: 'k', Value: 'v'.repeat(257) }]],
      [
        'the same key twice',
        [
          { Key: 'k', Value: '1' },
          { Key: 'k', Value: '2' },
        ],
      ],
    ])('rejects %s with InvalidTagParameterException', async (_case, tags) => {
      // Act
      const attempt = create({ repositoryName: 'tags/bad', tags });
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidTagParameterException' });
      expect(await allRepositories()).toEqual([]);
    });

    it('accepts a 128-character key and a 256-character value', async () => {
      // Act
      await create({ repositoryName: 'tags/long', tags: [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }] });
      const tags = await client.send(new ListTagsForResourceCommand({ resourceArn: arnOf('tags/long') }));
      // Assess
      expect(tags.tags).toEqual([{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }]);
    });

    it.each([
      [
        'filters with plain MUTABLE',
        {
          imageTagMutability: 'MUTABLE',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'x' }],
        },
      ],
      [
        'filters without a mutability (MUTABLE by default)',
        { imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'x' }] },
      ],
      ['IMMUTABLE_WITH_EXCLUSION without filters', { imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' }],
      [
        'an empty filter list',
        { imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [] },
      ],
      [
        'six filters',
        {
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: Array.from({ length: 6 }, (_, i) => ({
            filterType: 'WILDCARD',
            filter: `f${i}`,
          })),
        },
      ],
      [
        'a filter outside the pattern',
        {
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'a/b' }],
        },
      ],
      [
        'a 129-character filter',
        {
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'a'.repeat(129) }],
        },
      ],
      [
        'a filter type other than WILDCARD',
        {
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'PREFIX', filter: 'a' }],
        },
      ],
      ['an unknown mutability', { imageTagMutability: 'FROZEN' }],
    ])('rejects %s with InvalidParameterException', async (_case, members) => {
      // Act
      const attempt = create({ repositoryName: 'mut/bad', ...(members as Partial<CreateRepositoryCommandInput>) });
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidParameterException' });
      expect(await allRepositories()).toEqual([]);
    });

    it('rejects a KMS key with AES256 and an unknown encryption type', async () => {
      // Act
      const withKey = create({
        repositoryName: 'enc/bad',
        encryptionConfiguration: { encryptionType: 'AES256', kmsKey: 'alias/key' },
      });
      const unknownType = create({
        repositoryName: 'enc/bad',
        encryptionConfiguration: { encryptionType: 'DES' as 'KMS' },
      });
      // Assess
      await expect(withKey).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message: expect.stringContaining('kmsKey'),
      });
      await expect(unknownType).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message:
          "Invalid parameter at 'encryptionConfiguration.encryptionType' failed to satisfy constraint: 'Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]'",
      });
      expect(await allRepositories()).toEqual([]);
    });

    it('answers wrong types with SerializationException and missing members with InvalidParameterException', async () => {
      // Act
      const numberName = await raw('CreateRepository', { repositoryName: 5 });
      const tagsObject = await raw('CreateRepository', { repositoryName: 'raw/app', tags: { team: 'x' } });
      const scanString = await raw('CreateRepository', {
        repositoryName: 'raw/app',
        imageScanningConfiguration: { scanOnPush: 'yes' },
      });
      const missingName = await raw('CreateRepository', {});
      const tagWithoutValue = await raw('CreateRepository', { repositoryName: 'raw/app', tags: [{ Key: 'team' }] });
      // Assess
      expect(numberName).toMatchObject({ status: 400, body: { __type: 'SerializationException' } });
      expect(tagsObject).toMatchObject({ status: 400, body: { __type: 'SerializationException' } });
      expect(scanString).toMatchObject({ status: 400, body: { __type: 'SerializationException' } });
      expect(missingName).toEqual({
        status: 400,
        body: {
          __type: 'InvalidParameterException',
          message: "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must not be null'",
        },
      });
      expect(tagWithoutValue.body).toMatchObject({
        __type: 'InvalidParameterException',
        message: "Invalid parameter at 'tags.1.Value' failed to satisfy constraint: 'Member must not be null'",
      });
      expect(await allRepositories()).toEqual([]);
    });

    it(`rejects repository ${MAX_REPOSITORIES_PER_REGISTRY + 1} with LimitExceededException`, async () => {
      // Prepare
      const state = server.registry.state(TEST_ACCOUNT, TEST_REGION);
      await fillInBatches(MAX_REPOSITORIES_PER_REGISTRY, (i) => {
        state.repositories.set(`bulk/r${i}`, newRepository(state, `bulk/r${i}`, 0));
      });
      // Act
      const attempt = create({ repositoryName: 'bulk/one-more' });
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'LimitExceededException' });
      expect(state.repositories.size).toBe(MAX_REPOSITORIES_PER_REGISTRY);
      expect(state.repositories.has('bulk/one-more')).toBe(false);
      await client.send(new DeleteRepositoryCommand({ repositoryName: 'bulk/r0' }));
      await expect(create({ repositoryName: 'bulk/one-more' })).resolves.toMatchObject({
        repository: { repositoryName: 'bulk/one-more' },
      });
    });
  });

  describe('DescribeRepositories', () => {
    const createMany = async (count: number, prefix = 'many/r') => {
      const names = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
      for (const repositoryName of names) await create({ repositoryName });
      return names;
    };

    it('describes the named repositories, each once, in the order asked', async () => {
      // Prepare
      await createMany(3);
      // Act
      const result = await client.send(
        new DescribeRepositoriesCommand({ repositoryNames: ['many/r0002', 'many/r0000', 'many/r0002'] }),
      );
      // Assess
      expect(result.repositories?.map((r) => r.repositoryName)).toEqual(['many/r0002', 'many/r0000']);
      expect(result.nextToken).toBeUndefined();
    });

    it('names the missing repository in RepositoryNotFoundException', async () => {
      // Prepare
      await createMany(2);
      // Act
      const attempt = client.send(
        new DescribeRepositoriesCommand({ repositoryNames: ['many/r0000', 'nope/app', 'many/r0001'] }),
      );
      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'RepositoryNotFoundException',
        message: `The repository with name 'nope/app' does not exist in the registry with id '${TEST_ACCOUNT}'`,
      });
    });

    it('accepts 100 names and rejects 101', async () => {
      // Prepare
      const names = (count: number) => Array.from({ length: count }, (_, i) => `absent/r${i}`);
      // Act
      const hundred = client.send(new DescribeRepositoriesCommand({ repositoryNames: names(100) }));
      const hundredOne = client.send(new DescribeRepositoriesCommand({ repositoryNames: names(101) }));
      // Assess
      await expect(hundred).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
      await expect(hundredOne).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message:
          "Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'Member must have length less than or equal to 100'",
      });
    });

    it('rejects an empty name list and an invalid name in it', async () => {
      // Act
      const empty = client.send(new DescribeRepositoriesCommand({ repositoryNames: [] }));
      const invalid = client.send(new DescribeRepositoriesCommand({ repositoryNames: ['ok/app', 'Bad'] }));
      // Assess
      await expect(empty).rejects.toMatchObject({ name: 'InvalidParameterException' });
      await expect(invalid).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message: expect.stringContaining("'repositoryNames.2'"),
      });
    });

    it.each([0, 1001, -1])('rejects maxResults %i', async (maxResults) => {
      // Prepare
      await createMany(2);
      // Act
      const attempt = client.send(new DescribeRepositoriesCommand({ maxResults }));
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });

    it('accepts maxResults 1 and 1000', async () => {
      // Prepare
      await createMany(3);
      // Act
      const one = await client.send(new DescribeRepositoriesCommand({ maxResults: 1 }));
      const thousand = await client.send(new DescribeRepositoriesCommand({ maxResults: 1000 }));
      // Assess
      expect(one.repositories).toHaveLength(1);
      expect(one.nextToken).toEqual(expect.any(String));
      expect(thousand.repositories).toHaveLength(3);
      expect(thousand.nextToken).toBeUndefined();
    });

    it('rejects nextToken or maxResults together with repositoryNames', async () => {
      // Prepare
      await createMany(3);
      const { nextToken } = await client.send(new DescribeRepositoriesCommand({ maxResults: 1 }));
      // Act
      const withMax = client.send(new DescribeRepositoriesCommand({ repositoryNames: ['many/r0000'], maxResults: 5 }));
      const withToken = client.send(new DescribeRepositoriesCommand({ repositoryNames: ['many/r0000'], nextToken }));
      // Assess
      await expect(withMax).rejects.toMatchObject({ name: 'InvalidParameterException' });
      await expect(withToken).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });

    it('rejects a token it did not issue', async () => {
      // Act
      const attempt = client.send(new DescribeRepositoriesCommand({ nextToken: 'not-a-token' }));
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });

    it('returns 100 repositories and a token when maxResults is omitted', async () => {
      // Prepare
      const names = await createMany(150);
      // Act
      const first = await client.send(new DescribeRepositoriesCommand({}));
      const second = await client.send(new DescribeRepositoriesCommand({ nextToken: first.nextToken }));
      // Assess
      expect(first.repositories?.map((r) => r.repositoryName)).toEqual(names.slice(0, 100));
      expect(first.nextToken).toEqual(expect.any(String));
      expect(second.repositories?.map((r) => r.repositoryName)).toEqual(names.slice(100));
      expect(second.nextToken).toBeUndefined();
    });

    it('pages through 250 repositories while others are created and deleted, without duplicates or misses', async () => {
      // Prepare
      const names = await createMany(250);
      const deleted = new Set<string>();
      const seen: string[] = [];
      let nextToken: string | undefined;
      let page = 0;
      // Act
      do {
        const result = await client.send(new DescribeRepositoriesCommand({ maxResults: 100, nextToken }));
        seen.push(...(result.repositories ?? []).map((r) => r.repositoryName ?? ''));
        nextToken = result.nextToken;
        page++;
        if (page === 1) {
          // one already listed, one not yet listed; and a name listed earlier comes back as a new repository
          for (const name of ['many/r0010', 'many/r0150']) {
            await client.send(new DeleteRepositoryCommand({ repositoryName: name }));
            deleted.add(name);
          }
          await create({ repositoryName: 'many/r0010' });
          await createMany(5, 'late/r');
        }
        if (page === 2) {
          await client.send(new DeleteRepositoryCommand({ repositoryName: 'many/r0249' }));
          deleted.add('many/r0249');
          await createMany(3, 'later/r');
        }
      } while (nextToken);
      // Assess
      const presentThroughout = names.filter((name) => !deleted.has(name));
      expect(new Set(seen).size).toBe(seen.length - 1); // 'many/r0010' twice: before deletion and as a new repository
      expect(seen.filter((name) => name === 'many/r0010')).toHaveLength(2);
      for (const name of presentThroughout) expect(seen).toContain(name);
      expect(seen).not.toContain('many/r0150');
      expect(seen).not.toContain('many/r0249');
      expect(page).toBe(3);
    });

    it('keeps a token valid when the same request is repeated', async () => {
      // Prepare
      await createMany(5);
      const { nextToken } = await client.send(new DescribeRepositoriesCommand({ maxResults: 2 }));
      // Act
      const once = await client.send(new DescribeRepositoriesCommand({ maxResults: 2, nextToken }));
      const twice = await client.send(new DescribeRepositoriesCommand({ maxResults: 2, nextToken }));
      // Assess
      expect({ repositories: twice.repositories, nextToken: twice.nextToken }).toEqual({
        repositories: once.repositories,
        nextToken: once.nextToken,
      });
      expect(once.repositories?.map((r) => r.repositoryName)).toEqual(['many/r0002', 'many/r0003']);
    });

    it('answers wrong member types with SerializationException', async () => {
      // Act
      const stringMax = await raw('DescribeRepositories', { maxResults: '10' });
      const stringNames = await raw('DescribeRepositories', { repositoryNames: 'a/b' });
      // Assess
      expect(stringMax.body.__type).toBe('SerializationException');
      expect(stringNames.body.__type).toBe('SerializationException');
    });
  });

  describe('DeleteRepository', () => {
    it('deletes an empty repository and returns it', async () => {
      // Prepare
      const { repository } = await create({ repositoryName: 'del/app', tags: [{ Key: 'team', Value: 'a' }] });
      // Act
      const result = await client.send(new DeleteRepositoryCommand({ repositoryName: 'del/app' }));
      // Assess
      expect(result.repository).toEqual(repository);
      expect(await allRepositories()).toEqual([]);
    });

    it('refuses a repository with images unless forced, then deletes it without emitting image events', async () => {
      // Prepare
      await control(server, 'load', { repositories: [{ name: 'del/full', images: [{ tags: ['v1'] }, {}] }] });
      const eventsBefore = server.bus.events.length;
      // Act
      const refused = client.send(new DeleteRepositoryCommand({ repositoryName: 'del/full' }));
      await expect(refused).rejects.toMatchObject({
        name: 'RepositoryNotEmptyException',
        message: `The repository with name 'del/full' in registry with id '${TEST_ACCOUNT}' cannot be deleted because it still contains images`,
      });
      const stillThere = await allRepositories();
      const forced = await client.send(new DeleteRepositoryCommand({ repositoryName: 'del/full', force: true }));
      // Assess
      expect(stillThere.map((r) => r.repositoryName)).toEqual(['del/full']);
      expect(forced.repository?.repositoryName).toBe('del/full');
      expect(await allRepositories()).toEqual([]);
      expect(server.bus.events.length).toBe(eventsBefore);
    });

    it('answers an unknown repository with RepositoryNotFoundException', async () => {
      // Act
      const attempt = client.send(new DeleteRepositoryCommand({ repositoryName: 'del/none' }));
      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'RepositoryNotFoundException',
        message: `The repository with name 'del/none' does not exist in the registry with id '${TEST_ACCOUNT}'`,
      });
    });

    it('answers a non-boolean force with SerializationException and keeps the repository', async () => {
      // Prepare
      await create({ repositoryName: 'del/app' });
      // Act
      const response = await raw('DeleteRepository', { repositoryName: 'del/app', force: 'true' });
      // Assess
      expect(response.body.__type).toBe('SerializationException');
      expect(await allRepositories()).toHaveLength(1);
    });
  });

  describe('PutImageTagMutability', () => {
    it('sets a mutability with exclusions and echoes it', async () => {
      // Prepare
      await create({ repositoryName: 'mut/app' });
      const filters = [
        { filterType: 'WILDCARD' as const, filter: 'latest' },
        { filterType: 'WILDCARD' as const, filter: 'dev-*' },
      ];
      // Act
      const result = await client.send(
        new PutImageTagMutabilityCommand({
          repositoryName: 'mut/app',
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: filters,
        }),
      );
      const [described] = await allRepositories();
      // Assess
      expect(result).toMatchObject({
        registryId: TEST_ACCOUNT,
        repositoryName: 'mut/app',
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: filters,
      });
      expect(described).toMatchObject({
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: filters,
      });
    });

    it('clears the exclusions when set back to IMMUTABLE', async () => {
      // Prepare
      await create({
        repositoryName: 'mut/app',
        imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }],
      });
      // Act
      const result = await client.send(
        new PutImageTagMutabilityCommand({ repositoryName: 'mut/app', imageTagMutability: 'IMMUTABLE' }),
      );
      const [described] = await allRepositories();
      // Assess
      expect(result.imageTagMutabilityExclusionFilters).toBeUndefined();
      expect(described?.imageTagMutability).toBe('IMMUTABLE');
      expect(described?.imageTagMutabilityExclusionFilters).toBeUndefined();
    });

    it('rejects bad combinations and values and leaves the setting unchanged', async () => {
      // Prepare
      await create({ repositoryName: 'mut/app', imageTagMutability: 'IMMUTABLE' });
      const put = (members: Record<string, unknown>) =>
        client.send(new PutImageTagMutabilityCommand({ repositoryName: 'mut/app', ...members } as never));
      // Act
      const attempts = [
        put({
          imageTagMutability: 'MUTABLE',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'x' }],
        }),
        put({ imageTagMutability: 'MUTABLE_WITH_EXCLUSION' }),
        put({
          imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'a b' }],
        }),
        put({ imageTagMutability: 'mutable' }),
      ];
      const missing = await raw('PutImageTagMutability', { repositoryName: 'mut/app' });
      // Assess
      for (const attempt of attempts)
        await expect(attempt).rejects.toMatchObject({ name: 'InvalidParameterException' });
      expect(missing.body).toMatchObject({
        __type: 'InvalidParameterException',
        message: "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must not be null'",
      });
      expect((await allRepositories())[0]?.imageTagMutability).toBe('IMMUTABLE');
    });

    it('answers an unknown repository with RepositoryNotFoundException', async () => {
      // Act
      const attempt = client.send(
        new PutImageTagMutabilityCommand({ repositoryName: 'mut/none', imageTagMutability: 'MUTABLE' }),
      );
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
    });
  });

  describe('PutImageScanningConfiguration', () => {
    it('turns scan on push on and off', async () => {
      // Prepare
      await create({ repositoryName: 'scan/app' });
      // Act
      const on = await client.send(
        new PutImageScanningConfigurationCommand({
          repositoryName: 'scan/app',
          imageScanningConfiguration: { scanOnPush: true },
        }),
      );
      const afterOn = (await allRepositories())[0]?.imageScanningConfiguration;
      const off = await client.send(
        new PutImageScanningConfigurationCommand({ repositoryName: 'scan/app', imageScanningConfiguration: {} }),
      );
      // Assess
      expect(on).toMatchObject({
        registryId: TEST_ACCOUNT,
        repositoryName: 'scan/app',
        imageScanningConfiguration: { scanOnPush: true },
      });
      expect(afterOn).toEqual({ scanOnPush: true });
      expect(off.imageScanningConfiguration).toEqual({ scanOnPush: false });
      expect((await allRepositories())[0]?.imageScanningConfiguration).toEqual({ scanOnPush: false });
    });

    it('requires imageScanningConfiguration and an existing repository', async () => {
      // Prepare
      await create({ repositoryName: 'scan/app', imageScanningConfiguration: { scanOnPush: true } });
      // Act
      const missing = await raw('PutImageScanningConfiguration', { repositoryName: 'scan/app' });
      const wrongType = await raw('PutImageScanningConfiguration', {
        repositoryName: 'scan/app',
        imageScanningConfiguration: { scanOnPush: 1 },
      });
      const unknown = client.send(
        new PutImageScanningConfigurationCommand({
          repositoryName: 'scan/none',
          imageScanningConfiguration: { scanOnPush: true },
        }),
      );
      // Assess
      expect(missing.body.__type).toBe('InvalidParameterException');
      expect(wrongType.body.__type).toBe('SerializationException');
      await expect(unknown).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
      expect((await allRepositories())[0]?.imageScanningConfiguration).toEqual({ scanOnPush: true });
    });
  });

  describe('repository policy', () => {
    it('sets, gets and deletes a policy', async () => {
      // Prepare
      await create({ repositoryName: 'pol/app' });
      // Act
      const set = await client.send(
        new SetRepositoryPolicyCommand({ repositoryName: 'pol/app', policyText: POLICY, force: true }),
      );
      const got = await client.send(new GetRepositoryPolicyCommand({ repositoryName: 'pol/app' }));
      const deleted = await client.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'pol/app' }));
      const afterDelete = client.send(new GetRepositoryPolicyCommand({ repositoryName: 'pol/app' }));
      // Assess
      const expected = { registryId: TEST_ACCOUNT, repositoryName: 'pol/app', policyText: POLICY };
      expect(set).toMatchObject(expected);
      expect(got).toMatchObject(expected);
      expect(deleted).toMatchObject(expected);
      await expect(afterDelete).rejects.toMatchObject({
        name: 'RepositoryPolicyNotFoundException',
        message: `Repository policy does not exist for the repository with name 'pol/app' in the registry with id '${TEST_ACCOUNT}'`,
      });
    });

    it('answers a delete without a policy with RepositoryPolicyNotFoundException', async () => {
      // Prepare
      await create({ repositoryName: 'pol/app' });
      // Act
      const attempt = client.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'pol/app' }));
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'RepositoryPolicyNotFoundException' });
    });

    const policyWith = (statement: Record<string, unknown>) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [statement] });

    it('accepts NotPrincipal and NotAction in place of Principal and Action', async () => {
      // Prepare
      await create({ repositoryName: 'pol/app' });
      const policyText = policyWith({
        Effect: 'Deny',
        NotPrincipal: { AWS: 'arn:aws:iam::123456789012:root' },
        NotAction: 'ecr:BatchGetImage',
      });
      // Act
      await client.send(new SetRepositoryPolicyCommand({ repositoryName: 'pol/app', policyText }));
      // Assess
      expect((await client.send(new GetRepositoryPolicyCommand({ repositoryName: 'pol/app' }))).policyText).toBe(
        policyText,
      );
    });

    it.each([
      ['text that is not JSON', '{"Statement": ['],
      ['an empty policy', ''],
      ['a policy without Statement', JSON.stringify({ Version: '2012-10-17' })],
      ['a policy whose Statement is a string', JSON.stringify({ Version: '2012-10-17', Statement: 'allow' })],
      ['a JSON list', '[]'],
      ['a statement with no Action', policyWith({ Sid: 'pull', Effect: 'Allow', Principal: '*' })],
      ['a statement with no Principal', policyWith({ Effect: 'Allow', Action: ['ecr:BatchGetImage'] })],
      ['a statement with no Effect', policyWith({ Principal: '*', Action: ['ecr:BatchGetImage'] })],
      [
        'a statement whose Effect is not Allow or Deny',
        policyWith({ Effect: 'Permit', Principal: '*', Action: 'ecr:*' }),
      ],
    ])('rejects %s and keeps the previous policy', async (_case, policyText) => {
      // Prepare
      await create({ repositoryName: 'pol/app' });
      await client.send(new SetRepositoryPolicyCommand({ repositoryName: 'pol/app', policyText: POLICY }));
      // Act
      const attempt = client.send(new SetRepositoryPolicyCommand({ repositoryName: 'pol/app', policyText }));
      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message: "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'",
      });
      expect((await client.send(new GetRepositoryPolicyCommand({ repositoryName: 'pol/app' }))).policyText).toBe(
        POLICY,
      );
    });

    it('rejects a policy over 10,240 characters', async () => {
      // Prepare
      await create({ repositoryName: 'pol/app' });
      const long = JSON.stringify({ Statement: [{ Sid: 'x'.repeat(10_240), Effect: 'Allow' }] });
      // Act
      const attempt = client.send(new SetRepositoryPolicyCommand({ repositoryName: 'pol/app', policyText: long }));
      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message:
          "Invalid parameter at 'policyText' failed to satisfy constraint: 'Member must have length less than or equal to 10240'",
      });
      await expect(client.send(new GetRepositoryPolicyCommand({ repositoryName: 'pol/app' }))).rejects.toMatchObject({
        name: 'RepositoryPolicyNotFoundException',
      });
    });

    it('answers every policy operation on an unknown repository with RepositoryNotFoundException', async () => {
      // Act
      const attempts = [
        client.send(new GetRepositoryPolicyCommand({ repositoryName: 'pol/none' })),
        client.send(new SetRepositoryPolicyCommand({ repositoryName: 'pol/none', policyText: POLICY })),
        client.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'pol/none' })),
      ];
      // Assess
      for (const attempt of attempts)
        await expect(attempt).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
    });
  });

  describe('resource tags', () => {
    it('adds, overwrites, lists and removes tags', async () => {
      // Prepare
      await create({ repositoryName: 'tag/app', tags: [{ Key: 'team', Value: 'a' }] });
      const resourceArn = arnOf('tag/app');
      // Act
      await client.send(
        new TagResourceCommand({
          resourceArn,
          tags: [
            { Key: 'team', Value: 'b' },
            { Key: 'env', Value: 'prod' },
          ],
        }),
      );
      const afterTag = await client.send(new ListTagsForResourceCommand({ resourceArn }));
      await client.send(new UntagResourceCommand({ resourceArn, tagKeys: ['team', 'not-there'] }));
      const afterUntag = await client.send(new ListTagsForResourceCommand({ resourceArn }));
      // Assess
      expect(afterTag.tags).toEqual([
        { Key: 'team', Value: 'b' },
        { Key: 'env', Value: 'prod' },
      ]);
      expect(afterUntag.tags).toEqual([{ Key: 'env', Value: 'prod' }]);
    });

    it('lists no tags as an empty list', async () => {
      // Prepare
      await create({ repositoryName: 'tag/app' });
      // Act
      const result = await client.send(new ListTagsForResourceCommand({ resourceArn: arnOf('tag/app') }));
      // Assess
      expect(result.tags).toEqual([]);
    });

    it('rejects tags that would leave more than 50 and keeps the existing ones', async () => {
      // Prepare
      await create({ repositoryName: 'tag/app', tags: tagsOf(45) });
      const resourceArn = arnOf('tag/app');
      // Act
      await client.send(new TagResourceCommand({ resourceArn, tags: [...tagsOf(45), ...tagsOf(5, 'x')] }));
      const attempt = client.send(new TagResourceCommand({ resourceArn, tags: tagsOf(1, 'y') }));
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TooManyTagsException' });
      expect((await client.send(new ListTagsForResourceCommand({ resourceArn }))).tags).toHaveLength(50);
    });

    it('rejects invalid tags and keys with InvalidTagParameterException', async () => {
      // Prepare
      await create({ repositoryName: 'tag/app', tags: [{ Key: 'team', Value: 'a' }] });
      const resourceArn = arnOf('tag/app');
      // Act
      const reserved = client.send(new TagResourceCommand({ resourceArn, tags: [{ Key: 'aws:x', Value: '1' }] }));
      const longValue = client.send(
        new TagResourceCommand({ resourceArn, tags: [{ Key: 'team', Value: 'v'.repeat(257) }] }),
      );
      const longKey = client.send(new UntagResourceCommand({ resourceArn, tagKeys: ['team', 'k'.repeat(129)] }));
      // Assess
      await expect(reserved).rejects.toMatchObject({ name: 'InvalidTagParameterException' });
      await expect(longValue).rejects.toMatchObject({ name: 'InvalidTagParameterException' });
      await expect(longKey).rejects.toMatchObject({ name: 'InvalidTagParameterException' });
      expect((await client.send(new ListTagsForResourceCommand({ resourceArn }))).tags).toEqual([
        { Key: 'team', Value: 'a' },
      ]);
    });

    it('accepts 200 keys to remove and rejects 201', async () => {
      // Prepare
      await create({ repositoryName: 'tag/app', tags: [{ Key: 'team', Value: 'a' }] });
      const resourceArn = arnOf('tag/app');
      const keys = (count: number) => Array.from({ length: count }, (_, i) => `k${i}`);
      // Act
      const tooMany = client.send(new UntagResourceCommand({ resourceArn, tagKeys: keys(201) }));
      await expect(tooMany).rejects.toMatchObject({ name: 'InvalidParameterException' });
      const kept = await client.send(new ListTagsForResourceCommand({ resourceArn }));
      await client.send(new UntagResourceCommand({ resourceArn, tagKeys: [...keys(199), 'team'] }));
      // Assess
      expect(kept.tags).toEqual([{ Key: 'team', Value: 'a' }]);
      expect((await client.send(new ListTagsForResourceCommand({ resourceArn }))).tags).toEqual([]);
    });

    it.each([
      ['another region', arnOf('tag/app', 'eu-west-1')],
      ['another account', arnOf('tag/app', TEST_REGION, '111111111111')],
      ['another service', `arn:aws:s3:::tag/app`],
      ['a non-repository ECR resource', `arn:aws:ecr:${TEST_REGION}:${TEST_ACCOUNT}:pull-through-cache-rule/tag`],
      ['an invalid repository name', arnOf('Tag/App')],
      ['a bare repository name', 'tag/app'],
    ])('rejects an ARN of %s with InvalidParameterException', async (_case, resourceArn) => {
      // Prepare
      await create({ repositoryName: 'tag/app' });
      // Act
      const attempts = [
        client.send(new TagResourceCommand({ resourceArn, tags: [{ Key: 'a', Value: 'b' }] })),
        client.send(new UntagResourceCommand({ resourceArn, tagKeys: ['a'] })),
        client.send(new ListTagsForResourceCommand({ resourceArn })),
      ];
      // Assess
      for (const attempt of attempts)
        await expect(attempt).rejects.toMatchObject({ name: 'InvalidParameterException' });
      expect((await client.send(new ListTagsForResourceCommand({ resourceArn: arnOf('tag/app') }))).tags).toEqual([]);
    });

    it('answers a well-formed ARN of an unknown repository with RepositoryNotFoundException', async () => {
      // Act
      const attempts = [
        client.send(new TagResourceCommand({ resourceArn: arnOf('tag/none'), tags: [{ Key: 'a', Value: 'b' }] })),
        client.send(new UntagResourceCommand({ resourceArn: arnOf('tag/none'), tagKeys: ['a'] })),
        client.send(new ListTagsForResourceCommand({ resourceArn: arnOf('tag/none') })),
      ];
      // Assess
      for (const attempt of attempts)
        await expect(attempt).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
    });

    it('requires resourceArn, tags and tagKeys', async () => {
      // Prepare
      await create({ repositoryName: 'tag/app' });
      // Act
      const noArn = await raw('ListTagsForResource', {});
      const noTags = await raw('TagResource', { resourceArn: arnOf('tag/app') });
      const noKeys = await raw('UntagResource', { resourceArn: arnOf('tag/app') });
      const tagsAsMap = await raw('TagResource', { resourceArn: arnOf('tag/app'), tags: { a: 'b' } });
      // Assess
      expect(noArn.body).toMatchObject({
        __type: 'InvalidParameterException',
        message: "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Member must not be null'",
      });
      expect(noTags.body.__type).toBe('InvalidParameterException');
      expect(noKeys.body.__type).toBe('InvalidParameterException');
      expect(tagsAsMap.body.__type).toBe('SerializationException');
      expect((await client.send(new ListTagsForResourceCommand({ resourceArn: arnOf('tag/app') }))).tags).toEqual([]);
    });
  });
});
