import { resolve } from 'node:path';

/**
 * The dashboard's page script: `ui/dashboard/main.tsx` and what it imports (preact), bundled by esbuild in memory on
 * the first request and kept for the process's life, so that nothing loads from the network and nothing needs
 * building after `npm ci`. esbuild is imported only here, when a page is first asked for.
 */
const ENTRY = resolve(import.meta.dirname, '../../ui/dashboard/main.tsx');

let bundled: Promise<string> | undefined;

export function dashboardScript(): Promise<string> {
  bundled ??= build().catch((error: unknown) => {
    // A failed build is not kept: the next request tries again (the sources may have been fixed meanwhile).
    bundled = undefined;
    throw error;
  });
  return bundled;
}

async function build(): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error('esbuild wrote no dashboard script');
  return output.text;
}
