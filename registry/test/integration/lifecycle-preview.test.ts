import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  type ECRClient,
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  type GetLifecyclePolicyPreviewCommandInput,
  type GetLifecyclePolicyPreviewCommandOutput,
  PutLifecyclePolicyCommand,
  StartLifecyclePolicyPreviewCommand,
  waitUntilLifecyclePolicyPreviewComplete,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LoadedFixture } from '../../src/control/fixtures.ts';
import { control, ecrClient, failureOf, startTestRegistry, TEST_ACCOUNT } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const REPO = 'lcp/preview';

/**
 * Three rules: keep the newest `release-*` image (expire the others), expire untagged images older than a week, and
 * archive anything not pulled for 30 days.
 */
const POLICY = {
  rules: [
    {
      rulePriority: 1,
      description: 'keep the newest release',
      selection: {
        tagStatus: 'tagged',
        tagPatternList: ['release-*'],
        countType: 'imageCountMoreThan',
        countNumber: 1,
      },
      action: { type: 'expire' },
    },
    {
      rulePriority: 2,
      description: 'expire untagged images after a week',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 },
      action: { type: 'expire' },
    },
    {
      rulePriority: 3,
      description: 'archive what nobody pulled for 30 days',
      selection: { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 },
      action: { type: 'transition', targetStorageClass: 'archive' },
    },
  ],
};
const POLICY_TEXT = JSON.stringify(POLICY);

/** Expires every untagged image pushed more than three days ago: a policy given to a preview, not stored. */
const GIVEN_TEXT = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'expire untagged images after three days',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 3 },
      action: { type: 'expire' },
    },
  ],
});

/**
 * In listing order: release-1 and release-2 expire by rule 1 (release-3 is the newest); dev-1 (never pulled, 60 days
 * old) and the index multi-1 are archived by rule 3; the untagged u-old expires by rule 2 and u-new is too young; the
 * index's children would expire by rule 2 but their index is only archived, so they stay; the signature of
 * release-1 follows its subject (rule 1).
 */
const FIXTURE = {
  repositories: [
    {
      name: REPO,
      lifecyclePolicy: POLICY,
      images: [
        { id: 'rel1', tags: ['release-1'], pushedAt: '-40d' },
        { id: 'rel2', tags: ['release-2'], pushedAt: '-30d' },
        { id: 'rel3', tags: ['release-3'], pushedAt: '-20d' },
        { id: 'dev', tags: ['dev-1'], pushedAt: '-60d' },
        { id: 'u-old', pushedAt: '-10d' },
        { id: 'u-new', pushedAt: '-1d' },
        { id: 'amd', pushedAt: '-50d', architecture: 'amd64' },
        { id: 'arm', pushedAt: '-50d', architecture: 'arm64' },
        { id: 'idx', kind: 'index', tags: ['multi-1'], children: ['amd', 'arm'], pushedAt: '-50d' },
        { id: 'sig', kind: 'signature', subject: 'rel1', pushedAt: '-5d' },
      ],
    },
  ],
};

type PreviewResult = NonNullable<GetLifecyclePolicyPreviewCommandOutput['previewResults']>[number];

