import { DescribeImagesCommand, type ECRClient, UpdateImageStorageClassCommand } from '@aws-sdk/client-ecr';
import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCleanupCli } from '../../../cli/commands/main.ts';
import { loadFixture, pullFailures } from '../../helpers/cleanup.ts';
import { runInProcess } from '../../helpers/cli.ts';
import { ecrClient, startTestRegistry } from '../../helpers/registry.ts';

const REPO = 'team/archive';

/** A signed multi-arch release and a plain image, both to be archived (children after their index, as ECR requires). */
const FIXTURE: Fixture = {
  repositories: [
    {
      name: REPO,
      images: [
        { id: 'rel-amd64', architecture: 'amd64', pushedAt: '-200d' },
        { id: 'rel-arm64', architecture: 'arm64', pushedAt: '-200d' },
        { id: 'rel', kind: 'index', children: ['rel-amd64', 'rel-arm64'], tags: ['v1'], pushedAt: '-200d' },
        { id: 'rel-sig', kind: 'signature', subject: 'rel', pushedAt: '-200d' },
        { id: 'plain', tags: ['v0'], pushedAt: '-300d' },
      ],
    },
  ],
};

describe('npm run cleanup -- restore: an archived image back with what belongs to it', () => {
  let server: RegistryServer;
  let client: ECRClient;
  let digestOf: (id: string) => string;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    const loaded = await loadFixture(server, FIXTURE);
    digestOf = (id) => loaded.images.find((image) => image.id === id)?.imageDigest as string;
    for (const id of ['rel', 'rel-amd64', 'rel-arm64', 'rel-sig', 'plain']) {
      await client.send(
        new UpdateImageStorageClassCommand({
          repositoryName: REPO,
          imageId: { imageDigest: digestOf(id) },
          targetStorageClass: 'ARCHIVE',
        }),
      );
    }
  });

  /** The CLI in this process; its waits move the registry's clock instead of the wall clock's. */
  async function cli(args: string[]) {
    const waits: number[] = [];
    const outcome = await runInProcess(
      runCleanupCli,
      ['restore', ...args, '--endpoint-url', server.url, '--region', 'us-east-1'],
      {
        now: () => server.now(),
        sleep: async (ms) => {
          waits.push(ms);
          server.advanceClock(ms);
        },
      },
    );
    return { ...outcome, waits };
  }
  const statuses = async () =>
    Object.fromEntries(
      (
        await client.send(new DescribeImagesCommand({ repositoryName: REPO, filter: { imageStatus: 'ANY' } }))
      ).imageDetails?.map((detail) => [detail.imageDigest, detail.imageStatus]) ?? [],
    );

  it('restores an index by tag, its signature at once and its children once the index reads, and waits until all pull', async () => {
    // Act
    const result = await cli([REPO, 'v1', '--poll-seconds', '300']);
    // Assess
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/referrer .* restoring/);
    expect(result.stdout).toMatch(/child .* restoring/);
    expect(result.stdout).toMatch(/ACTIVE, with what belongs to it/);
    const now = await statuses();
    for (const id of ['rel', 'rel-amd64', 'rel-arm64', 'rel-sig']) expect(now[digestOf(id)], id).toBe('ACTIVE');
    expect(now[digestOf('plain')]).toBe('ARCHIVED');
    // Two waits of 20 minutes of registry time each (the index, then its children), in steps of 5 minutes
    expect(result.waits.reduce((sum, ms) => sum + ms, 0)).toBe(2 * 20 * 60_000);
    expect(await pullFailures(client, REPO)).toEqual([]);
  });

  it('gives up after --wait-seconds with exit 1, the restore still going on, and refuses bad arguments', async () => {
    // Act
    const short = await cli([REPO, digestOf('plain'), '--wait-seconds', '60', '--poll-seconds', '30']);
    const badWait = await cli([REPO, 'v0', '--wait-seconds', 'soon']);
    const missingReference = await cli([REPO]);
    const gone = await cli([REPO, 'no-such-tag']);
    const crafted = await cli([REPO, `${'x'.repeat(10_000)}\u0000`]);
    const badRepository = await cli(['../../etc/passwd', 'v0']);
    // Assess
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/Still restoring after 60s/);
    expect((await statuses())[digestOf('plain')]).toBe('ACTIVATING');
    expect(badWait.code).toBe(2);
    expect(missingReference.code).toBe(2);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/ImageNotFound/);
    // A crafted reference or repository name is refused by ECR's validation, and changes nothing
    for (const refused of [crafted, badRepository]) {
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/^error: .*(InvalidParameter|Validation)/m);
      expect(refused.stderr.length).toBeLessThan(2_000);
    }
    expect((await statuses())[digestOf('rel')]).toBe('ARCHIVED');
  });
});
