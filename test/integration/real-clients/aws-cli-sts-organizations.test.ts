import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI, requireRealClients, run } from '../../helpers/real-clients.ts';
import { control, startTestRegistry } from '../../helpers/registry.ts';

const HUB = '111111111111';
const SPOKE = '222222222222';
const ROLE = `arn:aws:iam::${SPOKE}:role/EcrCleanup`;
const MEMBERS = Array.from({ length: 12 }, (_, i) => ({
  id: `6000000000${String(i).padStart(2, '0')}`,
  name: `m${i}`,
}));

/** The Debian AWS CLI's `sts` and `organizations` commands against the roles and organization a fixture declares. */
describe('AWS CLI v2 sts and organizations commands against the local registry', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  const aws = (service: string, args: string[], env: Record<string, string> = { AWS_ACCESS_KEY_ID: HUB }) =>
    run(AWS_CLI, [service, ...args, '--region', 'us-east-1', '--endpoint-url', server.url, '--output', 'json'], {
      env,
    });

  beforeAll(async () => {
    requireRealClients();
    server = await startTestRegistry();
    await control(server, 'load', {
      repositories: [],
      iam: { roles: [{ account: SPOKE, name: 'EcrCleanup', trust: [`arn:aws:iam::${HUB}:root`] }] },
      organization: {
        managementAccount: HUB,
        units: [
          { name: 'workloads', accounts: MEMBERS },
          { name: 'prod', parent: 'workloads', accounts: [{ id: SPOKE, name: 'spoke' }] },
        ],
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('assumes a role; its credentials are the target account for sts and ecr', async () => {
    const assumed = await aws('sts', [
      'assume-role',
      '--role-arn',
      ROLE,
      '--role-session-name',
      'cli',
      '--duration-seconds',
      '900',
    ]);
    expect(assumed, assumed.stderr).toMatchObject({ code: 0 });
    const { Credentials } = JSON.parse(assumed.stdout) as {
      Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
    };
    const asSpoke = {
      AWS_ACCESS_KEY_ID: Credentials.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: Credentials.SecretAccessKey,
      AWS_SESSION_TOKEN: Credentials.SessionToken,
    };
    const identity = await aws('sts', ['get-caller-identity'], asSpoke);
    expect(identity, identity.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(identity.stdout)).toMatchObject({
      Account: SPOKE,
      Arn: `arn:aws:sts::${SPOKE}:assumed-role/EcrCleanup/cli`,
    });
    const created = await aws('ecr', ['create-repository', '--repository-name', 'made-by-role'], asSpoke);
    expect(created, created.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(created.stdout)).toMatchObject({ repository: { registryId: SPOKE } });
    const inSpoke = await aws('ecr', ['describe-repositories'], { AWS_ACCESS_KEY_ID: SPOKE });
    expect(JSON.parse(inSpoke.stdout)).toMatchObject({ repositories: [{ repositoryName: 'made-by-role' }] });
    const inHub = await aws('ecr', ['describe-repositories']);
    expect(JSON.parse(inHub.stdout)).toEqual({ repositories: [] });
  });

  it('refuses an untrusted caller with AccessDenied naming the role', async () => {
    const refused = await aws('sts', ['assume-role', '--role-arn', ROLE, '--role-session-name', 'cli'], {
      AWS_ACCESS_KEY_ID: '999999999999',
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('AccessDenied');
    expect(refused.stderr).toContain(ROLE);
  });

  it('lists the accounts, page by page, and those under a unit', async () => {
    const before = (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;
    const listed = await aws('organizations', ['list-accounts', '--page-size', '5']);
    expect(listed, listed.stderr).toMatchObject({ code: 0 });
    const accounts = (JSON.parse(listed.stdout) as { Accounts: { Id: string }[] }).Accounts;
    expect(accounts.map((a) => a.Id).sort()).toEqual([HUB, SPOKE, ...MEMBERS.map((m) => m.id)].sort());
    const after = (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;
    // 14 accounts at 5 a page: three pages.
    expect((after['organizations:ListAccounts'] ?? 0) - (before['organizations:ListAccounts'] ?? 0)).toBe(3);
    const firstPage = await aws('organizations', ['list-accounts', '--max-items', '5']);
    expect(JSON.parse(firstPage.stdout)).toMatchObject({ NextToken: expect.any(String) });

    const roots = JSON.parse((await aws('organizations', ['list-roots'])).stdout) as { Roots: { Id: string }[] };
    const rootId = roots.Roots[0]?.Id ?? '';
    const units = await aws('organizations', ['list-organizational-units-for-parent', '--parent-id', rootId]);
    const workloads = (JSON.parse(units.stdout) as { OrganizationalUnits: { Id: string; Name: string }[] })
      .OrganizationalUnits[0];
    expect(workloads?.Name).toBe('workloads');
    const under = await aws('organizations', ['list-accounts-for-parent', '--parent-id', workloads?.Id ?? '']);
    expect(under, under.stderr).toMatchObject({ code: 0 });
    expect((JSON.parse(under.stdout) as { Accounts: { Id: string }[] }).Accounts.map((a) => a.Id)).toEqual(
      MEMBERS.map((m) => m.id),
    );
    const missing = await aws('organizations', ['list-accounts-for-parent', '--parent-id', 'ou-abcd-zzzzzzzz']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('ParentNotFoundException');
  });
});
