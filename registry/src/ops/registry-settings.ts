import { checkLifecyclePolicy } from '../model/lifecycle-policy.ts';
import { newImage, newRepository, parseManifest } from '../model/records.ts';
import type {
  ExclusionFilter,
  RegistryState,
  RepositoryRecord,
  StoredCreationTemplate,
  StoredImage,
  StoredPullThroughCacheRule,
  StoredReplicationRule,
  StoredTagMutability,
} from '../model/state.ts';
import { ECR_REGIONS } from '../model/state.ts';
import { constraintMessage, EcrException, invalidParameter, validationError } from '../wire/errors.ts';
import {
  Input,
  type ListRule,
  MAX_RESULTS,
  REGISTRY_ID,
  REPOSITORY_NAME,
  type StringRule,
  TAG_MUTABILITY,
} from '../wire/validate.ts';
import { decodeToken, encodeToken, requireRepository, stateFor, toEpochSeconds } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import { answerImageId, findImage, readImageId, repositoryState } from './scanning.ts';

/**
 * Registry-level settings: replication, pull through cache rules, repository creation templates and the registry
 * policy. These operations came with ValidationException in their models, so constraint errors use it; content
 * errors in policy documents stay InvalidParameterException, as for repository policies.
 */

/** Replication quotas ([M-ECR] list bounds; [UG-QUOTA]: 25 unique destinations across all rules). */
export const MAX_REPLICATION_RULES = 10;
export const MAX_UNIQUE_REPLICATION_DESTINATIONS = 25;
/** Pull through cache rules per registry ([UG-QUOTA], not adjustable). */
export const MAX_PULL_THROUGH_CACHE_RULES = 50;
/** Describe pages when `maxResults` is omitted ([M-ECR] member docs: "up to 100 results"). */
const DEFAULT_DESCRIBE_PAGE = 100;
/** Tags a template may carry: a repository holds at most 50 ([M-ECR] `TooManyTagsException` doc). */
const MAX_TEMPLATE_TAGS = 50;
const MAX_TAG_KEY_LENGTH = 128;
const MAX_TAG_VALUE_LENGTH = 256;

const REPLICATION_RULES: ListRule = { min: 0, max: MAX_REPLICATION_RULES };
const REPLICATION_DESTINATIONS: ListRule = { min: 0, max: 100 };
const REPLICATION_FILTERS: ListRule = { min: 1, max: 100 };
const REGION: StringRule = { min: 2, max: 25, pattern: /^[0-9a-z-]{2,25}$/, patternText: '[0-9a-z-]{2,25}' };
const REPLICATION_FILTER_VALUE: StringRule = {
  min: 2,
  max: 256,
  pattern: /^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*\/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$/,
  patternText: '^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$',
};
/** Repository-name grammar with an optional trailing `/`, or `ROOT` (PTC and template prefixes, [M-ECR]). */
const PREFIX_PATTERN = /^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$/;
const PREFIX_PATTERN_TEXT = '^([a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\/?|ROOT)$';
const PTC_PREFIX: StringRule = { min: 2, max: 30, pattern: PREFIX_PATTERN, patternText: PREFIX_PATTERN_TEXT };
const TEMPLATE_PREFIX: StringRule = { min: 1, max: 256, pattern: PREFIX_PATTERN, patternText: PREFIX_PATTERN_TEXT };
const PTC_PREFIXES: ListRule = { min: 1, max: 100 };
const CREDENTIAL_ARN: StringRule = {
  min: 50,
  max: 612,
  pattern: /^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr-pullthroughcache\/[a-zA-Z0-9/_+=.@-]+$/,
  patternText: '^arn:aws(-\\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\\-pullthroughcache\\/[a-zA-Z0-9\\/_+=.@-]+$',
};
const CUSTOM_ROLE_ARN: StringRule = { max: 2048 };
const UPSTREAM_REGISTRIES = [
  'ecr',
  'ecr-public',
  'quay',
  'k8s',
  'docker-hub',
  'github-container-registry',
  'azure-container-registry',
  'gitlab-container-registry',
  'chainguard',
] as const;
type UpstreamRegistry = (typeof UPSTREAM_REGISTRIES)[number];

