import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Fixture } from '@ecr-automation/local-registry';
import { describe, expect, it } from 'vitest';
import { runComplianceCli } from '../../cli/commands/compliance.ts';
import type { ComplianceSummary, PlanDocument } from '../../shared/formats/plan-document.ts';
import { isolatedPage, registryAndBrowser } from '../helpers/browser.ts';
import { runInProcess } from '../helpers/cli.ts';
import { control, TEST_REGION } from '../helpers/registry.ts';

/** Twelve repositories: the first four compliant, then mutable tags, no scan on push and (from 8 on) no team tag. */
const FIXTURE: Fixture = {
  repositories: Array.from({ length: 12 }, (_, i) => ({
    name: `team-${String(i).padStart(2, '0')}/app`,
    imageTagMutability: i >= 4 && i % 2 === 0 ? 'MUTABLE' : 'IMMUTABLE',
    scanOnPush: !(i >= 4 && i % 2 === 1),
    tags: (i >= 8 ? {} : { team: `t${i}` }) as Record<string, string>,
  })),
};

const CONFIG = {
  compliance: {
    defaults: { tagMutability: { setting: 'IMMUTABLE' }, scanOnPush: true, requiredTags: ['team'] },
    rules: [{ repositories: ['team-0*/**'], mode: 'enforce' }, { repositories: ['**'] }],
  },
};

describe('compliance plan --html', { timeout: 60_000 }, () => {
  const setup = registryAndBrowser('compliance-report-');

  it('writes the drift of the plan: the figures of the plan, a table filterable by words, status and check, and loads nothing', async () => {
    const { server, browser, dir } = setup;
    // Prepare
    await control(server, 'load', FIXTURE);
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify(CONFIG));
    const html = join(dir, 'compliance.html');
    const target = ['--config', config, '--endpoint-url', server.url, '--region', TEST_REGION];
    const before = (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;

    // Act
    const written = await runInProcess(runComplianceCli, ['plan', '--html', html, ...target]);
    const json = await runInProcess(runComplianceCli, ['plan', '--json', ...target]);
    const { page, requests, errors, close } = await isolatedPage(browser);
    await page.goto(`file://${html}`);
    await page.waitForSelector('body[data-rendered="true"]');

    // Assess: the page's figures are the plan document's.
    expect(written.code).toBe(2);
    expect(written.stderr).toContain(`HTML report written to ${html}`);
    expect(statSync(html).size).toBeLessThan(1_000_000);
    const summary = (JSON.parse(json.stdout) as PlanDocument).summary as ComplianceSummary;
    expect(summary.counts).toEqual({ repositories: 12, checked: 12, compliant: 4, drifting: 8 });
    expect(await page.locator('h1').textContent()).toMatch(/^Compliance plan of /);
    const figure = (name: string) => page.locator(`[data-figure="${name}"]`).textContent();
    expect(await figure('checked')).toBe(String(summary.counts.checked));
    expect(await figure('compliant')).toBe(String(summary.counts.compliant));
    expect(await figure('drifting')).toBe(String(summary.counts.drifting));
    for (const line of summary.checks) {
      const cells = await page.locator(`table.checks-table tr[data-check="${line.check}"] td`).allTextContents();
      expect(cells).toEqual([line.checked, line.compliant, line.drifting, line.fixable].map(String));
    }
    // Every repository x checked setting is a row; filtering narrows it.
    const count = () => page.locator('output.row-count').textContent();
    expect(await count()).toBe('36 of 36 rows');
    await page.getByLabel('Status').selectOption('drift');
    const drifting = summary.checks.reduce((sum, line) => sum + line.drifting, 0);
    expect(await count()).toBe(`${drifting} of 36 rows`);
    await page.getByLabel('Check').selectOption('tag-mutability');
    const mutability = summary.checks.find((line) => line.check === 'tag-mutability');
    expect(await count()).toBe(`${mutability?.drifting} of 36 rows`);
    await page.getByLabel('Filter').fill('team-04/app');
    const row = page.locator('table.drift tbody tr:not(.spacer)');
    expect(await row.count()).toBe(1);
    expect(await row.locator('td').allTextContents()).toEqual([
      'team-04/app',
      'rule #0 (enforce)',
      'tag-mutability',
      'drift',
      'MUTABLE',
      'IMMUTABLE',
      'PutImageTagMutability IMMUTABLE',
    ]);
    await page.getByLabel('Filter').fill('no-such-repository');
    expect(await count()).toBe('0 of 36 rows');
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    const after = (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;
    const changed = Object.keys(after).filter(
      (operation) =>
        /^(?:Put|Set|Delete|Tag|Untag|Create|Update)/.test(operation) && after[operation] !== before[operation],
    );
    expect(changed).toEqual([]);
    await close();
  });
});
