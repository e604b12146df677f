import {
  GetFunctionCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  paginateListFunctions,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { control, failureOf, startTestRegistry, TEST_ACCOUNT, TEST_REGION } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const HOST = `${TEST_ACCOUNT}.dkr.ecr.${TEST_REGION}.amazonaws.com`;
const PINNED = `sha256:${'cd'.repeat(32)}`;

function lambdaClient(server: RegistryServer, options: { account?: string; region?: string } = {}) {
  return new LambdaClient({
    endpoint: server.url,
    region: options.region ?? TEST_REGION,
    credentials: { accessKeyId: options.account ?? TEST_ACCOUNT, secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  });
}

async function rawLambda(server: RegistryServer, path: string, method = 'GET') {
  const response = await fetch(`${server.url}/2015-03-31/functions${path}`, {
    method,
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=${TEST_ACCOUNT}/20261124/${TEST_REGION}/lambda/aws4_request, SignedHeaders=host, Signature=0`,
    },
  });
  return {
    status: response.status,
    type: response.headers.get('x-amzn-errortype'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

const FIXTURE = {
  account: TEST_ACCOUNT,
  region: TEST_REGION,
  resolve: true,
  repositories: [
    {
      name: 'web',
      images: [
        { id: 'one', tags: ['pr-12'] },
        { id: 'two', tags: ['latest'] },
      ],
    },
  ],
  lambda: {
    functions: [
      {
        name: 'web',
        imageUri: `${HOST}/web:latest`,
        versions: [{ imageUri: `${HOST}/web:pr-12` }, {}],
        aliases: [
          { name: 'live', version: '1', description: 'the pull request build' },
          { name: 'next', version: '$LATEST' },
        ],
      },
      { name: 'pinned', imageUri: `${HOST}/web@${PINNED}` },
      ...Array.from({ length: 60 }, (_, i) => ({
        name: `f${String(i).padStart(2, '0')}`,
        imageUri: `${HOST}/other:tag`,
        resolvedImageUri: `${HOST}/other@${PINNED}`,
      })),
    ],
  },
};

describe('Lambda over REST-JSON', () => {
  let server: RegistryServer;
  let lambda: LambdaClient;
  let one: string;
  let two: string;
  beforeAll(async () => {
    server = await startTestRegistry();
    lambda = lambdaClient(server);
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    await control(server, 'reset', {});
    const loaded = await control<{ images: { id: string; imageDigest: string }[] }>(server, 'load', FIXTURE);
    one = loaded.images.find((image) => image.id === 'one')?.imageDigest as string;
    two = loaded.images.find((image) => image.id === 'two')?.imageDigest as string;
  });

  it('lists functions 50 at a time by default, MaxItems up to 10000, with FunctionVersion=ALL', async () => {
    const first = await lambda.send(new ListFunctionsCommand({}));
    expect(first.Functions).toHaveLength(50);
    expect(first.Functions?.[0]).toMatchObject({
      FunctionName: 'web',
      FunctionArn: `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:web`,
      PackageType: 'Image',
      Version: '$LATEST',
      CodeSha256: two.slice('sha256:'.length),
      State: 'Active',
    });
    const names: string[] = [];
    for await (const page of paginateListFunctions({ client: lambda, pageSize: 7 }, {})) {
      names.push(...(page.Functions ?? []).map((fn) => fn.FunctionName as string));
    }
    expect(names).toHaveLength(62);
    expect(new Set(names).size).toBe(62);
    const all = await lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL', MaxItems: 10000 }));
    expect(all.Functions).toHaveLength(64);
    expect(all.NextMarker).toBeUndefined();
    for (const MaxItems of [0, 10001]) {
      const error = await failureOf(lambda.send(new ListFunctionsCommand({ MaxItems })));
      expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    }
    expect(await failureOf(lambda.send(new ListFunctionsCommand({ Marker: 'bogus' })))).toMatchObject({
      name: 'InvalidParameterValueException',
    });
  });

  it('gets a container function with its image and resolved digest, by version, alias or ARN', async () => {
    const latest = await lambda.send(new GetFunctionCommand({ FunctionName: 'web' }));
    expect(latest.Code).toEqual({
      RepositoryType: 'ECR',
      ImageUri: `${HOST}/web:latest`,
      ResolvedImageUri: `${HOST}/web@${two}`,
    });
    expect(latest.Configuration).toMatchObject({ PackageType: 'Image', Version: '$LATEST' });
    const live = await lambda.send(new GetFunctionCommand({ FunctionName: 'web', Qualifier: 'live' }));
    expect(live.Code).toMatchObject({ ImageUri: `${HOST}/web:pr-12`, ResolvedImageUri: `${HOST}/web@${one}` });
    expect(live.Configuration?.Version).toBe('1');
    expect(live.Configuration?.FunctionArn).toBe(`arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:web:1`);
    const two_ = await lambda.send(
      new GetFunctionCommand({ FunctionName: `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:web:2` }),
    );
    expect(two_.Code?.ResolvedImageUri).toBe(`${HOST}/web@${two}`);
    const pinned = await lambda.send(new GetFunctionCommand({ FunctionName: 'pinned' }));
    expect(pinned.Code?.ResolvedImageUri).toBe(`${HOST}/web@${PINNED}`);
  });

  it('answers ResourceNotFoundException with Lambda error shape', async () => {
    const missing = await failureOf(lambda.send(new GetFunctionCommand({ FunctionName: 'ghost' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing).toMatchObject({
      Type: 'User',
      message: `Function not found: arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:ghost`,
      $metadata: { httpStatusCode: 404 },
    });
    expect(
      await failureOf(lambda.send(new GetFunctionCommand({ FunctionName: 'web', Qualifier: '9' }))),
    ).toBeInstanceOf(ResourceNotFoundException);
    expect(await failureOf(lambda.send(new ListAliasesCommand({ FunctionName: 'ghost' })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
    expect(await failureOf(lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'ghost' })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
    // Another account's function by ARN is not found.
    const other = await failureOf(
      lambda.send(new GetFunctionCommand({ FunctionName: `arn:aws:lambda:${TEST_REGION}:210987654321:function:web` })),
    );
    expect(other).toBeInstanceOf(ResourceNotFoundException);
    const otherAccount = lambdaClient(server, { account: '210987654321' });
    expect((await otherAccount.send(new ListFunctionsCommand({}))).Functions).toEqual([]);
  });

  it('lists aliases and versions with paging', async () => {
    const aliases = await lambda.send(new ListAliasesCommand({ FunctionName: 'web' }));
    expect(aliases.Aliases).toEqual([
      expect.objectContaining({
        Name: 'live',
        FunctionVersion: '1',
        AliasArn: `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:web:live`,
        Description: 'the pull request build',
      }),
      expect.objectContaining({ Name: 'next', FunctionVersion: '$LATEST' }),
    ]);
    const byVersion = await lambda.send(new ListAliasesCommand({ FunctionName: 'web', FunctionVersion: '1' }));
    expect(byVersion.Aliases?.map((alias) => alias.Name)).toEqual(['live']);
    const paged = await lambda.send(new ListAliasesCommand({ FunctionName: 'web', MaxItems: 1 }));
    expect(paged.Aliases).toHaveLength(1);
    const rest = await lambda.send(new ListAliasesCommand({ FunctionName: 'web', Marker: paged.NextMarker }));
    expect(rest.Aliases?.map((alias) => alias.Name)).toEqual(['next']);

    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'web' }));
    expect(versions.Versions?.[0]?.FunctionArn).toBe(
      `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:web:$LATEST`,
    );
    expect(versions.Versions?.map((version) => [version.Version, version.CodeSha256])).toEqual([
      ['$LATEST', two.slice(7)],
      ['1', one.slice(7)],
      ['2', two.slice(7)],
    ]);
    const page = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'web', MaxItems: 2 }));
    expect(page.Versions).toHaveLength(2);
    expect(page.NextMarker).toBeDefined();
  });

  it('counts calls as lambda:<Op> and injects faults by that name', async () => {
    await control(server, 'faults', { operation: 'lambda:ListFunctions', throttleRate: 1 });
    expect(await failureOf(lambda.send(new ListFunctionsCommand({})))).toMatchObject({
      name: 'TooManyRequestsException',
      message: 'Rate exceeded',
      Reason: 'CallerRateLimitExceeded',
      $metadata: { httpStatusCode: 429 },
    });
    await control(server, 'faults', { operation: 'lambda:GetFunction', serverErrorRate: 1 });
    expect(await failureOf(lambda.send(new GetFunctionCommand({ FunctionName: 'web' })))).toMatchObject({
      name: 'ServiceException',
      $metadata: { httpStatusCode: 500 },
    });
    const calls = await control<{ operations: Record<string, number> }>(server, 'calls');
    expect(calls.operations).toMatchObject({ 'lambda:ListFunctions': 1, 'lambda:GetFunction': 1 });
  });

  it('answers hostile input with its own error shape and changes nothing', async () => {
    const before = JSON.stringify([...server.registry.workloads.all()]);
    expect(await rawLambda(server, '/?MaxItems=abc')).toMatchObject({ status: 400, type: 'ValidationException' });
    expect(await rawLambda(server, `/${'x'.repeat(200)}`)).toMatchObject({ status: 400, type: 'ValidationException' });
    expect(await rawLambda(server, '/%E0%A4%A')).toMatchObject({ status: 400, type: 'ValidationException' });
    expect(await rawLambda(server, '/web?Qualifier=a%20b')).toMatchObject({ type: 'ValidationException' });
    expect(await rawLambda(server, '/web', 'DELETE')).toMatchObject({ status: 404, type: 'UnknownOperationException' });
    expect(await rawLambda(server, '/web/policy')).toMatchObject({ status: 404 });
    const unsigned = await fetch(`${server.url}/2015-03-31/functions/`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(JSON.stringify([...server.registry.workloads.all()])).toBe(before);
  });

  it('refuses a function by tag without resolve or resolvedImageUri, and an alias to a missing version', async () => {
    await expect(
      control(server, 'load', { lambda: { functions: [{ name: 'x', imageUri: `${HOST}/web:latest` }] } }),
    ).rejects.toThrow(/resolve: true/);
    await expect(
      control(server, 'load', {
        lambda: {
          functions: [{ name: 'y', imageUri: `${HOST}/web@${PINNED}`, aliases: [{ name: 'a', version: '3' }] }],
        },
      }),
    ).rejects.toThrow(/does not have/);
    expect((await lambda.send(new ListFunctionsCommand({ MaxItems: 1000 }))).Functions).toHaveLength(62);
  });
});
