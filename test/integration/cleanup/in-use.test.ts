import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CleanupReport } from '../../../shared/cleanup/report.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import type { ServiceConfig } from '../../../shared/config/schema.ts';
import {
  digestsIn,
  type Loaded,
  loadFixture,
  MUTATING_ECR_OPERATIONS,
  pullFailures,
  reportsOf,
} from '../../helpers/cleanup.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { control, ecrClient, startTestRegistry } from '../../helpers/registry.ts';
import { fireScheduled } from '../../helpers/scheduled.ts';

const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

/**
 * A service repository as CI leaves it: pull request builds (one multi-arch), main builds, releases, `latest`, and
 * stale untagged builds. ECS runs one untagged build pinned by digest (a service and its task) and a main build by
 * tag; a Lambda alias runs an old pull request build. A second repository, which the ECS provider does not cover,
 * shows that a failing provider stops deletion only where it looks.
 */
const FIXTURE: Fixture = {
  resolve: true,
  repositories: [
    {
      name: 'team/app',
      images: [
        { id: 'v1.0.0', tags: ['v1.0.0'], pushedAt: '-300d' },
        { id: 'v1.1.0', tags: ['v1.1.0', 'latest'], pushedAt: '-100d', lastPulledAt: '-1h' },
        { id: 'main-1', tags: ['main-1'], pushedAt: '-90d' },
        { id: 'main-2', tags: ['main-2'], pushedAt: '-60d' },
        { id: 'main-3', tags: ['main-3'], pushedAt: '-20d' },
        { id: 'main-4', tags: ['main-4'], pushedAt: '-10d' },
        { id: 'pr-1', tags: ['pr-1'], pushedAt: '-80d' },
        { id: 'pr-2-amd64', architecture: 'amd64', pushedAt: '-70d' },
        { id: 'pr-2-arm64', architecture: 'arm64', pushedAt: '-70d' },
        { id: 'pr-2', kind: 'index', children: ['pr-2-amd64', 'pr-2-arm64'], tags: ['pr-2'], pushedAt: '-70d' },
        { id: 'pr-2-sig', kind: 'signature', subject: 'pr-2', pushedAt: '-70d' },
        { id: 'pr-3', tags: ['pr-3'], pushedAt: '-40d' },
        { id: 'pr-4', tags: ['pr-4'], pushedAt: '-2d' },
        { id: 'pinned', pushedAt: '-100d' },
        { id: 'stale', pushedAt: '-100d' },
      ],
    },
    {
      name: 'tools/lint',
      images: [
        { id: 'lint-pr-1', tags: ['pr-1'], pushedAt: '-50d' },
        { id: 'lint-pr-2', tags: ['pr-2'], pushedAt: '-1d' },
        { id: 'lint-stale', pushedAt: '-100d' },
      ],
    },
  ],
  ecs: {
    taskDefinitions: [
      { family: 'api', containers: [{ name: 'api', image: { repository: 'team/app', id: 'pinned' } }] },
      { family: 'worker', containers: [{ name: 'worker', image: `${HOST}/team/app:main-1` }] },
    ],
    clusters: [
      {
        name: 'prod',
        services: [{ name: 'api', taskDefinition: 'api:1', desiredCount: 1 }],
        tasks: [
          { service: 'api', startedAt: '-3d' },
          { taskDefinition: 'worker:1', startedAt: '-1d' },
        ],
      },
    ],
  },
  lambda: {
    functions: [
      {
        name: 'previewer',
        imageUri: `${HOST}/team/app:v1.1.0`,
        versions: [{ imageUri: `${HOST}/team/app:pr-1` }],
        aliases: [{ name: 'preview', version: '1' }],
      },
    ],
  },
};

const config = (overrides: { dryRun?: boolean } = {}): Readonly<ServiceConfig> =>
  parseConfig({
    cleanup: {
      ...overrides,
      rules: [
        {
          repositories: ['team/**', 'tools/**'],
          olderThanDays: 14,
          notPulledForDays: 30,
          maxDeleteFraction: 1,
          maxTaggedDeleteFraction: 1,
          tagSelections: [
            { tags: [{ form: 'semver' }, 'latest'], protect: true },
            { tags: ['main-*'], keepLast: 2 },
            { tags: ['pr-*'], keepLast: 1, keepNewerThanDays: 7 },
          ],
        },
      ],
      inUse: {
        cacheSeconds: 0,
        ecs: { repositories: ['team/**'] },
        lambda: {},
      },
    },
  });

