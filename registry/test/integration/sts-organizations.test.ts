import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { control, failureOf, startTestRegistry, TEST_REGION } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const HUB = '111111111111';
const SPOKE = '222222222222';
const OTHER = '333333333333';
const ROLE = `arn:aws:iam::${SPOKE}:role/EcrCleanup`;

const FIXTURE = {
  repositories: [],
  iam: {
    roles: [
      { account: SPOKE, name: 'EcrCleanup', trust: [HUB] },
      { account: OTHER, name: 'Guarded', trust: [`arn:aws:iam::${HUB}:root`], externalId: 'secret-1' },
      { account: OTHER, name: 'Chained', trust: [ROLE] },
    ],
  },
  organization: {
    managementAccount: HUB,
    units: [
      { name: 'root', accounts: [{ id: '444444444444', name: 'sandbox' }] },
      {
        name: 'workloads',
        accounts: Array.from({ length: 23 }, (_, i) => ({
          id: `5000000000${String(i).padStart(2, '0')}`,
          name: `w${i}`,
        })),
      },
      { name: 'prod', parent: 'workloads', accounts: [{ id: SPOKE, name: 'spoke', email: 'spoke@example.org' }] },
    ],
  },
};

const credentials = (accessKeyId: string, sessionToken?: string) => ({
  accessKeyId,
  secretAccessKey: 'local-secret',
  ...(sessionToken ? { sessionToken } : {}),
});

function sts(server: RegistryServer, creds: ReturnType<typeof credentials>) {
  return new STSClient({ endpoint: server.url, region: TEST_REGION, credentials: creds, maxAttempts: 1 });
}

function ecr(server: RegistryServer, creds: ReturnType<typeof credentials>) {
  return new ECRClient({ endpoint: server.url, region: TEST_REGION, credentials: creds, maxAttempts: 1 });
}

const auth = (key: string, service: string) =>
  `AWS4-HMAC-SHA256 Credential=${key}/20261124/${TEST_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`;

