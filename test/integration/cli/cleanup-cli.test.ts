import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  type ECRClient,
  PutImageCommand,
  RegisterPullTimeUpdateExclusionCommand,
} from '@aws-sdk/client-ecr';
import {
  buildImageManifest,
  buildIndexManifest,
  MEDIA_TYPES,
  type RegistryServer,
  sha256,
} from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../../cli/commands/apply.ts';
import { shortDigest } from '../../../cli/commands/format.ts';
import { type CliIo, runCleanupCli } from '../../../cli/commands/main.ts';
import { makePlan } from '../../../cli/commands/plan.ts';
import { type PlanFile, planDocumentOf } from '../../../cli/commands/plan-file.ts';
import { runCleanup } from '../../../cli/commands/run.ts';
import { parseConfigText } from '../../../shared/config/load.ts';
import { createEcrClient, createEcrGateway } from '../../../shared/ecr/index.ts';
import type { PlanDocument } from '../../../shared/formats/plan-document.ts';
import { control, ecrClient, startTestRegistry, TEST_ACCOUNT, TEST_REGION } from '../../helpers/registry.ts';

const DAY_MS = 86_400_000;
/** The access key the CLI signs with in-process (vitest's env) and in the child process. */
const ACCESS_KEY = 'AKIDLOCALTEST';
/** ECR operations that only read: anything else the registry counts is a mutation. */
const READ_OPERATIONS = new Set(['DescribeRepositories', 'DescribeImages', 'BatchGetImage']);
const ACCEPTED_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** Kept byte for byte by the fixture, so a test can push it again with a new tag without pulling it first. */
const STALE_1_MANIFEST = buildImageManifest({ seed: 'cli-stale-1' });

/**
 * team/app: a tagged multi-arch release with a signature, an untagged stale index with its children, stale
 * untagged images (one signed), and images kept for being fresh, pulled or tagged. team/web: one stale image.
 * frozen/app: a disabled rule. misc/tool: no rule at all.
 */
const FIXTURE = {
  repositories: [
    {
      name: 'team/app',
      images: [
        { id: 'base-amd64', pushedAt: '-90d', architecture: 'amd64' },
        { id: 'base-arm64', pushedAt: '-90d', architecture: 'arm64' },
        { id: 'release', kind: 'index', children: ['base-amd64', 'base-arm64'], tags: ['v1'], pushedAt: '-90d' },
        { id: 'release-sig', kind: 'signature', subject: 'release', pushedAt: '-90d' },
        { id: 'stale-1', manifest: STALE_1_MANIFEST, pushedAt: '-90d' },
        { id: 'stale-1-sig', kind: 'signature', subject: 'stale-1', pushedAt: '-90d' },
        { id: 'stale-2', pushedAt: '-60d', lastPulledAt: '-45d' },
        { id: 'fresh', pushedAt: '-2d' },
        { id: 'pulled', pushedAt: '-90d', lastPulledAt: '-1d' },
        { id: 'legacy', tags: ['legacy'], pushedAt: '-200d' },
        { id: 'old-amd64', pushedAt: '-90d', architecture: 'amd64' },
        { id: 'old-arm64', pushedAt: '-90d', architecture: 'arm64' },
        { id: 'old-index', kind: 'index', children: ['old-amd64', 'old-arm64'], pushedAt: '-90d' },
      ],
    },
    {
      name: 'team/web',
      images: [
        { id: 'web-latest', tags: ['latest'], pushedAt: '-30d' },
        { id: 'web-stale', pushedAt: '-40d' },
        { id: 'web-fresh', pushedAt: '-1d' },
      ],
    },
    { name: 'frozen/app', images: [{ id: 'frozen-stale', pushedAt: '-90d' }] },
    { name: 'misc/tool', images: [{ id: 'misc-stale', pushedAt: '-90d' }] },
  ],
};

const CONFIG = {
  cleanup: {
    defaults: {
      olderThanDays: 14,
      notPulledForDays: 30,
      quietPeriodMinutes: 60,
      keepLatestUntagged: 0,
      maxDeleteFraction: 0.5,
      allowMassDelete: false,
    },
    rules: [{ repositories: ['team/**'] }, { repositories: ['frozen/**'], enabled: false }],
  },
};

