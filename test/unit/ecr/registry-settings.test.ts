import {
  CreatePullThroughCacheRuleCommand,
  DeleteLifecyclePolicyCommand,
  DeletePullThroughCacheRuleCommand,
  DeleteRegistryPolicyCommand,
  DescribePullThroughCacheRulesCommand,
  DescribeRegistryCommand,
  DescribeRepositoryCreationTemplatesCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
  GetRegistryPolicyCommand,
  GetRepositoryPolicyCommand,
  LifecyclePolicyNotFoundException,
  ListTagsForResourceCommand,
  PullThroughCacheRuleNotFoundException,
  PutImageScanningConfigurationCommand,
  PutRegistryPolicyCommand,
  PutReplicationConfigurationCommand,
  RegistryPolicyNotFoundException,
  RepositoryPolicyNotFoundException,
  ServerException,
  UpdateRepositoryCreationTemplateCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CreationTemplateSettings,
  createEcrGateway,
  EcrUnavailableError,
  ReadOnlyViolationError,
} from '../../../shared/ecr/index.ts';

const ecr = mockClient(ECRClient);
const gateway = (readOnly = false) => createEcrGateway(new ECRClient({ region: 'us-east-1' }), { readOnly });
const meta = { $metadata: {} };

describe('EcrGateway registry settings', () => {
  beforeEach(() => ecr.reset());
  afterEach(() => ecr.reset());

  it('reads the replication rules from DescribeRegistry as filters and destinations', async () => {
    // Prepare
    ecr.on(DescribeRegistryCommand).resolves({
      registryId: '123456789012',
      replicationConfiguration: {
        rules: [
          {
            destinations: [{ region: 'eu-west-1', registryId: '123456789012' }],
            repositoryFilters: [{ filter: 'team-a/', filterType: 'PREFIX_MATCH' }],
          },
          { destinations: [{ region: 'us-west-2', registryId: '123456789012' }] },
        ],
      },
    });
    const subject = gateway();
    // Act
    const rules = await subject.getReplicationRules();
    // Assess
    expect(rules).toEqual([
      { destinations: [{ region: 'eu-west-1', registryId: '123456789012' }], repositoryFilters: ['team-a/'] },
      { destinations: [{ region: 'us-west-2', registryId: '123456789012' }], repositoryFilters: [] },
    ]);
    expect(subject.callCounts()).toEqual({ DescribeRegistry: 1 });
  });

  it('sends the whole replication configuration, without repositoryFilters for a rule that has none', async () => {
    // Prepare
    ecr.on(PutReplicationConfigurationCommand).resolves({});
    // Act
    await gateway().putReplicationRules([
      { destinations: [{ region: 'eu-west-1', registryId: '123456789012' }], repositoryFilters: [] },
    ]);
    // Assess
    expect(ecr).toHaveReceivedNthCommandWith(PutReplicationConfigurationCommand, 1, {
      replicationConfiguration: { rules: [{ destinations: [{ region: 'eu-west-1', registryId: '123456789012' }] }] },
    });
  });

  it('refuses every mutating registry call when read-only, sending nothing', async () => {
    // Prepare
    const subject = gateway(true);
    // Act
    const failures = await Promise.allSettled([
      subject.putReplicationRules([]),
      subject.createPullThroughCacheRule({ prefix: 'ecr-public', upstreamRegistryUrl: 'public.ecr.aws' }),
      subject.deleteCreationTemplate('team-a'),
      subject.putRegistryScanningConfiguration({ scanType: 'BASIC', rules: [] }),
      subject.putLifecyclePolicy('app', '{}'),
      subject.deleteLifecyclePolicy('app'),
      subject.tagResource('arn', { team: 'a' }),
      subject.putScanOnPush('app', true),
      subject.putRegistryPolicy('{}'),
      subject.deleteRegistryPolicy(),
    ]);
    // Assess
    expect(failures.map((f) => f.status === 'rejected' && f.reason instanceof ReadOnlyViolationError)).toEqual(
      Array(10).fill(true),
    );
    expect(ecr.calls()).toHaveLength(0);
  });

  it('pages the pull through cache rules and strips the trailing slash of prefixes', async () => {
    // Prepare
    ecr
      .on(DescribePullThroughCacheRulesCommand)
      .resolvesOnce({
        pullThroughCacheRules: [{ ecrRepositoryPrefix: 'ecr-public/', upstreamRegistryUrl: 'public.ecr.aws' }],
        nextToken: 't',
      })
      .resolvesOnce({ pullThroughCacheRules: [{ ecrRepositoryPrefix: 'quay', upstreamRegistryUrl: 'quay.io' }] });
    const subject = gateway();
    // Act
    const rules = await subject.listPullThroughCacheRules();
    // Assess
    expect(rules).toEqual([
      { prefix: 'ecr-public', upstreamRegistryUrl: 'public.ecr.aws' },
      { prefix: 'quay', upstreamRegistryUrl: 'quay.io' },
    ]);
    expect(subject.callCounts()).toEqual({ DescribePullThroughCacheRules: 2 });
    expect(ecr).toHaveReceivedNthCommandWith(DescribePullThroughCacheRulesCommand, 1, { maxResults: 1000 });
  });

  it('creates a pull through cache rule with only the members given', async () => {
    // Prepare
    ecr.on(CreatePullThroughCacheRuleCommand).resolves({});
    // Act
    await gateway().createPullThroughCacheRule({ prefix: 'ecr-public', upstreamRegistryUrl: 'public.ecr.aws' });
    // Assess
    expect(ecr).toHaveReceivedNthCommandWith(CreatePullThroughCacheRuleCommand, 1, {
      ecrRepositoryPrefix: 'ecr-public',
      upstreamRegistryUrl: 'public.ecr.aws',
    });
  });

  it('counts a rule or template already gone as deleted', async () => {
    // Prepare
    ecr
      .on(DeletePullThroughCacheRuleCommand)
      .rejects(new PullThroughCacheRuleNotFoundException({ message: 'gone', ...meta }));
    // Act
    const outcome = await gateway().deletePullThroughCacheRule('old');
    // Assess
    expect(outcome).toBeUndefined();
  });

  it('maps templates both ways, clearing optional texts the template no longer has on update', async () => {
    // Prepare
    ecr.on(DescribeRepositoryCreationTemplatesCommand).resolves({
      repositoryCreationTemplates: [
        {
          prefix: 'team-a',
          appliedFor: ['CREATE_ON_PUSH'],
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filter: 'latest', filterType: 'WILDCARD' }],
          encryptionConfiguration: { encryptionType: 'AES256' },
          resourceTags: [{ Key: 'team', Value: 'a' }],
          description: 'old',
        },
      ],
    });
    ecr.on(UpdateRepositoryCreationTemplateCommand).resolves({});
    const subject = gateway();
    // Act
    const [current] = await subject.listCreationTemplates();
    const { description: _dropped, ...wanted } = current as CreationTemplateSettings;
    await subject.updateCreationTemplate(wanted);
    // Assess
    expect(current).toEqual({
      prefix: 'team-a',
      appliedFor: ['CREATE_ON_PUSH'],
      description: 'old',
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: ['latest'],
      encryptionType: 'AES256',
      resourceTags: { team: 'a' },
    });
    expect(ecr).toHaveReceivedNthCommandWith(UpdateRepositoryCreationTemplateCommand, 1, {
      prefix: 'team-a',
      appliedFor: ['CREATE_ON_PUSH'],
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filter: 'latest', filterType: 'WILDCARD' }],
      encryptionConfiguration: { encryptionType: 'AES256' },
      resourceTags: [{ Key: 'team', Value: 'a' }],
      description: '',
      lifecyclePolicy: '',
      repositoryPolicy: '',
      customRoleArn: '',
    });
  });

  it('reads an absent lifecycle or repository policy as undefined, not as an error', async () => {
    // Prepare
    ecr.on(GetLifecyclePolicyCommand).rejects(new LifecyclePolicyNotFoundException({ message: 'none', ...meta }));
    ecr.on(GetRepositoryPolicyCommand).rejects(new RepositoryPolicyNotFoundException({ message: 'none', ...meta }));
    ecr.on(DeleteLifecyclePolicyCommand).rejects(new LifecyclePolicyNotFoundException({ message: 'none', ...meta }));
    const subject = gateway();
    // Act
    const lifecycle = await subject.getLifecyclePolicy('app');
    const policy = await subject.getRepositoryPolicy('app');
    const deleted = await subject.deleteLifecyclePolicy('app');
    // Assess
    expect([lifecycle, policy, deleted]).toEqual([undefined, undefined, { deleted: false }]);
  });

  it('maps a server error of a registry call to EcrUnavailableError naming the operation', async () => {
    // Prepare
    ecr.on(ListTagsForResourceCommand).rejects(new ServerException({ message: 'boom', ...meta }));
    // Act
    const error = await gateway()
      .listResourceTags('arn:aws:ecr:us-east-1:123456789012:repository/app')
      .catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(EcrUnavailableError);
    expect(error).toMatchObject({ operation: 'ListTagsForResource', retryable: true });
  });

  it('sets scan on push with PutImageScanningConfiguration', async () => {
    // Prepare
    ecr.on(PutImageScanningConfigurationCommand).resolves({});
    // Act
    await gateway().putScanOnPush('app', true);
    // Assess
    expect(ecr).toHaveReceivedNthCommandWith(PutImageScanningConfigurationCommand, 1, {
      repositoryName: 'app',
      imageScanningConfiguration: { scanOnPush: true },
    });
  });

  it('reads, replaces and deletes the registry policy, counting each call', async () => {
    // Prepare
    const text = '{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow"}]}';
    ecr.on(GetRegistryPolicyCommand).resolves({ registryId: '123456789012', policyText: text });
    ecr.on(PutRegistryPolicyCommand).resolves({ registryId: '123456789012', policyText: text });
    ecr.on(DeleteRegistryPolicyCommand).resolves({ registryId: '123456789012', policyText: text });
    const subject = gateway();
    // Act
    const read = await subject.getRegistryPolicy();
    await subject.putRegistryPolicy(text);
    const deleted = await subject.deleteRegistryPolicy();
    // Assess
    expect(read).toBe(text);
    expect(deleted).toEqual({ deleted: true });
    expect(ecr).toHaveReceivedNthCommandWith(PutRegistryPolicyCommand, 1, { policyText: text });
    expect(ecr).toHaveReceivedNthCommandWith(DeleteRegistryPolicyCommand, 1, {});
    expect(subject.callCounts()).toEqual({ GetRegistryPolicy: 1, PutRegistryPolicy: 1, DeleteRegistryPolicy: 1 });
  });

  it('reads an absent registry policy as undefined, and deleting it as not deleted', async () => {
    // Prepare
    ecr.on(GetRegistryPolicyCommand).rejects(new RegistryPolicyNotFoundException({ message: 'none', ...meta }));
    ecr.on(DeleteRegistryPolicyCommand).rejects(new RegistryPolicyNotFoundException({ message: 'none', ...meta }));
    const subject = gateway();
    // Act
    const read = await subject.getRegistryPolicy();
    const deleted = await subject.deleteRegistryPolicy();
    // Assess
    expect([read, deleted]).toEqual([undefined, { deleted: false }]);
  });

  it('maps a server error of PutRegistryPolicy to EcrUnavailableError naming the operation', async () => {
    // Prepare
    ecr.on(PutRegistryPolicyCommand).rejects(new ServerException({ message: 'boom', ...meta }));
    // Act
    const error = await gateway()
      .putRegistryPolicy('{}')
      .catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(EcrUnavailableError);
    expect(error).toMatchObject({ operation: 'PutRegistryPolicy', retryable: true });
  });
});
