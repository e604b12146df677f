import { checkLifecyclePolicy } from '@ecr-automation/lifecycle';
import { newRepository } from '../model/records.ts';
import type {
  ExclusionFilter,
  RegistryState,
  RepositoryRecord,
  StoredCreationTemplate,
  StoredTagMutability,
} from '../model/state.ts';
import { constraintMessage, EcrException, invalidParameter, validationError } from '../wire/errors.ts';
import { Input, type ListRule, MAX_RESULTS, type StringRule, TAG_MUTABILITY } from '../wire/validate.ts';
import { toEpochSeconds } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import {
  CUSTOM_ROLE_ARN,
  checkPolicyDocument,
  POLICY_TEXT,
  PREFIX_PATTERN,
  PREFIX_PATTERN_TEXT,
  pageByKey,
  prefixKey,
  present,
  rejectPagingWithNames,
} from './settings-common.ts';

/** Repository creation templates ([M-ECR] CreateRepositoryCreationTemplate and its siblings). */

/** Tags a template may carry: a repository holds at most 50 ([M-ECR] `TooManyTagsException` doc). */
const MAX_TEMPLATE_TAGS = 50;
const MAX_TAG_KEY_LENGTH = 128;
const MAX_TAG_VALUE_LENGTH = 256;
const TEMPLATE_PREFIX: StringRule = { min: 1, max: 256, pattern: PREFIX_PATTERN, patternText: PREFIX_PATTERN_TEXT };
const APPLIED_FOR = ['REPLICATION', 'PULL_THROUGH_CACHE', 'CREATE_ON_PUSH'] as const;
/** UNCONFIRMED bounds: the model sets none; an empty list applies to nothing and there are three scenarios. */
const APPLIED_FOR_LIST: ListRule = { min: 1, max: APPLIED_FOR.length };
const TEMPLATE_DESCRIPTION: StringRule = { max: 256 };
const TEMPLATE_KMS_KEY: StringRule = {
  min: 0,
  max: 2048,
  pattern: /^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-z0-9-]+/,
  patternText: '^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\\/[a-z0-9-]+',
};

const ENCRYPTION_TYPES = ['AES256', 'KMS', 'KMS_DSSE'] as const;
const TEMPLATE_LIFECYCLE_POLICY: StringRule = { min: 0, max: 30_720 };
const EXCLUSION_FILTERS: ListRule = { min: 1, max: 5 };
const EXCLUSION_FILTER_VALUE: StringRule = {
  min: 1,
  max: 128,
  pattern: /^[0-9a-zA-Z._*-]{1,128}$/,
  patternText: '^[0-9a-zA-Z._*-]{1,128}$',
};

const WITH_EXCLUSION: readonly StoredTagMutability[] = ['IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'];

type Encryption = { encryptionType: (typeof ENCRYPTION_TYPES)[number]; kmsKey?: string };
type Tag = { Key: string; Value: string };

/** A repository creation template as stored (times in epoch ms). */
export type TemplateRecord = {
  prefix: string;
  description?: string;
  encryptionConfiguration: Encryption;
  resourceTags: Tag[];
  imageTagMutability: StoredTagMutability;
  imageTagMutabilityExclusionFilters: ExclusionFilter[];
  repositoryPolicy?: string;
  lifecyclePolicy?: string;
  appliedFor: string[];
  customRoleArn?: string;
  createdAt: number;
  updatedAt: number;
};

const templateNotFound = (prefix: string, registryId: string) =>
  new EcrException(
    'TemplateNotFoundException',
    `The repository creation template with prefix '${prefix}' does not exist in the registry with id '${registryId}'`,
  );
/**
 * The template a new repository of `state` gets in a scenario: the one with the longest prefix the name starts
 * with (`prod` covers `prod/...`), else `ROOT` ([M-ECR] `prefix` doc).
 */
