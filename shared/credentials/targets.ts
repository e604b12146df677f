import type { TargetsConfig } from '../config/targets-schema.ts';
import {
  type AccountsUnderParents,
  isOrganizationUnreadable,
  type OrganizationAccount,
  type OrganizationAccountState,
  type OrganizationsGateway,
} from '../organizations/index.ts';

/** One place the service works in: an account and a region. */
export interface TargetLocation {
  account: string;
  region: string;
}

/**
 * Something about the `targets` section that resolving it found:
 *
 * | Kind                          | When                                                                         | Is        |
 * |-------------------------------|------------------------------------------------------------------------------|-----------|
 * | `unknown-organizational-unit` | Organizations knows no root or unit of that id (`ParentNotFoundException`)   | an error  |
 * | `unknown-account`             | a named account is not a member of the organisation, which could be read     | an error  |
 * | `organization-unreadable`     | organisational units are configured and the organisation cannot be read     | an error  |
 * | `inactive-account`            | a named account is a member but not `ACTIVE` (suspended, closing, …): left out | a warning |
 * | `excluded-not-member`         | an excluded account is not a member of the organisation                      | a warning |
 * | `membership-unchecked`        | the organisation cannot be read: the named accounts are taken as named       | a warning |
 *
 * `subject` is what the problem is about: the account, the unit's id, or (for `organization-unreadable` and
 * `membership-unchecked`) the code of Organizations' answer, `NotRead` when it was not asked.
 */
export interface TargetsProblem {
  kind:
    | 'unknown-organizational-unit'
    | 'unknown-account'
    | 'organization-unreadable'
    | 'inactive-account'
    | 'excluded-not-member'
    | 'membership-unchecked';
  subject: string;
  message: string;
}

/** The `targets` section, resolved into the accounts and regions a run works in. */
export interface ResolvedTargets {
  /** Every account of `accounts` in every configured region: sorted by account then region, each pair once. */
  targets: TargetLocation[];
  /** The accounts worked in: the named ones and the discovered ones, less the excluded and the inactive; sorted. */
  accounts: string[];
  /** The named accounts worked in (`accounts` of the config, less the inactive and the excluded); sorted. */
  named: string[];
  /** The `ACTIVE` accounts found under the organisational units, before `exclude`; sorted. */
  discovered: string[];
  /**
   * The accounts `exclude` took out of the named and discovered ones; sorted. (The config's schema refuses an account
   * both named and excluded, so in practice these are discovered ones.)
   */
  excluded: string[];
  /** Accounts named or found under the units that are not `ACTIVE`, with their state: left out; by id. */
  inactive: { account: string; state: OrganizationAccountState }[];
  /**
   * `checked`: the named and excluded accounts were checked against the organisation's members; `unchecked`: the
   * organisation could not be read (or no gateway was given) and only named accounts are configured, so they are
   * taken as named; `none`: no account is named or excluded, there was nothing to check.
   */
  membership: 'checked' | 'unchecked' | 'none';
  /** What a run reports and goes on with (`inactive-account`, `excluded-not-member`, `membership-unchecked`). */
  warnings: TargetsProblem[];
}

/**
 * The `targets` section cannot be resolved as configured: an organisational unit or a named account that does not
 * exist, or organisational units while the organisation cannot be read. Every problem found is in `problems` and in
 * the message; a run that gets this error works in no account.
 */
export class TargetsResolutionError extends Error {
  readonly problems: TargetsProblem[];

  constructor(problems: TargetsProblem[]) {
    super(
      `The targets section cannot be resolved (no account is worked in): ${problems.map((p) => p.message).join('; ')}`,
    );
    this.name = 'TargetsResolutionError';
    this.problems = problems;
  }
}

/**
 * What was read of the organisation for `targetsFromListings`. Leave `members` and `underUnits` out when they were
 * not read; set `unreadable` when the caller may not read the organisation.
 */
export interface OrganizationListings {
  /** Every member of the organisation with its state (ListAccounts). */
  members?: readonly OrganizationAccount[];
  /** The accounts under the configured organisational units (`OrganizationsGateway.accountsUnder`). */
  underUnits?: AccountsUnderParents;
  /** Why the organisation could not be read: the code of Organizations' answer and its message. */
  unreadable?: { code: string; message: string };
}

/** How much of Organizations' error message and code a problem quotes. */
const MAX_MESSAGE = 300;
const MAX_CODE = 100;

const sorted = (items: Iterable<string>): string[] => [...new Set(items)].sort();

/**
 * The pure half of `resolveTargets`: the section and what was read of the organisation, to the targets.
 *
 * - The accounts worked in are the named accounts and the `ACTIVE` accounts under the organisational units, less
 *   `exclude`, each in every configured region.
 * - An organisational unit Organizations does not know, a named account that is not a member of an organisation
 *   that could be read, and organisational units when the organisation cannot be read, are errors: every one of
 *   them is listed in one `TargetsResolutionError`, and nothing is returned.
 * - A named account that is a member but not `ACTIVE` is left out with a warning; an excluded account that is not a
 *   member is a warning; named accounts taken without a membership check are a warning.
 *
 * @throws TargetsResolutionError
 */
