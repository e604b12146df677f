import { conventionTagSubject, type ImageRecord } from '../domain/image.ts';
import type { EcrGateway, ItemFailure } from '../ecr/index.ts';
import { buildImageGraph, type CleanupPlan, type CleanupRule, planCleanup } from '../policy/cleanup/plan.ts';

/** Clocks of this process and of ECR may disagree by this much when telling our own reads from others' pulls. */
const OWN_READ_CLOCK_SKEW_MS = 5_000;

/** Deletions are sent in batches of this size (BatchDeleteImage's cap), checking the deadline between batches. */
const DELETE_BATCH = 100;

export interface ExecuteOptions {
  rule: CleanupRule;
  /** The plan's clock: a re-plan after re-reading uses the same `now`, so only real changes alter a decision. */
  now: number;
  /** Milliseconds left before the invocation must hand over; deletion stops when it falls below `reserveMs`. */
  remainingMs?: () => number;
  reserveMs?: number;
  /** Manifests the gather read itself (a pull ECR records): a pull time at or after `since` on them is ours. */
  ownReads?: { digests: ReadonlySet<string>; since: number };
}

export interface ExecutionResult {
  /** The plan actually carried out (after re-reading the candidates). */
  plan: CleanupPlan;
  deleted: string[];
  alreadyGone: string[];
  failed: ItemFailure[];
  /** Candidates that gained a tag or a pull (or changed otherwise) since planning, and are kept. */
  changedSincePlan: string[];
  /** Digests of the plan left for a follow-up invocation because the deadline came near. */
  remaining: string[];
}

/** A kept image no longer resolves whole after the run: a child or referrer it names is gone. */
export class IntegrityError extends Error {
  constructor(
    message: string,
    readonly brokenEdges: readonly { from: string; to: string; edge: 'child' | 'referrer' }[],
  ) {
    super(message);
    this.name = 'IntegrityError';
  }
}

const realTags = (image: ImageRecord) => image.tags.filter((tag) => conventionTagSubject(tag) === undefined);

/**
 * Whether an image changed in a way that could change its fate: a tag, a push, or a pull — except a pull that is the
 * gather's own manifest read (ECR records one unless the caller is excluded from pull-time updates).
 */
const changed = (before: ImageRecord, after: ImageRecord, ownRead: boolean) =>
  realTags(after).length > realTags(before).length ||
  ((after.lastPulledAt ?? 0) > (before.lastPulledAt ?? 0) && !ownRead) ||
  after.pushedAt !== before.pushedAt ||
  [...after.tags].sort().join(',') !== [...before.tags].sort().join(',');

/**
 * Carries out a plan: re-reads the candidates just before deleting (an image that gained a tag or a pull since
 * planning is kept, and the plan is made again from the fresh records so that whatever it protects is kept too),
 * then deletes parents before children in batches of 100, stopping early when the deadline comes near.
 * Only digests the original plan selected are ever deleted.
 */
export async function executePlan(
  gateway: EcrGateway,
  images: readonly ImageRecord[],
  original: CleanupPlan,
  options: ExecuteOptions,
): Promise<ExecutionResult> {
  const result: ExecutionResult = {
    plan: original,
    deleted: [],
    alreadyGone: [],
    failed: [],
    changedSincePlan: [],
    remaining: [],
  };
  if (original.toDelete.length === 0) return result;

  // 1. Re-read the candidates.
  const byDigest = new Map(images.map((image) => [image.digest, image]));
  const fresh = await gateway.describeImages(original.repositoryName, original.toDelete);
  const missing = new Set(fresh.missing);
  const ownReads = options.ownReads;
  const isOwnRead = (image: ImageRecord) =>
    ownReads?.digests.has(image.digest) === true &&
    image.lastPulledAt !== undefined &&
    image.lastPulledAt >= (ownReads?.since ?? 0) - OWN_READ_CLOCK_SKEW_MS;
  for (const image of fresh.images) {
    const before = byDigest.get(image.digest);
    if (before && changed(before, image, isOwnRead(image))) result.changedSincePlan.push(image.digest);
  }
  let plan = original;
  if (result.changedSincePlan.length > 0 || missing.size > 0) {
    const freshByDigest = new Map(fresh.images.map((image) => [image.digest, image]));
    const updated = images
      .filter((image) => !missing.has(image.digest))
      .map((image) => {
        const update = freshByDigest.get(image.digest);
        if (!update) return image;
        // Keep the planned pull time when the only pull since is the gather's own read.
        const lastPulledAt = isOwnRead(update) ? image.lastPulledAt : update.lastPulledAt;
        return { ...update, lastPulledAt, childDigests: image.childDigests };
      });
    plan = planCleanup(original.repositoryName, updated, options.rule, options.now);
    result.plan = plan;
  }
  result.alreadyGone.push(...missing);
  const allowed = new Set(original.toDelete);
  const toDelete = plan.toDelete.filter((digest) => allowed.has(digest) && !missing.has(digest));

  // 2. Delete, parents first, in batches, minding the deadline.
  const reserveMs = options.reserveMs ?? 0;
  for (let start = 0; start < toDelete.length; start += DELETE_BATCH) {
    if (options.remainingMs && options.remainingMs() < reserveMs) {
      result.remaining = toDelete.slice(start);
      break;
    }
    const outcome = await gateway.deleteImages(original.repositoryName, toDelete.slice(start, start + DELETE_BATCH));
    result.deleted.push(...outcome.deleted);
    result.alreadyGone.push(...outcome.alreadyGone);
    result.failed.push(...outcome.failed);
  }
  return result;
}

/**
 * Checks that every image the plan keeps still resolves whole: each child it lists and each referrer it has is still
 * in the repository (DescribeImages by digest over just those edges). Throws `IntegrityError` naming the broken
 * edges; a failure here means something else deleted images during the run, or a bug.
 */
export async function verifyKeptImagesWhole(
  gateway: EcrGateway,
  images: readonly ImageRecord[],
  plan: CleanupPlan,
  deleted: ReadonlySet<string>,
): Promise<{ checked: number }> {
  const graph = buildImageGraph(images);
  const kept = plan.decisions.filter((decision) => decision.action === 'keep' && !deleted.has(decision.digest));
  const edges: { from: string; to: string; edge: 'child' | 'referrer' }[] = [];
  for (const decision of kept) {
    for (const child of graph.children.get(decision.digest) ?? [])
      edges.push({ from: decision.digest, to: child, edge: 'child' });
    for (const referrer of graph.referrers.get(decision.digest) ?? []) {
      edges.push({ from: decision.digest, to: referrer, edge: 'referrer' });
    }
  }
  const targets = [...new Set(edges.map((edge) => edge.to))];
  if (targets.length === 0) return { checked: 0 };
  const { missing } = await gateway.describeImages(plan.repositoryName, targets);
  const gone = new Set(missing);
  const broken = edges.filter((edge) => gone.has(edge.to));
  if (broken.length > 0) {
    throw new IntegrityError(
      `${plan.repositoryName}: ${broken.length} kept image edge(s) broken after cleanup: ${broken
        .slice(0, 20)
        .map((edge) => `${edge.from} -${edge.edge}-> ${edge.to}`)
        .join(', ')}`,
      broken,
    );
  }
  return { checked: targets.length };
}
