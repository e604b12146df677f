import { canonicalJson, canonicalPolicyText, destinationList, replicationRuleKey } from './keys.ts';
import { MAX_PULL_THROUGH_CACHE_RULES, registryPolicySizeProblems, replicationQuotaProblems } from './limits.ts';
import type {
  CreationTemplate,
  PolicyStatement,
  PullThroughCacheRule,
  RegistryDeclaration,
  RegistrySnapshot,
  ReplicationRule,
  ScanningConfiguration,
  ScanningRule,
} from './model.ts';
import { parseRegistryPolicy, registryPolicyText, statementFields } from './registry-policy.ts';

export type ResourceType =
  | 'replication-rule'
  | 'pull-through-cache-rule'
  | 'creation-template'
  | 'registry-scanning'
  | 'registry-policy-statement';
/** `replace`: a field ECR cannot update changed, so the resource is deleted and created again. */
export type ChangeAction = 'create' | 'update' | 'replace' | 'delete';

/** One field of a change: its value in the registry (`before`) and in the config (`after`); undefined is absent. */
export interface FieldChange {
  field: string;
  before?: unknown;
  after?: unknown;
}

export interface PlannedChange {
  resource: ResourceType;
  /**
   * The resource's identity: filters of a replication rule, a prefix, `registry` for the scanning singleton, the
   * `Sid` of a registry policy statement.
   */
  key: string;
  action: ChangeAction;
  fields: FieldChange[];
}

/**
 * The calls that carry a plan out. The singletons (replication, registry scanning, registry policy) are one call
 * each whatever the number of rules or statements that change, since ECR replaces them whole; keyed resources are
 * one call per change (two for a replace).
 */
export type ApplyStep =
  | { kind: 'put-replication'; rules: ReplicationRule[]; changes: PlannedChange[] }
  | { kind: 'put-scanning'; configuration: ScanningConfiguration; changes: PlannedChange[] }
  | { kind: 'put-registry-policy'; policyText: string; changes: PlannedChange[] }
  | { kind: 'delete-registry-policy'; changes: PlannedChange[] }
  | {
      kind: 'create-pull-through-cache-rule' | 'update-pull-through-cache-rule' | 'replace-pull-through-cache-rule';
      rule: PullThroughCacheRule;
      changes: PlannedChange[];
    }
  | { kind: 'delete-pull-through-cache-rule'; prefix: string; changes: PlannedChange[] }
  | {
      kind: 'create-creation-template' | 'update-creation-template';
      template: CreationTemplate;
      changes: PlannedChange[];
    }
  | { kind: 'delete-creation-template'; prefix: string; changes: PlannedChange[] };

export interface RegistryPlan {
  changes: PlannedChange[];
  steps: ApplyStep[];
  /** What the registry would hold after the plan breaks ECR's limits: nothing may be applied. */
  problems: string[];
  /** Resources in the registry the config does not mention and does not prune (left alone). */
  unmanaged: { resource: ResourceType; key: string }[];
}

const DEFAULT_UPSTREAM_PREFIX = 'ROOT';

/** The fields whose values differ, compared canonically (`compare` maps a value before comparing). */
function fieldChanges<T extends object>(
  before: T | undefined,
  after: T | undefined,
  fields: readonly (keyof T & string)[],
  compare: Partial<Record<keyof T & string, (value: unknown) => unknown>> = {},
): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of fields) {
    const was = before?.[field];
    const will = after?.[field];
    const normal = compare[field] ?? ((value: unknown) => value);
    if (canonicalJson(normal(was)) !== canonicalJson(normal(will))) {
      changes.push({
        field,
        ...(was === undefined ? {} : { before: was }),
        ...(will === undefined ? {} : { after: will }),
      });
    }
  }
  return changes;
}