/** `upstreamRegistryUrl` of each upstream ([M-ECR] CreatePullThroughCacheRule doc). */
const UPSTREAM_URLS: readonly [UpstreamRegistry, RegExp][] = [
  ['ecr', /^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/],
  ['ecr-public', /^public\.ecr\.aws$/],
  ['docker-hub', /^registry-1\.docker\.io$/],
  ['github-container-registry', /^ghcr\.io$/],
  ['gitlab-container-registry', /^registry\.gitlab\.com$/],
  ['k8s', /^registry\.k8s\.io$/],
  ['azure-container-registry', /^[a-z0-9]+\.azurecr\.io$/],
  ['quay', /^quay\.io$/],
  // UNCONFIRMED: the model does not give Chainguard's URL; cgr.dev is its registry.
  ['chainguard', /^cgr\.dev$/],
];
/** Upstreams that need a Secrets Manager secret `ecr-pullthroughcache/...` ([UG-PTC]). */
const NEEDS_CREDENTIAL: ReadonlySet<UpstreamRegistry> = new Set([
  'docker-hub',
  'github-container-registry',
  'gitlab-container-registry',
  'azure-container-registry',
  'chainguard',
]);

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
const POLICY_TEXT: StringRule = { min: 0, max: 10_240 };
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

/** A pull through cache rule as stored (times in epoch ms). */
type PtcRecord = {
  ecrRepositoryPrefix: string;
  upstreamRegistryUrl: string;
  upstreamRegistry: UpstreamRegistry;
  registryId: string;
  credentialArn?: string;
  customRoleArn?: string;
  upstreamRepositoryPrefix: string;
  createdAt: number;
  updatedAt: number;
};

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

/** A trailing `/` is always assumed on PTC and template prefixes ([M-ECR]): `ecr-public` and `ecr-public/` are one. */
const prefixKey = (prefix: string) => (prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);

const present = <T extends Record<string, unknown>>(record: T) =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;

// Errors with ECR's messages

const ptcRuleNotFound = (prefix: string, registryId: string) =>
  new EcrException(
    'PullThroughCacheRuleNotFoundException',
    `The pull through cache rule with prefix '${prefix}' does not exist in the registry with id '${registryId}'`,
  );

const templateNotFound = (prefix: string, registryId: string) =>
  new EcrException(
    'TemplateNotFoundException',
    `The repository creation template with prefix '${prefix}' does not exist in the registry with id '${registryId}'`,
  );

const registryPolicyNotFound = (registryId: string) =>
  new EcrException(
    'RegistryPolicyNotFoundException',
    `Registry policy does not exist in the registry with id '${registryId}'`,
  );

/** Named items and paging do not mix ([M-ECR], as for `repositoryNames` and `imageIds`). */
function rejectPagingWithNames(input: Input, member: string): void {
  if (input.has(member) && (input.has('nextToken') || input.has('maxResults'))) {
    throw input.fail(`Invalid parameter: nextToken and maxResults cannot be used together with ${member}`);
  }
}

/** One page of a listing sorted by key; the token holds the last key returned, so deletions do not shift pages. */
function pageByKey<T>(
  entries: Map<string, T>,
  listing: string,
  fingerprint: string,
  nextToken: string | undefined,
  maxResults: number | undefined,
): { items: T[]; nextToken?: string } {
  const after = nextToken === undefined ? undefined : decodeToken(nextToken, listing, fingerprint);
  if (after !== undefined && typeof after !== 'string') {
    throw invalidParameter(constraintMessage('nextToken', 'Invalid NextToken'));
  }
  const keys = [...entries.keys()].filter((key) => after === undefined || key > after).sort();
  const limit = maxResults ?? DEFAULT_DESCRIBE_PAGE;
  const page = keys.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((key) => entries.get(key) as T),
    ...(keys.length > limit && last !== undefined ? { nextToken: encodeToken(listing, fingerprint, last) } : {}),
  };
}

// Registry and replication

