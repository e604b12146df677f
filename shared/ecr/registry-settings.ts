import {
  CreatePullThroughCacheRuleCommand,
  CreateRepositoryCreationTemplateCommand,
  DeleteLifecyclePolicyCommand,
  DeletePullThroughCacheRuleCommand,
  DeleteRegistryPolicyCommand,
  DeleteRepositoryCreationTemplateCommand,
  DescribeRegistryCommand,
  type ECRClient,
  type ECRPaginationConfiguration,
  type EncryptionType,
  GetLifecyclePolicyCommand,
  GetRegistryPolicyCommand,
  GetRepositoryPolicyCommand,
  type ImageTagMutability,
  ListTagsForResourceCommand,
  type PullThroughCacheRule,
  PutImageScanningConfigurationCommand,
  PutLifecyclePolicyCommand,
  PutRegistryPolicyCommand,
  PutRegistryScanningConfigurationCommand,
  PutReplicationConfigurationCommand,
  paginateDescribePullThroughCacheRules,
  paginateDescribeRepositoryCreationTemplates,
  type RCTAppliedFor,
  type RepositoryCreationTemplate,
  type ScanFrequency,
  type ScanType,
  TagResourceCommand,
  UpdatePullThroughCacheRuleCommand,
  UpdateRepositoryCreationTemplateCommand,
  type UpstreamRegistry,
} from '@aws-sdk/client-ecr';
import type {
  CreationTemplate,
  PullThroughCacheRule as PullThroughCacheRuleShape,
  ReplicationRule,
  ScanningConfiguration,
  ScanningRule,
} from '../domain/registry.ts';
import { EcrGatewayError } from './errors.ts';
import type { EcrOperation } from './types.ts';

/**
 * The registry-level settings (replication, pull through cache rules, repository creation templates, registry
 * scanning, registry policy) and the per-repository settings a compliance check reads and repairs (lifecycle policy, repository
 * policy, resource tags, scan on push). Part of the `EcrGateway`: `createEcrGateway` spreads these methods into the
 * gateway, with its own counted, error-mapping `call` and its read-only guard.
 */

/** `DescribePullThroughCacheRules` and `DescribeRepositoryCreationTemplates`: `MaxResults` 1–1000 [M-ECR]. */
export const DESCRIBE_REGISTRY_SETTINGS_PAGE_SIZE = 1000;

export type { ReplicationDestination } from '../domain/registry.ts';
/** One replication rule; `repositoryFilters` are `PREFIX_MATCH` prefixes (none: every repository). */
export type ReplicationRuleSettings = ReplicationRule;
/** `prefix` is `ecrRepositoryPrefix` without a trailing `/` (ECR assumes one). */
export type PullThroughCacheRuleSettings = PullThroughCacheRuleShape;
export type CreationTemplateSettings = CreationTemplate;
export type RegistryScanningRuleSettings = ScanningRule;
export type RegistryScanningInput = ScanningConfiguration;

export interface RegistrySettingsMethods {
  /** The replication rules (DescribeRegistry); an empty list when replication was never configured. */
  getReplicationRules(): Promise<ReplicationRuleSettings[]>;
  /** Replaces the whole replication configuration (PutReplicationConfiguration). Refused in read-only mode. */
  putReplicationRules(rules: readonly ReplicationRuleSettings[]): Promise<void>;

  /** Every pull through cache rule (DescribePullThroughCacheRules, pages of 1000). */
  listPullThroughCacheRules(): Promise<PullThroughCacheRuleSettings[]>;
  /** CreatePullThroughCacheRule. Refused in read-only mode. */
  createPullThroughCacheRule(rule: PullThroughCacheRuleSettings): Promise<void>;
  /** UpdatePullThroughCacheRule: only the credential and the role can change. Refused in read-only mode. */
  updatePullThroughCacheRule(rule: PullThroughCacheRuleSettings): Promise<void>;
  /** DeletePullThroughCacheRule; a rule already gone counts as done. Refused in read-only mode. */
  deletePullThroughCacheRule(prefix: string): Promise<void>;

