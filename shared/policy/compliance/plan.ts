import type { ComplianceCheck, ComplianceFinding, ComplianceFix, RegistryScanning, RepositoryFacts } from './check.ts';
import { coveredByRegistryScanning } from './check.ts';
import { CLEANUP_JOB_OWNS, type CompliancePolicy, NO_BREAKING_RULES } from './policy.ts';

/**
 * The compliance plan: what `npm run compliance -- plan` shows of each repository, setting by setting (the actual
 * value, the wanted one, the fix enforce mode would make), built from the same facts and findings the scheduled
 * compliance scan judges with `checkRepository`. Pure: the command reads the facts, the plan document and the HTML
 * report draw it.
 */

/** One setting a repository's rule checks. */
export interface SettingPlan {
  check: ComplianceCheck;
  /** `drift`: at least one finding; `compliant`: none. */
  status: 'compliant' | 'drift';
  /** The repository's value, in words (`MUTABLE`, `none`, `a policy of 2 rules`). */
  actual: string;
  /** What the rule asks for, in words. */
  wanted: string;
  /** The setting's values as read (snake_case keys), for machine formats. */
  before: Record<string, unknown>;
  /** The values after enforce mode's fix; the same as `before` when nothing would change them. */
  after: Record<string, unknown>;
  /** The fix enforce mode would make, in words; absent when nothing would be done (compliant, or not fixable). */
  fix?: string;
  /** The findings' reasons (`mutable-tags`, `public-access`, ...), empty when compliant. */
  reasons: string[];
  /** The findings' details, one per finding. */
  details: string[];
}

export interface RepositoryPlan {
  repository: string;
  ruleIndex: number;
  mode: CompliancePolicy['mode'];
  compliant: boolean;
  settings: SettingPlan[];
}

export interface CompliancePlan {
  /** When the plan was made (ISO 8601). */
  createdAt: string;
  region: string;
  endpoint?: string;
  /** Repositories listed in the registry. */
  listed: number;
  /** Repositories checked, by name. */
  repositories: RepositoryPlan[];
  /** Repositories `--repository` named that no enabled compliance rule matches. */
  withoutRule: string[];
}

/** The checks in the order the plan lists them. */
export const COMPLIANCE_CHECKS: readonly ComplianceCheck[] = [
  'tag-mutability',
  'scan-on-push',
  'lifecycle-policy',
  'repository-policy',
  'required-tags',
  'encryption',
];

/** One check over a plan: repositories whose rule checks it, compliant and drifting ones, drifting ones enforce mode fixes. */
export interface CheckTally {
  check: ComplianceCheck;
  checked: number;
  compliant: number;
  drifting: number;
  fixable: number;
}

/** The plan's settings counted per check, in `COMPLIANCE_CHECKS`' order; a check no rule asks for is left out. */
export function tallyChecks(plan: Pick<CompliancePlan, 'repositories'>): CheckTally[] {
  const checks = new Map<ComplianceCheck, CheckTally>();
  for (const repository of plan.repositories) {
    for (const setting of repository.settings) {
      let line = checks.get(setting.check);
      if (line === undefined) {
        line = { check: setting.check, checked: 0, compliant: 0, drifting: 0, fixable: 0 };
        checks.set(setting.check, line);
      }
      line.checked++;
      if (setting.status === 'drift') line.drifting++;
      else line.compliant++;
      if (setting.fix !== undefined) line.fixable++;
    }
  }
  return COMPLIANCE_CHECKS.flatMap((check) => checks.get(check) ?? []);
}

/** The fix as an ECR call, in words. */
export function describeFix(fix: ComplianceFix): string {
  switch (fix.kind) {
    case 'put-tag-mutability':
      return `PutImageTagMutability ${fix.setting}${fix.exclusions.length > 0 ? ` [${fix.exclusions.join(', ')}]` : ''}`;
    case 'put-scan-on-push':
      return 'PutImageScanningConfiguration scanOnPush=true';
    case 'put-lifecycle-policy':
      return `PutLifecyclePolicy (the config's policy, ${rulesOf(fix.policyText)})`;
    case 'delete-lifecycle-policy':
      return 'DeleteLifecyclePolicy';
    case 'tag-resource':
      return `TagResource ${Object.entries(fix.tags)
        .map(([key, value]) => `${key}=${value}`)
        .join(', ')}`;
  }
}

/** `2 rules`, from a lifecycle policy's text (ECR bounds it to 30,720 characters), or what is wrong with it. */
function rulesOf(text: string): string {
  try {
    const rules = (JSON.parse(text) as { rules?: unknown } | null)?.rules;
    return Array.isArray(rules) ? `${rules.length} rule${rules.length === 1 ? '' : 's'}` : 'no rules list';
  } catch {
    return 'not JSON';
  }
}

/** `a policy of 3 statements`, from a repository policy's text. */
function statementsOf(text: string): string {
  try {
    const statements = (JSON.parse(text) as { Statement?: unknown } | null)?.Statement;
    const count = Array.isArray(statements) ? statements.length : statements === undefined ? 0 : 1;
    return `a policy of ${count} statement${count === 1 ? '' : 's'}`;
  } catch {
    return 'a policy that is not JSON';
  }
}

const withFilters = (setting: string, filters: readonly string[]) =>
  filters.length > 0 ? `${setting} [${filters.join(', ')}]` : setting;

