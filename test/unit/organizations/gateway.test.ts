import {
  AccessDeniedException,
  AWSOrganizationsNotInUseException,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
  ParentNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessDeniedError, EcrGatewayError, ThrottledError } from '../../../shared/ecr/index.ts';
import {
  createOrganizationsClient,
  createOrganizationsGateway,
  isOrganizationUnreadable,
  isParentNotFound,
  MAX_ORGANIZATION_ACCOUNTS,
  MAX_ORGANIZATION_UNITS,
  MAX_ORGANIZATIONS_REQUESTS,
  ORGANIZATIONS_PAGE_SIZE,
  OrganizationTooLargeError,
} from '../../../shared/organizations/index.ts';

const organizations = mockClient(OrganizationsClient);
afterEach(() => {
  organizations.reset();
});

const gateway = () => createOrganizationsGateway(new OrganizationsClient({ region: 'us-east-1' }));
const metadata = { httpStatusCode: 400, attempts: 1 };

const ROOT = 'r-abcd';
const unitId = (n: number) => `ou-abcd-${String(n).padStart(8, '0')}`;
const accountId = (n: number) => String(100_000_000_000 + n);
const active = (n: number) => ({
  Id: accountId(n),
  Name: `a${n}`,
  Status: 'ACTIVE' as const,
  State: 'ACTIVE' as const,
});

/**
 * A tree answered by ParentId: each parent's accounts and child units, in pages of `pageSize`, with ParentNotFound
 * for a parent it does not hold.
 */
function tree(
  parents: Record<string, { accounts?: object[]; units?: string[] }>,
  pageSize = ORGANIZATIONS_PAGE_SIZE,
): void {
  const paged = <T>(items: T[], token: string | undefined) => {
    const start = token === undefined ? 0 : Number(token);
    const end = start + pageSize;
    return { items: items.slice(start, end), next: end < items.length ? String(end) : undefined };
  };
  const parentOf = (input: { ParentId?: string }) => {
    const parent = parents[input.ParentId ?? ''];
    if (parent === undefined) {
      throw new ParentNotFoundException({
        message: "We can't find a root or OU with the ParentId",
        $metadata: metadata,
      });
    }
    return parent;
  };
  organizations.on(ListAccountsForParentCommand).callsFake((input: { ParentId?: string; NextToken?: string }) => {
    const { items, next } = paged(parentOf(input).accounts ?? [], input.NextToken);
    return { Accounts: items, NextToken: next };
  });
  organizations
    .on(ListOrganizationalUnitsForParentCommand)
    .callsFake((input: { ParentId?: string; NextToken?: string }) => {
      const { items, next } = paged(parentOf(input).units ?? [], input.NextToken);
      return { OrganizationalUnits: items.map((Id) => ({ Id, Name: Id })), NextToken: next };
    });
}

const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

describe('the Organizations client', () => {
  it('takes the endpoint, region and credentials it is given', async () => {
    // Act
    const client = createOrganizationsClient({
      endpoint: 'http://127.0.0.1:5000',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 2,
    });
    // Assess
    expect(await client.config.region()).toBe('eu-west-1');
    expect(await client.config.maxAttempts()).toBe(2);
    expect((await client.config.credentials()).accessKeyId).toBe('a');
  });
});

