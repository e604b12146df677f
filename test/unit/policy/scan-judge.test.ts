import { describe, expect, it } from 'vitest';
import { type AllowListEntry, isExpired, reportAllowList } from '../../../shared/policy/scan/allow-list.ts';
import {
  type BasicFindingInput,
  type EnhancedFindingInput,
  fromBasicFinding,
  fromEnhancedFinding,
} from '../../../shared/policy/scan/findings.ts';
import { judgeScan } from '../../../shared/policy/scan/judge.ts';
import { DEFAULT_SCAN_POLICY, type ScanPolicy } from '../../../shared/policy/scan/policy.ts';
import { digestOf } from '../../helpers/images.ts';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const DIGEST = digestOf('image');

const basic = (id: string, severity: string, attributes: Record<string, string> = {}): BasicFindingInput => ({
  name: id,
  severity,
  attributes: { package_name: 'openssl', package_version: '3.0.11', ...attributes },
});

const enhanced = (
  id: string,
  severity: string,
  overrides: Partial<EnhancedFindingInput> = {},
): EnhancedFindingInput => ({
  findingArn: `arn:aws:inspector2:us-east-1:123456789012:finding/${id}`,
  severity,
  status: 'ACTIVE',
  vulnerabilityId: id,
  packages: [{ name: 'curl', version: '8.3.0' }],
  ...overrides,
});

const judge = (
  findings: ReturnType<typeof fromBasicFinding>[],
  policy: Partial<ScanPolicy> = {},
  allowList: AllowListEntry[] = [],
  image: { repositoryName?: string; digest?: string; now?: number } = {},
) =>
  judgeScan({
    findings,
    policy: { ...DEFAULT_SCAN_POLICY, ...policy },
    allowList,
    repositoryName: image.repositoryName ?? 'team/app',
    digest: image.digest ?? DIGEST,
    now: image.now ?? NOW,
  });

const entry = (overrides: Partial<AllowListEntry> = {}): AllowListEntry => ({
  id: 'CVE-1',
  expires: '2026-12-31',
  owner: 'team-a',
  reason: 'not reachable',
  ...overrides,
});

describe('judgeScan: thresholds', () => {
  it('fails on one finding over a severity maximum and lists every finding of that severity as blocking', () => {
    // Act
    const judgement = judge([fromBasicFinding(basic('CVE-1', 'HIGH')), fromBasicFinding(basic('CVE-2', 'HIGH'))], {
      maxFindings: { HIGH: 1 },
    });
    // Assess
    expect(judgement.verdict).toBe('FAIL');
    expect(judgement.breaches).toEqual([{ code: 'severity-count', severity: 'HIGH', count: 2, max: 1 }]);
    expect(judgement.blocking.map((f) => f.id)).toEqual(['CVE-1', 'CVE-2']);
  });

  it('passes at exactly the maximum, and does not limit a severity the policy leaves out', () => {
    // Act
    const judgement = judge(
      [
        ...Array.from({ length: 10 }, (_, i) => fromBasicFinding(basic(`CVE-M${i}`, 'MEDIUM'))),
        ...Array.from({ length: 500 }, (_, i) => fromBasicFinding(basic(`CVE-L${i}`, 'LOW'))),
      ],
      { maxFindings: { CRITICAL: 0, HIGH: 0, MEDIUM: 10 } },
    );
    // Assess
    expect(judgement.verdict).toBe('PASS');
    expect(judgement.counts.counted).toEqual({ MEDIUM: 10, LOW: 500 });
  });

  it('fails on a finding at the CVSS threshold whatever its severity, reading CVSS3 before CVSS2', () => {
    // Act
    const judgement = judge(
      [
        fromBasicFinding(basic('CVE-AT', 'LOW', { CVSS3_SCORE: '7.0', CVSS2_SCORE: '2.0' })),
        fromBasicFinding(basic('CVE-UNDER', 'MEDIUM', { CVSS2_SCORE: '6.9' })),
      ],
      { maxFindings: {}, cvssThreshold: 7 },
    );
    // Assess
    expect(judgement.verdict).toBe('FAIL');
    expect(judgement.breaches).toEqual([{ code: 'cvss', threshold: 7, count: 1 }]);
    expect(judgement.blocking).toEqual([expect.objectContaining({ id: 'CVE-AT', cvss: 7, because: ['cvss'] })]);
  });

  it('with onlyFixable, ignores findings with no fix and counts the ones with a fix', () => {
    // Act
    const judgement = judge(
      [
        fromBasicFinding(basic('CVE-NOFIX', 'CRITICAL')),
        fromBasicFinding(basic('CVE-FIX', 'HIGH', { fixed_in_version: '3.0.13' })),
      ],
      { onlyFixable: true },
    );
    // Assess
    expect(judgement.counts.ignored.noFix).toBe(1);
    expect(judgement.blocking.map((f) => [f.id, f.fixedInVersion])).toEqual([['CVE-FIX', '3.0.13']]);
  });
});

