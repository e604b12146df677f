import { CreateRepositoryCommand, DescribeRepositoriesCommand } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { control, ecrClient, rawEcrRequest, startTestRegistry } from '../../src/testing.ts';
import { MAX_BODY_BYTES, type RegistryServer } from '../../src/wire/server.ts';
import { parseScope } from '../../src/wire/sigv4.ts';

describe('local registry HTTP front', () => {
  let server: RegistryServer;

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  const repositoryCount = async () =>
    (await ecrClient(server).send(new DescribeRepositoriesCommand({}))).repositories?.length ?? 0;

  it('listens on loopback only', async () => {
    // Assess
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(startTestRegistry({ host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
  });

  it('answers an operation it does not serve with a JSON UnknownOperationException naming it', async () => {
    // Act
    const response = await rawEcrRequest(server, 'GetSigningConfiguration', '{}');
    // Assess
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      __type: 'UnknownOperationException',
      message: expect.stringContaining('GetSigningConfiguration'),
    });
  });

  it('rejects malformed JSON, a non-object body and a wrong content type without changing state', async () => {
    // Prepare
    await ecrClient(server).send(new CreateRepositoryCommand({ repositoryName: 'front/app' }));
    // Act
    const malformed = await rawEcrRequest(server, 'CreateRepository', '{"repositoryName": "front/other"');
    const array = await rawEcrRequest(server, 'CreateRepository', '["front/other"]');
    const text = await rawEcrRequest(server, 'CreateRepository', '{"repositoryName":"front/other"}', {
      'content-type': 'text/plain',
    });
    // Assess
    expect(malformed).toMatchObject({ status: 400, body: { __type: 'SerializationException' } });
    expect(array).toMatchObject({ status: 400, body: { __type: 'SerializationException' } });
    expect(text).toMatchObject({ status: 400, body: { __type: 'UnknownOperationException' } });
    expect(await repositoryCount()).toBe(1);
  });

  it('rejects a body over the size cap with HTTP 413', async () => {
    // Act
    const response = await rawEcrRequest(
      server,
      'PutImage',
      JSON.stringify({ repositoryName: 'front/app', imageManifest: 'x'.repeat(MAX_BODY_BYTES) }),
    );
    // Assess
    expect(response.status).toBe(413);
    expect(response.body.__type).toBe('RequestEntityTooLargeException');
  });

  it('requires a SigV4 credential scope, as AWS does', async () => {
    // Act
    const response = await rawEcrRequest(server, 'DescribeRepositories', '{}', { authorization: '' });
    // Assess
    expect(response).toMatchObject({ status: 403, body: { __type: 'MissingAuthenticationTokenException' } });
  });

  it('keeps accounts and regions apart, the access key selecting the account', async () => {
    // Prepare
    await ecrClient(server, { account: '111111111111' }).send(
      new CreateRepositoryCommand({ repositoryName: 'team/a' }),
    );
    await ecrClient(server, { region: 'eu-west-1' }).send(new CreateRepositoryCommand({ repositoryName: 'team/b' }));
    // Act
    const inAccount = await ecrClient(server, { account: '111111111111' }).send(new DescribeRepositoriesCommand({}));
    const inRegion = await ecrClient(server, { region: 'eu-west-1' }).send(new DescribeRepositoriesCommand({}));
    // Assess
    expect(inAccount.repositories?.map((r) => r.repositoryArn)).toEqual([
      'arn:aws:ecr:us-east-1:111111111111:repository/team/a',
    ]);
    expect(inRegion.repositories?.map((r) => r.repositoryUri)).toEqual([
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/b',
    ]);
    expect(await repositoryCount()).toBe(0);
  });

  it('parses the scope of a SigV4 Authorization header', () => {
    // Act
    const scope = parseScope(
      'AWS4-HMAC-SHA256 Credential=222222222222/20261124/ap-south-1/ecr/aws4_request, SignedHeaders=host, Signature=abc',
    );
    // Assess
    expect(scope).toEqual({ accessKeyId: '222222222222', account: '222222222222', region: 'ap-south-1' });
    expect(parseScope('Bearer x')).toBeUndefined();
  });

  it('counts calls per operation and injects throttling deterministically', async () => {
    // Prepare
    const client = ecrClient(server);
    await control(server, 'faults', { operation: 'DescribeRepositories', throttleRate: 0.5 });
    // Act
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(
        await client.send(new DescribeRepositoriesCommand({})).then(
          () => 'ok',
          (error: Error) => error.name,
        ),
      );
    }
    const calls = await control<{ total: number; operations: Record<string, number> }>(server, 'calls');
    // Assess
    expect(outcomes).toEqual(['ok', 'ThrottlingException', 'ok', 'ThrottlingException']);
    expect(calls.operations.DescribeRepositories).toBe(4);
  });

  it('answers injected server errors with HTTP 500 ServerException, which the SDK retries', async () => {
    // Prepare
    await control(server, 'faults', { operation: 'DescribeRepositories', serverErrorRate: 0.5 });
    const retrying = ecrClient(server, { maxAttempts: 3 });
    // Act
    const raw = await rawEcrRequest(server, 'DescribeRepositories', '{}');
    const viaSdk = await retrying.send(new DescribeRepositoriesCommand({}));
    // Assess
    expect(raw.status).toBe(200);
    expect(viaSdk.$metadata.attempts).toBe(2);
  });

  it('makes a repository disappear after a given number of calls', async () => {
    // Prepare
    const client = ecrClient(server);
    await client.send(new CreateRepositoryCommand({ repositoryName: 'front/vanishing' }));
    await control(server, 'faults', { repositoryName: 'front/vanishing', afterCalls: 2 });
    // Act
    const first = await client.send(new DescribeRepositoriesCommand({ repositoryNames: ['front/vanishing'] }));
    const second = await client.send(new DescribeRepositoriesCommand({ repositoryNames: ['front/vanishing'] }));
    const third = client.send(new DescribeRepositoriesCommand({ repositoryNames: ['front/vanishing'] }));
    // Assess
    expect(first.repositories).toHaveLength(1);
    expect(second.repositories).toHaveLength(1);
    await expect(third).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
  });

  it('adds latency to an operation', async () => {
    // Prepare
    await control(server, 'faults', { operation: 'DescribeRepositories', latencyMs: 150 });
    const started = performance.now();
    // Act
    await ecrClient(server).send(new DescribeRepositoriesCommand({}));
    // Assess
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});
