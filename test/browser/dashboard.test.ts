import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildContentImage, type RegistryServer, sha256 } from '@ecr-automation/local-registry';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalService } from '../../local/service.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { awsEcr, requireRealClients } from '../helpers/real-clients.ts';

/**
 * The local dashboard in a real browser (chromium through playwright-core) against `npm start`'s service: the
 * repositories and images, one image's reason and graph, an event arriving live after a push with the AWS CLI, a
 * dry-run job and its report; a screenshot for the README (docs/screenshots/dashboard.png).
 */
const SCREENSHOT = resolve(import.meta.dirname, '../../docs/screenshots/dashboard.png');

describe('local dashboard in a browser', { timeout: 180_000 }, () => {
  let server: RegistryServer;
  let browser: Browser;

  beforeAll(async () => {
    requireRealClients();
    server = await startLocalService({ port: 0, scanDurationMs: 200 });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows repositories, images, an image with its reason and graph, a live push, and a dry-run report', async () => {
    // Prepare: a page that may reach the dashboard's own origin only (anything else is recorded and aborted)
    const context = await browser.newContext({ viewport: { width: 1600, height: 1300 } });
    const elsewhere: string[] = [];
    const errors: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${server.url}/`)) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    // An image to push with the AWS CLI, its config and layers already in the repository (as `npm start` prepares).
    const { manifest, blobs } = buildContentImage({ seed: `dashboard-browser-${Date.now()}` });
    for (const blob of blobs) await server.registry.blobs.put(blob);
    await fetch(`${server.url}/_local/blobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repositoryName: 'payments/api', manifest }),
    });

    // Act 1: the page, a repository and its images
    await page.goto(`${server.url}/_dashboard/`);
    const repositories = page.getByRole('list', { name: 'Repositories' });
    await repositories.getByRole('button', { name: /payments\/api/ }).click();
    const images = page.getByRole('table', { name: 'Images of payments/api' });
    await images.getByRole('row').nth(3).waitFor();
    const rows = await images.getByRole('row').count();

    // Act 2: a dry-run cleanup, and its report
    await page.getByRole('button', { name: 'Cleanup (plan only) (dry run)' }).click();
    const result = page.getByRole('status', { name: 'Result of Cleanup (plan only)' });
    await result.waitFor();
    const reports = page.getByRole('table', { name: 'Cleanup reports' });
    await reports.getByRole('row', { name: /payments\/api/ }).waitFor();
    const report = await reports.getByRole('row', { name: /payments\/api/ }).innerText();

    // Act 3: open an image the plan would delete, and read its reason and graph
    const doomed = images.getByRole('row').filter({ hasText: 'would delete' }).first();
    await doomed.waitFor();
    await doomed.getByRole('button').click();
    const decision = page.locator('#image-decision');
    await decision.waitFor();
    const reason = await decision.innerText();
    const imageGraph = page.locator('.image .graph-view');
    await imageGraph.waitFor();
    const graphTitle = await imageGraph.locator('figcaption.graph-title').innerText();

    // Act 4: a push with the AWS CLI appears in the live events
    const live = page.getByRole('list', { name: 'Live events' });
    const pushed = await awsEcr(server.url, [
      'put-image',
      '--repository-name',
      'payments/api',
      '--image-tag',
      'v1.7.0',
      '--image-manifest',
      manifest,
    ]);
    const pushEvent = live.getByRole('listitem').filter({ hasText: 'PUSH payments/api:v1.7.0' });
    await pushEvent.first().waitFor({ timeout: 30_000 });
    const verdict = live.getByRole('listitem').filter({ hasText: 'Image Push Verdict' });
    await verdict.first().waitFor({ timeout: 30_000 });
    mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Assess
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(rows).toBeGreaterThan(3);
    expect(await result.innerText()).toMatch(/done \(dry run\): \d+ repositories, \d+ work items/);
    expect(report).toMatch(/payments\/api\s+dry-run\s+\d+\s+\d+/);
    expect(reason).toMatch(/^would delete: /);
    expect(reason.length).toBeGreaterThan('would delete: '.length + 5);
    expect(graphTitle).toMatch(/^Image graph of payments\/api: \d+ images/);
    expect(await pushEvent.first().innerText()).toContain(sha256(manifest).slice(0, 19));
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
