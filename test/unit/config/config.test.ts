import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { complianceRuleFor } from '../../../shared/config/compliance-schema.ts';
import { ConfigError, cleanupRuleFor, parseConfig, parseConfigText, pushRuleFor } from '../../../shared/config/load.ts';
import { serviceConfigJsonSchema } from '../../../shared/config/schema.ts';
import { DEFAULT_CLEANUP_RULE } from '../../../shared/policy/cleanup/plan.ts';
import { DEFAULT_COMPLIANCE_POLICY } from '../../../shared/policy/compliance/policy.ts';
import { compileGlob } from '../../../shared/policy/glob.ts';
import { DEFAULT_PUSH_POLICY } from '../../../shared/policy/push/policy.ts';

describe('service config', () => {
  it('parses the shipped config file', () => {
    // Act
    const config = parseConfigText(readFileSync('config/ecr-automation.json', 'utf8'));
    // Assess
    expect(config.cleanup.rules.length).toBeGreaterThan(0);
  });

  it('keeps the committed JSON Schema in step with the zod schema (npm run config:schema)', () => {
    // Act
    const committed = JSON.parse(readFileSync('config/config.schema.json', 'utf8'));
    // Assess
    expect(committed).toEqual(serviceConfigJsonSchema());
  });

  it('names the path of every bad field', () => {
    // Act
    const attempt = () =>
      parseConfig({
        cleanup: {
          defaults: { olderThanDays: -1 },
          rules: [{ repositories: ['Team/*'], maxDeleteFraction: 2 }, { repositorys: ['x'] }],
        },
      });
    // Assess
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const paths = (error as ConfigError).issues.map((issue) => issue.path);
      expect(paths).toEqual(
        expect.arrayContaining([
          'cleanup.defaults.olderThanDays',
          'cleanup.rules[0].repositories[0]',
          'cleanup.rules[0].maxDeleteFraction',
          'cleanup.rules[1]',
        ]),
      );
      expect((error as Error).message).toMatch(/^Invalid config: /);
    }
  });

  it('rejects text that is not JSON with a clear error', () => {
    // Act and Assess
    expect(() => parseConfigText('{ cleanup: ', 'my.json')).toThrow(/Invalid my\.json: not JSON/);
  });

  it('applies the first matching enabled rule over the defaults, and leaves unmatched repositories alone', () => {
    // Prepare
    const config = parseConfig({
      cleanup: {
        defaults: { olderThanDays: 21 },
        rules: [
          { repositories: ['platform/**'], exclude: ['platform/keep'], keepLatestUntagged: 3 },
          { repositories: ['legacy/*'], enabled: false },
          { repositories: ['team-*/app'] },
        ],
      },
    }).cleanup;
    // Act and Assess
    expect(cleanupRuleFor(config, 'platform/base/debian')).toEqual({
      rule: { ...DEFAULT_CLEANUP_RULE, olderThanDays: 21, keepLatestUntagged: 3 },
      index: 0,
    });
    expect(cleanupRuleFor(config, 'platform/keep')).toBeUndefined();
    expect(cleanupRuleFor(config, 'legacy/app')).toBeUndefined();
    expect(cleanupRuleFor(config, 'team-a/app')?.index).toBe(2);
    expect(cleanupRuleFor(config, 'other/app')).toBeUndefined();
  });

  it('matches globs with * inside a segment and ** across segments', () => {
    // Assess
    expect(compileGlob('payments/*').test('payments/api')).toBe(true);
    expect(compileGlob('payments/*').test('payments/api/v2')).toBe(false);
    expect(compileGlob('payments/**').test('payments/api/v2')).toBe(true);
    expect(compileGlob('a/**/b').test('a/b')).toBe(true);
    expect(compileGlob('svc-?').test('svc-1')).toBe(true);
    expect(compileGlob('a.b').test('aXb')).toBe(false);
  });

  describe('push', () => {
    it('ships a push policy: payments in enforce mode, immutable, no latest, semver', () => {
      // Act
      const config = parseConfigText(readFileSync('config/ecr-automation.json', 'utf8'));
      const payments = pushRuleFor(config.push, 'payments/api');
      // Assess
      expect(payments?.rule).toMatchObject({
        mode: 'enforce',
        scan: true,
        tags: { forbidden: ['latest'], required: { form: 'semver' } },
        tagMutability: { setting: 'IMMUTABLE', exclusions: [] },
        undoPush: false,
      });
      expect(pushRuleFor(config.push, 'web/frontend')?.rule.mode).toBe('report');
    });

    it('defaults to no push rules and no dry run when the section is absent', () => {
      // Act
      const config = parseConfig({});
      // Assess
      expect(config.push).toEqual({ dryRun: false, defaults: {}, rules: [] });
      expect(pushRuleFor(config.push, 'any/repo')).toBeUndefined();
    });

    it('applies the first matching enabled rule over the defaults; a rule replaces the tag policy as a whole', () => {
      // Prepare
      const config = parseConfig({
        push: {
          defaults: { mode: 'enforce', tags: { forbidden: ['latest'], maxTagsPerImage: 10 } },
          rules: [
            { repositories: ['legacy/**'], enabled: false },
            { repositories: ['team/*'], exclude: ['team/tools'], tags: { allowed: ['v*'] } },
            { repositories: ['**'], scan: false },
          ],
        },
      }).push;
      // Act and Assess
      expect(pushRuleFor(config, 'team/app')).toEqual({
        rule: { ...DEFAULT_PUSH_POLICY, mode: 'enforce', tags: { allowed: ['v*'], forbidden: [] } },
        index: 1,
      });
      expect(pushRuleFor(config, 'team/tools')).toEqual({
        rule: {
          ...DEFAULT_PUSH_POLICY,
          mode: 'enforce',
          scan: false,
          tags: { forbidden: ['latest'], maxTagsPerImage: 10 },
        },
        index: 2,
      });
      expect(pushRuleFor(config, 'legacy/app')).toBeUndefined();
    });

    it('names the path of every bad push field', () => {
      // Act
      const attempt = () =>
        parseConfig({
          push: {
            defaults: { mode: 'fix' },
            rules: [
              {
                repositories: ['a/*'],
                tags: { forbidden: ['la test'], allowed: [{ regex: '(' }], required: { form: 'calver' } },
                tagMutability: { setting: 'IMMUTABLE_WITH_EXCLUSION' },
              },
              { repositories: ['b'], tagMutability: { setting: 'IMMUTABLE', exclusions: ['latest'] } },
              { repositories: ['c'], undo: true },
            ],
          },
        });
      // Assess
      expect(attempt).toThrow(ConfigError);
      try {
        attempt();
      } catch (error) {
        const paths = (error as ConfigError).issues.map((issue) => issue.path);
        expect(paths).toEqual(
          expect.arrayContaining([
            'push.defaults.mode',
            'push.rules[0].tags.forbidden[0]',
            'push.rules[0].tags.allowed[0].regex',
            'push.rules[0].tags.required',
            'push.rules[0].tagMutability.exclusions',
            'push.rules[1].tagMutability.exclusions',
            'push.rules[2]',
          ]),
        );
      }
    });

    it('accepts the with-exclusion settings with 1 to 5 filters, and null to leave mutability alone', () => {
      // Act
      const config = parseConfig({
        push: {
          defaults: { tagMutability: { setting: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['latest', 'dev-*'] } },
          rules: [{ repositories: ['sandbox/**'], tagMutability: null }, { repositories: ['**'] }],
        },
      }).push;
      // Assess
      expect(pushRuleFor(config, 'sandbox/x')?.rule.tagMutability).toBeNull();
      expect(pushRuleFor(config, 'team/x')?.rule.tagMutability).toEqual({
        setting: 'IMMUTABLE_WITH_EXCLUSION',
        exclusions: ['latest', 'dev-*'],
      });
      expect(() =>
        parseConfig({
          push: {
            defaults: {
              tagMutability: { setting: 'MUTABLE_WITH_EXCLUSION', exclusions: ['a', 'b', 'c', 'd', 'e', 'f'] },
            },
          },
        }),
      ).toThrow(/push\.defaults\.tagMutability\.exclusions/);
    });
  });
});