function planReplication(
  declared: NonNullable<RegistryDeclaration['replication']>,
  current: readonly ReplicationRule[],
  plan: RegistryPlan,
): void {
  const wanted = new Map(declared.rules.map((rule) => [replicationRuleKey(rule), rule]));
  const changes: PlannedChange[] = [];
  const final: ReplicationRule[] = [];
  const seen = new Set<string>();
  for (const rule of current) {
    const key = replicationRuleKey(rule);
    if (seen.has(key)) continue;
    seen.add(key);
    const desired = wanted.get(key);
    if (desired) {
      final.push(desired);
      if (canonicalJson(destinationList(rule)) !== canonicalJson(destinationList(desired))) {
        changes.push({
          resource: 'replication-rule',
          key,
          action: 'update',
          fields: [{ field: 'destinations', before: destinationList(rule), after: destinationList(desired) }],
        });
      }
    } else if (declared.prune) {
      changes.push({
        resource: 'replication-rule',
        key,
        action: 'delete',
        fields: [
          { field: 'destinations', before: destinationList(rule) },
          { field: 'repositoryFilters', before: rule.repositoryFilters },
        ],
      });
    } else {
      final.push(rule);
      plan.unmanaged.push({ resource: 'replication-rule', key });
    }
  }
  for (const [key, rule] of wanted) {
    if (seen.has(key)) continue;
    final.push(rule);
    changes.push({
      resource: 'replication-rule',
      key,
      action: 'create',
      fields: [
        { field: 'destinations', after: destinationList(rule) },
        { field: 'repositoryFilters', after: rule.repositoryFilters },
      ],
    });
  }
  plan.problems.push(...replicationQuotaProblems(final, 'replication after the plan'));
  if (changes.length > 0) {
    plan.changes.push(...changes);
    plan.steps.push({ kind: 'put-replication', rules: final, changes });
  }
}

const PTC_FIELDS = [
  'upstreamRegistryUrl',
  'upstreamRegistry',
  'upstreamRepositoryPrefix',
  'credentialArn',
  'customRoleArn',
] as const;
/** What UpdatePullThroughCacheRule can change; anything else means delete and create ([M-ECR]). */
const PTC_UPDATABLE: ReadonlySet<string> = new Set(['credentialArn', 'customRoleArn']);

function planPullThroughCache(
  declared: NonNullable<RegistryDeclaration['pullThroughCache']>,
  current: readonly PullThroughCacheRule[],
  plan: RegistryPlan,
): void {
  const existing = new Map(current.map((rule) => [rule.prefix, rule]));
  let count = current.length;
  for (const rule of declared.rules) {
    const was = existing.get(rule.prefix);
    if (!was) {
      count++;
      const change: PlannedChange = {
        resource: 'pull-through-cache-rule',
        key: rule.prefix,
        action: 'create',
        fields: fieldChanges(undefined, rule, ['upstreamRegistryUrl', ...PTC_FIELDS.slice(1)]),
      };
      plan.changes.push(change);
      plan.steps.push({ kind: 'create-pull-through-cache-rule', rule, changes: [change] });
      continue;
    }
    // The registry fills in what the config may leave out: the upstream's name and the ROOT upstream prefix.
    const fields = fieldChanges(was, rule, PTC_FIELDS, {
      upstreamRegistry: (value) => (rule.upstreamRegistry === undefined ? undefined : value),
      upstreamRepositoryPrefix: (value) => value ?? DEFAULT_UPSTREAM_PREFIX,
    });
    if (fields.length === 0) continue;
    // A credential or role can be changed, not removed: removing one is a replace too.
    const updatable = fields.every((f) => PTC_UPDATABLE.has(f.field) && f.after !== undefined);
    const change: PlannedChange = {
      resource: 'pull-through-cache-rule',
      key: rule.prefix,
      action: updatable ? 'update' : 'replace',
      fields,
    };
    plan.changes.push(change);
    plan.steps.push({
      kind: updatable ? 'update-pull-through-cache-rule' : 'replace-pull-through-cache-rule',
      rule,
      changes: [change],
    });
  }
  const declaredPrefixes = new Set(declared.rules.map((rule) => rule.prefix));
  for (const rule of current) {
    if (declaredPrefixes.has(rule.prefix)) continue;
    if (!declared.prune) {
      plan.unmanaged.push({ resource: 'pull-through-cache-rule', key: rule.prefix });
      continue;
    }
    count--;
    const change: PlannedChange = {
      resource: 'pull-through-cache-rule',
      key: rule.prefix,
      action: 'delete',
      fields: fieldChanges(rule, undefined, PTC_FIELDS),
    };
    plan.changes.push(change);
    plan.steps.push({ kind: 'delete-pull-through-cache-rule', prefix: rule.prefix, changes: [change] });
  }
  if (count > MAX_PULL_THROUGH_CACHE_RULES) {
    plan.problems.push(
      `pull through cache after the plan: ${count} rules, ECR allows at most ${MAX_PULL_THROUGH_CACHE_RULES}`,
    );
  }
}

