import type { RegistryDeclaration } from './model.ts';
import { registryPolicyText } from './registry-policy.ts';

/**
 * ECR's limits on registry settings, checked before any call so that a config ECR would refuse is a config error
 * that changes nothing. Sources: [M-ECR] (the service model) and [UG-QUOTA], summarised in
 * docs/ecr-limits.md#registry-settings and docs/ecr-limits.md#service-quotas.
 */

/** Rules per replication configuration [UG-QUOTA] (not adjustable). */
export const MAX_REPLICATION_RULES = 10;
/** Unique destinations across all replication rules [UG-QUOTA] (the model allows 100 per rule; the quota wins). */
export const MAX_UNIQUE_REPLICATION_DESTINATIONS = 25;
/** Filters per replication rule [UG-QUOTA]. */
export const MAX_REPLICATION_FILTERS_PER_RULE = 100;
/** Replication filter value length [M-ECR]. */
export const REPLICATION_FILTER_LENGTH = { min: 2, max: 256 } as const;
/** Pull through cache rules per registry [UG-QUOTA] (not adjustable). */
export const MAX_PULL_THROUGH_CACHE_RULES = 50;
/** `ecrRepositoryPrefix` length [M-ECR]. */
export const PULL_THROUGH_CACHE_PREFIX_LENGTH = { min: 2, max: 30 } as const;
/** Template `prefix` length [M-ECR]. */
export const TEMPLATE_PREFIX_LENGTH = { min: 1, max: 256 } as const;
/** Registry scanning: at most 2 rules [M-ECR], 100 filters each. */
export const MAX_SCANNING_RULES = 2;
export const MAX_SCANNING_FILTERS_PER_RULE = 100;
/** Repository-level tags (and template `resourceTags`): at most 50 [M-ECR]. */
export const MAX_RESOURCE_TAGS = 50;
/** `RegistryPolicyText`: 0-10,240 characters [M-ECR] (docs/ecr-limits.md#api-shapes-and-limits). */
export const MAX_REGISTRY_POLICY_LENGTH = 10_240;

/** Repository-name grammar with an optional trailing `/`, or `ROOT` (PTC and template prefixes, [M-ECR]). */
export const PREFIX_PATTERN = /^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$/;
/** A replication `PREFIX_MATCH` filter [M-ECR]. */
export const REPLICATION_FILTER_PATTERN = /^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*\/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$/;
/**
 * A registry scanning `WILDCARD` filter: the language of ECR's `^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$` [M-ECR]
 * (runs of a-z 0-9 *, one . _ - or / between two runs), written so that it cannot backtrack: ECR's form can split a
 * run of a-z 0-9 * in exponentially many ways, and a 26-character filter took seconds to refuse.
 */
export const SCANNING_FILTER_PATTERN = /^[a-z0-9*]+(?:[._\-/][a-z0-9*]+)*$/;
/** A pull through cache credential: a Secrets Manager secret named `ecr-pullthroughcache/...` [M-ECR]. */
export const CREDENTIAL_ARN_PATTERN =
  /^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr-pullthroughcache\/[a-zA-Z0-9/_+=.@-]+$/;
export const CREDENTIAL_ARN_LENGTH = { min: 50, max: 612 } as const;
export const REGION_PATTERN = /^[0-9a-z-]{2,25}$/;
export const REGISTRY_ID_PATTERN = /^[0-9]{12}$/;

/** `upstreamRegistryUrl` of each upstream registry ([M-ECR] CreatePullThroughCacheRule doc). */
export const UPSTREAM_URL_FORMS: readonly (readonly [string, RegExp, string])[] = [
  ['ecr', /^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/, '<account>.dkr.ecr.<region>.amazonaws.com'],
  ['ecr-public', /^public\.ecr\.aws$/, 'public.ecr.aws'],
  ['docker-hub', /^registry-1\.docker\.io$/, 'registry-1.docker.io'],
  ['github-container-registry', /^ghcr\.io$/, 'ghcr.io'],
  ['gitlab-container-registry', /^registry\.gitlab\.com$/, 'registry.gitlab.com'],
  ['k8s', /^registry\.k8s\.io$/, 'registry.k8s.io'],
  ['azure-container-registry', /^[a-z0-9]+\.azurecr\.io$/, '<name>.azurecr.io'],
  ['quay', /^quay\.io$/, 'quay.io'],
  // UNCONFIRMED: the model does not give Chainguard's URL; cgr.dev is its registry.
  ['chainguard', /^cgr\.dev$/, 'cgr.dev'],
];

