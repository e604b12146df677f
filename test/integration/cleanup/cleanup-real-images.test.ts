import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRepositoryCommand } from '@aws-sdk/client-ecr';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceRules } from '../../../local/service.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { digestsIn, reportsOf } from '../../helpers/cleanup.ts';
import {
  addTwoPlatformIndex,
  type BuiltArtifact,
  type BuiltImage,
  type BuiltIndex,
  buildReferrer,
  corruptBlobs,
  createOciLayout,
  listBlobDigests,
  type OciLayout,
} from '../../helpers/oci-layout.ts';
import { requireRealClients } from '../../helpers/real-clients.ts';
import { control, ecrClient, startTestRegistry } from '../../helpers/registry.ts';
import {
  localRegistryTarget,
  pullToLayout,
  pushLayout,
  type RegistryTarget,
  requireSkopeo,
} from '../../helpers/skopeo.ts';
import { pushBlob, putManifest } from '../../helpers/v2-client.ts';

/**
 * The nightly cleanup on images a real tool pushed: skopeo pushes multi-arch indexes and a single-arch image with
 * real gzip layers, referrers go up with a raw `/v2/` PUT carrying a `subject`, tags move as CI re-tags; the
 * scheduled cleanup then runs through the handlers and the local bus, and every image it keeps still pulls whole
 * with skopeo.
 */

const REPOSITORY = 'real/app';
const DAY_S = 86_400;

const CONFIG = parseConfig({
  cleanup: {
    defaults: { olderThanDays: 14, notPulledForDays: 30, quietPeriodMinutes: 60, maxDeleteFraction: 0.75 },
    rules: [{ repositories: ['real/**'] }],
  },
});

interface Pushed {
  layout: OciLayout;
  /** `v1`: kept, with its signature. */
  release: BuiltIndex;
  releaseSignature: BuiltArtifact;
  /** Pushed as `edge`, then `edge` moved to `current`: untagged, stale, with its attestation. */
  replaced: BuiltIndex;
  replacedAttestation: BuiltArtifact;
  current: BuiltIndex;
  /** Pushed as `tmp`, then `tmp` moved to `tmpNext`: an untagged single-arch image. */
  tmp: BuiltImage;
  tmpNext: BuiltImage;
}

