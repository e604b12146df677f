import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { TargetsConfigSchema } from '../../../shared/config/targets-schema.ts';
import {
  createStsClient,
  REFRESH_BEFORE_EXPIRY_MS,
  TargetCredentialsError,
  targetClientPool,
  targetCredentials,
  targetRoleArn,
} from '../../../shared/credentials/index.ts';
import { EcrGatewayError } from '../../../shared/ecr/index.ts';

const sts = mockClient(STSClient);
afterEach(() => {
  sts.reset();
});

const START = Date.parse('2026-01-01T00:00:00Z');
const HOUR = 3_600_000;

/** AssumeRole's answer: keys numbered by call, expiring an hour after `issuedAt`. */
const answer = (n: number, issuedAt = START) => ({
  Credentials: {
    AccessKeyId: `AKIA${n}`,
    SecretAccessKey: `secret-${n}`,
    SessionToken: `token-${n}`,
    Expiration: new Date(issuedAt + HOUR),
  },
});

const options = (clock: { now: number }, extra: Partial<Parameters<typeof targetCredentials>[1]> = {}) => ({
  account: '111122223333',
  region: 'eu-west-1',
  roleName: 'EcrAutomation',
  sessionName: 'ecr-automation',
  durationSeconds: 3600,
  now: () => clock.now,
  ...extra,
});

const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

