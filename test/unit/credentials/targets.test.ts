import {
  AccessDeniedException,
  AWSOrganizationsNotInUseException,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
  ParentNotFoundException,
  ServiceException,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { type TargetsConfig, TargetsConfigSchema } from '../../../shared/config/targets-schema.ts';
import { resolveTargets, TargetsResolutionError, targetsFromListings } from '../../../shared/credentials/index.ts';
import { EcrUnavailableError } from '../../../shared/ecr/index.ts';
import {
  type AccountsUnderParents,
  createOrganizationsGateway,
  type OrganizationAccount,
  type OrganizationAccountState,
} from '../../../shared/organizations/index.ts';

const organizations = mockClient(OrganizationsClient);
afterEach(() => {
  organizations.reset();
});

const metadata = { httpStatusCode: 400, attempts: 1 };
const ROOT = 'r-abcd';
const PROD = 'ou-abcd-11111111';
const DEV = 'ou-abcd-22222222';
const MANAGEMENT = '100000000000';
const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const D = '444444444444';
const SUSPENDED = '555555555555';
const OUTSIDER = '999999999999';

const config = (section: Partial<TargetsConfig>): TargetsConfig =>
  TargetsConfigSchema.parse({ regions: ['eu-west-1'], roleName: 'EcrAutomation', ...section });

const account = (id: string, state: OrganizationAccountState = 'ACTIVE'): OrganizationAccount => ({ id, state });
const under = (part: Partial<AccountsUnderParents>): AccountsUnderParents => ({
  accounts: [],
  inactive: [],
  notFound: [],
  unitsVisited: 1,
  ...part,
});
const MEMBERS = [MANAGEMENT, A, B, C, D].map((id) => account(id)).concat(account(SUSPENDED, 'SUSPENDED'));

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
};
const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

describe('targetsFromListings', () => {
  it('works in every named and discovered account, less the excluded, in every region, sorted, each pair once', () => {
    // Prepare
    const section = config({
      accounts: [C, A, C],
      organizationalUnits: [PROD],
      exclude: [D],
      regions: ['us-east-1', 'eu-west-1', 'us-east-1'],
    });
    // Act
    const resolved = targetsFromListings(section, {
      members: MEMBERS,
      underUnits: under({ accounts: [account(B), account(C), account(D)] }),
    });
    // Assess
    expect(resolved.targets).toEqual([
      { account: A, region: 'eu-west-1' },
      { account: A, region: 'us-east-1' },
      { account: B, region: 'eu-west-1' },
      { account: B, region: 'us-east-1' },
      { account: C, region: 'eu-west-1' },
      { account: C, region: 'us-east-1' },
    ]);
    expect(resolved).toMatchObject({
      accounts: [A, B, C],
      named: [A, C],
      discovered: [B, C, D],
      excluded: [D],
      inactive: [],
      membership: 'checked',
      warnings: [],
    });
  });

  it('leaves out inactive accounts: discovered ones silently, named ones with a warning', () => {
    // Prepare
    const section = config({ accounts: [A, SUSPENDED], organizationalUnits: [ROOT] });
    // Act
    const resolved = targetsFromListings(section, {
      members: MEMBERS,
      underUnits: under({ accounts: [account(B)], inactive: [account(SUSPENDED, 'SUSPENDED'), account(C, 'CLOSED')] }),
    });
    // Assess
    expect(resolved.accounts).toEqual([A, B]);
    expect(resolved.inactive).toEqual([
      { account: C, state: 'CLOSED' },
      { account: SUSPENDED, state: 'SUSPENDED' },
    ]);
    expect(resolved.warnings).toEqual([
      {
        kind: 'inactive-account',
        subject: SUSPENDED,
        message: `account ${SUSPENDED} is SUSPENDED in the organisation, not ACTIVE: it is left out`,
      },
    ]);
  });

  it('refuses every unknown unit and unknown named account at once, naming each', () => {
    // Prepare
    const section = config({ accounts: [A, OUTSIDER], organizationalUnits: [PROD, DEV] });
    // Act
    const error = thrown(() =>
      targetsFromListings(section, { members: MEMBERS, underUnits: under({ notFound: [DEV] }) }),
    );
    // Assess
    expect(error).toBeInstanceOf(TargetsResolutionError);
    expect((error as TargetsResolutionError).problems).toEqual([
      {
        kind: 'unknown-organizational-unit',
        subject: DEV,
        message: `organisational unit ${DEV} does not exist in the organisation (ParentNotFoundException)`,
      },
      {
        kind: 'unknown-account',
        subject: OUTSIDER,
        message: `account ${OUTSIDER} is not a member of the organisation`,
      },
    ]);
    expect((error as Error).message).toBe(
      `The targets section cannot be resolved (no account is worked in): organisational unit ${DEV} does not exist in the organisation (ParentNotFoundException); account ${OUTSIDER} is not a member of the organisation`,
    );
  });

  it('warns about an excluded account that is not a member, and goes on', () => {
    // Prepare
    const section = config({ organizationalUnits: [ROOT], exclude: [OUTSIDER, B] });
    // Act
    const resolved = targetsFromListings(section, {
      members: MEMBERS,
      underUnits: under({ accounts: [account(A), account(B)] }),
    });
    // Assess
    expect(resolved.accounts).toEqual([A]);
    expect(resolved.excluded).toEqual([B]);
    expect(resolved.warnings).toEqual([
      {
        kind: 'excluded-not-member',
        subject: OUTSIDER,
        message: `excluded account ${OUTSIDER} is not a member of the organisation`,
      },
    ]);
  });

  it('takes named accounts as named, with a warning, when the organisation cannot be read', () => {
    // Prepare
    const section = config({ accounts: [B, OUTSIDER] });
    // Act
    const resolved = targetsFromListings(section, {
      unreadable: { code: 'AccessDeniedException', message: 'denied' },
    });
    // Assess
    expect(resolved.accounts).toEqual([B, OUTSIDER]);
    expect(resolved.membership).toBe('unchecked');
    expect(resolved.warnings).toEqual([
      {
        kind: 'membership-unchecked',
        subject: 'AccessDeniedException',
        message: `the accounts ${B}, ${OUTSIDER} are taken as named: the organisation could not be read to check them (AccessDeniedException)`,
      },
    ]);
  });

  it('refuses organisational units when the organisation cannot be read, or was not read', () => {
    // Prepare
    const section = config({ accounts: [A], organizationalUnits: [PROD] });
    // Act
    const unreadable = thrown(() =>
      targetsFromListings(section, {
        unreadable: { code: 'AWSOrganizationsNotInUseException', message: 'not a member' },
      }),
    );
    const notRead = thrown(() => targetsFromListings(section, {}));
    // Assess
    expect((unreadable as TargetsResolutionError).problems).toEqual([
      expect.objectContaining({ kind: 'organization-unreadable', subject: 'AWSOrganizationsNotInUseException' }),
    ]);
    expect((unreadable as Error).message).toContain(`the organisational units ${PROD} cannot be read`);
    expect((notRead as TargetsResolutionError).problems).toEqual([
      expect.objectContaining({ kind: 'organization-unreadable', subject: 'NotRead' }),
    ]);
  });

  it('applies exclude to named accounts too, should a section bypass the schema that refuses both', () => {
    // Act
    const resolved = targetsFromListings({ ...config({ accounts: [A, B] }), exclude: [A] }, { members: MEMBERS });
    // Assess
    expect(resolved).toMatchObject({ accounts: [B], named: [B], excluded: [A] });
  });

  it('says there was nothing to check when no account is named or excluded', () => {
    // Act
    const resolved = targetsFromListings(config({ organizationalUnits: [ROOT] }), {
      underUnits: under({ accounts: [account(A)] }),
    });
    // Assess
    expect(resolved.membership).toBe('none');
    expect(resolved.targets).toEqual([{ account: A, region: 'eu-west-1' }]);
  });
});

