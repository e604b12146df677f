import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeRegistriesCommand,
  DescribeRepositoriesCommand,
  type ECRPUBLICClient,
  GetAuthorizationTokenCommand,
  GetRegistryCatalogDataCommand,
  GetRepositoryCatalogDataCommand,
  PutRegistryCatalogDataCommand,
  PutRepositoryCatalogDataCommand,
  paginateDescribeRepositories,
} from '@aws-sdk/client-ecr-public';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_ACCOUNTS } from '../../src/model/state.ts';
import { verifyPassword } from '../../src/ops/authorization.ts';
import { MAX_LOGO_BYTES, MAX_PUBLIC_REPOSITORIES, PUBLIC_TOKEN_REGION } from '../../src/public/operations.ts';
import { defaultRegistryAlias, newPublicContent } from '../../src/public/state.ts';
import {
  control,
  ecrClient,
  ecrPublicClient,
  failureOf,
  rawEcrRequest,
  rawPublicRequest,
  startTestRegistry,
  TEST_ACCOUNT,
} from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR-local')]);

/** Everything the public registry of the test account holds, to show that a refused call changed nothing. */
function publicSnapshot(server: RegistryServer, account = TEST_ACCOUNT): unknown {
  const state = server.publicRegistries.existing(account);
  if (!state) return undefined;
  return {
    displayName: state.displayName,
    repositories: [...state.repositories.values()].map((r) => ({
      ...r,
      tags: [...r.tags],
      catalog: r.catalog && { ...r.catalog, logo: r.catalog.logo?.toString('base64') },
    })),
  };
}

const nameOf = (error: unknown) => (error as { name?: string } | undefined)?.name;

