/**
 * The lifecycle policy evaluator: which images of one repository a (checked) policy expires or archives now, and why
 * each other image stays. Pure: the images and "now" are parameters, nothing is read or changed. The semantics are
 * the user guide's ([UG-LCP], summarised in lifecycle/README.md with the choices made where the guide is silent).
 *
 * Cost: one sort of the images by push time, then O(images × rules) selection tests (each tag test is linear in the
 * tag and pattern lengths, see tag-match.ts), then O(images + references) for manifest lists and referrers.
 */

import type { LifecyclePolicy, LifecycleRule, LifecycleStorageClass } from './document.ts';
import { patternSelector, prefixSelector, type TagSelector } from './tag-match.ts';

const DAY_MS = 86_400_000;

/** One image of the repository, as the evaluation needs it. Times are epoch milliseconds. */
export interface LifecycleImage {
  digest: string;
  tags: readonly string[];
  pushedAt: number;
  /** The last recorded pull; undefined when never pulled. */
  lastPulledAt?: number;
  /** When the image was last restored from the archive. */
  lastActivatedAt?: number;
  /** When the image was last moved to the archive. */
  lastArchivedAt?: number;
  storageClass: LifecycleStorageClass;
  /** Digests of the manifest lists (image indexes) that list this image. */
  referencedByIndex?: readonly string[];
  /** The digest this image refers to (OCI `subject`): a signature, SBOM or other referrer. */
  subjectDigest?: string;
}

export type LifecycleAction = { type: 'expire' } | { type: 'transition'; targetStorageClass: 'archive' };

/** An image the policy acts on: the shape of a GetLifecyclePolicyPreview result item. */
export interface LifecycleImageAction {
  digest: string;
  tags: readonly string[];
  pushedAt: number;
  storageClass: LifecycleStorageClass;
  /** The rule that decided: the image's own, or its subject's for a referrer (see `followsSubject`). */
  appliedRulePriority: number;
  action: LifecycleAction;
  /** Set when the image is a referrer acted on because its subject is. */
  followsSubject?: string;
}

/** Why an image is not acted on. */
export type LifecycleKeepReason =
  /** No rule's selection (tag status, tags, storage class) matches the image. */
  | { kind: 'not-selected' }
  /** The first rule that selects the image keeps it: it is among the rule's `countNumber` newest (1-based `rank`). */
  | { kind: 'within-count'; rulePriority: number; countNumber: number; rank: number }
  /** The first rule that selects the image keeps it: not older than `countNumber` days by the rule's clock. */
  | { kind: 'too-young'; rulePriority: number; countType: LifecycleRule['selection']['countType']; ageDays: number }
  /**
   * A lower-priority rule (`wouldActRulePriority`) would act on the image, but a higher-priority rule
   * (`rulePriority`) selects it and keeps it (`keptBy`), and an image matching a higher-priority rule's selection
   * cannot be acted on by a lower-priority rule.
   */
  | {
      kind: 'selected-by-higher-priority-rule';
      rulePriority: number;
      keptBy: 'within-count' | 'too-young';
      wouldActRulePriority: number;
    }
  /** A rule acts on the image, but a manifest list that lists it (`indexDigest`) is not acted on in the same way. */
  | { kind: 'child-of-kept-index'; indexDigest: string; withheldRulePriority: number }
  /** A referrer whose subject stays: referrers are not selected by rules while their subject is in the repository. */
  | { kind: 'referrer-of-kept-subject'; subjectDigest: string }
  /** A referrer already in the archive whose subject is being archived. */
  | { kind: 'already-archived'; subjectDigest: string };

export interface LifecycleKeptImage {
  digest: string;
  tags: readonly string[];
  pushedAt: number;
  storageClass: LifecycleStorageClass;
  reason: LifecycleKeepReason;
}

/** The summary of a GetLifecyclePolicyPreview response (field names as in ECR's model). */
export interface LifecyclePreviewSummary {
  expiringImageTotalCount: number;
  /** Present only when at least one image is transitioned, as ECR's model documents. */
  transitioningImageTotalCounts?: { targetStorageClass: 'ARCHIVE'; imageTotalCount: number }[];
}

export interface LifecycleEvaluation {
  /** The images acted on, in input order. */
  actions: LifecycleImageAction[];
  /** Every other image with its reason, in input order. */
  kept: LifecycleKeptImage[];
  summary: LifecyclePreviewSummary;
}

interface CompiledRule {
  readonly rule: LifecycleRule;
  readonly tags: TagSelector | undefined;
  readonly action: LifecycleAction;
  readonly maxAgeMs: number;
  /** Candidates seen so far, newest first (for imageCountMoreThan). */
  seen: number;
}

function compileRule(rule: LifecycleRule): CompiledRule {
  const { selection } = rule;
  let tags: TagSelector | undefined;
  if (selection.tagStatus === 'tagged') {
    tags = selection.tagPatternList
      ? patternSelector(selection.tagPatternList)
      : prefixSelector(selection.tagPrefixList ?? []);
  }
  const action: LifecycleAction =
    rule.action.type === 'expire' ? { type: 'expire' } : { type: 'transition', targetStorageClass: 'archive' };
  return { rule, tags, action, maxAgeMs: selection.countNumber * DAY_MS, seen: 0 };
}

