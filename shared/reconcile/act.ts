import type { EcrGateway } from '../ecr/index.ts';
import type { ApplyStep, RegistryPlan } from '../policy/reconcile/plan.ts';
import { describeChange } from './report.ts';

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
