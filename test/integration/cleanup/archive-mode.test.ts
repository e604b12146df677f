import {
  DescribeImagesCommand,
  type ECRClient,
  type ImageStatusFilter,
  RegisterPullTimeUpdateExclusionCommand,
} from '@aws-sdk/client-ecr';
import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCleanupCli } from '../../../cli/commands/main.ts';
import { runRepositoryCleanup } from '../../../shared/cleanup/entry.ts';
import { cleanupRuleFor, parseConfig } from '../../../shared/config/load.ts';
import { createEcrClient, createEcrGateway } from '../../../shared/ecr/index.ts';
import { loadFixture, MUTATING_ECR_OPERATIONS } from '../../helpers/cleanup.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { control, ecrClient, startTestRegistry, TEST_ACCOUNT } from '../../helpers/registry.ts';

const REPO = 'team/cold';
const DAY_MS = 86_400_000;

/** Stale untagged images (a multi-arch build, a signed image, a plain one), a release and a fresh push. */
const FIXTURE: Fixture = {
  repositories: [
    {
      name: REPO,
      images: [
        { id: 'old-amd64', architecture: 'amd64', pushedAt: '-100d' },
        { id: 'old-arm64', architecture: 'arm64', pushedAt: '-100d' },
        { id: 'old', kind: 'index', children: ['old-amd64', 'old-arm64'], pushedAt: '-100d' },
        { id: 'single', pushedAt: '-100d' },
        { id: 'single-sig', kind: 'signature', subject: 'single', pushedAt: '-100d' },
        { id: 'other', pushedAt: '-100d' },
        { id: 'release', tags: ['v1'], pushedAt: '-100d' },
        { id: 'fresh', pushedAt: '-1d' },
      ],
    },
  ],
};

const CONFIG = parseConfig({
  cleanup: {
    rules: [
      {
        repositories: ['team/**'],
        action: 'archive',
        deleteArchivedAfterDays: 30,
        olderThanDays: 14,
        notPulledForDays: 60,
        maxDeleteFraction: 1,
      },
    ],
  },
});

const STALE = ['old', 'old-amd64', 'old-arm64', 'single', 'single-sig', 'other'];

