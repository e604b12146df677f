import { describe, expect, it } from 'vitest';
import {
  type AllowListEntry,
  compileAllowList,
  isExpired,
  reportAllowList,
  splitPackage,
} from '../../../shared/policy/scan/allow-list.ts';
import { fromBasicFinding, fromEnhancedFinding, severityOf } from '../../../shared/policy/scan/findings.ts';
import { quarantineTagOf } from '../../../shared/policy/scan/policy.ts';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const ARN = 'arn:aws:inspector2:us-east-1:123456789012:finding/f1';

describe('fromBasicFinding', () => {
  it('reads the package, its fixed version under any of the scanners’ keys, and the CVSS3 score', () => {
    // Act
    const findings = ['fixed_in_version', 'fixedInVersion', 'fixed_version'].map((key) =>
      fromBasicFinding({
        name: 'CVE-1',
        severity: 'HIGH',
        attributes: { package_name: 'openssl', package_version: '3.0.11', [key]: '3.0.13', CVSS3_SCORE: '7.5' },
      }),
    );
    // Assess
    for (const finding of findings) {
      expect(finding).toEqual({
        source: 'basic',
        id: 'CVE-1',
        severity: 'HIGH',
        packages: [{ name: 'openssl', version: '3.0.11', fixedInVersion: '3.0.13' }],
        cvss: 7.5,
        fixAvailable: true,
        status: 'ACTIVE',
      });
    }
  });

  it('takes the first fixed-version key with a value, and counts an empty one as no fix', () => {
    // Act
    const firstEmpty = fromBasicFinding({
      name: 'CVE-1',
      severity: 'LOW',
      attributes: { package_name: 'zlib', fixed_in_version: '', fixedInVersion: '1.3.1', fixed_version: '9' },
    });
    const allEmpty = fromBasicFinding({
      name: 'CVE-2',
      severity: 'LOW',
      attributes: { package_name: 'zlib', fixed_in_version: '' },
    });
    // Assess
    expect(firstEmpty).toMatchObject({ packages: [{ name: 'zlib', fixedInVersion: '1.3.1' }], fixAvailable: true });
    expect(allEmpty).toMatchObject({ packages: [{ name: 'zlib' }], fixAvailable: false });
    expect(allEmpty.packages[0]).toStrictEqual({ name: 'zlib' });
  });

  it('falls back to the CVSS2 score when CVSS3 is blank or not a number, and has none when neither is', () => {
    // Act
    const blank = fromBasicFinding({ name: 'a', severity: 'LOW', attributes: { CVSS3_SCORE: ' ', CVSS2_SCORE: '5' } });
    const garbage = fromBasicFinding({
      name: 'b',
      severity: 'LOW',
      attributes: { CVSS3_SCORE: 'n/a', CVSS2_SCORE: '4.3' },
    });
    const neither = fromBasicFinding({ name: 'c', severity: 'LOW', attributes: { CVSS3_SCORE: '', CVSS2_SCORE: 'x' } });
    // Assess
    expect(blank.cvss).toBe(5);
    expect(garbage.cvss).toBe(4.3);
    expect(neither).not.toHaveProperty('cvss');
    expect(neither.packages).toEqual([]);
  });

  it('names no package when the finding has no package name', () => {
    // Act
    const finding = fromBasicFinding({ name: 'CVE-1', severity: 'LOW', attributes: { package_name: '' } });
    // Assess
    expect(finding.packages).toEqual([]);
  });
});

