import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECRClient, DescribeRepositoriesCommand as PrivateDescribeRepositoriesCommand } from '@aws-sdk/client-ecr';
import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRPUBLICClient,
  GetAuthorizationTokenCommand,
  type ImageDetail,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr-public';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCleanup } from '../../../shared/cleanup/entry.ts';
import { runCleanupFanOut } from '../../../shared/cleanup/entry-fan-out.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { createEcrGateway } from '../../../shared/ecr/index.ts';
import { createEcrPublicGateway, type EcrPublicGateway } from '../../../shared/ecr-public/index.ts';
import type { CleanupWorkItem } from '../../../shared/events/schemas.ts';
import { DAY, NOW } from '../../helpers/images.ts';
import { testDeps } from '../../helpers/service-deps.ts';

/**
 * The cleanup of an ECR Public repository: the same gather, plan and act as a private one, through the ECR Public
 * gateway (its API mocked, its registry API a loopback stand-in serving the manifests). ECR Public's DescribeImages
 * names no subject and no pull time, so the referrer is known from its manifest.
 */

const REPO = 'tools/cli';
const ALIAS = 'example';
const BASIC = Buffer.from('AWS:password').toString('base64');
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

// amd64 and arm64 images of a tagged index, a signature of the index (OCI referrer), and a stale untagged image.
const amd64 = sha('amd64');
const arm64 = sha('arm64');
const stale = sha('stale');
const indexBody = JSON.stringify({
  schemaVersion: 2,
  mediaType: OCI_INDEX,
  manifests: [
    { mediaType: OCI_MANIFEST, digest: amd64, size: 1 },
    { mediaType: OCI_MANIFEST, digest: arm64, size: 1 },
  ],
});
const index = sha(indexBody);
const signatureBody = JSON.stringify({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  artifactType: SIGNATURE,
  config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha('{}'), size: 2 },
  layers: [],
  subject: { mediaType: OCI_INDEX, digest: index, size: indexBody.length },
});
const signature = sha(signatureBody);
// An attestation of the stale image, pushed between the plan and the deletion (its manifest names its subject).
const lateBody = JSON.stringify({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  artifactType: 'application/vnd.in-toto+json',
  config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha('{}'), size: 2 },
  layers: [],
  subject: { mediaType: OCI_MANIFEST, digest: stale, size: 1 },
});
const late = sha(lateBody);
const MANIFESTS = new Map([
  [index, { body: indexBody, mediaType: OCI_INDEX }],
  [signature, { body: signatureBody, mediaType: OCI_MANIFEST }],
  [late, { body: lateBody, mediaType: OCI_MANIFEST }],
]);

const old = new Date(NOW - 100 * DAY);
const detail = (digest: string, overrides: Partial<ImageDetail> = {}): ImageDetail => ({
  repositoryName: REPO,
  imageDigest: digest,
  imagePushedAt: old,
  imageSizeInBytes: 10_000_000,
  imageManifestMediaType: OCI_MANIFEST,
  artifactMediaType: OCI_CONFIG,
  ...overrides,
});
const IMAGES: ImageDetail[] = [
  detail(index, { imageTags: ['v2.1.0'], imageManifestMediaType: OCI_INDEX, artifactMediaType: undefined }),
  detail(amd64),
  detail(arm64),
  detail(signature, { artifactMediaType: SIGNATURE }),
  detail(stale),
];

const CONFIG = parseConfig({
  cleanup: {
    rules: [
      { repositories: ['payments/**'], notPulledForDays: 30 },
      { registry: 'public', repositories: ['tools/**'], olderThanDays: 14, maxDeleteFraction: 1 },
    ],
  },
});

const ecrPublic = mockClient(ECRPUBLICClient);
let server: Server;
let registryUrl: string;
let manifestReads: string[];

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/token/') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"bearer"}');
      return;
    }
    const digest = path.split('/manifests/')[1] ?? '';
    const stored = MANIFESTS.get(digest);
    manifestReads.push(digest);
    if (path.startsWith(`/v2/${ALIAS}/${REPO}/manifests/`) && stored) {
      response.writeHead(200, { 'content-type': stored.mediaType }).end(stored.body);
    } else {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  manifestReads = [];
  ecrPublic.reset();
  ecrPublic.on(DescribeRepositoriesCommand).resolves({
    repositories: [
      { repositoryName: REPO, repositoryUri: `public.ecr.aws/${ALIAS}/${REPO}` },
      { repositoryName: 'payments/api', repositoryUri: `public.ecr.aws/${ALIAS}/payments/api` },
    ],
  });
  ecrPublic.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: { authorizationToken: BASIC, expiresAt: new Date(Date.now() + 3_600_000) },
  });
  ecrPublic.on(DescribeImagesCommand).callsFake((input: { imageIds?: ImageIdentifier[] }) => ({
    imageDetails:
      input.imageIds === undefined
        ? IMAGES
        : IMAGES.filter((image) => input.imageIds?.some((id) => id.imageDigest === image.imageDigest)),
  }));
  ecrPublic.on(BatchDeleteImageCommand).callsFake((input: { imageIds: ImageIdentifier[] }) => ({
    imageIds: input.imageIds,
    failures: [],
  }));
});

