import { describe, expect, it } from 'vitest';
import { ConfigError, cleanupConfigWarnings, cleanupRuleFor, parseConfig } from '../../../shared/config/load.ts';

const withSelections = (tagSelections: unknown, extra: Record<string, unknown> = {}) => ({
  cleanup: { rules: [{ repositories: ['team/*'], tagSelections, ...extra }] },
});

const issuesOf = (document: unknown) => {
  try {
    parseConfig(document);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
};

const warningsOf = (tagSelections: unknown) =>
  cleanupConfigWarnings(parseConfig(withSelections(tagSelections)).cleanup);

describe('cleanup tag selections in the config', () => {
  it('takes globs, anchored regexes, the semver and any forms, and the keep conditions', () => {
    // Act
    const config = parseConfig(
      withSelections(
        [
          { tags: ['pr-*'], keepLast: 20 },
          { tags: ['main-*'], keepLast: 5 },
          { tags: [{ form: 'semver' }], protect: true },
          { tags: ['feature-*'], keepPulledWithinDays: 30 },
          { tags: [{ regex: 'build-[0-9]+' }, { form: 'any' }], keepNewerThanDays: 7 },
        ],
        { maxTaggedDeleteFraction: 0.2 },
      ),
    );
    // Assess
    const match = cleanupRuleFor(config.cleanup, 'team/app');
    expect(match?.rule.tagSelections).toHaveLength(5);
    expect(match?.rule.maxTaggedDeleteFraction).toBe(0.2);
  });

  it('defaults to no selections and a tagged brake of 10%', () => {
    // Act
    const match = cleanupRuleFor(parseConfig({ cleanup: { rules: [{ repositories: ['*'] }] } }).cleanup, 'a');
    // Assess
    expect(match?.rule.tagSelections).toEqual([]);
    expect(match?.rule.maxTaggedDeleteFraction).toBe(0.1);
  });

  it('refuses bad selections with the path of each bad field', () => {
    // Act
    const issues = issuesOf(
      withSelections([
        { tags: [] },
        { tags: ['pr-*'], keepLast: -1 },
        { tags: ['pr-*'], keep: 3 },
        { tags: ['pr/*'] },
        { tags: [{ form: 'calver' }] },
      ]),
    );
    // Assess
    const paths = issues.map((issue) => issue.path);
    expect(paths).toContain('cleanup.rules[0].tagSelections[0].tags');
    expect(paths).toContain('cleanup.rules[0].tagSelections[1].keepLast');
    expect(paths).toContain('cleanup.rules[0].tagSelections[2]');
    expect(paths.some((path) => path.startsWith('cleanup.rules[0].tagSelections[3].tags[0]'))).toBe(true);
    expect(paths.some((path) => path.startsWith('cleanup.rules[0].tagSelections[4].tags[0]'))).toBe(true);
  });

  it('refuses a hostile or non-RE2 regex with a clear error at its path', () => {
    // Act
    const backreference = issuesOf(withSelections([{ tags: [{ regex: '(a)\\1' }] }]));
    const costly = issuesOf({ cleanup: { defaults: { tagSelections: [{ tags: [{ regex: '(a{1,100}){1,100}' }] }] } } });
    // Assess
    expect(backreference).toEqual([
      { path: 'cleanup.rules[0].tagSelections[0].tags[0].regex', message: expect.any(String) },
    ]);
    expect(costly.map((issue) => issue.path)).toEqual(['cleanup.defaults.tagSelections[0].tags[0].regex']);
  });

  it('refuses keepPulledWithinDays on a public rule, its own or inherited from the defaults', () => {
    // Act
    const own = issuesOf({
      cleanup: {
        rules: [
          { registry: 'public', repositories: ['*'], tagSelections: [{ tags: ['pr-*'], keepPulledWithinDays: 3 }] },
        ],
      },
    });
    const inherited = issuesOf({
      cleanup: {
        defaults: {
          tagSelections: [
            { tags: ['pr-*'], keepLast: 2 },
            { tags: ['x-*'], keepPulledWithinDays: 3 },
          ],
        },
        rules: [{ registry: 'public', repositories: ['*'] }],
      },
    });
    const privateRule = issuesOf(withSelections([{ tags: ['pr-*'], keepPulledWithinDays: 3 }]));
    // Assess
    expect(own.map((issue) => issue.path)).toEqual(['cleanup.rules[0].tagSelections[0].keepPulledWithinDays']);
    expect(inherited.map((issue) => issue.path)).toEqual(['cleanup.defaults.tagSelections[1].keepPulledWithinDays']);
    expect(inherited[0]?.message).toContain('rules[0] would inherit');
    expect(privateRule).toEqual([]);
  });

  it('refuses a tagged brake outside 0 to 1', () => {
    // Act
    const issues = issuesOf({ cleanup: { defaults: { maxTaggedDeleteFraction: 1.5 } } });
    // Assess
    expect(issues.map((issue) => issue.path)).toEqual(['cleanup.defaults.maxTaggedDeleteFraction']);
  });
});

describe('cleanupConfigWarnings', () => {
  it('says nothing of selections that each claim their own tags', () => {
    // Act
    const warnings = warningsOf([
      { tags: ['pr-*'], keepLast: 20 },
      { tags: ['main-*'], keepLast: 5 },
      { tags: [{ form: 'semver' }], protect: true },
    ]);
    // Assess
    expect(warnings).toEqual([]);
  });

  it('warns of a pattern an earlier selection shadows, and of a selection that can never match', () => {
    // Act
    const warnings = warningsOf([
      { tags: ['pr-*'], keepLast: 20 },
      { tags: ['pr-1*', 'hotfix'], keepLast: 5 },
      { tags: ['pr-42'], protect: true },
      { tags: [{ form: 'any' }], keepLast: 1 },
      { tags: ['main-*'], keepLast: 1 },
    ]);
    // Assess
    expect(warnings).toEqual([
      {
        path: 'cleanup.rules[0].tagSelections[1].tags[0]',
        message: 'pr-1* is shadowed by pr-* of tagSelections[0], which claims its tags first',
      },
      {
        path: 'cleanup.rules[0].tagSelections[2].tags[0]',
        message: 'pr-42 is shadowed by pr-* of tagSelections[0], which claims its tags first',
      },
      { path: 'cleanup.rules[0].tagSelections[2]', message: 'this selection can never match: no tag reaches it' },
      {
        path: 'cleanup.rules[0].tagSelections[4].tags[0]',
        message: 'main-* is shadowed by any of tagSelections[3], which claims its tags first',
      },
      { path: 'cleanup.rules[0].tagSelections[4]', message: 'this selection can never match: no tag reaches it' },
    ]);
  });

  it('warns of a glob no tag can match', () => {
    // Act
    const warnings = warningsOf([{ tags: ['-rc*'], keepLast: 1 }]);
    // Assess
    expect(warnings.map((warning) => warning.path)).toEqual([
      'cleanup.rules[0].tagSelections[0].tags[0]',
      'cleanup.rules[0].tagSelections[0]',
    ]);
  });

  it('warns of keepLast 0 on a release pattern, unless the selection protects', () => {
    // Act
    const semver = warningsOf([{ tags: [{ form: 'semver' }], keepLast: 0 }]);
    const glob = warningsOf([{ tags: ['v*'], keepLast: 0 }]);
    const protectedRelease = warningsOf([{ tags: ['v*'], keepLast: 0, protect: true }]);
    const pr = warningsOf([{ tags: ['pr-*'], keepLast: 0 }]);
    // Assess
    expect(semver).toEqual([
      {
        path: 'cleanup.rules[0].tagSelections[0].keepLast',
        message: 'keepLast 0 on the release pattern semver keeps no release by count',
      },
    ]);
    expect(glob.map((warning) => warning.path)).toEqual(['cleanup.rules[0].tagSelections[0].keepLast']);
    expect(protectedRelease).toEqual([]);
    expect(pr).toEqual([]);
  });

  it('checks the defaults too', () => {
    // Act
    const warnings = cleanupConfigWarnings(
      parseConfig({ cleanup: { defaults: { tagSelections: [{ tags: ['*'] }, { tags: ['x'] }] } } }).cleanup,
    );
    // Assess
    expect(warnings.map((warning) => warning.path)).toEqual([
      'cleanup.defaults.tagSelections[1].tags[0]',
      'cleanup.defaults.tagSelections[1]',
    ]);
  });
});
