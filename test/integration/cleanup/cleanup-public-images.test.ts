import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateRepositoryCommand,
  DescribeRegistriesCommand,
  type ECRPUBLICClient,
  GetAuthorizationTokenCommand,
  paginateDescribeImages,
} from '@aws-sdk/client-ecr-public';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceRules } from '../../../local/service.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { reportsOf } from '../../helpers/cleanup.ts';
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
import { control, ecrPublicClient, startTestRegistry } from '../../helpers/registry.ts';
import { pullToLayout, pushLayout, type RegistryTarget, requireSkopeo } from '../../helpers/skopeo.ts';
import { pushBlob, putManifest } from '../../helpers/v2-client.ts';

/**
 * The nightly cleanup of an ECR Public repository whose images a real tool pushed: skopeo pushes multi-arch indexes
 * and a single-arch image with an ECR Public login to `<alias>/<name>`, a cosign-style signature goes up under its
 * `sha256-<hex>.sig` tag, referrers with a raw `/v2/` PUT carrying a `subject`, and tags move as CI re-tags. The
 * scheduled cleanup then runs through the handlers and the local bus with a public rule (the ECR Public gateway:
 * DescribeImages, manifests over `/v2/`, BatchDeleteImage), and every image it keeps still pulls whole, anonymously,
 * as anyone pulls from public.ecr.aws.
 */

const REPOSITORY = 'tools/cli';
const DAY_S = 86_400;

const CONFIG = parseConfig({
  cleanup: {
    defaults: { olderThanDays: 14, quietPeriodMinutes: 60, maxDeleteFraction: 0.75 },
    rules: [{ registry: 'public', repositories: ['tools/**'] }],
  },
});

interface Pushed {
  layout: OciLayout;
  /** `v1`: kept, with its cosign signature tag and an untagged OCI referrer. */
  release: BuiltIndex;
  releaseReferrer: BuiltArtifact;
  signatureTag: string;
  /** Pushed as `edge`, then `edge` moved to `current`: untagged, stale, with its untagged attestation. */
  replaced: BuiltIndex;
  replacedAttestation: BuiltArtifact;
  current: BuiltIndex;
  /** Pushed as `tmp`, then `tmp` moved to `tmpNext`: an untagged single-arch image. */
  tmp: BuiltImage;
  tmpNext: BuiltImage;
}

async function digestsIn(client: ECRPUBLICClient, repositoryName: string): Promise<Set<string>> {
  const digests = new Set<string>();
  for await (const page of paginateDescribeImages({ client }, { repositoryName })) {
    for (const image of page.imageDetails ?? []) digests.add(image.imageDigest as string);
  }
  return digests;
}

