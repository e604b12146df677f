import type { AllowListEntry, AllowListReport } from '../policy/scan/allow-list.ts';
import type { Breach, FindingSummary, SeverityCounts } from '../policy/scan/judge.ts';
import type { ScanEnforcementMode } from '../policy/scan/policy.ts';

/**
 * - `PASS` / `FAIL`: the image was judged (or its scan failed: a gate must not pass an image nobody could scan);
 * - `SKIPPED`: nothing to judge (see `skipped`).
 */
export type ScanVerdictValue = 'PASS' | 'FAIL' | 'SKIPPED';

export type ScanSkipCode = 'no-policy' | 'repository-gone' | 'image-gone' | 'scan-not-found' | 'scan-in-progress';

/**
 * One action of the verdict. `result`: `done`, `already-done` (found done: a re-delivered event), `planned` (dry run),
 * `left-in-place` (it would have removed the image's last tag, and with it the image), `failed` (see code, message).
 */
export interface ScanAction {
  action: 'quarantine-tag' | 'remove-tag' | 'lift-quarantine';
  tag: string;
  result: 'done' | 'already-done' | 'planned' | 'left-in-place' | 'failed';
  code?: string;
  message?: string;
}

/** The event that led to the verdict. */
export interface ScanTrigger {
  eventId: string;
  eventTime: string;
  source: string;
  detailType: string;
  /** The finding an "Inspector2 Finding" event is about, and its status in the event. */
  finding?: { findingArn: string; id: string; status: string };
  /** The event is older than what ECR reports now: the verdict is judged on the newer findings (newest wins). */
  stale?: boolean;
}

/** The "Image Scan Verdict" event's detail (and the CLI gate's JSON). */
export interface ScanVerdict {
  trigger: ScanTrigger;
  repositoryName: string;
  digest: string;
  /** The image's tags when judged (the event's when the image could not be read). */
  tags: string[];
  verdict: ScanVerdictValue;
  skipped?: { code: ScanSkipCode; message: string };
  /** The scan read: ECR's scan status, basic or enhanced, when it completed, how many findings it listed. */
  scan?: { status: string; description?: string; type: 'BASIC' | 'ENHANCED'; completedAt?: string; findings: number };
  /** Why a FAIL that is about the scan, not its findings (`scan-failed`: FAILED, UNSUPPORTED_IMAGE, ...). */
  reason?: { code: 'scan-failed'; scanStatus: string; message: string };
  ruleIndex?: number;
  mode?: ScanEnforcementMode;
  dryRun: boolean;
  counts?: {
    found: SeverityCounts;
    counted: SeverityCounts;
    allowed: number;
    ignored: { closed: number; suppressed: number; noFix: number };
  };
  breaches?: readonly Breach[];
  /** The blocking findings, most severe first (at most `MAX_LISTED_FINDINGS`; `blockingTotal` counts them all). */
  blocking?: readonly (FindingSummary & { because: readonly ('severity' | 'cvss')[] })[];
  blockingTotal?: number;
  /** Allowed findings with the entry's expiry, owner and reason (at most `MAX_LISTED_FINDINGS`). */
  allowed?: readonly (FindingSummary & { allowedUntil: string; owner: string; reason: string })[];
  allowedTotal?: number;
  /** Allow-list entries that would have allowed findings of this image but have expired. */
  expiredEntries?: readonly (AllowListEntry & { matched: number })[];
  /**
   * Set when this verdict differs from the one before the triggering change (an Inspector finding created or closed
   * by a continuous re-scan): the newest verdict wins, and says what it replaces.
   */
  flip?: { from: 'PASS' | 'FAIL'; to: 'PASS' | 'FAIL' };
  actions: ScanAction[];
  /** When the handler judged (its clock); with `scan.completedAt`, lets consumers keep the newest verdict. */
  judgedAt: string;
}

/** Lists in the verdict stop at this many entries, so that an event stays far below EventBridge's 256 KB. */
export const MAX_LISTED_FINDINGS = 100;

/** The "Allow List Report" event's detail (the scheduled allow-list report, `entry-allow-list.ts`). */
export type AllowListReportEvent = AllowListReport & { runId: string; reportedAt: string };