const TEMPLATE_FIELDS = [
  'appliedFor',
  'description',
  'imageTagMutability',
  'imageTagMutabilityExclusionFilters',
  'encryptionType',
  'kmsKey',
  'lifecyclePolicy',
  'repositoryPolicy',
  'resourceTags',
  'customRoleArn',
] as const;
const sortedList = (value: unknown) => (Array.isArray(value) ? [...value].sort() : value);
const TEMPLATE_COMPARE = {
  appliedFor: sortedList,
  imageTagMutabilityExclusionFilters: sortedList,
  lifecyclePolicy: (value: unknown) => canonicalPolicyText(value as string | undefined),
  repositoryPolicy: (value: unknown) => canonicalPolicyText(value as string | undefined),
};

function planCreationTemplates(
  declared: NonNullable<RegistryDeclaration['creationTemplates']>,
  current: readonly CreationTemplate[],
  plan: RegistryPlan,
): void {
  const existing = new Map(current.map((template) => [template.prefix, template]));
  for (const template of declared.templates) {
    const was = existing.get(template.prefix);
    const fields = fieldChanges(was, template, TEMPLATE_FIELDS, TEMPLATE_COMPARE);
    if (was && fields.length === 0) continue;
    const change: PlannedChange = {
      resource: 'creation-template',
      key: template.prefix,
      action: was ? 'update' : 'create',
      fields,
    };
    plan.changes.push(change);
    plan.steps.push({
      kind: was ? 'update-creation-template' : 'create-creation-template',
      template,
      changes: [change],
    });
  }
  const declaredPrefixes = new Set(declared.templates.map((template) => template.prefix));
  for (const template of current) {
    if (declaredPrefixes.has(template.prefix)) continue;
    if (!declared.prune) {
      plan.unmanaged.push({ resource: 'creation-template', key: template.prefix });
      continue;
    }
    const change: PlannedChange = {
      resource: 'creation-template',
      key: template.prefix,
      action: 'delete',
      fields: fieldChanges(template, undefined, TEMPLATE_FIELDS),
    };
    plan.changes.push(change);
    plan.steps.push({ kind: 'delete-creation-template', prefix: template.prefix, changes: [change] });
  }
}

/**
 * The registry scanning configuration after the plan: the declared scan type (or the registry's when the config
 * names none) and, per frequency, the declared filters plus the registry's own unless the config prunes. Never
 * "off" by omission: a frequency the config does not mention keeps the registry's filters unless pruned.
 */
function planScanning(
  declared: NonNullable<RegistryDeclaration['scanning']>,
  current: ScanningConfiguration,
  plan: RegistryPlan,
): void {
  const scanType = declared.scanType ?? current.scanType;
  const frequencies = new Map<string, string[]>();
  if (!declared.prune)
    for (const rule of current.rules) frequencies.set(rule.scanFrequency, [...rule.repositoryFilters]);
  for (const rule of declared.rules) {
    const filters = frequencies.get(rule.scanFrequency) ?? [];
    for (const filter of rule.repositoryFilters) if (!filters.includes(filter)) filters.push(filter);
    frequencies.set(rule.scanFrequency, filters);
  }
  const rules: ScanningRule[] = [...frequencies]
    .filter(([, filters]) => filters.length > 0)
    .map(([scanFrequency, repositoryFilters]) => ({ scanFrequency, repositoryFilters }));
  if (scanType === 'BASIC' && rules.some((rule) => rule.scanFrequency === 'CONTINUOUS_SCAN')) {
    plan.problems.push(
      'registry scanning after the plan: BASIC scanning with a CONTINUOUS_SCAN rule (set scanType ENHANCED, or prune)',
    );
  }
  const filtersOf = (config: ScanningConfiguration, frequency: string) =>
    [...(config.rules.find((rule) => rule.scanFrequency === frequency)?.repositoryFilters ?? [])].sort();
  const fields: FieldChange[] = [];
  if (scanType !== current.scanType) fields.push({ field: 'scanType', before: current.scanType, after: scanType });
  const after: ScanningConfiguration = { scanType, rules };
  const allFrequencies = new Set([...current.rules, ...rules].map((rule) => rule.scanFrequency));
  for (const frequency of [...allFrequencies].sort()) {
    const was = filtersOf(current, frequency);
    const will = filtersOf(after, frequency);
    if (canonicalJson(was) !== canonicalJson(will)) {
      fields.push({
        field: `rules.${frequency}`,
        ...(was.length ? { before: was } : {}),
        ...(will.length ? { after: will } : {}),
      });
    }
  }
  if (fields.length === 0) return;
  const change: PlannedChange = { resource: 'registry-scanning', key: 'registry', action: 'update', fields };
  plan.changes.push(change);
  plan.steps.push({ kind: 'put-scanning', configuration: after, changes: [change] });
}

