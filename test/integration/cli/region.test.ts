import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { control, startTestRegistry, TEST_REGION } from '../../helpers/registry.ts';

/** Where the fixture is not: the local registry keeps one state per account and region. */
const OTHER_REGION = 'eu-west-1';
const NO_REGION = 'No AWS region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The region of the three CLIs, through their entry points in child processes: AWS_DEFAULT_REGION (what the AWS CLI
 * reads) and the profile's region are honoured, --region wins, and no region at all is each CLI's usage error with
 * one plain sentence (scan-gate's exit 4 would tell a pipeline the image is missing).
 */
describe('the CLI region', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  let dir: string;

  /** Runs `cli/<script>` with only the given region settings; HOME and the shared files point at an empty dir. */
  function entry(script: string, args: string[], region: NodeJS.ProcessEnv = {}): Promise<Outcome> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', `cli/${script}`, ...args],
        {
          cwd: process.cwd(),
          timeout: 60_000,
          env: {
            PATH: process.env.PATH,
            HOME: dir,
            AWS_CONFIG_FILE: join(dir, 'no-config'),
            AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
            AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
            AWS_SECRET_ACCESS_KEY: 'local-secret',
            AWS_MAX_ATTEMPTS: '1',
            NODE_NO_WARNINGS: '1',
            ...region,
          },
        },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  const expectNoRegion = (outcome: Outcome, code: number) => {
    expect(outcome.code).toBe(code);
    expect(outcome.stderr).toContain(NO_REGION);
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
    expect(outcome.stderr).not.toContain('Region is missing');
  };

  beforeAll(async () => {
    server = await startTestRegistry();
    dir = mkdtempSync(join(tmpdir(), 'cli-region-'));
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // One image, already scanned without findings: the scan gate passes wherever it finds it.
  beforeEach(async () => {
    server.reset();
    await control(server, 'load', {
      repositories: [{ name: 'team/app', images: [{ id: 'app', tags: ['v1'], pushedAt: '-90d', scanned: true }] }],
    });
  });

  describe('npm run cleanup', () => {
    const config = () => file('cleanup.json', { cleanup: { rules: [{ repositories: ['team/**'] }] } });
    const plan = (out: string, region: NodeJS.ProcessEnv, extra: string[] = []) =>
      entry(
        'cleanup.ts',
        ['plan', '--endpoint-url', server.url, '--config', config(), '--out', join(dir, out), ...extra],
        region,
      );
    const planned = (out: string) =>
      JSON.parse(readFileSync(join(dir, out), 'utf8')) as { region: string; repositories: unknown[] };

    it('plans in AWS_DEFAULT_REGION when AWS_REGION is not set', async () => {
      // Act
      const outcome = await plan('default.json', { AWS_DEFAULT_REGION: TEST_REGION });

      // Assess
      expect(outcome.code).toBe(0);
      expect(planned('default.json')).toMatchObject({ region: TEST_REGION, repositories: [expect.anything()] });
    });

    it("plans in the profile's region from the shared config file", async () => {
      // Prepare: with AWS_PROFILE set, the SDK takes the credentials from the profile too, not the environment.
      const config = `[profile ci]\nregion = ${TEST_REGION}\naws_access_key_id = AKIDLOCALTEST\naws_secret_access_key = local-secret\n`;
      const profile = { AWS_PROFILE: 'ci', AWS_CONFIG_FILE: file('config', config) };

      // Act
      const outcome = await plan('profile.json', profile);

      // Assess
      expect(outcome.code).toBe(0);
      expect(planned('profile.json').region).toBe(TEST_REGION);
    });

    it('prefers --region to AWS_REGION and AWS_DEFAULT_REGION', async () => {
      // Act
      const outcome = await plan('flag.json', { AWS_REGION: OTHER_REGION, AWS_DEFAULT_REGION: OTHER_REGION }, [
        '--region',
        TEST_REGION,
      ]);

      // Assess
      expect(outcome.code).toBe(0);
      expect(planned('flag.json')).toMatchObject({ region: TEST_REGION, repositories: [expect.anything()] });
    });

    it('exits 2 with one plain sentence when no region is set anywhere', async () => {
      // Act
      const outcome = await plan('none.json', {});

      // Assess
      expectNoRegion(outcome, 2);
      expect((await control<{ total: number }>(server, 'calls')).total).toBe(0);
    });
  });

  describe('npm run scan-gate', () => {
    const gate = (region: NodeJS.ProcessEnv, extra: string[] = []) =>
      entry('scan-gate.ts', ['team/app:v1', '--endpoint-url', server.url, '--timeout', '0', ...extra], region);

    it('finds the image in AWS_DEFAULT_REGION when AWS_REGION is not set', async () => {
      // Act
      const outcome = await gate({ AWS_DEFAULT_REGION: TEST_REGION });

      // Assess
      expect(outcome.code).toBe(0);
      expect(outcome.stdout).toContain('PASS');
    });

    it('prefers --region to AWS_REGION', async () => {
      // Act
      const elsewhere = await gate({ AWS_REGION: OTHER_REGION });
      const flagged = await gate({ AWS_REGION: OTHER_REGION }, ['--region', TEST_REGION]);

      // Assess
      expect(elsewhere.code).toBe(4);
      expect(elsewhere.stderr).toContain("'team/app' does not exist");
      expect(flagged.code).toBe(0);
      expect(flagged.stdout).toContain('PASS');
    });

    it('exits 2 (bad usage or config), not 4 (image missing), when no region is set anywhere', async () => {
      // Act
      const outcome = await gate({});

      // Assess
      expectNoRegion(outcome, 2);
    });
  });

  describe('npm run registry:reconcile', () => {
    const config = () =>
      file('registry.json', {
        registry: { pullThroughCache: { rules: [{ prefix: 'ecr-public', upstreamRegistryUrl: 'public.ecr.aws' }] } },
      });
    const reconcile = (command: string, region: NodeJS.ProcessEnv, extra: string[] = []) =>
      entry('registry.ts', [command, '--endpoint-url', server.url, '--config', config(), ...extra], region);

    it('applies in AWS_DEFAULT_REGION, and --region wins over AWS_REGION', async () => {
      // Act
      const applied = await reconcile('apply', { AWS_DEFAULT_REGION: TEST_REGION });
      const here = await reconcile('plan', { AWS_REGION: OTHER_REGION }, ['--region', TEST_REGION]);
      const elsewhere = await reconcile('plan', { AWS_DEFAULT_REGION: OTHER_REGION });

      // Assess
      expect(applied.code).toBe(0);
      expect(here.code).toBe(0);
      expect(elsewhere.code).toBe(2);
    });

    it('exits 1 with one plain sentence, without a stack trace, when ECR cannot be reached', async () => {
      // Act
      const outcome = await entry(
        'registry.ts',
        ['plan', '--endpoint-url', 'http://127.0.0.1:1', '--config', config()],
        {
          AWS_REGION: TEST_REGION,
        },
      );

      // Assess
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain('ECR error, no plan made:');
      expect(outcome.stderr).toContain('ECONNREFUSED');
      expect(outcome.stderr).not.toMatch(/^\s+at /m);
    });

    it('exits 1 with one plain sentence, without a stack trace, when no region is set anywhere', async () => {
      // Act
      const outcome = await reconcile('plan', {});

      // Assess
      expectNoRegion(outcome, 1);
      expect((await control<{ total: number }>(server, 'calls')).total).toBe(0);
    });
  });
});