describe('scheduled cleanup of an ECR Public repository pushed by skopeo', { timeout: 240_000 }, () => {
  let server: RegistryServer;
  let client: ECRPUBLICClient;
  let owner: RegistryTarget;
  let anonymous: RegistryTarget;
  let repository: string;
  let pushed: Pushed;

  const pushReferrer = async (referrer: BuiltArtifact) => {
    for (const blob of referrer.blobs) await pushBlob(owner, repository, blob.bytes);
    const answer = await putManifest(
      owner,
      repository,
      referrer.descriptor.digest,
      referrer.manifest,
      referrer.descriptor.mediaType,
    );
    if (answer.status !== 201) throw new Error(`referrer PUT answered ${answer.status}: ${answer.body.toString()}`);
  };

  beforeAll(async () => {
    requireSkopeo();
    server = await startTestRegistry();
    client = ecrPublicClient(server);
    await client.send(new CreateRepositoryCommand({ repositoryName: REPOSITORY }));
    const { authorizationData } = await client.send(new GetAuthorizationTokenCommand({}));
    const { registries } = await client.send(new DescribeRegistriesCommand({}));
    const alias = registries?.[0]?.aliases?.[0]?.name ?? '';
    repository = `${alias}/${REPOSITORY}`;
    const host = new URL(server.url).host;
    const creds = Buffer.from(authorizationData?.authorizationToken ?? '', 'base64').toString('utf8');
    owner = { name: 'local ECR Public (owner)', host, creds, tlsVerify: false };
    anonymous = { name: 'local ECR Public (anonymous)', host, tlsVerify: false };

    const layout = createOciLayout();
    const release = addTwoPlatformIndex(layout, 'release', 'v1', [120_000, 40_000]);
    const replaced = addTwoPlatformIndex(layout, 'replaced', 'edge', [80_000]);
    const tmp = layout.addImage({ seed: 'tmp', layers: [60_000] });
    layout.tag('tmp', tmp.descriptor);
    // cosign's convention: the signature is an image tagged sha256-<hex>.sig beside the image it signs.
    const signature = layout.addImage({ seed: 'release-signature', layers: [700] });
    const signatureTag = `sha256-${release.descriptor.digest.slice('sha256:'.length)}.sig`;
    layout.tag(signatureTag, signature.descriptor);
    await pushLayout(owner, layout.dir, 'v1', repository, { all: true });
    await pushLayout(owner, layout.dir, 'edge', repository, { all: true });
    await pushLayout(owner, layout.dir, 'tmp', repository);
    await pushLayout(owner, layout.dir, signatureTag, repository);
    const releaseReferrer = buildReferrer({ subject: release.descriptor, artifactType: 'application/spdx+json' });
    const replacedAttestation = buildReferrer({
      subject: replaced.descriptor,
      artifactType: 'application/vnd.in-toto+json',
    });
    await pushReferrer(releaseReferrer);
    await pushReferrer(replacedAttestation);
    // CI re-tags: `edge` and `tmp` move to newer builds, leaving the first ones untagged.
    const current = addTwoPlatformIndex(layout, 'current', 'edge', [70_000]);
    const tmpNext = layout.addImage({ seed: 'tmp-next', layers: [50_000] });
    layout.tag('tmp', tmpNext.descriptor);
    await pushLayout(owner, layout.dir, 'edge', repository, { all: true });
    await pushLayout(owner, layout.dir, 'tmp', repository);
    pushed = {
      layout,
      release,
      releaseReferrer,
      signatureTag,
      replaced,
      replacedAttestation,
      current,
      tmp,
      tmpNext,
    };
  }, 180_000);

  afterAll(async () => {
    client?.destroy();
    server?.bus.stopSchedules();
    await server?.close();
    if (pushed) rmSync(pushed.layout.dir, { recursive: true, force: true });
  });

  it('deletes the untagged build with its children and attestation, and every kept image pulls whole anonymously', async () => {
    // Prepare: 40 days pass.
    for (const rule of serviceRules(server, { config: CONFIG })) server.bus.addRule(rule);
    await control(server, 'clock', { advanceSeconds: 40 * DAY_S });
    const before = await digestsIn(client, REPOSITORY);
    const callsBefore = new Map(server.calls);
    // Act
    const { deliveries } = await control<{ deliveries: { ok: boolean; error?: string }[] }>(server, 'bus/fire', {
      rule: 'scheduled-cleanup',
    });
    await server.bus.drain();
    // Assess: exactly the replaced build, its children and its attestation, and the re-tagged single image went.
    expect(deliveries).toEqual([expect.objectContaining({ ok: true })]);
    const after = await digestsIn(client, REPOSITORY);
    const deleted = [...before].filter((digest) => !after.has(digest)).sort();
    const { release, releaseReferrer, replaced, replacedAttestation, current, tmp, tmpNext } = pushed;
    expect(deleted).toEqual(
      [
        replaced.descriptor.digest,
        ...replaced.children.map((child) => child.descriptor.digest),
        replacedAttestation.descriptor.digest,
        tmp.descriptor.digest,
      ].sort(),
    );
    const report = reportsOf(server).find((entry) => entry.repositoryName === REPOSITORY);
    expect(report).toMatchObject({
      status: 'completed',
      dryRun: false,
      registry: 'public',
      counts: { deleted: 5, failed: 0 },
    });
    const reasonOf = (digest: string) => report?.deleted.find((entry) => entry.digest === digest)?.reason.code;
    expect(reasonOf(replacedAttestation.descriptor.digest)).toBe('referrer-of-deleted-image');
    expect(reasonOf(replaced.children[0]?.descriptor.digest as string)).toBe('child-of-deleted-index');
    expect(report?.kept.find((entry) => entry.digest === releaseReferrer.descriptor.digest)?.reason.code).toBe(
      'referrer-of-kept-image',
    );
    // It went through ECR Public and the public registry API only (and the bus, and the reports bucket where the run's
    // reports meet): no private ECR call was made.
    const made = [...server.calls].filter(([name, n]) => n !== callsBefore.get(name)).map(([name]) => name);
    const viaPublic = (name: string) => /^(public|v2public|events|s3):/.test(name);
    expect(made.filter((name) => !viaPublic(name))).toEqual([]);
    expect(made).toEqual(expect.arrayContaining(['public:DescribeImages', 'public:BatchDeleteImage']));

    // Every kept image pulls whole with no credentials: the same digests, every blob hashing to its name.
    const work = mkdtempSync(join(tmpdir(), 'cleanup-public-pull-'));
    try {
      for (const [tag, index] of [
        ['v1', release],
        ['edge', current],
      ] as const) {
        const out = join(work, tag);
        await pullToLayout(anonymous, repository, tag, out, { all: true });
        expect(corruptBlobs(out)).toEqual([]);
        expect(listBlobDigests(out)).toEqual(
          [
            index.descriptor.digest,
            ...index.children.flatMap((child) => [child.descriptor.digest, ...child.blobDigests]),
          ].sort(),
        );
      }
      const single = join(work, 'tmp');
      await pullToLayout(anonymous, repository, 'tmp', single);
      expect(listBlobDigests(single)).toEqual([tmpNext.descriptor.digest, ...tmpNext.blobDigests].sort());
      for (const [name, reference] of [
        ['signature', pushed.signatureTag],
        ['referrer', releaseReferrer.descriptor.digest],
      ] as const) {
        const out = join(work, name);
        await pullToLayout(anonymous, repository, reference, out);
        expect(corruptBlobs(out)).toEqual([]);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