describe('ECR Public: repositories, registries, catalog data and logins', () => {
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
  });

  it('creates, describes and deletes a repository with the public ARN and URI', async () => {
    const alias = defaultRegistryAlias(TEST_ACCOUNT);
    const created = await client.send(
      new CreateRepositoryCommand({
        repositoryName: 'team/app',
        catalogData: { description: 'An app', architectures: ['x86-64', 'ARM 64'], operatingSystems: ['Linux'] },
        tags: [{ Key: 'team', Value: 'a' }],
      }),
    );
    expect(created.repository).toEqual({
      repositoryArn: `arn:aws:ecr-public::${TEST_ACCOUNT}:repository/team/app`,
      registryId: TEST_ACCOUNT,
      repositoryName: 'team/app',
      repositoryUri: `public.ecr.aws/${alias}/team/app`,
      createdAt: expect.any(Date),
    });
    expect(created.catalogData).toEqual({
      description: 'An app',
      architectures: ['x86-64', 'ARM 64'],
      operatingSystems: ['Linux'],
      marketplaceCertified: false,
    });
    const described = await client.send(new DescribeRepositoriesCommand({}));
    expect(described.repositories?.map((r) => r.repositoryName)).toEqual(['team/app']);
    expect(described.nextToken).toBeUndefined();
    const again = await failureOf(client.send(new CreateRepositoryCommand({ repositoryName: 'team/app' })));
    expect(nameOf(again)).toBe('RepositoryAlreadyExistsException');
    const deleted = await client.send(new DeleteRepositoryCommand({ repositoryName: 'team/app', force: false }));
    expect(deleted.repository?.repositoryName).toBe('team/app');
    expect((await client.send(new DescribeRepositoriesCommand({}))).repositories).toEqual([]);
    const missing = await failureOf(client.send(new DeleteRepositoryCommand({ repositoryName: 'team/app' })));
    expect(nameOf(missing)).toBe('RepositoryNotFoundException');
    expect(server.publicRegistries.existing(TEST_ACCOUNT)?.repositories.size).toBe(0);
  });

  it('keeps public repositories apart from the private registry of the same account', async () => {
    await client.send(new CreateRepositoryCommand({ repositoryName: 'only-public' }));
    const privateClient = ecrClient(server);
    const listed = await privateClient.send(new (await import('@aws-sdk/client-ecr')).DescribeRepositoriesCommand({}));
    privateClient.destroy();
    expect(listed.repositories).toEqual([]);
  });

  it('pages DescribeRepositories with maxResults and nextToken, and finds named repositories', async () => {
    for (let i = 0; i < 7; i++) await client.send(new CreateRepositoryCommand({ repositoryName: `repo-${i}` }));
    const first = await client.send(new DescribeRepositoriesCommand({ maxResults: 3 }));
    expect(first.repositories?.map((r) => r.repositoryName)).toEqual(['repo-0', 'repo-1', 'repo-2']);
    expect(first.nextToken).toBeTypeOf('string');
    const names: string[] = [];
    for await (const page of paginateDescribeRepositories({ client, pageSize: 2 }, {})) {
      names.push(...(page.repositories ?? []).map((r) => r.repositoryName as string));
    }
    expect(names).toEqual(['repo-0', 'repo-1', 'repo-2', 'repo-3', 'repo-4', 'repo-5', 'repo-6']);
    const named = await client.send(new DescribeRepositoriesCommand({ repositoryNames: ['repo-5', 'repo-1'] }));
    expect(named.repositories?.map((r) => r.repositoryName)).toEqual(['repo-5', 'repo-1']);
    const notFound = await failureOf(client.send(new DescribeRepositoriesCommand({ repositoryNames: ['nope'] })));
    expect(nameOf(notFound)).toBe('RepositoryNotFoundException');
    for (const maxResults of [0, 1001]) {
      const error = await failureOf(client.send(new DescribeRepositoriesCommand({ maxResults })));
      expect(nameOf(error)).toBe('InvalidParameterException');
    }
    const forged = await failureOf(client.send(new DescribeRepositoriesCommand({ nextToken: 'forged.token' })));
    expect(nameOf(forged)).toBe('InvalidParameterException');
    const mixed = await failureOf(
      client.send(new DescribeRepositoriesCommand({ repositoryNames: ['repo-1'], maxResults: 2 })),
    );
    expect(nameOf(mixed)).toBe('InvalidParameterException');
    const tooMany = await failureOf(
      client.send(new DescribeRepositoriesCommand({ repositoryNames: Array.from({ length: 101 }, (_, i) => `r${i}`) })),
    );
    expect(nameOf(tooMany)).toBe('InvalidParameterException');
  });

  it('refuses bad names, catalog data and tags before creating anything', async () => {
    await client.send(new CreateRepositoryCommand({ repositoryName: 'keep' }));
    const before = publicSnapshot(server);
    const bad = [
      { repositoryName: 'A' },
      { repositoryName: 'Upper' },
      { repositoryName: 'a'.repeat(206) },
      { repositoryName: 'x', catalogData: {} },
      { repositoryName: 'ok-name', catalogData: { description: 'd'.repeat(1025) } },
      { repositoryName: 'ok-name', catalogData: { aboutText: 'a'.repeat(25_601) } },
      { repositoryName: 'ok-name', catalogData: { usageText: 'u'.repeat(25_601) } },
      { repositoryName: 'ok-name', catalogData: { architectures: Array.from({ length: 51 }, (_, i) => `a${i}`) } },
      { repositoryName: 'ok-name', catalogData: { operatingSystems: ['x'.repeat(51)] } },
      { repositoryName: 'ok-name', catalogData: { architectures: [''] } },
      { repositoryName: 'ok-name', catalogData: { logoImageBlob: Buffer.from('GIF89a not a png') } },
      { repositoryName: 'ok-name', tags: [{ Key: 'aws:reserved', Value: 'v' }] },
      { repositoryName: 'ok-name', tags: [{ Key: 'k', Value: 'v'.repeat(257) }] },
    ];
    for (const input of bad) {
      const error = await failureOf(client.send(new CreateRepositoryCommand(input)));
      expect(['InvalidParameterException', 'InvalidTagParameterException']).toContain(nameOf(error));
    }
    const tooManyTags = await failureOf(
      client.send(
        new CreateRepositoryCommand({
          repositoryName: 'ok-name',
          tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
        }),
      ),
    );
    expect(nameOf(tooManyTags)).toBe('TooManyTagsException');
    const overList = await rawPublicRequest(
      server,
      'CreateRepository',
      JSON.stringify({
        repositoryName: 'ok-name',
        tags: Array.from({ length: 201 }, (_, i) => ({ Key: `k${i}`, Value: '' })),
      }),
    );
    expect(overList.body.__type).toBe('InvalidParameterException');
    const wrongType = await rawPublicRequest(server, 'CreateRepository', JSON.stringify({ repositoryName: 5 }));
    expect(wrongType.body.__type).toBe('SerializationException');
    const badBase64 = await rawPublicRequest(
      server,
      'CreateRepository',
      JSON.stringify({ repositoryName: 'ok-name', catalogData: { logoImageBlob: '@@@' } }),
    );
    expect(badBase64.body.__type).toBe('SerializationException');
    expect(publicSnapshot(server)).toEqual(before);
  });

  it('refuses a repository past the registry limit with LimitExceededException', async () => {
    await client.send(new CreateRepositoryCommand({ repositoryName: 'seed' }));
    const state = server.publicRegistries.existing(TEST_ACCOUNT);
    if (!state) throw new Error('no public registry');
    for (let i = 1; i < MAX_PUBLIC_REPOSITORIES; i++) {
      const seq = state.allocateSeq();
      state.repositories.set(`filler-${i}`, {
        name: `filler-${i}`,
        seq,
        createdAt: 0,
        catalog: undefined,
        policyText: undefined,
        tags: new Map(),
        content: newPublicContent(state, `filler-${i}`, 0, seq),
        tagTimes: new Map(),
      });
    }
    const error = await failureOf(client.send(new CreateRepositoryCommand({ repositoryName: 'one-more' })));
    expect(nameOf(error)).toBe('LimitExceededException');
    expect(state.repositories.size).toBe(MAX_PUBLIC_REPOSITORIES);
  });

  it('holds public registries for at most MAX_ACCOUNTS accounts: past it a change is refused, a read answered', async () => {
    for (let i = 0; server.publicRegistries.size < MAX_ACCOUNTS; i++) {
      server.publicRegistries.state(String(100_000_000_000 + i)).displayName = 'filler';
    }
    const late = ecrPublicClient(server, { account: '999999999999' });
    const refused = await failureOf(late.send(new CreateRepositoryCommand({ repositoryName: 'app' })));
    const read = await late.send(new DescribeRegistriesCommand({}));
    late.destroy();
    expect(nameOf(refused)).toBe('LimitExceededException');
    expect(read.registries?.[0]?.registryId).toBe('999999999999');
    expect(server.publicRegistries.existing('999999999999')).toBeUndefined();
  });

  it('describes the account registry with its default alias', async () => {
    const alias = defaultRegistryAlias(TEST_ACCOUNT);
    expect(alias).toMatch(/^[a-z][a-z0-9]{7}$/);
    const { registries, nextToken } = await client.send(new DescribeRegistriesCommand({ maxResults: 1 }));
    expect(nextToken).toBeUndefined();
    expect(registries).toEqual([
      {
        registryId: TEST_ACCOUNT,
        registryArn: `arn:aws:ecr-public::${TEST_ACCOUNT}:registry/${TEST_ACCOUNT}`,
        registryUri: `public.ecr.aws/${alias}`,
        verified: false,
        aliases: [{ name: alias, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }],
      },
    ]);
    const other = ecrPublicClient(server, { account: '210987654321' });
    const theirs = await other.send(new DescribeRegistriesCommand({}));
    other.destroy();
    expect(theirs.registries?.[0]?.registryId).toBe('210987654321');
    expect(theirs.registries?.[0]?.aliases?.[0]?.name).toBe(defaultRegistryAlias('210987654321'));
    const bad = await failureOf(client.send(new DescribeRegistriesCommand({ maxResults: 0 })));
    expect(nameOf(bad)).toBe('InvalidParameterException');
    const forged = await failureOf(client.send(new DescribeRegistriesCommand({ nextToken: 'x' })));
    expect(nameOf(forged)).toBe('InvalidParameterException');
  });

  it('gets and puts the registry catalog data (displayName up to 100 characters)', async () => {
    expect((await client.send(new GetRegistryCatalogDataCommand({}))).registryCatalogData).toEqual({});
    const put = await client.send(new PutRegistryCatalogDataCommand({ displayName: 'Local Co' }));
    expect(put.registryCatalogData).toEqual({ displayName: 'Local Co' });
    expect((await client.send(new GetRegistryCatalogDataCommand({}))).registryCatalogData).toEqual({
      displayName: 'Local Co',
    });
    const tooLong = await failureOf(client.send(new PutRegistryCatalogDataCommand({ displayName: 'd'.repeat(101) })));
    expect(nameOf(tooLong)).toBe('InvalidParameterException');
    expect(server.publicRegistries.existing(TEST_ACCOUNT)?.displayName).toBe('Local Co');
    await client.send(new PutRegistryCatalogDataCommand({ displayName: 'd'.repeat(100) }));
  });

  it('gets and puts repository catalog data, with a PNG logo served at its logoUrl', async () => {
    await client.send(new CreateRepositoryCommand({ repositoryName: 'plain' }));
    const none = await failureOf(client.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'plain' })));
    expect(nameOf(none)).toBe('RepositoryCatalogDataNotFoundException');
    const put = await client.send(
      new PutRepositoryCatalogDataCommand({
        repositoryName: 'plain',
        catalogData: {
          description: 'short',
          aboutText: '# About',
          usageText: 'docker pull it',
          architectures: ['ARM'],
          operatingSystems: ['Linux', 'Windows'],
          logoImageBlob: PNG,
        },
      }),
    );
    expect(put.catalogData).toMatchObject({ description: 'short', logoUrl: expect.stringContaining(server.url) });
    const got = await client.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'plain' }));
    expect(got.catalogData).toEqual({
      description: 'short',
      aboutText: '# About',
      usageText: 'docker pull it',
      architectures: ['ARM'],
      operatingSystems: ['Linux', 'Windows'],
      logoUrl: put.catalogData?.logoUrl,
      marketplaceCertified: false,
    });
    const logo = await fetch(got.catalogData?.logoUrl as string);
    expect(logo.status).toBe(200);
    expect(logo.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await logo.arrayBuffer())).toEqual(PNG);
    expect((await fetch(`${server.url}/_local/public/logo/${TEST_ACCOUNT}/nope`)).status).toBe(404);

    const before = publicSnapshot(server);
    const bigPng = Buffer.concat([PNG, Buffer.alloc(MAX_LOGO_BYTES)]);
    for (const catalogData of [
      { logoImageBlob: bigPng },
      { logoImageBlob: Buffer.from('not a png at all') },
      { description: 'x'.repeat(1025) },
    ]) {
      const error = await failureOf(
        client.send(new PutRepositoryCatalogDataCommand({ repositoryName: 'plain', catalogData })),
      );
      expect(nameOf(error)).toBe('InvalidParameterException');
    }
    const missing = await failureOf(
      client.send(new PutRepositoryCatalogDataCommand({ repositoryName: 'nope', catalogData: {} })),
    );
    expect(nameOf(missing)).toBe('RepositoryNotFoundException');
    const noData = await rawPublicRequest(
      server,
      'PutRepositoryCatalogData',
      JSON.stringify({ repositoryName: 'plain' }),
    );
    expect(noData.body.__type).toBe('InvalidParameterException');
    expect(publicSnapshot(server)).toEqual(before);
    const getMissing = await failureOf(client.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'nope' })));
    expect(nameOf(getMissing)).toBe('RepositoryNotFoundException');
    const otherRegistry = await failureOf(
      client.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'plain', registryId: '210987654321' })),
    );
    expect(nameOf(otherRegistry)).toBe('AccessDeniedException');
  });

  it('issues a public login token that the private registry API does not take', async () => {
    const { authorizationData } = await client.send(new GetAuthorizationTokenCommand({}));
    expect(authorizationData?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 11 * 3600_000);
    const [user, password] = Buffer.from(authorizationData?.authorizationToken as string, 'base64')
      .toString('utf8')
      .split(':');
    expect(user).toBe('AWS');
    expect(verifyPassword(password as string, Date.now())).toMatchObject({
      account: TEST_ACCOUNT,
      region: PUBLIC_TOKEN_REGION,
    });
    // On /v2/ it reaches public repositories only: a private repository's path is under no public alias.
    const response = await fetch(`${server.url}/v2/team/app/tags/list`, {
      headers: { authorization: `Basic ${authorizationData?.authorizationToken}` },
    });
    expect(response.status).toBe(404);
    expect(server.publicRegistries.existing(TEST_ACCOUNT)).toBeUndefined();
  });

  it('answers targets of the other API as unknown, changing nothing', async () => {
    await client.send(new CreateRepositoryCommand({ repositoryName: 'app' }));
    const before = publicSnapshot(server);
    // A private-only operation with the public target, and a public-only one with the private target.
    const privateOnly = await rawPublicRequest(server, 'BatchGetImage', JSON.stringify({ repositoryName: 'app' }));
    expect(privateOnly).toMatchObject({ status: 400, body: { __type: 'UnknownOperationException' } });
    const privateCreate = await rawPublicRequest(server, 'PutLifecyclePolicy', '{}');
    expect(privateCreate.body.__type).toBe('UnknownOperationException');
    const publicOnly = await rawEcrRequest(server, 'PutRegistryCatalogData', JSON.stringify({ displayName: 'x' }));
    expect(publicOnly.body.__type).toBe('UnknownOperationException');
    const publicOnlyRead = await rawEcrRequest(server, 'GetRegistryCatalogData', '{}');
    expect(publicOnlyRead.body.__type).toBe('UnknownOperationException');
    expect(publicSnapshot(server)).toEqual(before);
    expect(server.registry.size).toBe(0);
  });

  it('answers a client error, and changes nothing, for hostile input to every public operation', async () => {
    await client.send(new CreateRepositoryCommand({ repositoryName: 'app', catalogData: { description: 'd' } }));
    const bodies = [
      { repositoryName: ['app'] },
      { repositoryName: 'app', registryId: 'x'.repeat(13) },
      { repositoryName: 'app', catalogData: 'x' },
      { repositoryName: 'app', catalogData: { architectures: 'x86' } },
      { repositoryName: 'app', catalogData: { logoImageBlob: 5 } },
      { repositoryName: 'app', tags: { Key: 'k' } },
      { repositoryName: 'app', policyText: 7 },
      { resourceArn: 5, tags: [], tagKeys: [] },
      { resourceArn: `arn:aws:ecr-public::${TEST_ACCOUNT}:repository/app`, tags: [{ Key: 1 }], tagKeys: [1] },
      { displayName: { x: 1 } },
      { nextToken: 3, maxResults: 'many' },
      { maxResults: 1.5 },
    ];
    const operations = [
      'CreateRepository',
      'DescribeRepositories',
      'DeleteRepository',
      'DescribeRegistries',
      'PutRegistryCatalogData',
      'GetRepositoryCatalogData',
      'PutRepositoryCatalogData',
      'GetRepositoryPolicy',
      'SetRepositoryPolicy',
      'DeleteRepositoryPolicy',
      'TagResource',
      'UntagResource',
      'ListTagsForResource',
    ];
    for (const operation of operations) {
      for (const body of bodies) {
        const before = publicSnapshot(server);
        const answer = await rawPublicRequest(server, operation, JSON.stringify(body));
        if (answer.status === 200) continue; // a member the operation does not have is ignored, as by ECR
        expect(answer.status, `${operation} ${JSON.stringify(body)}`).toBe(400);
        expect(answer.body.__type).toMatch(/Exception$/);
        expect(publicSnapshot(server)).toEqual(before);
      }
      for (const raw of ['[]', 'null', '{"repositoryName":', '"text"']) {
        const answer = await rawPublicRequest(server, operation, raw);
        expect(answer.body.__type).toBe('SerializationException');
      }
    }
  });

  it('serves ECR Public in us-east-1 only', async () => {
    const elsewhere = ecrPublicClient(server, { region: 'eu-west-1' });
    const error = await failureOf(elsewhere.send(new CreateRepositoryCommand({ repositoryName: 'app' })));
    const read = await failureOf(elsewhere.send(new DescribeRegistriesCommand({})));
    elsewhere.destroy();
    expect(nameOf(error)).toBe('UnsupportedCommandException');
    expect((error as Error).message).toContain('us-east-1');
    expect(nameOf(read)).toBe('UnsupportedCommandException');
    expect(server.publicRegistries.existing(TEST_ACCOUNT)).toBeUndefined();
    const made = await rawPublicRequest(server, 'CreateRepository', JSON.stringify({ repositoryName: 'app' }), {
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST/20261124/made-up-1/ecr-public/aws4_request, SignedHeaders=host, Signature=0',
    });
    expect(made.body.__type).toBe('UnsupportedCommandException');
    expect(server.publicRegistries.size).toBe(0);
  });
});
