import { wildcardMatches } from '../glob.ts';
import { type LintCode, lintLifecyclePolicy } from '../lifecycle-lint/lint.ts';
import { canonicalPolicyText } from '../reconcile/keys.ts';
import { CLEANUP_JOB_OWNS, type CompliancePolicy, NO_BREAKING_RULES } from './policy.ts';
import { repositoryPolicyFindings } from './repository-policy.ts';

/** What compliance knows of one repository; a field is undefined when the policy does not check it (not read). */
export interface RepositoryFacts {
  name: string;
  arn: string;
  registryId: string;
  imageTagMutability: string;
  imageTagMutabilityExclusionFilters: string[];
  scanOnPush: boolean;
  encryptionType: string;
  lifecyclePolicy?: string | null;
  repositoryPolicy?: string | null;
  tags?: Record<string, string>;
}

/** The registry scanning configuration, for "covered by a registry rule". */
export interface RegistryScanning {
  scanType: string;
  rules: { scanFrequency: string; repositoryFilters: string[] }[];
}

export type ComplianceCheck =
  | 'tag-mutability'
  | 'scan-on-push'
  | 'lifecycle-policy'
  | 'repository-policy'
  | 'required-tags'
  | 'encryption';

/** A fix ECR allows; compliance applies it in enforce mode. */
export type ComplianceFix =
  | {
      kind: 'put-tag-mutability';
      setting: NonNullable<CompliancePolicy['tagMutability']>['setting'];
      exclusions: string[];
    }
  | { kind: 'put-scan-on-push' }
  | { kind: 'put-lifecycle-policy'; policyText: string }
  | { kind: 'delete-lifecycle-policy' }
  | { kind: 'tag-resource'; tags: Record<string, string> };

export interface ComplianceFinding {
  check: ComplianceCheck;
  /** Machine-readable: `mutable-tags`, `no-scan-on-push`, `lifecycle-policy-differs`, `public-access`, ... */
  reason: string;
  detail: string;
  /** The fix enforce mode applies; absent for what ECR cannot fix (encryption) or compliance does not (policies). */
  fix?: ComplianceFix;
}

/** A registry scanning filter: `*` is any run of characters; a filter without `*` matches names containing it. */
export function scanningFilterMatches(filter: string, repositoryName: string): boolean {
  if (!filter.includes('*')) return repositoryName.includes(filter);
  return wildcardMatches(filter, repositoryName);
}

/** Whether a registry scanning rule scans the repository's images on push (or continuously). */
export const coveredByRegistryScanning = (scanning: RegistryScanning, repositoryName: string): boolean =>
  scanning.rules.some(
    (rule) =>
      (rule.scanFrequency === 'SCAN_ON_PUSH' || rule.scanFrequency === 'CONTINUOUS_SCAN') &&
      rule.repositoryFilters.some((filter) => scanningFilterMatches(filter, repositoryName)),
  );

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((value, index) => value === [...b].sort()[index]);

/**
 * Compares one repository with its policy: every check the policy asks for, each failing one a finding with a
 * machine-readable reason and, where ECR allows it, the fix. Pure; an empty list means compliant.
 */
