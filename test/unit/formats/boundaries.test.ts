import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The machine formats are for the CLIs: `shared/formats/` imports no AWS SDK and no I/O module, and nothing a Lambda
 * function bundles (functions/, shared/ outside shared/formats/) imports it, so no Lambda bundle carries it.
 */
const ROOT = resolve(import.meta.dirname, '../../..');

const sources = (folder: string): string[] =>
  readdirSync(resolve(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => relative(ROOT, resolve(ROOT, folder, file)));

const importsOf = (file: string) =>
  [...readFileSync(resolve(ROOT, file), 'utf8').matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map(
    (match) => match[1] ?? '',
  );

describe('the machine formats stay out of the Lambda functions', () => {
  it('imports no AWS SDK and does no I/O', () => {
    const formats = sources('shared/formats');
    expect(formats.length).toBeGreaterThan(0);
    const offending = formats.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => /^@aws-sdk\/|^node:(fs|net|http|https|child_process)/.test(specifier))
        .map((specifier) => `${file}: ${specifier}`),
    );
    expect(offending).toEqual([]);
  });

  it('is imported by no function and no other part of shared/', () => {
    const bundled = [...sources('functions'), ...sources('shared')].filter(
      (file) => !file.startsWith('shared/formats/'),
    );
    const offending = bundled.filter((file) => importsOf(file).some((specifier) => specifier.includes('/formats/')));
    expect(bundled.length).toBeGreaterThan(50);
    expect(offending).toEqual([]);
  });
});
