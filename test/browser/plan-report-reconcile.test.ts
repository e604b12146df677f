import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRegistryCli } from '../../cli/registry-commands.ts';
import { createEcrClient } from '../../shared/ecr/index.ts';
import { isolatedPage, registryAndBrowser } from '../helpers/browser.ts';
import { control, TEST_REGION } from '../helpers/registry.ts';

const DESIRED = {
  registry: {
    replication: {
      rules: [{ destinations: [{ region: 'eu-west-1', registryId: '123456789012' }], repositoryFilters: ['team-a/'] }],
    },
    pullThroughCache: {
      rules: [
        { prefix: 'ecr-public', upstreamRegistryUrl: 'public.ecr.aws' },
        { prefix: 'quay', upstreamRegistryUrl: 'quay.io' },
      ],
    },
  },
};

describe('registry:reconcile plan --html', { timeout: 60_000 }, () => {
  const setup = registryAndBrowser('reconcile-report-');

  it('writes the changes of the plan, per resource type and one row each, and changes nothing', async () => {
    const { server, browser, dir } = setup;
    // Prepare
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify(DESIRED));
    const html = join(dir, 'reconcile.html');
    const out: string[] = [];
    const err: string[] = [];

    // Act
    const code = await runRegistryCli(
      ['plan', '--config', config, '--html', html, '--endpoint-url', server.url, '--region', TEST_REGION],
      {
        env: {},
        stdout: (line) => out.push(line),
        stderr: (line) => err.push(line),
        connect: (options) =>
          createEcrClient({
            ...options,
            credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'x' },
            maxAttempts: 1,
          }),
      },
    );
    const { page, requests, errors, close } = await isolatedPage(browser);
    await page.goto(`file://${html}`);
    await page.waitForSelector('body[data-rendered="true"]');

    // Assess
    expect(code).toBe(2);
    expect(err).toContain(`HTML report written to ${html}.`);
    const changes = out.filter((line) => /^(?:\+|~|-\/\+|-) (?:create|update|replace|delete) /.test(line));
    expect(changes).toHaveLength(3);
    expect(await page.locator('h1').textContent()).toMatch(/^Registry reconcile plan of /);
    expect(await page.locator('[data-figure="total"]').textContent()).toBe('3');
    expect(await page.locator('[data-figure="toDelete"]').textContent()).toBe('0');
    const pullThrough = page.locator('table.summary-table tr', { hasText: 'pull-through-cache-rule' });
    expect(await pullThrough.locator('td').first().textContent()).toBe('2');
    await page.getByLabel('Filter').fill('quay');
    expect(await page.locator('table.decisions tbody td.col-subject').allTextContents()).toEqual(['quay']);
    expect(await page.locator('table.decisions tbody td.col-reason').first().textContent()).toContain('"quay.io"');
    expect(await page.locator('section[aria-labelledby="graph-heading"]').count()).toBe(0);
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    const { operations } = await control<{ operations: Record<string, number> }>(server, 'calls');
    expect(Object.keys(operations).filter((operation) => /^(?:Put|Create|Update|Delete)/.test(operation))).toEqual([]);
    expect(operations.DescribePullThroughCacheRules).toBeGreaterThan(0);
    await close();
  });
});
