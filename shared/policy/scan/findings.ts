/**
 * Scan findings in one shape, whichever scanner reported them: ECR basic scanning (`findings`: name, severity,
 * `attributes` key/value pairs) or enhanced scanning (`enhancedFindings`, Inspector's shape). Pure: the inputs are
 * structural types the gateway's `BasicScanFinding` and `EnhancedScanFinding` satisfy.
 */

/** Every severity either scanner reports, most severe first (`UNTRIAGED` is Inspector's, with no basic equivalent). */
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED', 'UNTRIAGED'] as const;
export type Severity = (typeof SEVERITIES)[number];

const SEVERITY_RANK: ReadonlyMap<string, number> = new Map(SEVERITIES.map((severity, rank) => [severity, rank]));

/** A basic scan finding as the gateway returns it. */
export interface BasicFindingInput {
  readonly name: string;
  readonly severity: string;
  readonly uri?: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** An enhanced (Inspector) finding as the gateway returns it, or as an "Inspector2 Finding" event carries it. */
export interface EnhancedFindingInput {
  readonly findingArn: string;
  readonly severity: string;
  readonly status?: string;
  readonly title?: string;
  readonly score?: number;
  readonly vulnerabilityId?: string;
  readonly packages: readonly { readonly name: string; readonly version?: string; readonly fixedInVersion?: string }[];
  readonly fixAvailable?: string;
  readonly exploitAvailable?: string;
  readonly updatedAt?: number;
}

export interface FindingPackage {
  readonly name: string;
  readonly version?: string;
  readonly fixedInVersion?: string;
}

/**
 * One finding, normalised. `status`: basic findings are always `ACTIVE`; an enhanced finding may be `SUPPRESSED`
 * (in Inspector) or `CLOSED` (fixed or gone: Inspector re-sends a finding when it closes,
 * docs/ecr-limits.md#inspector-events).
 */
export interface ScanFinding {
  readonly source: 'basic' | 'enhanced';
  /** The vulnerability id (`CVE-2024-3094`, `GHSA-...`); the finding's name or title when it has none. */
  readonly id: string;
  readonly severity: Severity;
  readonly packages: readonly FindingPackage[];
  /** CVSS base score (basic: CVSS3, else CVSS2; enhanced: Inspector's score). */
  readonly cvss?: number;
  /** A fixed version is known (basic: a fixed-in attribute; enhanced: `fixAvailable` YES or PARTIAL). */
  readonly fixAvailable: boolean;
  readonly exploitAvailable?: boolean;
  readonly status: 'ACTIVE' | 'SUPPRESSED' | 'CLOSED';
  readonly findingArn?: string;
  /** Epoch ms (enhanced only). */
  readonly updatedAt?: number;
}

export const severityOf = (value: string): Severity =>
  SEVERITY_RANK.has(value) ? (value as Severity) : value === '' ? 'UNDEFINED' : 'UNTRIAGED';

export const severityRank = (severity: Severity): number => SEVERITY_RANK.get(severity) ?? SEVERITIES.length;

const score = (text: string | undefined): number | undefined => {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
};

/** Attribute keys basic scanning uses (Clair's and ECR's native scanner's), first match wins. */
const FIXED_IN_KEYS = ['fixed_in_version', 'fixedInVersion', 'fixed_version'] as const;

export function fromBasicFinding(finding: BasicFindingInput): ScanFinding {
  const a = finding.attributes;
  const fixedIn = FIXED_IN_KEYS.map((key) => a[key]).find((value) => value !== undefined && value !== '');
  const name = a.package_name;
  const version = a.package_version;
  const cvss = score(a.CVSS3_SCORE) ?? score(a.CVSS2_SCORE);
  return {
    source: 'basic',
    id: finding.name,
    severity: severityOf(finding.severity),
    packages:
      name === undefined || name === ''
        ? []
        : [
            {
              name,
              ...(version ? { version } : {}),
              ...(fixedIn === undefined ? {} : { fixedInVersion: fixedIn }),
            },
          ],
    ...(cvss === undefined ? {} : { cvss }),
    fixAvailable: fixedIn !== undefined,
    status: 'ACTIVE',
  };
}

/** The statuses that take a finding out of the count; any other status (ACTIVE, or one not known) is ACTIVE. */
const INACTIVE_STATUSES: ReadonlySet<string> = new Set(['SUPPRESSED', 'CLOSED']);

export function fromEnhancedFinding(finding: EnhancedFindingInput): ScanFinding {
  const packages = finding.packages.map((p) => ({
    name: p.name,
    ...(p.version ? { version: p.version } : {}),
    ...(p.fixedInVersion ? { fixedInVersion: p.fixedInVersion } : {}),
  }));
  const fixAvailable =
    finding.fixAvailable === undefined
      ? packages.some((p) => p.fixedInVersion !== undefined && p.fixedInVersion !== 'NotAvailable')
      : finding.fixAvailable === 'YES' || finding.fixAvailable === 'PARTIAL';
  const status = finding.status !== undefined && INACTIVE_STATUSES.has(finding.status) ? finding.status : 'ACTIVE';
  return {
    source: 'enhanced',
    id: finding.vulnerabilityId ?? finding.title ?? finding.findingArn,
    severity: severityOf(finding.severity),
    packages,
    ...(finding.score === undefined ? {} : { cvss: finding.score }),
    fixAvailable,
    ...(finding.exploitAvailable === undefined ? {} : { exploitAvailable: finding.exploitAvailable === 'YES' }),
    status: status as ScanFinding['status'],
    findingArn: finding.findingArn,
    ...(finding.updatedAt === undefined ? {} : { updatedAt: finding.updatedAt }),
  };
}