/** Whether the policy checks a setting at all. */
export function checksSetting(policy: CompliancePolicy, check: ComplianceCheck): boolean {
  switch (check) {
    case 'tag-mutability':
      return policy.tagMutability !== null;
    case 'scan-on-push':
      return policy.scanOnPush;
    case 'lifecycle-policy':
      return policy.lifecyclePolicy !== null;
    case 'repository-policy':
      return policy.repositoryPolicy !== null;
    case 'required-tags':
      return policy.requiredTags.length > 0;
    case 'encryption':
      return policy.encryption !== null;
  }
}

type Values = Pick<SettingPlan, 'actual' | 'wanted' | 'before'> & { fixed?: Record<string, unknown> };

function valuesOf(
  check: ComplianceCheck,
  facts: RepositoryFacts,
  policy: CompliancePolicy,
  scanning: RegistryScanning | undefined,
  fix: ComplianceFix | undefined,
): Values {
  switch (check) {
    case 'tag-mutability': {
      const wanted = policy.tagMutability ?? { setting: 'MUTABLE', exclusions: [] };
      return {
        actual: withFilters(facts.imageTagMutability, facts.imageTagMutabilityExclusionFilters),
        wanted: withFilters(wanted.setting, wanted.exclusions),
        before: {
          image_tag_mutability: facts.imageTagMutability,
          exclusion_filters: [...facts.imageTagMutabilityExclusionFilters],
        },
        ...(fix?.kind === 'put-tag-mutability'
          ? { fixed: { image_tag_mutability: fix.setting, exclusion_filters: [...fix.exclusions] } }
          : {}),
      };
    }
    case 'scan-on-push': {
      const covered = scanning !== undefined && coveredByRegistryScanning(scanning, facts.name);
      return {
        actual: facts.scanOnPush ? 'on' : covered ? 'off, a registry scanning rule covers it' : 'off',
        wanted: 'on, or a registry scanning rule covering it',
        before: { scan_on_push: facts.scanOnPush, registry_scanning_rule: covered },
        ...(fix?.kind === 'put-scan-on-push' ? { fixed: { scan_on_push: true, registry_scanning_rule: covered } } : {}),
      };
    }
    case 'lifecycle-policy': {
      const current = facts.lifecyclePolicy ?? null;
      const wanted =
        policy.lifecyclePolicy === CLEANUP_JOB_OWNS
          ? 'none (the cleanup job owns the repository)'
          : policy.lifecyclePolicy === NO_BREAKING_RULES
            ? 'any policy with no rule that breaks what the cleanup keeps'
            : `the config's policy (${rulesOf(policy.lifecyclePolicy ?? '')})`;
      return {
        actual: current === null ? 'none' : `a policy (${rulesOf(current)})`,
        wanted,
        before: { lifecycle_policy: current },
        ...(fix?.kind === 'put-lifecycle-policy' ? { fixed: { lifecycle_policy: fix.policyText } } : {}),
        ...(fix?.kind === 'delete-lifecycle-policy' ? { fixed: { lifecycle_policy: null } } : {}),
      };
    }
    case 'repository-policy': {
      const current = facts.repositoryPolicy ?? null;
      const allowed = policy.repositoryPolicy?.allowedAccounts ?? [];
      return {
        actual: current === null ? 'none' : statementsOf(current),
        wanted: `no grant to everyone without a condition; other accounts: ${allowed.length > 0 ? allowed.join(', ') : 'none'}`,
        before: { repository_policy: current },
      };
    }
    case 'required-tags': {
      const tags = facts.tags ?? {};
      const present = policy.requiredTags.filter((key) => tags[key] !== undefined && tags[key] !== '');
      const required = Object.fromEntries(policy.requiredTags.map((key) => [key, tags[key] ?? null]));
      return {
        actual: present.length > 0 ? present.map((key) => `${key}=${tags[key]}`).join(', ') : 'none of them',
        wanted: `tags ${policy.requiredTags.join(', ')}`,
        before: { tags: required },
        ...(fix?.kind === 'tag-resource' ? { fixed: { tags: { ...required, ...fix.tags } } } : {}),
      };
    }
    case 'encryption':
      return {
        actual: facts.encryptionType,
        wanted: policy.encryption === 'KMS' ? 'KMS (or KMS_DSSE)' : String(policy.encryption),
        before: { encryption_type: facts.encryptionType },
      };
  }
}

/**
 * One repository's plan: a setting per check its rule asks for, each with its findings (from `checkRepository` on
 * the same facts), actual and wanted values and the fix enforce mode would make. A check with several findings
 * (repository policy statements, lifecycle rules) is one setting with every finding's reason and detail.
 */
export function planRepository(
  facts: RepositoryFacts,
  match: { rule: CompliancePolicy; index: number },
  scanning: RegistryScanning | undefined,
  findings: readonly ComplianceFinding[],
): RepositoryPlan {
  const settings = COMPLIANCE_CHECKS.filter((check) => checksSetting(match.rule, check)).map((check): SettingPlan => {
    const own = findings.filter((finding) => finding.check === check);
    const fixes = own.flatMap((finding) => (finding.fix === undefined ? [] : [finding.fix]));
    const values = valuesOf(check, facts, match.rule, scanning, fixes[0]);
    const { fixed, ...shown } = values;
    return {
      check,
      status: own.length > 0 ? 'drift' : 'compliant',
      ...shown,
      after: fixed ?? values.before,
      ...(fixes.length > 0 ? { fix: fixes.map(describeFix).join('; ') } : {}),
      reasons: own.map((finding) => finding.reason),
      details: own.map((finding) => finding.detail),
    };
  });
  return {
    repository: facts.name,
    ruleIndex: match.index,
    mode: match.rule.mode,
    compliant: findings.length === 0,
    settings,
  };
}