describe('scheduled cleanup of images pushed by skopeo', { timeout: 180_000 }, () => {
  let server: RegistryServer;
  let target: RegistryTarget;
  let pushed: Pushed;

  const pushReferrer = async (referrer: BuiltArtifact) => {
    for (const blob of referrer.blobs) await pushBlob(target, REPOSITORY, blob.bytes);
    const answer = await putManifest(
      target,
      REPOSITORY,
      referrer.descriptor.digest,
      referrer.manifest,
      referrer.descriptor.mediaType,
    );
    if (answer.status !== 201) throw new Error(`referrer PUT answered ${answer.status}: ${answer.body.toString()}`);
  };

  beforeAll(async () => {
    requireSkopeo();
    requireRealClients();
    server = await startTestRegistry();
    target = await localRegistryTarget(server);
    await ecrClient(server).send(new CreateRepositoryCommand({ repositoryName: REPOSITORY }));
    const layout = createOciLayout();
    const release = addTwoPlatformIndex(layout, 'release', 'v1', [120_000, 40_000]);
    const replaced = addTwoPlatformIndex(layout, 'replaced', 'edge', [80_000]);
    const tmp = layout.addImage({ seed: 'tmp', layers: [60_000] });
    layout.tag('tmp', tmp.descriptor);
    await pushLayout(target, layout.dir, 'v1', REPOSITORY, { all: true });
    await pushLayout(target, layout.dir, 'edge', REPOSITORY, { all: true });
    await pushLayout(target, layout.dir, 'tmp', REPOSITORY);
    const releaseSignature = buildReferrer({
      subject: release.descriptor,
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    });
    const replacedAttestation = buildReferrer({
      subject: replaced.descriptor,
      artifactType: 'application/vnd.in-toto+json',
    });
    await pushReferrer(releaseSignature);
    await pushReferrer(replacedAttestation);
    // CI re-tags: `edge` and `tmp` move to newer builds, leaving the first ones untagged.
    const current = addTwoPlatformIndex(layout, 'current', 'edge', [70_000]);
    const tmpNext = layout.addImage({ seed: 'tmp-next', layers: [50_000] });
    layout.tag('tmp', tmpNext.descriptor);
    await pushLayout(target, layout.dir, 'edge', REPOSITORY, { all: true });
    await pushLayout(target, layout.dir, 'tmp', REPOSITORY);
    pushed = { layout, release, releaseSignature, replaced, replacedAttestation, current, tmp, tmpNext };
  }, 120_000);

  afterAll(async () => {
    server.bus.stopSchedules();
    await server?.close();
    if (pushed) rmSync(pushed.layout.dir, { recursive: true, force: true });
  });

  it('deletes the untagged build with its children and attestation, and every kept image pulls whole', async () => {
    // Prepare: 40 days pass with no pulls.
    for (const rule of serviceRules(server, { config: CONFIG })) server.bus.addRule(rule);
    await control(server, 'clock', { advanceSeconds: 40 * DAY_S });
    const client = ecrClient(server);
    const before = await digestsIn(client, REPOSITORY);
    // Act
    const { deliveries } = await control<{ deliveries: { ok: boolean; error?: string }[] }>(server, 'bus/fire', {
      rule: 'scheduled-cleanup',
    });
    await server.bus.drain();
    // Assess: exactly the replaced build, its children and its attestation, and the re-tagged single image went.
    expect(deliveries).toEqual([expect.objectContaining({ ok: true })]);
    const after = await digestsIn(client, REPOSITORY);
    const deleted = [...before].filter((digest) => !after.has(digest)).sort();
    const { release, releaseSignature, replaced, replacedAttestation, current, tmp, tmpNext } = pushed;
    expect(deleted).toEqual(
      [
        replaced.descriptor.digest,
        ...replaced.children.map((child) => child.descriptor.digest),
        replacedAttestation.descriptor.digest,
        tmp.descriptor.digest,
      ].sort(),
    );
    const report = reportsOf(server).find((entry) => entry.repositoryName === REPOSITORY);
    expect(report).toMatchObject({ status: 'completed', dryRun: false, counts: { deleted: 5, failed: 0 } });
    const reasonOf = (digest: string) => report?.deleted.find((entry) => entry.digest === digest)?.reason.code;
    expect(reasonOf(replacedAttestation.descriptor.digest)).toBe('referrer-of-deleted-image');
    expect(reasonOf(replaced.children[0]?.descriptor.digest as string)).toBe('child-of-deleted-index');
    expect(report?.kept.find((entry) => entry.digest === releaseSignature.descriptor.digest)?.reason.code).toBe(
      'referrer-of-kept-image',
    );
    // Every kept image pulls whole: the same digests, every blob hashing to its name (a fresh login: the registry
    // clock moved past the first token's 12 hours).
    target = await localRegistryTarget(server);
    const work = mkdtempSync(join(tmpdir(), 'cleanup-pull-'));
    try {
      for (const [tag, index] of [
        ['v1', release],
        ['edge', current],
      ] as const) {
        const out = join(work, tag);
        await pullToLayout(target, REPOSITORY, tag, out, { all: true });
        expect(corruptBlobs(out)).toEqual([]);
        expect(listBlobDigests(out)).toEqual(
          [
            index.descriptor.digest,
            ...index.children.flatMap((child) => [child.descriptor.digest, ...child.blobDigests]),
          ].sort(),
        );
      }
      const single = join(work, 'tmp');
      await pullToLayout(target, REPOSITORY, 'tmp', single);
      expect(listBlobDigests(single)).toEqual([tmpNext.descriptor.digest, ...tmpNext.blobDigests].sort());
      const signature = join(work, 'signature');
      await pullToLayout(target, REPOSITORY, releaseSignature.descriptor.digest, signature);
      expect(listBlobDigests(signature)).toContain(releaseSignature.descriptor.digest);
      expect(corruptBlobs(signature)).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