describe('a cleanup rule with action: archive and deleteArchivedAfterDays, on the local registry', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => expectPublishedEventsParse(server.bus.events));

  const operations = async () => (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;
  const statuses = async (filter: ImageStatusFilter = 'ANY') =>
    new Map(
      (
        await client.send(new DescribeImagesCommand({ repositoryName: REPO, filter: { imageStatus: filter } }))
      ).imageDetails?.map((detail) => [detail.imageDigest as string, detail.imageStatus]) ?? [],
    );
  const rule = () => {
    const match = cleanupRuleFor(CONFIG.cleanup, REPO);
    if (!match) throw new Error(`the config must match ${REPO}`);
    return match.rule;
  };
  const run = (dryRun: boolean) =>
    runRepositoryCleanup(createEcrGateway(client, { readOnly: dryRun }), {
      runId: dryRun ? 'dry' : 'run',
      repositoryName: REPO,
      part: 1,
      now: server.now(),
      rule: rule(),
      dryRun,
    });
  /** A run, after a dry run of the same step that must make no mutating call. */
  const step = async () => {
    const before = await operations();
    const dry = await run(true);
    const after = await operations();
    const mutating = MUTATING_ECR_OPERATIONS.filter(
      (operation) => (after[operation] ?? 0) !== (before[operation] ?? 0),
    );
    expect(mutating, 'mutating calls of the dry run').toEqual([]);
    expect(dry.report.status).toBe('dry-run');
    return { dry, real: await run(false) };
  };
  /** The restore command in this process; its waits move the registry's clock. */
  async function restore(reference: string) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io: CliIo = {
      env: { ...process.env },
      stdout: (line) => stdout.push(line),
      stderr: (line) => stderr.push(line),
      interactive: false,
      confirm: async () => false,
      connect: (target) => createEcrClient({ ...target, maxAttempts: 1 }),
      now: () => server.now(),
      sleep: async (ms) => {
        server.advanceClock(ms);
      },
    };
    const code = await runCleanupCli(
      ['restore', REPO, reference, '--poll-seconds', '300', '--endpoint-url', server.url, '--region', 'us-east-1'],
      io,
    );
    return { code, output: `${stdout.join('\n')}\n${stderr.join('\n')}` };
  }

  it('archives the stale images, deletes them once archived past the setting, and keeps the one restored', async () => {
    // Prepare
    server.reset();
    const loaded = await loadFixture(server, FIXTURE);
    const digestOf = (id: string) => loaded.images.find((image) => image.id === id)?.imageDigest as string;
    const stale = STALE.map(digestOf).sort();
    // The cleanup's principal is excluded from pull-time updates, so that a dry run's index reads are not pulls.
    await client.send(
      new RegisterPullTimeUpdateExclusionCommand({ principalArn: `arn:aws:iam::${TEST_ACCOUNT}:user/AKIDLOCALTEST` }),
    );

    // Act 1: archive
    const first = await step();

    // Assess 1: the dry run names what the run archives; the run archives it, parents first, and deletes nothing
    expect(first.dry.report.counts).toMatchObject({ toDelete: 0, toArchive: 6, archived: 0, deleted: 0 });
    expect(first.dry.report.archived?.map((entry) => entry.digest).sort()).toEqual(stale);
    expect(first.real.report).toMatchObject({
      status: 'completed',
      counts: { toArchive: 6, archived: 6, deleted: 0, failed: 0 },
    });
    const order = first.real.report.archived?.map((entry) => entry.digest) ?? [];
    expect(order.indexOf(digestOf('old'))).toBeLessThan(order.indexOf(digestOf('old-amd64')));
    expect(order.indexOf(digestOf('single'))).toBeLessThan(order.indexOf(digestOf('single-sig')));
    for (const entry of first.real.report.archived ?? []) expect(entry.cost).toMatch(/reversible/);
    expect([...(await statuses('ARCHIVED')).keys()].sort()).toEqual(stale);

    // Act 2: restore one of them
    const restored = await restore(digestOf('other'));

    // Assess 2
    expect(restored.code, restored.output).toBe(0);
    expect((await statuses()).get(digestOf('other'))).toBe('ACTIVE');

    // Act 3: past deleteArchivedAfterDays
    server.advanceClock(31 * DAY_MS);
    const second = await step();

    // Assess 3: the images still archived are deleted, the index first; the restored one is kept (its restore is
    // recent activity), and nothing is archived again
    const stillArchived = STALE.filter((id) => id !== 'other')
      .map(digestOf)
      .sort();
    expect(second.dry.report.counts).toMatchObject({ toDelete: 5, deleted: 0 });
    expect(second.real.report).toMatchObject({ status: 'completed', counts: { deleted: 5, failed: 0 } });
    expect(second.real.report.counts.archived).toBeUndefined();
    const deleted = second.real.report.deleted.map((entry) => entry.digest);
    expect([...deleted].sort()).toEqual(stillArchived);
    expect(deleted.indexOf(digestOf('old'))).toBeLessThan(deleted.indexOf(digestOf('old-amd64')));
    for (const entry of second.real.report.deleted) {
      expect(entry.reason.code).toBe('archive-expired');
      expect(entry.cost).toMatch(/from the archive/);
    }
    const reasons = new Map(second.real.plan?.decisions.map((decision) => [decision.digest, decision.reason]));
    expect(reasons.get(digestOf('other'))).toMatchObject({ code: 'recently-pulled' });
    const left = await statuses();
    expect([...left.keys()].sort()).toEqual(['other', 'release', 'fresh'].map(digestOf).sort());
    expect(left.get(digestOf('other'))).toBe('ACTIVE');
  });
});
