import { DEFAULT_ACCOUNT, DEFAULT_REGION } from '../model/state.ts';
import { type Fixture, type FixtureImage, loadFixture } from './fixtures.ts';

/**
 * The demo registry `npm start` loads: several teams' repositories with multi-arch indexes and their children,
 * signatures and attestations as OCI referrers (and one cosign `.sig` tag), stale untagged images, images pulled
 * last week, and images whose scans report findings of every severity; and a public registry (ECR Public) whose
 * repositories have catalog data in full, in part and none, a signed multi-arch release and untagged images old
 * enough to be cleaned. What runs: an ECS service whose running task is pinned to an untagged digest of
 * `payments/api` (old and never pulled: the cleanup would delete it but for the task), and a Lambda container
 * function whose `preview` alias runs a pull request build of `web/frontend` (`pr-42`).
 */

/** The demo registry's host (the fixture's default account and region). */
const DEMO_HOST = `${DEFAULT_ACCOUNT}.dkr.ecr.${DEFAULT_REGION}.amazonaws.com`;

const finding = (name: string, severity: string, pkg: string, version: string, cvss: string, fixedIn?: string) => ({
  name,
  description: `${name} in ${pkg} ${version}`,
  uri: `https://nvd.nist.gov/vuln/detail/${name}`,
  severity,
  attributes: [
    { key: 'package_name', value: pkg },
    { key: 'package_version', value: version },
    { key: 'CVSS3_SCORE', value: cvss },
    ...(fixedIn ? [{ key: 'fixed_in_version', value: fixedIn }] : []),
  ],
});

/** Basic-scan findings of every severity. */
export const DEMO_FINDINGS = [
  finding('CVE-2024-3094', 'CRITICAL', 'xz-utils', '5.6.0', '10.0', '5.6.1'),
  finding('CVE-2023-38545', 'HIGH', 'curl', '8.3.0', '9.8', '8.4.0'),
  finding('CVE-2023-4911', 'HIGH', 'glibc', '2.37', '7.8'),
  finding('CVE-2023-5678', 'MEDIUM', 'openssl', '3.0.11', '5.3', '3.0.13'),
  finding('CVE-2022-48303', 'MEDIUM', 'tar', '1.34', '5.5'),
  finding('CVE-2023-29383', 'LOW', 'shadow', '4.13', '3.3'),
  finding('CVE-2011-3389', 'INFORMATIONAL', 'gnutls', '3.7.9', '0.0'),
  finding('CVE-2005-2541', 'UNDEFINED', 'tar', '1.34', '0.0'),
];

/** An index over amd64 and arm64 children, signed and attested. */
function multiArch(id: string, tags: string[], pushedAt: string, extra: Partial<FixtureImage> = {}): FixtureImage[] {
  return [
    { id: `${id}-amd64`, architecture: 'amd64', pushedAt },
    { id: `${id}-arm64`, architecture: 'arm64', pushedAt },
    { id, kind: 'index', children: [`${id}-amd64`, `${id}-arm64`], tags, pushedAt, ...extra },
    { id: `${id}-sig`, kind: 'signature', subject: id, pushedAt },
    { id: `${id}-att`, kind: 'attestation', subject: id, pushedAt },
  ];
}