afterEach(() => ecrPublic.reset());

const publicGateway = (readOnly: boolean): EcrPublicGateway =>
  createEcrPublicGateway(new ECRPUBLICClient({ region: 'us-east-1' }), { readOnly, registryUrl, itemRetryDelayMs: 0 });

const workItem = (overrides: Partial<CleanupWorkItem> = {}): CleanupWorkItem => ({
  runId: 'run-1',
  registry: 'public',
  repositoryName: REPO,
  dryRun: false,
  part: 1,
  plannedAt: new Date(NOW).toISOString(),
  ...overrides,
});

const context = { getRemainingTimeInMillis: () => 900_000 };

const deletedDigests = () =>
  ecrPublic
    .commandCalls(BatchDeleteImageCommand)
    .flatMap((call) => (call.args[0].input.imageIds ?? []).map((id) => id.imageDigest));

describe('the cleanup of an ECR Public repository', () => {
  it("keeps the index's children and the referrer its manifest names, and deletes the stale untagged image", async () => {
    // Prepare
    const readOnly: boolean[] = [];
    const deps = testDeps({
      config: () => CONFIG,
      now: () => NOW,
      publicGateway: (options) => {
        readOnly.push(options.readOnly);
        return publicGateway(options.readOnly);
      },
    });
    // Act
    const report = await runCleanup(workItem(), context, deps);
    // Assess
    expect(report).toMatchObject({ registry: 'public', repositoryName: REPO, status: 'completed', ruleIndex: 1 });
    expect(report.deleted).toEqual([
      {
        digest: stale,
        reason: { code: 'stale-untagged', pushedAt: old.toISOString() },
        cost: expect.stringMatching(/^deleted: stops/),
      },
    ]);
    expect(Object.fromEntries(report.kept.map((kept) => [kept.digest, kept.reason]))).toEqual({
      [index]: { code: 'tagged', tags: ['v2.1.0'] },
      [amd64]: { code: 'child-of-kept-index', via: index },
      [arm64]: { code: 'child-of-kept-index', via: index },
      [signature]: { code: 'referrer-of-kept-image', via: index },
    });
    expect(deletedDigests()).toEqual([stale]);
    // Only the index and the possible referrer are read; the plain images are not.
    expect(new Set(manifestReads)).toEqual(new Set([index, signature]));
    expect(readOnly).toEqual([false]);
    expect(report.apiCalls).toMatchObject({ GetManifest: 2, BatchDeleteImage: 1, PutEvents: 1 });
  });

  it('does nothing for a public item no public rule matches, and keeps dry run from the config', async () => {
    // Prepare
    const dryConfig = parseConfig({ cleanup: { ...CONFIG.cleanup, dryRun: true } });
    const readOnly: boolean[] = [];
    const deps = (config = CONFIG) =>
      testDeps({
        config: () => config,
        now: () => NOW,
        publicGateway: (options) => {
          readOnly.push(options.readOnly);
          return publicGateway(options.readOnly);
        },
      });
    // Act: a private repository claimed as public, and a dry run the item tries to turn off.
    const unmatched = await runCleanup(workItem({ repositoryName: 'payments/api' }), context, deps());
    const dry = await runCleanup(workItem({ dryRun: false }), context, deps(dryConfig));
    // Assess
    expect(unmatched).toMatchObject({ status: 'not-matched', registry: 'public', counts: { deleted: 0 } });
    expect(dry).toMatchObject({ status: 'dry-run', dryRun: true });
    expect(dry.deleted.map((entry) => entry.digest)).toEqual([stale]);
    expect(readOnly).toEqual([false, true]);
    expect(ecrPublic.commandCalls(BatchDeleteImageCommand)).toHaveLength(0);
  });
});

