import { type AllowListEntry, compileAllowList } from './allow-list.ts';
import { type ScanFinding, SEVERITIES, type Severity, severityRank } from './findings.ts';
import type { ScanPolicy } from './policy.ts';

export type ScanVerdictValue = 'PASS' | 'FAIL';

/** A finding as verdicts list it. */
export interface FindingSummary {
  readonly id: string;
  readonly severity: Severity;
  /** `name@version` of the first vulnerable package (basic findings name one; enhanced ones may name several). */
  readonly package?: string;
  readonly fixedInVersion?: string;
  readonly cvss?: number;
  readonly exploitAvailable?: boolean;
  readonly source: 'basic' | 'enhanced';
}

/** Why the image fails: a severity over its maximum, or findings at or over the CVSS threshold. */
export type Breach =
  | { readonly code: 'severity-count'; readonly severity: Severity; readonly count: number; readonly max: number }
  | { readonly code: 'cvss'; readonly threshold: number; readonly count: number };

export type SeverityCounts = Partial<Record<Severity, number>>;

export interface ScanJudgement {
  readonly verdict: ScanVerdictValue;
  readonly counts: {
    /** Active findings per severity, as found (zero counts left out, as ECR does). */
    readonly found: SeverityCounts;
    /** The findings held against the thresholds: active, not allowed, and fixable when the policy says so. */
    readonly counted: SeverityCounts;
    readonly allowed: number;
    readonly ignored: { readonly closed: number; readonly suppressed: number; readonly noFix: number };
  };
  readonly breaches: readonly Breach[];
  /** The counted findings that make it fail: those of a severity over its maximum, or at or over the CVSS threshold. */
  readonly blocking: readonly (FindingSummary & { readonly because: readonly ('severity' | 'cvss')[] })[];
  /** Findings an active allow-list entry accepts, with the entry's expiry, owner and reason. */
  readonly allowed: readonly (FindingSummary & {
    readonly allowedUntil: string;
    readonly owner: string;
    readonly reason: string;
  })[];
  /** Expired entries that would have allowed findings of this image: they no longer count. */
  readonly expiredEntries: readonly (AllowListEntry & { readonly matched: number })[];
}

export function summariseFinding(finding: ScanFinding): FindingSummary {
  const [first] = finding.packages;
  return {
    id: finding.id,
    severity: finding.severity,
    ...(first === undefined ? {} : { package: first.version ? `${first.name}@${first.version}` : first.name }),
    ...(first?.fixedInVersion === undefined ? {} : { fixedInVersion: first.fixedInVersion }),
    ...(finding.cvss === undefined ? {} : { cvss: finding.cvss }),
    ...(finding.exploitAvailable === undefined ? {} : { exploitAvailable: finding.exploitAvailable }),
    source: finding.source,
  };
}

const bySeverityThenScore = (a: FindingSummary, b: FindingSummary) =>
  severityRank(a.severity) - severityRank(b.severity) || (b.cvss ?? -1) - (a.cvss ?? -1) || a.id.localeCompare(b.id);

const ordered = (counts: Map<Severity, number>): SeverityCounts =>
  Object.fromEntries(SEVERITIES.filter((s) => (counts.get(s) ?? 0) > 0).map((s) => [s, counts.get(s)]));

/**
 * Judges an image's findings against its repository's scan policy and the allow-list. Pure: `now` decides which
 * allow-list entries have expired. CLOSED and SUPPRESSED findings do not count; an allowed finding does not count;
 * with `onlyFixable`, neither does a finding with no fix. The image FAILs when a severity has more counted findings
 * than its maximum, or when a counted finding's CVSS score reaches the threshold.
 */
export function judgeScan(input: {
  findings: readonly ScanFinding[];
  policy: Pick<ScanPolicy, 'maxFindings' | 'cvssThreshold' | 'onlyFixable'>;
  allowList: readonly AllowListEntry[];
  repositoryName: string;
  digest: string;
  now: number;
}): ScanJudgement {
  const { policy } = input;
  const allowList = compileAllowList(input.allowList, input, input.now);
  const found = new Map<Severity, number>();
  const counted = new Map<Severity, number>();
  const countedFindings: ScanFinding[] = [];
  const allowed: ScanJudgement['allowed'][number][] = [];
  const expiredMatches = new Map<AllowListEntry, number>();
  const ignored = { closed: 0, suppressed: 0, noFix: 0 };
  for (const finding of input.findings) {
    if (finding.status === 'CLOSED') {
      ignored.closed++;
      continue;
    }
    if (finding.status === 'SUPPRESSED') {
      ignored.suppressed++;
      continue;
    }
    found.set(finding.severity, (found.get(finding.severity) ?? 0) + 1);
    const match = allowList.match(finding);
    for (const entry of match.expired) expiredMatches.set(entry, (expiredMatches.get(entry) ?? 0) + 1);
    if (match.allowedBy) {
      const { expires, owner, reason } = match.allowedBy;
      allowed.push({ ...summariseFinding(finding), allowedUntil: expires, owner, reason });
      continue;
    }
    if (policy.onlyFixable && !finding.fixAvailable) {
      ignored.noFix++;
      continue;
    }
    counted.set(finding.severity, (counted.get(finding.severity) ?? 0) + 1);
    countedFindings.push(finding);
  }

  const breaches: Breach[] = [];
  const overSeverities = new Set<Severity>();
  for (const severity of SEVERITIES) {
    const max = policy.maxFindings[severity];
    const count = counted.get(severity) ?? 0;
    if (max !== undefined && count > max) {
      breaches.push({ code: 'severity-count', severity, count, max });
      overSeverities.add(severity);
    }
  }
  const threshold = policy.cvssThreshold;
  const blocking: (FindingSummary & { because: ('severity' | 'cvss')[] })[] = [];
  let overThreshold = 0;
  for (const finding of countedFindings) {
    const because: ('severity' | 'cvss')[] = [];
    if (overSeverities.has(finding.severity)) because.push('severity');
    if (threshold !== null && finding.cvss !== undefined && finding.cvss >= threshold) {
      because.push('cvss');
      overThreshold++;
    }
    if (because.length > 0) blocking.push({ ...summariseFinding(finding), because });
  }
  if (threshold !== null && overThreshold > 0) breaches.push({ code: 'cvss', threshold, count: overThreshold });
  blocking.sort(bySeverityThenScore);
  allowed.sort(bySeverityThenScore);

  return {
    verdict: breaches.length > 0 ? 'FAIL' : 'PASS',
    counts: { found: ordered(found), counted: ordered(counted), allowed: allowed.length, ignored },
    breaches,
    blocking,
    allowed,
    expiredEntries: [...expiredMatches].map(([entry, matched]) => ({ ...entry, matched })),
  };
}
