import { demoFixture, type RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortDigest } from '../../../cli/commands/format.ts';
import { runLifecycleCli } from '../../../cli/commands/lifecycle.ts';
import type { CliIo } from '../../../cli/commands/main.ts';
import { createEcrClient } from '../../../shared/ecr/index.ts';
import { type Loaded, loadFixture } from '../../helpers/cleanup.ts';
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
    const stdout: string[] = [];
    const stderr: string[] = [];
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_ENDPOINT')));
    const io: CliIo = {
      env,
      stdout: (line) => stdout.push(line),
      stderr: (line) => stderr.push(line),
      interactive: false,
      confirm: async () => false,
      connect: (options) => createEcrClient({ ...options, maxAttempts: 1 }),
      now: () => server.now(),
    };
    const running = loaded.images.find((image) => image.repositoryName === 'payments/api' && image.id === 'stale-2');
    if (!running) throw new Error('the demo has no payments/api stale-2');
    // Act
    const code = await runLifecycleCli(
      ['compare', 'payments/api', '--endpoint-url', server.url, '--region', 'us-east-1'],
      io,
    );
    // Assess
    expect(code, stderr.join('\n')).toBe(0);
    const row = stdout.find((line) => line.startsWith(shortDigest(running.imageDigest))) ?? '';
    expect(row).toMatch(/expire \(rule 1\)\s+keep \(in-use.*ecs demo\/payments-api.*\)\s+in-use-expired$/);
    expect(stdout.join('\n')).toMatch(/in-use-expired: rule 1 expires .*\(ecs demo\/payments-api\)/);
  });
});
