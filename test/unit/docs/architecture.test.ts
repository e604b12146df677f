import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * ARCHITECTURE.md's code map must match the tree, and the invariants it states that lint does not enforce must hold:
 * the policy code is pure, and only the gateway imports the ECR client.
 */
const ROOT = resolve(import.meta.dirname, '../../..');
const MAP = readFileSync(resolve(ROOT, 'ARCHITECTURE.md'), 'utf8');

/** The repository's files: tracked or new, less what .gitignore leaves out. */
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
  cwd: ROOT,
  encoding: 'utf8',
})
  .split('\0')
  .filter((file) => file !== '' && existsSync(resolve(ROOT, file)) && statSync(resolve(ROOT, file)).isFile());

/**
 * The folders the map must name: every top-level folder, the folders inside shared/ and registry/, and those inside
 * the registry package's sources (registry/src/).
 */
const folders = new Set(
  files.flatMap((file) => {
    const parts = file.split('/');
    if (parts.length < 2 || parts[0]?.startsWith('.')) return [];
    const top = `${parts[0]}/`;
    const inner = (top === 'shared/' || top === 'registry/') && parts.length > 2 ? [`${top}${parts[1]}/`] : [];
    const source = top === 'registry/' && parts[1] === 'src' && parts.length > 3 ? [`registry/src/${parts[2]}/`] : [];
    return [top, ...inner, ...source];
  }),
);

/** The folders the code map's first column names (`a/`, `a/b/`, `a/b/c/`, and lists of them). */
const named = new Set(
  MAP.split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) =>
      [...(line.split('|')[1] ?? '').matchAll(/`([\w-]+\/(?:[\w-]+\/){0,2})`/g)].map((m) => m[1] as string),
    ),
);

const sources = (prefix: string) =>
  files
    .filter((file) => file.startsWith(prefix) && file.endsWith('.ts'))
    .map((file) => ({ file, text: readFileSync(resolve(ROOT, file), 'utf8') }));

const importsOf = (text: string) =>
  [...text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);

