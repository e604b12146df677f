import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { awsEcr, requireRealClients } from '../../helpers/real-clients.ts';

/** `npm start`, then the push example it prints, run with the real AWS CLI: the verdict appears in its output. */
// Child processes (node with tsx, the AWS CLI, Python) start slowly on a loaded machine: a generous limit per test.
describe('npm start and aws ecr put-image', { timeout: 180_000 }, () => {
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  const waitFor = (read: () => string, pattern: RegExp, what: string) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} in the output:\n${read()}`)), 60_000);
      const check = () => {
        const match = pattern.exec(read());
        if (!match) return;
        clearTimeout(timer);
        child?.stdout?.off('data', check);
        resolve(match);
      };
      child?.stdout?.on('data', check);
      check();
    });

  it('judges a push made with the AWS CLI and prints a one-line verdict', async () => {
    // Prepare
    requireRealClients();
    child = spawn(process.execPath, ['--import', 'tsx', 'cli/start.ts', '--port', '0'], {
      cwd: process.cwd(),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const read = () => output;
    const [, endpoint] = await waitFor(read, /(http:\/\/127\.0\.0\.1:\d+)/, 'endpoint');
    const [, manifest] = await waitFor(read, /--image-manifest (file:\/\/\S+)/, 'push example');
    // Act
    const pushed = await awsEcr(endpoint as string, [
      'put-image',
      '--repository-name',
      'payments/api',
      '--image-tag',
      'v1.6.0',
      '--image-manifest',
      manifest as string,
    ]);
    const [line] = await waitFor(read, /^push payments\/api:v1\.6\.0 .*$/m, 'verdict line');
    const toWorker = await awsEcr(endpoint as string, [
      'put-image',
      '--repository-name',
      'payments/worker',
      '--image-tag',
      '2.5.0',
      '--image-manifest',
      manifest as string,
    ]);
    const [scanLine] = await waitFor(read, /^scan payments\/worker sha256:\S+: \w+.*$/m, 'scan verdict line');
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    await exited;
    // Assess
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(line).toMatch(/: corrected \[enforce\]/);
    expect(line).toContain('tagMutability corrected (drift)');
    expect(line).toContain('start-scan: done');
    expect(toWorker.code, toWorker.stderr).toBe(0);
    expect(scanLine).toMatch(/: FAIL/);
  });
});
