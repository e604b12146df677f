import {
  type Account,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { countedSending } from '../ecr/calls.ts';
import { AccessDeniedError, EcrGatewayError, toServiceGatewayError } from '../ecr/errors.ts';

/**
 * AWS Organizations caps [M-ORG] (botocore `organizations` `service-2.json`, `MaxResults` 1–20): every listing is
 * read with the largest page it allows. Organizations may answer a page with fewer items than asked, or none, while
 * more follow: only a missing `NextToken` ends a listing.
 */
export const ORGANIZATIONS_PAGE_SIZE = 20;
/** Most accounts one listing (`accountsUnder`, `listAccounts`) reads, whatever their state; more is an error. */
export const MAX_ORGANIZATION_ACCOUNTS = 10_000;
/** Most organisational units (roots included) one `accountsUnder` visits; more is an error. */
export const MAX_ORGANIZATION_UNITS = 2_000;
/** Most requests one `accountsUnder` or `listAccounts` sends (pages may come short or empty); more is an error. */
export const MAX_ORGANIZATIONS_REQUESTS = 10_000;

/**
 * An account's state in the organisation: the `State` field when Organizations sends it (`PENDING_ACTIVATION`,
 * `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, `CLOSED`), else the older `Status` (`ACTIVE`, `SUSPENDED`,
 * `PENDING_CLOSURE`, retired by AWS on 9 September 2026); `UNKNOWN` when it sends neither or a value not listed
 * here. Only `ACTIVE` accounts are worked in.
 */
export type OrganizationAccountState =
  | 'PENDING_ACTIVATION'
  | 'ACTIVE'
  | 'SUSPENDED'
  | 'PENDING_CLOSURE'
  | 'CLOSED'
  | 'UNKNOWN';

const STATES: ReadonlySet<string> = new Set(['PENDING_ACTIVATION', 'ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE', 'CLOSED']);

/** An account of the organisation, as a listing showed it. */
export interface OrganizationAccount {
  /** 12 digits. */
  id: string;
  /** Its friendly name (at most 64 characters kept). */
  name?: string;
  state: OrganizationAccountState;
  /** The root or unit it was listed under (`accountsUnder` only). */
  parentId?: string;
}

/** The accounts under some roots and organisational units, recursively through their child units. */
export interface AccountsUnderParents {
  /** The `ACTIVE` accounts, each once, by id. */
  accounts: OrganizationAccount[];
  /** The accounts in any other state (suspended, closing, closed, …), each once, by id: never targets. */
  inactive: OrganizationAccount[];
  /** The parent ids asked for that Organizations does not know (`ParentNotFoundException`), in the order asked. */
  notFound: string[];
  /** The roots and units read, the parents asked for included. */
  unitsVisited: number;
}

/**
 * The organisation is larger than the gateway reads in one listing (`MAX_ORGANIZATION_ACCOUNTS`,
 * `MAX_ORGANIZATION_UNITS`, `MAX_ORGANIZATIONS_REQUESTS`): nothing of the listing is returned. Not retryable.
 */
export class OrganizationTooLargeError extends EcrGatewayError {
  readonly limit: number;

  constructor(operation: string, what: string, limit: number) {
    super(`Organizations ${operation}: more than ${limit} ${what}: the organisation is read only up to that many`, {
      operation,
      code: 'OrganizationTooLarge',
      retryable: false,
    });
    this.name = 'OrganizationTooLargeError';
    this.limit = limit;
  }
}

/** Organizations' answers that a root or unit does not exist (ListAccountsForParent, ListOrganizationalUnitsForParent). */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set([
  'ParentNotFoundException',
  'OrganizationalUnitNotFoundException',
  'TargetNotFoundException',
]);

/** True for an error of this gateway saying that the root or unit it was asked about does not exist. */
export const isParentNotFound = (error: unknown): boolean =>
  error instanceof EcrGatewayError && NOT_FOUND_CODES.has(error.code);

/**
 * True for an error of this gateway saying that the caller may not read the organisation: IAM denies it, the
 * caller is neither the management account nor a delegated administrator (`AccessDeniedException`), or its account
 * belongs to no organisation (`AWSOrganizationsNotInUseException`).
 */
export const isOrganizationUnreadable = (error: unknown): boolean =>
  error instanceof AccessDeniedError ||
  (error instanceof EcrGatewayError && error.code === 'AWSOrganizationsNotInUseException');

/**
 * The read-only AWS Organizations gateway: the only importer of `@aws-sdk/client-organizations`. It reads every
 * listing to its last page with pages of 20, within the bounds above, maps every error into the ECR gateway's error
 * tree (`toServiceGatewayError`), and counts its calls. It has no mutating method. Organizations answers these
 * calls only to its management account and to delegated administrators.
 */
export interface OrganizationsGateway {
  callCounts(): Record<string, number>;
  /**
   * The accounts under each root (`r-…`) or organisational unit (`ou-…`), recursively through their child units
   * (ListAccountsForParent and ListOrganizationalUnitsForParent, every page), each unit read once however often it
   * is reached. A parent Organizations does not know is listed in `notFound`, not thrown; a child unit that is gone
   * by the time it is read (moved or deleted meanwhile) is passed over. Throws `OrganizationTooLargeError` beyond the
   * bounds, and the mapped error of any other failure.
   */
  accountsUnder(parentIds: readonly string[]): Promise<AccountsUnderParents>;
  /** Every account of the organisation, whatever its state, each once, by id (ListAccounts, every page). */
  listAccounts(): Promise<OrganizationAccount[]>;
}

const ACCOUNT_ID = /^\d{12}$/;
const PARENT_ID = /^(?:ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/;

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The service's view of a listed account; undefined when its id is not an account id. */
function accountOf(account: Account, parentId?: string): OrganizationAccount | undefined {
  const id = str(account.Id);
  if (id === undefined || !ACCOUNT_ID.test(id)) return undefined;
  const reported = str(account.State) ?? str(account.Status);
  const name = str(account.Name)?.slice(0, 64);
  return {
    id,
    ...(name === undefined ? {} : { name }),
    state: reported !== undefined && STATES.has(reported) ? (reported as OrganizationAccountState) : 'UNKNOWN',
    ...(parentId === undefined ? {} : { parentId }),
  };
}

const byId = (a: OrganizationAccount, b: OrganizationAccount) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function createOrganizationsGateway(sdkClient: OrganizationsClient): OrganizationsGateway {
  const {
    client,
    call: send,
    callCounts,
  } = countedSending<string, typeof sdkClient>(sdkClient, (operation, error, resource) =>
    toServiceGatewayError('Organizations', operation, error, resource),
  );

  /** One listing's request budget, shared by every page it reads. */
  const budgetFor = (operation: string) => {
    let requests = 0;
    return () => {
      requests++;
      if (requests > MAX_ORGANIZATIONS_REQUESTS) {
        throw new OrganizationTooLargeError(operation, 'requests', MAX_ORGANIZATIONS_REQUESTS);
      }
    };
  };

  /** Follows `NextToken` to the last page; a token seen twice ends the listing rather than looping forever. */
  async function* pages<T>(
    operation: string,
    resource: string | undefined,
    spend: () => void,
    page: (nextToken: string | undefined) => Promise<{ items?: T[]; nextToken?: string }>,
  ): AsyncIterable<T> {
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      spend();
      const output = await send(operation, resource, () => page(token));
      yield* output.items ?? [];
      token = str(output.nextToken);
      if (token !== undefined && seen.has(token)) return;
      if (token !== undefined) seen.add(token);
    } while (token !== undefined);
  }

  const accountsForParent = (parentId: string, spend: () => void) =>
    pages('ListAccountsForParent', parentId, spend, async (NextToken) => {
      const out = await client.send(
        new ListAccountsForParentCommand({ ParentId: parentId, MaxResults: ORGANIZATIONS_PAGE_SIZE, NextToken }),
      );
      return { items: out.Accounts, nextToken: out.NextToken };
    });

  const unitsForParent = (parentId: string, spend: () => void) =>
    pages('ListOrganizationalUnitsForParent', parentId, spend, async (NextToken) => {
      const out = await client.send(
        new ListOrganizationalUnitsForParentCommand({
          ParentId: parentId,
          MaxResults: ORGANIZATIONS_PAGE_SIZE,
          NextToken,
        }),
      );
      return { items: out.OrganizationalUnits, nextToken: out.NextToken };
    });

  return {
    callCounts,

    async accountsUnder(parentIds) {
      const spend = budgetFor('ListAccountsForParent');
      const accounts = new Map<string, OrganizationAccount>();
      const notFound: string[] = [];
      const visited = new Set<string>();
      const enqueue = (unitId: string, queue: string[]) => {
        if (visited.has(unitId)) return;
        visited.add(unitId);
        if (visited.size > MAX_ORGANIZATION_UNITS) {
          throw new OrganizationTooLargeError('ListOrganizationalUnitsForParent', 'units', MAX_ORGANIZATION_UNITS);
        }
        queue.push(unitId);
      };

      for (const parentId of new Set(parentIds)) {
        if (!PARENT_ID.test(parentId)) {
          notFound.push(parentId);
          continue;
        }
        const queue: string[] = [];
        enqueue(parentId, queue);
        // A unit another parent's walk has read already is known to exist: nothing is left to read under it.
        for (let unitId = queue.shift(); unitId !== undefined; unitId = queue.shift()) {
          try {
            for await (const listed of accountsForParent(unitId, spend)) {
              const account = accountOf(listed, unitId);
              if (account === undefined || accounts.has(account.id)) continue;
              accounts.set(account.id, account);
              if (accounts.size > MAX_ORGANIZATION_ACCOUNTS) {
                throw new OrganizationTooLargeError('ListAccountsForParent', 'accounts', MAX_ORGANIZATION_ACCOUNTS);
              }
            }
            for await (const unit of unitsForParent(unitId, spend)) {
              const childId = str(unit.Id);
              if (childId !== undefined && PARENT_ID.test(childId)) enqueue(childId, queue);
            }
          } catch (error) {
            if (!isParentNotFound(error)) throw error;
            if (unitId === parentId) notFound.push(parentId);
          }
        }
      }

      const all = [...accounts.values()].sort(byId);
      return {
        accounts: all.filter((account) => account.state === 'ACTIVE'),
        inactive: all.filter((account) => account.state !== 'ACTIVE'),
        notFound,
        unitsVisited: visited.size - notFound.filter((id) => visited.has(id)).length,
      };
    },

    async listAccounts() {
      const spend = budgetFor('ListAccounts');
      const accounts = new Map<string, OrganizationAccount>();
      const listing = pages('ListAccounts', undefined, spend, async (NextToken) => {
        const out = await client.send(new ListAccountsCommand({ MaxResults: ORGANIZATIONS_PAGE_SIZE, NextToken }));
        return { items: out.Accounts, nextToken: out.NextToken };
      });
      for await (const listed of listing) {
        const account = accountOf(listed);
        if (account === undefined || accounts.has(account.id)) continue;
        accounts.set(account.id, account);
        if (accounts.size > MAX_ORGANIZATION_ACCOUNTS) {
          throw new OrganizationTooLargeError('ListAccounts', 'accounts', MAX_ORGANIZATION_ACCOUNTS);
        }
      }
      return [...accounts.values()].sort(byId);
    },
  };
}