/**
 * The registry policy after the plan: the registry's statements in their order, each declared one (by `Sid`) in
 * place of the registry's, the undeclared ones kept (or dropped when pruning), then the declared ones the registry
 * lacks. One PutRegistryPolicy with all of them, so that no statement another owner put there is clobbered; a
 * DeleteRegistryPolicy only when pruning leaves no statement at all.
 */
function planRegistryPolicy(
  declared: NonNullable<RegistryDeclaration['registryPolicy']>,
  currentText: string | undefined,
  plan: RegistryPlan,
): void {
  const current = parseRegistryPolicy(currentText);
  if ('error' in current) {
    plan.problems.push(`${current.error}; it is left alone until it is fixed by hand`);
    return;
  }
  const wanted = new Map<string, PolicyStatement>(declared.statements.map((statement) => [statement.Sid, statement]));
  const changes: PlannedChange[] = [];
  const final: Record<string, unknown>[] = [];
  const diff = (before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined) =>
    fieldChanges(before, after, statementFields(before, after));
  for (const { key, statement } of current.statements) {
    const desired = wanted.get(key);
    if (desired) {
      final.push(desired);
      if (canonicalJson(statement) !== canonicalJson(desired)) {
        changes.push({
          resource: 'registry-policy-statement',
          key,
          action: 'update',
          fields: diff(statement, desired),
        });
      }
    } else if (declared.prune) {
      changes.push({
        resource: 'registry-policy-statement',
        key,
        action: 'delete',
        fields: diff(statement, undefined),
      });
    } else {
      final.push(statement);
      plan.unmanaged.push({ resource: 'registry-policy-statement', key });
    }
  }
  const present = new Set(current.statements.map((entry) => entry.key));
  for (const [key, statement] of wanted) {
    if (present.has(key)) continue;
    final.push(statement);
    changes.push({ resource: 'registry-policy-statement', key, action: 'create', fields: diff(undefined, statement) });
  }
  if (changes.length === 0) return;
  plan.changes.push(...changes);
  if (final.length === 0) {
    plan.steps.push({ kind: 'delete-registry-policy', changes });
    return;
  }
  plan.problems.push(...registryPolicySizeProblems(final, 'registry policy after the plan'));
  plan.steps.push({ kind: 'put-registry-policy', policyText: registryPolicyText(final), changes });
}

/**
 * The plan that brings the registry to the declaration: create what is missing, update what differs (field by
 * field), delete what the config does not mention only where it prunes that section, and nothing at all for a
 * section it does not declare. Pure: the same snapshot and declaration give the same plan, and applying the plan
 * gives a snapshot for which the plan is empty.
 */
export function planRegistry(declaration: RegistryDeclaration, snapshot: RegistrySnapshot): RegistryPlan {
  const plan: RegistryPlan = { changes: [], steps: [], problems: [], unmanaged: [] };
  if (declaration.replication) planReplication(declaration.replication, snapshot.replication ?? [], plan);
  if (declaration.pullThroughCache) {
    planPullThroughCache(declaration.pullThroughCache, snapshot.pullThroughCacheRules ?? [], plan);
  }
  if (declaration.creationTemplates) {
    planCreationTemplates(declaration.creationTemplates, snapshot.creationTemplates ?? [], plan);
  }
  if (declaration.scanning) {
    planScanning(declaration.scanning, snapshot.scanning ?? { scanType: 'BASIC', rules: [] }, plan);
  }
  if (declaration.registryPolicy) planRegistryPolicy(declaration.registryPolicy, snapshot.registryPolicyText, plan);
  return plan;
}

/** Counts of a plan's changes by action. */
export const planCounts = (changes: readonly PlannedChange[]): Record<ChangeAction, number> => ({
  create: changes.filter((c) => c.action === 'create').length,
  update: changes.filter((c) => c.action === 'update').length,
  replace: changes.filter((c) => c.action === 'replace').length,
  delete: changes.filter((c) => c.action === 'delete').length,
});
