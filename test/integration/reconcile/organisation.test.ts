import { DescribePullThroughCacheRulesCommand } from '@aws-sdk/client-ecr';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.ts';
import { type ReconcileReport, ReconcileReportSchema } from '../../../shared/reconcile/report.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { control, ecrClient, startTestRegistry } from '../../helpers/registry.ts';
import { fireScheduled } from '../../helpers/scheduled.ts';

/**
 * The registry settings of an organisation: one reconcile brings every target account and region's registry to the
 * config, through its role, one report per registry; a target whose role cannot be assumed is reported and the
 * others are reconciled.
 */
const SERVICE_ACCOUNT = '123456789012';
const A = '111111111111';
const B = '222222222222';
const REGIONS = ['us-east-1', 'eu-west-1'] as const;
const ROLE = 'EcrAutomation';

const config = (dryRun: boolean) =>
  parseConfig({
    targets: { accounts: [A, B], regions: [...REGIONS], roleName: ROLE },
    registry: {
      dryRun,
      pullThroughCache: { rules: [{ prefix: 'ecr-public', upstreamRegistryUrl: 'public.ecr.aws' }] },
    },
  });

describe('the reconcile of an organisation’s registries', { timeout: 60_000 }, () => {
  let server: RegistryServer;
  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    for (const rule of server.bus.listRules()) server.bus.removeRule(rule.name, rule.eventBusName);
    // B's role trusts another account only
    await control(server, 'load', {
      repositories: [],
      iam: {
        roles: [
          { account: A, name: ROLE, trust: [SERVICE_ACCOUNT] },
          { account: B, name: ROLE, trust: ['999999999999'] },
        ],
      },
    });
  });
  afterEach(() => {
    server.bus.stopSchedules();
    expectPublishedEventsParse(server.bus.events);
  });

  const reconcileNow = async (dryRun: boolean): Promise<ReconcileReport[]> => {
    const before = server.bus.events.length;
    await fireScheduled(server, config(dryRun), 'reconcile-registry');
    return server.bus.events
      .slice(before)
      .filter((event) => event['detail-type'] === 'Registry Reconcile Report')
      .map((event) => ReconcileReportSchema.parse(event.detail));
  };
  const rulesIn = async (account: string, region: string) => {
    const { pullThroughCacheRules = [] } = await ecrClient(server, { account, region }).send(
      new DescribePullThroughCacheRulesCommand({}),
    );
    return pullThroughCacheRules.map((rule) => rule.ecrRepositoryPrefix);
  };

  it('plans in every target in dry run, then applies where it can, one report per account and region', async () => {
    // Act
    const planned = await reconcileNow(true);
    // Assess: A planned in both regions, nothing created; B unavailable, named
    const statusOf = (reports: ReconcileReport[]) =>
      reports.map((report) => `${report.account}/${report.region}:${report.status}`);
    expect(statusOf(planned)).toEqual([
      `${A}/eu-west-1:planned`,
      `${A}/us-east-1:planned`,
      `${B}/eu-west-1:target-unavailable`,
      `${B}/us-east-1:target-unavailable`,
    ]);
    expect(planned[2]?.message).toContain(`role ${ROLE} in account ${B}`);
    for (const region of REGIONS) expect(await rulesIn(A, region)).toEqual([]);
    // Act
    const applied = await reconcileNow(false);
    // Assess
    expect(statusOf(applied).slice(0, 2)).toEqual([`${A}/eu-west-1:applied`, `${A}/us-east-1:applied`]);
    for (const region of REGIONS) {
      expect(await rulesIn(A, region)).toEqual(['ecr-public']);
      expect(await rulesIn(B, region)).toEqual([]);
    }
    // Act: idempotent
    const again = await reconcileNow(false);
    // Assess
    expect(statusOf(again).slice(0, 2)).toEqual([`${A}/eu-west-1:in-sync`, `${A}/us-east-1:in-sync`]);
  });
});
