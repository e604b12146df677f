import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** `npm run lint` refuses import cycles (Biome's noImportCycles, type-only imports included): shown on a planted one. */
const ROOT = resolve(import.meta.dirname, '../../..');
const BIOME = join(ROOT, 'node_modules', '.bin', 'biome');
// Inside the project so that its biome.json applies; a dot folder, which ARCHITECTURE.md's map leaves out.
const fixture = mkdtempSync(join(ROOT, '.lint-fixture-'));

afterAll(() => rmSync(fixture, { recursive: true, force: true }));

const lint = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(fixture, 'case-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const run = spawnSync(BIOME, ['lint', '--max-diagnostics=50', dir], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
};

describe('lint rules', () => {
  it('fails on an import cycle', () => {
    // Act
    const result = lint({
      'a.ts': "import { b } from './b.ts';\nexport const a = (): number => b() + 1;\n",
      'b.ts': "import { a } from './a.ts';\nexport const b = (): number => a() - 1;\n",
    });
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('noImportCycles');
  });

  it('fails on a cycle made of type imports only', () => {
    // Act
    const result = lint({
      'server.ts': "import type { Control } from './control.ts';\nexport interface Server { control: Control }\n",
      'control.ts': "import type { Server } from './server.ts';\nexport interface Control { server: Server }\n",
    });
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('noImportCycles');
  });

  it('passes the same files without the cycle', () => {
    // Act
    const result = lint({
      'a.ts': "import { b } from './b.ts';\nexport const a = (): number => b() + 1;\n",
      'b.ts': 'export const b = (): number => 1;\n',
    });
    // Assess
    expect(result.output).not.toContain('noImportCycles');
    expect(result.status).toBe(0);
  });
});
