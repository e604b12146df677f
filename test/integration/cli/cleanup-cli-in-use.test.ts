import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { shortDigest } from '../../../cli/commands/format.ts';
import { runCleanupCli } from '../../../cli/commands/main.ts';
import type { PlanFile } from '../../../cli/commands/plan-file.ts';
import { digestsIn, loadFixture, MUTATING_ECR_OPERATIONS } from '../../helpers/cleanup.ts';
import { runInProcess } from '../../helpers/cli.ts';
import { control, ecrClient, startTestRegistry, TEST_ACCOUNT, TEST_REGION } from '../../helpers/registry.ts';

const HOST = `${TEST_ACCOUNT}.dkr.ecr.${TEST_REGION}.amazonaws.com`;

/**
 * team/app: a protected release, main and pull request builds, an untagged build an ECS service (and its task) runs
 * by digest, a pull request build a Lambda alias runs, and a stale untagged build. tools/lint, which only the Lambda
 * provider covers: a released pull request build and a stale untagged one.
 */
const FIXTURE: Fixture = {
  resolve: true,
  repositories: [
    {
      name: 'team/app',
      images: [
        { id: 'v1.0.0', tags: ['v1.0.0'], pushedAt: '-300d' },
        { id: 'main-1', tags: ['main-1'], pushedAt: '-90d' },
        { id: 'main-2', tags: ['main-2'], pushedAt: '-60d' },
        { id: 'main-3', tags: ['main-3'], pushedAt: '-20d' },
        { id: 'pr-1', tags: ['pr-1'], pushedAt: '-80d' },
        { id: 'pr-2', tags: ['pr-2'], pushedAt: '-40d' },
        { id: 'pr-3', tags: ['pr-3'], pushedAt: '-2d' },
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
    ],
    clusters: [
      {
        name: 'prod',
        services: [{ name: 'api', taskDefinition: 'api:1', desiredCount: 1 }],
        tasks: [{ service: 'api', startedAt: '-3d' }],
      },
    ],
  },
  lambda: {
    functions: [
      {
        name: 'previewer',
        imageUri: `${HOST}/team/app:v1.0.0`,
        versions: [{ imageUri: `${HOST}/team/app:pr-1` }],
        aliases: [{ name: 'preview', version: '1' }],
      },
    ],
  },
};

const CONFIG = {
  cleanup: {
    rules: [
      {
        repositories: ['team/**', 'tools/**'],
        olderThanDays: 14,
        notPulledForDays: 30,
        maxDeleteFraction: 1,
        maxTaggedDeleteFraction: 1,
        tagSelections: [
          { tags: [{ form: 'semver' }], protect: true },
          { tags: ['main-*'], keepLast: 2 },
          { tags: ['pr-*'], keepLast: 1, keepNewerThanDays: 7 },
        ],
      },
    ],
    inUse: { cacheSeconds: 0, ecs: { repositories: ['team/**'] }, lambda: {} },
  },
};

/** What the rules release or find stale, less what runs. */
const DELETED = { 'team/app': ['main-1', 'pr-2', 'stale'], 'tools/lint': ['lint-pr-1', 'lint-stale'] };
const KEPT = { 'team/app': ['v1.0.0', 'main-2', 'main-3', 'pr-1', 'pr-3', 'pinned'], 'tools/lint': ['lint-pr-2'] };

describe('npm run cleanup keeps what runs (cleanup.inUse), as the worker does', { timeout: 60_000 }, () => {
  let server: RegistryServer;
  let client: ECRClient;
  let dir: string;
  let configPath: string;
  let digestOf: Map<string, string>;

  const fileIn = (name: string) => join(dir, name);
  const digest = (id: string) => digestOf.get(id) ?? `missing fixture id ${id}`;
  const target = () => ['--endpoint-url', server.url, '--config', configPath];

  /** The CLI in this process; no AWS_ENDPOINT_URL* variable, so the in-use clients go where the ECR endpoint is. */
  const cli = (args: string[]) => runInProcess(runCleanupCli, args);

  async function left(): Promise<Record<string, Set<string>>> {
    return {
      'team/app': await digestsIn(client, 'team/app'),
      'tools/lint': await digestsIn(client, 'tools/lint'),
    };
  }

  async function operations(): Promise<Record<string, number>> {
    return (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;
  }

  const readPlan = (name: string) => JSON.parse(readFileSync(fileIn(name), 'utf8')) as PlanFile;
  const reasonIn = (file: PlanFile, repositoryName: string, id: string) =>
    file.repositories
      .find((entry) => entry.repositoryName === repositoryName)
      ?.plan.decisions.find((decision) => decision.digest === digest(id))?.reason;

  /** A workload that starts after the plan: an ECS task in a new cluster, running `image` by digest. */
  const startTask = (image: string) =>
    loadFixture(server, {
      ecs: {
        taskDefinitions: [{ family: 'batch', containers: [{ name: 'batch', image: `${HOST}/team/app@${image}` }] }],
        clusters: [{ name: 'batch', tasks: [{ taskDefinition: 'batch:1', startedAt: '-1m' }] }],
      },
    } as Fixture);

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
    dir = mkdtempSync(join(tmpdir(), 'cleanup-cli-in-use-'));
    configPath = fileIn('config.json');
    writeFileSync(configPath, JSON.stringify(CONFIG));
  });

  afterAll(async () => {
    client.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    server.reset();
    const loaded = await loadFixture(server, FIXTURE);
    digestOf = new Map(loaded.images.map((image) => [image.id ?? image.imageDigest, image.imageDigest]));
  });

  it('plan keeps the image ECS runs by digest and the one a Lambda alias runs, saying where, in the tables and the file', async () => {
    // Act
    const outcome = await cli(['plan', ...target(), '--out', fileIn('plan.json')]);

    // Assess
    expect(outcome.code).toBe(0);
    const file = readPlan('plan.json');
    expect(reasonIn(file, 'team/app', 'pinned')).toEqual({
      code: 'in-use',
      usedBy: expect.arrayContaining([{ provider: 'ecs', where: 'prod/api' }]),
    });
    expect(reasonIn(file, 'team/app', 'pr-1')).toEqual({
      code: 'in-use',
      usedBy: expect.arrayContaining([{ provider: 'lambda', where: 'previewer:preview' }]),
    });
    for (const [repositoryName, ids] of Object.entries(DELETED)) {
      const entry = file.repositories.find((candidate) => candidate.repositoryName === repositoryName);
      expect([...(entry?.plan.toDelete ?? [])].sort()).toEqual(ids.map(digest).sort());
    }
    expect(outcome.stdout).toMatch(
      new RegExp(`${shortDigest(digest('pinned'))}\\s+-\\s+keep\\s+in-use \\(.*ecs prod/api`),
    );
    expect(outcome.stdout).toMatch(
      new RegExp(`${shortDigest(digest('pr-1'))}\\s+pr-1\\s+keep\\s+in-use \\(.*lambda previewer:preview`),
    );
    expect(outcome.stderr).toMatch(
      new RegExp(`in use: \\d+ image references \\(ecs \\d+, lambda \\d+\\) read from ${server.url}`),
    );
  });

  it('run --yes deletes exactly the released and stale images and keeps what runs', async () => {
    // Act
    const outcome = await cli(['run', ...target(), '--yes']);

    // Assess
    expect(outcome.code).toBe(0);
    const after = await left();
    for (const [repositoryName, ids] of Object.entries(KEPT)) {
      expect([...(after[repositoryName] ?? [])].sort(), repositoryName).toEqual(ids.map(digest).sort());
    }
    expect(outcome.stdout).toContain('deleted 5 images');
  });

  it('run --dry-run reads what runs, keeps it in the preview and makes no mutating ECR call', async () => {
    // Prepare
    const before = await left();

    // Act
    const outcome = await cli(['run', ...target(), '--dry-run']);

    // Assess
    expect(outcome.code).toBe(0);
    const calls = await operations();
    expect(MUTATING_ECR_OPERATIONS.filter((operation) => calls[operation])).toEqual([]);
    expect(Object.keys(calls).filter((name) => /^(ecs|lambda):(?!List|Describe|Get)/.test(name))).toEqual([]);
    expect(calls['ecs:ListTasks']).toBeGreaterThan(0);
    expect(calls['lambda:ListFunctions']).toBeGreaterThan(0);
    expect(await left()).toEqual(before);
    expect(outcome.stdout).toMatch(new RegExp(`${shortDigest(digest('pinned'))}\\s+-\\s+keep\\s+in-use \\(`));
    expect(outcome.stdout).toContain('5 images would be deleted');
  });

  it('run --yes deletes nothing where a failing provider looks (a fault on ECS ListTasks), and says why', async () => {
    // Prepare
    await control(server, 'faults', { operation: 'ecs:ListTasks', serverErrorRate: 1 });
    const before = await left();

    // Act
    const outcome = await cli(['run', ...target(), '--yes']);

    // Assess: team/app, which ECS covers, is untouched; tools/lint, which only Lambda covers, is cleaned
    expect(outcome.code).toBe(0);
    const after = await left();
    expect(after['team/app']).toEqual(before['team/app']);
    expect([...(after['tools/lint'] ?? [])]).toEqual([digest('lint-pr-2')]);
    expect(outcome.stderr).toMatch(/in use: .*FAILED ecs: /);
    expect(outcome.stderr).toMatch(/note: team\/app: every image kept: what runs could not be read \(ecs: /);
    expect(outcome.stdout).toContain('team/app  rule #0, in-use-unknown');
  });

  it('reads what runs at --in-use-endpoint-url when given, and keeps everything the providers cover when it fails there', async () => {
    // Prepare: a loopback port nothing listens on
    const nowhere = 'http://127.0.0.1:9';

    // Act
    const outcome = await cli(['plan', ...target(), '--in-use-endpoint-url', nowhere, '--out', fileIn('plan.json')]);

    // Assess
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toContain(`read from ${nowhere}; FAILED ecs: `);
    const file = readPlan('plan.json');
    for (const entry of file.repositories) expect(entry.plan.toDelete, entry.repositoryName).toEqual([]);
    expect(reasonIn(file, 'tools/lint', 'lint-stale')).toMatchObject({ code: 'in-use-unknown' });
    expect(outcome.stdout).toMatch(/note: tools\/lint: every image kept: what runs could not be read \(lambda: /);
  });

  it('refuses an --in-use-endpoint-url that is not an http(s) URL (exit 2)', async () => {
    // Act
    const outcome = await cli(['run', ...target(), '--dry-run', '--in-use-endpoint-url', 'ftp://example']);

    // Assess
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('--in-use-endpoint-url "ftp://example" is not an http(s) URL');
  });

  describe('apply', () => {
    it('carries out the plan when what runs is as planned', async () => {
      // Prepare
      expect((await cli(['plan', ...target(), '--out', fileIn('plan.json')])).code).toBe(0);

      // Act
      const outcome = await cli(['apply', fileIn('plan.json'), '--yes', '--config', configPath]);

      // Assess
      expect(outcome.code).toBe(0);
      const after = await left();
      for (const [repositoryName, ids] of Object.entries(KEPT)) {
        expect([...(after[repositoryName] ?? [])].sort(), repositoryName).toEqual(ids.map(digest).sort());
      }
    });

    it('refuses the whole plan, deleting nothing anywhere, when a workload starts on an image it deletes', async () => {
      // Prepare
      expect((await cli(['plan', ...target(), '--out', fileIn('plan.json')])).code).toBe(0);
      await startTask(digest('stale'));
      const before = await left();

      // Act
      const outcome = await cli(['apply', fileIn('plan.json'), '--yes', '--config', configPath]);

      // Assess
      expect(outcome.code).toBe(1);
      expect(await left()).toEqual(before);
      expect(outcome.stderr).toContain('Refused: images the plan deletes now run in 1 repository;');
      expect(outcome.stderr).toContain('nothing was deleted in any repository');
      expect(outcome.stderr).toContain('team/app: 1 image the plan deletes now in use');
      expect(outcome.stderr).toMatch(new RegExp(`${digest('stale')} in use: ecs batch/`));
    });

    it('refuses the whole plan, deleting nothing anywhere, when a provider fails at apply time', async () => {
      // Prepare
      expect((await cli(['plan', ...target(), '--out', fileIn('plan.json')])).code).toBe(0);
      await control(server, 'faults', { operation: 'ecs:ListTasks', serverErrorRate: 1 });
      const before = await left();

      // Act
      const outcome = await cli(['apply', fileIn('plan.json'), '--yes', '--config', configPath]);

      // Assess: tools/lint, which ECS does not cover, is not touched either: the plan is refused as a whole
      expect(outcome.code).toBe(1);
      expect(await left()).toEqual(before);
      expect(outcome.stderr).toContain(
        'Refused: what runs could not be read for 1 repository with deletions; nothing was deleted in any repository.',
      );
      expect(outcome.stderr).toMatch(/team\/app: what runs could not be read \(ecs: /);
      expect(outcome.stderr).not.toMatch(/tools\/lint: /);
    });
  });
});
