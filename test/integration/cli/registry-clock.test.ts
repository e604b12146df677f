import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCleanupCli } from '../../../cli/commands/main.ts';
import type { PlanFile } from '../../../cli/commands/plan-file.ts';
import { createEcrClient } from '../../../shared/ecr/index.ts';
import { control, startTestRegistry } from '../../helpers/registry.ts';

const CONFIG = {
  cleanup: {
    defaults: { olderThanDays: 14, notPulledForDays: 30, keepLatestUntagged: 0, maxDeleteFraction: 1 },
    rules: [{ repositories: ['team/**'] }],
  },
};

/** A demo moves the local registry's clock (`POST /_local/clock`): the CLI must age images by that clock too. */
describe('npm run cleanup against the local registry with its clock moved', () => {
  let server: RegistryServer;
  let dir: string;

  beforeAll(async () => {
    server = await startTestRegistry();
    dir = mkdtempSync(join(tmpdir(), 'registry-clock-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /_local/clock tells the registry clock', async () => {
    const before = await control<{ now: string; epochMs: number }>(server, 'clock');
    await control(server, 'clock', { advanceSeconds: 86_400 });
    const after = await control<{ now: string; epochMs: number }>(server, 'clock');
    expect(after.epochMs - before.epochMs).toBeGreaterThanOrEqual(86_400_000);
    expect(Date.parse(after.now)).toBe(after.epochMs);
  });

  it('plans the images pushed just now as stale once the registry clock is 40 days ahead', async () => {
    // Prepare: images pushed now (registry time), then 40 days pass on the registry's clock
    server.reset();
    const loaded = await control<{ images: { id?: string; imageDigest: string }[] }>(server, 'load', {
      repositories: [
        {
          name: 'team/app',
          images: [
            { id: 'untagged', pushedAt: '-1d' },
            { id: 'tagged', tags: ['v1'], pushedAt: '-1d' },
          ],
        },
      ],
    });
    await control(server, 'clock', { advanceSeconds: 40 * 86_400 });
    const io: CliIo = {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1' },
      stdout: () => {},
      stderr: () => {},
      interactive: false,
      confirm: async () => false,
      connect: (target) => createEcrClient({ ...target, maxAttempts: 1 }),
      now: () => Date.now(),
    };
    const out = join(dir, 'plan.json');

    // Act
    const code = await runCleanupCli(
      ['plan', '--endpoint-url', server.url, '--config', join(dir, 'config.json'), '--out', out],
      io,
    );

    // Assess: the untagged image is 41 days old on the registry's clock; the tagged one is kept
    expect(code).toBe(0);
    const file = JSON.parse(readFileSync(out, 'utf8')) as PlanFile;
    const untagged = loaded.images.find((image) => image.id === 'untagged')?.imageDigest;
    expect(file.repositories[0]?.plan.toDelete).toEqual([untagged]);
    expect(Date.parse(file.createdAt)).toBeGreaterThan(Date.now() + 39 * 86_400_000);
  });
});
