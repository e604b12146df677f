import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

/**
 * `npm run lint` refuses import cycles (Biome's noImportCycles, type-only imports included) and imports across the
 * boundary between the service and the local registry package (noRestrictedImports in biome.json's overrides): shown
 * on planted files.
 */
const ROOT = resolve(import.meta.dirname, '../../..');
const BIOME = join(ROOT, 'node_modules', '.bin', 'biome');
// Inside the project so that its biome.json applies; a dot folder, which ARCHITECTURE.md's map leaves out.
const fixture = mkdtempSync(join(ROOT, '.lint-fixture-'));

afterAll(() => rmSync(fixture, { recursive: true, force: true }));
// Each case blocks on a Biome run: yield to the event loop between cases, so that the worker answers the runner's
// RPC in time on a busy machine (see vitest.config.ts).
afterEach(() => new Promise(setImmediate));

const lint = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(fixture, 'case-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const run = spawnSync(BIOME, ['lint', '--max-diagnostics=50', dir], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
};

/**
 * Lints one planted file as if it were in `folder`: biome.json's overrides apply by path, so the file goes into a
 * short-lived dot folder there (.gitignore leaves `.lint-fixture-*` out of the tree the other tests read).
 */
const lintIn = (folder: string, text: string) => {
  const dir = mkdtempSync(join(ROOT, folder, '.lint-fixture-'));
  try {
    writeFileSync(join(dir, 'planted.ts'), text);
    const run = spawnSync(BIOME, ['lint', '--max-diagnostics=50', dir], { cwd: ROOT, encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

  // The planted files sit one folder below `folder`: relative paths climb one level more than from `folder` itself.
  it.each([
    ['shared', "import { sha256 } from '@ecr-automation/local-registry';"],
    ['shared/policy', "import { matchesPattern } from '@ecr-automation/local-registry/matching';"],
    ['functions', "import { startRegistryServer } from '../../registry/src/index.ts';"],
    ['cli', "import { sha256 } from '@ecr-automation/local-registry';"],
    ['cli', "import { DEMO_FINDINGS } from '../../registry/src/control/demo.ts';"],
  ])('refuses an import of the local registry from the service: %s/ %s', (folder, line) => {
    // Act
    const result = lintIn(folder, `${line}\nexport const planted = 1;\n`);
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('noRestrictedImports');
  });

  it.each([
    ['registry/src', "import { parseConfig } from '../../../shared/config/load.ts';"],
    ['registry/src/model', "import { createHandler } from '../../../../functions/on-image-push/handler.ts';"],
    ['registry/src/wire', "import { startLocalService } from '../../../../local/service.ts';"],
    ['registry/src', "import { main } from '../../../cli/start.ts';"],
    ['registry/test', "import { measure } from '../../../bench/lib.ts';"],
  ])('refuses an import of the service from the local registry: %s/ %s', (folder, line) => {
    // Act
    const result = lintIn(folder, `${line}\nexport const planted = 1;\n`);
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('noRestrictedImports');
  });

  it.each([
    ['lifecycle/src', "import { matchesAnyGlob } from '../../../shared/policy/glob.ts';"],
    ['lifecycle/src', "import { sha256 } from '@ecr-automation/local-registry';"],
  ])('refuses an import from outside the lifecycle package: %s/ %s', (folder, line) => {
    // Act
    const result = lintIn(folder, `${line}\nexport const planted = 1;\n`);
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('noRestrictedImports');
  });

  it.each([
    ['test', "import { Registry } from '../../registry/src/model/state.ts';"],
    ['bench', "import { startRegistryServer } from '../../registry/src/wire/server.ts';"],
    ['local', "import { loadFixture } from '../../registry/src/control/fixtures.ts';"],
  ])('refuses a path into the package from its users: %s/ %s', (folder, line) => {
    // Act
    const result = lintIn(folder, `${line}\nexport const planted = 1;\n`);
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('noRestrictedImports');
  });

  it.each([
    ['local', "import { startRegistryServer } from '@ecr-automation/local-registry';"],
    ['test', "import { matchesPattern } from '@ecr-automation/local-registry/matching';"],
    ['cli', "import { sha256 } from '../../local/registry.ts';"],
    ['registry/src/ops', "import { RegistryState } from '../../model/state.ts';"],
    ['registry/test', "import { startRegistryServer } from '../../src/index.ts';"],
    ['registry/src/ops', "import { checkLifecyclePolicy } from '@ecr-automation/lifecycle';"],
    ['shared/policy', "import { evaluateLifecyclePolicy } from '@ecr-automation/lifecycle';"],
  ])('lets through what the boundary allows: %s/ %s', (folder, line) => {
    // Act
    const result = lintIn(folder, `${line}\nexport const planted = 1;\n`);
    // Assess
    expect(result.output).not.toContain('noRestrictedImports');
  });
});