function selects(compiled: CompiledRule, image: LifecycleImage): boolean {
  const { selection } = compiled.rule;
  if (selection.storageClass !== image.storageClass) return false;
  switch (selection.tagStatus) {
    case 'any':
      return true;
    case 'untagged':
      return image.tags.length === 0;
    case 'tagged':
      return image.tags.length > 0 && (compiled.tags as TagSelector)(image.tags);
  }
}

/** The time a `since*` count is measured from. */
function clockOf(rule: LifecycleRule, image: LifecycleImage, now: number): number {
  switch (rule.selection.countType) {
    case 'sinceImagePulled': {
      // The last pull, or the last restore when that is later (a restored image starts a new pull history); an
      // image never pulled nor restored counts from its push.
      const pulled = image.lastPulledAt;
      const activated = image.lastActivatedAt;
      if (pulled === undefined && activated === undefined) return image.pushedAt;
      return Math.max(pulled ?? Number.NEGATIVE_INFINITY, activated ?? Number.NEGATIVE_INFINITY);
    }
    case 'sinceImageTransitioned':
      // An archived image always has its archive time; without one the image counts as archived just now.
      return image.lastArchivedAt ?? now;
    default:
      return image.pushedAt;
  }
}

/** The first rule (by priority) that selects an image, and what it decided. */
interface Claim {
  rule: CompiledRule;
  acts: boolean;
  rank: number;
  ageDays: number;
  /** The first lower-priority rule whose own evaluation acts on the image, when the claiming rule keeps it. */
  wouldAct?: number;
}

/**
 * Evaluates a policy (as `checkLifecyclePolicy` returns it) over a repository's images at `now` (epoch ms).
 *
 * @example
 * const check = checkLifecyclePolicy(text);
 * if (check.valid) {
 *   const { actions, summary } = evaluateLifecyclePolicy(check.policy, images, Date.now());
 * }
 */