describe('the cleanup never deletes what runs: ECS and Lambda in use, through the handlers and the local bus', () => {
  let server: RegistryServer;
  let loaded: Loaded;
  const digestOf = (id: string) => {
    const found = loaded.images.find((image) => image.id === id);
    if (!found) throw new Error(`no fixture image ${id}`);
    return found.imageDigest;
  };

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    for (const rule of server.bus.listRules()) server.bus.removeRule(rule.name, rule.eventBusName);
    loaded = await loadFixture(server, FIXTURE);
  });
  afterEach(() => {
    server.bus.stopSchedules();
    expectPublishedEventsParse(server.bus.events);
  });

  const runNightly = async (serviceConfig: Readonly<ServiceConfig>) => {
    const deliveries = await fireScheduled(server, serviceConfig, 'scheduled-cleanup');
    expect(deliveries.every((delivery) => delivery.ok)).toBe(true);
    const reports = reportsOf(server);
    const of = (name: string) => reports.find((report) => report.repositoryName === name) as CleanupReport;
    return { app: of('team/app'), lint: of('tools/lint') };
  };
  const keptReason = (report: CleanupReport, id: string) =>
    report.kept.find((entry) => entry.digest === digestOf(id))?.reason;

  it('cleans the tagged repository as the selections say, keeps what ECS and Lambda run, and every kept image pulls whole', async () => {
    // Act
    const { app } = await runNightly(config());
    // Assess: released pull request and main builds go with their children and signature; the stale untagged one too
    const left = await digestsIn(ecrClient(server), 'team/app');
    const gone = ['main-2', 'pr-2', 'pr-2-amd64', 'pr-2-arm64', 'pr-2-sig', 'pr-3', 'stale'];
    expect(app).toMatchObject({ status: 'completed', counts: { deleted: gone.length, failed: 0 } });
    for (const id of gone) expect(left.has(digestOf(id)), id).toBe(false);
    const kept = ['v1.0.0', 'v1.1.0', 'main-1', 'main-3', 'main-4', 'pr-1', 'pr-4', 'pinned'];
    for (const id of kept) expect(left.has(digestOf(id)), id).toBe(true);
    // The untagged build pinned by digest is kept by the ECS service and its task; main-1 (beyond keepLast 2) by the
    // task that runs it by tag; pr-1 (beyond keepLast 1, 80 days old) by the Lambda alias and version
    expect(keptReason(app, 'pinned')).toEqual({
      code: 'in-use',
      usedBy: expect.arrayContaining([{ provider: 'ecs', where: 'prod/api' }]),
    });
    expect(keptReason(app, 'main-1')).toMatchObject({ code: 'in-use', usedBy: [{ provider: 'ecs' }] });
    expect(keptReason(app, 'pr-1')).toEqual({
      code: 'in-use',
      usedBy: expect.arrayContaining([{ provider: 'lambda', where: 'previewer:preview' }]),
    });
    expect(await pullFailures(ecrClient(server), 'team/app')).toEqual([]);
  });

  it('deletes nothing in the repositories a failing provider covers (a fault on ECS ListTasks), and says why', async () => {
    // Prepare
    await control(server, 'faults', { operation: 'ecs:ListTasks', serverErrorRate: 1 });
    const client = ecrClient(server);
    const before = await digestsIn(client, 'team/app');
    // Act
    const { app, lint } = await runNightly(config());
    // Assess: team/app, which ECS covers, is untouched; tools/lint, which only Lambda covers, is cleaned
    expect(await digestsIn(client, 'team/app')).toEqual(before);
    expect(app).toMatchObject({ status: 'in-use-unknown', counts: { toDelete: 0, deleted: 0 } });
    expect(app.message).toMatch(/ecs: .*nothing is deleted/);
    expect(keptReason(app, 'stale')).toMatchObject({ code: 'in-use-unknown' });
    expect(lint).toMatchObject({ status: 'completed', counts: { deleted: 2 } });
    const lintLeft = await digestsIn(client, 'tools/lint');
    expect([...lintLeft]).toEqual([digestOf('lint-pr-2')]);
  });

  it('makes no mutating call in dry run, and reports the images in use it would keep', async () => {
    // Act
    const { app } = await runNightly(config({ dryRun: true }));
    // Assess
    const { operations } = await control<{ operations: Record<string, number> }>(server, 'calls');
    expect(MUTATING_ECR_OPERATIONS.filter((operation) => operations[operation])).toEqual([]);
    expect(app).toMatchObject({ status: 'dry-run', counts: { toDelete: 7, deleted: 0 } });
    expect(keptReason(app, 'pinned')).toMatchObject({ code: 'in-use' });
    // The providers read ECS and Lambda, and only read
    expect(operations['ecs:ListTasks']).toBeGreaterThan(0);
    expect(operations['lambda:ListFunctions']).toBeGreaterThan(0);
    expect(Object.keys(operations).filter((name) => /^(ecs|lambda):(?!List|Describe|Get)/.test(name))).toEqual([]);
  });
});
