import { describe, expect, it } from 'vitest';
import { complianceRuleFor } from '../../../shared/config/compliance-schema.ts';
import { cleanupRuleFor, parseConfig } from '../../../shared/config/load.ts';
import { selectRepositories } from '../../../shared/config/rules.ts';

async function* listing(names: readonly string[]) {
  for (const name of names) yield { name, arn: `arn:aws:ecr:us-east-1:1:repository/${name}` };
}

const CONFIG = parseConfig({
  cleanup: {
    rules: [
      { repositories: ['team/legacy'], enabled: false },
      { repositories: ['team/*'], exclude: ['team/keep-*'] },
    ],
  },
  compliance: { rules: [{ repositories: ['other/**'] }] },
});

const NAMES = ['team/app', 'team/legacy', 'team/keep-me', 'other/x/y', 'team/api'];

describe('selectRepositories: the one repository-selection loop', () => {
  it('keeps, in listing order, the repositories an enabled rule matches, with the rule', async () => {
    // Act
    const selection = await selectRepositories(listing(NAMES), (name) => cleanupRuleFor(CONFIG.cleanup, name));
    // Assess
    expect(selection.listed).toBe(5);
    expect(selection.selected.map(({ repository, match }) => [repository.name, match.index])).toEqual([
      ['team/app', 1],
      ['team/api', 1],
    ]);
    expect(selection.withoutRule).toEqual([]);
  });

  it('narrows by globs and names the repositories they match that no enabled rule selects', async () => {
    // Act
    const selection = await selectRepositories(listing(NAMES), (name) => cleanupRuleFor(CONFIG.cleanup, name), [
      'team/a*',
      'team/legacy',
      'team/keep-*',
    ]);
    // Assess
    expect(selection.selected.map(({ repository }) => repository.name)).toEqual(['team/app', 'team/api']);
    expect(selection.withoutRule.map((repository) => repository.name)).toEqual(['team/legacy', 'team/keep-me']);
    expect(selection.listed).toBe(5);
  });

  it('never selects a repository the globs leave out, even one a rule matches', async () => {
    // Act
    const selection = await selectRepositories(listing(NAMES), (name) => cleanupRuleFor(CONFIG.cleanup, name), [
      'nothing/*',
    ]);
    // Assess
    expect(selection.selected).toEqual([]);
    expect(selection.withoutRule).toEqual([]);
  });

  it('serves any section: the compliance rules select their own repositories', async () => {
    // Act
    const selection = await selectRepositories(listing(NAMES), (name) => complianceRuleFor(CONFIG.compliance, name));
    // Assess
    expect(selection.selected.map(({ repository }) => repository.name)).toEqual(['other/x/y']);
  });

  it('walks the listing once, lazily', async () => {
    // Prepare
    let pulled = 0;
    async function* counted() {
      for await (const repository of listing(NAMES)) {
        pulled++;
        yield repository;
      }
    }
    // Act
    await selectRepositories(counted(), () => undefined);
    // Assess
    expect(pulled).toBe(NAMES.length);
  });
});