describe('fromEnhancedFinding', () => {
  it('derives fixAvailable from the packages when Inspector does not say, ignoring NotAvailable', () => {
    // Prepare
    const base = { findingArn: ARN, severity: 'HIGH' };
    // Act
    const fixed = fromEnhancedFinding({
      ...base,
      packages: [
        { name: 'curl', version: '8.3.0' },
        { name: 'libcurl', fixedInVersion: '8.4.0' },
      ],
    });
    const notAvailable = fromEnhancedFinding({ ...base, packages: [{ name: 'curl', fixedInVersion: 'NotAvailable' }] });
    const none = fromEnhancedFinding({ ...base, packages: [{ name: 'curl' }] });
    // Assess
    expect(fixed.fixAvailable).toBe(true);
    expect(fixed.packages).toEqual([
      { name: 'curl', version: '8.3.0' },
      { name: 'libcurl', fixedInVersion: '8.4.0' },
    ]);
    expect(notAvailable.fixAvailable).toBe(false);
    expect(none.fixAvailable).toBe(false);
  });

  it('believes Inspector’s fixAvailable over the packages: YES and PARTIAL are a fix, NO is none', () => {
    // Prepare
    const finding = (fixAvailable: string) =>
      fromEnhancedFinding({ findingArn: ARN, severity: 'HIGH', fixAvailable, packages: [{ name: 'curl' }] });
    const withFix = (fixAvailable: string) =>
      fromEnhancedFinding({
        findingArn: ARN,
        severity: 'HIGH',
        fixAvailable,
        packages: [{ name: 'curl', fixedInVersion: '8.4.0' }],
      });
    // Assess
    expect(finding('YES').fixAvailable).toBe(true);
    expect(finding('PARTIAL').fixAvailable).toBe(true);
    expect(withFix('NO').fixAvailable).toBe(false);
  });

  it('names a finding by vulnerability id, else title, else ARN; keeps status, exploit and update time', () => {
    // Act
    const byTitle = fromEnhancedFinding({
      findingArn: ARN,
      severity: 'LOW',
      title: 'curl: heap overflow',
      status: 'SUPPRESSED',
      exploitAvailable: 'NO',
      updatedAt: 1_700_000_000_000,
      packages: [],
    });
    const byArn = fromEnhancedFinding({ findingArn: ARN, severity: 'LOW', status: 'FIXED?', packages: [] });
    const closed = fromEnhancedFinding({ findingArn: ARN, severity: 'LOW', status: 'CLOSED', packages: [] });
    // Assess
    expect(byTitle).toEqual({
      source: 'enhanced',
      id: 'curl: heap overflow',
      severity: 'LOW',
      packages: [],
      fixAvailable: false,
      exploitAvailable: false,
      status: 'SUPPRESSED',
      findingArn: ARN,
      updatedAt: 1_700_000_000_000,
    });
    expect(byArn).toStrictEqual({
      source: 'enhanced',
      id: ARN,
      severity: 'LOW',
      packages: [],
      fixAvailable: false,
      status: 'ACTIVE',
      findingArn: ARN,
    });
    expect(closed.status).toBe('CLOSED');
  });
});

describe('severityOf', () => {
  it('keeps a known severity, reads an empty one as UNDEFINED and anything else as UNTRIAGED', () => {
    // Assess
    expect(['CRITICAL', 'INFORMATIONAL', 'UNDEFINED', '', 'SEVERE'].map(severityOf)).toEqual([
      'CRITICAL',
      'INFORMATIONAL',
      'UNDEFINED',
      'UNDEFINED',
      'UNTRIAGED',
    ]);
  });
});