describe('the act on an ECR Public repository', () => {
  it('keeps a planned deletion that a referrer pushed since the plan names in its manifest', async () => {
    // Prepare: the second listing (the act's look at images pushed since the plan) shows the attestation.
    let listings = 0;
    ecrPublic.on(DescribeImagesCommand).callsFake((input: { imageIds?: ImageIdentifier[] }) => {
      if (input.imageIds !== undefined) {
        return {
          imageDetails: IMAGES.filter((image) => input.imageIds?.some((id) => id.imageDigest === image.imageDigest)),
        };
      }
      listings++;
      const pushedSince = detail(late, {
        imagePushedAt: new Date(NOW),
        artifactMediaType: 'application/vnd.in-toto+json',
      });
      return { imageDetails: listings === 1 ? IMAGES : [...IMAGES, pushedSince] };
    });
    const deps = testDeps({ config: () => CONFIG, now: () => NOW, publicGateway: (o) => publicGateway(o.readOnly) });
    // Act
    const report = await runCleanup(workItem(), context, deps);
    // Assess
    expect(report.status).toBe('completed');
    expect(report.changedSincePlan).toEqual([{ digest: stale, reason: { code: 'new-referrer', via: late } }]);
    expect(ecrPublic.commandCalls(BatchDeleteImageCommand)).toHaveLength(0);
    expect(manifestReads).toContain(late);
  });

  it('keeps a planned deletion that gained a tag since the plan', async () => {
    // Prepare: the act's listing (the second; it is also the re-read of the candidates) shows a tag the plan did
    // not see.
    let listings = 0;
    ecrPublic.on(DescribeImagesCommand).callsFake((input: { imageIds?: ImageIdentifier[] }) => {
      const tagged = (image: ImageDetail) =>
        image.imageDigest === stale ? { ...image, imageTags: ['hotfix'] } : image;
      if (input.imageIds === undefined) {
        listings++;
        return { imageDetails: listings === 1 ? IMAGES : IMAGES.map(tagged) };
      }
      return {
        imageDetails: IMAGES.filter((image) => input.imageIds?.some((id) => id.imageDigest === image.imageDigest)).map(
          tagged,
        ),
      };
    });
    const deps = testDeps({ config: () => CONFIG, now: () => NOW, publicGateway: (o) => publicGateway(o.readOnly) });
    // Act
    const report = await runCleanup(workItem(), context, deps);
    // Assess
    expect(report.changedSincePlan).toEqual([{ digest: stale, reason: { code: 'tag-gained', tags: ['hotfix'] } }]);
    expect(ecrPublic.commandCalls(BatchDeleteImageCommand)).toHaveLength(0);
  });
});

describe('the cleanup fan-out with a public rule', () => {
  it('publishes one work item per public repository a public rule matches, marked public', async () => {
    // Prepare
    const ecr = mockClient(ECRClient);
    ecr.on(PrivateDescribeRepositoriesCommand).resolves({ repositories: [{ repositoryName: 'payments/api' }] });
    const published: unknown[] = [];
    const deps = testDeps({
      config: () => CONFIG,
      gateway: (options) => createEcrGateway(new ECRClient({ region: 'eu-west-1' }), options),
      publicGateway: (options) => publicGateway(options.readOnly),
      publish: async (events) => {
        published.push(...events.map((event) => event.detail));
        return { calls: 1 };
      },
    });
    try {
      // Act
      const summary = await runCleanupFanOut({ id: 'run-1', time: '2026-11-24T03:00:00Z', detail: {} }, deps);
      // Assess
      expect(published.slice(0, -1)).toEqual([
        { runId: 'run-1', repositoryName: 'payments/api', dryRun: false, part: 1, plannedAt: '2026-11-24T03:00:00Z' },
        {
          runId: 'run-1',
          registry: 'public',
          repositoryName: REPO,
          dryRun: false,
          part: 1,
          plannedAt: '2026-11-24T03:00:00Z',
        },
      ]);
      expect(summary).toMatchObject({ repositories: 3, workItems: 2, public: { repositories: 2, workItems: 1 } });
      // The fan-out's own report comes last, with the same counts
      expect(published.at(-1)).toMatchObject({ runId: 'run-1', workItems: 2, public: { workItems: 1 } });
      expect(summary.apiCalls).toMatchObject({ DescribeRepositories: 1, 'ecr-public:DescribeRepositories': 1 });
    } finally {
      ecr.restore();
    }
  });

  it('makes no ECR call when every rule is for the public registry', async () => {
    // Prepare
    const ecr = mockClient(ECRClient);
    const deps = testDeps({
      config: () => parseConfig({ cleanup: { rules: [{ registry: 'public', repositories: ['**'] }] } }),
      gateway: (options) => createEcrGateway(new ECRClient({ region: 'eu-west-1' }), options),
      publicGateway: (options) => publicGateway(options.readOnly),
      workerPrincipalArn: 'arn:aws:iam::123456789012:role/cleanup-worker',
    });
    try {
      // Act
      const summary = await runCleanupFanOut({ id: 'run-3', time: '2026-11-24T03:00:00Z', detail: {} }, deps);
      // Assess
      expect(ecr.calls()).toHaveLength(0);
      expect(summary).toMatchObject({
        repositories: 2,
        pullTimeExclusion: 'not-needed (no rule for the private registry)',
        public: { repositories: 2, workItems: 2 },
      });
    } finally {
      ecr.restore();
    }
  });

  it('makes no ECR Public call when no rule is for the public registry', async () => {
    // Prepare
    const ecr = mockClient(ECRClient);
    ecr.on(PrivateDescribeRepositoriesCommand).resolves({ repositories: [] });
    const deps = testDeps({
      config: () => parseConfig({ cleanup: { rules: [{ repositories: ['**'] }] } }),
      gateway: (options) => createEcrGateway(new ECRClient({ region: 'eu-west-1' }), options),
    });
    try {
      // Act
      const summary = await runCleanupFanOut({ id: 'run-2', time: '2026-11-24T03:00:00Z', detail: {} }, deps);
      // Assess: testDeps' publicGateway throws if asked for.
      expect(summary.public).toBeUndefined();
      expect(ecrPublic.calls()).toHaveLength(0);
    } finally {
      ecr.restore();
    }
  });
});
