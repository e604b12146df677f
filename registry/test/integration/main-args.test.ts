import { spawnSync } from 'node:child_process';
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
});
