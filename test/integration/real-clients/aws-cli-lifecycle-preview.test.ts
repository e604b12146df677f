import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsEcr, requireRealClients } from '../../helpers/real-clients.ts';
import { control, startTestRegistry } from '../../helpers/registry.ts';

/**
 * The Debian AWS CLI v2's lifecycle policy preview commands against the local registry: a preview started from the
 * stored policy or a given one, read back with the CLI's automatic paging, and a missing preview as the CLI reports it.
 */
// Child processes (the AWS CLI) start slowly on a loaded machine: a generous limit per test.
describe('AWS CLI v2 lifecycle policy preview commands against the local registry', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  let digests: Record<string, string>;
  const REPO = 'cli/preview';
  const POLICY = JSON.stringify({
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
    ],
  });
  const GIVEN = JSON.stringify({
    rules: [
      {
        rulePriority: 10,
        description: 'expire every image but the newest two',
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 2 },
        action: { type: 'expire' },
      },
    ],
  });

  beforeAll(async () => {
    requireRealClients();
    server = await startTestRegistry({ scanDurationMs: 20 });
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    server.reset();
    const loaded = await control<{ images: { id: string; imageDigest: string }[] }>(server, 'load', {
      repositories: [
        {
          name: REPO,
          lifecyclePolicy: POLICY,
          images: [
            { id: 'r1', tags: ['release-1'], pushedAt: '-50d' },
            { id: 'r2', tags: ['release-2'], pushedAt: '-40d' },
            { id: 'r3', tags: ['release-3'], pushedAt: '-30d' },
            { id: 'r4', tags: ['release-4'], pushedAt: '-20d' },
            { id: 'u1', pushedAt: '-15d' },
            { id: 'u2', pushedAt: '-10d' },
            { id: 'u3', pushedAt: '-1d' },
          ],
        },
      ],
    });
    digests = Object.fromEntries(loaded.images.map((image) => [image.id, image.imageDigest]));
  });

  const json = (text: string) => JSON.parse(text) as Record<string, unknown>;
  const getPreview = (...args: string[]) =>
    awsEcr(server.url, ['get-lifecycle-policy-preview', '--repository-name', REPO, ...args]);
  /** Reads the preview until it is COMPLETE (it is IN_PROGRESS for 20 ms). */
  const completed = async (...args: string[]) => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const result = await getPreview(...args);
      expect(result.stderr).toBe('');
      const answer = json(result.stdout);
      if (answer.status === 'COMPLETE') return answer;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the preview did not complete');
  };
  const calls = async () =>
    (await control<{ operations: Record<string, number> }>(server, 'calls')).operations.GetLifecyclePolicyPreview ?? 0;

  it('starts a preview of the stored policy and reads every result through the CLI’s paging', async () => {
    // Act
    const started = await awsEcr(server.url, ['start-lifecycle-policy-preview', '--repository-name', REPO]);
    await completed();
    const before = await calls();
    const paged = await getPreview('--page-size', '2');
    const after = await calls();
    const firstTwo = await getPreview('--max-items', '2');
    // Assess
    expect(started.code).toBe(0);
    expect(json(started.stdout)).toEqual({
      registryId: '123456789012',
      repositoryName: REPO,
      lifecyclePolicyText: POLICY,
      status: 'IN_PROGRESS',
    });
    expect(paged.code).toBe(0);
    const answer = json(paged.stdout) as {
      status: string;
      previewResults: {
        imageDigest: string;
        imageTags?: string[];
        action: { type: string };
        appliedRulePriority: number;
      }[];
      summary: { expiringImageTotalCount: number };
    };
    expect(answer.status).toBe('COMPLETE');
    // release-1 to release-3 by rule 1 (release-4 is the newest), u1 and u2 by rule 2 (u3 is a day old).
    expect(answer.previewResults.map((result) => [result.imageDigest, result.appliedRulePriority])).toEqual([
      [digests.r1, 1],
      [digests.r2, 1],
      [digests.r3, 1],
      [digests.u1, 2],
      [digests.u2, 2],
    ]);
    expect(answer.previewResults.every((result) => result.action.type === 'EXPIRE')).toBe(true);
    expect(answer.previewResults[0]?.imageTags).toEqual(['release-1']);
    expect(answer.summary.expiringImageTotalCount).toBe(5);
    // Five results two at a time: three calls, their pages joined by the CLI.
    expect(after - before).toBe(3);
    const limited = json(firstTwo.stdout) as { previewResults: unknown[]; NextToken?: string };
    expect(limited.previewResults).toHaveLength(2);
    expect(limited.NextToken).toEqual(expect.any(String));
  });

  // A second start while one runs (LifecyclePolicyPreviewInProgressException) is tested through the SDK: a CLI
  // process takes longer to start than a preview here takes to complete.
  it('previews a given policy, restricted to named images, and reports a missing preview', async () => {
    // Act
    const none = await getPreview();
    const started = await awsEcr(server.url, [
      'start-lifecycle-policy-preview',
      '--repository-name',
      REPO,
      '--lifecycle-policy-text',
      GIVEN,
    ]);
    const all = await completed();
    const named = await getPreview('--image-ids', `imageTag=release-1`, `imageDigest=${digests.u3}`);
    // Assess
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('LifecyclePolicyPreviewNotFoundException');
    expect(json(started.stdout).lifecyclePolicyText).toBe(GIVEN);
    expect(
      (all.previewResults as { imageDigest: string; appliedRulePriority: number }[]).map(
        (result) => result.imageDigest,
      ),
    ).toEqual(['r1', 'r2', 'r3', 'r4', 'u1'].map((id) => digests[id]));
    expect(all.lifecyclePolicyText).toBe(GIVEN);
    expect(
      (json(named.stdout).previewResults as { imageDigest: string; appliedRulePriority: number }[]).map((result) => [
        result.imageDigest,
        result.appliedRulePriority,
      ]),
    ).toEqual([[digests.r1, 10]]);
  });
});