const staleUntagged = (prefix: string, count: number, ageDays: number): FixtureImage[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${i}`, pushedAt: `-${ageDays + i * 7}d` }));

export function demoFixture(): Fixture {
  return {
    content: true,
    // Tags in the workloads' image references resolve to digests when the demo is loaded, as at deploy time.
    resolve: true,
    repositories: [
      {
        name: 'payments/api',
        // The native policy many repositories carry: it would expire the untagged build the payments-api service runs
        // (`npm run lifecycle -- compare payments/api` names it); compliance flags it, the cleanup job owns cleanup.
        lifecyclePolicy: {
          rules: [
            {
              rulePriority: 1,
              description: 'Expire untagged images pushed more than 30 days ago',
              selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 },
              action: { type: 'expire' },
            },
          ],
        },
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filter: 'latest', filterType: 'WILDCARD' }],
        tags: { team: 'payments', 'cost-center': 'cc-1001' },
        createdAt: '-400d',
        images: [
          ...multiArch('v1.4.2', ['v1.4.2'], '-60d', { lastPulledAt: '-7d' }),
          ...multiArch('v1.5.0', ['v1.5.0', 'latest'], '-2d', { lastPulledAt: '-1h' }),
          ...staleUntagged('stale', 4, 90),
          { id: 'pulled-untagged', pushedAt: '-45d', lastPulledAt: '-6d' },
        ],
      },
      {
        name: 'payments/worker',
        imageTagMutability: 'IMMUTABLE',
        scanOnPush: true,
        tags: { team: 'payments', 'cost-center': 'cc-1001' },
        createdAt: '-300d',
        images: [
          { id: 'w1', tags: ['2.3.0'], pushedAt: '-20d', findings: DEMO_FINDINGS, scanned: true, lastPulledAt: '-2d' },
          { id: 'w2', tags: ['2.4.0'], pushedAt: '-1d', findings: DEMO_FINDINGS.slice(3), scanned: true },
          // Not scanned yet: `aws ecr start-image-scan ... imageTag=2.5.0-rc.1` completes with a CRITICAL (a FAIL).
          { id: 'w3', tags: ['2.5.0-rc.1', 'latest'], pushedAt: '-2h', findings: DEMO_FINDINGS },
          ...staleUntagged('old', 3, 120),
        ],
      },
      {
        name: 'platform/base-images',
        tags: { team: 'platform' },
        createdAt: '-700d',
        images: [
          ...multiArch('debian-12', ['debian-12', 'debian-12.8'], '-30d', { lastPulledAt: '-3h' }),
          ...multiArch('alpine-3.20', ['alpine-3.20'], '-95d', { lastPulledAt: '-8d' }),
          { id: 'distroless', tags: ['distroless-nonroot'], pushedAt: '-10d', findings: DEMO_FINDINGS.slice(5) },
          ...staleUntagged('rebuilt', 6, 35),
        ],
      },
      {
        name: 'data/etl',
        tags: { team: 'data' },
        createdAt: '-200d',
        images: [
          { id: 'etl-1', tags: ['2026.11.01'], pushedAt: '-23d', lastPulledAt: '-7d' },
          { id: 'etl-2', tags: ['2026.11.20', 'latest'], pushedAt: '-4d', lastPulledAt: '-2h' },
          // A cosign signature stored under the tag convention `sha256-<hex>.sig` rather than as an OCI referrer.
          { id: 'etl-2-sig', tagConvention: { subject: 'etl-2', suffix: '.sig' }, layerSizes: [512], pushedAt: '-4d' },
          ...staleUntagged('nightly', 5, 15),
        ],
      },
      {
        name: 'web/frontend',
        tags: { team: 'web' },
        createdAt: '-150d',
        images: [
          { id: 'fe-1', tags: ['latest', 'main-7f3c2a1'], pushedAt: '-3d', lastPulledAt: '-10m' },
          { id: 'fe-0', tags: ['main-1b9e004'], pushedAt: '-12d' },
          // A pull request build: the `preview` alias of the `web-frontend` function runs it.
          { id: 'fe-pr-42', tags: ['pr-42'], pushedAt: '-5d' },
          ...staleUntagged('pr', 8, 20),
        ],
      },
      {
        name: 'sandbox/experiments',
        createdAt: '-90d',
        images: [...staleUntagged('junk', 10, 60), { id: 'try', tags: ['try-me'], pushedAt: '-40d' }],
      },
    ],
    ecs: {
      taskDefinitions: [
        // Pinned by digest to `stale-2`: untagged, pushed 104 days ago, never pulled.
        { family: 'payments-api', containers: [{ name: 'api', image: { repository: 'payments/api', id: 'stale-2' } }] },
        { family: 'etl-nightly', containers: [{ name: 'etl', image: `${DEMO_HOST}/data/etl:latest` }] },
      ],
      clusters: [
        {
          name: 'demo',
          createdAt: '-200d',
          services: [{ name: 'payments-api', taskDefinition: 'payments-api:1', desiredCount: 1 }],
          tasks: [
            { service: 'payments-api', startedAt: '-3d' },
            { taskDefinition: 'etl-nightly:1', lastStatus: 'STOPPED', startedAt: '-1d', stoppedAt: '-23h' },
          ],
        },
      ],
    },
    lambda: {
      functions: [
        {
          name: 'web-frontend',
          imageUri: `${DEMO_HOST}/web/frontend:latest`,
          lastModified: '-3d',
          versions: [{ imageUri: `${DEMO_HOST}/web/frontend:pr-42`, lastModified: '-5d' }],
          aliases: [{ name: 'preview', version: '1', description: 'pull request 42' }],
        },
      ],
    },
    publicRepositories: [
      {
        name: 'tools/cli',
        createdAt: '-500d',
        tags: { team: 'platform' },
        catalogData: {
          description: 'The command line tool, for linux/amd64 and linux/arm64',
          architectures: ['x86-64', 'ARM 64'],
          operatingSystems: ['Linux'],
          aboutText: '# tools/cli\n\nReleases of the command line tool, signed with cosign.',
          usageText: 'docker run --rm public.ecr.aws/<alias>/tools/cli:latest --help',
        },
        images: [
          ...multiArch('cli-2.0.0', ['2.0.0', 'latest'], '-3d'),
          // A cosign signature under the tag convention, as `cosign sign` stores it in a registry without referrers.
          { id: 'cli-2.0.0-cosign', tagConvention: { subject: 'cli-2.0.0', suffix: '.sig' }, pushedAt: '-3d' },
          ...multiArch('cli-1.9.0', ['1.9.0'], '-70d'),
          ...staleUntagged('cli-nightly', 6, 45),
        ],
      },
      {
        name: 'samples/hello',
        createdAt: '-200d',
        // Catalog data in part: a description, nothing else.
        catalogData: { description: 'A sample image' },
        images: [
          { id: 'hello-1', tags: ['v1'], pushedAt: '-150d' },
          { id: 'hello-2', tags: ['v2', 'latest'], pushedAt: '-10d' },
          ...staleUntagged('hello-old', 3, 100),
        ],
      },
      {
        // No catalog data at all: GetRepositoryCatalogData answers RepositoryCatalogDataNotFoundException.
        name: 'mirror/base',
        createdAt: '-365d',
        images: [{ id: 'base', tags: ['bookworm'], pushedAt: '-20d' }, ...staleUntagged('base-old', 4, 180)],
      },
    ],
  };
}

/**
 * The demo organisation: the demo account (123456789012) manages an AWS Organization whose accounts have registries
 * in two regions, each with a role the service's account may assume (`/platform/ecr/EcrAutomationMember`, external
 * id `ecr-automation-example`): 111122223333, the central registry, named in the example organisation config;
 * 222233334444 and 333344445555, workload accounts in the `workloads` unit (`ou-ab12-cdef3456`); and 444455556666 in
 * the same unit, which the example config excludes. Each has stale untagged builds and releases; an ECS service in
 * 222233334444 (eu-west-1) runs a stale build of the central registry's `shared/base` in us-east-1 by digest.
 */
export const DEMO_ORGANIZATION = {
  managementAccount: DEFAULT_ACCOUNT,
  central: '111122223333',
  workloads: ['222233334444', '333344445555'],
  excluded: '444455556666',
  unit: 'ou-ab12-cdef3456',
  regions: ['us-east-1', 'eu-west-1'],
  roleName: '/platform/ecr/EcrAutomationMember',
  externalId: 'ecr-automation-example',
} as const;

/** The repositories of one account and region of the demo organisation. */
function organizationRepositories(account: string, region: string): Fixture {
  const central = account === DEMO_ORGANIZATION.central;
  const name = central ? 'shared/base' : 'team/service';
  return {
    account,
    region,
    repositories: [
      {
        name,
        createdAt: '-400d',
        images: [
          { id: `${account}-${region}-release`, tags: ['1.4.0', 'latest'], pushedAt: '-20d', lastPulledAt: '-1h' },
          { id: `${account}-${region}-1.3.0`, tags: ['1.3.0'], pushedAt: '-90d' },
          { id: `${account}-${region}-1.2.0`, tags: ['1.2.0'], pushedAt: '-150d' },
          { id: `${account}-${region}-1.1.0`, tags: ['1.1.0'], pushedAt: '-210d' },
          ...staleUntagged(`${account}-${region}-build`, 3, 60),
        ],
      },
    ],
  };
}

/** The demo organisation's fixtures, in load order: the organisation and the roles, then each account's registries. */
export function demoOrganizationFixtures(): Fixture[] {
  const org = DEMO_ORGANIZATION;
  const members = [org.central, ...org.workloads, org.excluded];
  const identity: Fixture = {
    repositories: [],
    iam: {
      roles: members.map((account) => ({
        account,
        // IAM role names are unique in an account whatever their path: the local STS finds a role by name.
        name: org.roleName.slice(org.roleName.lastIndexOf('/') + 1),
        trust: [DEFAULT_ACCOUNT],
        externalId: org.externalId,
      })),
    },
    organization: {
      managementAccount: org.managementAccount,
      units: [
        { name: 'root', accounts: [{ id: org.central, name: 'registry' }] },
        {
          id: org.unit,
          name: 'workloads',
          accounts: [...org.workloads, org.excluded].map((id) => ({ id, name: `workload-${id.slice(0, 4)}` })),
        },
      ],
    },
  };
  return [
    identity,
    ...members.flatMap((account) => org.regions.map((region) => organizationRepositories(account, region))),
  ];
}

/**
 * Loads the demo organisation into `registry`: its fixtures, then the ECS service in a workload account that runs
 * the central registry's oldest stale build by digest (what the cleanup keeps across accounts).
 */
export function loadDemoOrganization(
  registry: Parameters<typeof loadFixture>[0],
  now: number,
): { accounts: number; repositories: number } {
  let repositories = 0;
  let pinned: string | undefined;
  const pinnedId = `${DEMO_ORGANIZATION.central}-us-east-1-build-2`;
  for (const fixture of demoOrganizationFixtures()) {
    const loaded = loadFixture(registry, fixture, now);
    repositories += loaded.repositories;
    pinned ??= loaded.images.find((image) => image.id === pinnedId)?.imageDigest;
  }
  if (pinned === undefined) throw new Error(`the demo organisation has no image ${pinnedId}`);
  loadFixture(
    registry,
    {
      account: DEMO_ORGANIZATION.workloads[0],
      region: 'eu-west-1',
      repositories: [],
      ecs: {
        taskDefinitions: [
          {
            family: 'checkout',
            containers: [
              {
                name: 'checkout',
                image: `${DEMO_ORGANIZATION.central}.dkr.ecr.us-east-1.amazonaws.com/shared/base@${pinned}`,
              },
            ],
          },
        ],
        clusters: [{ name: 'shop', services: [{ name: 'checkout', taskDefinition: 'checkout:1', desiredCount: 2 }] }],
      },
    },
    now,
  );
  return { accounts: 4, repositories };
}
