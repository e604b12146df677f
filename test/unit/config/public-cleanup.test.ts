import { describe, expect, it } from 'vitest';
import { ConfigError, cleanupRuleFor, parseConfig } from '../../../shared/config/load.ts';
import { DEFAULT_CLEANUP_RULE } from '../../../shared/policy/cleanup/plan.ts';

const issuesOf = (document: unknown) => {
  try {
    parseConfig(document);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
};

describe('cleanup rules of the public registry', () => {
  it("selects ECR Public with registry: 'public', and the private registry by default", () => {
    // Prepare
    const { cleanup } = parseConfig({
      cleanup: {
        rules: [
          { registry: 'public', repositories: ['tools/**'], olderThanDays: 7 },
          { repositories: ['tools/**'], olderThanDays: 30 },
        ],
      },
    });
    // Act
    const publicMatch = cleanupRuleFor(cleanup, 'tools/cli', 'public');
    const privateMatch = cleanupRuleFor(cleanup, 'tools/cli');
    // Assess
    expect(cleanup.rules.map((rule) => rule.registry)).toEqual(['public', 'private']);
    expect(publicMatch).toEqual({
      rule: { ...DEFAULT_CLEANUP_RULE, olderThanDays: 7, notPulledForDays: 0 },
      index: 0,
    });
    expect(privateMatch).toEqual({ rule: { ...DEFAULT_CLEANUP_RULE, olderThanDays: 30 }, index: 1 });
    expect(cleanupRuleFor(cleanup, 'other/cli', 'public')).toBeUndefined();
  });

  it('refuses notPulledForDays on a public rule, naming the field', () => {
    // Act
    const issues = issuesOf({
      cleanup: {
        rules: [{ repositories: ['a/**'] }, { registry: 'public', repositories: ['b/**'], notPulledForDays: 30 }],
      },
    });
    // Assess
    expect(issues).toEqual([
      {
        path: 'cleanup.rules[1].notPulledForDays',
        message: 'ECR Public records no pull time, so notPulledForDays cannot apply to a public rule',
      },
    ]);
  });

  it('refuses notPulledForDays in the defaults when a public rule would inherit it', () => {
    // Act
    const issues = issuesOf({
      cleanup: {
        defaults: { notPulledForDays: 45 },
        rules: [{ repositories: ['a/**'] }, { registry: 'public', repositories: ['b/**'] }],
      },
    });
    // Assess
    expect(issues).toEqual([
      {
        path: 'cleanup.defaults.notPulledForDays',
        message: expect.stringMatching(
          /^ECR Public records no pull time, so notPulledForDays cannot apply to a public rule \(rules\[1\] would inherit it/,
        ),
      },
    ]);
  });

  it('keeps notPulledForDays in the defaults when every rule is private, and refuses an unknown registry', () => {
    // Act & Assess
    expect(issuesOf({ cleanup: { defaults: { notPulledForDays: 45 }, rules: [{ repositories: ['a/**'] }] } })).toEqual(
      [],
    );
    expect(issuesOf({ cleanup: { rules: [{ registry: 'Public', repositories: ['a/**'] }] } })).toEqual([
      { path: 'cleanup.rules[0].registry', message: expect.any(String) },
    ]);
  });
});
