import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startTestRegistry } from './registry.ts';

/** Debian's chromium (installed by `.ci/run`); `CHROMIUM_PATH` names another. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Launches headless chromium through playwright-core, for tests that open a page in a real browser (the HTML plan
 * report, the local dashboard). `--no-sandbox`: the test machines run as root in a container. Close it in afterAll.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}

/**
 * A new page in its own context that records every request it makes other than to `file:` and `data:` URLs
 * (`requests`), and every uncaught page error (`errors`), so that a test can say the page loaded nothing from the
 * network and threw nothing. Requests to the network are aborted, never sent.
 */
export async function isolatedPage(
  browser: Browser,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<{ page: Page; requests: string[]; errors: string[]; close(): Promise<void> }> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 1000 } });
  const requests: string[] = [];
  const errors: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('file:') && !url.startsWith('data:') && !requests.includes(url)) requests.push(url);
  });
  return { page, requests, errors, close: () => context.close() };
}

/**
 * For one describe block of browser tests against the local registry: a test registry, a browser and a scratch
 * folder, started before its tests and closed (the folder removed) after them. Read the fields inside a test.
 */
export function registryAndBrowser(prefix: string): { server: RegistryServer; browser: Browser; dir: string } {
  const setup = {} as { server: RegistryServer; browser: Browser; dir: string };
  beforeAll(async () => {
    setup.server = await startTestRegistry();
    setup.browser = await launchBrowser();
    setup.dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await setup.browser?.close();
    await setup.server?.close();
    if (setup.dir !== undefined) rmSync(setup.dir, { recursive: true, force: true });
  });
  return setup;
}
