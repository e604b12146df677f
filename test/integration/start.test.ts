import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { awsEcr, requireRealClients } from '../helpers/real-clients.ts';

/** `npm start` as a user runs it: the printed endpoint serves the demo registry to the AWS CLI; Ctrl-C stops it. */
// Child processes (node with tsx, the AWS CLI, Python) start slowly on a loaded machine: a generous limit per test.
describe('npm start', { timeout: 180_000 }, () => {
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves the demo registry at the printed endpoint and stops cleanly on SIGINT', async () => {
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
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no endpoint printed: ${output}`)), 60_000);
      child?.stdout?.on('data', () => {
        const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    // Act
    const listed = await awsEcr(endpoint, ['describe-repositories']);
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    const [code] = await exited;
    // Assess
    expect(listed.code).toBe(0);
    const names = (JSON.parse(listed.stdout) as { repositories: { repositoryName: string }[] }).repositories.map(
      (repository) => repository.repositoryName,
    );
    expect(names).toEqual(expect.arrayContaining(['payments/api', 'payments/worker', 'platform/base-images']));
    expect(output).toContain(`aws ecr describe-repositories --endpoint-url ${endpoint}`);
    expect(code).toBe(0);
  });
});