/** Upstreams that need a Secrets Manager credential ([UG-PTC]). */
export const UPSTREAMS_NEEDING_CREDENTIAL: ReadonlySet<string> = new Set([
  'docker-hub',
  'github-container-registry',
  'gitlab-container-registry',
  'azure-container-registry',
  'chainguard',
]);

/** The upstream registry a URL belongs to, or undefined when ECR supports no such upstream. */
export const upstreamRegistryOf = (url: string): string | undefined =>
  UPSTREAM_URL_FORMS.find(([, pattern]) => pattern.test(url))?.[0];

const destinationKey = (destination: { region: string; registryId: string }) =>
  `${destination.registryId}/${destination.region}`;

/** Problems of a replication rule list against ECR's quotas (the merged or final list). */
export function replicationQuotaProblems(
  rules: readonly { destinations: readonly { region: string; registryId: string }[] }[],
  where: string,
): string[] {
  const problems: string[] = [];
  if (rules.length > MAX_REPLICATION_RULES) {
    problems.push(`${where}: ${rules.length} replication rules, ECR allows at most ${MAX_REPLICATION_RULES}`);
  }
  const unique = new Set(rules.flatMap((rule) => rule.destinations.map(destinationKey)));
  if (unique.size > MAX_UNIQUE_REPLICATION_DESTINATIONS) {
    problems.push(
      `${where}: ${unique.size} unique replication destinations, ECR allows at most ${MAX_UNIQUE_REPLICATION_DESTINATIONS} across all rules`,
    );
  }
  return problems;
}

/** A registry policy of these statements longer than ECR accepts: one problem naming its size, else none. */
export function registryPolicySizeProblems(statements: readonly Record<string, unknown>[], where: string): string[] {
  const length = registryPolicyText(statements).length;
  return length > MAX_REGISTRY_POLICY_LENGTH
    ? [
        `${where}: the registry policy would be ${length.toLocaleString('en-US')} characters, ECR allows at most ${MAX_REGISTRY_POLICY_LENGTH.toLocaleString('en-US')}`,
      ]
    : [];
}

/**
 * Every way a declaration breaks ECR's limits, each naming the field: empty when ECR would accept it. Checks what
 * one field cannot show alone (quotas over the whole section, upstream URL forms, credential needs, scan types).
 */