describe('lifecycle policy preview and run', () => {
  let server: RegistryServer;
  let client: ECRClient;
  let digests: Record<string, string>;

  beforeAll(async () => {
    // A preview stays IN_PROGRESS for 200 ms: long enough to see it, short enough to wait for.
    server = await startTestRegistry({ scanDurationMs: 200 });
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    const loaded = await control<LoadedFixture>(server, 'load', FIXTURE);
    digests = Object.fromEntries(loaded.images.map((image) => [image.id, image.imageDigest]));
  });

  const start = (lifecyclePolicyText?: string, repositoryName = REPO) =>
    client.send(new StartLifecyclePolicyPreviewCommand({ repositoryName, lifecyclePolicyText }));
  const get = (input: Partial<GetLifecyclePolicyPreviewCommandInput> = {}) =>
    client.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO, ...input }));
  /** Polls until the preview is COMPLETE (the waiter's first delay is a second; this polls every 20 ms). */
  const completed = async (input: Partial<GetLifecyclePolicyPreviewCommandInput> = {}) => {
    for (let attempt = 0; attempt < 250; attempt++) {
      const answer = await get(input);
      if (answer.status !== 'IN_PROGRESS') return answer;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the preview did not complete');
  };
  const brief = (result: PreviewResult) => ({
    digest: result.imageDigest,
    action: result.action,
    appliedRulePriority: result.appliedRulePriority,
  });
  const expire = (id: string, appliedRulePriority: number) => ({
    digest: digests[id],
    action: { type: 'EXPIRE' },
    appliedRulePriority,
  });
  const archive = (id: string) => ({
    digest: digests[id],
    action: { type: 'TRANSITION', targetStorageClass: 'ARCHIVE' },
    appliedRulePriority: 3,
  });
  const EXPECTED = () => [
    expire('rel1', 1),
    expire('rel2', 1),
    archive('dev'),
    expire('u-old', 2),
    archive('idx'),
    expire('sig', 1),
  ];

  it('previews the stored policy: IN_PROGRESS, then COMPLETE with each image’s action and rule', async () => {
    // Prepare
    const before = server.now();
    // Act
    const started = await start();
    const running = await get();
    await waitUntilLifecyclePolicyPreviewComplete(
      { client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 },
      { repositoryName: REPO },
    );
    const done = await get();
    // Assess
    expect(started).toEqual({
      $metadata: expect.any(Object),
      registryId: TEST_ACCOUNT,
      repositoryName: REPO,
      lifecyclePolicyText: POLICY_TEXT,
      status: 'IN_PROGRESS',
    });
    expect(running).toMatchObject({ status: 'IN_PROGRESS', previewResults: [] });
    expect(running.summary).toBeUndefined();
    expect(done).toMatchObject({
      registryId: TEST_ACCOUNT,
      repositoryName: REPO,
      lifecyclePolicyText: POLICY_TEXT,
      status: 'COMPLETE',
      summary: {
        expiringImageTotalCount: 4,
        transitioningImageTotalCounts: [{ targetStorageClass: 'ARCHIVE', imageTotalCount: 2 }],
      },
    });
    expect(done.nextToken).toBeUndefined();
    expect(done.previewResults?.map(brief)).toEqual(EXPECTED());
    const release1 = done.previewResults?.[0];
    expect(release1).toEqual({
      imageTags: ['release-1'],
      imageDigest: digests.rel1,
      imagePushedAt: expect.any(Date),
      action: { type: 'EXPIRE' },
      appliedRulePriority: 1,
      storageClass: 'STANDARD',
    });
    expect(Math.abs((release1?.imagePushedAt?.getTime() ?? 0) - (before - 40 * 86_400_000))).toBeLessThan(60_000);
    expect(done.previewResults?.find((result) => result.imageDigest === digests.sig)?.imageTags).toEqual([]);
  });

  it('pages through the results two at a time, with tokens bound to the preview', async () => {
    // Prepare
    await start();
    const first = await completed({ maxResults: 2 });
    // Act
    const second = await get({ maxResults: 2, nextToken: first.nextToken });
    const third = await get({ maxResults: 2, nextToken: second.nextToken });
    const tagged = await completed({ filter: { tagStatus: 'TAGGED' } });
    const untaggedPage = await get({ filter: { tagStatus: 'UNTAGGED' }, maxResults: 1 });
    const crossed = await failureOf(get({ filter: { tagStatus: 'TAGGED' }, nextToken: first.nextToken }));
    await start();
    await completed();
    const stale = await failureOf(get({ maxResults: 2, nextToken: first.nextToken }));
    const badSize = await failureOf(get({ maxResults: 101 }));
    // Assess
    expect([first, second, third].map((page) => page.previewResults?.map(brief))).toEqual([
      EXPECTED().slice(0, 2),
      EXPECTED().slice(2, 4),
      EXPECTED().slice(4, 6),
    ]);
    expect(first.nextToken).toEqual(expect.any(String));
    expect(second.nextToken).toEqual(expect.any(String));
    expect(third.nextToken).toBeUndefined();
    expect(third.summary?.expiringImageTotalCount).toBe(4);
    expect(tagged.previewResults?.map((result) => result.imageDigest)).toEqual(
      ['rel1', 'rel2', 'dev', 'idx'].map((id) => digests[id]),
    );
    expect(untaggedPage.previewResults?.map((result) => result.imageDigest)).toEqual([digests['u-old']]);
    expect(untaggedPage.nextToken).toEqual(expect.any(String));
    expect(crossed).toMatchObject({ name: 'InvalidParameterException' });
    expect(stale).toMatchObject({ name: 'InvalidParameterException' });
    expect(badSize).toMatchObject({ name: expect.stringMatching(/ValidationException|InvalidParameterException/) });
  });

  it('restricts the results to the images named, and refuses ids with paging', async () => {
    // Prepare
    await start();
    await completed();
    // Act
    const named = await get({
      imageIds: [{ imageTag: 'release-1' }, { imageDigest: digests['u-new'] }, { imageDigest: digests.idx }],
    });
    const withPaging = await failureOf(get({ imageIds: [{ imageTag: 'release-1' }], maxResults: 5 }));
    const tooMany = await failureOf(
      get({ imageIds: Array.from({ length: 101 }, (_, index) => ({ imageTag: `t${index}` })) }),
    );
    // Assess
    expect(named.previewResults?.map(brief)).toEqual([expire('rel1', 1), archive('idx')]);
    expect(named.nextToken).toBeUndefined();
    expect(withPaging).toMatchObject({ name: 'InvalidParameterException' });
    expect(tooMany).toMatchObject({ name: expect.stringMatching(/ValidationException|InvalidParameterException/) });
  });

  it('previews a given policy rather than the stored one', async () => {
    // Act
    const started = await start(GIVEN_TEXT);
    const done = await completed();
    const stored = await client.send(new GetLifecyclePolicyCommand({ repositoryName: REPO }));
    // Assess
    expect(started.lifecyclePolicyText).toBe(GIVEN_TEXT);
    expect(done.lifecyclePolicyText).toBe(GIVEN_TEXT);
    // The index's children are untagged and old, but their index stays: only u-old expires.
    expect(done.previewResults?.map(brief)).toEqual([expire('u-old', 1)]);
    expect(done.summary).toEqual({ expiringImageTotalCount: 1 });
    expect(stored.lifecyclePolicyText).toBe(POLICY_TEXT);
  });

  it('answers ECR’s exceptions: no preview, one in progress, no policy, an invalid one, no repository', async () => {
    // Prepare
    await client.send(new CreateRepositoryCommand({ repositoryName: 'lcp/bare' }));
    // Act
    const none = await failureOf(get());
    await start();
    const twice = await failureOf(start());
    const noPolicy = await failureOf(start(undefined, 'lcp/bare'));
    const invalid = await failureOf(start(`${GIVEN_TEXT.slice(0, -1)},"extra":1}`, 'lcp/bare'));
    const tooShort = await failureOf(start('{"rules":[]}', 'lcp/bare'));
    const noRepository = await failureOf(start(GIVEN_TEXT, 'lcp/none'));
    const noPreview = await failureOf(
      client.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: 'lcp/bare' })),
    );
    await completed();
    const again = await start(GIVEN_TEXT);
    // Assess
    expect(none).toMatchObject({ name: 'LifecyclePolicyPreviewNotFoundException' });
    expect(twice).toMatchObject({ name: 'LifecyclePolicyPreviewInProgressException' });
    expect(noPolicy).toMatchObject({
      name: 'LifecyclePolicyNotFoundException',
      message: `Lifecycle policy does not exist for the repository with name 'lcp/bare' in the registry with id '${TEST_ACCOUNT}'`,
    });
    expect(invalid).toMatchObject({ name: 'InvalidParameterException' });
    expect(tooShort).toMatchObject({ name: expect.stringMatching(/ValidationException|InvalidParameterException/) });
    expect(noRepository).toMatchObject({ name: 'RepositoryNotFoundException' });
    expect(noPreview).toMatchObject({ name: 'LifecyclePolicyPreviewNotFoundException' });
    expect(again.status).toBe('IN_PROGRESS');
  });

  it('runs the stored policy as the preview said: deletes with DELETE events, archives, leaves the rest', async () => {
    // Prepare
    await start();
    const preview = await completed();
    // Act
    const run = await control<{
      repositories: {
        repositoryName: string;
        expired: { imageDigest: string; appliedRulePriority: number }[];
        transitioned: { imageDigest: string; appliedRulePriority: number }[];
        failed: unknown[];
      }[];
    }>(server, 'lifecycle/run', { repositoryName: REPO });
    const left = await client.send(
      new DescribeImagesCommand({ repositoryName: REPO, filter: { imageStatus: 'ANY' }, maxResults: 100 }),
    );
    await server.bus.drain();
    const events = await control<{ events: { 'detail-type': string; detail: Record<string, unknown> }[] }>(
      server,
      'bus/events',
    );
    const policy = await client.send(new GetLifecyclePolicyCommand({ repositoryName: REPO }));
    const rerun = await control<{ repositories: { expired: unknown[]; transitioned: unknown[] }[] }>(
      server,
      'lifecycle/run',
      {},
    );
    // Assess
    const previewed = (type: string) =>
      (preview.previewResults ?? [])
        .filter((result) => result.action?.type === type)
        .map((result) => result.imageDigest)
        .sort();
    const [result] = run.repositories;
    expect(run.repositories).toHaveLength(1);
    expect(result?.failed).toEqual([]);
    expect(result?.expired.map((image) => image.imageDigest).sort()).toEqual(previewed('EXPIRE'));
    expect(result?.transitioned.map((image) => image.imageDigest).sort()).toEqual(previewed('TRANSITION'));
    const statuses = Object.fromEntries(
      (left.imageDetails ?? []).map((detail) => [detail.imageDigest, detail.imageStatus]),
    );
    expect(statuses).toEqual({
      [digests.rel3 as string]: 'ACTIVE',
      [digests.dev as string]: 'ARCHIVED',
      [digests['u-new'] as string]: 'ACTIVE',
      [digests.amd as string]: 'ACTIVE',
      [digests.arm as string]: 'ACTIVE',
      [digests.idx as string]: 'ARCHIVED',
    });
    const deletes = events.events.filter(
      (event) => event['detail-type'] === 'ECR Image Action' && event.detail['action-type'] === 'DELETE',
    );
    expect(deletes.map((event) => event.detail['image-digest']).sort()).toEqual(previewed('EXPIRE'));
    expect(deletes[0]?.detail).toMatchObject({ result: 'SUCCESS', 'repository-name': REPO });
    expect(policy.lastEvaluatedAt?.getTime()).toBeGreaterThanOrEqual(server.now() - 60_000);
    expect(rerun.repositories).toEqual([expect.objectContaining({ expired: [], transitioned: [] })]);
  });

  it('runs every stored policy, a manifest list before the images it lists, deleted or archived alike', async () => {
    // Prepare
    const everything = (type: 'expire' | 'transition') =>
      JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `${type} every image older than a day`,
            selection: {
              tagStatus: 'any',
              // Only a pull clock may archive; only a push clock (of these two) may expire.
              countType: type === 'expire' ? 'sinceImagePushed' : 'sinceImagePulled',
              countUnit: 'days',
              countNumber: 1,
            },
            action: type === 'expire' ? { type } : { type, targetStorageClass: 'archive' },
          },
        ],
      });
    const images = [
      { id: 'amd', pushedAt: '-9d', architecture: 'amd64' },
      { id: 'arm', pushedAt: '-9d', architecture: 'arm64' },
      { id: 'idx', kind: 'index', tags: ['multi'], children: ['amd', 'arm'], pushedAt: '-9d' },
    ];
    const loaded = await control<LoadedFixture>(server, 'load', {
      repositories: [
        { name: 'lcp/expire-all', lifecyclePolicy: everything('expire'), images },
        { name: 'lcp/archive-all', lifecyclePolicy: everything('transition'), images },
        { name: 'lcp/no-policy', images },
      ],
    });
    // Act
    const run = await control<{
      repositories: { repositoryName: string; expired: unknown[]; transitioned: unknown[]; failed: unknown[] }[];
    }>(server, 'lifecycle/run', {});
    const statuses = async (repositoryName: string) =>
      (
        await client.send(new DescribeImagesCommand({ repositoryName, filter: { imageStatus: 'ANY' } }))
      ).imageDetails?.map((detail) => detail.imageStatus);
    // Assess
    expect(loaded.images).toHaveLength(9);
    expect(run.repositories.map((result) => result.repositoryName)).toEqual([
      REPO,
      'lcp/expire-all',
      'lcp/archive-all',
    ]);
    expect(run.repositories.map((result) => result.failed)).toEqual([[], [], []]);
    expect(run.repositories.some((result) => 'invalidPolicy' in result)).toBe(false);
    expect(run.repositories[1]?.expired).toHaveLength(3);
    expect(run.repositories[2]?.transitioned).toHaveLength(3);
    expect(await statuses('lcp/expire-all')).toEqual([]);
    expect(await statuses('lcp/archive-all')).toEqual(['ARCHIVED', 'ARCHIVED', 'ARCHIVED']);
    expect(await statuses('lcp/no-policy')).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
  });

  it('refuses a run for a repository that does not exist', async () => {
    // Act
    const missing = await failureOf(control(server, 'lifecycle/run', { repositoryName: 'lcp/none' }));
    // Assess
    expect(missing).toMatchObject({ message: expect.stringContaining('HTTP 400') });
  });
});

