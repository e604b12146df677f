import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** `npm run registry` refuses bad flags with a clear message and exit 2, before it listens on anything. */
const PACKAGE = resolve(import.meta.dirname, '../..');

const start = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: PACKAGE,
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('npm run registry flags', () => {
  it.each([
    ['--bus-log-mb', '1e9', /Invalid --bus-log-mb "1e9": give a number of MiB from 1 to 4096/],
    ['--bus-log-mb', '0', /Invalid --bus-log-mb "0"/],
    ['--bus-log-mb', 'NaN', /Invalid --bus-log-mb "NaN"/],
    ['--port', '70000', /Invalid port "70000"/],
    ['--port', '-1', /Invalid port "-1"/],
  ])('refuses %s %s', { timeout: 90_000 }, (flag, value, message) => {
    // Act
    const run = start([`${flag}=${value}`]);
    // Assess
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).not.toContain('local registry:');
  });

  it('refuses --fsync without --data-dir', { timeout: 90_000 }, () => {
    // Act
    const run = start(['--fsync']);
    // Assess
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--fsync needs --data-dir/);
    expect(run.stdout).not.toContain('local registry:');
  });

  it('prints its usage for --help and exits, listening on nothing', { timeout: 90_000 }, () => {
    // Act
    const run = start(['--help']);
    // Assess
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: local-ecr [--port <n>] [--bus-log-mb <MiB>]');
    expect(run.stdout).not.toMatch(/local registry: http/);
  });
});

describe('the local-ecr bin', () => {
  it('starts the registry with plain node (tsx registered by the bin) and stops on SIGTERM', {
    timeout: 90_000,
  }, async () => {
    // Prepare
    const child = spawn(process.execPath, ['bin/local-ecr.js', '--port', '0'], { cwd: PACKAGE });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // Act
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`local-ecr did not start: ${output}`)), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /local registry: (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      });
    });
    const clock = await fetch(`${url}/_local/clock`);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    // Assess
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(clock.status).toBe(200);
    expect(await exited).toBe(0);
  });
});
