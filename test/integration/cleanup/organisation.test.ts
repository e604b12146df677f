import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CleanupFanOutReport,
  CleanupFanOutReportSchema,
  type CleanupReport,
} from '../../../shared/cleanup/report.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import type { ServiceConfig } from '../../../shared/config/schema.ts';
import { digestsIn, type Loaded, loadFixture, MUTATING_ECR_OPERATIONS, reportsOf } from '../../helpers/cleanup.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { control, ecrClient, startTestRegistry } from '../../helpers/registry.ts';
import { fireScheduled } from '../../helpers/scheduled.ts';

/**
 * One deployment cleaning an organisation: a central registry account (A) and two workload accounts (B, C), each with
 * registries in two regions, cleaned through the role each account trusts the service's account with, in one
 * scheduled run on the local bus, through the real handlers and SDK clients. The local service signs as account
 * 123456789012 (the service's own); the local STS issues keys that select each target account's registry.
 */
const SERVICE_ACCOUNT = '123456789012';
const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const REGIONS = ['us-east-1', 'eu-west-1'] as const;
const ROLE = 'EcrAutomation';

/** Each target's repository: a release, a recent build, and two stale untagged builds (one pinned by B's ECS task in A/us-east-1). */
const repositoryOf = (account: string, region: string): Fixture => ({
  account,
  region,
  repositories: [
    {
      name: 'team/app',
      images: [
        { id: `${account}-${region}-release`, tags: ['v1.0.0'], pushedAt: '-200d' },
        { id: `${account}-${region}-recent`, pushedAt: '-2d' },
        { id: `${account}-${region}-stale`, pushedAt: '-100d' },
        { id: `${account}-${region}-pinned`, pushedAt: '-100d' },
      ],
    },
  ],
});

const roles = (accounts: readonly string[]): Fixture => ({
  repositories: [],
  iam: { roles: accounts.map((account) => ({ account, name: ROLE, trust: [SERVICE_ACCOUNT] })) },
});

/** The organisation: the service's account manages it; A in the platform unit, B and C in the workloads unit. */
const PLATFORM_UNIT = 'ou-test-platform';
const WORKLOADS_UNIT = 'ou-test-workload';
const ORGANIZATION: Fixture = {
  repositories: [],
  organization: {
    managementAccount: SERVICE_ACCOUNT,
    units: [
      { id: PLATFORM_UNIT, name: 'platform', accounts: [{ id: A, name: 'registry' }] },
      {
        id: WORKLOADS_UNIT,
        name: 'workloads',
        accounts: [
          { id: B, name: 'payments' },
          { id: C, name: 'search' },
        ],
      },
    ],
  },
};

const config = (
  overrides: { dryRun?: boolean; inUse?: boolean; targets?: Record<string, unknown> } = {},
): Readonly<ServiceConfig> =>
  parseConfig({
    targets: overrides.targets ?? { accounts: [A, B, C], regions: [...REGIONS], roleName: ROLE },
    cleanup: {
      ...(overrides.dryRun === undefined ? {} : { dryRun: overrides.dryRun }),
      rules: [{ repositories: ['team/**'], olderThanDays: 14, notPulledForDays: 30, maxDeleteFraction: 1 }],
      ...(overrides.inUse ? { inUse: { cacheSeconds: 0, ecs: {} } } : {}),
    },
  });