describe('targetCredentials', () => {
  it('assumes the role with the session name, duration and external id, and returns its keys', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves(answer(1));
    const provider = targetCredentials(createStsClient({ region: 'eu-west-1' }), {
      ...options({ now: START }),
      externalId: 'ecr-automation:prod',
    });
    // Act
    const identity = await provider();
    // Assess
    expect(identity).toEqual({
      accessKeyId: 'AKIA1',
      secretAccessKey: 'secret-1',
      sessionToken: 'token-1',
      expiration: new Date(START + HOUR),
      accountId: '111122223333',
    });
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::111122223333:role/EcrAutomation',
      RoleSessionName: 'ecr-automation',
      DurationSeconds: 3600,
      ExternalId: 'ecr-automation:prod',
    });
    expect(provider.callCounts()).toEqual({ AssumeRole: 1 });
  });

  it('sends no external id when none is configured', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves(answer(1));
    // Act
    await targetCredentials(createStsClient({ region: 'eu-west-1' }), options({ now: START }))();
    // Assess
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).not.toHaveProperty('ExternalId');
  });

  it('caches the credentials until 5 minutes before they expire, then assumes the role again', async () => {
    // Prepare
    const clock = { now: START };
    sts
      .on(AssumeRoleCommand)
      .resolvesOnce(answer(1))
      .resolves(answer(2, START + HOUR));
    const provider = targetCredentials(createStsClient({ region: 'eu-west-1' }), options(clock));
    // Act
    const first = await provider();
    clock.now = START + HOUR - REFRESH_BEFORE_EXPIRY_MS - 1;
    const stillCached = await provider();
    clock.now = START + HOUR - REFRESH_BEFORE_EXPIRY_MS;
    const renewed = await provider();
    // Assess
    expect(REFRESH_BEFORE_EXPIRY_MS).toBe(300_000);
    expect(first.accessKeyId).toBe('AKIA1');
    expect(stillCached).toBe(first);
    expect(renewed.accessKeyId).toBe('AKIA2');
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('assumes the role again when asked to refresh', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolvesOnce(answer(1)).resolves(answer(2));
    const provider = targetCredentials(createStsClient({ region: 'eu-west-1' }), options({ now: START }));
    // Act
    const first = await provider();
    const refreshed = await provider({ forceRefresh: true });
    const cached = await provider();
    // Assess
    expect(first.accessKeyId).toBe('AKIA1');
    expect(refreshed.accessKeyId).toBe('AKIA2');
    expect(cached).toBe(refreshed);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('shares one call in flight among the requests that ask at once', async () => {
    // Prepare
    let release: (value: ReturnType<typeof answer>) => void = () => undefined;
    sts.on(AssumeRoleCommand).callsFake(
      () =>
        new Promise((resolve) => {
          release = resolve;
        }),
    );
    const provider = targetCredentials(createStsClient({ region: 'eu-west-1' }), options({ now: START }));
    // Act
    const asked = [provider(), provider(), provider()];
    while (sts.commandCalls(AssumeRoleCommand).length === 0) await new Promise((resolve) => setImmediate(resolve));
    const more = provider();
    release(answer(1));
    asked.push(more);
    const identities = await Promise.all(asked);
    // Assess
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(new Set(identities).size).toBe(1);
  });

  it('does not cache a failure: the next request assumes the role again', async () => {
    // Prepare
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }))
      .resolves(answer(1));
    const provider = targetCredentials(createStsClient({ region: 'eu-west-1' }), options({ now: START }));
    // Act
    const error = await rejectionOf(provider());
    const identity = await provider();
    // Assess
    expect(error).toBeInstanceOf(TargetCredentialsError);
    expect(error).toMatchObject({ reason: 'throttled', retryable: true, code: 'Throttling' });
    expect(identity.accessKeyId).toBe('AKIA1');
  });

  it('maps AccessDenied to a TargetCredentialsError naming the account and the role, not retryable', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).rejects(
      Object.assign(
        new Error('User: arn:aws:sts::999988887777:assumed-role/x is not authorized to perform: sts:AssumeRole'),
        {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        },
      ),
    );
    const provider = targetCredentials(createStsClient({ region: 'eu-west-1' }), options({ now: START }));
    // Act
    const error = await rejectionOf(provider());
    // Assess
    expect(error).toBeInstanceOf(TargetCredentialsError);
    expect(error).toBeInstanceOf(EcrGatewayError);
    expect(error).toMatchObject({
      name: 'TargetCredentialsError',
      account: '111122223333',
      roleName: 'EcrAutomation',
      reason: 'access-denied',
      code: 'AccessDenied',
      retryable: false,
      operation: 'AssumeRole',
    });
    const message = (error as Error).message;
    expect(message).toMatch(/^Cannot assume role EcrAutomation in account 111122223333: /);
    expect(message).toContain('does not trust the service’s role');
  });

  it('maps a 5xx to a retryable unavailable error, and an answer without keys to an invalid one', async () => {
    // Prepare
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(Object.assign(new Error('boom'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }))
      .resolves({});
    const provider = targetCredentials(createStsClient({ region: 'eu-west-1' }), options({ now: START }));
    // Act
    const unavailable = await rejectionOf(provider());
    const invalid = await rejectionOf(provider());
    // Assess
    expect(unavailable).toMatchObject({ reason: 'unavailable', retryable: true });
    expect(invalid).toMatchObject({ reason: 'invalid', retryable: false, code: 'MissingCredentials' });
    expect((invalid as Error).message).toContain('account 111122223333');
  });

  it('writes the role ARN in the partition of the region, with the role’s path', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves(answer(1));
    // Act
    await targetCredentials(createStsClient({ region: 'cn-north-1' }), {
      ...options({ now: START }),
      region: 'cn-northwest-1',
      roleName: '/platform/EcrAutomation',
    })();
    // Assess
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws-cn:iam::111122223333:role/platform/EcrAutomation',
    });
    expect(targetRoleArn('111122223333', 'us-east-1', 'R')).toBe('arn:aws:iam::111122223333:role/R');
    expect(targetRoleArn('111122223333', 'us-gov-west-1', 'R')).toBe('arn:aws-us-gov:iam::111122223333:role/R');
    expect(targetRoleArn('111122223333', 'cn-north-1', 'R')).toBe('arn:aws-cn:iam::111122223333:role/R');
  });
});

describe('a target’s ECR client (targetClientPool)', () => {
  it('is for the target’s region, signed with the target role’s credentials', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves(answer(7));
    const pool = targetClientPool({ sts: () => createStsClient({ region: 'eu-west-1' }), now: () => START });
    const section = TargetsConfigSchema.parse({
      accounts: ['111122223333'],
      regions: ['us-gov-west-1'],
      roleName: 'EcrAutomation',
      sessionDurationSeconds: 900,
    });
    // Act
    const ecr = pool.ecr(section, { account: '111122223333', region: 'us-gov-west-1' });
    const region = await ecr.config.region();
    const identity = await ecr.config.credentials();
    // Assess
    expect(region).toBe('us-gov-west-1');
    expect(identity.accessKeyId).toBe('AKIA7');
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws-us-gov:iam::111122223333:role/EcrAutomation',
      DurationSeconds: 900,
    });
  });
});
