import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  InitiateLayerUploadCommand,
  PutImageCommand,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addTwoPlatformIndex,
  buildReferrer,
  corruptBlobs,
  createOciLayout,
  listBlobDigests,
  OCI_CONFIG,
  OCI_MANIFEST,
  sha256,
} from '../../helpers/oci-layout.ts';
import { requireRealClients } from '../../helpers/real-clients.ts';
import { killRegistryCli, type RegistryCli, startRegistryCli } from '../../helpers/registry.ts';
import {
  listTags,
  localRegistryTarget,
  pullToLayout,
  pushLayout,
  type RegistryTarget,
  requireSkopeo,
} from '../../helpers/skopeo.ts';
import { getReferrers, pushBlob, putManifest } from '../../helpers/v2-client.ts';

/**
 * The registry's `--data-dir` with real pushes: skopeo and the ECR layer API push images with real blobs into the
 * `local-ecr` command, which is killed with SIGKILL right after the last acknowledgement and started again on the
 * same directory. Everything acknowledged pulls whole with skopeo, with the login token from before the restart.
 */

describe('local-ecr --data-dir with images pushed by skopeo and the layer API, across a kill -9', {
  timeout: 180_000,
}, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'local-ecr-data-'));
  const layout = createOciLayout();
  const running: RegistryCli[] = [];

  afterEach(async () => {
    for (const { child, client } of running.splice(0)) {
      client.destroy();
      await killRegistryCli({ child });
    }
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(layout.dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged image, tag, blob and referrer, and the login', async () => {
    // Prepare
    requireSkopeo();
    requireRealClients();
    const first = await startRegistryCli(dataDir);
    running.push(first);
    await first.client.send(new CreateRepositoryCommand({ repositoryName: 'keep/app' }));
    await first.client.send(
      new CreateRepositoryCommand({ repositoryName: 'keep/scanned', imageScanningConfiguration: { scanOnPush: true } }),
    );
    const target: RegistryTarget = await localRegistryTarget(first);
    const image = layout.addImage({ seed: 'restart-v1', layers: [200_000, 30_000] });
    layout.tag('v1', image.descriptor);
    const index = addTwoPlatformIndex(layout, 'restart-multi', 'multi', [90_000]);
    const referrer = buildReferrer({ subject: image.descriptor });
    await pushLayout(target, layout.dir, 'v1', 'keep/app');
    await pushLayout(target, layout.dir, 'multi', 'keep/app', { all: true });
    for (const blob of referrer.blobs) await pushBlob(target, 'keep/app', blob.bytes);
    await putManifest(target, 'keep/app', referrer.descriptor.digest, referrer.manifest, referrer.descriptor.mediaType);
    await pushLayout(target, layout.dir, 'v1', 'keep/scanned');
    // An image pushed with the ECR API: its config through the layer API, then PutImage.
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    );
    const { uploadId } = await first.client.send(new InitiateLayerUploadCommand({ repositoryName: 'keep/app' }));
    await first.client.send(
      new UploadLayerPartCommand({
        repositoryName: 'keep/app',
        uploadId,
        partFirstByte: 0,
        partLastByte: config.length - 1,
        layerPartBlob: config,
      }),
    );
    await first.client.send(
      new CompleteLayerUploadCommand({ repositoryName: 'keep/app', uploadId, layerDigests: [sha256(config)] }),
    );
    const apiManifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
      layers: [],
    });
    await first.client.send(
      new PutImageCommand({ repositoryName: 'keep/app', imageManifest: apiManifest, imageTag: 'api' }),
    );
    const before = await first.client.send(new DescribeImagesCommand({ repositoryName: 'keep/app' }));
    // Act: no shutdown code runs.
    await killRegistryCli(first);
    running.splice(0);
    const second = await startRegistryCli(dataDir);
    running.push(second);
    // The token from before the restart still logs in; the address changed.
    const again: RegistryTarget = { ...target, host: new URL(second.url).host };
    const after = await second.client.send(new DescribeImagesCommand({ repositoryName: 'keep/app' }));
    const tags = await listTags(again, 'keep/app');
    const referrers = await getReferrers(again, 'keep/app', image.descriptor.digest);
    const work = mkdtempSync(join(tmpdir(), 'restart-pull-'));
    try {
      const pulled: Record<string, string[]> = {};
      const corrupt: string[] = [];
      for (const [name, repository, reference, all] of [
        ['v1', 'keep/app', 'v1', false],
        ['multi', 'keep/app', 'multi', true],
        ['api', 'keep/app', 'api', false],
        ['scanned', 'keep/scanned', 'v1', false],
        ['referrer', 'keep/app', referrer.descriptor.digest, false],
      ] as const) {
        const out = join(work, name);
        await pullToLayout(again, repository, reference, out, { all });
        pulled[name] = listBlobDigests(out);
        corrupt.push(...corruptBlobs(out));
      }
      // Assess
      const digestsOf = (page: typeof before) =>
        (page.imageDetails ?? []).map((detail) => [detail.imageDigest, [...(detail.imageTags ?? [])].sort()]).sort();
      expect(digestsOf(after)).toEqual(digestsOf(before));
      expect(after.imageDetails).toHaveLength(6);
      expect(tags).toEqual(['api', 'multi', 'v1']);
      expect(JSON.parse(referrers.body.toString()).manifests).toEqual([
        expect.objectContaining({ digest: referrer.descriptor.digest }),
      ]);
      expect(corrupt).toEqual([]);
      expect(pulled.v1).toEqual([image.descriptor.digest, ...image.blobDigests].sort());
      expect(pulled.scanned).toEqual(pulled.v1);
      expect(pulled.multi).toEqual(
        [
          index.descriptor.digest,
          ...index.children.flatMap((child) => [child.descriptor.digest, ...child.blobDigests]),
        ].sort(),
      );
      expect(pulled.api).toEqual([sha256(apiManifest), sha256(config)].sort());
      expect(pulled.referrer).toEqual(
        [referrer.descriptor.digest, ...referrer.blobs.map((blob) => blob.descriptor.digest)].sort(),
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