describe('judgeScan: basic and enhanced shapes', () => {
  it('reads an enhanced finding: vulnerability id, packages, score, fixAvailable, exploitAvailable', () => {
    // Act
    const finding = fromEnhancedFinding(
      enhanced('CVE-2023-38545', 'HIGH', {
        score: 9.8,
        fixAvailable: 'PARTIAL',
        exploitAvailable: 'YES',
        packages: [{ name: 'curl', version: '8.3.0', fixedInVersion: '8.4.0' }],
      }),
    );
    // Assess
    expect(finding).toMatchObject({
      source: 'enhanced',
      id: 'CVE-2023-38545',
      severity: 'HIGH',
      cvss: 9.8,
      fixAvailable: true,
      exploitAvailable: true,
      packages: [{ name: 'curl', version: '8.3.0', fixedInVersion: '8.4.0' }],
    });
  });

  it('does not count CLOSED or SUPPRESSED enhanced findings, and judges UNTRIAGED as its own severity', () => {
    // Act
    const judgement = judge(
      [
        fromEnhancedFinding(enhanced('CVE-CLOSED', 'CRITICAL', { status: 'CLOSED' })),
        fromEnhancedFinding(enhanced('CVE-SUPP', 'CRITICAL', { status: 'SUPPRESSED' })),
        fromEnhancedFinding(enhanced('CVE-U', 'UNTRIAGED')),
      ],
      { maxFindings: { CRITICAL: 0, UNTRIAGED: 0 } },
    );
    // Assess
    expect(judgement.counts.ignored).toEqual({ closed: 1, suppressed: 1, noFix: 0 });
    expect(judgement.breaches).toEqual([{ code: 'severity-count', severity: 'UNTRIAGED', count: 1, max: 0 }]);
  });

  it('judges basic and enhanced findings of one image together', () => {
    // Act
    const judgement = judge(
      [fromBasicFinding(basic('CVE-B', 'MEDIUM')), fromEnhancedFinding(enhanced('CVE-E', 'MEDIUM'))],
      {
        maxFindings: { MEDIUM: 1 },
      },
    );
    // Assess
    expect(judgement.blocking.map((f) => [f.id, f.source])).toEqual([
      ['CVE-B', 'basic'],
      ['CVE-E', 'enhanced'],
    ]);
  });
});

