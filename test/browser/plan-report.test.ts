import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryServer } from '@ecr-automation/local-registry';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCleanupCli } from '../../cli/commands/main.ts';
import type { PlanFile } from '../../cli/commands/plan-file.ts';
import { reasonText } from '../../shared/pictures/cleanup.ts';
import { isolatedPage, launchBrowser } from '../helpers/browser.ts';
import { runInProcess } from '../helpers/cli.ts';
import { control, startTestRegistry } from '../helpers/registry.ts';

/**
 * team/app: a tagged multi-arch release with a signature, a stale untagged image with its signature, a stale
 * untagged index with its children, fresh and pulled images. team/web: one stale image among kept ones. team/old:
 * only stale images, so the safety brake holds there.
 */
const FIXTURE = {
  repositories: [
    {
      name: 'team/app',
      images: [
        { id: 'base-amd64', pushedAt: '-90d', architecture: 'amd64' },
        { id: 'base-arm64', pushedAt: '-90d', architecture: 'arm64' },
        { id: 'release', kind: 'index', children: ['base-amd64', 'base-arm64'], tags: ['v1'], pushedAt: '-90d' },
        { id: 'release-sig', kind: 'signature', subject: 'release', pushedAt: '-90d' },
        { id: 'stale-1', pushedAt: '-90d' },
        { id: 'stale-1-sig', kind: 'signature', subject: 'stale-1', pushedAt: '-90d' },
        { id: 'stale-2', pushedAt: '-60d', lastPulledAt: '-45d' },
        { id: 'fresh', pushedAt: '-2d' },
        { id: 'pulled', pushedAt: '-90d', lastPulledAt: '-1d' },
        { id: 'legacy', tags: ['legacy'], pushedAt: '-200d' },
      ],
    },
    {
      name: 'team/web',
      images: [
        { id: 'web-latest', tags: ['latest'], pushedAt: '-30d' },
        { id: 'web-stale', pushedAt: '-40d' },
        { id: 'web-fresh', pushedAt: '-1d' },
      ],
    },
    {
      name: 'team/old',
      images: [
        { id: 'old-1', pushedAt: '-100d' },
        { id: 'old-2', pushedAt: '-120d' },
      ],
    },
  ],
};

const CONFIG = {
  cleanup: {
    defaults: {
      olderThanDays: 14,
      notPulledForDays: 30,
      quietPeriodMinutes: 60,
      keepLatestUntagged: 0,
      maxDeleteFraction: 0.5,
      allowMassDelete: false,
    },
    rules: [{ repositories: ['team/**'] }],
  },
};

const SCREENSHOT = join(process.cwd(), 'docs', 'screenshots', 'plan-report.png');