const replicationShape = (rules: StoredReplicationRule[]) => ({
  rules: rules.map((rule) => ({
    destinations: rule.destinations.map((destination) => ({ ...destination })),
    ...(rule.repositoryFilters ? { repositoryFilters: rule.repositoryFilters.map((filter) => ({ ...filter })) } : {}),
  })),
});

function describeRegistry(raw: Record<string, unknown>, ctx: OpContext) {
  Input.parse(raw, validationError);
  return { registryId: ctx.state.account, replicationConfiguration: replicationShape(ctx.state.replication.rules) };
}

function readReplicationRule(rule: Input, ctx: OpContext): StoredReplicationRule {
  const destinations = rule
    .objList('destinations', { ...REPLICATION_DESTINATIONS, required: true })
    .map((destination) => {
      const region = destination.str('region', { ...REGION, required: true });
      const registryId = destination.str('registryId', { ...REGISTRY_ID, required: true });
      if (!ECR_REGIONS.has(region)) {
        throw destination.fail(constraintMessage(`${destination.path}.region`, `'${region}' is not an ECR region`));
      }
      if (region === ctx.region && registryId === ctx.account) {
        // The model names no error for this; InvalidParameterException is ECR's general "parameter is invalid".
        throw invalidParameter(
          constraintMessage(destination.path, 'A replication destination cannot be the source registry and region'),
        );
      }
      return { region, registryId };
    });
  const repositoryFilters = rule.objList('repositoryFilters', REPLICATION_FILTERS)?.map((filter) => ({
    filter: filter.str('filter', { ...REPLICATION_FILTER_VALUE, required: true }),
    filterType: filter.str('filterType', { required: true, enum: ['PREFIX_MATCH'] }) as 'PREFIX_MATCH',
  }));
  return { destinations, ...(repositoryFilters ? { repositoryFilters } : {}) };
}

/** Replaces the whole replication configuration ([M-ECR] op doc). */
function putReplicationConfiguration(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const configuration = input.obj('replicationConfiguration', { required: true });
  const rules = configuration
    .objList('rules', { ...REPLICATION_RULES, required: true })
    .map((rule) => readReplicationRule(rule, ctx));
  const unique = new Set(rules.flatMap((rule) => rule.destinations.map((d) => `${d.registryId}/${d.region}`)));
  if (unique.size > MAX_UNIQUE_REPLICATION_DESTINATIONS) {
    throw validationError(
      constraintMessage(
        'replicationConfiguration.rules',
        `The rules have ${unique.size} unique destinations; at most ${MAX_UNIQUE_REPLICATION_DESTINATIONS} are allowed across all rules`,
      ),
    );
  }
  ctx.state.replication = { rules };
  return { replicationConfiguration: replicationShape(rules) };
}

/** A rule without filters replicates every repository; filters match by name prefix. */
const ruleMatches = (rule: StoredReplicationRule, repositoryName: string) =>
  !rule.repositoryFilters || rule.repositoryFilters.some((filter) => repositoryName.startsWith(filter.filter));

function destinationsFor(state: RegistryState, repositoryName: string): { region: string; registryId: string }[] {
  const unique = new Map<string, { region: string; registryId: string }>();
  for (const rule of state.replication.rules) {
    if (!ruleMatches(rule, repositoryName)) continue;
    for (const destination of rule.destinations)
      unique.set(`${destination.registryId}/${destination.region}`, destination);
  }
  return [...unique.values()];
}

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

