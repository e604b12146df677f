import { describe, expect, it } from 'vitest';
import { checksPublicRepositories, publicComplianceRuleFor } from '../../../shared/config/compliance-schema.ts';
import { ConfigError, parseConfig } from '../../../shared/config/load.ts';
import { DEFAULT_PUBLIC_COMPLIANCE_POLICY } from '../../../shared/policy/compliance/policy.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const png = (size: number) =>
  Buffer.concat([PNG_SIGNATURE, Buffer.alloc(size - PNG_SIGNATURE.length)]).toString('base64');

/** The `path: message` lines of the ConfigError a public section raises. */
const issuesOf = (section: unknown): string[] => {
  try {
    parseConfig({ compliance: { public: section } });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  return [];
};

describe('service config: compliance.public', () => {
  it('checks no public repository by default, and checks them once an enabled rule exists', () => {
    // Act
    const none = parseConfig({});
    const disabled = parseConfig({ compliance: { public: { rules: [{ repositories: ['**'], enabled: false }] } } });
    const one = parseConfig({ compliance: { public: { rules: [{ repositories: ['**'] }] } } });
    // Assess
    expect(none.compliance.public).toEqual({ defaults: {}, rules: [] });
    expect(checksPublicRepositories(none.compliance)).toBe(false);
    expect(checksPublicRepositories(disabled.compliance)).toBe(false);
    expect(checksPublicRepositories(one.compliance)).toBe(true);
  });

  it('gives a public repository the first matching enabled rule over the defaults', () => {
    // Prepare
    const config = parseConfig({
      compliance: {
        public: {
          defaults: { requiredCatalog: ['description'], catalog: { description: 'ours' } },
          rules: [
            { repositories: ['tools/*'], exclude: ['tools/old'], mode: 'enforce', overwrite: true },
            { repositories: ['tools/old'], enabled: false },
            { repositories: ['**'], catalog: { usageText: 'docker pull' }, forbidPublicWrite: false },
          ],
        },
      },
    });
    // Act
    const tools = publicComplianceRuleFor(config.compliance.public, 'tools/cli');
    const old = publicComplianceRuleFor(config.compliance.public, 'tools/old');
    const other = publicComplianceRuleFor(config.compliance.public, 'web');
    // Assess
    expect(tools).toEqual({
      index: 0,
      rule: {
        ...DEFAULT_PUBLIC_COMPLIANCE_POLICY,
        mode: 'enforce',
        overwrite: true,
        requiredCatalog: ['description'],
        catalog: { description: 'ours' },
      },
    });
    expect(old).toBeUndefined();
    // A rule's catalog replaces the defaults' as a whole.
    expect(other?.rule).toMatchObject({ catalog: { usageText: 'docker pull' }, forbidPublicWrite: false });
  });

  it("refuses values beyond ECR Public's limits, naming the field", () => {
    // Act
    const issues = issuesOf({
      defaults: {
        catalog: {
          description: 'd'.repeat(1025),
          aboutText: 'a'.repeat(25_601),
          usageText: '',
          architectures: Array.from({ length: 51 }, (_, i) => `arch-${i}`),
          operatingSystems: ['x'.repeat(51)],
        },
      },
    });
    // Assess
    expect(issues.map((issue) => issue.split(':')[0])).toEqual([
      'compliance.public.defaults.catalog.description',
      'compliance.public.defaults.catalog.aboutText',
      'compliance.public.defaults.catalog.usageText',
      'compliance.public.defaults.catalog.architectures',
      'compliance.public.defaults.catalog.operatingSystems[0]',
    ]);
  });

  it('accepts the limits themselves', () => {
    // Act
    const issues = issuesOf({
      defaults: {
        catalog: {
          description: 'd'.repeat(1024),
          aboutText: 'a'.repeat(25_600),
          usageText: 'u'.repeat(25_600),
          architectures: Array.from({ length: 50 }, (_, i) => `arch-${i}`),
          operatingSystems: ['x'.repeat(50)],
          logo: png(512_000),
        },
      },
    });
    // Assess
    expect(issues).toEqual([]);
  });

  it('refuses a logo that is not base64, empty, not a PNG, or over 512,000 bytes, with a clear message', () => {
    // Act
    const issues = ['not base64!', '', Buffer.from('GIF89a-not-a-png').toString('base64'), png(512_001)].map((logo) =>
      issuesOf({ defaults: { catalog: { logo } } }),
    );
    // Assess
    expect(issues).toEqual([
      ['compliance.public.defaults.catalog.logo: the logo must be base64 (RFC 4648, padded)'],
      ['compliance.public.defaults.catalog.logo: the logo is empty'],
      ['compliance.public.defaults.catalog.logo: the logo must be a PNG image'],
      ['compliance.public.defaults.catalog.logo: the logo is 512001 bytes; ECR Public takes at most 512000'],
    ]);
  });

  it('refuses unknown keys and unknown catalog fields (strict objects)', () => {
    // Act
    const issues = issuesOf({
      defaults: { requiredCatalog: ['title'], catalog: { title: 'x' } },
      rules: [{ repositories: ['a'], overwrites: true }],
      extra: 1,
    });
    // Assess
    expect(issues.map((issue) => issue.split(':')[0])).toEqual([
      'compliance.public.defaults.requiredCatalog[0]',
      'compliance.public.defaults.catalog',
      'compliance.public.rules[0]',
      'compliance.public',
    ]);
  });
});
