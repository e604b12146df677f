import type { AllowListEntrySettings } from '../../domain/settings.ts';
import { compileGlob } from '../glob.ts';
import type { ScanFinding } from './findings.ts';

/**
 * The allow-list: findings a team has accepted, for a while. Each entry names a vulnerability id and may narrow it to
 * a package (`name`, or `name@version`), to repositories (globs), or to one image digest; every scope it gives must
 * match. Every entry expires: from its expiry on it no longer counts, and verdicts and the scheduled report say so.
 *
 * An accepted finding: `id` (the vulnerability id, compared without regard to case), optionally narrowed to a
 * `package` (`name` or `name@version`), `repositories` (globs) or a `digest`; `expires` (`YYYY-MM-DD`, counting
 * through that day, UTC, or an ISO date-time), `owner` and `reason`. Inferred from the schema in
 * `shared/domain/settings.ts`.
 */
export type AllowListEntry = AllowListEntrySettings;

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/** An ISO date-time starts with a four-digit year, the date and `T`; anything else (`next week`, ` 2026-11-30`,
 * `+002026-11-30`, which `Date.parse` would read in its own ways) is no expiry at all. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T/;

/**
 * The instant an entry stops counting (epoch ms): `YYYY-MM-DD` counts through that day (UTC), an ISO date-time until
 * that instant; NaN for anything else, so that an expiry nobody can read counts as expired.
 */
export function expiryOf(entry: Pick<AllowListEntry, 'expires'>): number {
  if (DATE_ONLY.test(entry.expires)) return Date.parse(`${entry.expires}T00:00:00Z`) + DAY_MS;
  return DATE_TIME.test(entry.expires) ? Date.parse(entry.expires) : Number.NaN;
}

export const isExpired = (entry: Pick<AllowListEntry, 'expires'>, now: number): boolean => !(expiryOf(entry) > now);

/** Splits `name@version` at the last `@` that is not the first character (npm scopes start with `@`). */
export function splitPackage(spec: string): { name: string; version?: string } {
  const at = spec.lastIndexOf('@');
  return at > 0 ? { name: spec.slice(0, at), version: spec.slice(at + 1) } : { name: spec };
}

/** An allow-list compiled for one image: entries indexed by id, their scopes pre-checked against the image. */
export interface CompiledAllowList {
  /** The entry that allows a finding (an active one), or the expired entries that would have. */
  match(finding: ScanFinding): { allowedBy?: AllowListEntry; expired: AllowListEntry[] };
}

export function compileAllowList(
  entries: readonly AllowListEntry[],
  image: { repositoryName: string; digest: string },
  now: number,
): CompiledAllowList {
  const byId = new Map<
    string,
    { entry: AllowListEntry; expired: boolean; pkg?: { name: string; version?: string } }[]
  >();
  for (const entry of entries) {
    if (entry.digest !== undefined && entry.digest !== image.digest) continue;
    if (entry.repositories && !entry.repositories.some((glob) => compileGlob(glob).test(image.repositoryName))) {
      continue;
    }
    const key = entry.id.toUpperCase();
    const list = byId.get(key) ?? [];
    list.push({
      entry,
      expired: isExpired(entry, now),
      ...(entry.package === undefined ? {} : { pkg: splitPackage(entry.package) }),
    });
    byId.set(key, list);
  }
  return {
    match(finding) {
      const candidates = byId.get(finding.id.toUpperCase());
      if (!candidates) return { expired: [] };
      const expired: AllowListEntry[] = [];
      for (const candidate of candidates) {
        const { pkg } = candidate;
        if (
          pkg &&
          !finding.packages.some((p) => p.name === pkg.name && (pkg.version === undefined || p.version === pkg.version))
        ) {
          continue;
        }
        if (!candidate.expired) return { allowedBy: candidate.entry, expired: [] };
        expired.push(candidate.entry);
      }
      return { expired };
    },
  };
}

export interface AllowListReport {
  /** Entries that expire within the window, soonest first. */
  readonly expiring: readonly (AllowListEntry & { readonly expiresAt: string; readonly daysLeft: number })[];
  /** Expired entries still in the allow-list (they no longer count: remove or renew them). */
  readonly expired: readonly (AllowListEntry & { readonly expiresAt: string; readonly daysAgo: number })[];
  readonly active: number;
  readonly total: number;
  readonly expiringWithinDays: number;
}

/** The scheduled report on the allow-list: what is about to expire, and what has expired and is still listed. */
export function reportAllowList(
  entries: readonly AllowListEntry[],
  now: number,
  expiringWithinDays: number,
): AllowListReport {
  const expiring: (AllowListEntry & { expiresAt: string; daysLeft: number })[] = [];
  const expired: (AllowListEntry & { expiresAt: string; daysAgo: number })[] = [];
  let active = 0;
  for (const entry of entries) {
    const at = expiryOf(entry);
    const expiresAt = new Date(at).toISOString();
    if (!(at > now)) expired.push({ ...entry, expiresAt, daysAgo: Math.floor((now - at) / DAY_MS) });
    else {
      active++;
      if (at - now <= expiringWithinDays * DAY_MS) {
        expiring.push({ ...entry, expiresAt, daysLeft: Math.ceil((at - now) / DAY_MS) });
      }
    }
  }
  expiring.sort((a, b) => a.daysLeft - b.daysLeft || a.id.localeCompare(b.id));
  expired.sort((a, b) => b.daysAgo - a.daysAgo || a.id.localeCompare(b.id));
  return { expiring, expired, active, total: entries.length, expiringWithinDays };
}