export function creationTemplateFor(
  state: RegistryState,
  repositoryName: string,
  scenario: (typeof APPLIED_FOR)[number],
): TemplateRecord | undefined {
  let best: TemplateRecord | undefined;
  let root: TemplateRecord | undefined;
  for (const [key, value] of state.creationTemplates) {
    const template = value as TemplateRecord;
    if (!template.appliedFor.includes(scenario)) continue;
    if (key === 'ROOT') root = template;
    else if (repositoryName.startsWith(`${key}/`) && key.length > prefixKey(best?.prefix ?? '').length) best = template;
  }
  return best ?? root;
}

/**
 * Creates (and stores) repository `name` of `state` as ECR does in a scenario a template can apply to (a replica,
 * a push to a repository that does not exist): its settings from the matching template, else ECR's defaults.
 */
export function createRepositoryFromTemplate(
  ctx: OpContext,
  state: RegistryState,
  name: string,
  scenario: (typeof APPLIED_FOR)[number],
): RepositoryRecord {
  const template = creationTemplateFor(state, name, scenario);
  const now = ctx.now();
  const repository = newRepository(state, name, now, {
    imageTagMutability: template?.imageTagMutability,
    imageTagMutabilityExclusionFilters: template?.imageTagMutabilityExclusionFilters.map((filter) => ({ ...filter })),
    encryption: template ? { ...template.encryptionConfiguration } : undefined,
    tags: template?.resourceTags.map((tag): [string, string] => [tag.Key, tag.Value]),
  });
  if (template?.repositoryPolicy) repository.policyText = template.repositoryPolicy;
  if (template?.lifecyclePolicy) {
    repository.lifecyclePolicyText = template.lifecyclePolicy;
    repository.lifecyclePolicyUpdatedAt = now;
  }
  state.repositories.set(name, repository);
  return repository;
}

function readTemplateTags(input: Input): Tag[] | undefined {
  const list = input.objList('resourceTags');
  if (!list) return undefined;
  if (list.length > MAX_TEMPLATE_TAGS) {
    throw input.fail(
      constraintMessage('resourceTags', `Member must have length less than or equal to ${MAX_TEMPLATE_TAGS}`),
    );
  }
  const keys = new Set<string>();
  return list.map((item) => {
    const Key = item.str('Key', { required: true, min: 1, max: MAX_TAG_KEY_LENGTH });
    const Value = item.str('Value', { required: true, max: MAX_TAG_VALUE_LENGTH });
    if (keys.has(Key)) throw input.fail(constraintMessage(item.path, `Tag key '${Key}' appears more than once`));
    keys.add(Key);
    return { Key, Value };
  });
}

function readTemplateEncryption(input: Input): Encryption | undefined {
  const config = input.obj('encryptionConfiguration');
  if (!config) return undefined;
  const encryptionType = config.str('encryptionType', {
    required: true,
    enum: ENCRYPTION_TYPES,
  }) as Encryption['encryptionType'];
  const kmsKey = config.str('kmsKey', TEMPLATE_KMS_KEY) || undefined;
  if (encryptionType === 'AES256' && kmsKey !== undefined) {
    throw input.fail(
      constraintMessage(
        'encryptionConfiguration.kmsKey',
        'kmsKey can be given only with encryptionType KMS or KMS_DSSE',
      ),
    );
  }
  return kmsKey === undefined ? { encryptionType } : { encryptionType, kmsKey };
}

