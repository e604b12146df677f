import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, TEST_ACCOUNT } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

/** The Debian AWS CLI's `s3api` commands against the local registry's S3 (skipped where the CLI is not installed). */

const AWS_CLI = '/usr/bin/aws';

describe.skipIf(!existsSync(AWS_CLI))('AWS CLI s3api against the local registry', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  let home: string;

  const aws = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        AWS_CLI,
        ['s3api', ...args, '--endpoint-url', server.url, '--output', 'json'],
        {
          cwd: home,
          timeout: 60_000,
          env: {
            PATH: '/usr/bin:/bin',
            HOME: home,
            AWS_ACCESS_KEY_ID: TEST_ACCOUNT,
            AWS_SECRET_ACCESS_KEY: 'local-secret',
            AWS_DEFAULT_REGION: 'us-east-1',
            AWS_MAX_ATTEMPTS: '1',
            AWS_PAGER: '',
            AWS_CONFIG_FILE: join(home, 'config'),
            AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
          },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 's3-aws-cli-'));
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('creates a bucket, puts, lists (prefix, delimiter, keys needing URL encoding), gets and deletes objects', async () => {
    expect(await aws(['create-bucket', '--bucket', 'cli-reports'])).toMatchObject({ code: 0 });
    const file = join(home, 'report.json');
    writeFileSync(file, '{"deleted":2}');
    for (const key of ['runs/r-1/item 1.json', 'runs/r-1/a+b.json', 'runs/r-2/item.json', 'manifest.json']) {
      const put = await aws(['put-object', '--bucket', 'cli-reports', '--key', key, '--body', file]);
      expect(put, put.stderr).toMatchObject({ code: 0 });
      expect(JSON.parse(put.stdout).ETag).toMatch(/^"[0-9a-f]{32}"$/);
    }
    const listed = await aws(['list-objects-v2', '--bucket', 'cli-reports', '--prefix', 'runs/r-1/']);
    expect(listed, listed.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(listed.stdout).Contents.map((object: { Key: string }) => object.Key)).toEqual([
      'runs/r-1/a+b.json',
      'runs/r-1/item 1.json',
    ]);
    const grouped = await aws(['list-objects-v2', '--bucket', 'cli-reports', '--delimiter', '/']);
    expect(JSON.parse(grouped.stdout)).toMatchObject({
      Contents: [{ Key: 'manifest.json', Size: 13 }],
      CommonPrefixes: [{ Prefix: 'runs/' }],
    });
    const out = join(home, 'out.json');
    const got = await aws(['get-object', '--bucket', 'cli-reports', '--key', 'runs/r-1/item 1.json', out]);
    expect(got, got.stderr).toMatchObject({ code: 0 });
    expect(readFileSync(out, 'utf8')).toBe('{"deleted":2}');
    expect(await aws(['delete-object', '--bucket', 'cli-reports', '--key', 'manifest.json'])).toMatchObject({
      code: 0,
    });
    const missing = await aws(['get-object', '--bucket', 'cli-reports', '--key', 'manifest.json', out]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('NoSuchKey');
  });
});
