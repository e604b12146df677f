import { formatChange } from '../policy/reconcile/format.ts';
import type { RegistryPlan } from '../policy/reconcile/plan.ts';
import { type DecisionRow, REPORT_VERSION, type Report, type SummaryLine } from './model.ts';

/** Where a reconcile plan was made, for the report's facts. */
export interface ReconcileContext {
  /** When the plan was made (ISO). */
  plannedAt: string;
  region: string;
  endpoint?: string;
}

/**
 * The HTML report of a registry reconcile plan: the changes per resource type (created, updated or replaced,
 * deleted), one row per change with its field diff, and the plan's problems and the resources it leaves alone as
 * notes. A reconcile has no safety brake; a plan with problems may not be applied at all, which the summary says.
 */
export function reconcilePicture(plan: RegistryPlan, context: ReconcileContext): Report {
  const byType = new Map<string, SummaryLine>();
  const rows: DecisionRow[] = plan.changes.map((change) => {
    const line = byType.get(change.resource) ?? {
      name: change.resource,
      total: 0,
      toDelete: 0,
      toArchive: 0,
      kept: 0,
      bytesToDelete: 0,
      brake: 'none',
    };
    line.total++;
    if (change.action === 'delete') line.toDelete++;
    else line.kept++;
    byType.set(change.resource, line);
    const [, ...fields] = formatChange(change);
    return {
      repository: change.resource,
      rule: change.resource,
      subject: change.key,
      kind: change.fields.map((field) => field.field).join(', '),
      action: change.action,
      tags: [],
      sizeInBytes: 0,
      pushedAt: '',
      reasonCode: change.action,
      reason: fields.map((field) => field.trim()).join('; ') || change.action,
    };
  });
  const lines = [...byType.values()].sort((a, b) => a.name.localeCompare(b.name));
  const sum = (pick: (line: SummaryLine) => number) => lines.reduce((total, line) => total + pick(line), 0);
  return {
    version: REPORT_VERSION,
    kind: 'reconcile',
    title: `Registry reconcile plan of ${context.plannedAt}`,
    facts: [
      { name: 'Planned at', value: context.plannedAt },
      { name: 'Region', value: context.region },
      { name: 'Endpoint', value: context.endpoint ?? 'AWS' },
    ],
    summary: {
      total: sum((line) => line.total),
      toDelete: sum((line) => line.toDelete),
      toArchive: 0,
      kept: sum((line) => line.kept),
      bytesToDelete: 0,
      brake:
        plan.problems.length > 0
          ? `refused: ${plan.problems.length} problem(s), nothing may be applied`
          : 'none (a reconcile has no safety brake)',
      byRepository: lines,
      byRule: [],
      columns: { total: 'Changes', toDelete: 'To delete', kept: 'To create, update or replace' },
    },
    rows,
    graphs: [],
    notes: [
      ...plan.problems.map((problem) => `Problem: ${problem}`),
      ...(plan.unmanaged.length > 0
        ? [
            `Left alone (not in the config, not pruned): ${plan.unmanaged.map((u) => `${u.resource} ${u.key}`).join(', ')}`,
          ]
        : []),
    ],
  };
}