export function checkRepository(
  facts: RepositoryFacts,
  policy: CompliancePolicy,
  scanning: RegistryScanning | undefined,
): ComplianceFinding[] {
  const findings: ComplianceFinding[] = [];
  const wanted = policy.tagMutability;
  if (wanted) {
    const same =
      facts.imageTagMutability === wanted.setting &&
      sameSet(facts.imageTagMutabilityExclusionFilters, wanted.exclusions);
    if (!same) {
      const filters = (list: readonly string[]) => (list.length > 0 ? ` [${list.join(', ')}]` : '');
      findings.push({
        check: 'tag-mutability',
        reason: facts.imageTagMutability === wanted.setting ? 'exclusions-differ' : 'tag-mutability-differs',
        detail:
          `tag mutability is ${facts.imageTagMutability}${filters(facts.imageTagMutabilityExclusionFilters)}, ` +
          `the policy requires ${wanted.setting}${filters(wanted.exclusions)}`,
        fix: { kind: 'put-tag-mutability', setting: wanted.setting, exclusions: [...wanted.exclusions] },
      });
    }
  }
  if (policy.scanOnPush && !facts.scanOnPush && !(scanning && coveredByRegistryScanning(scanning, facts.name))) {
    findings.push({
      check: 'scan-on-push',
      reason: 'no-scan-on-push',
      detail: 'images are not scanned on push: the repository flag is off and no registry scanning rule covers it',
      fix: { kind: 'put-scan-on-push' },
    });
  }
  if (policy.lifecyclePolicy !== null && facts.lifecyclePolicy !== undefined) {
    const current = facts.lifecyclePolicy ?? undefined;
    if (policy.lifecyclePolicy === CLEANUP_JOB_OWNS) {
      if (current !== undefined) {
        findings.push({
          check: 'lifecycle-policy',
          reason: 'lifecycle-policy-competes-with-cleanup',
          detail: 'the cleanup job owns this repository, but it has a lifecycle policy too',
          fix: { kind: 'delete-lifecycle-policy' },
        });
      }
    } else if (policy.lifecyclePolicy === NO_BREAKING_RULES) {
      if (current !== undefined) findings.push(...breakingRuleFindings(current));
    } else if (current === undefined) {
      findings.push({
        check: 'lifecycle-policy',
        reason: 'lifecycle-policy-missing',
        detail: 'the repository has no lifecycle policy',
        fix: { kind: 'put-lifecycle-policy', policyText: policy.lifecyclePolicy },
      });
    } else if (canonicalPolicyText(current) !== canonicalPolicyText(policy.lifecyclePolicy)) {
      findings.push({
        check: 'lifecycle-policy',
        reason: 'lifecycle-policy-differs',
        detail: "the repository's lifecycle policy differs from the policy's",
        fix: { kind: 'put-lifecycle-policy', policyText: policy.lifecyclePolicy },
      });
    }
  }
  if (policy.repositoryPolicy && typeof facts.repositoryPolicy === 'string') {
    for (const finding of repositoryPolicyFindings(
      facts.repositoryPolicy,
      facts.registryId,
      policy.repositoryPolicy.allowedAccounts,
    )) {
      findings.push({ check: 'repository-policy', reason: finding.reason, detail: finding.detail });
    }
  }
  if (policy.requiredTags.length > 0 && facts.tags !== undefined) {
    const tags = facts.tags;
    const missing = policy.requiredTags.filter((key) => tags[key] === undefined || tags[key] === '');
    if (missing.length > 0) {
      const defaults = Object.fromEntries(
        missing.flatMap((key) => (policy.tagDefaults[key] === undefined ? [] : [[key, policy.tagDefaults[key]]])),
      ) as Record<string, string>;
      findings.push({
        check: 'required-tags',
        reason: 'required-tags-missing',
        detail: `missing resource tags: ${missing.join(', ')}`,
        ...(Object.keys(defaults).length > 0 ? { fix: { kind: 'tag-resource', tags: defaults } } : {}),
      });
    }
  }
  if (policy.encryption !== null) {
    const ok =
      policy.encryption === 'KMS'
        ? facts.encryptionType === 'KMS' || facts.encryptionType === 'KMS_DSSE'
        : facts.encryptionType === policy.encryption;
    if (!ok) {
      findings.push({
        check: 'encryption',
        reason: 'encryption-differs',
        detail: `encrypted with ${facts.encryptionType}, the policy requires ${policy.encryption} (ECR cannot change it: recreate the repository)`,
      });
    }
  }
  return findings;
}

/** What the gather step must read for a policy (so that unchecked settings cost no calls). */
export const readsFor = (policy: CompliancePolicy) => ({
  lifecyclePolicy: policy.lifecyclePolicy !== null,
  repositoryPolicy: policy.repositoryPolicy !== null,
  tags: policy.requiredTags.length > 0,
  registryScanning: policy.scanOnPush,
});

/**
 * The linter's findings that say a lifecycle policy works against the cleanup (what it keeps: an index's children,
 * signatures, releases), whatever the repository holds now; the rest (AND semantics, the archive's minimum charge)
 * are advice, not compliance.
 */
const BREAKING_CODES: ReadonlySet<LintCode> = new Set<LintCode>([
  'invalid-policy',
  'policy-too-large',
  'any-rule-not-last',
  'count-includes-artifacts',
  'expires-index-children',
  'releases-expire-by-age',
  'releases-unprotected',
]);

/** One finding per offending rule and reason, with the linter's one-line fix; reported, never fixed automatically. */
function breakingRuleFindings(text: string): ComplianceFinding[] {
  return lintLifecyclePolicy(text)
    .filter((finding) => BREAKING_CODES.has(finding.code))
    .map((finding) => ({
      check: 'lifecycle-policy' as const,
      reason: 'lifecycle-rule-breaks-cleanup',
      detail: `${finding.rule === null ? 'the policy' : `rule ${finding.rule}`}: ${finding.code}: ${finding.message} (fix: ${finding.fix})`,
    }));
}
