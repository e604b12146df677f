import { conventionTagSubject, type ImageRecord, isIndex } from '../domain/image.ts';
import type { ItemFailure } from '../ecr/index.ts';
import { buildImageGraph, type CleanupPlan } from '../policy/cleanup/plan.ts';
import type { CleanupGateway } from './gateway.ts';
import { linksOf, mayBeReferrer } from './gather.ts';

/** Clocks of this process and of ECR may disagree by this much when telling our own reads from others' pulls. */
const OWN_READ_CLOCK_SKEW_MS = 5_000;

/** Deletions are sent in batches of this size (BatchDeleteImage's cap), checking the deadline between batches. */
const DELETE_BATCH = 100;

export interface ExecuteOptions {
  /** Milliseconds left before the invocation must hand over; deletion stops when it falls below `reserveMs`. */
  remainingMs?: () => number;
  reserveMs?: number;
  /** Manifests the gather read itself (a pull ECR records): a pull time at or after `since` on them is ours. */
  ownReads?: { digests: ReadonlySet<string>; since: number };
}

/** Why a planned deletion was not carried out: the registry changed since the plan in a way that may need it. */
export type ChangeReason =
  /** It gained a tag. */
  | { code: 'tag-gained'; tags: string[] }
  /** Someone pulled it (not the gather's own manifest read). */
  | { code: 'pulled'; lastPulledAt: string }
  /** It was pushed again or its tags changed otherwise. */
  | { code: 'changed' }
  /** An index pushed (or first seen) since the plan lists it. */
  | { code: 'new-parent'; via: string }
  /** A referrer (OCI `subject` or cosign convention tag) added since the plan names it. */
  | { code: 'new-referrer'; via: string }
  /**
   * An index pushed since the plan (or, on ECR Public, an image that may be a referrer) could not be read, so
   * whether it names this candidate is unknown.
   */
  | { code: 'unreadable-new-index'; via: string }
  /** A child or referrer of a candidate kept for one of the reasons above: kept with it. */
  | { code: 'kept-with'; via: string; edge: 'child' | 'referrer' };

export interface ChangedSincePlan {
  digest: string;
  reason: ChangeReason;
}

