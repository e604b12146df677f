import {
  CreatePullThroughCacheRuleCommand,
  type CreatePullThroughCacheRuleCommandInput,
  CreateRepositoryCreationTemplateCommand,
  type CreateRepositoryCreationTemplateCommandInput,
  DeletePullThroughCacheRuleCommand,
  DeleteRegistryPolicyCommand,
  DeleteRepositoryCreationTemplateCommand,
  DescribeImageReplicationStatusCommand,
  DescribePullThroughCacheRulesCommand,
  DescribeRegistryCommand,
  DescribeRepositoryCreationTemplatesCommand,
  type ECRClient,
  GetRegistryPolicyCommand,
  type PullThroughCacheRule,
  PutRegistryPolicyCommand,
  PutReplicationConfigurationCommand,
  paginateDescribePullThroughCacheRules,
  paginateDescribeRepositoryCreationTemplates,
  type ReplicationRule,
  type RepositoryCreationTemplate,
  UpdatePullThroughCacheRuleCommand,
  UpdateRepositoryCreationTemplateCommand,
  ValidatePullThroughCacheRuleCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FixtureRepository, LoadedImage } from '../../src/control/fixtures.ts';
import { MAX_PULL_THROUGH_CACHE_RULES } from '../../src/ops/pull-through-cache.ts';
import {
  control,
  ecrClient,
  failureOf,
  rawEcrRequest,
  startTestRegistry,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const OTHER_ACCOUNT = '210987654321';
const DOCKER_HUB_SECRET = `arn:aws:secretsmanager:${TEST_REGION}:${TEST_ACCOUNT}:secret:ecr-pullthroughcache/docker-hub-AbCdEf`;
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'ReplicationAccess',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` },
      Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
      Resource: `arn:aws:ecr:${TEST_REGION}:${TEST_ACCOUNT}:repository/*`,
    },
  ],
});
const LIFECYCLE_POLICY = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'Expire untagged images after 14 days',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    },
  ],
});

describe('registry settings operations', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  const state = (account = TEST_ACCOUNT, region = TEST_REGION) => server.registry.state(account, region);
  const raw = (operation: string, body: unknown) =>
    rawEcrRequest(server, operation, typeof body === 'string' ? body : JSON.stringify(body));
  const load = async (...repositories: FixtureRepository[]) =>
    (await control<{ images: LoadedImage[] }>(server, 'load', { repositories })).images;
  const putReplication = (rules: ReplicationRule[]) =>
    client.send(new PutReplicationConfigurationCommand({ replicationConfiguration: { rules } }));
  const destinationsIn = (count: number, region: string) =>
    Array.from({ length: count }, (_, i) => ({ region, registryId: String(100_000_000_000 + i) }));

  describe('DescribeRegistry and PutReplicationConfiguration', () => {
    it('describes a registry without replication rules', async () => {
      // Act
      const output = await client.send(new DescribeRegistryCommand({}));
      // Assess
      expect(output.registryId).toBe(TEST_ACCOUNT);
      expect(output.replicationConfiguration).toEqual({ rules: [] });
    });

    it('replaces the replication configuration and echoes it', async () => {
      // Prepare
      await putReplication([{ destinations: [{ region: 'eu-west-1', registryId: TEST_ACCOUNT }] }]);
      const rules: ReplicationRule[] = [
        {
          destinations: [
            { region: 'us-west-2', registryId: TEST_ACCOUNT },
            { region: TEST_REGION, registryId: OTHER_ACCOUNT },
          ],
          repositoryFilters: [{ filter: 'prod', filterType: 'PREFIX_MATCH' }],
        },
        { destinations: [] },
      ];
      // Act
      const put = await putReplication(rules);
      const described = await client.send(new DescribeRegistryCommand({}));
      // Assess
      expect(put.replicationConfiguration).toEqual({ rules });
      expect(described.replicationConfiguration).toEqual({ rules });
    });

    it('rejects 11 rules with ValidationException', async () => {
      // Prepare
      const rule = { destinations: [{ region: 'us-west-2', registryId: TEST_ACCOUNT }] };
      // Act
      const attempt = await failureOf(putReplication(Array.from({ length: 11 }, () => rule)));
      // Assess
      expect(attempt).toMatchObject({
        name: 'ValidationException',
        message:
          "Invalid parameter at 'replicationConfiguration.rules' failed to satisfy constraint: 'Member must have length less than or equal to 10'",
      });
      expect(state().replication.rules).toEqual([]);
    });

    it('rejects 26 unique destinations across rules but accepts 25 shared by several rules', async () => {
      // Prepare
      const twentyFive = destinationsIn(25, 'us-west-2');
      // Act
      const shared = await putReplication([{ destinations: twentyFive }, { destinations: twentyFive }]);
      const attempt = await failureOf(
        putReplication([
          { destinations: destinationsIn(13, 'us-west-2') },
          { destinations: destinationsIn(13, 'eu-west-1') },
        ]),
      );
      // Assess
      expect(shared.replicationConfiguration?.rules).toHaveLength(2);
      expect(attempt).toMatchObject({ name: 'ValidationException' });
      expect(state().replication.rules).toHaveLength(2);
      expect(state().replication.rules[0]?.destinations).toEqual(twentyFive);
    });

    it('rejects a destination that is the source registry and region with InvalidParameterException', async () => {
      // Act
      const attempt = await failureOf(
        putReplication([{ destinations: [{ region: TEST_REGION, registryId: TEST_ACCOUNT }] }]),
      );
      // Assess
      expect(attempt).toMatchObject({ name: 'InvalidParameterException' });
      expect(state().replication.rules).toEqual([]);
    });

    it('rejects members that break the model and leaves the configuration unchanged', async () => {
      // Prepare
      const rule = (extra: Record<string, unknown>) => ({
        replicationConfiguration: {
          rules: [{ destinations: [{ region: 'us-west-2', registryId: TEST_ACCOUNT }], ...extra }],
        },
      });
      const destination = (region: string, registryId: string) => ({
        replicationConfiguration: { rules: [{ destinations: [{ region, registryId }] }] },
      });
      // Act
      const invalid = await Promise.all([
        raw('PutReplicationConfiguration', {}),
        raw('PutReplicationConfiguration', { replicationConfiguration: {} }),
        raw('PutReplicationConfiguration', destination('US_WEST_2', TEST_ACCOUNT)),
        raw('PutReplicationConfiguration', destination('us-west-2', '1234')),
        raw('PutReplicationConfiguration', rule({ repositoryFilters: [] })),
        raw('PutReplicationConfiguration', rule({ repositoryFilters: [{ filter: 'p', filterType: 'PREFIX_MATCH' }] })),
        raw('PutReplicationConfiguration', rule({ repositoryFilters: [{ filter: 'prod', filterType: 'WILDCARD' }] })),
        raw(
          'PutReplicationConfiguration',
          rule({ repositoryFilters: [{ filter: 'Prod', filterType: 'PREFIX_MATCH' }] }),
        ),
        raw('PutReplicationConfiguration', {
          replicationConfiguration: { rules: [{ destinations: destinationsIn(101, 'us-west-2') }] },
        }),
      ]);
      const wrongType = await raw('PutReplicationConfiguration', { replicationConfiguration: { rules: {} } });
      // Assess
      for (const answer of invalid)
        expect(answer).toMatchObject({ status: 400, body: { __type: 'ValidationException' } });
      expect(wrongType.body.__type).toBe('SerializationException');
      expect(state().replication.rules).toEqual([]);
    });
  });

  describe('DescribeImageReplicationStatus', () => {
    it('replicates an image to the destinations of matching rules and reports them COMPLETE', async () => {
      // Prepare
      const [loaded] = await load({ name: 'prod/api', images: [{ tags: ['1.0'] }] });
      const digest = loaded?.imageDigest ?? '';
      await putReplication([
        {
          destinations: [
            { region: 'us-west-2', registryId: TEST_ACCOUNT },
            { region: TEST_REGION, registryId: OTHER_ACCOUNT },
          ],
          repositoryFilters: [{ filter: 'prod', filterType: 'PREFIX_MATCH' }],
        },
        { destinations: [{ region: 'us-west-2', registryId: TEST_ACCOUNT }] },
      ]);
      // Act
      const output = await client.send(
        new DescribeImageReplicationStatusCommand({ repositoryName: 'prod/api', imageId: { imageTag: '1.0' } }),
      );
      // Assess
      expect(output).toMatchObject({
        repositoryName: 'prod/api',
        imageId: { imageDigest: digest, imageTag: '1.0' },
        replicationStatuses: [
          { region: 'us-west-2', registryId: TEST_ACCOUNT, status: 'COMPLETE' },
          { region: TEST_REGION, registryId: OTHER_ACCOUNT, status: 'COMPLETE' },
        ],
      });
      for (const [account, region] of [
        [TEST_ACCOUNT, 'us-west-2'],
        [OTHER_ACCOUNT, TEST_REGION],
      ] as const) {
        const replica = server.registry.existing(account, region)?.repositories.get('prod/api');
        expect(replica?.arn).toBe(`arn:aws:ecr:${region}:${account}:repository/prod/api`);
        expect(replica?.images.get(digest)?.tags).toEqual(['1.0']);
      }
    });

    it('copies the children of an index and reports no destination for a repository no rule matches', async () => {
      // Prepare
      const loaded = await load(
        {
          name: 'prod/multi',
          images: [
            { id: 'amd64', architecture: 'amd64' },
            { id: 'arm64', architecture: 'arm64' },
            { id: 'index', kind: 'index', children: ['amd64', 'arm64'], tags: ['latest'] },
          ],
        },
        { name: 'dev/api', images: [{ tags: ['1.0'] }] },
      );
      await putReplication([
        {
          destinations: [{ region: 'eu-west-1', registryId: TEST_ACCOUNT }],
          repositoryFilters: [{ filter: 'prod', filterType: 'PREFIX_MATCH' }],
        },
      ]);
      // Act
      const index = await client.send(
        new DescribeImageReplicationStatusCommand({ repositoryName: 'prod/multi', imageId: { imageTag: 'latest' } }),
      );
      const unmatched = await client.send(
        new DescribeImageReplicationStatusCommand({ repositoryName: 'dev/api', imageId: { imageTag: '1.0' } }),
      );
      // Assess
      expect(index.replicationStatuses).toEqual([
        { region: 'eu-west-1', registryId: TEST_ACCOUNT, status: 'COMPLETE' },
      ]);
      const replica = server.registry.existing(TEST_ACCOUNT, 'eu-west-1')?.repositories.get('prod/multi');
      const prodDigests = loaded.filter((image) => image.repositoryName === 'prod/multi').map((i) => i.imageDigest);
      expect(prodDigests.map((digest) => replica?.images.get(digest) !== undefined)).toEqual([true, true, true]);
      expect(unmatched.replicationStatuses).toEqual([]);
      expect(server.registry.existing(TEST_ACCOUNT, 'eu-west-1')?.repositories.has('dev/api')).toBe(false);
    });

    it('creates the destination repository from a REPLICATION creation template of the destination', async () => {
      // Prepare
      await load({ name: 'prod/api', images: [{ tags: ['1.0'] }] });
      const westClient = ecrClient(server, { region: 'us-west-2' });
      await westClient.send(
        new CreateRepositoryCreationTemplateCommand({
          prefix: 'prod',
          appliedFor: ['REPLICATION'],
          imageTagMutability: 'IMMUTABLE',
          resourceTags: [{ Key: 'origin', Value: 'replication' }],
          lifecyclePolicy: LIFECYCLE_POLICY,
        }),
      );
      await putReplication([{ destinations: [{ region: 'us-west-2', registryId: TEST_ACCOUNT }] }]);
      // Act
      await client.send(
        new DescribeImageReplicationStatusCommand({ repositoryName: 'prod/api', imageId: { imageTag: '1.0' } }),
      );
      // Assess
      const replica = state(TEST_ACCOUNT, 'us-west-2').repositories.get('prod/api');
      expect(replica?.imageTagMutability).toBe('IMMUTABLE');
      expect([...(replica?.tags ?? [])]).toEqual([['origin', 'replication']]);
      expect(replica?.lifecyclePolicyText).toBe(LIFECYCLE_POLICY);
    });

    it('throws RepositoryNotFoundException and ImageNotFoundException', async () => {
      // Prepare
      await load({ name: 'prod/api', images: [{ tags: ['1.0'] }] });
      // Act
      const noRepository = await failureOf(
        client.send(
          new DescribeImageReplicationStatusCommand({ repositoryName: 'prod/none', imageId: { imageTag: '1.0' } }),
        ),
      );
      const noImage = await failureOf(
        client.send(
          new DescribeImageReplicationStatusCommand({ repositoryName: 'prod/api', imageId: { imageTag: '2.0' } }),
        ),
      );
      const noImageId = await raw('DescribeImageReplicationStatus', { repositoryName: 'prod/api' });
      // Assess
      expect(noRepository).toMatchObject({ name: 'RepositoryNotFoundException' });
      expect(noImage).toMatchObject({ name: 'ImageNotFoundException' });
      expect(noImageId.body.__type).toBe('ValidationException');
    });
  });

  describe('pull through cache rules', () => {
    const createRule = (input: CreatePullThroughCacheRuleCommandInput) =>
      client.send(new CreatePullThroughCacheRuleCommand(input));
    const ecrPublic = (prefix: string) =>
      createRule({ ecrRepositoryPrefix: prefix, upstreamRegistryUrl: 'public.ecr.aws' });

    it('creates rules with the upstream inferred from the URL and describes them', async () => {
      // Prepare
      const before = Math.floor(server.now() / 1000);
      // Act
      const hub = await createRule({
        ecrRepositoryPrefix: 'docker-hub',
        upstreamRegistryUrl: 'registry-1.docker.io',
        upstreamRegistry: 'docker-hub',
        credentialArn: DOCKER_HUB_SECRET,
      });
      const pub = await ecrPublic('ecr-public');
      const described = await client.send(new DescribePullThroughCacheRulesCommand({}));
      // Assess
      expect(hub).toMatchObject({
        ecrRepositoryPrefix: 'docker-hub',
        upstreamRegistryUrl: 'registry-1.docker.io',
        createdAt: expect.any(Date),
        registryId: TEST_ACCOUNT,
        upstreamRegistry: 'docker-hub',
        credentialArn: DOCKER_HUB_SECRET,
        upstreamRepositoryPrefix: 'ROOT',
      });
      expect((hub.createdAt?.getTime() ?? 0) / 1000).toBeGreaterThanOrEqual(before);
      expect(pub.upstreamRegistry).toBe('ecr-public');
      expect(pub.credentialArn).toBeUndefined();
      expect(described.pullThroughCacheRules?.map((rule) => rule.ecrRepositoryPrefix)).toEqual([
        'docker-hub',
        'ecr-public',
      ]);
      expect(described.pullThroughCacheRules?.[0]).toEqual({
        ecrRepositoryPrefix: 'docker-hub',
        upstreamRegistryUrl: 'registry-1.docker.io',
        createdAt: hub.createdAt,
        updatedAt: hub.createdAt,
        registryId: TEST_ACCOUNT,
        upstreamRegistry: 'docker-hub',
        credentialArn: DOCKER_HUB_SECRET,
        upstreamRepositoryPrefix: 'ROOT',
      });
    });

    it('describes named rules and throws PullThroughCacheRuleNotFoundException for a missing one', async () => {
      // Prepare
      await ecrPublic('ecr-public');
      await createRule({ ecrRepositoryPrefix: 'quay', upstreamRegistryUrl: 'quay.io' });
      // Act
      const named = await client.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: ['quay/'] }));
      const missing = await failureOf(
        client.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: ['quay', 'k8s'] })),
      );
      // Assess
      expect(named.pullThroughCacheRules?.map((rule) => rule.upstreamRegistry)).toEqual(['quay']);
      expect(missing).toMatchObject({ name: 'PullThroughCacheRuleNotFoundException' });
    });

    it('throws PullThroughCacheRuleAlreadyExistsException for the same prefix, with or without a trailing slash', async () => {
      // Prepare
      await ecrPublic('ecr-public');
      // Act
      const again = await failureOf(ecrPublic('ecr-public'));
      const withSlash = await failureOf(ecrPublic('ecr-public/'));
      // Assess
      expect(again).toMatchObject({ name: 'PullThroughCacheRuleAlreadyExistsException' });
      expect(withSlash).toMatchObject({ name: 'PullThroughCacheRuleAlreadyExistsException' });
      expect(state().pullThroughCacheRules.size).toBe(1);
    });

    it('throws LimitExceededException for a 51st rule and pages through 50', async () => {
      // Prepare
      for (let i = 0; i < MAX_PULL_THROUGH_CACHE_RULES; i++) await ecrPublic(`cache-${String(i).padStart(2, '0')}`);
      // Act
      const fiftyFirst = await failureOf(ecrPublic('cache-50'));
      const pages: PullThroughCacheRule[][] = [];
      for await (const page of paginateDescribePullThroughCacheRules({ client, pageSize: 20 }, {})) {
        pages.push(page.pullThroughCacheRules ?? []);
      }
      // Assess
      expect(fiftyFirst).toMatchObject({ name: 'LimitExceededException' });
      expect(pages.map((page) => page.length)).toEqual([20, 20, 10]);
      expect(new Set(pages.flat().map((rule) => rule.ecrRepositoryPrefix)).size).toBe(50);
      expect(state().pullThroughCacheRules.size).toBe(50);
    });

    it('rejects a 31-character prefix, a bad upstream URL and a missing credential, and stores nothing', async () => {
      // Act
      const longPrefix = await failureOf(ecrPublic('a'.repeat(31)));
      const badUrl = await failureOf(
        createRule({ ecrRepositoryPrefix: 'hub', upstreamRegistryUrl: 'https://hub.example.com' }),
      );
      const noCredential = await failureOf(
        createRule({ ecrRepositoryPrefix: 'hub', upstreamRegistryUrl: 'registry-1.docker.io' }),
      );
      const mismatch = await failureOf(
        createRule({
          ecrRepositoryPrefix: 'hub',
          upstreamRegistryUrl: 'quay.io',
          upstreamRegistry: 'docker-hub',
        }),
      );
      const badSecret = await failureOf(
        createRule({
          ecrRepositoryPrefix: 'hub',
          upstreamRegistryUrl: 'registry-1.docker.io',
          credentialArn: `arn:aws:secretsmanager:${TEST_REGION}:${TEST_ACCOUNT}:secret:docker-hub-credentials-AbCdEf`,
        }),
      );
      const missingUrl = await raw('CreatePullThroughCacheRule', { ecrRepositoryPrefix: 'hub' });
      const wrongType = await raw('CreatePullThroughCacheRule', {
        ecrRepositoryPrefix: 7,
        upstreamRegistryUrl: 'quay.io',
      });
      // Assess
      expect(longPrefix).toMatchObject({
        name: 'ValidationException',
        message:
          "Invalid parameter at 'ecrRepositoryPrefix' failed to satisfy constraint: 'Member must have length less than or equal to 30'",
      });
      expect(badUrl).toMatchObject({ name: 'UnsupportedUpstreamRegistryException' });
      expect(noCredential).toMatchObject({ name: 'ValidationException' });
      expect(mismatch).toMatchObject({ name: 'ValidationException' });
      expect(badSecret).toMatchObject({ name: 'ValidationException' });
      expect(missingUrl.body.__type).toBe('ValidationException');
      expect(wrongType.body.__type).toBe('SerializationException');
      expect(state().pullThroughCacheRules.size).toBe(0);
    });

    it('updates only the credential and the role, and moves updatedAt', async () => {
      // Prepare
      const created = await createRule({
        ecrRepositoryPrefix: 'docker-hub',
        upstreamRegistryUrl: 'registry-1.docker.io',
        credentialArn: DOCKER_HUB_SECRET,
      });
      await control(server, 'clock', { advanceSeconds: 3_600 });
      const rotated = `${DOCKER_HUB_SECRET}-rotated`;
      // Act
      const updated = await client.send(
        new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'docker-hub', credentialArn: rotated }),
      );
      const [described] =
        (await client.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: ['docker-hub'] })))
          .pullThroughCacheRules ?? [];
      const missing = await failureOf(
        client.send(new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'ghcr', credentialArn: rotated })),
      );
      // Assess
      expect(updated).toMatchObject({
        ecrRepositoryPrefix: 'docker-hub',
        registryId: TEST_ACCOUNT,
        credentialArn: rotated,
        upstreamRepositoryPrefix: 'ROOT',
      });
      expect((updated.updatedAt?.getTime() ?? 0) - (created.createdAt?.getTime() ?? 0)).toBeGreaterThanOrEqual(
        3_600_000,
      );
      expect(described).toMatchObject({
        credentialArn: rotated,
        createdAt: created.createdAt,
        updatedAt: updated.updatedAt,
      });
      expect(missing).toMatchObject({ name: 'PullThroughCacheRuleNotFoundException' });
    });

    it('validates an existing rule as reachable and deletes it', async () => {
      // Prepare
      await ecrPublic('ecr-public');
      // Act
      const validated = await client.send(
        new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'ecr-public' }),
      );
      const deleted = await client.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'ecr-public' }));
      const validateMissing = await failureOf(
        client.send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'ecr-public' })),
      );
      const deleteMissing = await failureOf(
        client.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'ecr-public' })),
      );
      // Assess
      expect(validated).toMatchObject({
        ecrRepositoryPrefix: 'ecr-public',
        registryId: TEST_ACCOUNT,
        upstreamRegistryUrl: 'public.ecr.aws',
        upstreamRepositoryPrefix: 'ROOT',
        isValid: true,
      });
      expect(validated.failure).toBeUndefined();
      expect(deleted).toMatchObject({
        ecrRepositoryPrefix: 'ecr-public',
        upstreamRegistryUrl: 'public.ecr.aws',
        createdAt: expect.any(Date),
        registryId: TEST_ACCOUNT,
      });
      expect(validateMissing).toMatchObject({ name: 'PullThroughCacheRuleNotFoundException' });
      expect(deleteMissing).toMatchObject({ name: 'PullThroughCacheRuleNotFoundException' });
    });
  });

  describe('repository creation templates', () => {
    const createTemplate = (input: CreateRepositoryCreationTemplateCommandInput) =>
      client.send(new CreateRepositoryCreationTemplateCommand(input));

    it('creates a template with ECR’s defaults and describes it', async () => {
      // Act
      const created = await createTemplate({ prefix: 'prod', appliedFor: ['PULL_THROUGH_CACHE', 'REPLICATION'] });
      const described = await client.send(new DescribeRepositoryCreationTemplatesCommand({}));
      // Assess
      expect(created.registryId).toBe(TEST_ACCOUNT);
      expect(created.repositoryCreationTemplate).toEqual({
        prefix: 'prod',
        encryptionConfiguration: { encryptionType: 'AES256' },
        resourceTags: [],
        imageTagMutability: 'MUTABLE',
        appliedFor: ['PULL_THROUGH_CACHE', 'REPLICATION'],
        createdAt: expect.any(Date),
        updatedAt: expect.any(Date),
      });
      expect(described.registryId).toBe(TEST_ACCOUNT);
      expect(described.repositoryCreationTemplates).toEqual([created.repositoryCreationTemplate]);
    });

    it('stores every member a template can carry', async () => {
      // Prepare
      const kmsKey = `arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d`;
      const input: CreateRepositoryCreationTemplateCommandInput = {
        prefix: 'ROOT',
        description: 'Everything else',
        encryptionConfiguration: { encryptionType: 'KMS', kmsKey },
        resourceTags: [{ Key: 'team', Value: 'platform' }],
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
        repositoryPolicy: POLICY,
        lifecyclePolicy: LIFECYCLE_POLICY,
        appliedFor: ['CREATE_ON_PUSH'],
        customRoleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/ecr-template`,
      };
      // Act
      const created = await createTemplate(input);
      // Assess
      const { prefix, ...members } = input;
      expect(created.repositoryCreationTemplate).toMatchObject({ prefix, ...members });
    });

    it('describes named templates, skipping missing ones, and pages through all of them', async () => {
      // Prepare
      for (let i = 0; i < 25; i++)
        await createTemplate({ prefix: `team-${String(i).padStart(2, '0')}`, appliedFor: ['REPLICATION'] });
      // Act
      const named = await client.send(
        new DescribeRepositoryCreationTemplatesCommand({ prefixes: ['team-03/', 'team-99', 'team-01'] }),
      );
      const pages: RepositoryCreationTemplate[][] = [];
      for await (const page of paginateDescribeRepositoryCreationTemplates({ client, pageSize: 10 }, {})) {
        pages.push(page.repositoryCreationTemplates ?? []);
      }
      // Assess
      expect(named.repositoryCreationTemplates?.map((t) => t.prefix)).toEqual(['team-03', 'team-01']);
      expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
      expect(pages.flat().map((t) => t.prefix)).toEqual(
        Array.from({ length: 25 }, (_, i) => `team-${String(i).padStart(2, '0')}`),
      );
    });

    it('throws TemplateAlreadyExistsException for an existing prefix', async () => {
      // Prepare
      await createTemplate({ prefix: 'prod', appliedFor: ['REPLICATION'] });
      // Act
      const again = await failureOf(createTemplate({ prefix: 'prod/', appliedFor: ['PULL_THROUGH_CACHE'] }));
      // Assess
      expect(again).toMatchObject({ name: 'TemplateAlreadyExistsException' });
      expect(state().creationTemplates.get('prod')?.appliedFor).toEqual(['REPLICATION']);
    });

    it('updates the given members, moves updatedAt, and throws TemplateNotFoundException for a missing one', async () => {
      // Prepare
      const created = await createTemplate({
        prefix: 'prod',
        appliedFor: ['REPLICATION'],
        imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }],
      });
      await control(server, 'clock', { advanceSeconds: 60 });
      // Act
      const updated = await client.send(
        new UpdateRepositoryCreationTemplateCommand({
          prefix: 'prod',
          description: 'Production repositories',
          imageTagMutability: 'IMMUTABLE',
        }),
      );
      const missing = await failureOf(
        client.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'dev', description: 'x' })),
      );
      // Assess
      expect(updated.repositoryCreationTemplate).toMatchObject({
        prefix: 'prod',
        description: 'Production repositories',
        imageTagMutability: 'IMMUTABLE',
        appliedFor: ['REPLICATION'],
        createdAt: created.repositoryCreationTemplate?.createdAt,
      });
      expect(updated.repositoryCreationTemplate?.imageTagMutabilityExclusionFilters).toBeUndefined();
      const moved =
        (updated.repositoryCreationTemplate?.updatedAt?.getTime() ?? 0) -
        (created.repositoryCreationTemplate?.updatedAt?.getTime() ?? 0);
      expect(moved).toBeGreaterThanOrEqual(60_000);
      expect(missing).toMatchObject({ name: 'TemplateNotFoundException' });
    });

    it('deletes a template and returns it', async () => {
      // Prepare
      const created = await createTemplate({ prefix: 'prod', appliedFor: ['REPLICATION'] });
      // Act
      const deleted = await client.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'prod' }));
      const again = await failureOf(client.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'prod' })));
      // Assess
      expect(deleted.registryId).toBe(TEST_ACCOUNT);
      expect(deleted.repositoryCreationTemplate).toEqual(created.repositoryCreationTemplate);
      expect(again).toMatchObject({
        name: 'TemplateNotFoundException',
        message: `The repository creation template with prefix 'prod' does not exist in the registry with id '${TEST_ACCOUNT}'`,
      });
      expect(state().creationTemplates.size).toBe(0);
    });

    it('rejects members that break the model and stores nothing', async () => {
      // Prepare
      const base = { prefix: 'prod', appliedFor: ['REPLICATION'] };
      // Act
      const invalid = await Promise.all([
        raw('CreateRepositoryCreationTemplate', { prefix: 'prod' }),
        raw('CreateRepositoryCreationTemplate', { ...base, prefix: 'Prod' }),
        raw('CreateRepositoryCreationTemplate', { ...base, prefix: 'a'.repeat(257) }),
        raw('CreateRepositoryCreationTemplate', { ...base, appliedFor: [] }),
        raw('CreateRepositoryCreationTemplate', {
          ...base,
          appliedFor: ['REPLICATION', 'PULL_THROUGH_CACHE', 'CREATE_ON_PUSH', 'REPLICATION'],
        }),
        raw('CreateRepositoryCreationTemplate', { ...base, appliedFor: ['ON_PULL'] }),
        raw('CreateRepositoryCreationTemplate', { ...base, description: 'd'.repeat(257) }),
        raw('CreateRepositoryCreationTemplate', {
          ...base,
          encryptionConfiguration: {
            encryptionType: 'AES256',
            kmsKey: `arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/abc`,
          },
        }),
        raw('CreateRepositoryCreationTemplate', {
          ...base,
          encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/x' },
        }),
        raw('CreateRepositoryCreationTemplate', {
          ...base,
          imageTagMutability: 'MUTABLE',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
        }),
        raw('CreateRepositoryCreationTemplate', { ...base, imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' }),
        raw('CreateRepositoryCreationTemplate', { ...base, lifecyclePolicy: 'x'.repeat(30_721) }),
        raw('CreateRepositoryCreationTemplate', { ...base, repositoryPolicy: 'x'.repeat(10_241) }),
        raw('CreateRepositoryCreationTemplate', { ...base, resourceTags: [{ Key: 'k'.repeat(129), Value: 'v' }] }),
      ]);
      const badPolicy = await raw('CreateRepositoryCreationTemplate', {
        ...base,
        repositoryPolicy: '{"Version":"2012-10-17"}',
      });
      const wrongType = await raw('CreateRepositoryCreationTemplate', { ...base, appliedFor: 'REPLICATION' });
      // Assess
      for (const answer of invalid)
        expect(answer).toMatchObject({ status: 400, body: { __type: 'ValidationException' } });
      expect(badPolicy.body.__type).toBe('InvalidParameterException');
      expect(wrongType.body.__type).toBe('SerializationException');
      expect(state().creationTemplates.size).toBe(0);
    });
  });

  describe('registry policy', () => {
    it('throws RegistryPolicyNotFoundException before a policy is set', async () => {
      // Act
      const get = await failureOf(client.send(new GetRegistryPolicyCommand({})));
      const del = await failureOf(client.send(new DeleteRegistryPolicyCommand({})));
      // Assess
      expect(get).toMatchObject({
        name: 'RegistryPolicyNotFoundException',
        message: `Registry policy does not exist in the registry with id '${TEST_ACCOUNT}'`,
      });
      expect(del).toMatchObject({ name: 'RegistryPolicyNotFoundException' });
    });

    it('puts, gets and deletes the registry policy', async () => {
      // Act
      const put = await client.send(new PutRegistryPolicyCommand({ policyText: POLICY }));
      const got = await client.send(new GetRegistryPolicyCommand({}));
      const deleted = await client.send(new DeleteRegistryPolicyCommand({}));
      const afterDelete = await failureOf(client.send(new GetRegistryPolicyCommand({})));
      // Assess
      expect(put).toMatchObject({ registryId: TEST_ACCOUNT, policyText: POLICY });
      expect(got).toMatchObject({ registryId: TEST_ACCOUNT, policyText: POLICY });
      expect(deleted).toMatchObject({ registryId: TEST_ACCOUNT, policyText: POLICY });
      expect(afterDelete).toMatchObject({ name: 'RegistryPolicyNotFoundException' });
    });

    it('rejects a policy that is not a policy document or too long, and keeps the current one', async () => {
      // Prepare
      await client.send(new PutRegistryPolicyCommand({ policyText: POLICY }));
      // Act
      const notJson = await failureOf(client.send(new PutRegistryPolicyCommand({ policyText: 'allow everyone' })));
      const noStatement = await failureOf(
        client.send(new PutRegistryPolicyCommand({ policyText: '{"Version":"2012-10-17"}' })),
      );
      const tooLong = await failureOf(client.send(new PutRegistryPolicyCommand({ policyText: ' '.repeat(10_241) })));
      const missing = await raw('PutRegistryPolicy', {});
      const wrongType = await raw('PutRegistryPolicy', { policyText: { Statement: [] } });
      // Assess
      expect(notJson).toMatchObject({ name: 'InvalidParameterException' });
      expect(noStatement).toMatchObject({ name: 'InvalidParameterException' });
      expect(tooLong).toMatchObject({ name: 'ValidationException' });
      expect(missing.body.__type).toBe('ValidationException');
      expect(wrongType.body.__type).toBe('SerializationException');
      expect(state().registryPolicyText).toBe(POLICY);
    });
  });
});
