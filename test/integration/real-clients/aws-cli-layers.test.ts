import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsEcr, requireRealClients } from '../../helpers/real-clients.ts';
import { startTestRegistry } from '../../helpers/registry.ts';

/** The Debian AWS CLI v2's layer commands against the local registry: a layer pushed in parts, checked, downloaded. */
// Child processes (the AWS CLI) start slowly on a loaded machine: a generous limit per test.
describe('AWS CLI v2 layer commands against the local registry', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  const work = mkdtempSync(join(tmpdir(), 'ecr-cli-layers-'));
  const REPO = 'cli/layers';
  const MiB = 1024 * 1024;

  beforeAll(async () => {
    requireRealClients();
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    server.reset();
    await awsEcr(server.url, ['create-repository', '--repository-name', REPO]);
  });

  const json = (text: string) => JSON.parse(text) as Record<string, unknown>;
  const digestOf = (content: Buffer) => `sha256:${createHash('sha256').update(content).digest('hex')}`;

  /** Writes a part to a file, for `--layer-part-blob fileb://` (the CLI base64-encodes the file's bytes). */
  const partFile = (name: string, content: Buffer) => {
    const path = join(work, name);
    writeFileSync(path, content);
    return `fileb://${path}`;
  };

  it('uploads a layer in two parts, checks it, and downloads it from the URL it is given', async () => {
    // Prepare
    const layer = randomBytes(5 * MiB + 4_096);
    const parts = [layer.subarray(0, 5 * MiB), layer.subarray(5 * MiB)];
    // Act
    const initiated = await awsEcr(server.url, ['initiate-layer-upload', '--repository-name', REPO]);
    const { uploadId, partSize } = json(initiated.stdout) as { uploadId: string; partSize: number };
    const uploaded = [];
    let first = 0;
    for (const [index, part] of parts.entries()) {
      uploaded.push(
        await awsEcr(server.url, [
          'upload-layer-part',
          '--repository-name',
          REPO,
          '--upload-id',
          uploadId,
          '--part-first-byte',
          String(first),
          '--part-last-byte',
          String(first + part.length - 1),
          '--layer-part-blob',
          partFile(`part-${index}`, part),
        ]),
      );
      first += part.length;
    }
    const completed = await awsEcr(server.url, [
      'complete-layer-upload',
      '--repository-name',
      REPO,
      '--upload-id',
      uploadId,
      '--layer-digests',
      digestOf(layer),
    ]);
    const checked = await awsEcr(server.url, [
      'batch-check-layer-availability',
      '--repository-name',
      REPO,
      '--layer-digests',
      digestOf(layer),
      digestOf(Buffer.from('absent')),
    ]);
    const located = await awsEcr(server.url, [
      'get-download-url-for-layer',
      '--repository-name',
      REPO,
      '--layer-digest',
      digestOf(layer),
    ]);
    // Assess
    expect(initiated.code).toBe(0);
    expect(partSize).toBe(10 * MiB);
    expect(uploaded.map((result) => result.code)).toEqual([0, 0]);
    expect(uploaded.map((result) => json(result.stdout).lastByteReceived)).toEqual([5 * MiB - 1, layer.length - 1]);
    expect(json(uploaded[0]?.stdout ?? '{}')).toMatchObject({ repositoryName: REPO, uploadId });
    expect(completed.code).toBe(0);
    expect(json(completed.stdout)).toMatchObject({ repositoryName: REPO, uploadId, layerDigest: digestOf(layer) });
    expect(checked.code).toBe(0);
    expect(json(checked.stdout)).toEqual({
      layers: [{ layerDigest: digestOf(layer), layerAvailability: 'AVAILABLE', layerSize: layer.length }],
      failures: [
        {
          layerDigest: digestOf(Buffer.from('absent')),
          failureCode: 'MissingLayerDigest',
          failureReason: expect.any(String),
        },
      ],
    });
    expect(located.code).toBe(0);
    const { downloadUrl, layerDigest } = json(located.stdout) as { downloadUrl: string; layerDigest: string };
    expect(layerDigest).toBe(digestOf(layer));
    const download = await fetch(downloadUrl);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(layer)).toBe(true);
  });

  it('prints InvalidLayerPartException and exits 254 for a part that does not follow the bytes received', async () => {
    // Prepare
    const initiated = await awsEcr(server.url, ['initiate-layer-upload', '--repository-name', REPO]);
    const { uploadId } = json(initiated.stdout) as { uploadId: string };
    // Act
    const result = await awsEcr(server.url, [
      'upload-layer-part',
      '--repository-name',
      REPO,
      '--upload-id',
      uploadId,
      '--part-first-byte',
      '10',
      '--part-last-byte',
      '12',
      '--layer-part-blob',
      partFile('gap', Buffer.from('abc')),
    ]);
    // Assess
    expect(result.code).toBe(254);
    expect(result.stderr).toContain(
      'An error occurred (InvalidLayerPartException) when calling the UploadLayerPart operation',
    );
  });
});
