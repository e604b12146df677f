import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkSync } from 'recheck';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Every regular expression written in the project's source (a `/literal/` or `new RegExp('literal')`) is checked for
 * catastrophic backtracking with recheck, and no `RegExp` is built from anything but a literal: patterns that come
 * from config or requests go to RE2 (re2js) or the wildcard matchers instead.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCE_ROOTS = ['shared', 'functions', 'registry/src', 'cli', 'local'];

/**
 * recheck's settings. Its automaton analysis is exact, but its cost grows with the automaton (`(.+)$` after a few
 * `[^:]*` takes seconds); automata above `maxNFASize` states go to its fuzzer instead, which is much quicker on them,
 * and every check stops after `timeout` ms with status 'unknown'. Exponential and high-degree polynomial patterns are
 * found in milliseconds (see the first test), so 'unknown' is taken as "no attack found within the budget": listed,
 * not failed. A quadratic pattern can take longer to find than the budget; the last assertion keeps 'unknown' the
 * exception, so that a broken or starved checker cannot pass the test by finding nothing.
 */
const RECHECK = { timeout: 1000, maxNFASize: 3000 };

interface Found {
  readonly where: string;
  readonly source: string;
  readonly flags: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    // Dot folders are no source (the lint-rules test plants short-lived fixtures in them).
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const isRegExpConstructor = (node: ts.Node): node is ts.NewExpression | ts.CallExpression =>
  (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
  ts.isIdentifier(node.expression) &&
  node.expression.text === 'RegExp';

const literalText = (node: ts.Node | undefined): string | undefined =>
  node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;

/** The regular expressions written in the source, and the `RegExp`s built from something else. */
function scan(): { patterns: Found[]; dynamic: string[] } {
  const patterns: Found[] = [];
  const dynamic: string[] = [];
  for (const root of SOURCE_ROOTS) {
    for (const file of sourceFiles(join(ROOT, root))) {
      const text = readFileSync(file, 'utf8');
      const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
      const where = (node: ts.Node) =>
        `${relative(ROOT, file)}:${sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line + 1}`;
      const visit = (node: ts.Node): void => {
        if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
          const literal = node.getText(sourceFile);
          const end = literal.lastIndexOf('/');
          patterns.push({ where: where(node), source: literal.slice(1, end), flags: literal.slice(end + 1) });
        } else if (isRegExpConstructor(node)) {
          const [first, second] = node.arguments ?? [];
          const source = literalText(first);
          const flags = second === undefined ? '' : literalText(second);
          if (source !== undefined && flags !== undefined) patterns.push({ where: where(node), source, flags });
          else if (!(first && ts.isRegularExpressionLiteral(first))) dynamic.push(where(node));
        }
        ts.forEachChild(node, visit);
      };
      visit(sourceFile);
    }
  }
  return { patterns, dynamic };
}

describe('regular expressions in the source', () => {
  const { patterns, dynamic } = scan();

  it('flags the backtracking patterns this project once shipped', () => {
    // Act: ECR's scanning-filter pattern as the model writes it, and what a glob `*a*a*a*b` used to compile to.
    const scanningFilter = checkSync('^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$', '', RECHECK);
    const glob = checkSync('^[^/]*a[^/]*a[^/]*a[^/]*b$', '', RECHECK);
    // Assess
    expect(scanningFilter).toMatchObject({ status: 'vulnerable', complexity: { type: 'exponential' } });
    expect(glob).toMatchObject({ status: 'vulnerable', complexity: { type: 'polynomial', degree: 4 } });
  });

  it('builds no RegExp from a pattern that is not written in the source', () => {
    // Assess: config and request patterns are matched by re2js or the wildcard matchers, never by a RegExp.
    expect(dynamic).toEqual([]);
  });

  it('has no pattern recheck finds vulnerable to catastrophic backtracking', { timeout: 120_000 }, () => {
    // Arrange: one check per distinct pattern.
    const distinct = new Map<string, Found[]>();
    for (const found of patterns) {
      const key = `/${found.source}/${found.flags}`;
      distinct.set(key, [...(distinct.get(key) ?? []), found]);
    }
    // Act
    const vulnerable: string[] = [];
    const unknown: string[] = [];
    for (const [key, [first, ...more] = []] of distinct) {
      if (!first) continue;
      const diagnostics = checkSync(first.source, first.flags, RECHECK);
      const places = [first, ...more].map((found) => found.where).join(', ');
      if (diagnostics.status === 'vulnerable') {
        vulnerable.push(`${key} at ${places}: ${diagnostics.complexity.summary}, attack ${diagnostics.attack.pattern}`);
      } else if (diagnostics.status === 'unknown') {
        unknown.push(`${key} at ${places}: ${diagnostics.error.kind}`);
      }
    }
    // Assess
    if (unknown.length > 0)
      console.info(`recheck gave up on (no attack found in ${RECHECK.timeout} ms):\n${unknown.join('\n')}`);
    expect(patterns.length).toBeGreaterThan(50);
    expect(vulnerable).toEqual([]);
    expect(unknown.length).toBeLessThan(distinct.size / 5);
  });
});
