import { z } from 'zod';

/**
 * - `pass`: compliant as found (or the scan is taken care of: by ECR, or started by the service);
 * - `corrected`: not compliant as found, and this verdict's actions (or an earlier delivery's) made it so;
 * - `violation`: not compliant, and left so (report mode, an action that failed, dry run, nothing can fix it);
 * - `not-applicable`: the check does not apply (no policy for it, an untagged push, an index, a referrer).
 */
export const CheckOutcomeSchema = z.enum(['pass', 'corrected', 'violation', 'not-applicable']);
export type CheckOutcome = z.output<typeof CheckOutcomeSchema>;

/**
 * - `compliant`: every check passed or did not apply;
 * - `corrected`: something was corrected and nothing is left in violation;
 * - `violations`: at least one check is in violation;
 * - `skipped`: nothing was judged (see `skipped`).
 */
export const PushVerdictStatusSchema = z.enum(['compliant', 'corrected', 'violations', 'skipped']);
export type PushVerdictStatus = z.output<typeof PushVerdictStatusSchema>;

export const SkipCodeSchema = z.enum(['no-policy', 'repository-gone', 'image-gone']);
export type SkipCode = z.output<typeof SkipCodeSchema>;

/**
 * What became of a violation: `removed` (the tag is gone: removed now, or found already removed), `undone` (removed
 * with the image, as the policy's `undoPush` asks), `reported` (report mode, or nothing removal can fix),
 * `left-in-place` (removing it would delete the image), `not-removed` (dry run, or the removal failed).
 */
export const ViolationResolutionSchema = z.enum(['removed', 'undone', 'reported', 'left-in-place', 'not-removed']);
export type ViolationResolution = z.output<typeof ViolationResolutionSchema>;

export const ActionResultSchema = z.enum(['done', 'already-done', 'declined', 'failed', 'planned']);
export type ActionResult = z.output<typeof ActionResultSchema>;

/** What the policy's `ImageKind` names: an image, an index, a referrer or another artifact. */
const ImageKindSchema = z.enum(['image', 'index', 'referrer', 'artifact']);

const MutabilitySchema = z.strictObject({ setting: z.string(), exclusions: z.array(z.string()).readonly() });

/** How an action ended, and ECR's error when it failed. */
const Outcome = { result: ActionResultSchema, code: z.string().optional(), message: z.string().optional() };

/**
 * One action of the verdict. `result`: `done` (this delivery did it), `already-done` (found done: a re-delivered
 * event, a second push of the same digest, a scan ECR already ran today), `declined` (ECR declined a scan of this
 * image: unsupported type, archived), `failed` (see `code` and `message`), `planned` (dry run: not sent).
 */
export const PushActionSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('set-tag-mutability'), from: MutabilitySchema, to: MutabilitySchema, ...Outcome }),
  z.strictObject({ action: z.literal('remove-tag'), tag: z.string(), ...Outcome }),
  z.strictObject({ action: z.literal('start-scan'), ...Outcome }),
]);
export type PushAction = z.output<typeof PushActionSchema>;

/** The policy's `ScanReason`: why the scan check came out as it did. */
const ScanReasonSchema = z.discriminatedUnion('code', [
  z.strictObject({ code: z.literal('scan-not-required') }),
  z.strictObject({ code: z.literal('not-an-image'), kind: ImageKindSchema.exclude(['image']) }),
  z.strictObject({ code: z.literal('unsupported-media-type'), mediaType: z.string() }),
  z.strictObject({
    code: z.literal('ecr-scans-on-push'),
    scanType: z.string(),
    via: z.enum(['registry-rule', 'repository-setting']),
    filter: z.string().optional(),
  }),
  z.strictObject({ code: z.literal('ecr-scans-continuously'), filter: z.string() }),
  z.strictObject({ code: z.literal('service-scans') }),
  z.strictObject({ code: z.literal('enhanced-scanning-not-covering') }),
  z.strictObject({ code: z.literal('push-undone') }),
]);

/** The policy's `TagsReason`. */
const TagsReasonSchema = z.discriminatedUnion('code', [
  z.strictObject({ code: z.literal('untagged-push'), kind: ImageKindSchema }),
  z.strictObject({ code: z.literal('referrer') }),
  z.strictObject({ code: z.literal('no-violations') }),
  z.strictObject({ code: z.literal('violations'), count: z.number().int().min(0) }),
]);

/** The policy's `TagViolation`, with what became of it. */
const ResolvedViolationSchema = z.discriminatedUnion('code', [
  z.strictObject({
    code: z.literal('forbidden'),
    tag: z.string(),
    pattern: z.string(),
    resolution: ViolationResolutionSchema,
  }),
  z.strictObject({
    code: z.literal('not-allowed'),
    tag: z.string(),
    allowed: z.array(z.string()).readonly(),
    resolution: ViolationResolutionSchema,
  }),
  z.strictObject({
    code: z.literal('missing-required-tag'),
    required: z.string(),
    resolution: ViolationResolutionSchema,
  }),
  z.strictObject({
    code: z.literal('too-many-tags'),
    count: z.number().int(),
    max: z.number().int(),
    tag: z.string().optional(),
    resolution: ViolationResolutionSchema,
  }),
]);

/** The policy's `MutabilityReason`. */
const MutabilityReasonSchema = z.discriminatedUnion('code', [
  z.strictObject({ code: z.literal('no-mutability-policy') }),
  z.strictObject({ code: z.literal('as-policy'), setting: z.string(), exclusions: z.array(z.string()).readonly() }),
  z.strictObject({ code: z.literal('drift'), found: MutabilitySchema, required: MutabilitySchema }),
]);

export const PushChecksSchema = z.strictObject({
  scan: z.strictObject({ outcome: CheckOutcomeSchema, reason: ScanReasonSchema }),
  tags: z.strictObject({
    outcome: CheckOutcomeSchema,
    reason: TagsReasonSchema,
    violations: z.array(ResolvedViolationSchema),
    /** Convention tags (cosign `sha256-<hex>.sig`, ...) the tag policy does not judge. */
    exempt: z.array(z.string()).readonly(),
  }),
  tagMutability: z.strictObject({ outcome: CheckOutcomeSchema, reason: MutabilityReasonSchema }),
});
export type PushChecks = z.output<typeof PushChecksSchema>;

/** The "Image Push Verdict" event's detail: the push policy's judgement of one pushed image, and what was done. */
export const PushVerdictSchema = z.strictObject({
  /** The ECR event's id: a re-delivered event carries the same one. */
  eventId: z.string(),
  /** The ECR event's time (the push). */
  eventTime: z.string(),
  repositoryName: z.string().min(1),
  digest: z.string().min(1),
  /** The event's `image-tag` (absent for a push by digest). */
  pushedTag: z.string().optional(),
  /** The tags judged, sorted: the image's tags, and the pushed tag when it was removed since the push. */
  tags: z.array(z.string()),
  kind: ImageKindSchema.optional(),
  status: PushVerdictStatusSchema,
  skipped: z.strictObject({ code: SkipCodeSchema, message: z.string() }).optional(),
  /** The policy rule that matched (index into push.rules), its mode, and whether the run was a dry run. */
  ruleIndex: z.number().int().min(0).optional(),
  mode: z.enum(['report', 'enforce']).optional(),
  dryRun: z.boolean(),
  /** Absent when skipped. */
  checks: PushChecksSchema.optional(),
  actions: z.array(PushActionSchema),
});
export type PushVerdict = z.output<typeof PushVerdictSchema>;
