import type { RegistryState, StoredPullThroughCacheRule } from '../model/state.ts';
import { constraintMessage, EcrException, validationError } from '../wire/errors.ts';
import { Input, type ListRule, MAX_RESULTS, type StringRule } from '../wire/validate.ts';
import { stateFor, toEpochSeconds } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import {
  CUSTOM_ROLE_ARN,
  PREFIX_PATTERN,
  PREFIX_PATTERN_TEXT,
  pageByKey,
  prefixKey,
  present,
  rejectPagingWithNames,
} from './settings-common.ts';

/** Pull through cache rules ([M-ECR], [UG-PTC]). */

/** Pull through cache rules per registry ([UG-QUOTA], not adjustable). */
export const MAX_PULL_THROUGH_CACHE_RULES = 50;
const PTC_PREFIX: StringRule = { min: 2, max: 30, pattern: PREFIX_PATTERN, patternText: PREFIX_PATTERN_TEXT };
const PTC_PREFIXES: ListRule = { min: 1, max: 100 };
const CREDENTIAL_ARN: StringRule = {
  min: 50,
  max: 612,
  pattern: /^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr-pullthroughcache\/[a-zA-Z0-9/_+=.@-]+$/,
  patternText: '^arn:aws(-\\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\\-pullthroughcache\\/[a-zA-Z0-9\\/_+=.@-]+$',
};

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

const ptcRuleNotFound = (prefix: string, registryId: string) =>
  new EcrException(
    'PullThroughCacheRuleNotFoundException',
    `The pull through cache rule with prefix '${prefix}' does not exist in the registry with id '${registryId}'`,
  );

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

export const pullThroughCacheOperations: OperationTable = {
  CreatePullThroughCacheRule: createPullThroughCacheRule,
  DescribePullThroughCacheRules: describePullThroughCacheRules,
  UpdatePullThroughCacheRule: updatePullThroughCacheRule,
  DeletePullThroughCacheRule: deletePullThroughCacheRule,
  ValidatePullThroughCacheRule: validatePullThroughCacheRule,
};