describe('lifecycle previews and runs in a data directory', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['the journal', undefined],
    ['a snapshot', 1],
  ])('comes back to the same preview and the same images after a restart, from %s', async (_from, compactBytes) => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'lcp-preview-'));
    dirs.push(dataDir);
    const first = await startTestRegistry({ dataDir, scanDurationMs: 20, compactBytes });
    const firstClient = ecrClient(first);
    await control(first, 'load', FIXTURE);
    await firstClient.send(new PutLifecyclePolicyCommand({ repositoryName: REPO, lifecyclePolicyText: POLICY_TEXT }));
    await firstClient.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: REPO }));
    await waitUntilLifecyclePolicyPreviewComplete(
      { client: firstClient, maxWaitTime: 30, minDelay: 1, maxDelay: 1 },
      { repositoryName: REPO },
    );
    const before = await firstClient.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO }));
    await control(first, 'lifecycle/run', {});
    const imagesBefore = await firstClient.send(
      new DescribeImagesCommand({ repositoryName: REPO, filter: { imageStatus: 'ANY' } }),
    );
    await first.close();
    // Act
    const second = await startTestRegistry({ dataDir, scanDurationMs: 20, compactBytes });
    const secondClient = ecrClient(second);
    const after = await secondClient.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO }));
    const imagesAfter = await secondClient.send(
      new DescribeImagesCommand({ repositoryName: REPO, filter: { imageStatus: 'ANY' } }),
    );
    await second.close();
    const snapshot = existsSync(join(dataDir, 'snapshot.jsonl'));
    // Assess
    expect(snapshot).toBe(compactBytes !== undefined);
    const { $metadata: _a, ...previewBefore } = before;
    const { $metadata: _b, ...previewAfter } = after;
    expect(previewBefore.previewResults).toHaveLength(6);
    expect(previewAfter).toEqual(previewBefore);
    expect(imagesBefore.imageDetails).toHaveLength(6);
    expect(imagesAfter.imageDetails).toEqual(imagesBefore.imageDetails);
  });
});
