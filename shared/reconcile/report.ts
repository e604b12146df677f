import type { ChangeAction, PlannedChange } from '../policy/reconcile/plan.ts';

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
