import { Readable } from 'node:stream';
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TargetsConfigSchema } from '../../../shared/config/targets-schema.ts';
import { boundConcurrency, targetClientPool } from '../../../shared/credentials/pool.ts';

/**
 * The pool of the target accounts' clients: one session per account (a role is global), one ECR client per account
 * and region, and at most `maxConcurrencyPerTarget` requests in flight in each account and region.
 */
const section = (extra: Record<string, unknown> = {}) =>
  TargetsConfigSchema.parse({
    accounts: ['111111111111', '222222222222'],
    regions: ['eu-west-1', 'us-east-1'],
    roleName: 'EcrAutomation',
    ...extra,
  });
const NOW = Date.parse('2026-12-01T00:00:00Z');

describe('the target client pool', () => {
  const sts = mockClient(STSClient);
  beforeEach(() => {
    sts.reset();
    sts.on(AssumeRoleCommand).callsFake(async (input: { RoleArn: string }) => ({
      Credentials: {
        AccessKeyId: `ASIA${input.RoleArn.slice(13, 25)}`,
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(NOW + 3_600_000),
      },
    }));
  });
  afterEach(() => sts.reset());

  it('assumes each account’s role once for all its regions, and keeps one ECR client per account and region', async () => {
    // Prepare
    const pool = targetClientPool({ sts: () => new STSClient({ region: 'us-east-1' }), now: () => NOW });
    const targets = section();
    // Act
    const clients = [
      pool.ecr(targets, { account: '111111111111', region: 'eu-west-1' }),
      pool.ecr(targets, { account: '111111111111', region: 'us-east-1' }),
      pool.ecr(targets, { account: '111111111111', region: 'eu-west-1' }),
      pool.ecr(targets, { account: '222222222222', region: 'eu-west-1' }),
    ];
    const identities = await Promise.all(clients.map((client) => client.config.credentials()));
    // Assess
    expect(clients[0]).toBe(clients[2]);
    expect(clients[0]).not.toBe(clients[1]);
    expect(identities.map((identity) => identity.accessKeyId)).toEqual([
      'ASIA111111111111',
      'ASIA111111111111',
      'ASIA111111111111',
      'ASIA222222222222',
    ]);
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.RoleArn)).toEqual([
      'arn:aws:iam::111111111111:role/EcrAutomation',
      'arn:aws:iam::222222222222:role/EcrAutomation',
    ]);
    expect(pool.callCounts()).toEqual({ AssumeRole: 2 });
  });

  it('makes new clients when the role changes (a new config), never reusing the old role’s session', async () => {
    // Prepare
    const pool = targetClientPool({ sts: () => new STSClient({ region: 'us-east-1' }), now: () => NOW });
    const target = { account: '111111111111', region: 'eu-west-1' };
    // Act
    const before = pool.ecr(section(), target);
    const after = pool.ecr(section({ roleName: 'Other', externalId: 'ext-1' }), target);
    await after.config.credentials();
    // Assess
    expect(after).not.toBe(before);
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toMatchObject({
      RoleArn: 'arn:aws:iam::111111111111:role/Other',
      ExternalId: 'ext-1',
    });
  });
});

/** An ECR client whose HTTP handler answers `respond` (the SDK's middleware, the bound among them, runs as in AWS). */
const clientAnswering = (respond: () => Promise<{ statusCode: number; body: string }>) =>
  new ECRClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => {
        const { statusCode, body } = await respond();
        return {
          response: {
            statusCode,
            headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ServerException' },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    },
  });

describe('boundConcurrency', () => {
  it('lets at most the limit of requests be in flight at once, and every request completes', async () => {
    // Prepare: each request holds until released
    let inFlight = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const client = boundConcurrency(
      clientAnswering(async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise<void>((resolve) => releases.push(resolve));
        inFlight -= 1;
        return { statusCode: 200, body: '{"repositories":[]}' };
      }),
      3,
    );
    // Act: ten requests at once, released one by one as they arrive
    const all = Promise.all(Array.from({ length: 10 }, () => client.send(new DescribeRepositoriesCommand({}))));
    let released = 0;
    while (released < 10) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const next = releases.shift();
      if (next) {
        next();
        released += 1;
      }
    }
    const answers = await all;
    // Assess
    expect(peak).toBe(3);
    expect(answers).toHaveLength(10);
  });

  it('frees the slot of a request that fails', async () => {
    // Prepare
    let calls = 0;
    const client = boundConcurrency(
      clientAnswering(async () => {
        calls += 1;
        return calls === 1
          ? { statusCode: 500, body: '{"__type":"ServerException","message":"boom"}' }
          : { statusCode: 200, body: '{"repositories":[]}' };
      }),
      1,
    );
    // Act, Assess
    await expect(client.send(new DescribeRepositoriesCommand({}))).rejects.toThrow('boom');
    await expect(client.send(new DescribeRepositoriesCommand({}))).resolves.toMatchObject({ repositories: [] });
  });
});
