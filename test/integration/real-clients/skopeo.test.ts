import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ListImageReferrersCommand,
} from '@aws-sdk/client-ecr';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DistributionRegistry, startBasicAuthProxy, startDistribution } from '../../helpers/distribution.ts';
import {
  addTwoPlatformIndex,
  type BuiltArtifact,
  type BuiltImage,
  type BuiltIndex,
  buildReferrer,
  corruptBlobs,
  createOciLayout,
  type Descriptor,
  listBlobDigests,
  OCI_INDEX,
  OCI_MANIFEST,
  type OciLayout,
  sha256,
} from '../../helpers/oci-layout.ts';
import { requireRealClients } from '../../helpers/real-clients.ts';
import { ecrClient, startTestRegistry } from '../../helpers/registry.ts';
import {
  distributionTarget,
  inspect,
  inspectRaw,
  listTags,
  localRegistryTarget,
  pullToLayout,
  pushLayout,
  type RegistryTarget,
  requireSkopeo,
  SkopeoError,
} from '../../helpers/skopeo.ts';
import {
  errorCodes,
  getReferrers,
  probeV2,
  pushBlob,
  putManifest,
  tagsPage,
  v2Request,
} from '../../helpers/v2-client.ts';

/**
 * skopeo 1.9 pushing to and pulling from a `/v2/` registry: CNCF distribution 2.8 (the reference), and the local
 * registry, with the same script. Where ECR and distribution 2.8 differ, each target's expectation is written out.
 * Run alone: `npx vitest run test/integration/real-clients/skopeo.test.ts` (needs skopeo, docker-registry, awscli).
 */

/** The images every target receives: built once, deterministic, so every run and every target sees the same digests. */
interface Fixture {
  layout: OciLayout;
  /** `v1`: one linux/amd64 image with two real gzip layers. */
  image: BuiltImage;
  /** `multi`: linux/amd64 + linux/arm64. */
  index: BuiltIndex;
  /** `sbom`: an artifact whose subject is `v1`. */
  referrer: BuiltArtifact;
}

function buildFixture(): Fixture {
  const layout = createOciLayout();
  const image = layout.addImage({ seed: 'skopeo-v1', layers: [{ size: 300_000, files: 4 }, 1_200_000] });
  layout.tag('v1', image.descriptor);
  const index = addTwoPlatformIndex(layout, 'skopeo-multi', 'multi', [150_000, 50_000]);
  const referrer = buildReferrer({ subject: image.descriptor });
  for (const blob of referrer.blobs) layout.writeBlob(blob.bytes, blob.descriptor.mediaType);
  layout.writeBlob(referrer.manifest, referrer.descriptor.mediaType);
  layout.tag('sbom', referrer.descriptor);
  return { layout, image, index, referrer };
}

/** What one run of the script saw; equal for two registries that store and serve the same bytes. */
interface ScriptResult {
  imageDigest: string;
  indexDigest: string;
  /** Every blob skopeo pulled back (manifests, configs, layers), by digest. */
  pulledImage: string[];
  pulledIndex: string[];
  tags: string[];
  inspected: { Digest: string; Architecture: string; Os: string; Layers: string[] };
}

const sorted = (values: Iterable<string>) => [...values].sort();

/**
 * THE script, run against every target: push an image and a two-platform index (`copy --all`), pull both back and
 * check every blob and manifest is byte-identical (same digests, and every pulled file hashes to its name), list the
 * tags, inspect. The repository must exist beforehand where the registry does not create it on push (ECR).
 */