describe('one scheduled run cleans a three-account organisation in two regions', { timeout: 60_000 }, () => {
  let server: RegistryServer;
  const digests = new Map<string, string>();
  const digestOf = (id: string) => {
    const found = digests.get(id);
    if (found === undefined) throw new Error(`no fixture image ${id}`);
    return found;
  };

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    digests.clear();
    for (const rule of server.bus.listRules()) server.bus.removeRule(rule.name, rule.eventBusName);
    for (const account of [A, B, C]) {
      for (const region of REGIONS) {
        const loaded: Loaded = await loadFixture(server, repositoryOf(account, region));
        for (const image of loaded.images) if (image.id !== undefined) digests.set(image.id, image.imageDigest);
      }
    }
  });
  afterEach(() => {
    server.bus.stopSchedules();
    expectPublishedEventsParse(server.bus.events);
  });

  const runNightly = async (serviceConfig: Readonly<ServiceConfig>) => {
    const deliveries = await fireScheduled(server, serviceConfig, 'scheduled-cleanup');
    expect(deliveries.every((delivery) => delivery.ok)).toBe(true);
    const fanOut = server.bus.events.find((event) => event['detail-type'] === 'Cleanup Fan-Out Report');
    return {
      fanOut: CleanupFanOutReportSchema.parse(fanOut?.detail) as CleanupFanOutReport,
      reports: reportsOf(server),
    };
  };
  const left = (account: string, region: string) => digestsIn(ecrClient(server, { account, region }), 'team/app');
  const reportFor = (reports: CleanupReport[], account: string, region: string) =>
    reports.find((report) => report.account === account && report.region === region);

  it('cleans every account in every region through its role, and each report names its account and region', async () => {
    // Prepare
    await loadFixture(server, roles([A, B, C]));
    // Act
    const { fanOut, reports } = await runNightly(config());
    // Assess: one work item per account and region, each cleaned, the stale builds gone and the rest kept
    expect(fanOut).toMatchObject({ workItems: 6, repositories: 6, failedTargets: 0 });
    expect(fanOut.targets?.map((target) => `${target.account}/${target.region}:${target.status}`).sort()).toEqual(
      [A, B, C].flatMap((account) => REGIONS.map((region) => `${account}/${region}:listed`)).sort(),
    );
    expect(reports).toHaveLength(6);
    for (const account of [A, B, C]) {
      for (const region of REGIONS) {
        expect(reportFor(reports, account, region), `${account}/${region}`).toMatchObject({
          status: 'completed',
          repositoryName: 'team/app',
          counts: { deleted: 2, failed: 0 },
        });
        const remaining = await left(account, region);
        expect([...remaining].sort()).toEqual(
          [digestOf(`${account}-${region}-release`), digestOf(`${account}-${region}-recent`)].sort(),
        );
      }
    }
    // Each target's workers are kept out of its pull times (the role's ARN, registered in its own registry)
    expect(fanOut.targets?.every((target) => target.pullTimeExclusion === 'registered')).toBe(true);
  });

  it('reports a target whose role cannot be assumed, and cleans the others', async () => {
    // Prepare: C has no role (its StackSet instance failed, say); B's trusts another account only
    await loadFixture(server, {
      repositories: [],
      iam: {
        roles: [
          { account: A, name: ROLE, trust: [SERVICE_ACCOUNT] },
          { account: B, name: ROLE, trust: ['999999999999'] },
        ],
      },
    });
    // Act
    const { fanOut, reports } = await runNightly(config());
    // Assess: B and C failed in both regions, named, with the reason; A cleaned in both
    expect(fanOut.failedTargets).toBe(4);
    for (const account of [B, C]) {
      for (const region of REGIONS) {
        const target = fanOut.targets?.find((one) => one.account === account && one.region === region);
        expect(target).toMatchObject({ status: 'failed', workItems: 0 });
        expect(target?.message).toContain(`role ${ROLE} in account ${account}`);
        expect(await left(account, region)).toHaveProperty('size', 4);
      }
    }
    for (const region of REGIONS) {
      expect(reportFor(reports, A, region)).toMatchObject({ status: 'completed', counts: { deleted: 2 } });
    }
    expect(reports).toHaveLength(2);
  });

  it('keeps an image of the central registry that an ECS task in another account runs', async () => {
    // Prepare: B's ECS service in us-east-1 runs A's pinned build by digest; nothing in A runs it
    await loadFixture(server, roles([A, B, C]));
    const pinned = digestOf(`${A}-us-east-1-pinned`);
    await loadFixture(server, {
      account: B,
      region: 'us-east-1',
      repositories: [],
      ecs: {
        taskDefinitions: [
          {
            family: 'api',
            containers: [{ name: 'api', image: `${A}.dkr.ecr.us-east-1.amazonaws.com/team/app@${pinned}` }],
          },
        ],
        clusters: [{ name: 'prod', services: [{ name: 'api', taskDefinition: 'api:1', desiredCount: 1 }] }],
      },
    });
    // Act
    const { reports } = await runNightly(config({ inUse: true }));
    // Assess: A keeps the build B runs, with where it runs; its stale twin goes; the other regions lose both
    const central = reportFor(reports, A, 'us-east-1');
    expect(central).toMatchObject({ status: 'completed', counts: { deleted: 1 } });
    expect(central?.kept.find((entry) => entry.digest === pinned)?.reason).toEqual({
      code: 'in-use',
      usedBy: [{ provider: 'ecs', where: `${B}/us-east-1 prod/api` }],
    });
    expect((await left(A, 'us-east-1')).has(pinned)).toBe(true);
    expect((await left(A, 'us-east-1')).has(digestOf(`${A}-us-east-1-stale`))).toBe(false);
    expect((await left(A, 'eu-west-1')).has(digestOf(`${A}-eu-west-1-pinned`))).toBe(false);
  });

  it('keeps everything when a target whose workloads are read cannot be assumed (fail closed), and says which', async () => {
    // Prepare: C has no role, so what runs in C is unknown
    await loadFixture(server, roles([A, B]));
    // Act
    const { reports } = await runNightly(config({ inUse: true }));
    // Assess: A and B plan, but delete nothing, naming the account whose workloads could not be read
    for (const account of [A, B]) {
      for (const region of REGIONS) {
        const report = reportFor(reports, account, region);
        expect(report).toMatchObject({ status: 'in-use-unknown', counts: { deleted: 0 } });
        expect(report?.message).toContain(`account ${C}`);
        expect(await left(account, region)).toHaveProperty('size', 4);
      }
    }
  });

  it('makes no mutating call in any account in dry run', async () => {
    // Prepare
    await loadFixture(server, roles([A, B, C]));
    // Act
    const { fanOut, reports } = await runNightly(config({ dryRun: true }));
    // Assess
    const { operations } = await control<{ operations: Record<string, number> }>(server, 'calls');
    expect(MUTATING_ECR_OPERATIONS.filter((operation) => operations[operation])).toEqual([]);
    expect(fanOut.pullTimeExclusion).toBe('missing (dry run registers nothing)');
    expect(reports.map((report) => report.status)).toEqual(Array(6).fill('dry-run'));
    expect(reports.every((report) => report.counts.toDelete === 2)).toBe(true);
  });

  it('discovers the accounts of organisational units, less the excluded, and cleans them', async () => {
    // Prepare
    await loadFixture(server, ORGANIZATION);
    await loadFixture(server, roles([A, B, C]));
    // Act: both units, C excluded
    const { fanOut, reports } = await runNightly(
      config({
        targets: {
          organizationalUnits: [PLATFORM_UNIT, WORKLOADS_UNIT],
          exclude: [C],
          regions: [...REGIONS],
          roleName: ROLE,
        },
      }),
    );
    // Assess
    expect(fanOut.targets?.map((target) => target.account)).toEqual([A, A, B, B]);
    expect(reports.map((report) => `${report.account}/${report.region}:${report.status}`).sort()).toEqual(
      [A, B].flatMap((account) => REGIONS.map((region) => `${account}/${region}:completed`)).sort(),
    );
    for (const region of REGIONS) expect(await left(C, region)).toHaveProperty('size', 4);
  });

  it.each([
    ['an account the organisation does not have', { accounts: [A, '444444444444'] }, /444444444444/],
    ['an organisational unit that does not exist', { organizationalUnits: ['ou-test-nothere1'] }, /ou-test-nothere1/],
  ])('does nothing anywhere when the targets name %s, and says which', async (_name, section, message) => {
    // Prepare
    await loadFixture(server, ORGANIZATION);
    await loadFixture(server, roles([A, B, C]));
    const badConfig = config({ targets: { ...section, regions: [...REGIONS], roleName: ROLE } });
    // Act
    const deliveries = await fireScheduled(server, badConfig, 'scheduled-cleanup');
    // Assess: the scheduled run fails with the reason, no work item is published, no registry is read
    expect(deliveries.map((delivery) => delivery.ok)).toEqual([false]);
    expect(deliveries[0]?.error).toMatch(message);
    expect(server.bus.events.filter((event) => event['detail-type'] === 'Cleanup Work Item')).toEqual([]);
    const { operations } = await control<{ operations: Record<string, number> }>(server, 'calls');
    expect(operations.DescribeRepositories ?? 0).toBe(0);
    expect(operations.DescribeImages ?? 0).toBe(0);
  });
});
