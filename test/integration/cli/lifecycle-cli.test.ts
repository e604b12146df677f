import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ECRClient, PutLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { shortDigest } from '../../../cli/commands/format.ts';
import { runLifecycleCli } from '../../../cli/commands/lifecycle.ts';
import { loadFixture, MUTATING_ECR_OPERATIONS } from '../../helpers/cleanup.ts';
import { runInProcess } from '../../helpers/cli.ts';
import { control, ecrClient, startTestRegistry } from '../../helpers/registry.ts';

/**
 * team/app: a signed multi-architecture release (v1.0.0, its two platform images and an OCI signature), an untagged
 * build an ECS service runs by digest, and a stale untagged build; all pushed 100 days ago.
 */
const FIXTURE: Fixture = {
  resolve: true,
  repositories: [
    {
      name: 'team/app',
      images: [
        { id: 'v1-amd64', architecture: 'amd64', pushedAt: '-100d' },
        { id: 'v1-arm64', architecture: 'arm64', pushedAt: '-100d' },
        { id: 'v1', kind: 'index', children: ['v1-amd64', 'v1-arm64'], tags: ['v1.0.0'], pushedAt: '-100d' },
        { id: 'v1-sig', kind: 'signature', subject: 'v1', pushedAt: '-100d' },
        { id: 'pinned', pushedAt: '-100d' },
        { id: 'stale', pushedAt: '-100d' },
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
};

const CONFIG = {
  cleanup: {
    rules: [
      {
        repositories: ['team/**'],
        olderThanDays: 14,
        notPulledForDays: 30,
        maxDeleteFraction: 1,
        maxTaggedDeleteFraction: 1,
      },
    ],
    inUse: { cacheSeconds: 0, ecs: { repositories: ['team/**'] } },
  },
};

/** ECR's native policy many repositories carry: everything older than 30 days expires. */
const EXPIRE_ANYTHING_OLDER_THAN_30_DAYS = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'Expire every image pushed more than 30 days ago',
      selection: { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 },
      action: { type: 'expire' },
    },
  ],
});

/** Release indexes older than 30 days expire; nothing selects their platform images. */
const EXPIRE_RELEASE_INDEXES = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'Expire releases pushed more than 30 days ago',
      selection: {
        tagStatus: 'tagged',
        tagPatternList: ['v*'],
        countType: 'sinceImagePushed',
        countUnit: 'days',
        countNumber: 30,
      },
      action: { type: 'expire' },
    },
  ],
});