export function evaluateLifecyclePolicy(
  policy: LifecyclePolicy,
  images: readonly LifecycleImage[],
  now: number,
): LifecycleEvaluation {
  const byDigest = new Map<string, LifecycleImage>();
  for (const image of images) {
    if (byDigest.has(image.digest)) throw new Error(`invariant: the image ${image.digest} is listed twice`);
    byDigest.set(image.digest, image);
  }
  // Referrers whose subject is in the repository follow it; a referrer whose subject is gone is an ordinary image.
  const follows = (image: LifecycleImage) => image.subjectDigest !== undefined && byDigest.has(image.subjectDigest);

  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority).map(compileRule);

  // Newest first; equal push times in digest order, so that the result does not depend on the input order.
  const newestFirst = images
    .filter((image) => !follows(image))
    .sort((a, b) => b.pushedAt - a.pushedAt || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));

  // Every rule sees every image its selection matches, including those a higher-priority rule selects: its count
  // includes them [UG-LCP examples, "Filtering on multiple rules"]. Only the first rule selecting an image may act.
  const claims = new Map<string, Claim>();
  for (const image of newestFirst) {
    let claim: Claim | undefined;
    for (const compiled of rules) {
      if (!selects(compiled, image)) continue;
      compiled.seen += 1;
      const { selection } = compiled.rule;
      let acts: boolean;
      let ageDays = 0;
      if (selection.countType === 'imageCountMoreThan') {
        acts = compiled.seen > selection.countNumber;
      } else {
        const age = now - clockOf(compiled.rule, image, now);
        ageDays = Math.floor(age / DAY_MS);
        acts = age > compiled.maxAgeMs;
      }
      if (claim === undefined) {
        claim = { rule: compiled, acts, rank: compiled.seen, ageDays };
      } else if (acts && claim.wouldAct === undefined) {
        claim.wouldAct = compiled.rule.rulePriority;
      }
    }
    if (claim) claims.set(image.digest, claim);
  }

  // Provisional actions: by the claiming rule, or (referrers) the subject's, resolved along chains of referrers.
  const actionOf = new Map<string, { action: LifecycleAction; rulePriority: number }>();
  const reasonOf = new Map<string, LifecycleKeepReason>();
  for (const image of newestFirst) {
    const claim = claims.get(image.digest);
    if (claim?.acts) {
      actionOf.set(image.digest, { action: claim.rule.action, rulePriority: claim.rule.rule.rulePriority });
    }
  }
  const referrersOf = new Map<string, string[]>();
  const followers = images.filter(follows);
  for (const image of followers) {
    const subject = image.subjectDigest as string;
    const list = referrersOf.get(subject);
    if (list) list.push(image.digest);
    else referrersOf.set(subject, [image.digest]);
  }
  // Breadth-first from the images that follow no one, so that a chain of referrers resolves in one pass; a cycle
  // of referrers (possible only in made-up input) is never reached and stays.
  const followerAction = (image: LifecycleImage, subjectDigest: string) => {
    const subject = actionOf.get(subjectDigest);
    if (subject === undefined) return;
    if (subject.action.type === 'transition' && image.storageClass === 'archive') {
      reasonOf.set(image.digest, { kind: 'already-archived', subjectDigest });
      return;
    }
    actionOf.set(image.digest, subject);
  };
  const queue: string[] = newestFirst.map((image) => image.digest);
  for (let head = 0; head < queue.length; head++) {
    for (const referrer of referrersOf.get(queue[head] as string) ?? []) {
      followerAction(byDigest.get(referrer) as LifecycleImage, queue[head] as string);
      queue.push(referrer);
    }
  }

  // Manifest lists and referrers, to a fixed point: an image stays when a list that lists it stays (an expired
  // image needs every list expired, an archived one every list expired or archived); a referrer stays with its
  // subject. Withdrawing an action only ever withdraws more, so each image is withdrawn at most once.
  const childrenOf = new Map<string, string[]>();
  for (const image of images) {
    for (const index of image.referencedByIndex ?? []) {
      const list = childrenOf.get(index);
      if (list) list.push(image.digest);
      else childrenOf.set(index, [image.digest]);
    }
  }
  const blockedBy = (image: LifecycleImage, own: { action: LifecycleAction }): string | undefined => {
    for (const index of image.referencedByIndex ?? []) {
      const listAction = actionOf.get(index);
      if (listAction === undefined) return index;
      if (own.action.type === 'expire' && listAction.action.type !== 'expire') return index;
    }
    return undefined;
  };
  const pending = [...actionOf.keys()];
  while (pending.length > 0) {
    const digest = pending.pop() as string;
    const own = actionOf.get(digest);
    if (own === undefined) continue;
    const image = byDigest.get(digest) as LifecycleImage;
    const subject = follows(image) ? (image.subjectDigest as string) : undefined;
    let reason: LifecycleKeepReason | undefined;
    if (subject !== undefined && !actionOf.has(subject)) {
      // A referrer's action is its subject's, and actions are only ever withdrawn: it stays when its subject does.
      reason = { kind: 'referrer-of-kept-subject', subjectDigest: subject };
    } else {
      const index = blockedBy(image, own);
      if (index !== undefined)
        reason = { kind: 'child-of-kept-index', indexDigest: index, withheldRulePriority: own.rulePriority };
    }
    if (reason === undefined) continue;
    actionOf.delete(digest);
    reasonOf.set(digest, reason);
    for (const child of childrenOf.get(digest) ?? []) pending.push(child);
    for (const referrer of referrersOf.get(digest) ?? []) pending.push(referrer);
  }

  const actions: LifecycleImageAction[] = [];
  const kept: LifecycleKeptImage[] = [];
  let expiring = 0;
  let transitioning = 0;
  for (const image of images) {
    const base = { digest: image.digest, tags: image.tags, pushedAt: image.pushedAt, storageClass: image.storageClass };
    const decided = actionOf.get(image.digest);
    if (decided !== undefined) {
      const entry: LifecycleImageAction = {
        ...base,
        appliedRulePriority: decided.rulePriority,
        action: decided.action,
      };
      if (follows(image)) entry.followsSubject = image.subjectDigest as string;
      actions.push(entry);
      if (decided.action.type === 'expire') expiring += 1;
      else transitioning += 1;
      continue;
    }
    kept.push({ ...base, reason: reasonOf.get(image.digest) ?? keepReason(image, claims, follows(image)) });
  }
  const summary: LifecyclePreviewSummary = { expiringImageTotalCount: expiring };
  if (transitioning > 0) {
    summary.transitioningImageTotalCounts = [{ targetStorageClass: 'ARCHIVE', imageTotalCount: transitioning }];
  }
  return { actions, kept, summary };
}

function keepReason(image: LifecycleImage, claims: Map<string, Claim>, follower: boolean): LifecycleKeepReason {
  if (follower) return { kind: 'referrer-of-kept-subject', subjectDigest: image.subjectDigest as string };
  const claim = claims.get(image.digest);
  if (claim === undefined) return { kind: 'not-selected' };
  const { rule } = claim.rule;
  const keptBy = rule.selection.countType === 'imageCountMoreThan' ? 'within-count' : 'too-young';
  if (claim.wouldAct !== undefined) {
    return {
      kind: 'selected-by-higher-priority-rule',
      rulePriority: rule.rulePriority,
      keptBy,
      wouldActRulePriority: claim.wouldAct,
    };
  }
  if (keptBy === 'within-count') {
    return {
      kind: 'within-count',
      rulePriority: rule.rulePriority,
      countNumber: rule.selection.countNumber,
      rank: claim.rank,
    };
  }
  return {
    kind: 'too-young',
    rulePriority: rule.rulePriority,
    countType: rule.selection.countType,
    ageDays: claim.ageDays,
  };
}
