import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ListPullTimeUpdateExclusionsCommand,
  RegisterPullTimeUpdateExclusionCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCleanup } from '../../../shared/cleanup/entry.ts';
import { runCleanupFanOut } from '../../../shared/cleanup/entry-fan-out.ts';
import { loadServiceConfig } from '../../../shared/config/file.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { TargetCredentialsError } from '../../../shared/credentials/errors.ts';
import type { Target } from '../../../shared/domain/target.ts';
import { createEcrGateway } from '../../../shared/ecr/index.ts';
import type { ServiceEvent } from '../../../shared/events/publisher.ts';
import { type CleanupWorkItem, CleanupWorkItemSchema } from '../../../shared/events/schemas.ts';
import { DAY, NOW } from '../../helpers/images.ts';
import { testDeps } from '../../helpers/service-deps.ts';

/**
 * The cleanup across the config's targets, with ECR mocked: the fan-out lists each target through its own gateway
 * and reports a failing one without stopping the others; the worker cleans only an account and region its own
 * config names, whatever a work item says, and never turns dry run off.
 */
const A = '111111111111';
const B = '222222222222';
const TARGETS = { accounts: [A, B], regions: ['eu-west-1', 'us-east-1'], roleName: 'EcrAutomation' };
const CONFIG = parseConfig({
  targets: TARGETS,
  cleanup: { rules: [{ repositories: ['team/**'], olderThanDays: 14, notPulledForDays: 30, maxDeleteFraction: 1 }] },
});
const OWN_ONLY = parseConfig({ cleanup: CONFIG.cleanup });
const stale = `sha256:${'a'.repeat(64)}`;
const context = { getRemainingTimeInMillis: () => 600_000 };

const item = (overrides: Partial<CleanupWorkItem> = {}): CleanupWorkItem =>
  CleanupWorkItemSchema.parse({
    runId: 'run-1',
    account: A,
    region: 'eu-west-1',
    repositoryName: 'team/app',
    dryRun: false,
    part: 1,
    plannedAt: '2026-11-24T03:00:00Z',
    ...overrides,
  });

