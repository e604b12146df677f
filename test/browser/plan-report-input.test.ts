import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCleanupCli } from '../../cli/commands/main.ts';
import type { PlanFile } from '../../cli/commands/plan-file.ts';
import { fingerprintOf } from '../../shared/cleanup/gather.ts';
import type { ImageRecord } from '../../shared/domain/image.ts';
import { DEFAULT_CLEANUP_RULE } from '../../shared/policy/cleanup/plan.ts';
import { isolatedPage, launchBrowser } from '../helpers/browser.ts';
import { runInProcess } from '../helpers/cli.ts';

/** Markup, a script end, a line separator and a request: what a crafted plan file can put in names and reasons. */
const HOSTILE_NAME = '</script><img src="http://127.0.0.1:9/name.png" onerror="window.pwned=1">\u2028<b>name</b>';
const HOSTILE_TAG = '<svg onload="window.pwned=2"></svg>&amp;';
const HOSTILE_REASON =
  '</SCRIPT><script>window.pwned=3</script><!-- \u2029 <link rel=stylesheet href="http://127.0.0.1:9/x.css">';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

/** A valid plan file (it passes every check `apply` makes) whose names and reasons are hostile. */
function hostilePlan(): PlanFile {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const images: ImageRecord[] = [
    { digest: DIGEST_A, tags: [HOSTILE_TAG], pushedAt: now - 86_400_000, sizeInBytes: 1_000 },
    { digest: DIGEST_B, tags: [], pushedAt: now - 86_400_000, sizeInBytes: 2_000 },
  ];
  return {
    version: 1,
    createdAt: new Date(now).toISOString(),
    region: 'us-east-1',
    repositories: [
      {
        repositoryName: HOSTILE_NAME,
        fingerprint: fingerprintOf(images),
        rule: DEFAULT_CLEANUP_RULE,
        ruleIndex: 0,
        images,
        plan: {
          repositoryName: HOSTILE_NAME,
          plannedAt: new Date(now).toISOString(),
          decisions: [
            {
              digest: DIGEST_A,
              action: 'keep',
              reason: { code: 'tagged', tags: [HOSTILE_TAG] },
              tags: [HOSTILE_TAG],
              sizeInBytes: 1_000,
            },
            {
              digest: DIGEST_B,
              action: 'keep',
              reason: { code: 'in-use-unknown', message: HOSTILE_REASON },
              tags: [],
              sizeInBytes: 2_000,
            },
          ],
          toDelete: [],
          bytesReclaimed: 0,
        },
      },
    ],
  };
}

describe('cleanup report <plan.json> --html', { timeout: 60_000 }, () => {
  let dir: string;
  let browser: Browser;
  const fileIn = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plan-report-input-'));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['not JSON', '<html>not a plan</html>', /not a plan file: not JSON/],
    ['JSON that is not a plan', '{"repositories": []}', /not a plan file: it has no "version"/],
    [
      'a plan of a newer format',
      JSON.stringify({ ...hostilePlan(), version: 2 }),
      /is a version 2 plan file, newer than version 1, which .* writes and reads; nothing was done/,
    ],
    [
      'a plan edited after it was made',
      JSON.stringify({
        ...hostilePlan(),
        repositories: [{ ...hostilePlan().repositories[0], fingerprint: `sha256:${'0'.repeat(64)}` }],
      }),
      /do not hash to the saved fingerprint/,
    ],
  ])('refuses %s with a clear error and writes no HTML', async (_what, text, message) => {
    // Prepare
    writeFileSync(fileIn('bad.json'), text);
    const html = fileIn(`bad-${Math.random().toString(36).slice(2)}.html`);

    // Act
    const outcome = await runInProcess(runCleanupCli, ['report', fileIn('bad.json'), '--html', html]);

    // Assess
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(message);
    expect(existsSync(html)).toBe(false);
  });

  it('needs --html and one plan file', async () => {
    // Act
    const outcome = await runInProcess(runCleanupCli, ['report', fileIn('plan.json')]);

    // Assess
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('report needs --html <file>');
  });

  it('shows hostile repository names, tags and reasons as text, runs none of them and requests nothing', async () => {
    // Prepare
    writeFileSync(fileIn('hostile.json'), JSON.stringify(hostilePlan()));
    const html = fileIn('hostile.html');
    const { page, requests, errors, close } = await isolatedPage(browser);

    // Act
    const outcome = await runInProcess(runCleanupCli, ['report', fileIn('hostile.json'), '--html', html]);
    await page.goto(`file://${html}`);
    await page.waitForSelector('body[data-rendered="true"]');

    // Assess
    expect(outcome.code).toBe(0);
    const text = readFileSync(html, 'utf8');
    expect(text.split(/<\/script/i)).toHaveLength(3); // the data's and the bundle's own ends, nothing else
    expect(text).not.toContain('\u2028');
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(await page.locator('img, b, link, svg[onload]').count()).toBe(0);
    expect(await page.locator('table.summary-table th[scope="row"]').first().textContent()).toBe(HOSTILE_NAME);
    await page.getByLabel('Filter').fill('in-use-unknown');
    expect(await page.locator('table.decisions tbody td.col-reason').first().textContent()).toBe(
      `what runs could not be read: ${HOSTILE_REASON}`,
    );
    await page.getByLabel('Filter').fill('');
    expect(await page.locator('table.decisions tbody td.col-tags').allTextContents()).toContain(HOSTILE_TAG);
    await page.locator(`g.node[data-id="${DIGEST_A}"]`).click();
    expect(await page.locator('.node-panel .node-reason').textContent()).toBe(`tagged ${HOSTILE_TAG}`);
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await close();
  });
});
