import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's AWS CLI v2 and Python with boto3, called by path: on PATH a pyenv shim may be another version. */
export const AWS_CLI = '/usr/bin/aws';
export const DEBIAN_PYTHON = '/usr/bin/python3';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Fails with the install command when the Debian clients are missing (`.ci/run` installs them). */
export function requireRealClients(): void {
  for (const path of [AWS_CLI, DEBIAN_PYTHON]) {
    if (!existsSync(path)) {
      throw new Error(`${path} is missing: apt-get install -y awscli python3-boto3 (as .ci/run does)`);
    }
  }
}

const home = mkdtempSync(join(tmpdir(), 'ecr-real-clients-'));

/** The environment of a real client: fake credentials, no retries, no pager, no user config. */
export function clientEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/bin:/bin',
    HOME: home,
    AWS_ACCESS_KEY_ID: 'AKIDREALCLIENT',
    AWS_SECRET_ACCESS_KEY: 'local-secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
    AWS_PAGER: '',
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    ...extra,
  };
}

/** Runs a real client; `env` adds to (or overrides) `clientEnv`'s, for example assumed credentials. */
export function run(
  file: string,
  args: string[],
  options: { input?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: clientEnv(options.env), cwd: options.cwd ?? home, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** `aws ecr <args> --endpoint-url <url> --output json`. */
export function awsEcr(endpoint: string, args: string[], cwd?: string): Promise<RunResult> {
  return run(AWS_CLI, ['ecr', ...args, '--endpoint-url', endpoint, '--output', 'json'], { cwd });
}

/** `aws ecr-public <args> --region us-east-1 --endpoint-url <url> --output json` (ECR Public is in us-east-1 only). */
export function awsEcrPublic(endpoint: string, args: string[], cwd?: string): Promise<RunResult> {
  return run(
    AWS_CLI,
    ['ecr-public', ...args, '--region', 'us-east-1', '--endpoint-url', endpoint, '--output', 'json'],
    {
      cwd,
    },
  );
}

/** Runs a Python program with Debian's boto3; the endpoint is in ENDPOINT. */
export function boto3(endpoint: string, program: string): Promise<RunResult> {
  return run(DEBIAN_PYTHON, ['-c', `ENDPOINT = ${JSON.stringify(endpoint)}\n${program}`]);
}
