import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHtmlReport } from '../cli/commands/html.ts';
import { cleanupPicture } from '../shared/pictures/cleanup.ts';
import { planCleanup } from '../shared/policy/cleanup/plan.ts';
import { isolatedPage, launchBrowser } from '../test/helpers/browser.ts';
import { BENCH_RULE, generateShape, STALE_PROFILE, shapeMix, toImageRecords } from './cleanup-lib.ts';
import { emit, intEnv, progress, round } from './lib.ts';
import { prng } from './prng.ts';

/**
 * The HTML plan report (`plan --html`) of the cleanup benchmark's end-to-end repository: BENCH_REPORT_IMAGES images
 * (default 100,000) in one repository, the shape of `cleanup.bench.ts` figure 3 (STALE_PROFILE, seed 100,000), planned
 * with BENCH_RULE. Figures:
 *
 * - `plan-report.size`: the HTML file's size in MB (10^6 bytes), every full digest included (goal < 8);
 * - `plan-report.render`: the time from the navigation's start until the report is drawn in Debian's chromium
 *   (headless, through playwright-core), opened from disk: the page's `report:painted` mark, the frame after the
 *   first render of summary, table and graph; the median of BENCH_REPORT_RUNS pages (default 3), each in a new
 *   browser context (goal < 3 s); with each run's main-thread CPU time (CDP `ThreadTime`: on a busy machine the
 *   wall time is mostly waiting for a core) and the load average;
 * - `plan-report.write`: the time to turn the plan into the HTML text (view model, bundling, embedding), in this
 *   process (report).
 */
const IMAGES = intEnv('BENCH_REPORT_IMAGES', 100_000);
const RUNS = intEnv('BENCH_REPORT_RUNS', 3);

const now = Date.now();
const shape = generateShape(IMAGES, STALE_PROFILE, prng(100_000));
const images = toImageRecords(shape, now, prng(7));
const plan = planCleanup('bench/e2e', images, BENCH_RULE, now);
progress(`plan report: ${IMAGES} images (${JSON.stringify(shapeMix(shape))}), ${plan.toDelete.length} to delete`);

const writeStarted = performance.now();
const html = await renderHtmlReport(
  cleanupPicture({
    createdAt: new Date(now).toISOString(),
    region: 'us-east-1',
    repositories: [{ repositoryName: 'bench/e2e', rule: BENCH_RULE, ruleIndex: 0, images, plan }],
  }),
);
const writeMs = performance.now() - writeStarted;
const dir = mkdtempSync(join(tmpdir(), 'plan-report-bench-'));
const path = join(dir, 'report.html');
writeFileSync(path, html);
const bytes = Buffer.byteLength(html);
emit({
  name: 'plan-report.size',
  value: round(bytes / 1e6, 2),
  unit: 'MB',
  goal: '< 8',
  images: IMAGES,
  bytes,
});
emit({ name: 'plan-report.write', value: round(writeMs / 1000, 2), unit: 's', goal: 'report', images: IMAGES });

const browser = await launchBrowser();
try {
  const runs: { paintedMs: number; wallMs: number; cpuMs: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    const { page, requests, errors, close } = await isolatedPage(browser);
    // The renderer's main-thread CPU time (CDP's ThreadTime), which a busy machine stretches less than the wall time.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    const started = performance.now();
    await page.goto(`file://${path}`, { timeout: 120_000 });
    await page.waitForSelector('body[data-rendered]', { timeout: 120_000 });
    const wallMs = performance.now() - started;
    const state = await page.getAttribute('body', 'data-rendered');
    const paintedMs = await page.evaluate<number>(
      "performance.getEntriesByName('report:painted')[0]?.startTime ?? Number.NaN",
    );
    const { metrics } = await cdp.send('Performance.getMetrics');
    const cpuMs = (metrics.find((metric) => metric.name === 'ThreadTime')?.value ?? Number.NaN) * 1000;
    const rows = await page.locator('output.row-count').textContent();
    // Every full digest is in the file: the last image's, looked up in the table, is found.
    const last = images[images.length - 1]?.digest ?? '';
    await page.getByLabel('Filter').fill(last);
    const found = await page.locator('table.decisions tbody td.col-subject').allTextContents();
    await close();
    if (found.join() !== last) throw new Error(`the table does not find the digest ${last}: ${found.join()}`);
    if (state !== 'true' || errors.length > 0 || requests.length > 0) {
      throw new Error(
        `the report did not render: ${state}; errors ${errors.join('; ')}; requests ${requests.join(' ')}`,
      );
    }
    if (rows !== `${IMAGES.toLocaleString('en')} of ${IMAGES.toLocaleString('en')} rows`) {
      throw new Error(`the report shows ${rows}, not ${IMAGES} rows`);
    }
    progress(
      `plan report: run ${run + 1}: drawn at ${Math.round(paintedMs)} ms (${Math.round(wallMs)} ms from goto; main thread CPU ${Math.round(cpuMs)} ms)`,
    );
    runs.push({ paintedMs, wallMs, cpuMs });
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  emit({
    name: 'plan-report.render',
    value: round(median(runs.map((r) => r.paintedMs)) / 1000, 2),
    unit: 's',
    goal: '< 3',
    images: IMAGES,
    runs: runs.map((r) => round(r.paintedMs / 1000, 2)),
    fromGotoS: runs.map((r) => round(r.wallMs / 1000, 2)),
    mainThreadCpuS: runs.map((r) => round(r.cpuMs / 1000, 2)),
    loadAverage: round(loadavg()[0] ?? 0, 1),
    cpus: availableParallelism(),
    browser: browser.version(),
  });
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