describe('judgeScan: allow-list', () => {
  const critical = fromBasicFinding(basic('CVE-1', 'CRITICAL'));

  it('allows a finding by CVE id, case aside, and reports it with the entry expiry, owner and reason', () => {
    // Act
    const judgement = judge([critical], {}, [entry({ id: 'cve-1' })]);
    // Assess
    expect(judgement.verdict).toBe('PASS');
    expect(judgement.allowed).toEqual([
      expect.objectContaining({ id: 'CVE-1', allowedUntil: '2026-12-31', owner: 'team-a', reason: 'not reachable' }),
    ]);
  });

  it('matches package and package@version scopes, and only those', () => {
    // Act
    const byName = judge([critical], {}, [entry({ package: 'openssl' })]);
    const byVersion = judge([critical], {}, [entry({ package: 'openssl@3.0.11' })]);
    const otherVersion = judge([critical], {}, [entry({ package: 'openssl@3.0.12' })]);
    const otherPackage = judge([critical], {}, [entry({ package: 'curl' })]);
    // Assess
    expect([byName, byVersion, otherVersion, otherPackage].map((j) => j.verdict)).toEqual([
      'PASS',
      'PASS',
      'FAIL',
      'FAIL',
    ]);
  });

  it('matches a repository scope by glob and a digest scope exactly', () => {
    // Act
    const inScope = judge([critical], {}, [entry({ repositories: ['team/**'] })]);
    const outOfScope = judge([critical], {}, [entry({ repositories: ['payments/**'] })]);
    const thisImage = judge([critical], {}, [entry({ digest: DIGEST })]);
    const otherImage = judge([critical], {}, [entry({ digest: digestOf('other') })]);
    // Assess
    expect([inScope, outOfScope, thisImage, otherImage].map((j) => j.verdict)).toEqual([
      'PASS',
      'FAIL',
      'PASS',
      'FAIL',
    ]);
  });

  it('no longer counts an entry from the day after its expiry date, and names it as expired', () => {
    // Prepare
    const list = [entry({ expires: '2026-11-30' })];
    // Act
    const lastDay = judge([critical], {}, list, { now: Date.parse('2026-11-30T23:59:59Z') });
    const dayAfter = judge([critical], {}, list, { now: Date.parse('2026-12-01T00:00:00Z') });
    // Assess
    expect(lastDay.verdict).toBe('PASS');
    expect(dayAfter.verdict).toBe('FAIL');
    expect(dayAfter.expiredEntries).toEqual([
      expect.objectContaining({ id: 'CVE-1', expires: '2026-11-30', matched: 1 }),
    ]);
  });

  it('treats an ISO date-time expiry as the exact instant', () => {
    // Assess
    expect(isExpired({ expires: '2026-11-24T12:00:00Z' }, NOW)).toBe(true);
    expect(isExpired({ expires: '2026-11-24T12:00:01Z' }, NOW)).toBe(false);
  });
});

describe('reportAllowList', () => {
  it('lists entries expiring within the window, soonest first, and expired entries still present', () => {
    // Act
    const report = reportAllowList(
      [
        entry({ id: 'CVE-LATE', expires: '2026-12-08' }),
        entry({ id: 'CVE-MID', expires: '2026-12-07' }),
        entry({ id: 'CVE-SOON', expires: '2026-11-25' }),
        entry({ id: 'CVE-FAR', expires: '2027-02-01' }),
        entry({ id: 'CVE-GONE', expires: '2026-11-01' }),
      ],
      NOW,
      14,
    );
    // Assess
    expect(report.expiring.map((e) => [e.id, e.daysLeft])).toEqual([
      ['CVE-SOON', 2],
      ['CVE-MID', 14],
    ]);
    expect(report.expired.map((e) => [e.id, e.daysAgo])).toEqual([['CVE-GONE', 22]]);
    expect(report).toMatchObject({ active: 4, total: 5, expiringWithinDays: 14 });
  });
});

