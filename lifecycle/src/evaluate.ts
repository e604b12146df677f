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
  /**
   * A rule acts on the image, but a manifest list that lists it (`indexDigest`) stays: it is not acted on, or (for an
   * image to be expired) it is only archived.
   */
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
  // One action object per rule, shared by the result entries it decides: frozen, so that no caller changes another's.
  const action: LifecycleAction = Object.freeze(
    rule.action.type === 'expire' ? { type: 'expire' } : { type: 'transition', targetStorageClass: 'archive' },
  );
  return { rule, tags, action, maxAgeMs: selection.countNumber * DAY_MS, seen: 0 };
}

/**
 * The per-image facts the rules read, copied once out of the caller's objects into arrays indexed by input position
 * (the objects come in many shapes, with and without the optional fields, and reading them once keeps the loops
 * over rules fast).
 */
interface Facts {
  readonly tags: (readonly string[])[];
  readonly archived: Uint8Array;
  readonly pushedAt: Float64Array;
  /** The `sinceImagePulled` clock. */
  readonly pulledClock: Float64Array;
  /** The `sinceImageTransitioned` clock. */
  readonly archivedClock: Float64Array;
}

function readFacts(images: readonly LifecycleImage[], now: number): Facts {
  const count = images.length;
  const facts: Facts = {
    tags: new Array(count),
    archived: new Uint8Array(count),
    pushedAt: new Float64Array(count),
    pulledClock: new Float64Array(count),
    archivedClock: new Float64Array(count),
  };
  for (let i = 0; i < count; i++) {
    const image = images[i] as LifecycleImage;
    facts.tags[i] = image.tags;
    facts.archived[i] = image.storageClass === 'archive' ? 1 : 0;
    facts.pushedAt[i] = image.pushedAt;
    // The last pull, or the last restore when that is later (a restored image starts a new pull history); an image
    // never pulled nor restored counts from its push.
    const pulled = image.lastPulledAt;
    const activated = image.lastActivatedAt;
    facts.pulledClock[i] =
      pulled === undefined && activated === undefined
        ? image.pushedAt
        : Math.max(pulled ?? Number.NEGATIVE_INFINITY, activated ?? Number.NEGATIVE_INFINITY);
    // An archived image always has its archive time; without one the image counts as archived just now.
    facts.archivedClock[i] = image.lastArchivedAt ?? now;
  }
  return facts;
}

function selects(compiled: CompiledRule, facts: Facts, i: number): boolean {
  const { selection } = compiled.rule;
  if ((selection.storageClass === 'archive') !== (facts.archived[i] === 1)) return false;
  const tags = facts.tags[i] as readonly string[];
  switch (selection.tagStatus) {
    case 'any':
      return true;
    case 'untagged':
      return tags.length === 0;
    case 'tagged':
      return tags.length > 0 && (compiled.tags as TagSelector)(tags);
  }
}

/** The time a `since*` count is measured from. */
function clockOf(rule: LifecycleRule, facts: Facts, i: number): number {
  switch (rule.selection.countType) {
    case 'sinceImagePulled':
      return facts.pulledClock[i] as number;
    case 'sinceImageTransitioned':
      return facts.archivedClock[i] as number;
    default:
      return facts.pushedAt[i] as number;
  }
}

const NONE = -1;
/** Action codes in the typed arrays below. */
const KEEP = 0;
const EXPIRE = 1;
const TRANSITION = 2;

/**
 * Evaluates a policy (as `checkLifecyclePolicy` returns it) over a repository's images at `now` (epoch ms).
 *
 * @example
 * const check = checkLifecyclePolicy(text);
 * if (check.valid) {
 *   const { actions, summary } = evaluateLifecyclePolicy(check.policy, images, now);
 * }
 */