describe('the Organizations gateway: accountsUnder', () => {
  it('walks every unit under a root, recursively, to the last page of each listing, with pages of 20', async () => {
    // Prepare: the root holds 25 accounts and 2 units; unit 1 holds unit 3 (22 accounts, one suspended).
    tree({
      [ROOT]: { accounts: Array.from({ length: 25 }, (_, i) => active(i)), units: [unitId(1), unitId(2)] },
      [unitId(1)]: { accounts: [active(100)], units: [unitId(3)] },
      [unitId(2)]: {},
      [unitId(3)]: {
        accounts: [
          ...Array.from({ length: 21 }, (_, i) => active(200 + i)),
          { Id: accountId(300), Status: 'SUSPENDED', State: 'SUSPENDED' },
        ],
      },
    });
    const org = gateway();
    // Act
    const under = await org.accountsUnder([ROOT]);
    // Assess
    expect(under.accounts).toHaveLength(25 + 1 + 21);
    expect(under.accounts.map((account) => account.id)).toEqual(
      [...Array.from({ length: 25 }, (_, i) => i), 100, ...Array.from({ length: 21 }, (_, i) => 200 + i)]
        .map(accountId)
        .sort(),
    );
    expect(under.accounts.find((account) => account.id === accountId(100))).toEqual({
      id: accountId(100),
      name: 'a100',
      state: 'ACTIVE',
      parentId: unitId(1),
    });
    expect(under.inactive).toEqual([{ id: accountId(300), state: 'SUSPENDED', parentId: unitId(3) }]);
    expect(under.notFound).toEqual([]);
    expect(under.unitsVisited).toBe(4);
    const requests = organizations.commandCalls(ListAccountsForParentCommand).map((call) => call.args[0].input);
    expect(requests.slice(0, 2)).toEqual([
      { ParentId: ROOT, MaxResults: 20, NextToken: undefined },
      { ParentId: ROOT, MaxResults: 20, NextToken: '20' },
    ]);
    expect(org.callCounts()).toEqual({ ListAccountsForParent: 6, ListOrganizationalUnitsForParent: 4 });
  });

  it('reads each unit once when parents overlap or repeat, and stops at a unit listed as its own descendant', async () => {
    // Prepare: unit 1 lists unit 2, which lists unit 1 again (a cycle no real organisation has).
    tree({
      [unitId(1)]: { accounts: [active(1)], units: [unitId(2)] },
      [unitId(2)]: { accounts: [active(2), active(1)], units: [unitId(1)] },
    });
    const org = gateway();
    // Act
    const under = await org.accountsUnder([unitId(2), unitId(1), unitId(2)]);
    // Assess
    expect(under.accounts.map((account) => account.id)).toEqual([accountId(1), accountId(2)]);
    expect(under.unitsVisited).toBe(2);
    expect(org.callCounts()).toEqual({ ListAccountsForParent: 2, ListOrganizationalUnitsForParent: 2 });
  });

  it('takes State over Status, and treats an account with neither, or an unknown one, as not active', async () => {
    // Prepare
    tree({
      [ROOT]: {
        accounts: [
          { Id: accountId(1), Status: 'ACTIVE', State: 'SUSPENDED' },
          { Id: accountId(2), Status: 'ACTIVE' },
          { Id: accountId(3), State: 'PENDING_CLOSURE' },
          { Id: accountId(4), State: 'CLOSED' },
          { Id: accountId(5), State: 'PENDING_ACTIVATION' },
          { Id: accountId(6) },
          { Id: accountId(7), State: 'HIBERNATING' },
          { Id: accountId(8), Status: 'SUSPENDED' },
          { Id: 'not-an-account', State: 'ACTIVE' },
          { State: 'ACTIVE' },
        ],
      },
    });
    // Act
    const under = await gateway().accountsUnder([ROOT]);
    // Assess
    expect(under.accounts.map((account) => account.id)).toEqual([accountId(2)]);
    expect(under.inactive.map(({ id, state }) => [id, state])).toEqual([
      [accountId(1), 'SUSPENDED'],
      [accountId(3), 'PENDING_CLOSURE'],
      [accountId(4), 'CLOSED'],
      [accountId(5), 'PENDING_ACTIVATION'],
      [accountId(6), 'UNKNOWN'],
      [accountId(7), 'UNKNOWN'],
      [accountId(8), 'SUSPENDED'],
    ]);
  });

  it('lists a parent Organizations does not know apart, and reads the others', async () => {
    // Prepare
    tree({ [unitId(1)]: { accounts: [active(1)] } });
    // Act
    const under = await gateway().accountsUnder([unitId(9), unitId(1), 'r-NOT-VALID']);
    // Assess
    expect(under.notFound).toEqual([unitId(9), 'r-NOT-VALID']);
    expect(under.accounts.map((account) => account.id)).toEqual([accountId(1)]);
    expect(under.unitsVisited).toBe(1);
  });

  it('passes over a child unit that is gone by the time it is read', async () => {
    // Prepare: the root lists unit 1, which no longer exists.
    tree({ [ROOT]: { accounts: [active(1)], units: [unitId(1)] } });
    // Act
    const under = await gateway().accountsUnder([ROOT]);
    // Assess
    expect(under.notFound).toEqual([]);
    expect(under.accounts.map((account) => account.id)).toEqual([accountId(1)]);
  });

  it('follows a token across empty pages, and ends a listing whose token repeats', async () => {
    // Prepare
    organizations
      .on(ListAccountsForParentCommand)
      .resolvesOnce({ Accounts: [], NextToken: 'a' })
      .resolvesOnce({ Accounts: [active(1)], NextToken: 'b' })
      .resolvesOnce({ Accounts: [active(2)], NextToken: 'b' });
    organizations.on(ListOrganizationalUnitsForParentCommand).resolves({});
    // Act
    const under = await gateway().accountsUnder([ROOT]);
    // Assess
    expect(under.accounts.map((account) => account.id)).toEqual([accountId(1), accountId(2)]);
    expect(organizations.commandCalls(ListAccountsForParentCommand)).toHaveLength(3);
  });

  it(`refuses more than ${MAX_ORGANIZATION_UNITS} units`, async () => {
    // Prepare: the root has more child units than the bound, none with accounts.
    const units = Array.from({ length: MAX_ORGANIZATION_UNITS }, (_, i) => unitId(i));
    organizations.on(ListAccountsForParentCommand).resolves({ Accounts: [] });
    organizations
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: ROOT })
      .resolves({ OrganizationalUnits: units.map((Id) => ({ Id })) });
    // Act
    const error = await rejectionOf(gateway().accountsUnder([ROOT]));
    // Assess
    expect(error).toBeInstanceOf(OrganizationTooLargeError);
    expect(error).toMatchObject({ code: 'OrganizationTooLarge', retryable: false, limit: MAX_ORGANIZATION_UNITS });
    expect((error as Error).message).toContain(`more than ${MAX_ORGANIZATION_UNITS} units`);
    expect(organizations.commandCalls(ListAccountsForParentCommand)).toHaveLength(1);
  });

  it(`refuses more than ${MAX_ORGANIZATION_ACCOUNTS} accounts`, async () => {
    // Prepare: pages of 1,000 (more than Organizations sends) to keep the test short.
    let next = 0;
    organizations.on(ListAccountsForParentCommand).callsFake(() => {
      const start = next;
      next += 1000;
      return { Accounts: Array.from({ length: 1000 }, (_, i) => active(start + i)), NextToken: `t${next}` };
    });
    // Act
    const error = await rejectionOf(gateway().accountsUnder([ROOT]));
    // Assess
    expect(error).toBeInstanceOf(OrganizationTooLargeError);
    expect((error as Error).message).toContain(`more than ${MAX_ORGANIZATION_ACCOUNTS} accounts`);
    expect(organizations.commandCalls(ListAccountsForParentCommand)).toHaveLength(11);
  });

  it(`refuses more than ${MAX_ORGANIZATIONS_REQUESTS} requests of empty pages`, async () => {
    // Prepare
    let n = 0;
    organizations.on(ListAccountsForParentCommand).callsFake(() => ({ Accounts: [], NextToken: `t${n++}` }));
    // Act
    const error = await rejectionOf(gateway().accountsUnder([ROOT]));
    // Assess
    expect(error).toBeInstanceOf(OrganizationTooLargeError);
    expect((error as Error).message).toContain(`more than ${MAX_ORGANIZATIONS_REQUESTS} requests`);
    expect(organizations.commandCalls(ListAccountsForParentCommand)).toHaveLength(MAX_ORGANIZATIONS_REQUESTS);
  });

  it('maps errors into the gateway tree: access denied, not in use, throttled', async () => {
    // Prepare
    organizations
      .on(ListAccountsForParentCommand)
      .rejectsOnce(new AccessDeniedException({ message: 'no', $metadata: { ...metadata, httpStatusCode: 403 } }))
      .rejectsOnce(new AWSOrganizationsNotInUseException({ message: 'not a member', $metadata: metadata }))
      .rejectsOnce(new TooManyRequestsException({ message: 'slow down', $metadata: metadata }));
    const org = gateway();
    // Act
    const denied = await rejectionOf(org.accountsUnder([ROOT]));
    const notInUse = await rejectionOf(org.accountsUnder([ROOT]));
    const throttled = await rejectionOf(org.accountsUnder([ROOT]));
    // Assess
    expect(denied).toBeInstanceOf(AccessDeniedError);
    expect((denied as Error).message).toBe(
      `Organizations ListAccountsForParent on '${ROOT}': AccessDeniedException: no`,
    );
    expect(notInUse).toBeInstanceOf(EcrGatewayError);
    expect(notInUse).toMatchObject({ code: 'AWSOrganizationsNotInUseException', retryable: false });
    expect(throttled).toBeInstanceOf(ThrottledError);
    expect([denied, notInUse, throttled].map(isOrganizationUnreadable)).toEqual([true, true, false]);
    expect([denied, notInUse, throttled].map(isParentNotFound)).toEqual([false, false, false]);
  });
});

