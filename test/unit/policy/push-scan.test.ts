import { describe, expect, it } from 'vitest';
import type { ImageKind } from '../../../shared/policy/push/classify.ts';
import { decideScan, type RegistryScanning, scanFilterMatches } from '../../../shared/policy/push/scan.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';

const BASIC_NO_RULES: RegistryScanning = { scanType: 'BASIC', rules: [] };
const basicOnPush = (...filters: string[]): RegistryScanning => ({
  scanType: 'BASIC',
  rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters.map((filter) => ({ filter })) }],
});
const enhanced = (rules: { scanFrequency: string; filters: string[] }[]): RegistryScanning => ({
  scanType: 'ENHANCED',
  rules: rules.map((rule) => ({
    scanFrequency: rule.scanFrequency,
    repositoryFilters: rule.filters.map((filter) => ({ filter })),
  })),
});

const decide = (
  registry: RegistryScanning | undefined,
  overrides: Partial<{
    repositoryName: string;
    kind: ImageKind;
    manifestMediaType: string | undefined;
    repositoryScanOnPush: boolean;
    policyScans: boolean;
  }> = {},
) =>
  decideScan({
    repositoryName: 'payments/api',
    kind: 'image',
    manifestMediaType: OCI_MANIFEST,
    repositoryScanOnPush: false,
    registry,
    policyScans: true,
    ...overrides,
  });

describe('scanFilterMatches', () => {
  it('matches a filter without * anywhere in the name (ECR: "contains")', () => {
    // Assess
    expect(scanFilterMatches('payments', 'team/payments-api')).toBe(true);
    expect(scanFilterMatches('payments', 'web/frontend')).toBe(false);
  });

  it('matches a filter with * against the whole name, * spanning slashes', () => {
    // Assess
    expect(scanFilterMatches('payments/*', 'payments/api/v2')).toBe(true);
    expect(scanFilterMatches('payments/*', 'other/payments/api')).toBe(false);
    expect(scanFilterMatches('*', 'anything/at/all')).toBe(true);
    expect(scanFilterMatches('pay*.api', 'payXXXapi')).toBe(false);
    expect(scanFilterMatches('pay*.api', 'payments.api')).toBe(true);
  });
});

describe('decideScan', () => {
  describe('BASIC scanning', () => {
    it('starts a scan when no rule and no repository flag scans on push (the default registry)', () => {
      // Act
      const decision = decide(BASIC_NO_RULES);
      // Assess
      expect(decision).toEqual({ reason: { code: 'service-scans' }, start: true });
    });

    it('leaves the scan to ECR when a SCAN_ON_PUSH rule filter matches, naming the filter', () => {
      // Act
      const decision = decide(basicOnPush('web/*', 'payments/*'));
      // Assess
      expect(decision).toEqual({
        reason: { code: 'ecr-scans-on-push', scanType: 'BASIC', via: 'registry-rule', filter: 'payments/*' },
        start: false,
      });
    });

    it('starts a scan when the SCAN_ON_PUSH rule filters do not match the repository', () => {
      // Act
      const decision = decide(basicOnPush('web/*', 'data'));
      // Assess
      expect(decision.start).toBe(true);
    });

    it("leaves the scan to ECR when the repository's own scan-on-push flag is on", () => {
      // Act
      const decision = decide(BASIC_NO_RULES, { repositoryScanOnPush: true });
      // Assess
      expect(decision).toEqual({
        reason: { code: 'ecr-scans-on-push', scanType: 'BASIC', via: 'repository-setting' },
        start: false,
      });
    });
  });

  describe('ENHANCED scanning', () => {
    it('leaves the scan to Inspector when a CONTINUOUS_SCAN rule covers the repository', () => {
      // Act
      const decision = decide(
        enhanced([
          { scanFrequency: 'SCAN_ON_PUSH', filters: ['*'] },
          { scanFrequency: 'CONTINUOUS_SCAN', filters: ['payments/*'] },
        ]),
      );
      // Assess
      expect(decision).toEqual({ reason: { code: 'ecr-scans-continuously', filter: 'payments/*' }, start: false });
    });

    it('leaves the scan to Inspector when a SCAN_ON_PUSH rule covers the repository', () => {
      // Act
      const decision = decide(enhanced([{ scanFrequency: 'SCAN_ON_PUSH', filters: ['pay*'] }]));
      // Assess
      expect(decision).toEqual({
        reason: { code: 'ecr-scans-on-push', scanType: 'ENHANCED', via: 'registry-rule', filter: 'pay*' },
        start: false,
      });
    });

    it('reports an uncovered repository and starts nothing: manual scans do not exist under ENHANCED', () => {
      // Act
      const decision = decide(enhanced([{ scanFrequency: 'CONTINUOUS_SCAN', filters: ['web/*'] }]), {
        repositoryScanOnPush: true,
      });
      // Assess
      expect(decision).toEqual({ reason: { code: 'enhanced-scanning-not-covering' }, start: false });
    });
  });

  describe('images that are not scanned', () => {
    it.each([
      ['index', 'not-an-image'],
      ['referrer', 'not-an-image'],
      ['artifact', 'not-an-image'],
    ] as const)('never scans an %s', (kind, code) => {
      // Act
      const decision = decide(BASIC_NO_RULES, { kind });
      // Assess
      expect(decision).toEqual({ reason: { code, kind }, start: false });
    });

    it('never scans a Docker schema 1 manifest, which basic scanning does not support', () => {
      // Act
      const decision = decide(BASIC_NO_RULES, { manifestMediaType: DOCKER_SCHEMA1 });
      // Assess
      expect(decision).toEqual({
        reason: { code: 'unsupported-media-type', mediaType: DOCKER_SCHEMA1 },
        start: false,
      });
    });

    it('scans a Docker v2 image like an OCI one', () => {
      // Assess
      expect(decide(BASIC_NO_RULES, { manifestMediaType: DOCKER_V2 }).start).toBe(true);
    });

    it('starts nothing when the policy does not ask for scans, and needs no registry configuration then', () => {
      // Act
      const decision = decide(undefined, { policyScans: false });
      // Assess
      expect(decision).toEqual({ reason: { code: 'scan-not-required' }, start: false });
    });

    it('treats a scannable image without the registry configuration as a broken invariant', () => {
      // Assess
      expect(() => decide(undefined)).toThrow(/^invariant: /);
    });
  });
});