describe('npm run lifecycle: lint and compare ECR lifecycle policies with the cleanup', { timeout: 60_000 }, () => {
  let server: RegistryServer;
  let client: ECRClient;
  let dir: string;
  let configPath: string;
  let digestOf: Map<string, string>;

  const fileIn = (name: string) => join(dir, name);
  const short = (id: string) => shortDigest(digestOf.get(id) ?? `missing fixture id ${id}`);
  const target = () => ['--endpoint-url', server.url, '--region', 'us-east-1', '--config', configPath];

  /** The CLI in this process; no AWS_ENDPOINT_URL* variable, so the in-use clients go where the ECR endpoint is. */
  const cli = (args: string[]) => runInProcess(runLifecycleCli, args);

  /** The mutating ECR calls made since the fixture was loaded (the test's own PutLifecyclePolicy among them). */
  async function mutations(): Promise<Record<string, number>> {
    const { operations } = await control<{ operations: Record<string, number> }>(server, 'calls');
    return Object.fromEntries(Object.entries(operations).filter(([name]) => MUTATING_ECR_OPERATIONS.includes(name)));
  }

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
    dir = mkdtempSync(join(tmpdir(), 'lifecycle-cli-'));
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
    await client.send(
      new PutLifecyclePolicyCommand({
        repositoryName: 'team/app',
        lifecyclePolicyText: EXPIRE_ANYTHING_OLDER_THAN_30_DAYS,
      }),
    );
  });

  it("lint reads the repository's live policy and names what it would expire that the cleanup keeps", async () => {
    // Act
    const outcome = await cli(['lint', '--repository', 'team/app', ...target()]);

    // Assess
    expect(outcome.stderr).not.toContain('error');
    expect(outcome.code).toBe(1);
    const lines = outcome.stdout.split('\n');
    expect(lines[0]).toMatch(/^team\/app \(live policy\): \d+ finding\(s\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^priority 1: expires-index-children: .* — fix: /));
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`^priority 1: in-use-expired: 1 image\\(s\\).*${short('pinned').slice(7)}.*ecs prod/api`),
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^priority 1: kept-child-expired: 2 image\(s\)/));
    expect(lines).toContainEqual(expect.stringMatching(/^priority 1: kept-referrer-expired: 1 image\(s\)/));
    expect(lines).toContainEqual(expect.stringMatching(/^priority 1: retained-tag-expired: 1 image\(s\).*v1\.0\.0/));
    expect(await mutations()).toEqual({ PutLifecyclePolicy: 1 });
  });

  it('compare shows each image next to the cleanup plan and names the breaks: in use, index children, signature', async () => {
    // Act
    const outcome = await cli(['compare', 'team/app', ...target()]);

    // Assess
    expect(outcome.code).toBe(0);
    const row = (id: string) => outcome.stdout.split('\n').find((line) => line.startsWith(short(id))) ?? '';
    expect(row('pinned')).toMatch(/expire \(rule 1\)\s+keep \(in-use.*ecs prod\/api.*\)\s+in-use-expired$/);
    expect(row('v1-amd64')).toMatch(/expire \(rule 1\)\s+keep \(child-of-kept-index.*\)\s+kept-child-expired$/);
    expect(row('v1-sig')).toMatch(
      /expire \(rule 1, follows its subject\)\s+keep \(referrer-of-kept-image.*kept-referrer-expired$/,
    );
    expect(row('stale')).toMatch(/expire \(rule 1\)\s+delete \(stale-untagged.*\)\s+-$/);
    expect(outcome.stdout).toContain('Breaks (5):');
    expect(outcome.stdout).toMatch(/priority 1: in-use-expired: rule 1 expires .*, which runs \(ecs prod\/api\)/);
    expect(outcome.stdout).toContain(
      'Summary: 6 images; native: 6 expire, 0 archive, 0 keep; cleanup: 1 delete, 5 keep; 1 agree, 5 removed by the policy only, 0 deleted by the cleanup only',
    );
    expect(await mutations()).toEqual({ PutLifecyclePolicy: 1 });
  });

  it('lint --file --repository lints a proposed policy against the repository and its cleanup plan', async () => {
    // Prepare
    writeFileSync(fileIn('releases.json'), EXPIRE_RELEASE_INDEXES);

    // Act
    const outcome = await cli(['lint', '--file', fileIn('releases.json'), '--repository', 'team/app', ...target()]);

    // Assess
    expect(outcome.code).toBe(1);
    expect(outcome.stdout.split('\n')).toEqual([
      `${fileIn('releases.json')}: 4 finding(s)`,
      expect.stringMatching(/^priority 1: releases-expire-by-age: /),
      expect.stringMatching(/^priority 1: children-left-behind: 2 image\(s\)/),
      expect.stringMatching(/^priority 1: kept-referrer-expired: 1 image\(s\)/),
      expect.stringMatching(/^priority 1: retained-tag-expired: 1 image\(s\).*v1\.0\.0/),
    ]);
  });

  it('compare --policy-file names the platform images an expired release index leaves behind', async () => {
    // Prepare
    writeFileSync(fileIn('releases.json'), EXPIRE_RELEASE_INDEXES);

    // Act
    const outcome = await cli(['compare', 'team/app', '--policy-file', fileIn('releases.json'), ...target()]);

    // Assess
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain('Breaks (4):');
    const leftBehind = outcome.stdout.split('\n').filter((line) => line.includes('children-left-behind:'));
    expect(leftBehind).toHaveLength(2);
    expect(leftBehind[0]).toContain(`expires the index ${short('v1').slice(7)}`);
  });

  it("lint with no file and no repository lints the config's policies, skipping cleanup-job", async () => {
    // Prepare
    const config = {
      ...CONFIG,
      compliance: {
        defaults: { lifecyclePolicy: 'cleanup-job' },
        rules: [{ repositories: ['legacy/**'], lifecyclePolicy: JSON.parse(EXPIRE_RELEASE_INDEXES) }],
      },
      registry: {
        creationTemplates: {
          templates: [
            {
              prefix: 'cache',
              appliedFor: ['PULL_THROUGH_CACHE'],
              lifecyclePolicy: EXPIRE_ANYTHING_OLDER_THAN_30_DAYS,
            },
          ],
        },
      },
    };
    writeFileSync(fileIn('with-policies.json'), JSON.stringify(config));

    // Act
    const outcome = await cli(['lint', '--config', fileIn('with-policies.json')]);

    // Assess
    expect(outcome.code).toBe(1);
    expect(outcome.stdout.split('\n')).toEqual([
      'compliance.rules[0].lifecyclePolicy: 1 finding(s)',
      expect.stringMatching(/^priority 1: releases-expire-by-age: /),
      'registry.creationTemplates.templates[0] (cache).lifecyclePolicy: 2 finding(s)',
      expect.stringMatching(/^priority 1: expires-index-children: /),
      expect.stringMatching(/^priority 1: releases-unprotected: /),
    ]);
  });

  it('lint exits 0 on a file without findings and 2 on a file that is not JSON or too long, quickly', async () => {
    // Prepare
    writeFileSync(
      fileIn('good.json'),
      JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            selection: {
              tagStatus: 'tagged',
              tagPatternList: ['v*'],
              countType: 'imageCountMoreThan',
              countNumber: 20,
            },
            action: { type: 'expire' },
          },
        ],
      }),
    );
    writeFileSync(fileIn('broken.json'), '{"rules": [');
    writeFileSync(fileIn('huge.json'), `{"rules": [${'['.repeat(2_000_000)}`);

    // Act
    const good = await cli(['lint', '--file', fileIn('good.json')]);
    const started = Date.now();
    const broken = await cli(['lint', '--file', fileIn('broken.json')]);
    const huge = await cli(['lint', '--file', fileIn('huge.json')]);
    const elapsed = Date.now() - started;

    // Assess
    expect(good).toEqual({ code: 0, stdout: `${fileIn('good.json')}: no findings`, stderr: '' });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/is not a lifecycle policy: not JSON/);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toMatch(/larger than ECR's 30720 characters/);
    expect(elapsed).toBeLessThan(2_000);
  });
});
