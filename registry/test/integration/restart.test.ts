import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildImageManifest } from '../../src/model/manifests.ts';
import { verifyPassword } from '../../src/ops/authorization.ts';
import { passwordKeys } from '../../src/ops/signing-keys.ts';
import { dataDirKeys } from '../../src/persist/data-dir.ts';
import { killRegistryCli, type RegistryCli, startRegistryCli, TEST_ACCOUNT, TEST_REGION } from '../../src/testing.ts';

/** The real `local-ecr` CLI with a data directory, killed with SIGKILL (no shutdown code runs) and started again. */
const BIN = resolve(import.meta.dirname, '../../bin/local-ecr.js');

/** Runs the CLI to its exit (a second process refused): its code and stderr. */
function runCli(dataDir: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [BIN, '--port', '0', '--data-dir', dataDir], { stdio: 'pipe' });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((done) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stderr, stdout });
    }),
  );
}

async function controlCall(url: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${url}/_local/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`control ${path}: ${response.status} ${await response.text()}`);
}

describe('local-ecr --data-dir across a kill -9', { timeout: 120_000 }, () => {
  let dir: string;
  let running: RegistryCli[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-ecr-restart-'));
  });
  afterEach(async () => {
    for (const held of running) await killRegistryCli(held);
    running = [];
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged repository, image and tag, its tokens, and its lock', async () => {
    // Prepare
    const first = await startRegistryCli(dir);
    running.push(first);
    const repositories = ['restart/a', 'restart/b'];
    for (const repositoryName of repositories) {
      await first.client.send(new CreateRepositoryCommand({ repositoryName }));
    }
    const manifests = Array.from({ length: 40 }, (_, i) => ({
      repositoryName: repositories[i % 2] as string,
      tag: `v${i}`,
      manifest: buildImageManifest({ seed: `restart-${i}` }),
    }));
    for (const { repositoryName, manifest } of manifests) {
      await controlCall(first.url, 'blobs', { repositoryName, manifest });
    }
    const token = await first.client.send(new GetAuthorizationTokenCommand({}));
    const refused = await runCli(dir);
    // Pushes in flight when the process is killed: the ones acknowledged must all be there after the restart.
    const acknowledged: typeof manifests = [];
    let page: string | undefined;
    await new Promise<void>((done) => {
      let settled = 0;
      for (const image of manifests) {
        first.client
          .send(
            new PutImageCommand({
              repositoryName: image.repositoryName,
              imageManifest: image.manifest,
              imageTag: image.tag,
            }),
          )
          .then(
            async () => {
              acknowledged.push(image);
              if (acknowledged.length === 25) {
                page = (
                  await first.client.send(new DescribeImagesCommand({ repositoryName: 'restart/a', maxResults: 1 }))
                ).nextToken;
                first.child.kill('SIGKILL');
              }
            },
            () => undefined,
          )
          .finally(() => {
            if (++settled === manifests.length) done();
          });
      }
    });
    await killRegistryCli(first);
    // Act
    const second = await startRegistryCli(dir);
    running.push(second);
    const described = await second.client.send(new DescribeRepositoriesCommand({}));
    const pulls = await Promise.all(
      acknowledged.map((image) =>
        second.client.send(
          new BatchGetImageCommand({ repositoryName: image.repositoryName, imageIds: [{ imageTag: image.tag }] }),
        ),
      ),
    );
    const nextPage = await second.client.send(
      new DescribeImagesCommand({ repositoryName: 'restart/a', maxResults: 1, nextToken: page }),
    );
    const newToken = await second.client.send(new GetAuthorizationTokenCommand({}));
    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`The data directory ${dir} is in use by process ${first.child.pid}`);
    expect(refused.stdout).not.toMatch(/local registry: http/);
    expect(acknowledged.length).toBeGreaterThanOrEqual(25);
    expect(described.repositories?.map((repository) => repository.repositoryName).sort()).toEqual(repositories);
    expect(pulls.map((pull) => pull.images?.[0]?.imageManifest)).toEqual(acknowledged.map((image) => image.manifest));
    expect(pulls.every((pull) => pull.failures?.length === 0)).toBe(true);
    expect(nextPage.imageDetails).toHaveLength(1);
    // The login from before the kill verifies with the key the registry keeps in its data directory, which the
    // restarted registry signs with.
    passwordKeys.adopt(dataDirKeys(dir).password);
    const passwordOf = (data: typeof token) =>
      Buffer.from(data.authorizationData?.[0]?.authorizationToken as string, 'base64')
        .toString('utf8')
        .slice('AWS:'.length);
    const now = Date.now();
    expect(verifyPassword(passwordOf(token), now)).toMatchObject({ account: TEST_ACCOUNT, region: TEST_REGION });
    expect(verifyPassword(passwordOf(newToken), now)).toMatchObject({ account: TEST_ACCOUNT, region: TEST_REGION });
  });
});