async function rawSts(server: RegistryServer, form: Record<string, string>, key = HUB) {
  const response = await fetch(`${server.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', authorization: auth(key, 'sts') },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

async function org(server: RegistryServer, operation: string, input: Record<string, unknown> = {}, key = HUB) {
  const response = await fetch(`${server.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSOrganizationsV20161128.${operation}`,
      authorization: auth(key, 'organizations'),
    },
    body: JSON.stringify(input),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the answers are read loosely, member by member.
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('STS and Organizations', () => {
  let server: RegistryServer;
  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    await control(server, 'reset', {});
    await control(server, 'load', FIXTURE);
  });

  it('assumes a trusted role: the credentials select the role account, for ECR and GetCallerIdentity', async () => {
    const before = server.now();
    const assumed = await sts(server, credentials(HUB)).send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'cleanup', DurationSeconds: 900 }),
    );
    const keys = assumed.Credentials;
    expect(keys?.AccessKeyId).toMatch(new RegExp(`^ASIA${SPOKE}[A-Z2-7]{4}$`));
    const expiresAt = keys?.Expiration?.getTime() ?? 0;
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
    expect(expiresAt).toBeLessThanOrEqual(server.now() + 900_000);
    expect(assumed.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${SPOKE}:assumed-role/EcrCleanup/cleanup`);
    const asSpoke = credentials(keys?.AccessKeyId ?? '', keys?.SessionToken);
    const identity = await sts(server, asSpoke).send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({
      Account: SPOKE,
      Arn: `arn:aws:sts::${SPOKE}:assumed-role/EcrCleanup/cleanup`,
    });
    expect(identity.UserId).toMatch(/^AROA[A-Z0-9]{17}:cleanup$/);
    expect((await sts(server, credentials(HUB)).send(new GetCallerIdentityCommand({}))).Account).toBe(HUB);

    const created = await ecr(server, asSpoke).send(new CreateRepositoryCommand({ repositoryName: 'in-spoke' }));
    expect(created.repository?.registryId).toBe(SPOKE);
    const inSpoke = await ecr(server, credentials(SPOKE)).send(new DescribeRepositoriesCommand({}));
    expect(inSpoke.repositories?.map((r) => r.repositoryName)).toEqual(['in-spoke']);
    const inHub = await ecr(server, credentials(HUB)).send(new DescribeRepositoriesCommand({}));
    expect(inHub.repositories).toEqual([]);

    // The session ends at its expiration (registry time): its key is refused from then on.
    server.advanceClock(900_000);
    expect(await failureOf(ecr(server, asSpoke).send(new DescribeRepositoriesCommand({})))).toMatchObject({
      name: 'ExpiredTokenException',
      $metadata: { httpStatusCode: 403 },
    });
    expect(await failureOf(sts(server, asSpoke).send(new GetCallerIdentityCommand({})))).toMatchObject({
      name: 'ExpiredToken',
      $metadata: { httpStatusCode: 403 },
    });
  });

  it('refuses an undeclared role, an untrusted caller and a wrong ExternalId with AccessDenied naming the role', async () => {
    const hub = sts(server, credentials(HUB));
    const undeclared = `arn:aws:iam::${SPOKE}:role/Nope`;
    expect(
      await failureOf(hub.send(new AssumeRoleCommand({ RoleArn: undeclared, RoleSessionName: 's1' }))),
    ).toMatchObject({
      name: 'AccessDenied',
      message: `User: arn:aws:iam::${HUB}:root is not authorized to perform: sts:AssumeRole on resource: ${undeclared}`,
      $metadata: { httpStatusCode: 403 },
    });
    const untrusted = await failureOf(
      sts(server, credentials(OTHER)).send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 's1' })),
    );
    expect(untrusted).toMatchObject({ name: 'AccessDenied', message: expect.stringContaining(ROLE) });
    const guarded = `arn:aws:iam::${OTHER}:role/Guarded`;
    for (const ExternalId of [undefined, 'wrong']) {
      expect(
        await failureOf(hub.send(new AssumeRoleCommand({ RoleArn: guarded, RoleSessionName: 's1', ExternalId }))),
      ).toMatchObject({ name: 'AccessDenied', message: expect.stringContaining(guarded) });
    }
    const ok = await hub.send(
      new AssumeRoleCommand({ RoleArn: guarded, RoleSessionName: 's1', ExternalId: 'secret-1' }),
    );
    expect(ok.Credentials?.AccessKeyId).toMatch(new RegExp(`^ASIA${OTHER}`));
  });

  it("trusts a role's sessions when the trust names the role ARN (role chaining)", async () => {
    const chained = `arn:aws:iam::${OTHER}:role/Chained`;
    expect(
      await failureOf(
        sts(server, credentials(HUB)).send(new AssumeRoleCommand({ RoleArn: chained, RoleSessionName: 'cc' })),
      ),
    ).toMatchObject({ name: 'AccessDenied' });
    const first = await sts(server, credentials(HUB)).send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'hop' }),
    );
    const asSpoke = credentials(first.Credentials?.AccessKeyId ?? '', first.Credentials?.SessionToken);
    const second = await sts(server, asSpoke).send(
      new AssumeRoleCommand({ RoleArn: chained, RoleSessionName: 'hop2' }),
    );
    expect(second.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${OTHER}:assumed-role/Chained/hop2`);
  });

  it('answers the Query protocol in XML, validates DurationSeconds, counts and faults sts:<Action>', async () => {
    const answer = await rawSts(server, {
      Action: 'AssumeRole',
      Version: '2011-06-15',
      RoleArn: ROLE,
      RoleSessionName: 'raw',
    });
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('text/xml');
    expect(answer.text).toMatch(
      /^<AssumeRoleResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA\d{12}[A-Z2-7]{4}<\/AccessKeyId><SecretAccessKey>[^<]+<\/SecretAccessKey><SessionToken>[^<]+<\/SessionToken><Expiration>[^<]+Z<\/Expiration><\/Credentials><AssumedRoleUser><AssumedRoleId>AROA[A-Z0-9]{17}:raw<\/AssumedRoleId><Arn>arn:aws:sts::222222222222:assumed-role\/EcrCleanup\/raw<\/Arn><\/AssumedRoleUser>.*<\/AssumeRoleResult><ResponseMetadata><RequestId>[^<]+<\/RequestId><\/ResponseMetadata><\/AssumeRoleResponse>$/,
    );
    for (const DurationSeconds of ['899', '43201', 'x']) {
      const refused = await rawSts(server, {
        Action: 'AssumeRole',
        RoleArn: ROLE,
        RoleSessionName: 'raw',
        DurationSeconds,
      });
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('<Type>Sender</Type><Code>ValidationError</Code>');
    }
    const bad = await rawSts(server, { Action: 'AssumeRole', RoleArn: 'not-an-arn', RoleSessionName: 'raw' });
    expect(bad.text).toContain('<Code>ValidationError</Code>');
    expect((await rawSts(server, { Action: 'Nope' })).text).toContain('<Code>InvalidAction</Code>');
    await control(server, 'faults', { operation: 'sts:GetCallerIdentity', throttleRate: 1 });
    const throttled = await rawSts(server, { Action: 'GetCallerIdentity' });
    expect(throttled.status).toBe(400);
    expect(throttled.text).toContain('<Code>Throttling</Code>');
    const calls = await control<{ operations: Record<string, number> }>(server, 'calls');
    expect(calls.operations).toMatchObject({ 'sts:AssumeRole': 5, 'sts:GetCallerIdentity': 1 });
  });

  it('lists roots, units and accounts of the organization, paged by MaxResults and NextToken', async () => {
    const described = await org(server, 'DescribeOrganization');
    expect(described.body.Organization).toMatchObject({ MasterAccountId: HUB, FeatureSet: 'ALL' });
    const roots = await org(server, 'ListRoots');
    const rootId = roots.body.Roots[0].Id as string;
    expect(rootId).toMatch(/^r-[0-9a-z]{4}$/);
    // Deterministic ids: the same fixture gives the same ids.
    await control(server, 'reset', {});
    await control(server, 'load', FIXTURE);
    expect((await org(server, 'ListRoots')).body.Roots[0].Id).toBe(rootId);

    const units = await org(server, 'ListOrganizationalUnitsForParent', { ParentId: rootId });
    expect(units.body.OrganizationalUnits).toHaveLength(1);
    const workloads = units.body.OrganizationalUnits[0];
    expect(workloads).toMatchObject({ Name: 'workloads', Id: expect.stringMatching(/^ou-[0-9a-z]{4}-[0-9a-z]{8}$/) });
    const nested = await org(server, 'ListOrganizationalUnitsForParent', { ParentId: workloads.Id });
    expect(nested.body.OrganizationalUnits.map((u: { Name: string }) => u.Name)).toEqual(['prod']);
    const underProd = await org(server, 'ListAccountsForParent', { ParentId: nested.body.OrganizationalUnits[0].Id });
    expect(underProd.body.Accounts).toEqual([
      expect.objectContaining({ Id: SPOKE, Name: 'spoke', Email: 'spoke@example.org', Status: 'ACTIVE' }),
    ]);
    const underRoot = await org(server, 'ListAccountsForParent', { ParentId: rootId });
    expect(underRoot.body.Accounts.map((a: { Id: string }) => a.Id)).toEqual([HUB, '444444444444']);

    const ids: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await org(server, 'ListAccounts', { MaxResults: 10, ...(token ? { NextToken: token } : {}) });
      expect(page.status).toBe(200);
      ids.push(...page.body.Accounts.map((a: { Id: string }) => a.Id));
      token = page.body.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(ids).toHaveLength(26);
    expect(new Set(ids).size).toBe(26);
    const firstPage = await org(server, 'ListAccountsForParent', { ParentId: workloads.Id });
    expect(firstPage.body.Accounts).toHaveLength(20);
    expect(firstPage.body.NextToken).toBeDefined();

    for (const MaxResults of [0, 21]) {
      expect((await org(server, 'ListAccounts', { MaxResults })).body.__type).toBe('InvalidInputException');
    }
    expect((await org(server, 'ListAccounts', { NextToken: 'bogus' })).body.__type).toBe('InvalidInputException');
    const missing = await org(server, 'ListAccountsForParent', { ParentId: 'ou-abcd-zzzzzzzz' });
    expect(missing).toMatchObject({ status: 400, body: { __type: 'ParentNotFoundException' } });
    // A member account is not the management account; an account outside the organization sees none.
    expect((await org(server, 'ListAccounts', {}, SPOKE)).body.__type).toBe('AccessDeniedException');
    expect((await org(server, 'ListAccounts', {}, '999999999999')).body.__type).toBe(
      'AWSOrganizationsNotInUseException',
    );
    await control(server, 'reset', {});
    expect((await org(server, 'ListRoots')).body.__type).toBe('AWSOrganizationsNotInUseException');
    const calls = await control<{ operations: Record<string, number> }>(server, 'calls');
    expect(calls.operations).toMatchObject({ 'organizations:ListRoots': 1 });
  });

  it('refuses invalid iam and organization sections', async () => {
    const bad = [
      { iam: { roles: [{ account: '12', name: 'r', trust: [HUB] }] } },
      { iam: { roles: [{ account: SPOKE, name: 'r', trust: [] }] } },
      { organization: { managementAccount: HUB, units: [{ name: 'a', parent: 'missing' }] } },
      { organization: { managementAccount: HUB, units: [{ name: 'a', accounts: [{ id: 'x', name: 'n' }] }] } },
    ];
    for (const fixture of bad) {
      await expect(control(server, 'load', { repositories: [], ...fixture })).rejects.toThrow(/HTTP 400/);
    }
  });

  it('answers crafted STS and Organizations requests with a clear error, quickly, issuing and changing nothing', async () => {
    // Prepare
    const huge = 'a'.repeat(1_000_000);
    const started = performance.now();
    // Act
    const answers = [
      await rawSts(server, { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: huge, RoleSessionName: 's' }),
      await rawSts(server, { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ROLE, RoleSessionName: huge }),
      await rawSts(server, { Action: 'AssumeRole', RoleArn: `${ROLE}\u0000`, RoleSessionName: 'ok-session' }),
      await rawSts(server, { Action: 'AssumeRole', RoleArn: ROLE, RoleSessionName: 'ok', DurationSeconds: '1e308' }),
      await rawSts(server, { Action: huge }),
      await rawSts(server, { Action: 'AssumeRole', RoleArn: ROLE, RoleSessionName: 'ok', ExternalId: huge }, SPOKE),
    ];
    const organizations = [
      await org(server, 'ListAccounts', { MaxResults: 1e308 }),
      await org(server, 'ListAccounts', { NextToken: huge }),
      await org(server, 'ListAccountsForParent', { ParentId: '../../r-x' }),
      await org(server, 'ListAccountsForParent', { ParentId: { nested: ['x'] } }),
    ];
    const elapsed = performance.now() - started;
    // Assess: every answer an error that says what is wrong, no key issued, nothing stored
    for (const answer of answers) {
      expect(answer.status, answer.text.slice(0, 200)).toBeGreaterThanOrEqual(400);
      expect(answer.text).toMatch(/<ErrorResponse[^>]*>[\s\S]*<Code>\w+<\/Code>[\s\S]*<Message>[^<]+<\/Message>/);
      expect(answer.text).not.toContain('<AccessKeyId>');
      expect(answer.text.length).toBeLessThan(4_096);
    }
    for (const answer of organizations) {
      expect(answer.status).toBe(400);
      expect(JSON.stringify(answer.body).length).toBeLessThan(4_096);
    }
    expect(elapsed).toBeLessThan(5_000);
    const listed = await org(server, 'ListAccounts', {});
    expect(listed.status).toBe(200);
  });
});

describe('STS and Organizations with a data directory', () => {
  const dirs: string[] = [];
  const servers: RegistryServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps roles and the organization across restarts, through the journal and through a snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-ecr-identity-'));
    dirs.push(dir);
    const first = await startTestRegistry({ dataDir: dir });
    await control(first, 'load', FIXTURE);
    const before = (await org(first, 'ListAccounts', { MaxResults: 20 })).body;
    await first.close();
    const expectKept = async (server: RegistryServer) => {
      expect((await org(server, 'ListAccounts', { MaxResults: 20 })).body).toEqual(before);
      const assumed = await sts(server, credentials(HUB)).send(
        new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'again' }),
      );
      expect(assumed.AssumedRoleUser?.Arn).toContain(SPOKE);
    };
    const second = await startTestRegistry({ dataDir: dir, compactBytes: 1 });
    await expectKept(second);
    await control(second, 'load', { repositories: [{ name: 'compact-now' }] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await second.close();
    const third = await startTestRegistry({ dataDir: dir });
    servers.push(third);
    expect(third.dataDir?.replayedRecords).toBe(0);
    await expectKept(third);
  });
});
