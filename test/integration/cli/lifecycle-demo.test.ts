import { demoFixture, type RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortDigest } from '../../../cli/commands/format.ts';
import { runLifecycleCli } from '../../../cli/commands/lifecycle.ts';
import { type Loaded, loadFixture } from '../../helpers/cleanup.ts';
import { runInProcess } from '../../helpers/cli.ts';
import { startTestRegistry } from '../../helpers/registry.ts';

/**
 * The demo registry (`npm start`) with the bundled config: payments/api carries ECR's most common native policy,
 * "expire untagged images older than 30 days", and the payments-api ECS service runs one of those untagged builds.
 */
describe('npm run lifecycle -- compare on the demo registry', () => {
  let server: RegistryServer;
  let loaded: Loaded;

  beforeAll(async () => {
    server = await startTestRegistry();
    loaded = await loadFixture(server, demoFixture());
  });
  afterAll(async () => {
    await server.close();
  });

  it('names the build the payments-api service runs, which the native policy would expire and the cleanup keeps', async () => {
    // Prepare
    const running = loaded.images.find((image) => image.repositoryName === 'payments/api' && image.id === 'stale-2');
    if (!running) throw new Error('the demo has no payments/api stale-2');
    // Act
    const { code, stdout, stderr } = await runInProcess(
      runLifecycleCli,
      ['compare', 'payments/api', '--endpoint-url', server.url, '--region', 'us-east-1'],
      { now: () => server.now() },
    );
    // Assess
    expect(code, stderr).toBe(0);
    const row = stdout.split('\n').find((line) => line.startsWith(shortDigest(running.imageDigest))) ?? '';
    expect(row).toMatch(/expire \(rule 1\)\s+keep \(in-use.*ecs demo\/payments-api.*\)\s+in-use-expired$/);
    expect(stdout).toMatch(/in-use-expired: rule 1 expires .*\(ecs demo\/payments-api\)/);
  });
});
