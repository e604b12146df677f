import type { ScanVerdict } from '../scan/report.ts';

/**
 * The scan gate's verdict as SARIF 2.1.0 (`scan-gate --sarif FILE`), in the shape GitHub code scanning accepts: one
 * result per blocking finding, one rule per vulnerability id with its help URI, the severity as the SARIF `level`
 * and as GitHub's `security-severity`, the image as the result's location. Pure: no AWS, no clock, no I/O.
 */

/** What the verdict does not carry about a finding: its reference URL and description, by vulnerability id. */
export interface FindingDetails {
  uri?: string;
  description?: string;
}

export type SarifLevel = 'error' | 'warning' | 'note';

/** CRITICAL and HIGH block as errors, MEDIUM warns, the rest are notes. */
export const sarifLevel = (severity: string): SarifLevel =>
  severity === 'CRITICAL' || severity === 'HIGH' ? 'error' : severity === 'MEDIUM' ? 'warning' : 'note';

/**
 * GitHub's `security-severity` (a CVSS-like score as a string: over 9.0 critical, 7.0 to 8.9 high, 4.0 to 6.9
 * medium, 0.1 to 3.9 low): the finding's CVSS score when it has one above 0, else a score inside its severity's band.
 */
const SEVERITY_SCORE: Readonly<Record<string, number>> = { CRITICAL: 9.5, HIGH: 8.0, MEDIUM: 5.5, LOW: 2.0 };

export function securitySeverity(severity: string, cvss: number | undefined): string | undefined {
  if (cvss !== undefined && Number.isFinite(cvss) && cvss > 0 && cvss <= 10) return cvss.toFixed(1);
  const score = SEVERITY_SCORE[severity];
  return score === undefined ? undefined : score.toFixed(1);
}

/** Text from a finding is bounded: a scanner's description can be long, and SARIF viewers show it whole. */
const MAX_TEXT = 2_000;
const bounded = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);

/** An http(s) URL, or undefined: a finding's `uri` is input, and a SARIF viewer makes it a link. */
function httpUrl(text: string | undefined): string | undefined {
  if (text === undefined || text.length > MAX_TEXT) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** The help page of a vulnerability: the finding's own reference URL, else NVD's page of a CVE, GitHub's of a GHSA. */
export function helpUriOf(id: string, details: FindingDetails | undefined): string | undefined {
  const own = httpUrl(details?.uri);
  if (own !== undefined) return own;
  if (/^CVE-\d{4}-\d{4,}$/.test(id)) return `https://nvd.nist.gov/vuln/detail/${id}`;
  if (/^GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}$/.test(id)) return `https://github.com/advisories/${id}`;
  return undefined;
}

/**
 * The image as a SARIF artifact location: `<repository>@<digest>`, with the digest's `:` percent-encoded so that
 * the location is a relative URI reference even for a repository name without a `/` (a first path segment may not
 * hold a `:`).
 */
export function imageLocationUri(repositoryName: string, digest: string): string {
  const path = repositoryName
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
  return `${path}@${encodeURIComponent(digest)}`;
}

export interface SarifOptions {
  tool: { name: string; version: string };
  /** By vulnerability id. */
  details?: ReadonlyMap<string, FindingDetails>;
}

type Blocking = NonNullable<ScanVerdict['blocking']>[number];

const ruleIdOf = (finding: Blocking) => finding.id || 'unnamed-finding';

/** A field cut before it is put into longer texts, so that a huge one costs no more than a bounded one. */
const clip = (text: string | undefined) =>
  text === undefined || text.length <= MAX_TEXT ? text : text.slice(0, MAX_TEXT);