describe('the Organizations gateway: listAccounts', () => {
  it('lists every member, whatever its state, to the last page, each once, by id', async () => {
    // Prepare
    organizations
      .on(ListAccountsCommand)
      .resolvesOnce({ Accounts: [active(3), active(1)], NextToken: 'n' })
      .resolvesOnce({ Accounts: [{ Id: accountId(2), State: 'SUSPENDED' }, active(1)] });
    const org = gateway();
    // Act
    const accounts = await org.listAccounts();
    // Assess
    expect(accounts).toEqual([
      { id: accountId(1), name: 'a1', state: 'ACTIVE' },
      { id: accountId(2), state: 'SUSPENDED' },
      { id: accountId(3), name: 'a3', state: 'ACTIVE' },
    ]);
    expect(organizations.commandCalls(ListAccountsCommand).map((call) => call.args[0].input)).toEqual([
      { MaxResults: 20, NextToken: undefined },
      { MaxResults: 20, NextToken: 'n' },
    ]);
    expect(org.callCounts()).toEqual({ ListAccounts: 2 });
  });

  it(`refuses more than ${MAX_ORGANIZATION_ACCOUNTS} accounts`, async () => {
    // Prepare
    let next = 0;
    organizations.on(ListAccountsCommand).callsFake(() => {
      const start = next;
      next += 2000;
      return { Accounts: Array.from({ length: 2000 }, (_, i) => active(start + i)), NextToken: `t${next}` };
    });
    // Act
    const error = await rejectionOf(gateway().listAccounts());
    // Assess
    expect(error).toBeInstanceOf(OrganizationTooLargeError);
    expect(error).toMatchObject({ operation: 'ListAccounts' });
  });

  it('keeps account names to 64 characters', async () => {
    // Prepare
    organizations.on(ListAccountsCommand).resolves({ Accounts: [{ ...active(1), Name: 'x'.repeat(10_000) }] });
    // Act
    const [account] = await gateway().listAccounts();
    // Assess
    expect(account?.name).toHaveLength(64);
  });

  it('sends nothing but its reads', async () => {
    // Prepare
    tree({ [ROOT]: { accounts: [active(1)] } });
    organizations.on(ListAccountsCommand).resolves({ Accounts: [active(1)] });
    const org = gateway();
    // Act
    await org.accountsUnder([ROOT]);
    await org.listAccounts();
    // Assess
    expect(new Set(organizations.calls().map((call) => (call.args[0] as object).constructor.name))).toEqual(
      new Set(['ListAccountsForParentCommand', 'ListOrganizationalUnitsForParentCommand', 'ListAccountsCommand']),
    );
  });
});
