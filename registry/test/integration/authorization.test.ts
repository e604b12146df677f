import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZATION_TTL_MS, issuePassword, verifyPassword } from '../../src/ops/authorization.ts';
import { ecrClient, startTestRegistry, TEST_ACCOUNT, TEST_REGION } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

/** The password inside a token: base64 of `AWS:<password>`. */
const passwordOf = (token: string | undefined) => {
  const [user, ...rest] = Buffer.from(token ?? '', 'base64')
    .toString('utf8')
    .split(':');
  return { user, password: rest.join(':') };
};

describe('GetAuthorizationToken', () => {
  let server: RegistryServer;

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers a 12-hour AWS:<password> token for this registry’s own address, naming the account and region', async () => {
    // Act
    const before = server.now();
    const { authorizationData } = await ecrClient(server).send(new GetAuthorizationTokenCommand({}));
    // Assess
    expect(authorizationData).toHaveLength(1);
    const [data] = authorizationData ?? [];
    expect(data?.proxyEndpoint).toBe(server.url);
    const expiresAt = data?.expiresAt?.getTime() ?? 0;
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor((before + AUTHORIZATION_TTL_MS) / 1000) * 1000);
    expect(expiresAt).toBeLessThanOrEqual(server.now() + AUTHORIZATION_TTL_MS);
    const { user, password } = passwordOf(data?.authorizationToken);
    expect(user).toBe('AWS');
    expect(verifyPassword(password, server.now())).toEqual({
      account: TEST_ACCOUNT,
      region: TEST_REGION,
      accessKeyId: 'AKIDLOCALTEST',
      callerAccount: TEST_ACCOUNT,
      expiresAt,
    });
  });

  it('issues a token per registry id asked for, in the caller’s region', async () => {
    // Act
    const { authorizationData } = await ecrClient(server, { region: 'eu-west-1' }).send(
      new GetAuthorizationTokenCommand({ registryIds: ['111111111111', '222222222222'] }),
    );
    // Assess
    expect(
      (authorizationData ?? []).map((data) =>
        verifyPassword(passwordOf(data.authorizationToken).password, server.now()),
      ),
    ).toEqual([
      expect.objectContaining({ account: '111111111111', region: 'eu-west-1', callerAccount: TEST_ACCOUNT }),
      expect.objectContaining({ account: '222222222222', region: 'eu-west-1', callerAccount: TEST_ACCOUNT }),
    ]);
  });

  it.each([
    ['a registry id that is not 12 digits', ['12345']],
    ['no registry id in the list', []],
    ['eleven registry ids', Array.from({ length: 11 }, (_, i) => String(100000000000 + i))],
  ])('refuses %s with InvalidParameterException', async (_case, registryIds) => {
    // Act
    const attempt = ecrClient(server).send(new GetAuthorizationTokenCommand({ registryIds }));
    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('tells a forged, tampered or expired password from a good one', () => {
    // Prepare
    const now = Date.now();
    const good = issuePassword(TEST_ACCOUNT, TEST_REGION, now + 1_000);
    const [payload, signature] = good.split('.');
    const otherAccount = Buffer.from(JSON.stringify({ a: '999999999999', r: TEST_REGION, e: now + 1_000 })).toString(
      'base64url',
    );
    // Assess
    expect(verifyPassword(good, now)).toEqual({
      account: TEST_ACCOUNT,
      region: TEST_REGION,
      accessKeyId: '',
      callerAccount: TEST_ACCOUNT,
      expiresAt: now + 1_000,
    });
    expect(verifyPassword(good, now + 1_000)).toBeUndefined();
    expect(verifyPassword(`${otherAccount}.${signature}`, now)).toBeUndefined();
    expect(verifyPassword(`${payload}.${'A'.repeat(43)}`, now)).toBeUndefined();
    expect(verifyPassword(`${payload}`, now)).toBeUndefined();
    expect(verifyPassword(`${good}.extra`, now)).toBeUndefined();
    expect(verifyPassword('x'.repeat(10_000), now)).toBeUndefined();
  });
});