describe('resolveTargets', () => {
  const gateway = () => createOrganizationsGateway(new OrganizationsClient({ region: 'us-east-1' }));

  /** The root holds the management account and PROD; PROD holds A and DEV; DEV holds B and a suspended account. */
  function organization() {
    const parents: Record<string, { accounts: object[]; units: string[] }> = {
      [ROOT]: { accounts: [{ Id: MANAGEMENT, State: 'ACTIVE' }], units: [PROD] },
      [PROD]: { accounts: [{ Id: A, State: 'ACTIVE' }], units: [DEV] },
      [DEV]: {
        accounts: [
          { Id: B, State: 'ACTIVE' },
          { Id: SUSPENDED, State: 'SUSPENDED' },
        ],
        units: [],
      },
    };
    const parentOf = (input: { ParentId?: string }) => {
      const parent = parents[input.ParentId ?? ''];
      if (!parent) throw new ParentNotFoundException({ message: 'no such parent', $metadata: metadata });
      return parent;
    };
    organizations
      .on(ListAccountsForParentCommand)
      .callsFake((input: { ParentId?: string }) => ({ Accounts: parentOf(input).accounts }));
    organizations.on(ListOrganizationalUnitsForParentCommand).callsFake((input: { ParentId?: string }) => ({
      OrganizationalUnits: parentOf(input).units.map((Id) => ({ Id })),
    }));
    organizations
      .on(ListAccountsCommand)
      .resolves({ Accounts: Object.values(parents).flatMap((parent) => parent.accounts) });
  }

  it('discovers the active accounts under a unit, recursively, and checks the named ones', async () => {
    // Prepare
    organization();
    const org = gateway();
    // Act
    const resolved = await resolveTargets(config({ accounts: [MANAGEMENT], organizationalUnits: [PROD] }), org);
    // Assess
    expect(resolved.accounts).toEqual([MANAGEMENT, A, B]);
    expect(resolved.discovered).toEqual([A, B]);
    expect(resolved.inactive).toEqual([{ account: SUSPENDED, state: 'SUSPENDED' }]);
    expect(resolved.membership).toBe('checked');
    expect(org.callCounts()).toEqual({
      ListAccounts: 1,
      ListAccountsForParent: 2,
      ListOrganizationalUnitsForParent: 2,
    });
  });

  it('reads no membership when no account is named or excluded', async () => {
    // Prepare
    organization();
    const org = gateway();
    // Act
    const resolved = await resolveTargets(config({ organizationalUnits: [ROOT] }), org);
    // Assess
    expect(resolved.accounts).toEqual([MANAGEMENT, A, B]);
    expect(org.callCounts().ListAccounts).toBeUndefined();
  });

  it('refuses an unknown unit and an unknown named account', async () => {
    // Prepare
    organization();
    // Act
    const error = await rejectionOf(
      resolveTargets(config({ accounts: [OUTSIDER], organizationalUnits: ['ou-abcd-99999999', PROD] }), gateway()),
    );
    // Assess
    expect(error).toBeInstanceOf(TargetsResolutionError);
    expect((error as TargetsResolutionError).problems.map((p) => [p.kind, p.subject])).toEqual([
      ['unknown-organizational-unit', 'ou-abcd-99999999'],
      ['unknown-account', OUTSIDER],
    ]);
  });

  it('takes named accounts unchecked when Organizations denies access or is not in use, and without a gateway', async () => {
    // Prepare
    organizations
      .on(ListAccountsCommand)
      .rejectsOnce(new AccessDeniedException({ message: 'denied', $metadata: { ...metadata, httpStatusCode: 403 } }))
      .rejectsOnce(new AWSOrganizationsNotInUseException({ message: 'not in use', $metadata: metadata }));
    const section = config({ accounts: [A] });
    // Act
    const denied = await resolveTargets(section, gateway());
    const notInUse = await resolveTargets(section, gateway());
    const without = await resolveTargets(section);
    // Assess
    for (const resolved of [denied, notInUse, without]) {
      expect(resolved.accounts).toEqual([A]);
      expect(resolved.membership).toBe('unchecked');
    }
    expect(denied.warnings.map((w) => w.subject)).toEqual(['AccessDeniedException']);
    expect(notInUse.warnings.map((w) => w.subject)).toEqual(['AWSOrganizationsNotInUseException']);
    expect(without.warnings.map((w) => w.subject)).toEqual(['NotRead']);
  });

  it('refuses units when Organizations denies access, and units without a gateway', async () => {
    // Prepare
    organizations
      .on(ListAccountsForParentCommand)
      .rejects(new AccessDeniedException({ message: 'denied', $metadata: { ...metadata, httpStatusCode: 403 } }));
    const section = config({ organizationalUnits: [PROD] });
    // Act
    const denied = await rejectionOf(resolveTargets(section, gateway()));
    const without = await rejectionOf(resolveTargets(section));
    // Assess
    expect((denied as TargetsResolutionError).problems.map((p) => [p.kind, p.subject])).toEqual([
      ['organization-unreadable', 'AccessDeniedException'],
    ]);
    expect((without as TargetsResolutionError).problems.map((p) => [p.kind, p.subject])).toEqual([
      ['organization-unreadable', 'NotRead'],
    ]);
  });

  it('throws any other failure as the gateway mapped it (retryable)', async () => {
    // Prepare
    organizations
      .on(ListAccountsCommand)
      .rejects(new ServiceException({ message: 'boom', $metadata: { ...metadata, httpStatusCode: 500 } }));
    // Act
    const error = await rejectionOf(resolveTargets(config({ accounts: [A] }), gateway()));
    // Assess
    expect(error).toBeInstanceOf(EcrUnavailableError);
    expect(error).toMatchObject({ retryable: true });
  });

  it('quotes at most 300 characters of what Organizations answered', async () => {
    // Prepare
    organizations
      .on(ListAccountsForParentCommand)
      .rejects(
        new AccessDeniedException({ message: 'x'.repeat(100_000), $metadata: { ...metadata, httpStatusCode: 403 } }),
      );
    // Act
    const error = await rejectionOf(resolveTargets(config({ organizationalUnits: [PROD] }), gateway()));
    // Assess
    expect((error as Error).message.length).toBeLessThan(1000);
  });

  it('quotes at most 100 characters of the code of a denial that names itself at length', async () => {
    // Prepare: an unmodelled 403 whose name is long: a denial by its status.
    organizations
      .on(ListAccountsCommand)
      .rejects({ name: 'Denied'.repeat(10_000), message: 'no', $metadata: { httpStatusCode: 403 } });
    // Act
    const resolved = await resolveTargets(config({ accounts: [A] }), gateway());
    // Assess
    expect(resolved.membership).toBe('unchecked');
    expect(resolved.warnings[0]?.subject).toHaveLength(100);
    expect(resolved.warnings[0]?.message.length).toBeLessThan(400);
  });
});