export interface ExecutionResult {
  /** The plan carried out: the one given, never made again. */
  plan: CleanupPlan;
  deleted: string[];
  alreadyGone: string[];
  failed: ItemFailure[];
  /** Candidates that changed since planning (a tag, a pull, a push naming them), and are kept. */
  changedSincePlan: string[];
  /** Candidates kept because a candidate they belong to (a child, a referrer) changed since planning. */
  keptWithChanged: string[];
  /** Every candidate kept since the plan, with the reason; `changedSincePlan` first, then `keptWithChanged`. */
  changes: ChangedSincePlan[];
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
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * How an image changed in a way that could change its fate, or undefined: a tag, a push, or a pull — except a pull
 * that is the gather's own manifest read (ECR records one unless the caller is excluded from pull-time updates).
 */
export function changeOf(before: ImageRecord, after: ImageRecord, ownRead: boolean): ChangeReason | undefined {
  const had = new Set(realTags(before));
  const gained = realTags(after).filter((tag) => !had.has(tag));
  if (gained.length > 0) return { code: 'tag-gained', tags: gained.sort() };
  if ((after.lastPulledAt ?? 0) > (before.lastPulledAt ?? 0) && !ownRead) {
    return { code: 'pulled', lastPulledAt: iso(after.lastPulledAt ?? 0) };
  }
  if (after.pushedAt !== before.pushedAt) return { code: 'changed' };
  if ([...after.tags].sort().join(',') !== [...before.tags].sort().join(',')) return { code: 'changed' };
  return undefined;
}

/**
 * The references to candidates made since the plan: an image the plan did not see (pushed since) that lists a
 * candidate as a child (an index: its manifest is read) or names it as its subject (in the listing, or on ECR Public
 * in its manifest, read for every image that may be a referrer), and any image with a convention
 * tag naming a candidate that it did not carry at planning time. Lists the repository once (DescribeImages pages).
 */
async function referencesSincePlan(
  gateway: CleanupGateway,
  repositoryName: string,
  planned: ReadonlyMap<string, ImageRecord>,
  candidates: ReadonlySet<string>,
): Promise<ChangedSincePlan[]> {
  const found: ChangedSincePlan[] = [];
  const toRead: string[] = [];
  for await (const page of gateway.listImages(repositoryName)) {
    for (const image of page) {
      const before = planned.get(image.digest);
      const hadTags = new Set(before?.tags ?? []);
      for (const tag of image.tags) {
        const subject = conventionTagSubject(tag);
        if (subject !== undefined && !hadTags.has(tag) && candidates.has(subject) && subject !== image.digest) {
          found.push({ digest: subject, reason: { code: 'new-referrer', via: image.digest } });
        }
      }
      if (before !== undefined) continue;
      const subject = image.subjectDigest;
      if (subject !== undefined && candidates.has(subject) && subject !== image.digest) {
        found.push({ digest: subject, reason: { code: 'new-referrer', via: image.digest } });
      }
      // Where the listing names no subject (ECR Public), a new image that may be a referrer is read for it.
      if (isIndex(image) || (gateway.describesSubjects === false && mayBeReferrer(image))) toRead.push(image.digest);
    }
  }
  if (toRead.length === 0) return found;
  const { manifests, failures } = await gateway.getManifests(repositoryName, toRead);
  const unreadable = (via: string) => {
    for (const digest of candidates) found.push({ digest, reason: { code: 'unreadable-new-index', via } });
  };
  for (const manifest of manifests) {
    let links: ReturnType<typeof linksOf>;
    try {
      links = linksOf(manifest.manifest);
    } catch {
      unreadable(manifest.digest);
      continue;
    }
    for (const child of links.children) {
      if (candidates.has(child) && child !== manifest.digest) {
        found.push({ digest: child, reason: { code: 'new-parent', via: manifest.digest } });
      }
    }
    const subject = links.subject;
    if (subject !== undefined && candidates.has(subject) && subject !== manifest.digest) {
      found.push({ digest: subject, reason: { code: 'new-referrer', via: manifest.digest } });
    }
  }
  // An index gone again lists nothing; any other failure leaves its children unknown, so nothing is deleted.
  for (const failure of failures)
    if (failure.code !== 'ImageNotFound') unreadable(failure.digest ?? failure.tag ?? '?');
  return found;
}

/**
 * Carries out the plan it is given, never another: re-reads the candidates just before deleting (DescribeImages by
 * digest) and keeps any that gained a tag or a pull or changed since planning; lists the repository for images
 * pushed since the plan and keeps any candidate such an image lists as a child or names as its subject (a graph
 * read before those pushes cannot know these edges); keeps, with every candidate kept so, its children and
 * referrers in the plan's graph, transitively. What is kept is reported as data (`changes`). Then deletes the rest
 * of the plan's list in its order (parents before children) in batches of 100, stopping early when the deadline
 * comes near. Only digests the plan selected are ever deleted.
 *
 * `images` is what the plan was made from (the gather's snapshot): its graph and its records to compare with.
 */
export async function executePlan(
  gateway: CleanupGateway,
  images: readonly ImageRecord[],
  plan: CleanupPlan,
  options: ExecuteOptions = {},
): Promise<ExecutionResult> {
  const result: ExecutionResult = {
    plan,
    deleted: [],
    alreadyGone: [],
    failed: [],
    changedSincePlan: [],
    keptWithChanged: [],
    changes: [],
    remaining: [],
  };
  if (plan.toDelete.length === 0) return result;
  const candidates = new Set(plan.toDelete);
  const byDigest = new Map(images.map((image) => [image.digest, image]));

  // 1. Re-read the candidates.
  const fresh = await gateway.describeImages(plan.repositoryName, plan.toDelete);
  const missing = new Set(fresh.missing);
  const ownReads = options.ownReads;
  const isOwnRead = (image: ImageRecord) =>
    ownReads?.digests.has(image.digest) === true &&
    image.lastPulledAt !== undefined &&
    image.lastPulledAt >= (ownReads?.since ?? 0) - OWN_READ_CLOCK_SKEW_MS;
  const changed = new Map<string, ChangeReason>();
  for (const image of fresh.images) {
    const before = byDigest.get(image.digest);
    const reason = before === undefined ? { code: 'changed' as const } : changeOf(before, image, isOwnRead(image));
    if (reason !== undefined && !changed.has(image.digest)) changed.set(image.digest, reason);
  }

  // 2. Images pushed (or re-tagged as referrers) since the plan that name a candidate.
  for (const { digest, reason } of await referencesSincePlan(gateway, plan.repositoryName, byDigest, candidates)) {
    if (!changed.has(digest) && !missing.has(digest)) changed.set(digest, reason);
  }

  // 3. What a changed candidate protects is kept with it: its children and referrers, transitively.
  const graph = buildImageGraph(images);
  const keptWith = new Map<string, ChangeReason>();
  const queue = [...changed.keys()];
  for (let digest = queue.shift(); digest !== undefined; digest = queue.shift()) {
    const edges = [
      ...(graph.children.get(digest) ?? []).map((to) => ({ to, edge: 'child' as const })),
      ...(graph.referrers.get(digest) ?? []).map((to) => ({ to, edge: 'referrer' as const })),
    ];
    for (const { to, edge } of edges) {
      if (!candidates.has(to) || changed.has(to) || keptWith.has(to)) continue;
      keptWith.set(to, { code: 'kept-with', via: digest, edge });
      queue.push(to);
    }
  }
  result.changedSincePlan = [...changed.keys()];
  result.keptWithChanged = [...keptWith.keys()];
  result.changes = [
    ...[...changed].map(([digest, reason]) => ({ digest, reason })),
    ...[...keptWith].map(([digest, reason]) => ({ digest, reason })),
  ];
  result.alreadyGone.push(...missing);
  const toDelete = plan.toDelete.filter(
    (digest) => !missing.has(digest) && !changed.has(digest) && !keptWith.has(digest),
  );

  // 4. Delete, parents first, in batches, minding the deadline.
  const reserveMs = options.reserveMs ?? 0;
  for (let start = 0; start < toDelete.length; start += DELETE_BATCH) {
    if (options.remainingMs && options.remainingMs() < reserveMs) {
      result.remaining = toDelete.slice(start);
      break;
    }
    const outcome = await gateway.deleteImages(plan.repositoryName, toDelete.slice(start, start + DELETE_BATCH));
    result.deleted.push(...outcome.deleted);
    result.alreadyGone.push(...outcome.alreadyGone);
    result.failed.push(...outcome.failed);
  }
  return result;
}

/**
 * Checks that every image the plan keeps (and every candidate kept since, `keptSincePlan`) still resolves whole: each child it lists and each referrer it has is still
 * in the repository (DescribeImages by digest over just those edges). Throws `IntegrityError` naming the broken
 * edges; a failure here means something else deleted images during the run, or a bug.
 */
export async function verifyKeptImagesWhole(
  gateway: CleanupGateway,
  images: readonly ImageRecord[],
  plan: CleanupPlan,
  deleted: ReadonlySet<string>,
  keptSincePlan: ReadonlySet<string> = new Set(),
): Promise<{ checked: number }> {
  const graph = buildImageGraph(images);
  const kept = plan.decisions.filter(
    (decision) => (decision.action === 'keep' || keptSincePlan.has(decision.digest)) && !deleted.has(decision.digest),
  );
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
