import { EcrException } from '../wire/errors.ts';
import type { Identity, OrgAccount, Organization } from './state.ts';

/** AWS Organizations over JSON 1.1: `X-Amz-Target: AWSOrganizationsV20161128.<Op>` on the registry's port. */
export const ORGANIZATIONS_TARGET_PREFIX = 'AWSOrganizationsV20161128.';

const PAGE_MAX = 20;
const PARENT_ID = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;

const invalidInput = (message: string, reason: string) =>
  new EcrException('InvalidInputException', message, 400, { Reason: reason });

export interface OrganizationsCall {
  /** The caller's account (the management account's only may list). */
  account: string;
  identity: Identity;
}

type Operation = (input: Record<string, unknown>, call: OrganizationsCall) => Record<string, unknown>;

function organizationOf(call: OrganizationsCall): Organization {
  const organization = call.identity.organization;
  const member =
    organization &&
    (organization.managementAccount === call.account ||
      organization.rootAccounts.some((account) => account.id === call.account) ||
      organization.units.some((unit) => unit.accounts.some((account) => account.id === call.account)));
  if (!organization || !member) {
    throw new EcrException('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.');
  }
  return organization;
}

/** The organization, for an operation only its management account may call. */
function managed(call: OrganizationsCall): Organization {
  const organization = organizationOf(call);
  if (organization.managementAccount !== call.account) {
    throw new EcrException('AccessDeniedException', "You don't have permissions to access this resource.");
  }
  return organization;
}

/** One page of `items`: `MaxResults` (1 to 20; default 20) after the offset `NextToken` carries. */
function page<T>(items: T[], input: Record<string, unknown>, key: string, what: string): Record<string, unknown> {
  const max = input.MaxResults ?? PAGE_MAX;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > PAGE_MAX) {
    throw invalidInput(
      `You provided a value that does not match the required pattern: MaxResults must be between 1 and ${PAGE_MAX}.`,
      'INVALID_PARAMETER_VALUE',
    );
  }
  let start = 0;
  if (input.NextToken !== undefined) {
    const token = typeof input.NextToken === 'string' ? input.NextToken : '';
    const decoded = /^(\w+):(\d{1,6})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!decoded || decoded[1] !== what || Number(decoded[2]) > items.length) {
      throw invalidInput('The provided pagination token is invalid.', 'INVALID_NEXT_TOKEN');
    }
    start = Number(decoded[2]);
  }
  const end = start + max;
  return {
    [key]: items.slice(start, end),
    ...(end < items.length ? { NextToken: Buffer.from(`${what}:${end}`).toString('base64url') } : {}),
  };
}

const arnOf = (organization: Organization, kind: string, id: string) =>
  `arn:aws:organizations::${organization.managementAccount}:${kind}/${organization.id}/${id}`;

const accountShape = (organization: Organization, account: OrgAccount) => ({
  Id: account.id,
  Arn: arnOf(organization, 'account', account.id),
  Email: account.email,
  Name: account.name,
  Status: account.status,
  State: account.status === 'ACTIVE' ? 'ACTIVE' : account.status,
  JoinedMethod: account.id === organization.managementAccount ? 'CREATED' : 'INVITED',
  JoinedTimestamp: organization.createdAt / 1000,
});

/** The accounts directly under a parent (root or unit); ParentNotFoundException when there is no such parent. */
function childrenOf(organization: Organization, input: Record<string, unknown>) {
  const parentId = input.ParentId;
  if (typeof parentId !== 'string' || !PARENT_ID.test(parentId)) {
    throw invalidInput(
      'You provided a value that does not match the required pattern: ParentId.',
      'INVALID_PARTY_TYPE_TARGET',
    );
  }
  if (parentId === organization.rootId) {
    return { accounts: organization.rootAccounts, units: organization.units.filter((u) => u.parentId === parentId) };
  }
  const unit = organization.units.find((candidate) => candidate.id === parentId);
  if (!unit)
    throw new EcrException(
      'ParentNotFoundException',
      "We can't find a root or OU with the ParentId that you specified.",
    );
  return { accounts: unit.accounts, units: organization.units.filter((u) => u.parentId === parentId) };
}

export const organizationsOperations: Record<string, Operation> = {
  DescribeOrganization: (_input, call) => {
    const organization = organizationOf(call);
    const management = organization.rootAccounts.find((a) => a.id === organization.managementAccount);
    return {
      Organization: {
        Id: organization.id,
        Arn: `arn:aws:organizations::${organization.managementAccount}:organization/${organization.id}`,
        FeatureSet: 'ALL',
        MasterAccountArn: arnOf(organization, 'account', organization.managementAccount),
        MasterAccountId: organization.managementAccount,
        MasterAccountEmail: management?.email ?? `${organization.managementAccount}@example.com`,
        AvailablePolicyTypes: [],
      },
    };
  },
  ListRoots: (input, call) => {
    const organization = managed(call);
    const root = {
      Id: organization.rootId,
      Arn: arnOf(organization, 'root', organization.rootId),
      Name: 'Root',
      PolicyTypes: [],
    };
    return page([root], input, 'Roots', 'roots');
  },
  ListOrganizationalUnitsForParent: (input, call) => {
    const organization = managed(call);
    const { units } = childrenOf(organization, input);
    const shapes = units.map((unit) => ({ Id: unit.id, Arn: arnOf(organization, 'ou', unit.id), Name: unit.name }));
    return page(shapes, input, 'OrganizationalUnits', 'units');
  },
  ListAccountsForParent: (input, call) => {
    const organization = managed(call);
    const { accounts } = childrenOf(organization, input);
    return page(
      accounts.map((account) => accountShape(organization, account)),
      input,
      'Accounts',
      'parent',
    );
  },
  ListAccounts: (input, call) => {
    const organization = managed(call);
    const all = [...organization.rootAccounts, ...organization.units.flatMap((unit) => unit.accounts)];
    return page(
      all.map((account) => accountShape(organization, account)),
      input,
      'Accounts',
      'accounts',
    );
  },
};