/** What the rules select in FIXTURE, when this tool's own manifest reads count as pulls (ECR's default). */
const PLANNED = { 'team/app': ['stale-1', 'stale-1-sig', 'stale-2'], 'team/web': ['web-stale'] };

/**
 * What `run` deletes: it plans and deletes in one go, and a manifest read of its own within the run does not count
 * as a pull, so the stale untagged index goes too, with its children.
 */
const RUN_DELETES = [...PLANNED['team/app'], 'old-index', 'old-amd64', 'old-arm64', ...PLANNED['team/web']];

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

// Child processes (node with tsx, the AWS CLI, Python) start slowly on a loaded machine: a generous limit per test.
describe('npm run cleanup', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  let client: ECRClient;
  let dir: string;
  let configPath: string;
  let digestOf: Map<string, string>;

  const fileIn = (name: string) => join(dir, name);

  /** The CLI in this process, through the same `runCleanupCli` the entry point calls. */
  async function cli(
    args: string[],
    options: { interactive?: boolean; answer?: boolean; env?: NodeJS.ProcessEnv; maxAttempts?: number } = {},
  ): Promise<Outcome & { questions: string[] }> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const questions: string[] = [];
    const io: CliIo = {
      env: options.env ?? { ...process.env },
      stdout: (line) => stdout.push(line),
      stderr: (line) => stderr.push(line),
      interactive: options.interactive ?? false,
      confirm: async (question) => {
        questions.push(question);
        return options.answer ?? false;
      },
      connect: (target) => createEcrClient({ ...target, maxAttempts: options.maxAttempts ?? 1 }),
      now: () => Date.now(),
    };
    const code = await runCleanupCli(args, io);
    return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n'), questions };
  }

  /** The real entry point in a child process, as `npm run cleanup -- ...` runs it (standard input is a pipe). */
  function entry(args: string[]): Promise<Outcome> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'cli/cleanup.ts', ...args],
        {
          cwd: process.cwd(),
          timeout: 60_000,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            AWS_ACCESS_KEY_ID: ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY: 'local-secret',
            AWS_REGION: TEST_REGION,
            AWS_MAX_ATTEMPTS: '1',
            NODE_EXTRA_CA_CERTS: '',
            NODE_NO_WARNINGS: '1',
          },
        },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  const target = () => ['--endpoint-url', server.url, '--config', configPath];
  const digests = (ids: readonly string[]) => ids.map((id) => digestOf.get(id) ?? `missing fixture id ${id}`);

  async function digestsIn(repositoryName: string): Promise<string[]> {
    const response = await client.send(new DescribeImagesCommand({ repositoryName, maxResults: 1000 }));
    return (response.imageDetails ?? []).map((detail) => detail.imageDigest ?? '').sort();
  }

  async function registryCalls(): Promise<Record<string, number>> {
    return (await control<{ operations: Record<string, number> }>(server, 'calls')).operations;
  }

  /** Mutating ECR operations the registry served since `before` was read, with how many calls each. */
  async function mutatingCallsSince(before: Record<string, number>): Promise<Record<string, number>> {
    const after = await registryCalls();
    return Object.fromEntries(
      Object.entries(after)
        .filter(([operation]) => !READ_OPERATIONS.has(operation))
        .map(([operation, count]) => [operation, count - (before[operation] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    );
  }

  /** The index behind `tag` and every child it lists can be fetched: the image still resolves whole. */
  async function expectResolvesWhole(repositoryName: string, tag: string): Promise<void> {
    const index = await client.send(
      new BatchGetImageCommand({
        repositoryName,
        imageIds: [{ imageTag: tag }],
        acceptedMediaTypes: ACCEPTED_MEDIA_TYPES,
      }),
    );
    expect(index.failures ?? []).toEqual([]);
    const manifest = JSON.parse(index.images?.[0]?.imageManifest ?? '{}') as { manifests?: { digest: string }[] };
    const children = (manifest.manifests ?? []).map((descriptor) => descriptor.digest);
    expect(children.length).toBeGreaterThan(0);
    const fetched = await client.send(
      new BatchGetImageCommand({
        repositoryName,
        imageIds: children.map((imageDigest) => ({ imageDigest })),
        acceptedMediaTypes: ACCEPTED_MEDIA_TYPES,
      }),
    );
    expect(fetched.failures ?? []).toEqual([]);
    expect(fetched.images).toHaveLength(children.length);
  }

  async function planTo(name: string): Promise<PlanFile> {
    const outcome = await cli(['plan', ...target(), '--out', fileIn(name)]);
    expect(outcome.code).toBe(0);
    return readPlan(name);
  }

  const readPlan = (name: string) => JSON.parse(readFileSync(fileIn(name), 'utf8')) as PlanFile;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
    dir = mkdtempSync(join(tmpdir(), 'cleanup-cli-'));
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
    const loaded = await control<{ images: { id?: string; imageDigest: string }[] }>(server, 'load', FIXTURE);
    digestOf = new Map(loaded.images.map((image) => [image.id ?? image.imageDigest, image.imageDigest]));
  });

  describe('plan', () => {
    it('writes a decision for every image of each matched repository and deletes only untagged stale images', async () => {
      // Prepare
      const before = await registryCalls();
      const now = Date.now();

      // Act
      const outcome = await cli(['plan', ...target(), '--out', fileIn('plan.json')]);

      // Assess
      expect(outcome.code).toBe(0);
      const file = readPlan('plan.json');
      expect(file).toMatchObject({ version: 1, endpoint: server.url, region: TEST_REGION });
      expect(file.repositories.map((entry) => entry.repositoryName)).toEqual(['team/app', 'team/web']);
      for (const entry of file.repositories) {
        const decided = entry.plan.decisions.map((decision) => decision.digest).sort();
        expect(decided).toEqual(await digestsIn(entry.repositoryName));
        expect(entry.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
        const images = new Map(entry.images.map((image) => [image.digest, image]));
        for (const digest of entry.plan.toDelete) {
          const image = images.get(digest);
          expect(image?.tags).toEqual([]);
          expect(now - (image?.pushedAt ?? now)).toBeGreaterThan(14 * DAY_MS);
          expect(now - (image?.lastPulledAt ?? image?.pushedAt ?? now)).toBeGreaterThan(30 * DAY_MS);
        }
        const expected = digests(PLANNED[entry.repositoryName as keyof typeof PLANNED]);
        expect([...entry.plan.toDelete].sort()).toEqual([...expected].sort());
      }
      expect(outcome.stdout).toContain('DIGEST');
      expect(outcome.stdout).toMatch(
        new RegExp(`${shortDigest(digestOf.get('stale-2') ?? '')}\\s+-\\s+delete\\s+stale-untagged \\(pushed 60d ago`),
      );
      expect(outcome.stdout).toContain('Plan: 2 of 4 repositories, 16 images, 4 to delete');
      expect(await mutatingCallsSince(before)).toEqual({});
    });

    it("keeps a stale untagged index as recently pulled when the plan's own manifest read counts as a pull, and says so", async () => {
      // Prepare
      const index = digestOf.get('old-index') ?? '';

      // Act
      const outcome = await cli(['plan', ...target(), '--out', fileIn('plan.json')]);

      // Assess
      const app = readPlan('plan.json').repositories.find((entry) => entry.repositoryName === 'team/app');
      const decision = app?.plan.decisions.find((candidate) => candidate.digest === index);
      expect(decision).toMatchObject({ action: 'keep', reason: { code: 'recently-pulled' } });
      expect(outcome.stdout).toContain(`team/app: 1 index(es) kept as recently pulled (${shortDigest(index)})`);
    });

    it('reports a nested index kept because its parent is kept as child-of-kept-index, not as recently pulled', async () => {
      // Prepare: a tagged index → an untagged nested index → an image, all stale; the plan's own read of the nested
      // index's manifest is recorded as a pull.
      const loaded = await control<{ images: { id?: string; imageDigest: string }[] }>(server, 'load', {
        repositories: [
          {
            name: 'team/nested',
            images: [
              { id: 'leaf', pushedAt: '-90d' },
              { id: 'nested', kind: 'index', children: ['leaf'], pushedAt: '-90d' },
              { id: 'top', kind: 'index', children: ['nested'], tags: ['v2'], pushedAt: '-90d' },
            ],
          },
        ],
      });
      const digestIn = (id: string) => loaded.images.find((image) => image.id === id)?.imageDigest ?? '';
      const [top, nested, leaf] = [digestIn('top'), digestIn('nested'), digestIn('leaf')];

      // Act
      const outcome = await cli(['plan', ...target(), '--out', fileIn('nested.json'), '--repository', 'team/nested']);

      // Assess
      expect(outcome.code).toBe(0);
      const decisions = readPlan('nested.json').repositories[0]?.plan.decisions ?? [];
      const reasonOf = (digest: string) => decisions.find((decision) => decision.digest === digest)?.reason;
      expect(reasonOf(top)).toMatchObject({ code: 'tagged' });
      expect(reasonOf(nested)).toEqual({ code: 'child-of-kept-index', via: top });
      expect(reasonOf(leaf)).toEqual({ code: 'child-of-kept-index', via: nested });
      expect(outcome.stderr).not.toContain('kept as recently pulled');
    });

    it('prints the plan document with --json and writes the plan file, through the entry point', async () => {
      // Prepare
      const out = fileIn('plan-json.json');

      // Act
      const outcome = await entry(['plan', ...target(), '--out', out, '--json']);

      // Assess
      expect(outcome.code).toBe(0);
      const printed = JSON.parse(outcome.stdout) as PlanDocument;
      const file = JSON.parse(readFileSync(out, 'utf8')) as PlanFile;
      expect(printed).toEqual(planDocumentOf(file, printed.notes));
      expect(printed.format_version).toBe('1.0');
      expect(new Set(printed.resource_changes.map((change) => change.repository))).toEqual(
        new Set(['team/app', 'team/web']),
      );
      expect(outcome.stderr).toContain('Plan: 2 of 4 repositories');
    });

    it('narrows to --repository globs and names the selected repositories no rule enables', async () => {
      // Act
      const outcome = await cli([
        'plan',
        ...target(),
        '--out',
        fileIn('narrow.json'),
        '--repository',
        'team/web',
        '--repository',
        'frozen/*',
      ]);

      // Assess
      expect(outcome.code).toBe(0);
      expect(readPlan('narrow.json').repositories.map((entry) => entry.repositoryName)).toEqual(['team/web']);
      expect(outcome.stdout).toContain('frozen/app: matches --repository but no enabled cleanup rule; not planned');
    });
  });

  describe('apply', () => {
    it('deletes exactly the planned digests of an unchanged plan, and every tagged index still resolves whole', async () => {
      // Prepare
      const file = await planTo('plan.json');
      const before = {
        app: await digestsIn('team/app'),
        web: await digestsIn('team/web'),
        frozen: await digestsIn('frozen/app'),
      };
      const planned = new Set(file.repositories.flatMap((entry) => entry.plan.toDelete));

      // Act
      const outcome = await cli(['apply', fileIn('plan.json'), '--yes']);

      // Assess
      expect(outcome.code).toBe(0);
      expect(await digestsIn('team/app')).toEqual(before.app.filter((digest) => !planned.has(digest)));
      expect(await digestsIn('team/web')).toEqual(before.web.filter((digest) => !planned.has(digest)));
      expect(await digestsIn('frozen/app')).toEqual(before.frozen);
      await expectResolvesWhole('team/app', 'v1');
      expect(outcome.stdout).toContain('Applied: deleted 4 images');
      expect(outcome.stdout).toContain(`deleted  ${shortDigest(digestOf.get('stale-1') ?? '')}  stale-untagged`);
      expect((await registryCalls()).BatchDeleteImage).toBeGreaterThan(0);
    });

    it('deletes a stale untagged index before its children when the principal is excluded from pull-time updates', async () => {
      // Prepare
      await client.send(
        new RegisterPullTimeUpdateExclusionCommand({ principalArn: `arn:aws:iam::${TEST_ACCOUNT}:user/${ACCESS_KEY}` }),
      );
      const file = await planTo('plan.json');
      const toDelete = file.repositories.find((entry) => entry.repositoryName === 'team/app')?.plan.toDelete ?? [];
      const [index, amd64, arm64] = digests(['old-index', 'old-amd64', 'old-arm64']);

      // Act
      const outcome = await cli(['apply', fileIn('plan.json'), '--yes']);

      // Assess
      expect(toDelete).toEqual(expect.arrayContaining([index, amd64, arm64]));
      expect(toDelete.indexOf(index ?? '')).toBeLessThan(toDelete.indexOf(amd64 ?? ''));
      expect(toDelete.indexOf(index ?? '')).toBeLessThan(toDelete.indexOf(arm64 ?? ''));
      expect(outcome.code).toBe(0);
      expect(await digestsIn('team/app')).not.toEqual(expect.arrayContaining([index]));
      await expectResolvesWhole('team/app', 'v1');
    });

    it('refuses the whole plan when a planned image gained a tag, names the change and deletes nothing', async () => {
      // Prepare
      await planTo('plan.json');
      const stale1 = digestOf.get('stale-1') ?? '';
      await client.send(
        new PutImageCommand({ repositoryName: 'team/app', imageManifest: STALE_1_MANIFEST, imageTag: 'rescued' }),
      );
      const web = await digestsIn('team/web');

      // Act
      const outcome = await cli(['apply', fileIn('plan.json'), '--yes']);

      // Assess
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain('Refused: 1 repository has changed since the plan was made');
      expect(outcome.stderr).toContain(`tags changed: ${shortDigest(stale1)} [] → [rescued]`);
      expect(outcome.stderr).toContain('nothing was deleted in any repository');
      expect((await registryCalls()).BatchDeleteImage).toBeUndefined();
      expect(await digestsIn('team/web')).toEqual(web);
    });

    it('refuses a plan when a planned image was pulled since, naming the pull', async () => {
      // Prepare
      await planTo('plan.json');
      const stale2 = digestOf.get('stale-2') ?? '';
      await control(server, 'image-times', { repositoryName: 'team/app', imageDigest: stale2, lastPulledAt: '-1h' });

      // Act
      const outcome = await cli(['apply', fileIn('plan.json'), '--yes']);

      // Assess
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toMatch(new RegExp(`pulled since: ${shortDigest(stale2)} last pull \\S+ → \\S+`));
      expect((await registryCalls()).BatchDeleteImage).toBeUndefined();
      expect(await digestsIn('team/app')).toContain(stale2);
    });

    it('refuses without --yes when standard input is not a terminal, before any ECR call', async () => {
      // Prepare
      await planTo('plan.json');
      const before = await control<{ total: number }>(server, 'calls');

      // Act
      const outcome = await cli(['apply', fileIn('plan.json')]);

      // Assess
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toContain('standard input is not a terminal');
      expect(outcome.stderr).toContain('--yes');
      expect((await control<{ total: number }>(server, 'calls')).total).toBe(before.total);
    });

    it('asks on a terminal and deletes nothing when the answer is no', async () => {
      // Prepare
      await planTo('plan.json');
      const before = await digestsIn('team/app');

      // Act
      const outcome = await cli(['apply', fileIn('plan.json')], { interactive: true, answer: false });

      // Assess
      expect(outcome.code).toBe(1);
      expect(outcome.questions).toEqual(['Delete 4 images in 2 repositories?']);
      expect(outcome.stderr).toContain('Not applied: nothing was deleted.');
      expect(await digestsIn('team/app')).toEqual(before);
    });

    it('refuses to apply a plan in another region than the one it was made in', async () => {
      // Prepare
      await planTo('plan.json');

      // Act
      const outcome = await cli(['apply', fileIn('plan.json'), '--yes', '--region', 'eu-west-1']);

      // Assess
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toContain('The plan was made in region us-east-1; this apply would work in eu-west-1');
    });
  });

  describe('run', () => {
    it('makes no mutating call and deletes nothing with --dry-run', async () => {
      // Prepare
      const before = await digestsIn('team/app');
      const calls = await registryCalls();

      // Act
      const outcome = await cli(['run', ...target(), '--dry-run']);

      // Assess
      expect(outcome.code).toBe(0);
      expect(await mutatingCallsSince(calls)).toEqual({});
      expect(await digestsIn('team/app')).toEqual(before);
      expect(outcome.stdout).toContain('dry run, nothing is deleted');
      expect(outcome.stdout).toMatch(
        /Dry run: 2 of 4 repositories, \d+ images would be deleted .*; nothing was deleted\./,
      );
      expect(outcome.stderr).toContain(
        `note: team/app: this dry run read the manifests of 1 index(es) it would delete (${shortDigest(digestOf.get('old-index') ?? '')})`,
      );
    });

    it('says nothing of recorded pulls after a dry run when the principal is excluded from pull-time updates', async () => {
      // Prepare
      await client.send(
        new RegisterPullTimeUpdateExclusionCommand({ principalArn: `arn:aws:iam::${TEST_ACCOUNT}:user/${ACCESS_KEY}` }),
      );

      // Act
      const outcome = await cli(['run', ...target(), '--dry-run']);

      // Assess
      expect(outcome.code).toBe(0);
      expect(outcome.stdout).toMatch(/Dry run: 2 of 4 repositories/);
      expect(outcome.stderr).not.toContain('this dry run read the manifests');
      expect(outcome.stderr).not.toContain('recently pulled');
    });

    it("counts the SDK's re-sends of throttled calls in its ECR calls, as the registry counts them", async () => {
      // Prepare: every second DescribeImages is throttled, and the SDK re-sends it.
      await control(server, 'faults', { operation: 'DescribeImages', throttleRate: 0.5 });
      const before = await registryCalls();

      // Act
      const outcome = await cli(['run', ...target(), '--dry-run'], { maxAttempts: 3 });

      // Assess
      expect(outcome.code).toBe(0);
      const printed = /^ECR calls: (.*)$/m.exec(outcome.stdout)?.[1] ?? '';
      const counted = Object.fromEntries(
        printed.split(', ').map((entry) => {
          const [operation, count] = entry.split(' ');
          return [operation, Number(count)];
        }),
      );
      const after = await registryCalls();
      const served = Object.fromEntries(
        Object.entries(after)
          .map(([operation, count]) => [operation, count - (before[operation] ?? 0)] as const)
          .filter(([, count]) => count > 0),
      );
      // One page per planned repository (2), and the re-send of the throttled one.
      expect(served.DescribeImages).toBeGreaterThanOrEqual(3);
      expect(counted).toEqual(served);
    });

    it('plans and applies in one go with --yes', async () => {
      // Prepare
      const planned = new Set(digests(RUN_DELETES));
      const before = [...(await digestsIn('team/app')), ...(await digestsIn('team/web'))];

      // Act
      const outcome = await cli(['run', ...target(), '--yes']);

      // Assess
      expect(outcome.code).toBe(0);
      const after = [...(await digestsIn('team/app')), ...(await digestsIn('team/web'))];
      expect(after.sort()).toEqual(before.filter((digest) => !planned.has(digest)).sort());
      await expectResolvesWhole('team/app', 'v1');
      expect(outcome.stdout).toContain('Run: 2 of 4 repositories, deleted 7 images');
    });
  });

  describe('commands called directly', () => {
    it('plans with makePlan and carries the plan out with applyPlan', async () => {
      // Prepare
      const config = parseConfigText(JSON.stringify(CONFIG), 'test config');
      const lines: string[] = [];
      const deps = {
        now: Date.now(),
        out: (line: string) => lines.push(line),
        err: (line: string) => lines.push(line),
      };

      // Act
      const { file } = await makePlan(
        { ...deps, gateway: createEcrGateway(client, { readOnly: true }), config },
        { repositories: ['team/web'], target: { endpoint: server.url, region: TEST_REGION } },
      );
      const result = await applyPlan(
        { ...deps, gateway: createEcrGateway(client), interactive: false, confirm: async () => false },
        { file, source: '(memory)', yes: true },
      );

      // Assess
      expect(result.exitCode).toBe(0);
      expect(result.applied).toEqual([
        expect.objectContaining({ repositoryName: 'team/web', deleted: digests(PLANNED['team/web']), failed: [] }),
      ]);
      expect(await digestsIn('team/web')).not.toContain(digestOf.get('web-stale'));
    });

    it('keeps, with apply, a planned image that an index pushed after the check lists, and names the index', async () => {
      // Prepare: a plan deleting web-stale; just before apply deletes (the act's listing, which is also its re-read
      // of the candidates: the second listing, after apply's check of the plan), someone pushes a tagged index
      // listing web-stale. The plan's graph cannot know that index: the act's look at new pushes does.
      const config = parseConfigText(JSON.stringify(CONFIG), 'test config');
      const lines: string[] = [];
      const deps = {
        now: Date.now(),
        out: (line: string) => lines.push(line),
        err: (line: string) => lines.push(line),
      };
      const { file } = await makePlan(
        { ...deps, gateway: createEcrGateway(client, { readOnly: true }), config },
        { repositories: ['team/web'], target: { endpoint: server.url, region: TEST_REGION } },
      );
      const webStale = digestOf.get('web-stale') ?? '';
      const gateway = createEcrGateway(client);
      let index = '';
      let listings = 0;
      const pushing: typeof gateway = {
        ...gateway,
        async *listImages(repositoryName, options) {
          if (repositoryName === 'team/web' && ++listings === 2) {
            // Not read with BatchGetImage, which would record a pull (and the act would keep it for that).
            index = buildIndexManifest([{ mediaType: MEDIA_TYPES.ociManifest, digest: webStale, size: 1 }]);
            await client.send(
              new PutImageCommand({
                repositoryName: 'team/web',
                imageManifest: index,
                imageManifestMediaType: MEDIA_TYPES.ociIndex,
                imageTag: 'v2',
              }),
            );
          }
          yield* gateway.listImages(repositoryName, options);
        },
      };

      // Act
      const result = await applyPlan(
        { ...deps, gateway: pushing, interactive: false, confirm: async () => false },
        { file, source: '(memory)', yes: true },
      );

      // Assess
      expect(result.exitCode).toBe(0);
      expect(result.applied).toEqual([
        expect.objectContaining({
          repositoryName: 'team/web',
          deleted: [],
          changes: [{ digest: webStale, reason: { code: 'new-parent', via: sha256(index) } }],
        }),
      ]);
      expect(await digestsIn('team/web')).toContain(webStale);
      expect(lines).toContain(
        `  kept     ${shortDigest(webStale)}  changed since the plan: listed by ${shortDigest(sha256(index))}, pushed since`,
      );
    });

    it('names the digest that run kept because it gained a tag between planning and deleting', async () => {
      // Prepare: the re-read just before deleting (the act's listing, the run's second of team/app) finds stale-1
      // tagged.
      const config = parseConfigText(JSON.stringify(CONFIG), 'test config');
      const lines: string[] = [];
      const gateway = createEcrGateway(client);
      let listings = 0;
      const tagging: typeof gateway = {
        ...gateway,
        async *listImages(repositoryName, options) {
          if (repositoryName === 'team/app' && ++listings === 2) {
            await client.send(
              new PutImageCommand({ repositoryName, imageManifest: STALE_1_MANIFEST, imageTag: 'rescued' }),
            );
          }
          yield* gateway.listImages(repositoryName, options);
        },
      };
      const stale1 = digestOf.get('stale-1') ?? '';

      // Act
      const result = await runCleanup(
        {
          gateway: tagging,
          config,
          now: Date.now(),
          out: (line) => lines.push(line),
          err: (line) => lines.push(line),
          interactive: false,
          confirm: async () => false,
        },
        { repositories: ['team/app'], dryRun: false, yes: true },
      );

      // Assess
      expect(result.exitCode).toBe(0);
      expect(await digestsIn('team/app')).toContain(stale1);
      expect(lines).toContain(
        `  kept     ${shortDigest(stale1)}  gained a tag or a pull between planning and deleting: kept, with what it protects`,
      );
    });
  });

  describe('bad input', () => {
    const writePlan = (name: string, content: unknown) => {
      writeFileSync(fileIn(name), typeof content === 'string' ? content : JSON.stringify(content));
      return fileIn(name);
    };

    it.each([
      { case: 'an unknown flag', args: () => ['plan', '--bogus'], message: "plan: Unknown option '--bogus'" },
      { case: 'an unknown command', args: () => ['prune'], message: 'Unknown command "prune"' },
      { case: 'no command', args: () => [], message: 'Usage: npm run cleanup' },
      { case: 'a stray argument', args: () => ['plan', 'extra'], message: 'plan takes no arguments, got "extra"' },
      { case: 'apply without a file', args: () => ['apply', '--yes'], message: 'apply needs the plan file' },
      {
        case: 'a missing plan file',
        args: () => ['apply', fileIn('nowhere.json'), '--yes'],
        message: 'Cannot read plan file',
      },
      {
        case: 'a plan file that is not JSON',
        args: () => ['apply', writePlan('garbage.json', '{"version": 1,'), '--yes'],
        message: 'is not a plan file: not JSON',
      },
      {
        case: 'a plan file of another version',
        args: () => ['apply', writePlan('v2.json', { version: 2, repositories: [] }), '--yes'],
        message: 'is a version 2 plan file, newer than version 1, which ecr-automation',
      },
      {
        case: 'a plan file missing fields',
        args: () => [
          'apply',
          writePlan('partial.json', {
            version: 1,
            createdAt: new Date().toISOString(),
            region: TEST_REGION,
            repositories: [{ repositoryName: 'team/app' }],
          }),
          '--yes',
        ],
        message: 'repositories[0].fingerprint',
      },
      {
        case: 'an invalid endpoint',
        args: () => ['plan', '--endpoint-url', 'not a url'],
        message: 'is not an http(s) URL',
      },
    ])('rejects $case with exit code 2 and a message, without a stack trace', async ({ args, message }) => {
      // Act
      const outcome = await cli(args());

      // Assess
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toContain(message);
      expect(outcome.stderr).not.toMatch(/^\s+at /m);
    });

    it('rejects a plan file whose images were edited after planning', async () => {
      // Prepare
      const file = await planTo('plan.json');
      const [first] = file.repositories;
      if (first) first.images = first.images.slice(1);
      writePlan('edited.json', file);

      // Act
      const outcome = await cli(['apply', fileIn('edited.json'), '--yes']);

      // Assess
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toContain('the saved images do not hash to the saved fingerprint');
    });

    it('rejects a run without a region', async () => {
      // Prepare
      const { AWS_REGION: _region, AWS_DEFAULT_REGION: _default, AWS_PROFILE: _profile, ...env } = process.env;
      const none = {
        ...env,
        AWS_CONFIG_FILE: fileIn('no-config'),
        AWS_SHARED_CREDENTIALS_FILE: fileIn('no-credentials'),
      };

      // Act
      const outcome = await cli(['run', ...target(), '--dry-run'], { env: none });

      // Assess
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toContain('error: No AWS region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)');
    });

    it('names the bad fields of an invalid config, through the entry point', async () => {
      // Prepare
      const bad = fileIn('bad-config.json');
      writeFileSync(bad, JSON.stringify({ cleanup: { defaults: { olderThanDays: -1 }, rule: [] } }));

      // Act
      const outcome = await entry(['plan', '--endpoint-url', server.url, '--config', bad, '--out', fileIn('x.json')]);

      // Assess
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toContain(`error: Invalid ${bad}:`);
      expect(outcome.stderr).toContain('cleanup.defaults.olderThanDays');
      expect(outcome.stderr).toContain('cleanup: Unrecognized key: "rule"');
      expect(outcome.stderr).not.toMatch(/^\s+at /m);
    });

    it('rejects an unknown flag with exit code 2, through the entry point', async () => {
      // Act
      const outcome = await entry(['apply', 'plan.json', '--force']);

      // Assess
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toContain("apply: Unknown option '--force'");
      expect(outcome.stderr).toContain('See: npm run cleanup -- apply --help');
      expect(outcome.stdout).toBe('');
    });
  });

  describe('help', () => {
    it.each([
      ['--help', 'Usage: npm run cleanup -- <command>'],
      ['plan --help', 'Usage: npm run cleanup -- plan'],
      ['apply -h', 'Usage: npm run cleanup -- apply <plan.json>'],
      ['help run', 'Usage: npm run cleanup -- run'],
    ])('prints help for "%s" and exits 0', async (args, usage) => {
      // Act
      const outcome = await cli(args.split(' '));

      // Assess
      expect(outcome.code).toBe(0);
      expect(outcome.stdout).toContain(usage);
    });
  });
});