describe('allow-list', () => {
  const entry = (overrides: Partial<AllowListEntry> = {}): AllowListEntry => ({
    id: 'CVE-1',
    expires: '2026-12-31',
    owner: 'team-a',
    reason: 'not reachable',
    ...overrides,
  });
  const finding = (packages: { name: string; version?: string }[] = [{ name: 'openssl', version: '3.0.11' }]) => ({
    source: 'basic' as const,
    id: 'cve-1',
    severity: 'HIGH' as const,
    packages,
    fixAvailable: false,
    status: 'ACTIVE' as const,
  });
  const IMAGE = { repositoryName: 'team/app', digest: 'sha256:abc' };

  it('splits name@version at the last @, leaving an npm scope in the name', () => {
    // Assess
    expect(splitPackage('openssl@3.0.11')).toEqual({ name: 'openssl', version: '3.0.11' });
    expect(splitPackage('@babel/core@7.23.0')).toEqual({ name: '@babel/core', version: '7.23.0' });
    expect(splitPackage('@babel/core')).toEqual({ name: '@babel/core' });
    expect(splitPackage('openssl')).toEqual({ name: 'openssl' });
  });

  it('treats an expiry that does not parse as expired', () => {
    // Assess
    expect(isExpired({ expires: 'next week' }, NOW)).toBe(true);
    expect(isExpired({ expires: '2026-11-24' }, NOW)).toBe(false);
    expect(isExpired({ expires: '2026-11-23' }, NOW)).toBe(true);
  });

  it('reads only YYYY-MM-DD and ISO date-times: other forms Date.parse would accept count as expired', () => {
    // Assess: each of these parses in V8 (as midnight UTC, a padded or an extended year), each is no expiry here.
    for (const expires of [' 2026-11-30', '+002026-11-30', '+002026-11-30T00:00:00Z', '2026-11-30 ', '11/30/2026']) {
      expect(Number.isNaN(Date.parse(expires)), expires).toBe(false);
      expect(isExpired({ expires }, NOW), expires).toBe(true);
    }
    expect(isExpired({ expires: '2026-11-30T00:00:00Z' }, NOW)).toBe(false);
    expect(isExpired({ expires: '2026-11-30T00:00:00+02:00' }, NOW)).toBe(false);
  });

  it('allows by the first active entry that matches, and lists the expired ones only when none does', () => {
    // Prepare
    const expired = entry({ expires: '2026-01-01', owner: 'old' });
    const otherPackage = entry({ package: 'curl', owner: 'curl-team' });
    const active = entry({ package: 'openssl@3.0.11', owner: 'now' });
    // Act
    const allowed = compileAllowList([expired, otherPackage, active], IMAGE, NOW).match(finding());
    const onlyExpired = compileAllowList([expired, otherPackage], IMAGE, NOW).match(finding());
    const unknownId = compileAllowList([active], IMAGE, NOW).match({ ...finding(), id: 'CVE-2' });
    // Assess
    expect(allowed).toEqual({ allowedBy: active, expired: [] });
    expect(onlyExpired).toEqual({ expired: [expired] });
    expect(unknownId).toEqual({ expired: [] });
  });

  it('matches a package scope against every package of a finding, by name and, when given, version', () => {
    // Prepare
    const list = compileAllowList([entry({ package: 'libcurl@8.3.0' })], IMAGE, NOW);
    // Assess
    expect(list.match(finding([{ name: 'curl' }, { name: 'libcurl', version: '8.3.0' }])).allowedBy).toBeDefined();
    expect(list.match(finding([{ name: 'libcurl', version: '8.4.0' }])).allowedBy).toBeUndefined();
    expect(list.match(finding([{ name: 'curl', version: '8.3.0' }])).allowedBy).toBeUndefined();
    expect(list.match(finding([])).allowedBy).toBeUndefined();
  });

  it('applies a repository-scoped entry only where one of its globs matches', () => {
    // Act
    const listed = compileAllowList([entry({ repositories: ['web/*', 'team/*'] })], IMAGE, NOW);
    const other = compileAllowList([entry({ repositories: ['web/*'] })], IMAGE, NOW);
    // Assess
    expect(listed.match(finding()).allowedBy).toBeDefined();
    expect(other.match(finding())).toEqual({ expired: [] });
  });

  it('reports days left and days ago in whole days, the window inclusive, ties by id', () => {
    // Act: NOW is noon; a date-only entry counts through the end of its day.
    const report = reportAllowList(
      [
        entry({ id: 'CVE-B', expires: '2026-11-25' }),
        entry({ id: 'CVE-A', expires: '2026-11-25' }),
        entry({ id: 'CVE-EDGE', expires: '2026-11-26T12:00:00Z' }),
        entry({ id: 'CVE-OUT', expires: '2026-11-26T12:00:01Z' }),
        entry({ id: 'CVE-Y', expires: '2026-11-20' }),
        entry({ id: 'CVE-X', expires: '2026-11-20' }),
        entry({ id: 'CVE-OLDER', expires: '2026-11-10' }),
        entry({ id: 'CVE-NOW', expires: '2026-11-24T12:00:00Z' }),
      ],
      NOW,
      2,
    );
    // Assess
    expect(report.expiring.map((e) => [e.id, e.daysLeft, e.expiresAt])).toEqual([
      ['CVE-A', 2, '2026-11-26T00:00:00.000Z'],
      ['CVE-B', 2, '2026-11-26T00:00:00.000Z'],
      ['CVE-EDGE', 2, '2026-11-26T12:00:00.000Z'],
    ]);
    expect(report.expired.map((e) => [e.id, e.daysAgo])).toEqual([
      ['CVE-OLDER', 13],
      ['CVE-X', 3],
      ['CVE-Y', 3],
      ['CVE-NOW', 0],
    ]);
    expect(report).toMatchObject({ active: 4, total: 8, expiringWithinDays: 2 });
  });
});

describe('quarantineTagOf', () => {
  it('appends the first 12 hex digits of the digest to the prefix', () => {
    // Assess
    expect(quarantineTagOf('quarantined-', `sha256:${'0123456789abcdef'.repeat(4)}`)).toBe('quarantined-0123456789ab');
    expect(quarantineTagOf('q-', 'abcdef0123456789')).toBe('q-abcdef012345');
  });
});