  /** Every repository creation template (DescribeRepositoryCreationTemplates, pages of 1000). */
  listCreationTemplates(): Promise<CreationTemplateSettings[]>;
  /** CreateRepositoryCreationTemplate. Refused in read-only mode. */
  createCreationTemplate(template: CreationTemplateSettings): Promise<void>;
  /**
   * UpdateRepositoryCreationTemplate with every member, so that the template ends up exactly as given (an optional
   * text the template no longer has is sent empty, which clears it). Refused in read-only mode.
   */
  updateCreationTemplate(template: CreationTemplateSettings): Promise<void>;
  /** DeleteRepositoryCreationTemplate; a template already gone counts as done. Refused in read-only mode. */
  deleteCreationTemplate(prefix: string): Promise<void>;

  /** Replaces the registry scanning configuration (PutRegistryScanningConfiguration). Refused in read-only mode. */
  putRegistryScanningConfiguration(configuration: RegistryScanningInput): Promise<void>;

  /** The registry policy's text (GetRegistryPolicy), or undefined when the registry has none. */
  getRegistryPolicy(): Promise<string | undefined>;
  /** Replaces the whole registry policy (PutRegistryPolicy). Refused in read-only mode. */
  putRegistryPolicy(policyText: string): Promise<void>;
  /** DeleteRegistryPolicy; `deleted: false` when there was none. Refused in read-only mode. */
  deleteRegistryPolicy(): Promise<{ deleted: boolean }>;

  /** The repository's lifecycle policy text (GetLifecyclePolicy), or undefined when it has none. */
  getLifecyclePolicy(repositoryName: string): Promise<string | undefined>;
  /** PutLifecyclePolicy. Refused in read-only mode. */
  putLifecyclePolicy(repositoryName: string, policyText: string): Promise<void>;
  /** DeleteLifecyclePolicy; `deleted: false` when there was none. Refused in read-only mode. */
  deleteLifecyclePolicy(repositoryName: string): Promise<{ deleted: boolean }>;
  /** The repository policy text (GetRepositoryPolicy), or undefined when it has none. */
  getRepositoryPolicy(repositoryName: string): Promise<string | undefined>;
  /** The resource tags of a repository (ListTagsForResource by ARN). */
  listResourceTags(resourceArn: string): Promise<Record<string, string>>;
  /** Adds or overwrites resource tags (TagResource). Refused in read-only mode. */
  tagResource(resourceArn: string, tags: Readonly<Record<string, string>>): Promise<void>;
  /** Sets the repository's scan-on-push flag (PutImageScanningConfiguration). Refused in read-only mode. */
  putScanOnPush(repositoryName: string, scanOnPush: boolean): Promise<void>;
}

type WithCommand = NonNullable<ECRPaginationConfiguration['withCommand']>;

/** What the gateway lends these methods: its client, its counted `call` and `paged`, and its read-only guard. */
export interface GatewayTools {
  client: ECRClient;
  call<T>(operation: EcrOperation, repository: string | undefined, run: () => Promise<T>): Promise<T>;
  paged<Page, Mapped>(
    operation: EcrOperation,
    repository: string | undefined,
    paginate: (withCommand: WithCommand) => AsyncIterable<Page>,
    map: (page: Page) => Mapped,
  ): AsyncIterable<Mapped>;
  refuseWhenReadOnly(operation: EcrOperation, repository?: string): void;
}

/**
 * ECR's "not there" answers that mean "absent" to a reader or "already done" to a deleter
 * (docs/ecr-limits.md#not-found-answers).
 */
const isAbsent = (error: unknown, code: string) => error instanceof EcrGatewayError && error.code === code;

/** A prefix as ECR keys it: a trailing `/` is always assumed ([M-ECR]). */
export const prefixKey = (prefix: string) => (prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);