export function targetsFromListings(targets: TargetsConfig, listings: OrganizationListings): ResolvedTargets {
  const errors: TargetsProblem[] = [];
  const warnings: TargetsProblem[] = [];
  const named = sorted(targets.accounts ?? []);
  const exclude = sorted(targets.exclude ?? []);
  const units = [...new Set(targets.organizationalUnits ?? [])];
  // Organizations' answer is quoted, bounded.
  const unreadable =
    listings.unreadable === undefined
      ? undefined
      : {
          code: listings.unreadable.code.slice(0, MAX_CODE),
          message: listings.unreadable.message.slice(0, MAX_MESSAGE),
        };

  if (units.length > 0 && (unreadable !== undefined || listings.underUnits === undefined)) {
    errors.push({
      kind: 'organization-unreadable',
      subject: unreadable?.code ?? 'NotRead',
      message: `the organisational units ${units.join(', ')} cannot be read: ${
        unreadable === undefined
          ? 'AWS Organizations was not read'
          : `${unreadable.code}: ${unreadable.message} (the service must run in the management account or a delegated administrator account, with organizations:ListAccounts, organizations:ListAccountsForParent and organizations:ListOrganizationalUnitsForParent)`
      }`,
    });
  }
  for (const unit of listings.underUnits?.notFound ?? []) {
    errors.push({
      kind: 'unknown-organizational-unit',
      subject: unit,
      message: `organisational unit ${unit} does not exist in the organisation (ParentNotFoundException)`,
    });
  }

  const members =
    unreadable === undefined && listings.members !== undefined
      ? new Map(listings.members.map((account) => [account.id, account]))
      : undefined;
  const inactive = new Map<string, OrganizationAccountState>();
  const namedActive: string[] = [];
  for (const account of named) {
    const member = members?.get(account);
    if (members !== undefined && member === undefined) {
      errors.push({
        kind: 'unknown-account',
        subject: account,
        message: `account ${account} is not a member of the organisation`,
      });
    } else if (member !== undefined && member.state !== 'ACTIVE') {
      inactive.set(account, member.state);
      warnings.push({
        kind: 'inactive-account',
        subject: account,
        message: `account ${account} is ${member.state} in the organisation, not ACTIVE: it is left out`,
      });
    } else {
      namedActive.push(account);
    }
  }
  if (members !== undefined) {
    for (const account of exclude) {
      if (!members.has(account)) {
        warnings.push({
          kind: 'excluded-not-member',
          subject: account,
          message: `excluded account ${account} is not a member of the organisation`,
        });
      }
    }
  }
  const membership = named.length + exclude.length === 0 ? 'none' : members === undefined ? 'unchecked' : 'checked';
  if (membership === 'unchecked' && named.length > 0 && errors.length === 0) {
    warnings.push({
      kind: 'membership-unchecked',
      subject: unreadable?.code ?? 'NotRead',
      message: `the accounts ${named.join(', ')} are taken as named: the organisation could not be read to check them${
        unreadable === undefined ? '' : ` (${unreadable.code})`
      }`,
    });
  }
  if (errors.length > 0) throw new TargetsResolutionError(errors);

  for (const account of listings.underUnits?.inactive ?? []) inactive.set(account.id, account.state);
  const discovered = sorted((listings.underUnits?.accounts ?? []).map((account) => account.id));
  const excludedSet = new Set(exclude);
  const candidates = sorted([...namedActive, ...discovered]);
  const excluded = candidates.filter((account) => excludedSet.has(account));
  const accounts = candidates.filter((account) => !excludedSet.has(account));
  const regions = sorted(targets.regions);
  const worked = new Set(accounts);
  return {
    targets: accounts.flatMap((account) => regions.map((region) => ({ account, region }))),
    accounts,
    named: namedActive.filter((account) => !excludedSet.has(account)),
    discovered,
    excluded,
    inactive: [...inactive.entries()]
      .filter(([account]) => !worked.has(account))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([account, state]) => ({ account, state })),
    membership,
    warnings,
  };
}

/**
 * The accounts and regions the `targets` section names: the named accounts and the `ACTIVE` accounts discovered
 * under its organisational units (recursively), less `exclude`, each in every configured region (see
 * `targetsFromListings` for the rules). With a gateway it reads the organisation's members (ListAccounts) when
 * accounts are named or excluded, and the accounts under the units when there are units; the caller must be the
 * organisation's management account or a delegated administrator. An `AccessDeniedError` or
 * `AWSOrganizationsNotInUseException` makes the organisation unreadable (named accounts alone are then taken as
 * named); any other failure of the gateway (throttled, unavailable, `OrganizationTooLargeError`) is thrown as is.
 * Without a gateway, only named accounts can be resolved, unchecked.
 *
 * @throws TargetsResolutionError when the section cannot be resolved as configured: nothing is to be done.
 *
 * @example
 * ```ts
 * const organizations = createOrganizationsGateway(createOrganizationsClient());
 * const { targets, warnings } = await resolveTargets(config.targets, organizations);
 * ```
 */
export async function resolveTargets(
  targets: TargetsConfig,
  organizations?: OrganizationsGateway,
): Promise<ResolvedTargets> {
  const listings: OrganizationListings = {};
  const units = [...new Set(targets.organizationalUnits ?? [])];
  const needsMembers = (targets.accounts?.length ?? 0) + (targets.exclude?.length ?? 0) > 0;
  if (organizations !== undefined) {
    try {
      if (needsMembers) listings.members = await organizations.listAccounts();
      if (units.length > 0) listings.underUnits = await organizations.accountsUnder(units);
    } catch (error) {
      if (!isOrganizationUnreadable(error)) throw error;
      const { code, message } = error as { code: string; message: string };
      listings.unreadable = { code, message };
    }
  }
  return targetsFromListings(targets, listings);
}