export function declarationProblems(declaration: RegistryDeclaration, where = 'registry'): string[] {
  const problems: string[] = [];
  const replication = declaration.replication;
  if (replication) {
    problems.push(...replicationQuotaProblems(replication.rules, `${where}.replication.rules`));
    replication.rules.forEach((rule, index) => {
      const at = `${where}.replication.rules[${index}]`;
      if (rule.repositoryFilters.length > MAX_REPLICATION_FILTERS_PER_RULE) {
        problems.push(`${at}.repositoryFilters: at most ${MAX_REPLICATION_FILTERS_PER_RULE} filters per rule`);
      }
      for (const filter of rule.repositoryFilters) {
        if (
          filter.length < REPLICATION_FILTER_LENGTH.min ||
          filter.length > REPLICATION_FILTER_LENGTH.max ||
          !REPLICATION_FILTER_PATTERN.test(filter)
        ) {
          problems.push(`${at}.repositoryFilters: '${filter}' is not a replication prefix (2-256 characters, a/b/c-)`);
        }
      }
      for (const destination of rule.destinations) {
        if (!REGION_PATTERN.test(destination.region) || !REGISTRY_ID_PATTERN.test(destination.registryId)) {
          problems.push(`${at}.destinations: '${destination.registryId}/${destination.region}' is not a destination`);
        }
      }
    });
  }
  const cache = declaration.pullThroughCache;
  if (cache) {
    if (cache.rules.length > MAX_PULL_THROUGH_CACHE_RULES) {
      problems.push(
        `${where}.pullThroughCache.rules: ${cache.rules.length} rules, ECR allows at most ${MAX_PULL_THROUGH_CACHE_RULES}`,
      );
    }
    cache.rules.forEach((rule, index) => {
      const at = `${where}.pullThroughCache.rules[${index}]`;
      if (
        !PREFIX_PATTERN.test(rule.prefix) ||
        rule.prefix.length < PULL_THROUGH_CACHE_PREFIX_LENGTH.min ||
        rule.prefix.length > PULL_THROUGH_CACHE_PREFIX_LENGTH.max
      ) {
        problems.push(`${at}.prefix: '${rule.prefix}' is not a pull through cache prefix (2-30 characters, or ROOT)`);
      }
      const upstream = upstreamRegistryOf(rule.upstreamRegistryUrl);
      if (upstream === undefined) {
        problems.push(
          `${at}.upstreamRegistryUrl: '${rule.upstreamRegistryUrl}' is not an upstream ECR supports (${UPSTREAM_URL_FORMS.map(([, , form]) => form).join(', ')})`,
        );
      } else {
        if (rule.upstreamRegistry !== undefined && rule.upstreamRegistry !== upstream) {
          problems.push(
            `${at}.upstreamRegistryUrl: '${rule.upstreamRegistryUrl}' is a URL of '${upstream}', not of '${rule.upstreamRegistry}'`,
          );
        }
        if (UPSTREAMS_NEEDING_CREDENTIAL.has(upstream) && rule.credentialArn === undefined) {
          problems.push(`${at}.credentialArn: the upstream '${upstream}' needs a Secrets Manager credential`);
        }
      }
      if (
        rule.credentialArn !== undefined &&
        (!CREDENTIAL_ARN_PATTERN.test(rule.credentialArn) ||
          rule.credentialArn.length < CREDENTIAL_ARN_LENGTH.min ||
          rule.credentialArn.length > CREDENTIAL_ARN_LENGTH.max)
      ) {
        problems.push(
          `${at}.credentialArn: not a Secrets Manager ARN of a secret named ecr-pullthroughcache/... (50-612 characters)`,
        );
      }
    });
  }
  const templates = declaration.creationTemplates;
  if (templates) {
    templates.templates.forEach((template, index) => {
      const at = `${where}.creationTemplates.templates[${index}]`;
      if (
        !PREFIX_PATTERN.test(template.prefix) ||
        template.prefix.length < TEMPLATE_PREFIX_LENGTH.min ||
        template.prefix.length > TEMPLATE_PREFIX_LENGTH.max
      ) {
        problems.push(
          `${at}.prefix: '${template.prefix}' is not a template prefix (a repository-name prefix, or ROOT)`,
        );
      }
      const withExclusion = template.imageTagMutability.endsWith('_WITH_EXCLUSION');
      if (withExclusion !== template.imageTagMutabilityExclusionFilters.length > 0) {
        problems.push(
          `${at}.imageTagMutabilityExclusionFilters: the *_WITH_EXCLUSION settings need 1 to 5 filters, the others none`,
        );
      }
      if (Object.keys(template.resourceTags).length > MAX_RESOURCE_TAGS) {
        problems.push(`${at}.resourceTags: at most ${MAX_RESOURCE_TAGS} tags`);
      }
      if (template.encryptionType === 'AES256' && template.kmsKey !== undefined) {
        problems.push(`${at}.kmsKey: a KMS key goes with the KMS encryption types only`);
      }
    });
  }
  const scanning = declaration.scanning;
  if (scanning) {
    const frequencies = scanning.rules.map((rule) => rule.scanFrequency);
    if (scanning.rules.length > MAX_SCANNING_RULES || new Set(frequencies).size !== frequencies.length) {
      problems.push(`${where}.scanning.rules: at most one rule per scan frequency (${MAX_SCANNING_RULES} in all)`);
    }
    if (scanning.scanType === 'BASIC' && frequencies.includes('CONTINUOUS_SCAN')) {
      problems.push(
        `${where}.scanning.rules: BASIC scanning supports SCAN_ON_PUSH rules only (CONTINUOUS_SCAN needs ENHANCED)`,
      );
    }
    scanning.rules.forEach((rule, index) => {
      if (rule.repositoryFilters.length > MAX_SCANNING_FILTERS_PER_RULE) {
        problems.push(`${where}.scanning.rules[${index}]: at most ${MAX_SCANNING_FILTERS_PER_RULE} filters`);
      }
      for (const filter of rule.repositoryFilters) {
        if (filter.length > 255 || !SCANNING_FILTER_PATTERN.test(filter)) {
          problems.push(`${where}.scanning.rules[${index}]: '${filter}' is not a scanning filter (a-z 0-9 . _ - / *)`);
        }
      }
    });
  }
  const policy = declaration.registryPolicy;
  if (policy) {
    const first = new Map<string, number>();
    policy.statements.forEach((statement, index) => {
      const earlier = first.get(statement.Sid);
      if (earlier === undefined) first.set(statement.Sid, index);
      else {
        problems.push(
          `${where}.registryPolicy.statements[${index}].Sid: '${statement.Sid}' is already the Sid of statements[${earlier}] (a Sid names one statement)`,
        );
      }
    });
    problems.push(...registryPolicySizeProblems(policy.statements, `${where}.registryPolicy.statements`));
  }
  return problems;
}