export function scanVerdictSarif(verdict: ScanVerdict, options: SarifOptions): Record<string, unknown> {
  const blocking = (verdict.blocking ?? []).map((finding) => ({
    ...finding,
    id: clip(finding.id) ?? '',
    package: clip(finding.package),
    fixedInVersion: clip(finding.fixedInVersion),
  }));
  const rules: Record<string, unknown>[] = [];
  const ruleIndex = new Map<string, number>();
  for (const finding of blocking) {
    const id = ruleIdOf(finding);
    if (ruleIndex.has(id)) continue;
    const details = options.details?.get(finding.id);
    const helpUri = helpUriOf(finding.id, details);
    const severity = securitySeverity(finding.severity, finding.cvss);
    const description = details?.description ? bounded(details.description) : undefined;
    ruleIndex.set(id, rules.length);
    rules.push({
      id,
      ...(/[A-Za-z0-9]/.test(id) ? { name: id.replace(/[^A-Za-z0-9]/g, '') } : {}),
      shortDescription: { text: bounded(`${id} (${finding.severity})`) },
      ...(description === undefined ? {} : { fullDescription: { text: description } }),
      ...(helpUri === undefined ? {} : { helpUri }),
      help: {
        text: bounded(
          `${id}: ${finding.severity}${finding.cvss === undefined ? '' : `, CVSS ${finding.cvss}`}.${helpUri === undefined ? '' : ` See ${helpUri}`}`,
        ),
      },
      defaultConfiguration: { level: sarifLevel(finding.severity) },
      properties: {
        tags: ['security', 'vulnerability', 'container-image'],
        ...(severity === undefined ? {} : { 'security-severity': severity }),
      },
    });
  }
  const uri = imageLocationUri(verdict.repositoryName, verdict.digest);
  const image = `${verdict.repositoryName}@${verdict.digest}`;
  const results = blocking.map((finding) => {
    const id = ruleIdOf(finding);
    const fix = finding.fixedInVersion === undefined ? 'no fixed version known' : `fixed in ${finding.fixedInVersion}`;
    return {
      ruleId: id,
      ruleIndex: ruleIndex.get(id) ?? 0,
      level: sarifLevel(finding.severity),
      message: {
        text: bounded(
          `${finding.severity} ${id} in ${finding.package ?? 'a package'} of ${image} (${fix}); blocks the image (${finding.because.join(', ')})`,
        ),
      },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri }, region: { startLine: 1 } },
          logicalLocations: [{ name: bounded(image), kind: 'module' }],
        },
      ],
      partialFingerprints: { 'imageFinding/v1': bounded(`${verdict.repositoryName}|${id}|${finding.package ?? ''}`) },
      properties: {
        severity: finding.severity,
        ...(finding.package === undefined ? {} : { package: bounded(finding.package) }),
        ...(finding.fixedInVersion === undefined ? {} : { fixedInVersion: bounded(finding.fixedInVersion) }),
        ...(finding.cvss === undefined ? {} : { cvss: finding.cvss }),
        source: finding.source,
      },
    };
  });
  const notifications =
    verdict.reason === undefined
      ? []
      : [{ level: 'error', message: { text: bounded(`${verdict.reason.code}: ${verdict.reason.message}`) } }];
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: options.tool.name,
            semanticVersion: options.tool.version,
            version: options.tool.version,
            rules,
          },
        },
        automationDetails: { id: `scan-gate/${verdict.repositoryName}/` },
        invocations: [
          {
            executionSuccessful: verdict.verdict !== 'SKIPPED',
            ...(notifications.length === 0 ? {} : { toolExecutionNotifications: notifications }),
          },
        ],
        artifacts: [{ location: { uri }, description: { text: bounded(image) } }],
        results,
        properties: {
          verdict: verdict.verdict,
          repositoryName: verdict.repositoryName,
          digest: verdict.digest,
          tags: verdict.tags,
          blockingTotal: verdict.blockingTotal ?? blocking.length,
          // The verdict lists at most MAX_LISTED_FINDINGS blocking findings; the total says how many there were.
          truncated: (verdict.blockingTotal ?? blocking.length) > blocking.length,
        },
      },
    ],
  };
}