/** The members a Create or Update sends; absent members are undefined. An empty text clears it (UNCONFIRMED). */
function readTemplateChanges(input: Input, creating: boolean) {
  const appliedFor = creating
    ? input.strList('appliedFor', { ...APPLIED_FOR_LIST, required: true }, { enum: APPLIED_FOR })
    : input.strList('appliedFor', APPLIED_FOR_LIST, { enum: APPLIED_FOR });
  const changes = {
    description: input.str('description', TEMPLATE_DESCRIPTION),
    encryptionConfiguration: readTemplateEncryption(input),
    resourceTags: readTemplateTags(input),
    imageTagMutability: input.str('imageTagMutability', { enum: TAG_MUTABILITY }) as StoredTagMutability | undefined,
    imageTagMutabilityExclusionFilters: input
      .objList('imageTagMutabilityExclusionFilters', EXCLUSION_FILTERS)
      ?.map((item) => ({
        filterType: item.str('filterType', { required: true, enum: ['WILDCARD'] }) as 'WILDCARD',
        filter: item.str('filter', { ...EXCLUSION_FILTER_VALUE, required: true }),
      })),
    repositoryPolicy: input.str('repositoryPolicy', POLICY_TEXT),
    lifecyclePolicy: input.str('lifecyclePolicy', TEMPLATE_LIFECYCLE_POLICY),
    appliedFor: appliedFor ? [...new Set(appliedFor)] : undefined,
    customRoleArn: input.str('customRoleArn', CUSTOM_ROLE_ARN),
  };
  if (changes.repositoryPolicy) checkPolicyDocument(changes.repositoryPolicy, 'repositoryPolicy', 'repository policy');
  if (changes.lifecyclePolicy) {
    const check = checkLifecyclePolicy(changes.lifecyclePolicy);
    if (!check.valid) throw invalidParameter(constraintMessage('lifecyclePolicy', check.reason));
  }
  return changes;
}

type TemplateChanges = ReturnType<typeof readTemplateChanges>;

/**
 * Tag mutability after a change: filters go with the `*_WITH_EXCLUSION` values only, as in PutImageTagMutability.
 * Changing to a value without exclusions drops the stored filters.
 */
function mergedTagMutability(
  changes: TemplateChanges,
  current: { mutability: StoredTagMutability; filters: ExclusionFilter[] },
  input: Input,
): { mutability: StoredTagMutability; filters: ExclusionFilter[] } {
  const mutability = changes.imageTagMutability ?? current.mutability;
  const needsFilters = WITH_EXCLUSION.includes(mutability);
  const filters = changes.imageTagMutabilityExclusionFilters ?? (needsFilters ? current.filters : []);
  if (needsFilters && filters.length === 0) {
    throw input.fail(
      constraintMessage(
        'imageTagMutabilityExclusionFilters',
        `Member must not be null when imageTagMutability is ${mutability}`,
      ),
    );
  }
  if (!needsFilters && filters.length > 0) {
    throw input.fail(
      constraintMessage(
        'imageTagMutabilityExclusionFilters',
        `Member must be null when imageTagMutability is ${mutability}`,
      ),
    );
  }
  return { mutability, filters };
}

const textOrNothing = (text: string | undefined, current: string | undefined) =>
  text === undefined ? current : text === '' ? undefined : text;

function applyTemplateChanges(template: TemplateRecord, changes: TemplateChanges, input: Input): TemplateRecord {
  const current = { mutability: template.imageTagMutability, filters: template.imageTagMutabilityExclusionFilters };
  const { mutability, filters } = mergedTagMutability(changes, current, input);
  return {
    ...template,
    description: textOrNothing(changes.description, template.description),
    encryptionConfiguration: changes.encryptionConfiguration ?? template.encryptionConfiguration,
    resourceTags: changes.resourceTags ?? template.resourceTags,
    imageTagMutability: mutability,
    imageTagMutabilityExclusionFilters: filters,
    repositoryPolicy: textOrNothing(changes.repositoryPolicy, template.repositoryPolicy),
    lifecyclePolicy: textOrNothing(changes.lifecyclePolicy, template.lifecyclePolicy),
    appliedFor: changes.appliedFor ?? template.appliedFor,
    customRoleArn: textOrNothing(changes.customRoleArn, template.customRoleArn),
  };
}

const templateShape = (template: TemplateRecord) =>
  present({
    prefix: template.prefix,
    description: template.description,
    encryptionConfiguration: { ...template.encryptionConfiguration },
    resourceTags: template.resourceTags.map((tag) => ({ ...tag })),
    imageTagMutability: template.imageTagMutability,
    imageTagMutabilityExclusionFilters:
      template.imageTagMutabilityExclusionFilters.length > 0
        ? template.imageTagMutabilityExclusionFilters.map((filter) => ({ ...filter }))
        : undefined,
    repositoryPolicy: template.repositoryPolicy,
    lifecyclePolicy: template.lifecyclePolicy,
    appliedFor: [...template.appliedFor],
    customRoleArn: template.customRoleArn,
    createdAt: toEpochSeconds(template.createdAt),
    updatedAt: toEpochSeconds(template.updatedAt),
  });