/** A destination repository as replication creates it: its settings from a REPLICATION template, else defaults. */
function createReplicaRepository(ctx: OpContext, target: RegistryState, name: string): RepositoryRecord {
  const template = creationTemplateFor(target, name, 'REPLICATION');
  const now = ctx.now();
  const repository = newRepository(target, name, now, {
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
  target.repositories.set(name, repository);
  return repository;
}

/** Copies an image (an index with its children first) into `target`, and points its tags at the copy. */
function copyImage(ctx: OpContext, source: RepositoryRecord, image: StoredImage, target: RegistryState): void {
  const replica = target.repositories.get(source.name) ?? createReplicaRepository(ctx, target, source.name);
  for (const childDigest of image.childDigests) {
    const child = source.images.get(childDigest);
    if (child) copyImage(ctx, source, child, target);
  }
  let copy = replica.images.get(image.digest);
  if (!copy) {
    copy = newImage(replica, image.manifest, parseManifest(image.manifest, image.manifestMediaType), ctx.now());
    replica.images.add(copy);
  }
  for (const tag of image.tags) replica.images.setTag(tag, copy.digest);
}

/**
 * Replicates an image to every destination of the replication rules that match its repository, and returns the
 * `replicationStatuses`. The local registry replicates at once, so every status is COMPLETE. Copying is idempotent:
 * PutImage may call this after each push, and DescribeImageReplicationStatus calls it too, so that an image pushed
 * before PutImage replicated (or before the rule existed) is in place when its status is read. Registry-policy
 * permissions for cross-account destinations and the "ECR Replication Action" event (which belongs to the
 * destination's account and region, out of reach of `ctx.emit`) are not emulated.
 */
export function replicateImage(
  ctx: OpContext,
  repository: RepositoryRecord,
  image: StoredImage,
): { region: string; registryId: string; status: 'COMPLETE' | 'FAILED'; failureCode?: string }[] {
  const source = repositoryState(ctx, repository);
  return destinationsFor(source, repository.name).map((destination) => {
    // The registry holds state for a bounded number of accounts: past it, the replica cannot be made.
    if (!ctx.registry.canHold(destination.registryId)) {
      return {
        region: destination.region,
        registryId: destination.registryId,
        status: 'FAILED' as const,
        failureCode: 'The local registry holds the most accounts it can',
      };
    }
    copyImage(ctx, repository, image, ctx.registry.state(destination.registryId, destination.region));
    return { region: destination.region, registryId: destination.registryId, status: 'COMPLETE' as const };
  });
}

function describeImageReplicationStatus(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const state = stateFor(ctx, input);
  const name = input.str('repositoryName', { ...REPOSITORY_NAME, required: true });
  const imageId = readImageId(input);
  const repository = requireRepository(state, name);
  const image = findImage(repository, imageId);
  return {
    repositoryName: name,
    imageId: answerImageId(image, imageId),
    replicationStatuses: replicateImage(ctx, repository, image),
  };
}

// Pull through cache rules

function upstreamOf(url: string): UpstreamRegistry {
  const match = UPSTREAM_URLS.find(([, pattern]) => pattern.test(url));
  if (!match) {
    throw new EcrException(
      'UnsupportedUpstreamRegistryException',
      `The upstream registry URL '${url}' is not supported. Supported upstream registries: ${UPSTREAM_REGISTRIES.join(', ')}`,
    );
  }
  return match[0];
}

/** The upstream a rule caches from, checked against `upstreamRegistry` and its credential needs. */
function resolveUpstream(input: Input, url: string, credentialArn: string | undefined): UpstreamRegistry {
  const named = input.str('upstreamRegistry', { enum: UPSTREAM_REGISTRIES }) as UpstreamRegistry | undefined;
  const upstream = upstreamOf(url);
  if (named !== undefined && named !== upstream) {
    throw validationError(
      constraintMessage('upstreamRegistryUrl', `The URL '${url}' is not a URL of the upstream registry '${named}'`),
    );
  }
  if (NEEDS_CREDENTIAL.has(upstream) && credentialArn === undefined) {
    // The upstream is supported but the rule is incomplete: ValidationException rather than UnsupportedUpstreamRegistry.
    throw validationError(
      constraintMessage('credentialArn', `Member must not be null for the upstream registry '${upstream}'`),
    );
  }
  return upstream;
}

const ptcShape = (rule: PtcRecord) =>
  present({ ...rule, createdAt: toEpochSeconds(rule.createdAt), updatedAt: toEpochSeconds(rule.updatedAt) });

/**
 * Creates a rule. Secrets Manager is not emulated: any `credentialArn` of the right form is accepted (so
 * SecretNotFoundException and UnableToAccessSecretException are never thrown).
 */
function createPullThroughCacheRule(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const state = stateFor(ctx, input);
  const ecrRepositoryPrefix = input.str('ecrRepositoryPrefix', { ...PTC_PREFIX, required: true });
  const upstreamRegistryUrl = input.str('upstreamRegistryUrl', { required: true });
  const credentialArn = input.str('credentialArn', CREDENTIAL_ARN);
  const customRoleArn = input.str('customRoleArn', CUSTOM_ROLE_ARN);
  const upstreamRepositoryPrefix = input.str('upstreamRepositoryPrefix', PTC_PREFIX) ?? 'ROOT';
  const upstreamRegistry = resolveUpstream(input, upstreamRegistryUrl, credentialArn);
  const key = prefixKey(ecrRepositoryPrefix);
  if (state.pullThroughCacheRules.has(key)) {
    throw new EcrException(
      'PullThroughCacheRuleAlreadyExistsException',
      `A pull through cache rule with prefix '${ecrRepositoryPrefix}' already exists in the registry with id '${state.account}'`,
    );
  }
  if (state.pullThroughCacheRules.size >= MAX_PULL_THROUGH_CACHE_RULES) {
    throw new EcrException(
      'LimitExceededException',
      `The registry with id '${state.account}' already has the maximum of ${MAX_PULL_THROUGH_CACHE_RULES} pull through cache rules`,
    );
  }
  const now = ctx.now();
  const rule: PtcRecord = {
    ecrRepositoryPrefix,
    upstreamRegistryUrl,
    upstreamRegistry,
    registryId: state.account,
    credentialArn,
    customRoleArn,
    upstreamRepositoryPrefix,
    createdAt: now,
    updatedAt: now,
  };
  state.pullThroughCacheRules.set(key, rule as StoredPullThroughCacheRule);
  const { updatedAt: _updatedAt, ...created } = ptcShape(rule);
  return created;
}

function requirePtcRule(state: RegistryState, prefix: string): PtcRecord {
  const rule = state.pullThroughCacheRules.get(prefixKey(prefix));
  if (!rule) throw ptcRuleNotFound(prefix, state.account);
  return rule as PtcRecord;
}

/** Named rules in the order asked (each once), or a page of all rules sorted by prefix (UNCONFIRMED order). */
function describePullThroughCacheRules(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const state = stateFor(ctx, input);
  const prefixes = input.strList('ecrRepositoryPrefixes', PTC_PREFIXES, PTC_PREFIX);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', MAX_RESULTS);
  rejectPagingWithNames(input, 'ecrRepositoryPrefixes');
  if (prefixes) {
    const keys = [...new Set(prefixes.map(prefixKey))];
    return { pullThroughCacheRules: keys.map((key) => ptcShape(requirePtcRule(state, key))) };
  }
  const fingerprint = `${state.account}/${state.region}`;
  const rules = state.pullThroughCacheRules as Map<string, StoredPullThroughCacheRule>;
  const page = pageByKey(rules, 'DescribePullThroughCacheRules', fingerprint, nextToken, maxResults);
  return {
    pullThroughCacheRules: page.items.map((rule) => ptcShape(rule as PtcRecord)),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
}

/** Only the credential and the role can change; the upstream cannot ([M-ECR]: delete and create instead). */
function updatePullThroughCacheRule(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const state = stateFor(ctx, input);
  const prefix = input.str('ecrRepositoryPrefix', { ...PTC_PREFIX, required: true });
  const credentialArn = input.str('credentialArn', CREDENTIAL_ARN);
  const customRoleArn = input.str('customRoleArn', CUSTOM_ROLE_ARN);
  const rule = requirePtcRule(state, prefix);
  if (credentialArn !== undefined) rule.credentialArn = credentialArn;
  if (customRoleArn !== undefined) rule.customRoleArn = customRoleArn;
  rule.updatedAt = ctx.now();
  return present({
    ecrRepositoryPrefix: rule.ecrRepositoryPrefix,
    registryId: rule.registryId,
    updatedAt: toEpochSeconds(rule.updatedAt),
    credentialArn: rule.credentialArn,
    customRoleArn: rule.customRoleArn,
    upstreamRepositoryPrefix: rule.upstreamRepositoryPrefix,
  });
}

function deletePullThroughCacheRule(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const state = stateFor(ctx, input);
  const prefix = input.str('ecrRepositoryPrefix', { ...PTC_PREFIX, required: true });
  const rule = requirePtcRule(state, prefix);
  state.pullThroughCacheRules.delete(prefixKey(prefix));
  const { updatedAt: _updatedAt, upstreamRegistry: _upstream, ...deleted } = ptcShape(rule);
  return deleted;
}

/**
 * The local registry cannot reach upstream registries (it runs offline), so an existing rule is reported valid:
 * `isValid: true` and no `failure`.
 */
function validatePullThroughCacheRule(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const state = stateFor(ctx, input);
  const prefix = input.str('ecrRepositoryPrefix', { ...PTC_PREFIX, required: true });
  const rule = requirePtcRule(state, prefix);
  return present({
    ecrRepositoryPrefix: rule.ecrRepositoryPrefix,
    registryId: rule.registryId,
    upstreamRegistryUrl: rule.upstreamRegistryUrl,
    credentialArn: rule.credentialArn,
    customRoleArn: rule.customRoleArn,
    upstreamRepositoryPrefix: rule.upstreamRepositoryPrefix,
    isValid: true,
  });
}

// Policy documents

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A policy must be a JSON object with a `Statement` (one statement object or a non-empty list of them). */
function checkPolicyDocument(text: string, member: string, what: string): void {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw invalidParameter(constraintMessage(member, `Invalid ${what} provided`));
  }
  const statement = isObject(document) ? document.Statement : undefined;
  const statements = Array.isArray(statement) ? statement : [statement];
  if (statements.length === 0 || !statements.every(isObject)) {
    throw invalidParameter(constraintMessage(member, `Invalid ${what} provided`));
  }
}

// Repository creation templates

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

// Registry policy

function getRegistryPolicy(raw: Record<string, unknown>, ctx: OpContext) {
  Input.parse(raw, validationError);
  const { account, registryPolicyText } = ctx.state;
  if (registryPolicyText === undefined) throw registryPolicyNotFound(account);
  return { registryId: account, policyText: registryPolicyText };
}

/** Stores the policy as sent; ECR checks principals and actions too (not emulated). */
function putRegistryPolicy(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const policyText = input.str('policyText', { ...POLICY_TEXT, required: true });
  checkPolicyDocument(policyText, 'policyText', 'registry policy');
  ctx.state.registryPolicyText = policyText;
  return { registryId: ctx.state.account, policyText };
}

function deleteRegistryPolicy(raw: Record<string, unknown>, ctx: OpContext) {
  Input.parse(raw, validationError);
  const { account, registryPolicyText } = ctx.state;
  if (registryPolicyText === undefined) throw registryPolicyNotFound(account);
  ctx.state.registryPolicyText = undefined;
  return { registryId: account, policyText: registryPolicyText };
}

export const registrySettingsOperations: OperationTable = {
  DescribeRegistry: describeRegistry,
  PutReplicationConfiguration: putReplicationConfiguration,
  DescribeImageReplicationStatus: describeImageReplicationStatus,
  CreatePullThroughCacheRule: createPullThroughCacheRule,
  DescribePullThroughCacheRules: describePullThroughCacheRules,
  UpdatePullThroughCacheRule: updatePullThroughCacheRule,
  DeletePullThroughCacheRule: deletePullThroughCacheRule,
  ValidatePullThroughCacheRule: validatePullThroughCacheRule,
  CreateRepositoryCreationTemplate: createRepositoryCreationTemplate,
  DescribeRepositoryCreationTemplates: describeRepositoryCreationTemplates,
  UpdateRepositoryCreationTemplate: updateRepositoryCreationTemplate,
  DeleteRepositoryCreationTemplate: deleteRepositoryCreationTemplate,
  GetRegistryPolicy: getRegistryPolicy,
  PutRegistryPolicy: putRegistryPolicy,
  DeleteRegistryPolicy: deleteRegistryPolicy,
};