async function skopeoScript(target: RegistryTarget, repository: string, fixture: Fixture): Promise<ScriptResult> {
  const { layout, image, index } = fixture;
  const work = mkdtempSync(join(tmpdir(), 'skopeo-pull-'));
  try {
    // Push
    await pushLayout(target, layout.dir, 'v1', repository);
    await pushLayout(target, layout.dir, 'multi', repository, { all: true });

    // Pull back: the same digests, and bytes that still hash to them
    const imageOut = join(work, 'image');
    const indexOut = join(work, 'index');
    await pullToLayout(target, repository, 'v1', imageOut);
    await pullToLayout(target, repository, 'multi', indexOut, { all: true });
    const pulledImage = listBlobDigests(imageOut);
    const pulledIndex = listBlobDigests(indexOut);
    expect(pulledImage).toEqual(sorted([image.descriptor.digest, ...image.blobDigests]));
    expect(pulledIndex).toEqual(
      sorted([
        index.descriptor.digest,
        ...index.children.flatMap((child) => [child.descriptor.digest, ...child.blobDigests]),
      ]),
    );
    expect(corruptBlobs(imageOut)).toEqual([]);
    expect(corruptBlobs(indexOut)).toEqual([]);
    // dir: keeps the manifest as manifest.json and each blob under its bare hex digest
    const dirOut = join(work, 'dir');
    await pullToLayout(target, repository, 'v1', dirOut, { format: 'dir' });
    expect(readFileSync(join(dirOut, 'manifest.json')).equals(image.manifest)).toBe(true);
    for (const digest of image.blobDigests) {
      expect(sha256(readFileSync(join(dirOut, digest.slice('sha256:'.length))))).toBe(digest);
    }

    // The manifests as the registry serves them: the pushed bytes exactly
    expect((await inspectRaw(target, repository, 'v1')).equals(image.manifest)).toBe(true);
    expect((await inspectRaw(target, repository, 'multi')).equals(index.index)).toBe(true);
    for (const child of index.children) {
      expect((await inspectRaw(target, repository, child.descriptor.digest)).equals(child.manifest)).toBe(true);
    }

    // Tags and inspect
    const tags = sorted(await listTags(target, repository));
    expect(tags).toEqual(['multi', 'v1']);
    const inspected = await inspect(target, repository, 'v1');
    expect(inspected).toMatchObject({
      Digest: image.descriptor.digest,
      Architecture: 'amd64',
      Os: 'linux',
      Layers: image.layers.map((layer) => layer.digest),
    });
    const { Digest, Architecture, Os, Layers } = inspected;
    return {
      imageDigest: image.descriptor.digest,
      indexDigest: index.descriptor.digest,
      pulledImage,
      pulledIndex,
      tags,
      inspected: { Digest, Architecture, Os, Layers },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** What a registry answers over `/v2/` once the script has run, where the spec and ECR agree. */
interface WireFacts {
  manifests: {
    reference: string;
    status: number;
    contentType: string | null;
    digestHeader: string | null;
    bodyDigest: string;
  }[];
  blobHead: { status: number; contentLength: string | null; digestHeader: string | null };
  missingManifest: { status: number; codes: string[] };
  missingBlob: { status: number; codes: string[] };
}

const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX].join(', ');
const MISSING = `sha256:${'0'.repeat(64)}`;

/** Manifest GETs (by tag and by digest), a blob HEAD and two misses, reduced to what a client relies on. */
async function wireFacts(target: RegistryTarget, repository: string, fixture: Fixture): Promise<WireFacts> {
  const references = ['v1', 'multi', fixture.index.children[1]?.descriptor.digest as string];
  const manifests = [];
  for (const reference of references) {
    const response = await v2Request(target, 'GET', `/v2/${repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
    });
    manifests.push({
      reference,
      status: response.status,
      contentType: response.headers.get('content-type'),
      digestHeader: response.headers.get('docker-content-digest'),
      bodyDigest: sha256(response.body),
    });
  }
  const head = await v2Request(target, 'HEAD', `/v2/${repository}/blobs/${fixture.image.layers[1]?.digest}`);
  const missingManifest = await v2Request(target, 'GET', `/v2/${repository}/manifests/${MISSING}`, {
    headers: { accept: MANIFEST_ACCEPT },
  });
  const missingBlob = await v2Request(target, 'GET', `/v2/${repository}/blobs/${MISSING}`);
  return {
    manifests,
    blobHead: {
      status: head.status,
      contentLength: head.headers.get('content-length'),
      digestHeader: head.headers.get('docker-content-digest'),
    },
    missingManifest: { status: missingManifest.status, codes: errorCodes(missingManifest.body) },
    missingBlob: { status: missingBlob.status, codes: errorCodes(missingBlob.body) },
  };
}

/** WireFacts as the OCI Distribution spec has them, for the fixture. */
function expectedWireFacts(fixture: Fixture): WireFacts {
  const child = fixture.index.children[1] as BuiltImage;
  const layer = fixture.image.layers[1] as Descriptor;
  const manifest = (reference: string, descriptor: Descriptor) => ({
    reference,
    status: 200,
    contentType: descriptor.mediaType,
    digestHeader: descriptor.digest,
    bodyDigest: descriptor.digest,
  });
  return {
    manifests: [
      manifest('v1', fixture.image.descriptor),
      manifest('multi', fixture.index.descriptor),
      manifest(child.descriptor.digest, child.descriptor),
    ],
    blobHead: { status: 200, contentLength: String(layer.size), digestHeader: layer.digest },
    missingManifest: { status: 404, codes: ['MANIFEST_UNKNOWN'] },
    missingBlob: { status: 404, codes: ['BLOB_UNKNOWN'] },
  };
}

/**
 * A referrer artifact (OCI 1.1 `subject`, `artifactType`, empty config) through skopeo: 1.9 copies it both ways
 * byte for byte with --preserve-digests (its non-raw `inspect` refuses artifacts: "unsupported image-specific
 * operation on artifact"), but knows nothing of referrers: no fallback tag, no referrers API.
 */
async function copyReferrer(target: RegistryTarget, repository: string, fixture: Fixture): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'skopeo-referrer-'));
  try {
    await pushLayout(target, fixture.layout.dir, 'v1', repository);
    await pushLayout(target, fixture.layout.dir, 'sbom', repository);
    expect((await inspectRaw(target, repository, 'sbom')).equals(fixture.referrer.manifest)).toBe(true);
    await pullToLayout(target, repository, 'sbom', work);
    expect(listBlobDigests(work)).toEqual(
      sorted([fixture.referrer.descriptor.digest, ...fixture.referrer.blobs.map((blob) => blob.descriptor.digest)]),
    );
    expect(corruptBlobs(work)).toEqual([]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// Every skopeo call is a process, and a busy machine makes each slow to start: a generous limit per test.
describe('skopeo 1.9 and the /v2/ API', { timeout: 180_000 }, () => {
  let fixture: Fixture;
  let distribution: DistributionRegistry;
  let dist: RegistryTarget;
  let server: RegistryServer | undefined;
  let local: RegistryTarget;

  /** ECR creates no repository on push: the local registry's repositories are created first, as users must. */
  const createLocalRepository = async (repositoryName: string) => {
    if (!server) throw new Error('the local registry is not running');
    await ecrClient(server).send(new CreateRepositoryCommand({ repositoryName }));
  };

  beforeAll(async () => {
    requireSkopeo();
    fixture = buildFixture();
    distribution = await startDistribution();
    dist = distributionTarget(distribution);
    requireRealClients();
    server = await startTestRegistry();
    local = await localRegistryTarget(server);
  }, 120_000);

  afterAll(async () => {
    await distribution?.stop();
    await server?.close();
    if (fixture) rmSync(fixture.layout.dir, { recursive: true, force: true });
  });

  describe('against CNCF distribution 2.8', () => {
    it('pushes an image and a two-platform index, pulls both back byte for byte, lists tags and inspects', async () => {
      // Act
      const result = await skopeoScript(dist, 'skopeo/app', fixture);
      // Assess
      expect(result.tags).toEqual(['multi', 'v1']);
      expect(await wireFacts(dist, 'skopeo/app', fixture)).toEqual(expectedWireFacts(fixture));
    });

    it('copies a referrer artifact both ways byte for byte', async () => {
      // Act, Assess
      await copyReferrer(dist, 'skopeo/artifact', fixture);
    });
  });

  describe('against CNCF distribution 2.8 behind Basic auth (the login path of the local registry tests)', () => {
    it('answers 401 with a Basic challenge, and the script passes with AWS:<password> credentials', async () => {
      // Prepare
      const password = 'not-a-real-ecr-token';
      const proxy = await startBasicAuthProxy(distribution.url, `AWS:${password}`);
      const target: RegistryTarget = {
        name: 'distribution (Basic auth)',
        host: proxy.host,
        creds: `AWS:${password}`,
        tlsVerify: false,
      };
      const anonymous: RegistryTarget = { name: 'anonymous', host: proxy.host, tlsVerify: false };
      try {
        // Act
        const probe = await probeV2(proxy.url);
        const result = await skopeoScript(target, 'auth/app', fixture);
        const refused = await pushLayout(anonymous, fixture.layout.dir, 'v1', 'auth/app').catch(
          (error: unknown) => error,
        );
        // Assess
        expect(probe.status).toBe(401);
        expect(probe.challenge).toMatch(/^Basic /);
        expect(result.tags).toEqual(['multi', 'v1']);
        expect(await wireFacts(target, 'auth/app', fixture)).toEqual(expectedWireFacts(fixture));
        expect(refused).toBeInstanceOf(SkopeoError);
        expect((refused as SkopeoError).stderr).toMatch(/unauthorized: authentication required/);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('against the local registry', () => {
    it('pushes an image and a two-platform index, pulls both back byte for byte, lists tags and inspects', async () => {
      // Prepare
      await createLocalRepository('skopeo/app');
      // Act
      const result = await skopeoScript(local, 'skopeo/app', fixture);
      // Assess
      expect(result.tags).toEqual(['multi', 'v1']);
      expect(await wireFacts(local, 'skopeo/app', fixture)).toEqual(expectedWireFacts(fixture));
    });

    it('copies a referrer artifact both ways byte for byte', async () => {
      // Prepare
      await createLocalRepository('skopeo/artifact');
      // Act, Assess
      await copyReferrer(local, 'skopeo/artifact', fixture);
    });
  });

  describe('the local registry: what skopeo pushed, seen through the ECR API', () => {
    it('lists the index tagged and its children untagged, refuses to delete a child, and lists a referrer', async () => {
      // Prepare
      if (!server) throw new Error('the local registry is not running');
      const client = ecrClient(server);
      await createLocalRepository('ecr/view');
      await pushLayout(local, fixture.layout.dir, 'v1', 'ecr/view');
      await pushLayout(local, fixture.layout.dir, 'multi', 'ecr/view', { all: true });
      for (const blob of fixture.referrer.blobs) await pushBlob(local, 'ecr/view', blob.bytes);
      await putManifest(
        local,
        'ecr/view',
        fixture.referrer.descriptor.digest,
        fixture.referrer.manifest,
        fixture.referrer.descriptor.mediaType,
      );
      const [amd64, arm64] = fixture.index.children as [BuiltImage, BuiltImage];
      // Act
      const { imageDetails = [] } = await client.send(new DescribeImagesCommand({ repositoryName: 'ecr/view' }));
      const deleteChild = await client.send(
        new BatchDeleteImageCommand({
          repositoryName: 'ecr/view',
          imageIds: [{ imageDigest: amd64.descriptor.digest }],
        }),
      );
      const { referrers = [] } = await client.send(
        new ListImageReferrersCommand({
          repositoryName: 'ecr/view',
          subjectId: { imageDigest: fixture.image.descriptor.digest },
        }),
      );
      // Assess
      const byDigest = new Map(imageDetails.map((detail) => [detail.imageDigest, detail]));
      const layerBytes = (image: BuiltImage) =>
        image.config.size + image.layers.reduce((sum, layer) => sum + layer.size, 0);
      expect(byDigest.get(fixture.image.descriptor.digest)).toMatchObject({
        imageTags: ['v1'],
        imageManifestMediaType: OCI_MANIFEST,
        artifactMediaType: fixture.image.config.mediaType,
        imageSizeInBytes: layerBytes(fixture.image),
      });
      expect(byDigest.get(fixture.index.descriptor.digest)).toMatchObject({
        imageTags: ['multi'],
        imageManifestMediaType: OCI_INDEX,
      });
      for (const child of [amd64, arm64]) {
        expect(byDigest.get(child.descriptor.digest)?.imageTags).toBeUndefined();
        expect(byDigest.get(child.descriptor.digest)?.imageSizeInBytes).toBe(layerBytes(child));
      }
      expect(byDigest.get(fixture.referrer.descriptor.digest)).toMatchObject({
        subjectManifestDigest: fixture.image.descriptor.digest,
        artifactMediaType: fixture.referrer.descriptor.artifactType,
      });
      expect(imageDetails).toHaveLength(5);
      expect(deleteChild.imageIds).toEqual([]);
      expect(deleteChild.failures).toEqual([
        expect.objectContaining({
          imageId: { imageDigest: amd64.descriptor.digest },
          failureCode: 'ImageReferencedByManifestList',
        }),
      ]);
      expect(referrers).toEqual([
        expect.objectContaining({
          digest: fixture.referrer.descriptor.digest,
          artifactType: fixture.referrer.descriptor.artifactType,
        }),
      ]);
    });
  });

  describe('distribution and the local registry agree where ECR and the spec agree', () => {
    it('give the same digests, pulled blobs, tags, inspect output and /v2/ answers for the same script', async () => {
      // Prepare
      await createLocalRepository('compare/app');
      // Act
      const reference = await skopeoScript(dist, 'compare/app', fixture);
      const ours = await skopeoScript(local, 'compare/app', fixture);
      // Assess
      expect(ours).toEqual(reference);
    });
  });

  describe('where ECR differs from distribution 2.8', () => {
    describe('a push to a repository nobody created', () => {
      it('distribution creates the repository', async () => {
        // Act
        await pushLayout(dist, fixture.layout.dir, 'v1', 'never/created');
        // Assess
        expect(await listTags(dist, 'never/created')).toEqual(['v1']);
      });

      it('the local registry refuses it with NAME_UNKNOWN, as ECR does', async () => {
        // Act
        const push = await pushLayout(local, fixture.layout.dir, 'v1', 'never/created').catch(
          (error: unknown) => error,
        );
        const upload = await pushBlob(local, 'never/created', Buffer.from('{}')).catch((error: unknown) => error);
        // Assess
        expect(push).toBeInstanceOf(SkopeoError);
        expect((push as SkopeoError).stderr).toMatch(/name unknown|NAME_UNKNOWN/i);
        expect(upload).toMatchObject({ status: 404 });
        expect(errorCodes((upload as { body: string }).body)).toEqual(['NAME_UNKNOWN']);
      });
    });

    describe('a tags list with n and last', () => {
      const prepare = async (target: RegistryTarget, repository: string) => {
        await pushLayout(target, fixture.layout.dir, 'v1', repository);
        await pushLayout(target, fixture.layout.dir, 'multi', repository, { all: true });
      };

      it('distribution 2.8 ignores n and last and answers every tag, with no Link', async () => {
        // Prepare
        await prepare(dist, 'tags/paged');
        // Act
        const first = await tagsPage(dist, 'tags/paged', { n: 1 });
        const after = await tagsPage(dist, 'tags/paged', { n: 1, last: 'multi' });
        // Assess
        // (in no order the spec names: distribution 2.8 lists tags as its storage driver walks them)
        for (const page of [first, after]) {
          expect(page.status).toBe(200);
          expect(sorted(page.tags)).toEqual(['multi', 'v1']);
          expect(page.link).toBeNull();
        }
      });

      it('the local registry pages in lexical order, with a Link to the next page', async () => {
        // Prepare
        await createLocalRepository('tags/paged');
        await prepare(local, 'tags/paged');
        // Act
        const first = await tagsPage(local, 'tags/paged', { n: 1 });
        const after = await tagsPage(local, 'tags/paged', { n: 1, last: 'multi' });
        // Assess
        expect(first.status).toBe(200);
        expect(first.tags).toEqual(['multi']);
        expect(first.link).toMatch(/<[^>]*\/v2\/tags\/paged\/tags\/list\?[^>]*last=multi[^>]*>;\s*rel="next"/);
        expect(after.status).toBe(200);
        expect(after.tags).toEqual(['v1']);
      });
    });

    describe('a referrer (OCI 1.1 subject) pushed with a raw manifest PUT', () => {
      const pushReferrer = async (target: RegistryTarget, repository: string) => {
        await pushLayout(target, fixture.layout.dir, 'v1', repository);
        for (const blob of fixture.referrer.blobs) await pushBlob(target, repository, blob.bytes);
        return putManifest(
          target,
          repository,
          fixture.referrer.descriptor.digest,
          fixture.referrer.manifest,
          fixture.referrer.descriptor.mediaType,
        );
      };

      it('distribution 2.8 stores it, but sends no OCI-Subject and has no referrers API (404)', async () => {
        // Act
        const put = await pushReferrer(dist, 'referrers/app');
        const referrers = await getReferrers(dist, 'referrers/app', fixture.image.descriptor.digest);
        // Assess
        expect(put.status).toBe(201);
        expect(put.headers.get('docker-content-digest')).toBe(fixture.referrer.descriptor.digest);
        expect(put.headers.get('oci-subject')).toBeNull();
        expect(referrers.status).toBe(404);
      });

      it('the local registry answers OCI-Subject and lists it in the referrers API, as ECR does', async () => {
        // Prepare
        await createLocalRepository('referrers/app');
        // Act
        const put = await pushReferrer(local, 'referrers/app');
        const referrers = await getReferrers(local, 'referrers/app', fixture.image.descriptor.digest);
        const none = await getReferrers(local, 'referrers/app', fixture.index.descriptor.digest);
        // Assess
        expect(put.status).toBe(201);
        expect(put.headers.get('docker-content-digest')).toBe(fixture.referrer.descriptor.digest);
        expect(put.headers.get('oci-subject')).toBe(fixture.image.descriptor.digest);
        expect(referrers.status).toBe(200);
        expect(referrers.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
        expect(JSON.parse(referrers.body.toString())).toMatchObject({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [
            {
              mediaType: fixture.referrer.descriptor.mediaType,
              digest: fixture.referrer.descriptor.digest,
              size: fixture.referrer.descriptor.size,
              artifactType: fixture.referrer.descriptor.artifactType,
            },
          ],
        });
        // The spec: no referrers is an empty index, not a 404.
        expect(none.status).toBe(200);
        expect(JSON.parse(none.body.toString())).toMatchObject({ manifests: [] });
      });
    });
  });
});
