import type { UiBundle } from '../../ui/build.ts';

/**
 * The dashboard's script and style sheet: `ui/dashboard/main.tsx` and what it imports (preact, the image graph view),
 * bundled by `ui/build.ts` (esbuild, in memory) on the first request and kept for the process's life, so that nothing
 * loads from the network and nothing needs building after `npm ci`. The bundler is imported when a page is first
 * asked for, not when `npm start` starts.
 */
export async function dashboardBundle(): Promise<UiBundle> {
  const { bundleUi, uiEntry } = await import('../../ui/build.ts');
  return bundleUi(uiEntry('dashboard/main.tsx'));
}