export function evaluateLifecyclePolicy(
  policy: LifecyclePolicy,
  images: readonly LifecycleImage[],
  now: number,
): LifecycleEvaluation {
  // Images are numbered by their input position; every per-image fact below is an array indexed by that number.
  const count = images.length;
  const positionOf = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const digest = (images[i] as LifecycleImage).digest;
    if (positionOf.has(digest)) throw new Error(`invariant: the image ${digest} is listed twice`);
    positionOf.set(digest, i);
  }
  const facts = readFacts(images, now);
  // Referrers whose subject is in the repository follow it; a referrer whose subject is gone is an ordinary image.
  const subjectOf = new Int32Array(count).fill(NONE);
  const referrersOf: (number[] | undefined)[] = new Array(count);
  // The lists that list each image (NONE for a list that is not in the repository), and each list's children.
  const listsOf: (number[] | undefined)[] = new Array(count);
  const childrenOf: (number[] | undefined)[] = new Array(count);
  const order: number[] = [];
  for (let i = 0; i < count; i++) {
    const image = images[i] as LifecycleImage;
    const subject = image.subjectDigest === undefined ? undefined : positionOf.get(image.subjectDigest);
    if (subject === undefined) order.push(i);
    else {
      subjectOf[i] = subject;
      appendTo(referrersOf, subject, i);
    }
    const lists = image.referencedByIndex;
    if (lists === undefined || lists.length === 0) continue;
    const positions: number[] = [];
    for (const list of lists) {
      const position = positionOf.get(list) ?? NONE;
      positions.push(position);
      if (position !== NONE) appendTo(childrenOf, position, i);
    }
    listsOf[i] = positions;
  }

  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority).map(compileRule);

  // Newest first; equal push times in digest order, so that the result does not depend on the input order.
  const pushedAt = facts.pushedAt;
  order.sort((a, b) => {
    const newer = (pushedAt[b] as number) - (pushedAt[a] as number);
    if (newer !== 0) return newer;
    const left = (images[a] as LifecycleImage).digest;
    const right = (images[b] as LifecycleImage).digest;
    return left < right ? -1 : left > right ? 1 : 0;
  });

  // Every rule sees every image its selection matches, including those a higher-priority rule selects: its count
  // includes them [UG-LCP examples, "Filtering on multiple rules"]. Only the first rule selecting an image may act.
  const claimRule = new Int32Array(count).fill(NONE);
  const claimActs = new Uint8Array(count);
  const claimRank = new Int32Array(count);
  const claimAgeDays = new Float64Array(count);
  const wouldAct = new Int32Array(count).fill(NONE);
  const action = new Uint8Array(count);
  const actionRule = new Int32Array(count).fill(NONE);
  for (const i of order) {
    for (let r = 0; r < rules.length; r++) {
      const compiled = rules[r] as CompiledRule;
      if (!selects(compiled, facts, i)) continue;
      compiled.seen += 1;
      const { selection } = compiled.rule;
      let acts: boolean;
      let age = 0;
      if (selection.countType === 'imageCountMoreThan') {
        acts = compiled.seen > selection.countNumber;
      } else {
        age = now - clockOf(compiled.rule, facts, i);
        acts = age > compiled.maxAgeMs;
      }
      if (claimRule[i] === NONE) {
        claimRule[i] = r;
        claimActs[i] = acts ? 1 : 0;
        claimRank[i] = compiled.seen;
        claimAgeDays[i] = Math.floor(age / DAY_MS);
        if (acts) {
          action[i] = compiled.action.type === 'expire' ? EXPIRE : TRANSITION;
          actionRule[i] = r;
        }
      } else if (acts && !claimActs[i] && wouldAct[i] === NONE) {
        wouldAct[i] = r;
      }
    }
  }

  // Referrers take their subject's action, breadth-first from the images that follow no one, so that chains of
  // referrers resolve in one pass; a cycle of referrers (possible only in made-up input) is never reached and stays.
  const reasons: (LifecycleKeepReason | undefined)[] = new Array(count);
  const queue = order.slice();
  for (let head = 0; head < queue.length; head++) {
    const subject = queue[head] as number;
    const referrers = referrersOf[subject];
    if (referrers === undefined) continue;
    for (const referrer of referrers) {
      queue.push(referrer);
      if (action[subject] === KEEP) continue;
      if (action[subject] === TRANSITION && (images[referrer] as LifecycleImage).storageClass === 'archive') {
        reasons[referrer] = { kind: 'already-archived', subjectDigest: (images[subject] as LifecycleImage).digest };
        continue;
      }
      action[referrer] = action[subject] as number;
      actionRule[referrer] = actionRule[subject] as number;
    }
  }

  // Manifest lists and referrers, to a fixed point: an image stays when a list that lists it stays (an expired
  // image needs every list expired, an archived one every list expired or archived); a referrer stays with its
  // subject. Withdrawing an action only ever withdraws more, so each image is withdrawn at most once.
  const pending: number[] = [];
  for (let i = 0; i < count; i++) if (action[i] !== KEEP) pending.push(i);
  while (pending.length > 0) {
    const i = pending.pop() as number;
    const own = action[i] as number;
    if (own === KEEP) continue;
    const subject = subjectOf[i] as number;
    let reason: LifecycleKeepReason | undefined;
    if (subject !== NONE && action[subject] === KEEP) {
      reason = { kind: 'referrer-of-kept-subject', subjectDigest: (images[subject] as LifecycleImage).digest };
    } else {
      const lists = listsOf[i];
      if (lists !== undefined) {
        for (let l = 0; l < lists.length; l++) {
          const list = lists[l] as number;
          const listAction = list === NONE ? KEEP : (action[list] as number);
          if (listAction === KEEP || (own === EXPIRE && listAction !== EXPIRE)) {
            const indexDigest = (images[i] as LifecycleImage).referencedByIndex?.[l] as string;
            const withheldRulePriority = (rules[actionRule[i] as number] as CompiledRule).rule.rulePriority;
            reason = { kind: 'child-of-kept-index', indexDigest, withheldRulePriority };
            break;
          }
        }
      }
    }
    if (reason === undefined) continue;
    action[i] = KEEP;
    reasons[i] = reason;
    for (const child of childrenOf[i] ?? []) pending.push(child);
    for (const referrer of referrersOf[i] ?? []) pending.push(referrer);
  }

  const actions: LifecycleImageAction[] = [];
  const kept: LifecycleKeptImage[] = [];
  let expiring = 0;
  let transitioning = 0;
  for (let i = 0; i < count; i++) {
    const image = images[i] as LifecycleImage;
    const decided = action[i] as number;
    if (decided !== KEEP) {
      const compiled = rules[actionRule[i] as number] as CompiledRule;
      const entry: LifecycleImageAction = {
        digest: image.digest,
        tags: image.tags,
        pushedAt: image.pushedAt,
        storageClass: image.storageClass,
        appliedRulePriority: compiled.rule.rulePriority,
        action: compiled.action,
      };
      if (subjectOf[i] !== NONE) entry.followsSubject = image.subjectDigest as string;
      actions.push(entry);
      if (decided === EXPIRE) expiring += 1;
      else transitioning += 1;
      continue;
    }
    let reason = reasons[i];
    if (reason === undefined) {
      const subject = subjectOf[i] as number;
      const claimed = claimRule[i] as number;
      if (subject !== NONE) {
        reason = { kind: 'referrer-of-kept-subject', subjectDigest: image.subjectDigest as string };
      } else if (claimed === NONE) {
        reason = NOT_SELECTED;
      } else {
        const would = wouldAct[i] as number;
        reason = keepReason(
          (rules[claimed] as CompiledRule).rule,
          claimRank[i] as number,
          claimAgeDays[i] as number,
          would === NONE ? undefined : (rules[would] as CompiledRule).rule.rulePriority,
        );
      }
    }
    kept.push({
      digest: image.digest,
      tags: image.tags,
      pushedAt: image.pushedAt,
      storageClass: image.storageClass,
      reason,
    });
  }
  const summary: LifecyclePreviewSummary = { expiringImageTotalCount: expiring };
  if (transitioning > 0) {
    summary.transitioningImageTotalCounts = [{ targetStorageClass: 'ARCHIVE', imageTotalCount: transitioning }];
  }
  return { actions, kept, summary };
}

function appendTo(lists: (number[] | undefined)[], at: number, value: number): void {
  const list = lists[at];
  if (list === undefined) lists[at] = [value];
  else list.push(value);
}

const NOT_SELECTED: LifecycleKeepReason = Object.freeze({ kind: 'not-selected' });

/** Why the first rule that selects an image keeps it. */
function keepReason(
  rule: LifecycleRule,
  rank: number,
  ageDays: number,
  wouldAct: number | undefined,
): LifecycleKeepReason {
  const keptBy = rule.selection.countType === 'imageCountMoreThan' ? 'within-count' : 'too-young';
  if (wouldAct !== undefined) {
    return {
      kind: 'selected-by-higher-priority-rule',
      rulePriority: rule.rulePriority,
      keptBy,
      wouldActRulePriority: wouldAct,
    };
  }
  if (keptBy === 'within-count') {
    return { kind: 'within-count', rulePriority: rule.rulePriority, countNumber: rule.selection.countNumber, rank };
  }
  return { kind: 'too-young', rulePriority: rule.rulePriority, countType: rule.selection.countType, ageDays };
}
