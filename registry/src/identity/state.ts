import { createHash, randomBytes } from 'node:crypto';

/**
 * Identities of the local registry: IAM roles that STS AssumeRole may assume, the sessions it issued, and the AWS
 * Organizations tree the account listings answer from. Roles and the organization are declared by fixtures
 * (`iam` and `organization` sections of `POST /_local/load`) and kept as plain JSON, so that a snapshot writes them
 * as they are; sessions live in memory only (an access key issued by AssumeRole names its account, so it keeps
 * selecting that account after a restart, without its expiry).
 */

export interface IamRole {
  account: string;
  name: string;
  /** Principals allowed to assume the role: 12-digit account ids or IAM ARNs (`arn:aws:iam::<account>:root|role/...`). */
  trust: string[];
  externalId?: string;
}

export type AccountStatus = 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE';

export interface OrgAccount {
  id: string;
  name: string;
  email: string;
  status: AccountStatus;
}

export interface OrgUnit {
  id: string;
  name: string;
  /** The id of the parent: the root's or another unit's. */
  parentId: string;
  accounts: OrgAccount[];
}

export interface Organization {
  id: string;
  managementAccount: string;
  rootId: string;
  /** Accounts directly under the root (the management account among them). */
  rootAccounts: OrgAccount[];
  units: OrgUnit[];
  /** Registry time the organization was declared (ms), given as every account's join time. */
  createdAt: number;
}

export interface IdentityRecord {
  roles: IamRole[];
  organization?: Organization;
}

export interface StsSession {
  accessKeyId: string;
  account: string;
  roleArn: string;
  roleName: string;
  roleId: string;
  sessionName: string;
  expiresAt: number;
}

/** Most roles kept at once (fixtures past it are refused). */
export const MAX_ROLES = 10_000;
/** Most sessions kept at once; the oldest is forgotten first (its key still selects its account). */
export const MAX_SESSIONS = 100_000;

/** An access key AssumeRole issues: `ASIA`, the role's account and four characters (20 in all, as AWS's). */
const SESSION_KEY = /^ASIA(\d{12})[A-Z2-7]{4}$/;

/** The account an access key issued by AssumeRole names, or undefined for any other key. */
export const sessionKeyAccount = (accessKeyId: string): string | undefined => SESSION_KEY.exec(accessKeyId)?.[1];

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const randomText = (length: number, alphabet: string) =>
  [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');

/** A deterministic lowercase alphanumeric id of `length` characters for `seed`. */
export const derivedId = (seed: string, length: number) =>
  [...createHash('sha256').update(seed).digest()]
    .slice(0, length)
    .map((byte) => '0123456789abcdefghijklmnopqrstuvwxyz'[byte % 36])
    .join('');

export class Identity {
  private roles = new Map<string, IamRole>();
  organization: Organization | undefined;
  private readonly sessions = new Map<string, StsSession>();

  role(account: string, name: string): IamRole | undefined {
    return this.roles.get(`${account}/${name}`);
  }

  get roleCount(): number {
    return this.roles.size;
  }

  /** Adds or replaces roles (a fixture's `iam.roles`). */
  putRoles(roles: IamRole[]): void {
    for (const role of roles) this.roles.set(`${role.account}/${role.name}`, role);
  }

  /** Issues a session of `role` ending at `expiresAt` (registry time). */
  issue(role: IamRole, roleArn: string, sessionName: string, expiresAt: number): StsSession {
    const session: StsSession = {
      accessKeyId: `ASIA${role.account}${randomText(4, BASE32)}`,
      account: role.account,
      roleArn,
      roleName: role.name,
      roleId: `AROA${derivedId(roleArn, 17).toUpperCase()}`,
      sessionName,
      expiresAt,
    };
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next();
      if (!oldest.done) this.sessions.delete(oldest.value);
    }
    this.sessions.set(session.accessKeyId, session);
    return session;
  }

  session(accessKeyId: string): StsSession | undefined {
    return this.sessions.get(accessKeyId);
  }

  /** The roles and organization, as a snapshot writes them (undefined when there are none). */
  record(): IdentityRecord | undefined {
    if (this.roles.size === 0 && !this.organization) return undefined;
    return { roles: [...this.roles.values()], ...(this.organization ? { organization: this.organization } : {}) };
  }

  /** Puts back what a snapshot wrote. */
  restore(record: IdentityRecord): void {
    this.roles = new Map(record.roles.map((role) => [`${role.account}/${role.name}`, role]));
    this.organization = record.organization;
  }

  reset(): void {
    this.roles.clear();
    this.organization = undefined;
    this.sessions.clear();
  }
}
