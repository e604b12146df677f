import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The local registry and the service name their own types: no exported type, interface, class or enum of the
 * registry package has the name of one in the service. Two `ImageRecord`s, one per side, read alike in a test or a
 * stack trace that holds both, and invite an import of the wrong one.
 */
const ROOT = resolve(import.meta.dirname, '../../..');

const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
  cwd: ROOT,
  encoding: 'utf8',
})
  .split('\0')
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));

const exported = (node: ts.Node): boolean =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/** Exported type names declared in the files under `prefixes`, each with the file that declares it. */
function exportedTypeNames(prefixes: readonly string[]): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const file of tracked.filter((path) => prefixes.some((prefix) => path.startsWith(prefix)))) {
    const source = ts.createSourceFile(file, readFileSync(resolve(ROOT, file), 'utf8'), ts.ScriptTarget.Latest);
    for (const statement of source.statements) {
      const declares =
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isEnumDeclaration(statement);
      if (!declares || !exported(statement) || statement.name === undefined) continue;
      names.set(statement.name.text, [...(names.get(statement.name.text) ?? []), file]);
    }
  }
  return names;
}

describe('type names', () => {
  const registry = exportedTypeNames(['registry/src/']);
  const service = exportedTypeNames(['shared/', 'functions/', 'local/', 'cli/']);

  it('finds the exported types of both sides', () => {
    // Assess: a broken walk would find nothing and pass the next test.
    expect(registry.size).toBeGreaterThan(30);
    expect(service.size).toBeGreaterThan(30);
    expect(registry.has('RegistryServer')).toBe(true);
    expect(service.has('ServiceConfig')).toBe(true);
  });

  it('shares no exported type name between the local registry and the service', () => {
    // Act
    const shared = [...registry.keys()]
      .filter((name) => service.has(name))
      .map((name) => `${name}: ${[...(registry.get(name) ?? []), ...(service.get(name) ?? [])].join(', ')}`);
    // Assess
    expect(shared).toEqual([]);
  });
});