describe('judgeScan: what counts and what blocks', () => {
  it('with onlyFixable, counts an enhanced finding Inspector marks fixable, and ignores one it marks NO', () => {
    // Act
    const judgement = judge(
      [
        fromEnhancedFinding(enhanced('CVE-YES', 'CRITICAL', { fixAvailable: 'YES' })),
        fromEnhancedFinding(
          enhanced('CVE-NO', 'CRITICAL', { fixAvailable: 'NO', packages: [{ name: 'curl', fixedInVersion: '9' }] }),
        ),
      ],
      { onlyFixable: true },
    );
    // Assess
    expect(judgement.verdict).toBe('FAIL');
    expect(judgement.counts).toEqual({
      found: { CRITICAL: 2 },
      counted: { CRITICAL: 1 },
      allowed: 0,
      ignored: { closed: 0, suppressed: 0, noFix: 1 },
    });
    expect(judgement.blocking.map((f) => f.id)).toEqual(['CVE-YES']);
  });

  it('passes a clean image under a CVSS threshold, and an image whose findings all score under it', () => {
    // Act
    const clean = judge([], { cvssThreshold: 7 });
    const under = judge([fromEnhancedFinding(enhanced('CVE-LOW', 'LOW', { score: 6.9 }))], {
      maxFindings: {},
      cvssThreshold: 7,
    });
    const unscored = judge([fromEnhancedFinding(enhanced('CVE-NOSCORE', 'LOW'))], {
      maxFindings: {},
      cvssThreshold: 0,
    });
    // Assess
    for (const judgement of [clean, under, unscored]) {
      expect(judgement.verdict).toBe('PASS');
      expect(judgement.breaches).toEqual([]);
      expect(judgement.blocking).toEqual([]);
    }
    expect(clean.counts).toEqual({
      found: {},
      counted: {},
      allowed: 0,
      ignored: { closed: 0, suppressed: 0, noFix: 0 },
    });
  });

  it('applies no CVSS threshold when the policy has none, however high the score', () => {
    // Act
    const judgement = judge([fromEnhancedFinding(enhanced('CVE-10', 'LOW', { score: 10 }))], {
      maxFindings: {},
      cvssThreshold: null,
    });
    // Assess
    expect(judgement.verdict).toBe('PASS');
  });

  it('gives both reasons for a finding over its severity maximum and the threshold, and orders blocking findings', () => {
    // Act
    const judgement = judge(
      [
        fromEnhancedFinding(enhanced('CVE-M', 'MEDIUM', { score: 9.1 })),
        fromEnhancedFinding(enhanced('CVE-H2', 'HIGH', { score: 7.2 })),
        fromEnhancedFinding(enhanced('CVE-H1', 'HIGH', { score: 8.8, exploitAvailable: 'YES' })),
        fromEnhancedFinding(enhanced('CVE-H0', 'HIGH')),
        fromEnhancedFinding(enhanced('CVE-HA', 'HIGH', { score: 7.2 })),
        fromEnhancedFinding(enhanced('CVE-L', 'LOW', { score: 3 })),
      ],
      { maxFindings: { HIGH: 3 }, cvssThreshold: 9 },
    );
    // Assess
    expect(judgement.breaches).toEqual([
      { code: 'severity-count', severity: 'HIGH', count: 4, max: 3 },
      { code: 'cvss', threshold: 9, count: 1 },
    ]);
    expect(judgement.blocking).toEqual([
      {
        id: 'CVE-H1',
        severity: 'HIGH',
        package: 'curl@8.3.0',
        cvss: 8.8,
        exploitAvailable: true,
        source: 'enhanced',
        because: ['severity'],
      },
      expect.objectContaining({ id: 'CVE-H2', because: ['severity'] }),
      expect.objectContaining({ id: 'CVE-HA', because: ['severity'] }),
      expect.objectContaining({ id: 'CVE-H0', because: ['severity'] }),
      expect.objectContaining({ id: 'CVE-M', because: ['cvss'] }),
    ]);
    expect(judgement.counts.counted).toEqual({ HIGH: 4, MEDIUM: 1, LOW: 1 });
    expect(Object.keys(judgement.counts.found)).toEqual(['HIGH', 'MEDIUM', 'LOW']);
  });

  it('marks a finding blocking for severity and CVSS at once when it breaks both', () => {
    // Act
    const judgement = judge([fromBasicFinding(basic('CVE-1', 'CRITICAL', { CVSS3_SCORE: '9.8' }))], {
      cvssThreshold: 9,
    });
    // Assess
    expect(judgement.blocking).toEqual([
      {
        id: 'CVE-1',
        severity: 'CRITICAL',
        package: 'openssl@3.0.11',
        cvss: 9.8,
        source: 'basic',
        because: ['severity', 'cvss'],
      },
    ]);
  });

  it('summarises a finding by its first package, without a version when it has none', () => {
    // Act
    const judgement = judge(
      [
        fromEnhancedFinding(
          enhanced('CVE-1', 'HIGH', {
            packages: [
              { name: 'glibc', fixedInVersion: '2.39' },
              { name: 'curl', version: '1' },
            ],
          }),
        ),
        fromEnhancedFinding(enhanced('CVE-2', 'HIGH', { packages: [] })),
      ],
      { maxFindings: { HIGH: 0 } },
    );
    // Assess
    expect(judgement.blocking).toStrictEqual([
      {
        id: 'CVE-1',
        severity: 'HIGH',
        package: 'glibc',
        fixedInVersion: '2.39',
        source: 'enhanced',
        because: ['severity'],
      },
      { id: 'CVE-2', severity: 'HIGH', source: 'enhanced', because: ['severity'] },
    ]);
  });

  it('lets an allow-list entry accept a finding with no fix under onlyFixable, and counts matches of expired entries', () => {
    // Prepare
    const expiredEntry = entry({ id: 'CVE-OLD', expires: '2026-01-01' });
    // Act
    const judgement = judge(
      [
        fromBasicFinding(basic('CVE-1', 'HIGH')),
        fromBasicFinding(basic('CVE-OLD', 'LOW')),
        fromBasicFinding(basic('CVE-OLD', 'MEDIUM')),
      ],
      { onlyFixable: true },
      [entry(), expiredEntry],
    );
    // Assess
    expect(judgement.counts).toMatchObject({ allowed: 1, ignored: { noFix: 2 }, counted: {} });
    expect(judgement.allowed).toEqual([
      {
        id: 'CVE-1',
        severity: 'HIGH',
        package: 'openssl@3.0.11',
        source: 'basic',
        allowedUntil: '2026-12-31',
        owner: 'team-a',
        reason: 'not reachable',
      },
    ]);
    expect(judgement.expiredEntries).toEqual([{ ...expiredEntry, matched: 2 }]);
  });

  it('orders allowed findings most severe first, then by score, an unscored one after every scored one', () => {
    // Act
    const judgement = judge(
      [
        fromEnhancedFinding(enhanced('CVE-1', 'LOW', { score: 2 })),
        fromEnhancedFinding(enhanced('CVE-0', 'HIGH')),
        fromEnhancedFinding(enhanced('CVE-2', 'HIGH', { score: 0.5 })),
        fromEnhancedFinding(enhanced('CVE-3', 'HIGH', { score: 8 })),
      ],
      {},
      ['CVE-0', 'CVE-1', 'CVE-2', 'CVE-3'].map((id) => entry({ id })),
    );
    // Assess
    expect(judgement.allowed.map((f) => f.id)).toEqual(['CVE-3', 'CVE-2', 'CVE-0', 'CVE-1']);
  });

  it('by default fails any CRITICAL or HIGH finding, limits no other severity and applies no CVSS threshold', () => {
    // Act
    const high = judge([fromBasicFinding(basic('CVE-H', 'HIGH'))]);
    const critical = judge([fromBasicFinding(basic('CVE-C', 'CRITICAL'))]);
    const rest = judge([
      ...['MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED', 'UNTRIAGED'].map((severity) =>
        fromBasicFinding(basic(`CVE-${severity}`, severity, { CVSS3_SCORE: '10' })),
      ),
    ]);
    // Assess
    expect([high.verdict, critical.verdict, rest.verdict]).toEqual(['FAIL', 'FAIL', 'PASS']);
    expect(DEFAULT_SCAN_POLICY).toEqual({
      mode: 'report',
      maxFindings: { CRITICAL: 0, HIGH: 0 },
      cvssThreshold: null,
      onlyFixable: false,
      quarantineTagPrefix: null,
      untag: [],
    });
  });
});