describe('ARCHITECTURE.md', () => {
  it('names every folder of the tree in its code map', () => {
    // Assess
    expect([...folders].filter((folder) => !named.has(folder)).sort()).toEqual([]);
  });

  it('names no folder that is not there', () => {
    // Assess
    expect([...named].filter((folder) => !existsSync(resolve(ROOT, folder))).sort()).toEqual([]);
  });

  it('keeps the policy code pure: it imports only itself and shared/domain, and reads no clock, environment or AWS', () => {
    // Prepare
    const policy = sources('shared/policy/');
    // Act
    const offending = policy.flatMap(({ file, text }) => [
      ...importsOf(text)
        .filter((source) => source?.startsWith('.'))
        .map((source) => resolve(ROOT, file, '..', source as string).slice(ROOT.length + 1))
        .filter((target) => !target.startsWith('shared/policy/') && !target.startsWith('shared/domain/'))
        .map((target) => `${file} imports ${target}`),
      ...importsOf(text)
        .filter((source) => source?.startsWith('@aws-sdk/') || source?.startsWith('node:'))
        .map((source) => `${file} imports ${source}`),
      ...['Date.now(', 'new Date()', 'process.env'].filter((use) => text.includes(use)).map((use) => `${file}: ${use}`),
    ]);
    // Assess
    expect(policy.length).toBeGreaterThan(10);
    expect(offending).toEqual([]);
  });

  it('keeps shared/domain to shapes: it imports only itself and zod', () => {
    // Prepare
    const domain = sources('shared/domain/');
    // Act
    const offending = domain.flatMap(({ file, text }) =>
      importsOf(text)
        .filter((source) => source !== 'zod')
        .map((source) =>
          source?.startsWith('.') ? resolve(ROOT, file, '..', source).slice(ROOT.length + 1) : (source as string),
        )
        .filter((target) => !target.startsWith('shared/domain/'))
        .map((target) => `${file} imports ${target}`),
    );
    // Assess
    expect(domain.length).toBeGreaterThan(1);
    expect(offending).toEqual([]);
  });

  it('lets the policy take only types from the settings schemas, so that no zod code runs in it', () => {
    // Act
    const valueImports = sources('shared/policy/').flatMap(({ file, text }) =>
      [...text.matchAll(/^\s*import\s+(?!type\b)[^;]*?from\s+'([^']*domain\/settings\.ts)'/gm)].map(
        (m) => `${file} imports values from ${m[1]}`,
      ),
    );
    // Assess
    expect(valueImports).toEqual([]);
  });

  it('lets only the gateways import the ECR and ECR Public clients', () => {
    // Prepare
    const importersOf = (client: string) =>
      ['shared/', 'functions/', 'local/', 'cli/']
        .flatMap(sources)
        .filter(({ text }) => importsOf(text).some((source) => source === client || source?.startsWith(`${client}/`)))
        .map(({ file }) => file);
    // Act
    const ecr = importersOf('@aws-sdk/client-ecr');
    const ecrPublic = importersOf('@aws-sdk/client-ecr-public');
    // Assess
    expect(ecr.length).toBeGreaterThan(0);
    expect(ecr.filter((file) => !file.startsWith('shared/ecr/'))).toEqual([]);
    expect(ecrPublic.length).toBeGreaterThan(0);
    expect(ecrPublic.filter((file) => !file.startsWith('shared/ecr-public/'))).toEqual([]);
    const sts = importersOf('@aws-sdk/client-sts');
    expect(sts.length).toBeGreaterThan(0);
    expect(sts.filter((file) => !file.startsWith('shared/credentials/'))).toEqual([]);
    const organizations = importersOf('@aws-sdk/client-organizations');
    expect(organizations.length).toBeGreaterThan(0);
    expect(organizations.filter((file) => !file.startsWith('shared/organizations/'))).toEqual([]);
  });

  it('lets only the in-use gateways import the ECS, Lambda, S3 and SSM clients, one folder each', () => {
    // Prepare
    const gateways = { ecs: 'shared/ecs/', lambda: 'shared/lambda/', s3: 'shared/s3/', ssm: 'shared/ssm/' };
    const all = ['shared/', 'functions/', 'local/', 'cli/'].flatMap(sources);
    // Act
    const offending = Object.entries(gateways).flatMap(([client, folder]) =>
      all
        .filter(({ text }) => importsOf(text).some((source) => source === `@aws-sdk/client-${client}`))
        .map(({ file }) => file)
        .filter((file) => !file.startsWith(folder)),
    );
    // Assess
    for (const folder of Object.values(gateways)) expect(sources(folder).length).toBeGreaterThan(0);
    expect(offending).toEqual([]);
  });

  it('keeps the local registry a package apart: neither side imports the other, its users import it by name', () => {
    // Prepare
    const PACKAGE = '@ecr-automation/local-registry';
    const target = (file: string, source: string) => resolve(ROOT, file, '..', source).slice(ROOT.length + 1);
    const relative = ({ file, text }: { file: string; text: string }) =>
      importsOf(text)
        .filter((source): source is string => source?.startsWith('.') === true)
        .map((source) => ({ file, target: target(file, source) }));
    // Act
    const outOfPackage = sources('registry/')
      .flatMap(relative)
      .filter(({ target }) => !target.startsWith('registry/'))
      .map(({ file, target }) => `${file} imports ${target}`);
    const intoRegistry = ['shared/', 'functions/', 'cli/'].flatMap(sources).flatMap(({ file, text }) => [
      ...relative({ file, text })
        .filter(({ target }) => target.startsWith('registry/'))
        .map(({ target }) => `${file} imports ${target}`),
      ...importsOf(text)
        .filter((source) => source === PACKAGE || source?.startsWith(`${PACKAGE}/`))
        .map((source) => `${file} imports ${source}`),
    ]);
    const byPath = ['test/', 'bench/', 'local/']
      .flatMap(sources)
      .flatMap(relative)
      .filter(({ target }) => target.startsWith('registry/'))
      .map(({ file, target }) => `${file} imports ${target}`);
    const byName = ['test/', 'bench/', 'local/']
      .flatMap(sources)
      .filter(({ text }) => importsOf(text).some((source) => source === PACKAGE || source?.startsWith(`${PACKAGE}/`)));
    // Assess
    expect(sources('registry/src/').length).toBeGreaterThan(20);
    expect(byName.length).toBeGreaterThan(10);
    expect(outOfPackage).toEqual([]);
    expect(intoRegistry).toEqual([]);
    expect(byPath).toEqual([]);
  });

  it('keeps the lifecycle package pure: it imports only itself, and reads no clock, environment or node module', () => {
    // Prepare
    const lifecycle = sources('lifecycle/');
    // Act
    const offending = lifecycle.flatMap(({ file, text }) => [
      ...importsOf(text)
        .map((source) =>
          source?.startsWith('.') ? resolve(ROOT, file, '..', source).slice(ROOT.length + 1) : (source as string),
        )
        .filter((target) => !target.startsWith('lifecycle/'))
        .map((target) => `${file} imports ${target}`),
      ...['Date.now(', 'new Date(', 'process.'].filter((use) => text.includes(use)).map((use) => `${file}: ${use}`),
    ]);
    // Assess
    expect(lifecycle.length).toBeGreaterThan(2);
    expect(offending).toEqual([]);
  });

  it('keeps the service manifest free of the handlers and the registry: serverless.ts and local/ name handlers by path', () => {
    // Prepare
    const manifest = sources('service/');
    // Act
    const offending = manifest.flatMap(({ file, text }) =>
      importsOf(text)
        .filter((source) => source?.startsWith('.'))
        .map((source) => resolve(ROOT, file, '..', source as string).slice(ROOT.length + 1))
        .filter((target) => !target.startsWith('service/') && !target.startsWith('shared/'))
        .map((target) => `${file} imports ${target}`),
    );
    // Assess
    expect(manifest.map(({ file }) => file)).toContain('service/manifest.ts');
    expect(offending).toEqual([]);
  });

  it('lets only the handlers, shared/runtime and the middlewares take the logger, metrics and tracer from shared/obs', () => {
    // Act: the workflows get them from their dependencies (ServiceDeps).
    const importers = sources('shared/')
      .filter(({ file }) => !file.startsWith('shared/obs/'))
      .filter(({ file, text }) =>
        importsOf(text).some((source) => source && resolve(ROOT, file, '..', source).endsWith('shared/obs/index.ts')),
      )
      .map(({ file }) => file);
    // Assess
    expect(importers.filter((file) => !/^shared\/(runtime|middleware)\//.test(file))).toEqual([]);
  });
});
