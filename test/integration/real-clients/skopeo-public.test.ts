import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateRepositoryCommand,
  DescribeRegistriesCommand,
  ECRPUBLICClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr-public';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addTwoPlatformIndex,
  buildReferrer,
  corruptBlobs,
  createOciLayout,
  listBlobDigests,
  OCI_CONFIG,
  OCI_MANIFEST,
  type OciLayout,
  sha256,
} from '../../helpers/oci-layout.ts';
import { killRegistryCli, type RegistryCli, startRegistryCli, startTestRegistry } from '../../helpers/registry.ts';
import { pushLayout, type RegistryTarget, requireSkopeo, SkopeoError, skopeo } from '../../helpers/skopeo.ts';
import { getReferrers } from '../../helpers/v2-client.ts';

/**
 * skopeo 1.9 with public repositories as public.ecr.aws serves them, at `127.0.0.1:PORT/<alias>/<name>`: it pushes
 * with `--dest-creds AWS:<password>` of ECR Public's GetAuthorizationToken (through @aws-sdk/client-ecr-public), and
 * pulls, inspects and lists tags with no credentials at all (`--src-no-creds`, `--no-creds`).
 */

const OTHER_ACCOUNT = '222222222222';

function publicClient(url: string, account = 'AKIDLOCALTEST'): ECRPUBLICClient {
  return new ECRPUBLICClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: account, secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  });
}

/** `AWS:<password>` of an ECR Public login, and the alias of the client's public registry. */
async function publicLogin(client: ECRPUBLICClient): Promise<{ creds: string; alias: string }> {
  const { authorizationData } = await client.send(new GetAuthorizationTokenCommand({}));
  const { registries } = await client.send(new DescribeRegistriesCommand({}));
  return {
    creds: Buffer.from(authorizationData?.authorizationToken ?? '', 'base64').toString('utf8'),
    alias: registries?.[0]?.aliases?.[0]?.name ?? '',
  };
}

/** What is pushed: a two-platform index, a cosign-style signature tag of it, and an OCI referrer of it. */
interface Fixture {
  layout: OciLayout;
  index: ReturnType<typeof addTwoPlatformIndex>;
  signatureTag: string;
  signatureDigests: string[];
  referrer: ReturnType<typeof buildReferrer>;
}

function buildFixture(): Fixture {
  const layout = createOciLayout();
  const index = addTwoPlatformIndex(layout, 'public-multi', 'multi', [120_000, 40_000]);
  // cosign's layout: an image tagged sha256-<hex>.sig whose layer is the simple-signing payload.
  const payload = Buffer.from(
    JSON.stringify({ critical: { image: { 'docker-manifest-digest': index.descriptor.digest } }, optional: null }),
  );
  const layer = layout.writeBlob(payload, 'application/vnd.dev.cosign.simplesigning.v1+json');
  const config = layout.writeBlob(
    Buffer.from(JSON.stringify({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [sha256(payload)] } })),
    OCI_CONFIG,
  );
  const signature = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers: [{ ...layer, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQDlocal' } }],
    }),
  );
  const signatureDescriptor = layout.writeBlob(signature, OCI_MANIFEST);
  const signatureTag = `sha256-${index.descriptor.digest.slice('sha256:'.length)}.sig`;
  layout.tag(signatureTag, signatureDescriptor);
  const referrer = buildReferrer({ subject: index.descriptor });
  for (const blob of referrer.blobs) layout.writeBlob(blob.bytes, blob.descriptor.mediaType);
  layout.writeBlob(referrer.manifest, referrer.descriptor.mediaType);
  layout.tag('sbom', referrer.descriptor);
  return {
    layout,
    index,
    signatureTag,
    signatureDigests: [signatureDescriptor.digest, config.digest, layer.digest].sort(),
    referrer,
  };
}

/** Pushes the fixture with `creds` (`skopeo copy`, `--all` for the index). */
async function pushFixture(host: string, repository: string, creds: string, fixture: Fixture): Promise<void> {
  const target: RegistryTarget = { name: 'local registry (public)', host, creds, tlsVerify: false };
  await pushLayout(target, fixture.layout.dir, 'multi', repository, { all: true });
  await pushLayout(target, fixture.layout.dir, fixture.signatureTag, repository);
  await pushLayout(target, fixture.layout.dir, 'sbom', repository);
}

/** `skopeo copy --src-no-creds docker://HOST/REPO:REF oci:OUT:pulled`, `--all`: the blobs pulled, by digest. */
async function pullAnonymously(host: string, repository: string, reference: string, out: string): Promise<string[]> {
  await skopeo([
    'copy',
    '--quiet',
    '--preserve-digests',
    '--all',
    '--src-tls-verify=false',
    '--src-no-creds',
    `docker://${host}/${repository}:${reference}`,
    `oci:${out}:pulled`,
  ]);
  expect(corruptBlobs(out)).toEqual([]);
  return listBlobDigests(out);
}

const indexDigests = (fixture: Fixture) =>
  [
    fixture.index.descriptor.digest,
    ...fixture.index.children.flatMap((child) => [child.descriptor.digest, ...child.blobDigests]),
  ].sort();

