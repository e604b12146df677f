import type { EcrGateway } from '../ecr/index.ts';
import type { RegistryDeclaration, RegistrySnapshot } from '../policy/reconcile/model.ts';
import {
  type ApplyStep,
  type ChangeAction,
  type PlannedChange,
  planCounts,
  planRegistry,
  type RegistryPlan,
} from '../policy/reconcile/plan.ts';

/** Lists in the report event are capped so the event stays well under EventBridge's 256 KB. */
export const REPORT_LIST_LIMIT = 200;

export type ReconcileStatus = 'in-sync' | 'planned' | 'applied' | 'partial' | 'invalid';

/** The "Registry Reconcile Report" event's detail: what one run planned, applied, and could not apply. */
export interface ReconcileReport {
  runId: string;
  dryRun: boolean;
  /**
   * `in-sync`: nothing to change. `planned`: dry run, the changes are listed. `applied`: every change applied.
   * `partial`: some changes failed (`notApplied`); the next run plans exactly those again. `invalid`: the plan would
   * break ECR's limits (`problems`), nothing was applied.
   */
  status: ReconcileStatus;
  counts: Record<ChangeAction, number>;
  changes: PlannedChange[];
  /** Changes ECR accepted, as `<action> <resource> <key>`. */
  applied: string[];
  /** Changes not applied, each with the error of its call. */
  notApplied: { change: string; error: string }[];
  problems: string[];
  /** Resources left alone because the config neither mentions nor prunes them. */
  unmanaged: string[];
  apiCalls: Record<string, number>;
  truncated: boolean;
}

export const describeChange = (change: PlannedChange) => `${change.action} ${change.resource} ${change.key}`;

/** Reads the current state of the sections the declaration manages, and only those. */
export async function gatherRegistry(gateway: EcrGateway, declaration: RegistryDeclaration): Promise<RegistrySnapshot> {
  const snapshot: RegistrySnapshot = {};
  if (declaration.replication) snapshot.replication = await gateway.getReplicationRules();
  if (declaration.pullThroughCache) snapshot.pullThroughCacheRules = await gateway.listPullThroughCacheRules();
  if (declaration.creationTemplates) snapshot.creationTemplates = await gateway.listCreationTemplates();
  if (declaration.scanning) {
    const { scanType, rules } = await gateway.getRegistryScanningConfiguration();
    snapshot.scanning = {
      scanType,
      rules: rules.map((rule) => ({
        scanFrequency: rule.scanFrequency,
        repositoryFilters: rule.repositoryFilters.map((filter) => filter.filter),
      })),
    };
  }
  if (declaration.registryPolicy) {
    const text = await gateway.getRegistryPolicy();
    if (text !== undefined) snapshot.registryPolicyText = text;
  }
  return snapshot;
}

/**
 * Templates first (a pull through cache rule creates repositories from them), then rules, then the singletons; the
 * registry policy last.
 */
const STEP_ORDER: Record<ApplyStep['kind'], number> = {
  'create-creation-template': 0,
  'update-creation-template': 0,
  'delete-creation-template': 0,
  'create-pull-through-cache-rule': 1,
  'update-pull-through-cache-rule': 1,
  'replace-pull-through-cache-rule': 1,
  'delete-pull-through-cache-rule': 1,
  'put-replication': 2,
  'put-scanning': 3,
  'put-registry-policy': 4,
  'delete-registry-policy': 4,
};

async function applyStep(gateway: EcrGateway, step: ApplyStep): Promise<void> {
  switch (step.kind) {
    case 'put-replication':
      return gateway.putReplicationRules(step.rules);
    case 'put-scanning':
      return gateway.putRegistryScanningConfiguration(step.configuration);
    case 'put-registry-policy':
      return gateway.putRegistryPolicy(step.policyText);
    case 'delete-registry-policy':
      await gateway.deleteRegistryPolicy();
      return;
    case 'create-pull-through-cache-rule':
      return gateway.createPullThroughCacheRule(step.rule);
    case 'update-pull-through-cache-rule':
      return gateway.updatePullThroughCacheRule(step.rule);
    case 'replace-pull-through-cache-rule':
      await gateway.deletePullThroughCacheRule(step.rule.prefix);
      return gateway.createPullThroughCacheRule(step.rule);
    case 'delete-pull-through-cache-rule':
      return gateway.deletePullThroughCacheRule(step.prefix);
    case 'create-creation-template':
      return gateway.createCreationTemplate(step.template);
    case 'update-creation-template':
      return gateway.updateCreationTemplate(step.template);
    case 'delete-creation-template':
      return gateway.deleteCreationTemplate(step.prefix);
  }
}

/**
 * Carries the plan out, one step after the other; a step that fails is recorded and the others still run (they are
 * independent), so a partial failure leaves a report of what was and was not applied, and the next run, planning
 * from the registry as it then is, completes it.
 */
export async function applyPlan(
  gateway: EcrGateway,
  plan: RegistryPlan,
): Promise<{ applied: string[]; notApplied: { change: string; error: string }[] }> {
  const applied: string[] = [];
  const notApplied: { change: string; error: string }[] = [];
  const steps = [...plan.steps].sort((a, b) => STEP_ORDER[a.kind] - STEP_ORDER[b.kind]);
  for (const step of steps) {
    try {
      await applyStep(gateway, step);
      applied.push(...step.changes.map(describeChange));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      notApplied.push(...step.changes.map((change) => ({ change: describeChange(change), error: message })));
    }
  }
  return { applied, notApplied };
}

/**
 * Gather → plan (pure) → apply (unless dry run) → report. A plan with problems (the registry after it would break
 * ECR's limits) applies nothing. In dry run the gateway is read-only, so nothing can change.
 */
export async function reconcile(
  gateway: EcrGateway,
  declaration: RegistryDeclaration,
  options: { runId: string; dryRun: boolean },
): Promise<{ report: ReconcileReport; plan: RegistryPlan }> {
  const snapshot = await gatherRegistry(gateway, declaration);
  const plan = planRegistry(declaration, snapshot);
  let applied: string[] = [];
  let notApplied: { change: string; error: string }[] = [];
  let status: ReconcileStatus;
  if (plan.problems.length > 0) status = 'invalid';
  else if (plan.changes.length === 0) status = 'in-sync';
  else if (options.dryRun) status = 'planned';
  else {
    ({ applied, notApplied } = await applyPlan(gateway, plan));
    status = notApplied.length > 0 ? 'partial' : 'applied';
  }
  const truncated = plan.changes.length > REPORT_LIST_LIMIT;
  const report: ReconcileReport = {
    runId: options.runId,
    dryRun: options.dryRun,
    status,
    counts: planCounts(plan.changes),
    changes: plan.changes.slice(0, REPORT_LIST_LIMIT),
    applied: applied.slice(0, REPORT_LIST_LIMIT),
    notApplied: notApplied.slice(0, REPORT_LIST_LIMIT),
    problems: plan.problems,
    unmanaged: plan.unmanaged.map((entry) => `${entry.resource} ${entry.key}`).slice(0, REPORT_LIST_LIMIT),
    apiCalls: gateway.callCounts(),
    truncated,
  };
  return { report, plan };
}
