import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRepositoryCleanup } from '../../../shared/cleanup/entry.ts';
import { cleanupRuleFor, parseConfig } from '../../../shared/config/load.ts';
import { createEcrGateway } from '../../../shared/ecr/index.ts';
import { loadFixture, pullFailures } from '../../helpers/cleanup.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { ecrClient, startTestRegistry } from '../../helpers/registry.ts';

/** Pull-request builds (multi-arch, signed), a release, and an image tagged both as a pull request and a release. */
const FIXTURE: Fixture = {
  repositories: [
    {
      name: 'team/tagged',
      images: [
        { id: 'pr-1-amd64', architecture: 'amd64', pushedAt: '-40d' },
        { id: 'pr-1-arm64', architecture: 'arm64', pushedAt: '-40d' },
        {
          id: 'pr-1',
          kind: 'index',
          children: ['pr-1-amd64', 'pr-1-arm64'],
          tags: ['pr-1', 'pr-1-b'],
          pushedAt: '-40d',
        },
        { id: 'pr-1-sig', kind: 'signature', subject: 'pr-1', pushedAt: '-40d' },
        { id: 'pr-2', tags: ['pr-2'], pushedAt: '-20d' },
        { id: 'pr-3', tags: ['pr-3'], pushedAt: '-2d' },
        { id: 'both', tags: ['pr-0', 'v0.9.0'], pushedAt: '-300d' },
        { id: 'release', tags: ['v1.0.0'], pushedAt: '-200d' },
        { id: 'other', tags: ['nightly'], pushedAt: '-200d' },
      ],
    },
  ],
};

const CONFIG = parseConfig({
  cleanup: {
    rules: [
      {
        repositories: ['team/**'],
        maxTaggedDeleteFraction: 0.5,
        tagSelections: [
          { tags: [{ form: 'semver' }], protect: true },
          { tags: ['pr-*'], keepLast: 1, keepNewerThanDays: 30 },
        ],
      },
    ],
  },
});

describe('cleanup of tagged images by tag selections, on the local registry', () => {
  let server: RegistryServer;

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => expectPublishedEventsParse(server.bus.events));

  it('deletes a released index by digest with all its tags, its children and its signature, and keeps the rest whole', async () => {
    // Prepare
    server.reset();
    const loaded = await loadFixture(server, FIXTURE);
    const digestOf = (id: string) => loaded.images.find((image) => image.id === id)?.imageDigest as string;
    const match = cleanupRuleFor(CONFIG.cleanup, 'team/tagged');
    if (!match) throw new Error('the config must match team/tagged');
    const client = ecrClient(server);
    // Act
    const result = await runRepositoryCleanup(createEcrGateway(client), {
      runId: 'r',
      repositoryName: 'team/tagged',
      part: 1,
      now: Date.now(),
      rule: match.rule,
      dryRun: false,
    });
    // Assess
    const { imageDetails = [] } = await client.send(new DescribeImagesCommand({ repositoryName: 'team/tagged' }));
    const left = new Set(imageDetails.map((detail) => detail.imageDigest));
    const gone = ['pr-1', 'pr-1-amd64', 'pr-1-arm64', 'pr-1-sig'];
    expect(result.report.status).toBe('completed');
    expect(gone.filter((id) => left.has(digestOf(id)))).toEqual([]);
    expect(['pr-2', 'pr-3', 'both', 'release', 'other'].filter((id) => !left.has(digestOf(id)))).toEqual([]);
    expect(imageDetails.flatMap((detail) => detail.imageTags ?? []).filter((tag) => tag.startsWith('pr-1'))).toEqual(
      [],
    );
    expect(result.report.deleted).toContainEqual({
      digest: digestOf('pr-1'),
      reason: expect.objectContaining({ code: 'released', tags: ['pr-1', 'pr-1-b'] }),
      // An index owns no layers: deleting it stops no storage of its own.
      cost: 'deleted: stops $0.00/month of standard storage; not reversible',
    });
    expect(await pullFailures(client, 'team/tagged')).toEqual([]);
  });
});
