import { type PlannedChange, planCounts, type RegistryPlan } from './plan.ts';

const SYMBOL: Record<PlannedChange['action'], string> = { create: '+', update: '~', replace: '-/+', delete: '-' };

const show = (value: unknown): string => {
  if (value === undefined) return '(none)';
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.map((item) => show(item)).join(', ')}]`;
  if (typeof value === 'string')
    return value.length > 80 ? JSON.stringify(`${value.slice(0, 77)}...`) : JSON.stringify(value);
  return JSON.stringify(value);
};

/** One change, Terraform-like: `~ update pull-through-cache-rule docker-hub` and one line per changed field. */
export function formatChange(change: PlannedChange): string[] {
  return [
    `${SYMBOL[change.action]} ${change.action} ${change.resource} ${change.key}`,
    ...change.fields.map((field) => `    ${field.field}: ${show(field.before)} → ${show(field.after)}`),
  ];
}

/** A plan as readable text: each change with its field diff, the problems, and a summary line. */
export function formatPlan(plan: RegistryPlan): string[] {
  const lines: string[] = [];
  for (const change of plan.changes) lines.push(...formatChange(change));
  for (const problem of plan.problems) lines.push(`! ${problem}`);
  if (plan.unmanaged.length > 0) {
    lines.push(
      `(left alone, not in the config and not pruned: ${plan.unmanaged.map((u) => `${u.resource} ${u.key}`).join(', ')})`,
    );
  }
  const counts = planCounts(plan.changes);
  lines.push(
    plan.changes.length === 0
      ? 'No changes: the registry matches the config.'
      : `Plan: ${counts.create} to create, ${counts.update} to update, ${counts.replace} to replace, ${counts.delete} to delete.`,
  );
  return lines;
}
