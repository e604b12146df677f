import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderNotification } from '../shared/notify/render.ts';
import { emit, intEnv, ROOT, round } from './lib.ts';

/**
 * Rendering a notification: the notify function's work between receiving an event and publishing it. The sample
 * Organisation Cleanup Report, then crafted events near the notify function's 6 MB payload bound: a FAIL verdict
 * listing BENCH_NOTIFY_ITEMS blocking findings (default 20,000) and an organisation report listing as many
 * repositories, each valid (rendered, 20 lines shown) and with one bad entry (refused). Median of BENCH_NOTIFY_RUNS
 * runs (default 21) after 5 warm-up runs; the message's bytes show the bound holds.
 */
const ITEMS = intEnv('BENCH_NOTIFY_ITEMS', 20_000);
const RUNS = intEnv('BENCH_NOTIFY_RUNS', 21);
// biome-ignore lint/suspicious/noExplicitAny: the samples are free-form JSON, changed field by field below
const sample = (name: string): any => JSON.parse(readFileSync(join(ROOT, 'events', name), 'utf8'));

const organisation = sample('organisation-cleanup-report.json');
const verdict = sample('image-scan-verdict.json');
const finding = verdict.detail.blocking[0];
const repositories = Array.from({ length: ITEMS }, (_, i) => ({
  account: '111122223333',
  region: 'eu-west-1',
  repositoryName: `team/repo-${i}`,
  status: 'braked',
  message: 'x'.repeat(300),
}));
const cases: Record<string, unknown> = {
  organisation_report_sample: organisation,
  scan_verdict_many_findings: {
    ...verdict,
    detail: {
      ...verdict.detail,
      blocking: Array.from({ length: ITEMS }, (_, i) => ({
        ...finding,
        id: `CVE-2026-${i}`,
        package: 'p'.repeat(200),
      })),
      blockingTotal: ITEMS,
    },
  },
  organisation_report_many_repositories: { ...organisation, detail: { ...organisation.detail, repositories } },
  organisation_report_many_repositories_one_bad: {
    ...organisation,
    detail: { ...organisation.detail, repositories: [...repositories, { bad: true }] },
  },
};

for (const [name, event] of Object.entries(cases)) {
  for (let i = 0; i < 5; i++) renderNotification(event);
  const times: number[] = [];
  let last = renderNotification(event);
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    last = renderNotification(event);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  emit({
    name: `notify_render_${name}_ms`,
    value: round(times[Math.floor(times.length / 2)] as number, 2),
    unit: 'ms',
    goal: '< 500',
    eventBytes: Buffer.byteLength(JSON.stringify(event)),
    kind: last.kind,
    messageBytes: last.kind === 'notification' ? Buffer.byteLength(last.notification.message) : 0,
  });
}
