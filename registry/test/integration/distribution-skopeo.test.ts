import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { CreateRepositoryCommand, DescribeImagesCommand, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_TYPES } from '../../src/model/manifests.ts';
import { ecrClient, startTestRegistry } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';
import { digestOf } from './registry-api-client.ts';

/**
 * The registry API against a client nobody on this team wrote: skopeo (Debian's 1.9) pushes an OCI layout (one image,
 * and a two-platform index with `--all`), lists its tags, reads the index raw and copies it back, byte for byte.
 */

const SKOPEO = ['/usr/bin/skopeo', '/usr/local/bin/skopeo'].find((path) => existsSync(path));
const run = promisify(execFile);

/** A one-file tar archive (ustar), as a layer holds. */
function tarOf(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) => header.write(value, offset, length, 'ascii');
  field(0, 100, name);
  field(100, 8, '0000644\0');
  field(108, 8, '0000000\0');
  field(116, 8, '0000000\0');
  field(124, 12, `${content.length.toString(8).padStart(11, '0')}\0`);
  field(136, 12, '00000000000\0');
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

/** Writes an OCI layout with image `v1` (amd64) and index `multi` (amd64 and arm64); returns the index's bytes. */
async function writeLayout(dir: string): Promise<{ index: string }> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (content: Buffer | string) => {
    const digest = digestOf(content);
    await writeFile(join(blobs, digest.slice('sha256:'.length)), content);
    return { digest, size: Buffer.byteLength(content) };
  };
  const image = async (architecture: string) => {
    const layer = await put(gzipSync(tarOf(`hello-${architecture}.txt`, Buffer.from(`hello from ${architecture}\n`))));
    const diffId = digestOf(tarOf(`hello-${architecture}.txt`, Buffer.from(`hello from ${architecture}\n`)));
    const config = await put(
      JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] }, config: {} }),
    );
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, ...config },
      layers: [{ mediaType: MEDIA_TYPES.ociLayer, ...layer }],
    });
    return { ...(await put(manifest)), architecture };
  };
  const amd = await image('amd64');
  const arm = await image('arm64');
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [amd, arm].map(({ digest, size, architecture }) => ({
      mediaType: MEDIA_TYPES.ociManifest,
      digest,
      size,
      platform: { architecture, os: 'linux' },
    })),
  });
  const indexBlob = await put(index);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: amd.digest,
          size: amd.size,
          annotations: { 'org.opencontainers.image.ref.name': 'v1' },
        },
        {
          mediaType: MEDIA_TYPES.ociIndex,
          ...indexBlob,
          annotations: { 'org.opencontainers.image.ref.name': 'multi' },
        },
      ],
    }),
  );
  return { index };
}

describe.skipIf(!SKOPEO)('registry API with skopeo', () => {
  let server: RegistryServer;
  let dir: string;
  let creds: string;
  let host: string;

  const skopeo = (...args: string[]) =>
    run(SKOPEO as string, ['--insecure-policy', ...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });

  beforeAll(async () => {
    server = await startTestRegistry();
    dir = await mkdtemp(join(tmpdir(), 'skopeo-smoke-'));
    const client = ecrClient(server);
    await client.send(new CreateRepositoryCommand({ repositoryName: 'smoke/app' }));
    const { authorizationData = [] } = await client.send(new GetAuthorizationTokenCommand({}));
    creds = Buffer.from(authorizationData[0]?.authorizationToken ?? '', 'base64').toString('utf8');
    host = server.url.replace('http://', '');
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('pushes an OCI layout, lists its tags, and copies the index back byte for byte', async () => {
    // Prepare
    const layout = join(dir, 'layout');
    const back = join(dir, 'back');
    const { index } = await writeLayout(layout);
    const target = `docker://${host}/smoke/app`;
    // Act
    await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${layout}:v1`, `${target}:v1`);
    await skopeo(
      'copy',
      '--all',
      '--dest-tls-verify=false',
      '--dest-creds',
      creds,
      `oci:${layout}:multi`,
      `${target}:multi`,
    );
    const tags = await skopeo('list-tags', '--tls-verify=false', '--creds', creds, target);
    const raw = await skopeo('inspect', '--raw', '--tls-verify=false', '--creds', creds, `${target}:multi`);
    await skopeo(
      'copy',
      '--all',
      '--src-tls-verify=false',
      '--src-creds',
      creds,
      `${target}:multi`,
      `oci:${back}:multi`,
    );
    // Assess
    expect(JSON.parse(tags.stdout).Tags).toEqual(['multi', 'v1']);
    expect(raw.stdout).toBe(index);
    const copied = await readdir(join(back, 'blobs', 'sha256'));
    expect(copied).toHaveLength(7); // the index, and two manifests, configs and layers
    for (const name of copied) {
      const original = await readFile(join(layout, 'blobs', 'sha256', name));
      expect((await readFile(join(back, 'blobs', 'sha256', name))).equals(original)).toBe(true);
    }
    const { imageDetails = [] } = await ecrClient(server).send(
      new DescribeImagesCommand({ repositoryName: 'smoke/app' }),
    );
    expect(imageDetails.map((detail) => detail.imageManifestMediaType).sort()).toEqual([
      MEDIA_TYPES.ociIndex,
      MEDIA_TYPES.ociManifest,
      MEDIA_TYPES.ociManifest,
    ]);
  });
});

if (!SKOPEO) {
  describe('registry API with skopeo', () => {
    it.skip('needs skopeo (Debian package `skopeo`), which is not installed', () => undefined);
  });
}
