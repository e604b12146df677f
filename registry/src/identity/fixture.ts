import {
  type AccountStatus,
  derivedId,
  type IamRole,
  type Identity,
  MAX_ROLES,
  type OrgAccount,
  type Organization,
  type OrgUnit,
} from './state.ts';

/**
 * The identity part of a fixture (`POST /_local/load`): IAM roles STS AssumeRole may assume, and the AWS
 * Organizations tree. A fixture's roles are added (a role of the same account and name is replaced); its
 * organization replaces the one declared before.
 */
export interface IdentityFixture {
  iam?: { roles?: { account: string; name: string; trust: string[]; externalId?: string }[] };
  organization?: {
    managementAccount: string;
    /** Default: `o-` and ten characters derived from the management account. */
    id?: string;
    /**
     * Organizational units, each under the root (`parent` absent or `root`) or under a unit declared before it. A
     * unit named `root` (without `parent`) declares the accounts directly under the root.
     */
    units?: {
      id?: string;
      name: string;
      parent?: string;
      accounts?: { id: string; name: string; email?: string; status?: AccountStatus }[];
    }[];
  };
}

/** Most organizational units and accounts one organization may declare. */
export const MAX_UNITS = 1_000;
export const MAX_ORG_ACCOUNTS = 10_000;
const MAX_TRUST = 100;

const ACCOUNT = /^\d{12}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const TRUST = /^(\d{12}|\*|arn:aws(-cn|-us-gov)?:(iam|sts)::\d{12}:[\w+=,.@/-]{1,512})$/;
const UNIT_ID = /^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const STATUSES = new Set(['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE']);

const fail = (message: string): never => {
  throw new Error(`Invalid fixture: ${message}`);
};
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown, where: string): unknown[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(`${where} is an array`);
  return value as unknown[];
};
const text = (value: unknown, where: string, pattern?: RegExp, max = 256): string => {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) fail(`${where} is a string`);
  if (pattern && !pattern.test(value as string)) fail(`${where} ${JSON.stringify(value)} does not match ${pattern}`);
  return value as string;
};

/**
 * Validates a fixture's `iam` and `organization` sections and returns what commits them (undefined when the fixture
 * has neither); nothing changes before the commit.
 */
export function buildIdentity(
  identity: Identity,
  raw: Record<string, unknown>,
  now: number,
): (() => { roles: number; accounts: number }) | undefined {
  if (raw.iam === undefined && raw.organization === undefined) return undefined;
  const roles: IamRole[] = [];
  if (raw.iam !== undefined) {
    if (!isObject(raw.iam)) fail('iam is an object');
    const iam = raw.iam as Record<string, unknown>;
    const specs = list(iam.roles, 'iam.roles');
    if (specs.length + identity.roleCount > MAX_ROLES) fail(`more than ${MAX_ROLES} roles`);
    for (const [index, spec] of specs.entries()) {
      const where = `iam.roles[${index}]`;
      if (!isObject(spec)) fail(`${where} is an object`);
      const role = spec as Record<string, unknown>;
      const trust = list(role.trust, `${where}.trust`);
      if (trust.length === 0 || trust.length > MAX_TRUST) fail(`${where}.trust names 1 to ${MAX_TRUST} principals`);
      roles.push({
        account: text(role.account, `${where}.account`, ACCOUNT),
        name: text(role.name, `${where}.name`, ROLE_NAME),
        trust: trust.map((principal, at) => text(principal, `${where}.trust[${at}]`, TRUST, 600)),
        ...(role.externalId === undefined
          ? {}
          : { externalId: text(role.externalId, `${where}.externalId`, /^[\w+=,.@:/-]{2,1224}$/, 1224) }),
      });
    }
  }
  let organization: Organization | undefined;
  if (raw.organization !== undefined) organization = buildOrganization(raw.organization, now);
  return () => {
    identity.putRoles(roles);
    if (organization) identity.organization = organization;
    const accounts = organization
      ? organization.rootAccounts.length + organization.units.reduce((sum, unit) => sum + unit.accounts.length, 0)
      : 0;
    return { roles: roles.length, accounts };
  };
}

function buildOrganization(raw: unknown, now: number): Organization {
  if (!isObject(raw)) fail('organization is an object');
  const spec = raw as Record<string, unknown>;
  const managementAccount = text(spec.managementAccount, 'organization.managementAccount', ACCOUNT);
  const id =
    spec.id === undefined ? `o-${derivedId(`org/${managementAccount}`, 10)}` : text(spec.id, 'organization.id', ORG_ID);
  const rootId = `r-${derivedId(`root/${id}`, 4)}`;
  const seen = new Set<string>();
  const account = (value: unknown, where: string): OrgAccount => {
    if (!isObject(value)) fail(`${where} is an object`);
    const entry = value as Record<string, unknown>;
    const accountId = text(entry.id, `${where}.id`, ACCOUNT);
    if (seen.has(accountId)) fail(`${where}: account ${accountId} is declared twice`);
    seen.add(accountId);
    if (seen.size > MAX_ORG_ACCOUNTS) fail(`more than ${MAX_ORG_ACCOUNTS} accounts`);
    const status = entry.status ?? 'ACTIVE';
    if (typeof status !== 'string' || !STATUSES.has(status)) fail(`${where}.status is one of ${[...STATUSES]}`);
    return {
      id: accountId,
      name: text(entry.name, `${where}.name`, undefined, 50),
      email:
        entry.email === undefined
          ? `${accountId}@example.com`
          : text(entry.email, `${where}.email`, /^[^\s@]+@[^\s@]+$/, 64),
      status: status as AccountStatus,
    };
  };
  const rootAccounts: OrgAccount[] = [];
  const units: OrgUnit[] = [];
  const byName = new Map<string, OrgUnit>();
  const specs = list(spec.units, 'organization.units');
  if (specs.length > MAX_UNITS) fail(`more than ${MAX_UNITS} organizational units`);
  for (const [index, value] of specs.entries()) {
    const where = `organization.units[${index}]`;
    if (!isObject(value)) fail(`${where} is an object`);
    const unit = value as Record<string, unknown>;
    const name = text(unit.name, `${where}.name`, undefined, 128);
    const accounts = list(unit.accounts, `${where}.accounts`).map((entry, at) =>
      account(entry, `${where}.accounts[${at}]`),
    );
    if (name === 'root' && unit.parent === undefined) {
      rootAccounts.push(...accounts);
      continue;
    }
    if (byName.has(name)) fail(`${where}: unit ${name} is declared twice`);
    const parent = unit.parent === undefined ? 'root' : text(unit.parent, `${where}.parent`, undefined, 128);
    const parentId = parent === 'root' ? rootId : byName.get(parent)?.id;
    if (!parentId) fail(`${where}.parent ${JSON.stringify(parent)} is neither root nor a unit declared before it`);
    const unitId =
      unit.id === undefined
        ? `ou-${rootId.slice(2)}-${derivedId(`ou/${id}/${name}`, 8)}`
        : text(unit.id, `${where}.id`, UNIT_ID);
    if (units.some((other) => other.id === unitId)) fail(`${where}: unit id ${unitId} is declared twice`);
    const built: OrgUnit = { id: unitId, name, parentId: parentId as string, accounts };
    units.push(built);
    byName.set(name, built);
  }
  if (!seen.has(managementAccount)) {
    rootAccounts.unshift({
      id: managementAccount,
      name: 'management',
      email: `${managementAccount}@example.com`,
      status: 'ACTIVE',
    });
  }
  return { id, managementAccount, rootId, rootAccounts, units, createdAt: now };
}
