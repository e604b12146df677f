import { describe, expect, it, vi } from 'vitest';
import { ConfigError, parseConfig, scanRuleFor } from '../../../shared/config/load.ts';
import { DEFAULT_SCAN_POLICY } from '../../../shared/policy/scan/policy.ts';

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const entry = (overrides: Record<string, unknown> = {}) => ({
  id: 'CVE-2024-3094',
  expires: inDays(30),
  owner: 'team-a',
  reason: 'not reachable',
  ...overrides,
});
const failureOf = (document: unknown) => {
  try {
    parseConfig(document);
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('scan config', () => {
  it('defaults to report mode with CRITICAL 0 and HIGH 0 when a rule sets nothing', () => {
    // Act
    const match = scanRuleFor(parseConfig({ scan: { rules: [{ repositories: ['**'] }] } }).scan, 'team/app');
    // Assess
    expect(match).toEqual({ rule: DEFAULT_SCAN_POLICY, index: 0 });
    expect(DEFAULT_SCAN_POLICY).toMatchObject({ mode: 'report', maxFindings: { CRITICAL: 0, HIGH: 0 } });
  });

  it("lets a rule's maxFindings replace the defaults' as a whole, and skips excluded and disabled repositories", () => {
    // Prepare
    const { scan } = parseConfig({
      scan: {
        defaults: { maxFindings: { CRITICAL: 0, HIGH: 0 }, cvssThreshold: 9 },
        rules: [
          { repositories: ['sandbox/**'], enabled: false },
          { repositories: ['team/**'], exclude: ['team/legacy'], maxFindings: { MEDIUM: 10 } },
        ],
      },
    });
    // Act
    const team = scanRuleFor(scan, 'team/app');
    // Assess
    expect(team?.rule).toMatchObject({ maxFindings: { MEDIUM: 10 }, cvssThreshold: 9 });
    expect(scanRuleFor(scan, 'team/legacy')).toBeUndefined();
    expect(scanRuleFor(scan, 'sandbox/x')).toBeUndefined();
  });

  it('refuses an allow-list entry without an expiry with an error naming the entry', () => {
    // Act
    const error = failureOf({ scan: { allowList: [entry(), entry({ id: 'CVE-2023-4911', expires: undefined })] } });
    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(
      'scan.allowList[1].expires: allow-list entry CVE-2023-4911 has no expiry date',
    );
  });

  it('refuses an expiry more than 90 days ahead unless allowListMaxDays raises the bound', () => {
    // Prepare: the bound is counted from when the config is loaded.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-11-24T00:00:00Z') });
    try {
      const loads = (expires: string, allowListMaxDays?: number) =>
        failureOf({ scan: { ...(allowListMaxDays ? { allowListMaxDays } : {}), allowList: [entry({ expires })] } });
      // Act: 90 days after 2026-11-24T00:00Z is 2027-02-22T00:00Z; a date counts through its last second.
      const lastDay = loads('2027-02-21');
      const dayAfter = loads('2027-02-22');
      const atBound = loads('2027-02-22T00:00:00Z');
      const pastBound = loads('2027-02-22T00:00:01Z');
      const raised = loads('2027-03-24', 180);
      const pastRaised = loads('2027-05-23', 180);
      // Assess
      expect(lastDay).toBeUndefined();
      expect(atBound).toBeUndefined();
      expect(raised).toBeUndefined();
      expect((dayAfter as ConfigError).message).toMatch(
        /scan\.allowList\[0\]\.expires: allow-list entry CVE-2024-3094 \(owner team-a\) expires 2027-02-22, more than 90 days ahead/,
      );
      expect((pastBound as ConfigError).message).toMatch(/expires 2027-02-22T00:00:01Z, more than 90 days ahead/);
      expect((pastRaised as ConfigError).message).toMatch(/expires 2027-05-23, more than 180 days ahead/);
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    ['no owner', { owner: undefined }, /allowList\[0\]\.owner/],
    ['no reason', { reason: undefined }, /allowList\[0\]\.reason/],
    ['an expiry that is not a date', { expires: 'next week' }, /allowList\[0\]\.expires: an expiry date/],
    ['a bad digest scope', { digest: 'sha256:xyz' }, /allowList\[0\]\.digest/],
    ['an unknown field', { severity: 'HIGH' }, /allowList\[0\]/],
  ])('refuses an allow-list entry with %s', (_name, overrides, message) => {
    // Act
    const error = failureOf({ scan: { allowList: [entry(overrides)] } });
    // Assess
    expect((error as ConfigError).message).toMatch(message);
  });

  it('refuses an unknown severity in maxFindings and a CVSS threshold over 10', () => {
    // Act
    const severity = failureOf({ scan: { defaults: { maxFindings: { SEVERE: 0 } } } });
    const cvss = failureOf({ scan: { defaults: { cvssThreshold: 11 } } });
    // Assess
    expect((severity as ConfigError).message).toMatch(/scan\.defaults\.maxFindings/);
    expect((cvss as ConfigError).message).toMatch(/scan\.defaults\.cvssThreshold/);
  });
});
