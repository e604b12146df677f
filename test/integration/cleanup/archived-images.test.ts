import { UpdateImageStorageClassCommand } from '@aws-sdk/client-ecr';
import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRepositoryCleanup } from '../../../shared/cleanup/entry.ts';
import { cleanupRuleFor, parseConfig } from '../../../shared/config/load.ts';
import { createEcrGateway } from '../../../shared/ecr/index.ts';
import { digestsIn, loadFixture } from '../../helpers/cleanup.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { ecrClient, startTestRegistry } from '../../helpers/registry.ts';

/**
 * A repository with ECR's archive in use: a multi-arch build whose index was archived (its children stay in standard
 * storage, as ECR leaves them), an archived single image with its signature, stale untagged images pushed before and
 * after the archived index, and a scanned release.
 */
const FIXTURE: Fixture = {
  repositories: [
    {
      name: 'team/archive',
      images: [
        { id: 'before-index', pushedAt: '-120d' },
        { id: 'old-amd64', architecture: 'amd64', pushedAt: '-100d' },
        { id: 'old-arm64', architecture: 'arm64', pushedAt: '-100d' },
        { id: 'old', kind: 'index', children: ['old-amd64', 'old-arm64'], pushedAt: '-100d' },
        { id: 'single', pushedAt: '-90d' },
        { id: 'single-sig', kind: 'signature', subject: 'single', pushedAt: '-90d' },
        { id: 'after-index', pushedAt: '-60d' },
        { id: 'release', tags: ['v1'], pushedAt: '-60d', scanned: true },
      ],
    },
  ],
};

const CONFIG = parseConfig({ cleanup: { rules: [{ repositories: ['team/**'], maxDeleteFraction: 1 }] } });

describe('the cleanup and ECR’s archive, on the local registry', () => {
  let server: RegistryServer;

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => expectPublishedEventsParse(server.bus.events));

  it('sees archived images, keeps them and what an archived index may list, and deletes only what cannot be theirs', async () => {
    // Prepare
    server.reset();
    const loaded = await loadFixture(server, FIXTURE);
    const digestOf = (id: string) => loaded.images.find((image) => image.id === id)?.imageDigest as string;
    const client = ecrClient(server);
    for (const id of ['old', 'single']) {
      await client.send(
        new UpdateImageStorageClassCommand({
          repositoryName: 'team/archive',
          imageId: { imageDigest: digestOf(id) },
          targetStorageClass: 'ARCHIVE',
        }),
      );
    }
    const match = cleanupRuleFor(CONFIG.cleanup, 'team/archive');
    if (!match) throw new Error('the config must match team/archive');
    // Act
    const result = await runRepositoryCleanup(createEcrGateway(client), {
      runId: 'r',
      repositoryName: 'team/archive',
      part: 1,
      now: server.now(),
      rule: match.rule,
      dryRun: false,
    });
    // Assess: only the stale image pushed after the archived index goes; nothing fails
    expect(result.report).toMatchObject({ status: 'completed', counts: { deleted: 1, failed: 0 } });
    expect(result.report.deleted.map((entry) => entry.digest)).toEqual([digestOf('after-index')]);
    const reasons = new Map(result.plan?.decisions.map((decision) => [decision.digest, decision.reason]));
    expect(reasons.get(digestOf('old'))).toMatchObject({ code: 'archived', status: 'ARCHIVED' });
    expect(reasons.get(digestOf('single'))).toMatchObject({ code: 'archived', status: 'ARCHIVED' });
    expect(reasons.get(digestOf('single-sig'))).toEqual({ code: 'referrer-of-kept-image', via: digestOf('single') });
    for (const id of ['old-amd64', 'old-arm64', 'before-index']) {
      expect(reasons.get(digestOf(id)), id).toEqual({ code: 'may-be-child-of-archived-index', via: digestOf('old') });
    }
    const left = await digestsIn(client, 'team/archive');
    // DescribeImages lists ACTIVE images by default: the two archived ones are there, but not listed here.
    expect([...left].sort()).toEqual(
      ['before-index', 'old-amd64', 'old-arm64', 'single-sig', 'release'].map(digestOf).sort(),
    );
  });
});
