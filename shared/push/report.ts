import type { ImageKind } from '../policy/push/classify.ts';
import type { MutabilityReason } from '../policy/push/mutability.ts';
import type { EnforcementMode } from '../policy/push/policy.ts';
import type { ScanReason } from '../policy/push/scan.ts';
import type { TagsReason, TagViolation } from '../policy/push/tags.ts';

/**
 * - `pass`: compliant as found (or the scan is taken care of: by ECR, or started by the service);
 * - `corrected`: not compliant as found, and this verdict's actions (or an earlier delivery's) made it so;
 * - `violation`: not compliant, and left so (report mode, an action that failed, dry run, nothing can fix it);
 * - `not-applicable`: the check does not apply (no policy for it, an untagged push, an index, a referrer).
 */
export type CheckOutcome = 'pass' | 'corrected' | 'violation' | 'not-applicable';

/**
 * - `compliant`: every check passed or did not apply;
 * - `corrected`: something was corrected and nothing is left in violation;
 * - `violations`: at least one check is in violation;
 * - `skipped`: nothing was judged (see `skipped`).
 */
export type PushVerdictStatus = 'compliant' | 'corrected' | 'violations' | 'skipped';

export type SkipCode = 'no-policy' | 'repository-gone' | 'image-gone';

/**
 * What became of a violation: `removed` (the tag is gone: removed now, or found already removed), `undone` (removed
 * with the image, as the policy's `undoPush` asks), `reported` (report mode, or nothing removal can fix),
 * `left-in-place` (removing it would delete the image), `not-removed` (dry run, or the removal failed).
 */
export type ViolationResolution = 'removed' | 'undone' | 'reported' | 'left-in-place' | 'not-removed';

/**
 * One action of the verdict. `result`: `done` (this delivery did it), `already-done` (found done: a re-delivered
 * event, a second push of the same digest, a scan ECR already ran today), `declined` (ECR declined a scan of this
 * image: unsupported type, archived), `failed` (see `code` and `message`), `planned` (dry run: not sent).
 */
export type PushAction =
  | {
      action: 'set-tag-mutability';
      from: { setting: string; exclusions: readonly string[] };
      to: { setting: string; exclusions: readonly string[] };
      result: ActionResult;
      code?: string;
      message?: string;
    }
  | { action: 'remove-tag'; tag: string; result: ActionResult; code?: string; message?: string }
  | { action: 'start-scan'; result: ActionResult; code?: string; message?: string };

export type ActionResult = 'done' | 'already-done' | 'declined' | 'failed' | 'planned';

export interface PushChecks {
  scan: { outcome: CheckOutcome; reason: ScanReason };
  tags: {
    outcome: CheckOutcome;
    reason: TagsReason;
    violations: (TagViolation & { resolution: ViolationResolution })[];
    /** Convention tags (cosign `sha256-<hex>.sig`, ...) the tag policy does not judge. */
    exempt: readonly string[];
  };
  tagMutability: { outcome: CheckOutcome; reason: MutabilityReason };
}

/** The "Image Push Verdict" event's detail: the push policy's judgement of one pushed image, and what was done. */
export interface PushVerdict {
  /** The ECR event's id: a re-delivered event carries the same one. */
  eventId: string;
  /** The ECR event's time (the push). */
  eventTime: string;
  repositoryName: string;
  digest: string;
  /** The event's `image-tag` (absent for a push by digest). */
  pushedTag?: string;
  /** The tags judged, sorted: the image's tags, and the pushed tag when it was removed since the push. */
  tags: string[];
  kind?: ImageKind;
  status: PushVerdictStatus;
  skipped?: { code: SkipCode; message: string };
  /** The policy rule that matched (index into push.rules), its mode, and whether the run was a dry run. */
  ruleIndex?: number;
  mode?: EnforcementMode;
  dryRun: boolean;
  /** Absent when skipped. */
  checks?: PushChecks;
  actions: PushAction[];
}
