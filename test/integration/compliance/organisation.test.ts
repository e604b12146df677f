import { DescribeRepositoriesCommand } from '@aws-sdk/client-ecr';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ComplianceReport, ComplianceReportSchema } from '../../../shared/compliance/report.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { MUTATING_ECR_OPERATIONS } from '../../helpers/cleanup.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { control, ecrClient, startTestRegistry } from '../../helpers/registry.ts';
import { fireScheduled } from '../../helpers/scheduled.ts';

/**
 * The scheduled compliance scan of an organisation: every target account and region checked (and fixed, in enforce
 * mode) through its role, one "Compliance Report" for the run naming each target, and a target whose role cannot
 * be assumed reported while the others are checked.
 */
const SERVICE_ACCOUNT = '123456789012';
const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const REGIONS = ['us-east-1', 'eu-west-1'] as const;
const ROLE = 'EcrAutomation';

const config = (mode: 'report' | 'enforce', dryRun = false) =>
  parseConfig({
    targets: { accounts: [A, B, C], regions: [...REGIONS], roleName: ROLE },
    compliance: {
      dryRun,
      defaults: { mode, tagMutability: { setting: 'IMMUTABLE' } },
      rules: [{ repositories: ['team/**'] }],
    },
  });

describe('the compliance scan of a three-account organisation in two regions', { timeout: 60_000 }, () => {
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
    for (const account of [A, B, C]) {
      for (const region of REGIONS) {
        await control(server, 'load', {
          account,
          region,
          repositories: [
            { name: 'team/app', imageTagMutability: 'MUTABLE', images: [] },
            { name: 'team/ok', imageTagMutability: 'IMMUTABLE', images: [] },
          ],
        });
      }
    }
    // C's role is missing: its StackSet instance failed, say
    await control(server, 'load', {
      repositories: [],
      iam: { roles: [A, B].map((account) => ({ account, name: ROLE, trust: [SERVICE_ACCOUNT] })) },
    });
  });
  afterEach(() => {
    server.bus.stopSchedules();
    expectPublishedEventsParse(server.bus.events);
  });

  const runDaily = async (serviceConfig: ReturnType<typeof config>): Promise<ComplianceReport> => {
    const deliveries = await fireScheduled(server, serviceConfig, 'scheduled-compliance');
    expect(deliveries.every((delivery) => delivery.ok)).toBe(true);
    const event = server.bus.events.findLast((one) => one['detail-type'] === 'Compliance Report');
    return ComplianceReportSchema.parse(event?.detail);
  };
  const mutability = async (account: string, region: string) => {
    const { repositories = [] } = await ecrClient(server, { account, region }).send(
      new DescribeRepositoriesCommand({ repositoryNames: ['team/app'] }),
    );
    return repositories[0]?.imageTagMutability;
  };

  it('checks every target, names each non-compliant repository’s account and region, and reports the unassumable one', async () => {
    // Act
    const report = await runDaily(config('report'));
    // Assess
    expect(report.failedTargets).toBe(2);
    expect(report.targets?.filter((target) => target.status === 'failed').map((target) => target.account)).toEqual([
      C,
      C,
    ]);
    expect(report.targets?.find((target) => target.account === C)?.message).toContain(`role ${ROLE} in account ${C}`);
    expect(report.targets?.filter((target) => target.status === 'checked')).toHaveLength(4);
    expect(report.counts).toMatchObject({ checked: 8, nonCompliant: 4, changed: 0 });
    expect(
      report.nonCompliant.map((entry) => `${entry.account}/${entry.region}/${entry.repositoryName}`).sort(),
    ).toEqual([A, B].flatMap((account) => REGIONS.map((region) => `${account}/${region}/team/app`)).sort());
  });

  it('fixes in every target it can assume in enforce mode, and changes nothing anywhere in dry run', async () => {
    // Act
    const dry = await runDaily(config('enforce', true));
    // Assess: dry run changes nothing
    const { operations } = await control<{ operations: Record<string, number> }>(server, 'calls');
    expect(MUTATING_ECR_OPERATIONS.filter((operation) => operations[operation])).toEqual([]);
    expect(operations.PutImageTagMutability ?? 0).toBe(0);
    expect(dry.counts.changed).toBe(0);
    // Act
    const enforced = await runDaily(config('enforce'));
    // Assess: A and B fixed in both regions; C untouched
    expect(enforced.counts.changed).toBe(4);
    for (const account of [A, B]) {
      for (const region of REGIONS) expect(await mutability(account, region)).toBe('IMMUTABLE');
    }
    for (const region of REGIONS) expect(await mutability(C, region)).toBe('MUTABLE');
  });
});