describe('the cleanup across targets', () => {
  const ecr = mockClient(ECRClient);
  let gateways: { target: Target; readOnly: boolean }[];
  let published: ServiceEvent[];
  beforeEach(() => {
    ecr.reset();
    gateways = [];
    published = [];
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryName: 'team/app' }] });
    ecr.on(ListPullTimeUpdateExclusionsCommand).resolves({ pullTimeUpdateExclusions: [] });
    ecr.on(RegisterPullTimeUpdateExclusionCommand).resolves({});
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        {
          imageDigest: stale,
          imagePushedAt: new Date(NOW - 100 * DAY),
          imageSizeInBytes: 10,
          imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        },
      ],
    });
    ecr.on(BatchDeleteImageCommand).resolves({ imageIds: [{ imageDigest: stale }], failures: [] });
  });
  afterEach(() => ecr.reset());

  const deps = (config = CONFIG, resolved: readonly Target[] = targetsOf(TARGETS)) =>
    testDeps({
      config: () => config,
      now: () => NOW,
      targets: async () => resolved,
      targetGateway: (_section, target, options) => {
        gateways.push({ target, readOnly: options.readOnly });
        return createEcrGateway(new ECRClient({ region: target.region }), options);
      },
      publish: async (events) => {
        published.push(...events);
        return { calls: Math.ceil(events.length / 10) };
      },
    });

  it('cleans the target a work item names, through that target’s gateway, and reports its account and region', async () => {
    // Act
    const report = await runCleanup(item(), context, deps());
    // Assess
    expect(report).toMatchObject({ account: A, region: 'eu-west-1', status: 'completed', counts: { deleted: 1 } });
    expect(gateways).toEqual([{ target: { account: A, region: 'eu-west-1' }, readOnly: false }]);
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(1);
  });

  it.each([
    ['an account the config does not name', { account: '999999999999' }, /999999999999 in eu-west-1 is not one of/],
    ['a region the config does not name', { region: 'ap-south-1' }, /in ap-south-1 is not one of/],
    ['no target, with a config that names targets', { account: undefined, region: undefined }, /names none of them/],
  ])('refuses a work item naming %s, and makes no call', async (_name, overrides, message) => {
    // Act
    const report = await runCleanup(item(overrides), context, deps());
    // Assess
    expect(report.status).toBe('not-matched');
    expect(report.message).toMatch(message);
    expect(report.apiCalls).toEqual({ PutEvents: 1 });
    expect(gateways).toEqual([]);
    expect(ecr.calls()).toHaveLength(0);
  });

  it('refuses a target work item when the config names no targets', async () => {
    // Act
    const report = await runCleanup(item(), context, deps(OWN_ONLY));
    // Assess
    expect(report).toMatchObject({ status: 'not-matched', account: A });
    expect(report.message).toMatch(/names no targets/);
    expect(ecr.calls()).toHaveLength(0);
  });

  it('refuses when the runtime cannot assume roles, rather than cleaning its own account instead', async () => {
    // Prepare
    const own = deps();
    own.targetGateway = undefined;
    own.gateway = () => {
      throw new Error('the own account must not be cleaned for a target item');
    };
    // Act
    const report = await runCleanup(item(), context, own);
    // Assess
    expect(report.status).toBe('not-matched');
    expect(report.message).toMatch(/cannot assume roles/);
  });

  it('refuses an account the organisation no longer lists (resolved by the worker, not taken from the item)', async () => {
    // Act: the config names organisational units; the organisation now lists only B
    const report = await runCleanup(item(), context, deps(CONFIG, targetsOf({ ...TARGETS, accounts: [B] })));
    // Assess
    expect(report.status).toBe('not-matched');
    expect(ecr.calls()).toHaveLength(0);
  });

  it('reports a target whose role cannot be assumed as target-unavailable, not as a failed invocation', async () => {
    // Prepare
    ecr.on(DescribeImagesCommand).rejects(
      new TargetCredentialsError('Cannot assume role EcrAutomation in account 111111111111: AccessDenied', {
        account: A,
        roleName: 'EcrAutomation',
        reason: 'access-denied',
        code: 'AccessDenied',
      }),
    );
    // Act
    const report = await runCleanup(item(), context, deps());
    // Assess
    expect(report.status).toBe('target-unavailable');
    expect(report.message).toMatch(/EcrAutomation in account 111111111111.*nothing was done/);
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(0);
  });

  it('lets Lambda retry when STS throttles (a retryable credentials error)', async () => {
    // Prepare
    ecr.on(DescribeImagesCommand).rejects(
      new TargetCredentialsError('Cannot assume role EcrAutomation in account 111111111111: Throttling', {
        account: A,
        roleName: 'EcrAutomation',
        reason: 'throttled',
        code: 'Throttling',
      }),
    );
    // Act, Assess
    await expect(runCleanup(item(), context, deps())).rejects.toThrow(/Throttling/);
  });

  it('cannot turn the config’s dry run off: a target item with dryRun false gets a read-only gateway', async () => {
    // Prepare
    const dry = parseConfig({ ...CONFIG, cleanup: { ...CONFIG.cleanup, dryRun: true } });
    // Act
    const report = await runCleanup(item({ dryRun: false }), context, deps(dry));
    // Assess
    expect(report.status).toBe('dry-run');
    expect(gateways).toEqual([{ target: { account: A, region: 'eu-west-1' }, readOnly: true }]);
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(0);
  });

  it('fans out one work item per target and repository, and reports a failing target while listing the others', async () => {
    // Prepare: B's role cannot be assumed, in both regions
    const failing = deps();
    failing.workerPrincipalArn = 'arn:aws:iam::123456789012:role/cleanup-worker';
    const make = failing.targetGateway;
    failing.targetGateway = (section, target, options) => {
      const gateway = make?.(section, target, options);
      if (gateway === undefined) throw new Error('no gateway');
      if (target.account !== B) return gateway;
      const denied = new TargetCredentialsError(`Cannot assume role EcrAutomation in account ${B}: AccessDenied`, {
        account: B,
        roleName: 'EcrAutomation',
        reason: 'access-denied',
        code: 'AccessDenied',
      });
      return {
        ...gateway,
        listPullTimeExclusions: () => Promise.reject(denied),
        listRepositories: () => ({
          [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(denied) }),
        }),
      };
    };
    // Act
    const summary = await runCleanupFanOut({ id: 'run-1', time: '2026-11-24T03:00:00Z', detail: {} }, failing);
    // Assess
    const items = published.filter((event) => event.detailType === 'Cleanup Work Item').map((event) => event.detail);
    expect(items).toEqual([
      expect.objectContaining({ account: A, region: 'eu-west-1', repositoryName: 'team/app' }),
      expect.objectContaining({ account: A, region: 'us-east-1', repositoryName: 'team/app' }),
    ]);
    expect(summary.targets?.filter((target) => target.status === 'failed')).toEqual([
      expect.objectContaining({
        account: B,
        region: 'eu-west-1',
        workItems: 0,
        message: expect.stringMatching(/AccessDenied/),
      }),
      expect.objectContaining({ account: B, region: 'us-east-1', workItems: 0 }),
    ]);
    // Each target's workers' role is kept out of its pull times, by the role's ARN in that account
    expect(
      ecr.commandCalls(RegisterPullTimeUpdateExclusionCommand).map((call) => call.args[0].input.principalArn),
    ).toEqual([`arn:aws:iam::${A}:role/EcrAutomation`, `arn:aws:iam::${A}:role/EcrAutomation`]);
    const report = published.find((event) => event.detailType === 'Cleanup Fan-Out Report')?.detail;
    expect(report).toMatchObject({ workItems: 2, failedTargets: 2 });
  });

  it('does nothing when the targets cannot be resolved (an unknown organisational unit)', async () => {
    // Prepare
    const broken = deps();
    broken.targets = async () => {
      throw new Error('organisational unit ou-abcd-12345678 does not exist');
    };
    // Act, Assess
    await expect(runCleanupFanOut({ id: 'run-1', time: '2026-11-24T03:00:00Z', detail: {} }, broken)).rejects.toThrow(
      /ou-abcd-12345678/,
    );
    expect(ecr.calls()).toHaveLength(0);
    expect(published).toEqual([]);
  });

  it('emits the bytes reclaimed and images deleted per account and region (EMF, dimensions Account and Region)', async () => {
    // Prepare
    const lines: string[] = [];
    const keep = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(keep);
    const log = vi.spyOn(console, 'log').mockImplementation((...args) => keep(args.join(' ')));
    // The tests run in Powertools' dev mode, which prints no metrics unless told to.
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
    try {
      // Act
      await runCleanup(item({ account: B, region: 'us-east-1' }), context, { ...deps(), metrics });
    } finally {
      out.mockRestore();
      log.mockRestore();
      vi.unstubAllEnvs();
    }
    // Assess
    const emf = lines.flatMap((line) => line.split('\n')).filter((line) => line.includes('"_aws"'));
    const perTarget = emf.map((line) => JSON.parse(line) as Record<string, unknown>).filter((blob) => blob.Account);
    expect(perTarget).toEqual([
      expect.objectContaining({ Account: B, Region: 'us-east-1', TargetImagesDeleted: 1 }),
      expect.objectContaining({ Account: B, Region: 'us-east-1', TargetBytesReclaimed: 10 }),
    ]);
  });

  it('publishes the work items round-robin over the targets, so that workers taking them in order spread over accounts', async () => {
    // Prepare: three repositories in each target
    ecr
      .on(DescribeRepositoriesCommand)
      .resolves({ repositories: ['team/a', 'team/b', 'team/c'].map((repositoryName) => ({ repositoryName })) });
    // Act
    await runCleanupFanOut({ id: 'run-1', time: '2026-11-24T03:00:00Z', detail: {} }, deps());
    // Assess
    const items = published
      .filter((event) => event.detailType === 'Cleanup Work Item')
      .map((event) => event.detail as CleanupWorkItem);
    expect(items).toHaveLength(12);
    expect(items.slice(0, 4).map((one) => `${one.account}/${one.region}`)).toEqual([
      `${A}/eu-west-1`,
      `${A}/us-east-1`,
      `${B}/eu-west-1`,
      `${B}/us-east-1`,
    ]);
    expect(items.slice(0, 4).every((one) => one.repositoryName === 'team/a')).toBe(true);
  });

  it.each([
    ['an unknown region', { regions: ['eu-west-9'] }, /"eu-west-9" is not a region ECR serves/],
    ['an account id that is not one', { accounts: ['1234'] }, /targets\.accounts\[0\]: an AWS account id: 12 digits/],
    ['an invalid role name', { roleName: 'Ecr Automation*' }, /targets\.roleName.*IAM role name/],
  ])(
    'does nothing when the config file’s targets name %s, and the error says which field',
    async (_name, bad, message) => {
      // Prepare
      const dir = mkdtempSync(join(tmpdir(), 'targets-'));
      const file = join(dir, 'config.json');
      writeFileSync(
        file,
        JSON.stringify({ targets: { ...TARGETS, ...bad }, cleanup: { rules: [{ repositories: ['**'] }] } }),
      );
      const fromFile = { ...deps(), config: () => loadServiceConfig({ CONFIG_FILE: file }) };
      // Act, Assess
      await expect(
        runCleanupFanOut({ id: 'run-1', time: '2026-11-24T03:00:00Z', detail: {} }, fromFile),
      ).rejects.toThrow(message);
      await expect(runCleanup(item(), context, fromFile)).rejects.toThrow(message);
      expect(ecr.calls()).toHaveLength(0);
      expect(gateways).toEqual([]);
      expect(published).toEqual([]);
    },
  );

  it('stores the fan-out’s report before its work items go out, and each worker’s figures, for the run report', async () => {
    // Prepare: a reports bucket that records what is written, and when
    const written: { key: string; body: unknown; publishedBefore: number }[] = [];
    const reports = {
      bucket: 'reports',
      gateway: {
        callCounts: () => ({}),
        getObject: async () => new Uint8Array(),
        list: async () => ({ keys: [], prefixes: [] }),
        putJson: async (_bucket: string, key: string, body: unknown) => {
          written.push({ key, body, publishedBefore: published.length });
          return { written: true };
        },
      },
    };
    const withReports = { ...deps(), reports };
    // Act
    await runCleanupFanOut({ id: 'run-1', time: '2026-11-24T03:00:00Z', detail: {} }, withReports);
    await runCleanup(item(), context, withReports);
    // Assess
    expect(written.map((entry) => [entry.key, entry.publishedBefore])).toEqual([
      ['cleanup-runs/run-1/fan-out.json', 0],
      // After the four items, the fan-out's report and the worker's own Cleanup Report were published
      [`cleanup-runs/run-1/reports/${A}/eu-west-1/private/team%2Fapp/part-1.json`, 6],
    ]);
    expect(written[0]?.body).toMatchObject({ runId: 'run-1', workItems: 4 });
    expect(written[1]?.body).toMatchObject({ account: A, status: 'completed', deleted: 1, bytesReclaimed: 10 });
  });

  it.each([
    ['INFO', 1],
    ['WARN', 0],
  ] as const)(
    'logs every image’s decision with a logger at %s only when it prints INFO (%i line)',
    async (level, lines) => {
      // Arrange
      const logger = new Logger({ logLevel: level });
      const info = vi.spyOn(logger, 'info').mockImplementation(() => {});
      // Act
      const report = await runCleanup(item(), context, { ...deps(), logger });
      // Assess
      expect(report.counts.deleted).toBe(1);
      const decisions = info.mock.calls.filter(([message]) => message === 'cleanup decisions');
      expect(decisions).toHaveLength(lines);
      if (lines > 0) {
        expect(decisions[0]?.[1]).toMatchObject({
          decisions: [{ digest: stale, action: 'delete', reason: { code: 'stale-untagged' } }],
        });
      }
    },
  );

  it('refuses a work item naming an account but no region, at the edge', () => {
    expect(CleanupWorkItemSchema.safeParse({ ...item(), region: undefined }).success).toBe(false);
    expect(CleanupWorkItemSchema.safeParse({ ...item(), account: '12345' }).success).toBe(false);
    expect(CleanupWorkItemSchema.safeParse({ ...item(), region: 'eu-west-1; DROP' }).success).toBe(false);
  });
});

function targetsOf(section: { accounts: readonly string[]; regions: readonly string[] }): Target[] {
  return section.accounts.flatMap((account) => section.regions.map((region) => ({ account, region })));
}