function requireTemplate(state: RegistryState, prefix: string): TemplateRecord {
  const template = state.creationTemplates.get(prefixKey(prefix));
  if (!template) throw templateNotFound(prefix, state.account);
  return template as TemplateRecord;
}

/**
 * Creates a template with ECR's defaults (AES256, MUTABLE, no tags). The model lists LimitExceededException, but
 * the number of templates per registry is not published (UNCONFIRMED), so no limit is enforced.
 */
function createRepositoryCreationTemplate(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const prefix = input.str('prefix', { ...TEMPLATE_PREFIX, required: true });
  const changes = readTemplateChanges(input, true);
  const now = ctx.now();
  const defaults: TemplateRecord = {
    prefix,
    encryptionConfiguration: { encryptionType: 'AES256' },
    resourceTags: [],
    imageTagMutability: 'MUTABLE',
    imageTagMutabilityExclusionFilters: [],
    appliedFor: [],
    createdAt: now,
    updatedAt: now,
  };
  const template = applyTemplateChanges(defaults, changes, input);
  const state = ctx.state;
  if (state.creationTemplates.has(prefixKey(prefix))) {
    throw new EcrException(
      'TemplateAlreadyExistsException',
      `A repository creation template with prefix '${prefix}' already exists in the registry with id '${state.account}'`,
    );
  }
  state.creationTemplates.set(prefixKey(prefix), template as StoredCreationTemplate);
  return { registryId: state.account, repositoryCreationTemplate: templateShape(template) };
}

/** Named templates that exist, in the order asked (the model names no not-found error here), or a sorted page. */
function describeRepositoryCreationTemplates(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const prefixes = input.strList('prefixes', {}, TEMPLATE_PREFIX);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', MAX_RESULTS);
  rejectPagingWithNames(input, 'prefixes');
  const state = ctx.state;
  if (prefixes) {
    const keys = [...new Set(prefixes.map(prefixKey))];
    const templates = keys.flatMap((key) => {
      const template = state.creationTemplates.get(key);
      return template ? [templateShape(template as TemplateRecord)] : [];
    });
    return { registryId: state.account, repositoryCreationTemplates: templates };
  }
  const fingerprint = `${state.account}/${state.region}`;
  const templates = state.creationTemplates as Map<string, StoredCreationTemplate>;
  const page = pageByKey(templates, 'DescribeRepositoryCreationTemplates', fingerprint, nextToken, maxResults);
  return {
    registryId: state.account,
    repositoryCreationTemplates: page.items.map((template) => templateShape(template as TemplateRecord)),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
}

function updateRepositoryCreationTemplate(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const prefix = input.str('prefix', { ...TEMPLATE_PREFIX, required: true });
  const changes = readTemplateChanges(input, false);
  const state = ctx.state;
  const current = requireTemplate(state, prefix);
  const template = { ...applyTemplateChanges(current, changes, input), updatedAt: ctx.now() };
  state.creationTemplates.set(prefixKey(prefix), template as StoredCreationTemplate);
  return { registryId: state.account, repositoryCreationTemplate: templateShape(template) };
}

function deleteRepositoryCreationTemplate(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const prefix = input.str('prefix', { ...TEMPLATE_PREFIX, required: true });
  const state = ctx.state;
  const template = requireTemplate(state, prefix);
  state.creationTemplates.delete(prefixKey(prefix));
  return { registryId: state.account, repositoryCreationTemplate: templateShape(template) };
}

export const creationTemplateOperations: OperationTable = {
  CreateRepositoryCreationTemplate: createRepositoryCreationTemplate,
  DescribeRepositoryCreationTemplates: describeRepositoryCreationTemplates,
  UpdateRepositoryCreationTemplate: updateRepositoryCreationTemplate,
  DeleteRepositoryCreationTemplate: deleteRepositoryCreationTemplate,
};
