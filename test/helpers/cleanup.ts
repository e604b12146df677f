import { BatchGetImageCommand, DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import { ARTIFACT_TYPES, buildReferrerManifest, MEDIA_TYPES } from '@ecr-automation/local-registry';
import { type CleanupReport, CleanupReportSchema } from '../../shared/cleanup/report.ts';
import { parseConfig } from '../../shared/config/load.ts';
import { control } from './registry.ts';

/** A repository with every shape the cleanup must handle, named so that expectations read plainly. */
export const REALISTIC_FIXTURE: Fixture = {
  repositories: [
    {
      name: 'app/api',
      images: [
        // A tagged multi-arch release, signed and attested: all of it stays.
        { id: 'v1-amd64', architecture: 'amd64', pushedAt: '-200d' },
        { id: 'v1-arm64', architecture: 'arm64', pushedAt: '-200d' },
        { id: 'v1', kind: 'index', children: ['v1-amd64', 'v1-arm64'], tags: ['v1'], pushedAt: '-200d' },
        { id: 'v1-sig', kind: 'signature', subject: 'v1', pushedAt: '-200d' },
        { id: 'v1-att', kind: 'attestation', subject: 'v1', pushedAt: '-200d' },
        { id: 'v1-cosign', tagConvention: { subject: 'v1', suffix: '.sig' }, layerSizes: [300], pushedAt: '-200d' },
        // An untagged old multi-arch image: the index and its children go.
        { id: 'old-amd64', architecture: 'amd64', pushedAt: '-120d' },
        { id: 'old-arm64', architecture: 'arm64', pushedAt: '-120d' },
        { id: 'old', kind: 'index', children: ['old-amd64', 'old-arm64'], pushedAt: '-120d' },
        { id: 'old-sig', kind: 'signature', subject: 'old', pushedAt: '-120d' },
        // Stale untagged single-arch images go; a recently pulled one and one in the quiet period stay.
        { id: 'stale-1', pushedAt: '-90d' },
        { id: 'stale-2', pushedAt: '-60d', lastPulledAt: '-45d' },
        { id: 'pulled', pushedAt: '-90d', lastPulledAt: '-2d' },
        { id: 'in-flight', pushedAt: '-10m' },
        // An attestation whose subject is long gone.
        {
          id: 'orphan-att',
          manifest: buildReferrerManifest({
            seed: 'orphan',
            subject: { mediaType: MEDIA_TYPES.ociManifest, digest: `sha256:${'ab'.repeat(32)}`, size: 1234 },
            artifactType: ARTIFACT_TYPES.inTotoAttestation,
          }),
          pushedAt: '-90d',
        },
        { id: 'latest', tags: ['latest'], pushedAt: '-1d' },
      ],
    },
    {
      name: 'app/worker',
      images: [{ id: 'w', tags: ['1.0'], pushedAt: '-30d' }, ...['a', 'b'].map((id) => ({ id, pushedAt: '-100d' }))],
    },
    { name: 'platform/keep', images: [{ id: 'k', pushedAt: '-300d' }] },
  ],
};

export const EXPECTED_DELETED_IDS = ['old', 'old-amd64', 'old-arm64', 'old-sig', 'stale-1', 'stale-2', 'orphan-att'];

export const TEST_CONFIG = parseConfig({
  cleanup: {
    defaults: { olderThanDays: 14, notPulledForDays: 30, quietPeriodMinutes: 60, maxDeleteFraction: 0.75 },
    rules: [{ repositories: ['platform/**'], enabled: false }, { repositories: ['app/**'] }],
  },
});

export interface Loaded {
  images: { repositoryName: string; id?: string; imageDigest: string; imageTags: string[] }[];
}

export const loadFixture = (server: RegistryServer, fixture: Fixture = REALISTIC_FIXTURE) =>
  control<Loaded>(server, 'load', fixture);

export async function digestsIn(client: ECRClient, repositoryName: string): Promise<Set<string>> {
  const digests = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await client.send(new DescribeImagesCommand({ repositoryName, maxResults: 1000, nextToken }));
    for (const detail of page.imageDetails ?? []) digests.add(detail.imageDigest as string);
    nextToken = page.nextToken;
  } while (nextToken);
  return digests;
}

/**
 * Pulls every tagged image the way a client would: the manifest by tag, then each child an index lists.
 * Returns what failed (an empty list when everything pulls whole).
 */
export async function pullFailures(client: ECRClient, repositoryName: string): Promise<string[]> {
  const failures: string[] = [];
  const { imageDetails = [] } = await client.send(
    new DescribeImagesCommand({ repositoryName, filter: { tagStatus: 'TAGGED' }, maxResults: 1000 }),
  );
  for (const detail of imageDetails) {
    const tag = detail.imageTags?.[0] as string;
    const root = await client.send(new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: tag }] }));
    if (root.failures?.length) failures.push(`${tag}: ${root.failures[0]?.failureCode}`);
    const manifest = JSON.parse(root.images?.[0]?.imageManifest ?? '{}') as { manifests?: { digest: string }[] };
    for (const child of manifest.manifests ?? []) {
      const pulled = await client.send(
        new BatchGetImageCommand({ repositoryName, imageIds: [{ imageDigest: child.digest }] }),
      );
      if (pulled.failures?.length) failures.push(`${tag} child ${child.digest}: ${pulled.failures[0]?.failureCode}`);
    }
  }
  return failures;
}

export const reportsOf = (server: RegistryServer): CleanupReport[] =>
  server.bus.events
    .filter((event) => event['detail-type'] === 'Cleanup Report')
    .map((event) => CleanupReportSchema.parse(event.detail));

export const MUTATING_ECR_OPERATIONS = [
  'BatchDeleteImage',
  'UpdateImageStorageClass',
  'PutImage',
  'PutImageTagMutability',
  'PutImageScanningConfiguration',
  'StartImageScan',
  'RegisterPullTimeUpdateExclusion',
  'DeregisterPullTimeUpdateExclusion',
  'CreateRepository',
  'DeleteRepository',
  'PutLifecyclePolicy',
  'SetRepositoryPolicy',
  'TagResource',
  'UntagResource',
];
