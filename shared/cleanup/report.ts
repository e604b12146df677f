import type { Decision } from '../policy/cleanup/plan.ts';
import type { ChangedSincePlan } from './act.ts';

/** Lists in the report event are capped so the event stays well under EventBridge's 256 KB. */
export const REPORT_LIST_LIMIT = 200;

export type CleanupStatus =
  | 'completed'
  | 'continued'
  | 'braked'
  | 'dry-run'
  | 'nothing-to-do'
  | 'repository-gone'
  | 'not-matched';

/** The "Cleanup Report" event's detail: what one invocation decided and did for one repository. */
export interface CleanupReport {
  runId: string;
  repositoryName: string;
  dryRun: boolean;
  part: number;
  status: CleanupStatus;
  plannedAt: string;
  /** The config rule that matched (index into cleanup.rules). */
  ruleIndex?: number;
  counts: {
    images: number;
    toDelete: number;
    deleted: number;
    alreadyGone: number;
    failed: number;
    kept: number;
    /** Candidates that changed since the plan (a tag, a pull, a push naming them) and were kept. */
    changedSincePlan: number;
    /** Candidates kept with those: their children and referrers. */
    keptWithChanged: number;
    remaining: number;
  };
  bytesReclaimed: number;
  brake?: { wouldDelete: number; total: number; maxDeleteFraction: number; message: string };
  deleted: { digest: string; reason: Decision['reason'] }[];
  kept: { digest: string; tags: readonly string[]; reason: Decision['reason'] }[];
  failures: { digest?: string; code: string; reason: string }[];
  /** The planned deletions not carried out because the registry changed since the plan, each with why. */
  changedSincePlan: ChangedSincePlan[];
  /** ECR calls per operation made by this invocation (the SDK's re-sends included), and PutEvents calls. */
  apiCalls: Record<string, number>;
  /** The lists above hold at most REPORT_LIST_LIMIT entries each; the log has every decision. */
  truncated: boolean;
  message?: string;
}
