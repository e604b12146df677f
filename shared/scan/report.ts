import { z } from 'zod';
import { AllowListEntrySchema } from '../config/schema.ts';
import { SEVERITIES } from '../policy/scan/findings.ts';

/**
 * - `PASS` / `FAIL`: the image was judged (or its scan failed: a gate must not pass an image nobody could scan);
 * - `SKIPPED`: nothing to judge (see `skipped`).
 */
export const ScanVerdictValueSchema = z.enum(['PASS', 'FAIL', 'SKIPPED']);
export type ScanVerdictValue = z.output<typeof ScanVerdictValueSchema>;

export const ScanSkipCodeSchema = z.enum([
  'no-policy',
  'repository-gone',
  'image-gone',
  'scan-not-found',
  'scan-in-progress',
]);
export type ScanSkipCode = z.output<typeof ScanSkipCodeSchema>;

/**
 * One action of the verdict. `result`: `done`, `already-done` (found done: a re-delivered event), `planned` (dry run),
 * `left-in-place` (it would have removed the image's last tag, and with it the image), `failed` (see code, message).
 */
export const ScanActionSchema = z.strictObject({
  action: z.enum(['quarantine-tag', 'remove-tag', 'lift-quarantine']),
  tag: z.string(),
  result: z.enum(['done', 'already-done', 'planned', 'left-in-place', 'failed']),
  code: z.string().optional(),
  message: z.string().optional(),
});
export type ScanAction = z.output<typeof ScanActionSchema>;

/** The event that led to the verdict. */
export const ScanTriggerSchema = z.strictObject({
  eventId: z.string(),
  eventTime: z.string(),
  source: z.string(),
  detailType: z.string(),
  /** The finding an "Inspector2 Finding" event is about, and its status in the event. */
  finding: z.strictObject({ findingArn: z.string(), id: z.string(), status: z.string() }).optional(),
  /** The event is older than what ECR reports now: the verdict is judged on the newer findings (newest wins). */
  stale: z.boolean().optional(),
});
export type ScanTrigger = z.output<typeof ScanTriggerSchema>;

const SeveritySchema = z.enum(SEVERITIES);
/** Findings per severity (the policy's `SeverityCounts`): severities with none are left out. */
const SeverityCountsSchema = z.partialRecord(SeveritySchema, z.number().int().min(0));

/** A finding as verdicts list it (the policy's `FindingSummary`). */
const FindingSummaryShape = {
  id: z.string(),
  severity: SeveritySchema,
  /** `name@version` of the first vulnerable package. */
  package: z.string().optional(),
  fixedInVersion: z.string().optional(),
  cvss: z.number().optional(),
  exploitAvailable: z.boolean().optional(),
  source: z.enum(['basic', 'enhanced']),
};

/** Why the image fails (the policy's `Breach`): a severity over its maximum, or findings at or over the threshold. */
const BreachSchema = z.discriminatedUnion('code', [
  z.strictObject({
    code: z.literal('severity-count'),
    severity: SeveritySchema,
    count: z.number().int(),
    max: z.number().int(),
  }),
  z.strictObject({ code: z.literal('cvss'), threshold: z.number(), count: z.number().int() }),
]);

/** The "Image Scan Verdict" event's detail (and the CLI gate's JSON). */
export const ScanVerdictSchema = z.strictObject({
  trigger: ScanTriggerSchema,
  repositoryName: z.string().min(1),
  digest: z.string().min(1),
  /** The image's tags when judged (the event's when the image could not be read). */
  tags: z.array(z.string()),
  verdict: ScanVerdictValueSchema,
  skipped: z.strictObject({ code: ScanSkipCodeSchema, message: z.string() }).optional(),
  /** The scan read: ECR's scan status, basic or enhanced, when it completed, how many findings it listed. */
  scan: z
    .strictObject({
      status: z.string(),
      description: z.string().optional(),
      type: z.enum(['BASIC', 'ENHANCED']),
      completedAt: z.string().optional(),
      findings: z.number().int().min(0),
    })
    .optional(),
  /** Why a FAIL that is about the scan, not its findings (`scan-failed`: FAILED, UNSUPPORTED_IMAGE, ...). */
  reason: z.strictObject({ code: z.literal('scan-failed'), scanStatus: z.string(), message: z.string() }).optional(),
  ruleIndex: z.number().int().min(0).optional(),
  mode: z.enum(['report', 'enforce']).optional(),
  dryRun: z.boolean(),
  counts: z
    .strictObject({
      found: SeverityCountsSchema,
      counted: SeverityCountsSchema,
      allowed: z.number().int().min(0),
      ignored: z.strictObject({
        closed: z.number().int().min(0),
        suppressed: z.number().int().min(0),
        noFix: z.number().int().min(0),
      }),
    })
    .optional(),
  breaches: z.array(BreachSchema).readonly().optional(),
  /** The blocking findings, most severe first (at most `MAX_LISTED_FINDINGS`; `blockingTotal` counts them all). */
  blocking: z
    .array(z.strictObject({ ...FindingSummaryShape, because: z.array(z.enum(['severity', 'cvss'])).readonly() }))
    .readonly()
    .optional(),
  blockingTotal: z.number().int().min(0).optional(),
  /** Allowed findings with the entry's expiry, owner and reason (at most `MAX_LISTED_FINDINGS`). */
  allowed: z
    .array(z.strictObject({ ...FindingSummaryShape, allowedUntil: z.string(), owner: z.string(), reason: z.string() }))
    .readonly()
    .optional(),
  allowedTotal: z.number().int().min(0).optional(),
  /** Allow-list entries that would have allowed findings of this image but have expired. */
  expiredEntries: z
    .array(AllowListEntrySchema.safeExtend({ matched: z.number().int().min(0) }))
    .readonly()
    .optional(),
  /**
   * Set when this verdict differs from the one before the triggering change (an Inspector finding created or closed
   * by a continuous re-scan): the newest verdict wins, and says what it replaces.
   */
  flip: z.strictObject({ from: z.enum(['PASS', 'FAIL']), to: z.enum(['PASS', 'FAIL']) }).optional(),
  actions: z.array(ScanActionSchema),
  /** When the handler judged (its clock); with `scan.completedAt`, lets consumers keep the newest verdict. */
  judgedAt: z.string(),
});
export type ScanVerdict = z.output<typeof ScanVerdictSchema>;

/** Lists in the verdict stop at this many entries, so that an event stays far below EventBridge's 256 KB. */
export const MAX_LISTED_FINDINGS = 100;

/** The "Allow List Report" event's detail (the scheduled allow-list report, `entry-allow-list.ts`). */
export const AllowListReportEventSchema = z.strictObject({
  runId: z.string().min(1),
  reportedAt: z.string(),
  /** Entries that expire within the window, soonest first. */
  expiring: z.array(AllowListEntrySchema.safeExtend({ expiresAt: z.string(), daysLeft: z.number().int() })).readonly(),
  /** Expired entries still in the allow-list (they no longer count: remove or renew them). */
  expired: z.array(AllowListEntrySchema.safeExtend({ expiresAt: z.string(), daysAgo: z.number().int() })).readonly(),
  active: z.number().int().min(0),
  total: z.number().int().min(0),
  expiringWithinDays: z.number().int().min(0),
});
export type AllowListReportEvent = z.output<typeof AllowListReportEventSchema>;