const toPullThroughCacheRule = (rule: PullThroughCacheRule): PullThroughCacheRuleSettings => {
  const upstream = (rule as { upstreamRegistry?: string }).upstreamRegistry;
  return {
    prefix: prefixKey(rule.ecrRepositoryPrefix ?? ''),
    upstreamRegistryUrl: rule.upstreamRegistryUrl ?? '',
    ...(upstream ? { upstreamRegistry: upstream } : {}),
    ...(rule.credentialArn ? { credentialArn: rule.credentialArn } : {}),
    ...(rule.customRoleArn ? { customRoleArn: rule.customRoleArn } : {}),
    ...(rule.upstreamRepositoryPrefix ? { upstreamRepositoryPrefix: rule.upstreamRepositoryPrefix } : {}),
  };
};

const toCreationTemplate = (template: RepositoryCreationTemplate): CreationTemplateSettings => ({
  prefix: prefixKey(template.prefix ?? ''),
  appliedFor: [...(template.appliedFor ?? [])],
  ...(template.description ? { description: template.description } : {}),
  imageTagMutability: template.imageTagMutability ?? 'MUTABLE',
  imageTagMutabilityExclusionFilters: (template.imageTagMutabilityExclusionFilters ?? []).map((f) => f.filter ?? ''),
  encryptionType: template.encryptionConfiguration?.encryptionType ?? 'AES256',
  ...(template.encryptionConfiguration?.kmsKey ? { kmsKey: template.encryptionConfiguration.kmsKey } : {}),
  ...(template.lifecyclePolicy ? { lifecyclePolicy: template.lifecyclePolicy } : {}),
  ...(template.repositoryPolicy ? { repositoryPolicy: template.repositoryPolicy } : {}),
  resourceTags: Object.fromEntries((template.resourceTags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
  ...(template.customRoleArn ? { customRoleArn: template.customRoleArn } : {}),
});

const toSdkTags = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** The members of a template common to Create and Update; `clear` sends absent optional texts as `''`. */
const templateMembers = (template: CreationTemplateSettings, clear: boolean) => {
  const text = (value: string | undefined) => (value === undefined ? (clear ? { value: '' } : undefined) : { value });
  const optional = (name: string, value: string | undefined) => {
    const sent = text(value);
    return sent === undefined ? {} : { [name]: sent.value };
  };
  return {
    prefix: template.prefix,
    appliedFor: template.appliedFor as RCTAppliedFor[],
    imageTagMutability: template.imageTagMutability as ImageTagMutability,
    ...(template.imageTagMutabilityExclusionFilters.length > 0
      ? {
          imageTagMutabilityExclusionFilters: template.imageTagMutabilityExclusionFilters.map((filter) => ({
            filter,
            filterType: 'WILDCARD' as const,
          })),
        }
      : {}),
    encryptionConfiguration: {
      encryptionType: template.encryptionType as EncryptionType,
      ...(template.kmsKey ? { kmsKey: template.kmsKey } : {}),
    },
    resourceTags: toSdkTags(template.resourceTags),
    ...optional('description', template.description),
    ...optional('lifecyclePolicy', template.lifecyclePolicy),
    ...optional('repositoryPolicy', template.repositoryPolicy),
    ...optional('customRoleArn', template.customRoleArn),
  };
};

/** The registry-settings methods of the gateway, built on the gateway's own tools. */
export function registrySettingsMethods(tools: GatewayTools): RegistrySettingsMethods {
  const { client, call, paged, refuseWhenReadOnly } = tools;
  return {
    getReplicationRules: () =>
      call('DescribeRegistry', undefined, async () => {
        const response = await client.send(new DescribeRegistryCommand({}));
        return (response.replicationConfiguration?.rules ?? []).map((rule) => ({
          destinations: (rule.destinations ?? []).map((d) => ({
            region: d.region ?? '',
            registryId: d.registryId ?? '',
          })),
          repositoryFilters: (rule.repositoryFilters ?? []).map((f) => f.filter ?? ''),
        }));
      }),

    async putReplicationRules(rules) {
      refuseWhenReadOnly('PutReplicationConfiguration');
      await call('PutReplicationConfiguration', undefined, () =>
        client.send(
          new PutReplicationConfigurationCommand({
            replicationConfiguration: {
              rules: rules.map((rule) => ({
                destinations: rule.destinations.map((d) => ({ region: d.region, registryId: d.registryId })),
                ...(rule.repositoryFilters.length > 0
                  ? {
                      repositoryFilters: rule.repositoryFilters.map((filter) => ({
                        filter,
                        filterType: 'PREFIX_MATCH' as const,
                      })),
                    }
                  : {}),
              })),
            },
          }),
        ),
      );
    },

    async listPullThroughCacheRules() {
      const rules: PullThroughCacheRuleSettings[] = [];
      const pages = paged(
        'DescribePullThroughCacheRules',
        undefined,
        (withCommand) =>
          paginateDescribePullThroughCacheRules(
            { client, pageSize: DESCRIBE_REGISTRY_SETTINGS_PAGE_SIZE, withCommand },
            {},
          ),
        (page) => (page.pullThroughCacheRules ?? []).map(toPullThroughCacheRule),
      );
      for await (const page of pages) rules.push(...page);
      return rules;
    },

    async createPullThroughCacheRule(rule) {
      refuseWhenReadOnly('CreatePullThroughCacheRule');
      await call('CreatePullThroughCacheRule', undefined, () =>
        client.send(
          new CreatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: rule.prefix,
            upstreamRegistryUrl: rule.upstreamRegistryUrl,
            ...(rule.upstreamRegistry ? { upstreamRegistry: rule.upstreamRegistry as UpstreamRegistry } : {}),
            ...(rule.credentialArn ? { credentialArn: rule.credentialArn } : {}),
            ...(rule.customRoleArn ? { customRoleArn: rule.customRoleArn } : {}),
            ...(rule.upstreamRepositoryPrefix ? { upstreamRepositoryPrefix: rule.upstreamRepositoryPrefix } : {}),
          }),
        ),
      );
    },

    async updatePullThroughCacheRule(rule) {
      refuseWhenReadOnly('UpdatePullThroughCacheRule');
      await call('UpdatePullThroughCacheRule', undefined, () =>
        client.send(
          new UpdatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: rule.prefix,
            ...(rule.credentialArn ? { credentialArn: rule.credentialArn } : {}),
            ...(rule.customRoleArn ? { customRoleArn: rule.customRoleArn } : {}),
          }),
        ),
      );
    },

    async deletePullThroughCacheRule(prefix) {
      refuseWhenReadOnly('DeletePullThroughCacheRule');
      try {
        await call('DeletePullThroughCacheRule', undefined, () =>
          client.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: prefix })),
        );
      } catch (error) {
        if (!isAbsent(error, 'PullThroughCacheRuleNotFoundException')) throw error;
      }
    },

    async listCreationTemplates() {
      const templates: CreationTemplateSettings[] = [];
      const pages = paged(
        'DescribeRepositoryCreationTemplates',
        undefined,
        (withCommand) =>
          paginateDescribeRepositoryCreationTemplates(
            { client, pageSize: DESCRIBE_REGISTRY_SETTINGS_PAGE_SIZE, withCommand },
            {},
          ),
        (page) => (page.repositoryCreationTemplates ?? []).map(toCreationTemplate),
      );
      for await (const page of pages) templates.push(...page);
      return templates;
    },

    async createCreationTemplate(template) {
      refuseWhenReadOnly('CreateRepositoryCreationTemplate');
      await call('CreateRepositoryCreationTemplate', undefined, () =>
        client.send(new CreateRepositoryCreationTemplateCommand(templateMembers(template, false))),
      );
    },

    async updateCreationTemplate(template) {
      refuseWhenReadOnly('UpdateRepositoryCreationTemplate');
      await call('UpdateRepositoryCreationTemplate', undefined, () =>
        client.send(new UpdateRepositoryCreationTemplateCommand(templateMembers(template, true))),
      );
    },

    async deleteCreationTemplate(prefix) {
      refuseWhenReadOnly('DeleteRepositoryCreationTemplate');
      try {
        await call('DeleteRepositoryCreationTemplate', undefined, () =>
          client.send(new DeleteRepositoryCreationTemplateCommand({ prefix })),
        );
      } catch (error) {
        if (!isAbsent(error, 'TemplateNotFoundException')) throw error;
      }
    },

    async putRegistryScanningConfiguration(configuration) {
      refuseWhenReadOnly('PutRegistryScanningConfiguration');
      await call('PutRegistryScanningConfiguration', undefined, () =>
        client.send(
          new PutRegistryScanningConfigurationCommand({
            scanType: configuration.scanType as ScanType,
            rules: configuration.rules.map((rule) => ({
              scanFrequency: rule.scanFrequency as ScanFrequency,
              repositoryFilters: rule.repositoryFilters.map((filter) => ({ filter, filterType: 'WILDCARD' as const })),
            })),
          }),
        ),
      );
    },

    async getRegistryPolicy() {
      try {
        return await call('GetRegistryPolicy', undefined, async () => {
          const response = await client.send(new GetRegistryPolicyCommand({}));
          return response.policyText;
        });
      } catch (error) {
        if (isAbsent(error, 'RegistryPolicyNotFoundException')) return undefined;
        throw error;
      }
    },

    async putRegistryPolicy(policyText) {
      refuseWhenReadOnly('PutRegistryPolicy');
      await call('PutRegistryPolicy', undefined, () => client.send(new PutRegistryPolicyCommand({ policyText })));
    },

    async deleteRegistryPolicy() {
      refuseWhenReadOnly('DeleteRegistryPolicy');
      try {
        await call('DeleteRegistryPolicy', undefined, () => client.send(new DeleteRegistryPolicyCommand({})));
        return { deleted: true };
      } catch (error) {
        if (isAbsent(error, 'RegistryPolicyNotFoundException')) return { deleted: false };
        throw error;
      }
    },

    async getLifecyclePolicy(repositoryName) {
      try {
        return await call('GetLifecyclePolicy', repositoryName, async () => {
          const response = await client.send(new GetLifecyclePolicyCommand({ repositoryName }));
          return response.lifecyclePolicyText;
        });
      } catch (error) {
        if (isAbsent(error, 'LifecyclePolicyNotFoundException')) return undefined;
        throw error;
      }
    },

    async putLifecyclePolicy(repositoryName, lifecyclePolicyText) {
      refuseWhenReadOnly('PutLifecyclePolicy', repositoryName);
      await call('PutLifecyclePolicy', repositoryName, () =>
        client.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText })),
      );
    },

    async deleteLifecyclePolicy(repositoryName) {
      refuseWhenReadOnly('DeleteLifecyclePolicy', repositoryName);
      try {
        await call('DeleteLifecyclePolicy', repositoryName, () =>
          client.send(new DeleteLifecyclePolicyCommand({ repositoryName })),
        );
        return { deleted: true };
      } catch (error) {
        if (isAbsent(error, 'LifecyclePolicyNotFoundException')) return { deleted: false };
        throw error;
      }
    },

    async getRepositoryPolicy(repositoryName) {
      try {
        return await call('GetRepositoryPolicy', repositoryName, async () => {
          const response = await client.send(new GetRepositoryPolicyCommand({ repositoryName }));
          return response.policyText;
        });
      } catch (error) {
        if (isAbsent(error, 'RepositoryPolicyNotFoundException')) return undefined;
        throw error;
      }
    },

    listResourceTags: (resourceArn) =>
      call('ListTagsForResource', undefined, async () => {
        const response = await client.send(new ListTagsForResourceCommand({ resourceArn }));
        return Object.fromEntries((response.tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
      }),

    async tagResource(resourceArn, tags) {
      refuseWhenReadOnly('TagResource');
      await call('TagResource', undefined, () =>
        client.send(new TagResourceCommand({ resourceArn, tags: toSdkTags(tags) })),
      );
    },

    async putScanOnPush(repositoryName, scanOnPush) {
      refuseWhenReadOnly('PutImageScanningConfiguration', repositoryName);
      await call('PutImageScanningConfiguration', repositoryName, () =>
        client.send(
          new PutImageScanningConfigurationCommand({ repositoryName, imageScanningConfiguration: { scanOnPush } }),
        ),
      );
    },
  };
}
