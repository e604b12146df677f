import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, cleanupRuleFor, parseConfig, parseConfigText } from '../../../shared/config/load.ts';
import { serviceConfigJsonSchema } from '../../../shared/config/schema.ts';
import { DEFAULT_CLEANUP_RULE } from '../../../shared/policy/cleanup/plan.ts';
import { globToRegExp } from '../../../shared/policy/glob.ts';

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
    expect(globToRegExp('payments/*').test('payments/api')).toBe(true);
    expect(globToRegExp('payments/*').test('payments/api/v2')).toBe(false);
    expect(globToRegExp('payments/**').test('payments/api/v2')).toBe(true);
    expect(globToRegExp('a/**/b').test('a/b')).toBe(true);
    expect(globToRegExp('svc-?').test('svc-1')).toBe(true);
    expect(globToRegExp('a.b').test('aXb')).toBe(false);
  });
});
