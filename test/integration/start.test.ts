import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AWS_CLI, awsEcr, DEBIAN_PYTHON, type RunResult, requireRealClients } from '../helpers/real-clients.ts';

/** `npm start` as a user runs it: the printed endpoint serves the demo registry to the AWS CLI; Ctrl-C stops it. */
// Child processes (node with tsx, the AWS CLI, Python) start slowly on a loaded machine: a generous limit per test.
describe('npm start', { timeout: 180_000 }, () => {
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  /** Starts `cli/start.ts` on a free port; resolves once `pattern` matches its output (stdout and stderr). */
  const start = async (pattern: RegExp) => {
    const started = spawn(process.execPath, ['--import', 'tsx', 'cli/start.ts', '--port', '0'], {
      cwd: process.cwd(),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let output = '';
    started.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    started.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} in the output: ${output}`)), 60_000);
      started.stdout?.on('data', () => {
        const endpointMatch = /(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (endpointMatch?.[1] && pattern.test(output)) {
          clearTimeout(timer);
          resolve(endpointMatch[1]);
        }
      });
    });
    return { child: started, endpoint, output: () => output };
  };

  it('serves the demo registry at the printed endpoint and stops cleanly on SIGINT', async () => {
    // Prepare
    requireRealClients();
    const started = await start(/(http:\/\/127\.0\.0\.1:\d+)/);
    // Act
    const listed = await awsEcr(started.endpoint, ['describe-repositories']);
    const exited = once(started.child, 'exit');
    started.child.kill('SIGINT');
    const [code] = await exited;
    // Assess
    expect(listed.code).toBe(0);
    const names = (JSON.parse(listed.stdout) as { repositories: { repositoryName: string }[] }).repositories.map(
      (repository) => repository.repositoryName,
    );
    expect(names).toEqual(expect.arrayContaining(['payments/api', 'payments/worker', 'platform/base-images']));
    expect(started.output()).toContain(`aws ecr describe-repositories --endpoint-url ${started.endpoint}`);
    expect(code).toBe(0);
  });

  it('prints an export line and aws commands that work as printed in a clean environment', async () => {
    // Prepare
    requireRealClients();
    const started = await start(/^Ctrl-C stops\.$/m);
    const lines = started
      .output()
      .split('\n')
      .map((line) => line.trim());
    const exportLine = lines.find((line) => line.startsWith('export '));
    const commands = lines.filter((line) => line.startsWith('aws '));
    const pulls = lines.filter((line) => line.startsWith('skopeo '));
    // No AWS_* variable but those the printed line sets, no AWS config file, and `aws` on PATH is Debian's CLI v2.
    const home = mkdtempSync(join(tmpdir(), 'ecr-start-clean-'));
    const inCleanShell = (script: string) =>
      new Promise<RunResult>((resolve) => {
        execFile(
          '/bin/sh',
          ['-c', `${exportLine}\n${script}`],
          { env: { PATH: '/usr/bin:/bin', HOME: home }, cwd: home, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
      });
    // Act
    const which = await inCleanShell('command -v aws');
    const pulled: { command: string; result: RunResult }[] = [];
    for (const command of pulls) pulled.push({ command, result: await inCleanShell(command) });
    const layout = await inCleanShell('cat payments-api/index.json');
    const results: { command: string; result: RunResult }[] = [];
    for (const command of commands) results.push({ command, result: await inCleanShell(command) });
    // boto3 reads only AWS_DEFAULT_REGION: the printed line serves it too, without a region_name.
    const fromBoto3 = await inCleanShell(
      `${DEBIAN_PYTHON} -c "import boto3; print(len(boto3.client('ecr', endpoint_url='${started.endpoint}').describe_repositories()['repositories']))"`,
    );
    // Assess
    expect(exportLine).toMatch(/\bAWS_REGION=us-east-1\b/);
    expect(exportLine).toMatch(/\bAWS_DEFAULT_REGION=us-east-1\b/);
    expect(which.stdout.trim()).toBe(AWS_CLI);
    expect(commands.map((command) => command.split(' ').slice(0, 3).join(' '))).toEqual(
      expect.arrayContaining([
        'aws ecr describe-repositories',
        'aws ecr describe-images',
        'aws ecr batch-get-image',
        'aws ecr describe-image-scan-findings',
        'aws ecr put-image',
        'aws ecr start-image-scan',
        'aws ecr-public describe-repositories',
        'aws ecr-public describe-image-tags',
      ]),
    );
    for (const { command, result } of results) {
      expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: '' });
    }
    expect(fromBoto3, fromBoto3.stderr).toMatchObject({ code: 0, stdout: '6\n' });
    // The demo images have real content: the printed skopeo command copies a multi-arch release to a local layout.
    expect(pulls).toHaveLength(1);
    for (const { command, result } of pulled) {
      expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: '' });
    }
    expect(JSON.parse(layout.stdout)).toMatchObject({
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.index.v1+json',
          annotations: { 'org.opencontainers.image.ref.name': 'v1.5.0' },
        },
      ],
    });
  });
});