describe('service config: compliance and registry sections', () => {
  it('gives a repository the first matching compliance rule over the defaults', () => {
    // Prepare
    const config = parseConfig({
      compliance: {
        defaults: { requiredTags: ['team'], lifecyclePolicy: 'cleanup-job' },
        rules: [
          { repositories: ['payments/**'], mode: 'enforce', encryption: 'KMS' },
          { repositories: ['legacy/**'], enabled: false },
          { repositories: ['**'] },
        ],
      },
    });
    // Act
    const payments = complianceRuleFor(config.compliance, 'payments/api');
    const legacy = complianceRuleFor(config.compliance, 'legacy/old');
    // Assess
    expect(payments).toEqual({
      index: 0,
      rule: {
        ...DEFAULT_COMPLIANCE_POLICY,
        mode: 'enforce',
        encryption: 'KMS',
        requiredTags: ['team'],
        lifecyclePolicy: 'cleanup-job',
      },
    });
    expect(legacy).toBeUndefined();
  });

  it('keeps a lifecycle policy written as an object as JSON text', () => {
    // Act
    const config = parseConfig({ compliance: { defaults: { lifecyclePolicy: { rules: [] } } } });
    // Assess
    expect(config.compliance.defaults.lifecyclePolicy).toBe('{"rules":[]}');
  });

  it('leaves every registry section undeclared (unmanaged) by default', () => {
    // Act
    const config = parseConfig({});
    // Assess
    expect(config.registry).toEqual({ dryRun: false });
  });

  it('names the field of a registry setting ECR would refuse, before any call', () => {
    // Act
    const attempt = () =>
      parseConfig({
        registry: {
          pullThroughCache: { rules: [{ prefix: 'hub', upstreamRegistryUrl: 'registry-1.docker.io' }] },
          scanning: { scanType: 'BASIC', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: ['*'] }] },
        },
      });
    // Assess
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      /registry.pullThroughCache.rules\[0\].credentialArn: the upstream 'docker-hub' needs a Secrets Manager credential/,
    );
    expect(attempt).toThrow(/registry.scanning.rules: BASIC scanning supports SCAN_ON_PUSH rules only/);
  });
});
