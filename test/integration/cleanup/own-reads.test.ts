import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRepositoryCleanup } from '../../../shared/cleanup/entry.ts';
import { cleanupRuleFor } from '../../../shared/config/load.ts';
import { createEcrClient, createEcrGateway } from '../../../shared/ecr/index.ts';
import { digestsIn, EXPECTED_DELETED_IDS, loadFixture, TEST_CONFIG } from '../../helpers/cleanup.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { ecrClient, startTestRegistry } from '../../helpers/registry.ts';

/**
 * A caller that is not excluded from pull-time updates (a person running the CLI, a registry without the feature):
 * reading an index manifest during the gather is recorded as a pull, and must not count as one in the same run.
 */
describe('cleanup by a caller whose manifest reads are recorded as pulls', () => {
  let server: RegistryServer;

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => expectPublishedEventsParse(server.bus.events));

  it('deletes what the dry run promised: its own index reads do not protect the stale index', async () => {
    // Prepare
    const client = createEcrClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a-person', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const match = cleanupRuleFor(TEST_CONFIG.cleanup, 'app/api');
    if (!match) throw new Error('the test config must match app/api');
    const input = { runId: 'r', repositoryName: 'app/api', part: 1, now: Date.now(), rule: match.rule };
    // Act: a dry run, then (on the same registry state, fresh, since the dry run's own reads were recorded) a real run
    server.reset();
    await loadFixture(server);
    const dryRun = await runRepositoryCleanup(createEcrGateway(client, { readOnly: true }), { ...input, dryRun: true });
    server.reset();
    const loaded = await loadFixture(server);
    const before = await digestsIn(ecrClient(server), 'app/api');
    const real = await runRepositoryCleanup(createEcrGateway(client), { ...input, dryRun: false });
    // Assess
    const after = await digestsIn(ecrClient(server), 'app/api');
    const deleted = [...before].filter((digest) => !after.has(digest)).sort();
    const expected = EXPECTED_DELETED_IDS.map(
      (id) => loaded.images.find((image) => image.repositoryName === 'app/api' && image.id === id)?.imageDigest,
    ).sort();
    expect(dryRun.report.counts.toDelete).toBe(expected.length);
    expect(real.report).toMatchObject({
      status: 'completed',
      counts: { deleted: expected.length, changedSincePlan: 0 },
    });
    expect(deleted).toEqual(expected);
  });
});