describe('skopeo and public repositories: pushed by the alias’s account, pulled anonymously', {
  timeout: 180_000,
}, () => {
  let server: RegistryServer;
  let client: ECRPUBLICClient;
  let fixture: Fixture;
  let host: string;
  const work = mkdtempSync(join(tmpdir(), 'skopeo-public-'));

  beforeAll(async () => {
    requireSkopeo();
    server = await startTestRegistry();
    client = publicClient(server.url);
    fixture = buildFixture();
    host = new URL(server.url).host;
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
    rmSync(work, { recursive: true, force: true });
    rmSync(fixture.layout.dir, { recursive: true, force: true });
  });

  it('pushes an index, its signature tag and a referrer; pulls, inspects and lists them with no credentials', async () => {
    // Prepare
    await client.send(new CreateRepositoryCommand({ repositoryName: 'tools/app' }));
    const { creds, alias } = await publicLogin(client);
    const repository = `${alias}/tools/app`;
    // Act
    await pushFixture(host, repository, creds, fixture);
    const pulledIndex = await pullAnonymously(host, repository, 'multi', join(work, 'multi'));
    const pulledSignature = await pullAnonymously(host, repository, fixture.signatureTag, join(work, 'sig'));
    const pulledReferrer = await pullAnonymously(host, repository, 'sbom', join(work, 'sbom'));
    const raw = await skopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--no-creds',
      `docker://${host}/${repository}:multi`,
    ]);
    const inspected = JSON.parse(
      (
        await skopeo(['inspect', '--tls-verify=false', '--no-creds', `docker://${host}/${repository}:multi`])
      ).toString(),
    ) as { Digest: string; Os: string };
    const tags = JSON.parse(
      (await skopeo(['list-tags', '--tls-verify=false', '--no-creds', `docker://${host}/${repository}`])).toString(),
    ) as { Tags: string[] };
    const referrers = await getReferrers(
      { name: 'anonymous', host, tlsVerify: false },
      repository,
      fixture.index.descriptor.digest,
    );
    const { operations } = (await (await fetch(`${server.url}/_local/calls`)).json()) as {
      operations: Record<string, number>;
    };
    // Assess
    expect(pulledIndex).toEqual(indexDigests(fixture));
    expect(pulledSignature).toEqual(fixture.signatureDigests);
    expect(pulledReferrer).toEqual(
      [fixture.referrer.descriptor.digest, ...fixture.referrer.blobs.map((blob) => blob.descriptor.digest)].sort(),
    );
    expect(raw.equals(fixture.index.index)).toBe(true);
    expect(inspected.Os).toBe('linux');
    // skopeo names the reference's own manifest (the index) and describes the child for this machine.
    expect(inspected.Digest).toBe(fixture.index.descriptor.digest);
    expect(tags.Tags.sort()).toEqual(['multi', 'sbom', fixture.signatureTag].sort());
    expect(JSON.parse(referrers.body.toString()).manifests).toEqual([
      expect.objectContaining({ digest: fixture.referrer.descriptor.digest }),
    ]);
    expect(operations['v2public:GET:manifest']).toBeGreaterThan(0);
  });

  it('refuses a push with another account’s ECR Public login, and an anonymous one', async () => {
    // Prepare
    await client.send(new CreateRepositoryCommand({ repositoryName: 'tools/locked' }));
    const { alias } = await publicLogin(client);
    const stranger = publicClient(server.url, OTHER_ACCOUNT);
    const { creds: strangerCreds } = await publicLogin(stranger);
    stranger.destroy();
    const repository = `${alias}/tools/locked`;
    // Act
    const byStranger = await pushLayout(
      { name: 'stranger', host, creds: strangerCreds, tlsVerify: false },
      fixture.layout.dir,
      'sbom',
      repository,
    ).catch((error: unknown) => error);
    const byAnonymous = await skopeo([
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      '--dest-no-creds',
      `oci:${fixture.layout.dir}:sbom`,
      `docker://${host}/${repository}:sbom`,
    ]).catch((error: unknown) => error);
    const tags = JSON.parse(
      (await skopeo(['list-tags', '--tls-verify=false', '--no-creds', `docker://${host}/${repository}`])).toString(),
    ) as { Tags: string[] };
    // Assess
    expect(byStranger).toBeInstanceOf(SkopeoError);
    expect((byStranger as SkopeoError).stderr).toMatch(/denied|not authorized/i);
    expect(byAnonymous).toBeInstanceOf(SkopeoError);
    expect(tags.Tags).toEqual([]);
  });
});

describe('local-ecr --data-dir with a public image pushed by skopeo, across a kill -9', { timeout: 180_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'local-ecr-public-data-'));
  const running: RegistryCli[] = [];
  afterEach(async () => {
    for (const { child, client } of running.splice(0)) {
      client.destroy();
      await killRegistryCli({ child });
    }
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  // A manifest pushed over /v2/ is journalled as ECR Public PutImage: it replays once that operation is served.
  it('keeps the pushed index, signature and referrer pullable anonymously', async () => {
    // Prepare
    requireSkopeo();
    const fixture = buildFixture();
    const work = mkdtempSync(join(tmpdir(), 'skopeo-public-restart-'));
    try {
      const first = await startRegistryCli(dataDir);
      running.push(first);
      const client = publicClient(first.url);
      await client.send(new CreateRepositoryCommand({ repositoryName: 'keep/app' }));
      const { creds, alias } = await publicLogin(client);
      client.destroy();
      const repository = `${alias}/keep/app`;
      await pushFixture(new URL(first.url).host, repository, creds, fixture);
      // Act: no shutdown code runs.
      await killRegistryCli(first);
      running.splice(0);
      const second = await startRegistryCli(dataDir);
      running.push(second);
      const host = new URL(second.url).host;
      const pulledIndex = await pullAnonymously(host, repository, 'multi', join(work, 'multi'));
      const pulledSignature = await pullAnonymously(host, repository, fixture.signatureTag, join(work, 'sig'));
      // Assess
      expect(pulledIndex).toEqual(indexDigests(fixture));
      expect(pulledSignature).toEqual(fixture.signatureDigests);
    } finally {
      rmSync(work, { recursive: true, force: true });
      rmSync(fixture.layout.dir, { recursive: true, force: true });
    }
  });
});