describe('cleanup plan --html', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  let browser: Browser;
  let dir: string;
  let digestOf: Map<string, string>;
  let plan: PlanFile;
  let htmlPath: string;
  let page: Page;
  let requests: string[];
  let errors: string[];
  let closePage: () => Promise<void>;

  const decisions = () => plan.repositories.flatMap((entry) => entry.plan.decisions);
  const rowCount = () => page.locator('output.row-count').textContent();

  beforeAll(async () => {
    server = await startTestRegistry();
    dir = mkdtempSync(join(tmpdir(), 'plan-report-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG));
    const loaded = await control<{ images: { id?: string; imageDigest: string }[] }>(server, 'load', FIXTURE);
    digestOf = new Map(loaded.images.map((image) => [image.id ?? image.imageDigest, image.imageDigest]));
    htmlPath = join(dir, 'report.html');
    const outcome = await runInProcess(runCleanupCli, [
      'plan',
      '--endpoint-url',
      server.url,
      '--config',
      join(dir, 'config.json'),
      '--out',
      join(dir, 'plan.json'),
      '--html',
      htmlPath,
    ]);
    expect(outcome.stderr).toContain(`HTML report written to ${htmlPath}`);
    expect(outcome.code).toBe(0);
    plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as PlanFile;
    browser = await launchBrowser();
    ({
      page,
      requests,
      errors,
      close: closePage,
    } = await isolatedPage(browser, { viewport: { width: 1720, height: 1000 } }));
    await page.goto(`file://${htmlPath}`);
    await page.waitForSelector('body[data-rendered="true"]');
  });

  afterAll(async () => {
    await closePage?.();
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is one file that loads nothing from the network and throws nothing', () => {
    // Assess
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    expect(statSync(htmlPath).size).toBeLessThan(1_000_000);
    expect(readFileSync(htmlPath, 'utf8')).not.toMatch(/<(?:script|link|img)[^>]+(?:src|href)=/i);
  });

  it("shows the plan's own figures: images, deletions, kept, bytes, and the brake held in team/old", async () => {
    // Prepare
    const all = decisions();
    const toDelete = all.filter((decision) => decision.action === 'delete').length;
    const bytes = plan.repositories.reduce((sum, entry) => sum + entry.plan.bytesReclaimed, 0);

    // Assess
    expect(toDelete).toBeGreaterThan(0);
    expect(await page.locator('[data-figure="total"]').textContent()).toBe(String(all.length));
    expect(await page.locator('[data-figure="toDelete"]').textContent()).toBe(String(toDelete));
    expect(await page.locator('[data-figure="kept"]').textContent()).toBe(
      String(all.filter((decision) => decision.action === 'keep').length),
    );
    expect(await page.locator('[data-figure="bytesToDelete"]').getAttribute('data-bytes')).toBe(String(bytes));
    expect(await page.locator('[data-figure="brake"]').textContent()).toBe('held in 1 of 3 repositories');
    for (const entry of plan.repositories) {
      const row = page.locator('table.summary-table').first().locator('tr', { hasText: entry.repositoryName });
      const deleting = entry.plan.decisions.filter((decision) => decision.action === 'delete').length;
      expect(await row.locator('td').nth(1).textContent()).toBe(String(deleting));
      const brake = await row.locator('td').last().textContent();
      if (entry.plan.brake === undefined) expect(brake).toBe('not reached');
      else expect(brake).toBe(`held (${entry.plan.brake.wouldDelete} of ${entry.plan.brake.total} would go)`);
    }
  });

  it('filters the decisions by words and by action', async () => {
    // Prepare
    const all = decisions();
    const web = plan.repositories.find((entry) => entry.repositoryName === 'team/web')?.plan.decisions ?? [];

    // Act
    await page.getByLabel('Filter').fill('team/web');

    // Assess
    expect(await rowCount()).toBe(`${web.length} of ${all.length} rows`);
    expect(await page.locator('table.decisions tbody tr:not(.spacer)').count()).toBe(web.length);

    // Act
    await page.getByLabel('Filter').fill('');
    await page.getByLabel('Action').selectOption('delete');

    // Assess
    const deletions = all.filter((decision) => decision.action === 'delete');
    expect(await rowCount()).toBe(`${deletions.length} of ${all.length} rows`);
    const shown = await page.locator('table.decisions tbody td.col-subject').allTextContents();
    expect(shown.sort()).toEqual(deletions.map((decision) => decision.digest).sort());
    await page.getByLabel('Action').selectOption('');
  });

  it('sorts by a column with the keyboard, and again in reverse', async () => {
    // Prepare
    const sizes = decisions().map((decision) => decision.sizeInBytes);
    const header = page.locator('th.col-sizeInBytes');
    const firstDigest = () => page.locator('table.decisions tbody td.col-subject').first().textContent();
    const sizeOf = (digest: string | null) => decisions().find((decision) => decision.digest === digest)?.sizeInBytes;

    // Act
    await header.locator('button').focus();
    await page.keyboard.press('Enter');

    // Assess
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    expect(sizeOf(await firstDigest())).toBe(Math.min(...sizes));

    // Act
    await page.keyboard.press('Space');

    // Assess
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    expect(sizeOf(await firstDigest())).toBe(Math.max(...sizes));
  });

  it('opens an image of the graph from the keyboard and reads its reason', async () => {
    // Prepare
    const app = plan.repositories.find((entry) => entry.repositoryName === 'team/app');
    const digest = digestOf.get('stale-1-sig') as string;
    const decision = app?.plan.decisions.find((candidate) => candidate.digest === digest);
    await page.getByLabel('Repository').selectOption({ label: `team/app (${app?.images.length} images)` });
    const node = page.locator(`g.node[data-id="${digest}"]`);

    // Act
    await node.focus();
    await page.keyboard.press('Enter');

    // Assess
    expect(decision).toBeDefined();
    expect(await node.getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('.node-panel .digest').textContent()).toBe(digest);
    expect(await page.locator('.node-panel .node-action').textContent()).toBe(decision?.action);
    expect(await page.locator('.node-panel .node-reason').textContent()).toBe(
      reasonText(decision?.reason as NonNullable<typeof decision>['reason']),
    );
    expect(await node.getAttribute('aria-label')).toContain(decision?.action === 'delete' ? 'delete' : 'keep');
  });

  it('moves from node to node with the arrow keys, and has a text version of the graph', async () => {
    // Prepare
    const app = plan.repositories.find((entry) => entry.repositoryName === 'team/app');
    // A string: the test's own TypeScript has no DOM types.
    const focused = () => page.evaluate<string | null>("document.activeElement?.getAttribute('data-id') ?? null");
    await page.locator('g.node').first().focus();
    const first = await focused();

    // Act
    await page.keyboard.press('ArrowRight');
    const second = await focused();
    await page.keyboard.press('ArrowLeft');

    // Assess
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(second).not.toBe(first);
    expect(await focused()).toBe(first);
    const text = await page.locator('details.graph-text li').allTextContents();
    expect(text).toHaveLength(app?.images.length ?? -1);
    const release = digestOf.get('release') as string;
    expect(text.find((line) => line.startsWith(`index ${release.slice(0, 19)}`))).toMatch(
      /^index \S+, tags v1, keep: tagged v1; lists sha256:\w{12}, sha256:\w{12}; referred to by sha256:\w{12}$/,
    );
  });

  it('writes the screenshot the README shows', async () => {
    // Act
    await page.getByLabel('Filter').fill('');
    await page.locator('.table-scroll').evaluate('(element) => { element.scrollLeft = 0; }');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Assess
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });
});
