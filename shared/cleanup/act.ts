import { conventionTagSubject, type ImageRecord, isConventionTag, isIndex } from '../domain/image.ts';
import {
  EcrGatewayError,
  ImageNotFoundError,
  type ItemFailure,
  ReadOnlyViolationError,
  RepositoryNotFoundError,
} from '../ecr/index.ts';
import { buildImageGraph, type CleanupPlan, decisionView, type ImageGraph } from '../policy/cleanup/plan.ts';
import { type CleanupGateway, EVERY_STATUS } from './gateway.ts';
import { linksOf, mayBeReferrer } from './gather.ts';

/** Clocks of this process and of ECR may disagree by this much when telling our own reads from others' pulls. */
const OWN_READ_CLOCK_SKEW_MS = 5_000;

/** Deletions are sent in batches of this size (BatchDeleteImage's cap), checking the deadline between batches. */
const DELETE_BATCH = 100;

/** Ids per DescribeImages by id (the cap of ECR's and ECR Public's `ImageIdentifierList`). */
export const DESCRIBE_IDS_PER_CALL = 100;

/** Images per DescribeImages page when listing (the gateways ask for the largest page, `MaxResults` 1000). */
export const LIST_PAGE_SIZE = 1_000;

/**
 * How the act reads what it needs to know about some images: `by-id` costs ceil(ids/100) DescribeImages calls,
 * `listing` ceil(images in the repository/1000) pages. The listing is chosen only when it costs strictly fewer
 * calls: by id, a read touches only the images it names.
 */
export function cheaperRead(ids: number, repositoryImages: number): 'by-id' | 'listing' {
  const byId = Math.ceil(ids / DESCRIBE_IDS_PER_CALL);
  const listing = Math.max(1, Math.ceil(repositoryImages / LIST_PAGE_SIZE));
  return byId > listing ? 'listing' : 'by-id';
}

export interface ExecuteOptions {
  /** Milliseconds left before the invocation must hand over; deletion stops when it falls below `reserveMs`. */
  remainingMs?: () => number;
  reserveMs?: number;
  /** Manifests the gather read itself (a pull ECR records): a pull time at or after `since` on them is ours. */
  ownReads?: { digests: ReadonlySet<string>; since: number };
  /** The graph of `images` (`buildImageGraph`), when the caller built it already for the plan. */
  graph?: ImageGraph;
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
  /** Images moved to ECR's archive (the plan's `toArchive`), in the order they were archived. */
  archived: string[];
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
  /** Images the act's listing of the repository saw before deleting; absent when it did not list (nothing to do). */
  listedImages?: number;
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

const realTags = (image: ImageRecord) => image.tags.filter((tag) => !isConventionTag(tag));
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * How an image changed in a way that could change its fate, or undefined: a tag, a push, or a pull — except a pull
 * that is the gather's own manifest read (ECR records one unless the caller is excluded from pull-time updates).
 */
export function changeOf(before: ImageRecord, after: ImageRecord, ownRead: boolean): ChangeReason | undefined {
  // Most candidates are listed with the very tags they had (usually none): then no tag can have been gained.
  const sameTags = sameList(before.tags, after.tags);
  if (!sameTags) {
    const had = new Set(realTags(before));
    const gained = realTags(after).filter((tag) => !had.has(tag));
    if (gained.length > 0) return { code: 'tag-gained', tags: gained.sort() };
  }
  if ((after.lastPulledAt ?? 0) > (before.lastPulledAt ?? 0) && !ownRead) {
    return { code: 'pulled', lastPulledAt: iso(after.lastPulledAt ?? 0) };
  }
  if (after.pushedAt !== before.pushedAt) return { code: 'changed' };
  if (!sameTags && [...after.tags].sort().join(',') !== [...before.tags].sort().join(',')) return { code: 'changed' };
  // Archived or restored since the plan: someone decided about it in the meantime.
  if (after.imageStatus !== before.imageStatus) return { code: 'changed' };
  return undefined;
}

/** Whether two tag lists are the same tags in the same order. */
function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What the act's one listing of the repository (DescribeImages pages) tells it, before anything is deleted. */
interface SincePlan {
  /** The candidates listed now (the re-read): a candidate not listed is gone. */
  candidates: Set<string>;
  /**
   * How each listed candidate changed since the plan (`changeOf`, compared as it is listed, so that the listing's
   * records are not held until the listing ends).
   */
  changes: Map<string, ChangeReason>;
  /** References to candidates made since the plan: by images pushed since, or by convention tags gained. */
  references: ChangedSincePlan[];
  /** Distinct images listed. */
  listed: number;
}

/**
 * Lists the repository once and takes from it both the re-read of the candidates (each compared, as it is listed,
 * with its record at planning time: `changeOf`; one missing from the listing is gone) and the references to
 * candidates made since the plan: an image the plan did not see (pushed since) that lists a candidate as a child (an
 * index: its manifest is read) or names it as its subject (in the listing, or on ECR Public in its manifest, read for
 * every image that may be a referrer), and any image with a convention tag naming a candidate that it did not carry
 * at planning time. The listing is needed for
 * images pushed since the plan whatever the number of candidates, so reading the candidates by id as well would
 * only add calls (ceil(candidates/100) DescribeImages by id).
 */
async function listSincePlan(
  gateway: CleanupGateway,
  repositoryName: string,
  planned: ReadonlyMap<string, ImageRecord>,
  candidates: ReadonlySet<string>,
  isOwnRead: (image: ImageRecord) => boolean,
): Promise<SincePlan> {
  const fresh = new Set<string>();
  const changes = new Map<string, ChangeReason>();
  const found: ChangedSincePlan[] = [];
  const toRead: string[] = [];
  // Digests listed that are not candidates (the candidates listed are `fresh`'s keys): a digest listed twice (on two
  // pages, as a repository changes while it is listed) counts once.
  const others = new Set<string>();
  for await (const page of gateway.listImages(repositoryName, EVERY_STATUS)) {
    for (const image of page) {
      const before = planned.get(image.digest);
      if (candidates.has(image.digest)) {
        // Added, then the size read: one lookup rather than a `has` and an `add` for each image listed.
        const count = fresh.size;
        if (fresh.add(image.digest).size === count) continue;
        const reason = before === undefined ? { code: 'changed' as const } : changeOf(before, image, isOwnRead(image));
        if (reason !== undefined) changes.set(image.digest, reason);
      } else {
        const count = others.size;
        if (others.add(image.digest).size === count) continue;
      }
      // The tags it had at planning time, read only for an image with a convention tag (few are).
      let hadTags: Set<string> | undefined;
      // Indexed: see buildImageGraph.
      const tags = image.tags;
      for (let at = 0; at < tags.length; at++) {
        const tag = tags[at] as string;
        const subject = conventionTagSubject(tag);
        if (subject === undefined) continue;
        hadTags ??= new Set(before?.tags ?? []);
        if (!hadTags.has(tag) && candidates.has(subject) && subject !== image.digest) {
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
  const result = { candidates: fresh, changes, references: found, listed: fresh.size + others.size };
  if (toRead.length === 0) return result;
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
  return result;
}

/**
 * Carries out the plan it is given, never another (its deletions, then its archivings): lists the repository just
 * before acting (DescribeImages pages), which serves both as the re-read of the candidates — it keeps any that
 * gained a tag or a pull or changed since planning, and counts one no longer listed as already gone — and as the
 * look at images pushed since the plan — it keeps any candidate such an image lists as a child or names as its
 * subject (a graph read before those pushes cannot know these edges); keeps, with every candidate kept so, its
 * children and referrers in the plan's graph, transitively. What is kept is reported as data (`changes`). Then
 * deletes the rest of the plan's deletions in their order (parents before children) in batches of 100, and archives
 * the rest of its archivings in their order, one UpdateImageStorageClass call each (a refused one is a failure, not
 * an exception), stopping early when the deadline comes near. Only digests the plan selected are ever deleted or
 * archived.
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
    archived: [],
    alreadyGone: [],
    failed: [],
    changedSincePlan: [],
    keptWithChanged: [],
    changes: [],
    remaining: [],
  };
  const toArchivePlanned = plan.toArchive ?? [];
  if (plan.toDelete.length === 0 && toArchivePlanned.length === 0) return result;
  const { missing, changed, keptWith, listed } = await reviewSincePlan(gateway, images, plan, options);
  result.listedImages = listed;
  result.changedSincePlan = [...changed.keys()];
  result.keptWithChanged = [...keptWith.keys()];
  result.changes = [
    ...[...changed].map(([digest, reason]) => ({ digest, reason })),
    ...[...keptWith].map(([digest, reason]) => ({ digest, reason })),
  ];
  for (const digest of missing) result.alreadyGone.push(digest);
  const unchanged = (digest: string) => !missing.has(digest) && !changed.has(digest) && !keptWith.has(digest);
  // Usually nothing changed since the plan: then its lists are carried out as they are.
  const asPlanned = missing.size === 0 && changed.size === 0 && keptWith.size === 0;
  const toDelete = asPlanned ? plan.toDelete : plan.toDelete.filter(unchanged);
  const toArchive = asPlanned ? toArchivePlanned : toArchivePlanned.filter(unchanged);

  // 4. Delete, parents first, in batches, minding the deadline.
  const reserveMs = options.reserveMs ?? 0;
  const nearDeadline = () => options.remainingMs !== undefined && options.remainingMs() < reserveMs;
  for (let start = 0; start < toDelete.length; start += DELETE_BATCH) {
    if (nearDeadline()) {
      result.remaining = [...toDelete.slice(start), ...toArchive];
      return result;
    }
    const outcome = await gateway.deleteImages(plan.repositoryName, toDelete.slice(start, start + DELETE_BATCH));
    result.deleted.push(...outcome.deleted);
    result.alreadyGone.push(...outcome.alreadyGone);
    result.failed.push(...outcome.failed);
  }

  // 5. Archive, parents first (ECR refuses to archive an image an active index lists), one call per image: ECR
  // has no batch form of UpdateImageStorageClass.
  if (toArchive.length === 0) return result;
  const archive = gateway.updateImageStorageClass;
  if (archive === undefined) {
    throw new Error(`invariant: ${plan.repositoryName}: the plan archives, but this registry has no archive`);
  }
  for (const [index, digest] of toArchive.entries()) {
    if (nearDeadline()) {
      result.remaining = toArchive.slice(index);
      break;
    }
    try {
      await archive.call(gateway, plan.repositoryName, { digest }, 'ARCHIVE');
      result.archived.push(digest);
    } catch (error) {
      if (error instanceof ImageNotFoundError) result.alreadyGone.push(digest);
      else if (
        error instanceof EcrGatewayError &&
        !(error instanceof RepositoryNotFoundError) &&
        !(error instanceof ReadOnlyViolationError)
      ) {
        result.failed.push({
          digest,
          code: error.code,
          reason: error.message,
          retryable: error.retryable,
        });
      } else throw error;
    }
  }
  return result;
}

/**
 * Steps 1 to 3 of `executePlan`: what changed since the plan, from one listing. Its own function so that the
 * listing's records are garbage before the deletions start (they take most of a large repository's run).
 */
async function reviewSincePlan(
  gateway: CleanupGateway,
  images: readonly ImageRecord[],
  plan: CleanupPlan,
  options: ExecuteOptions,
): Promise<{
  missing: Set<string>;
  changed: Map<string, ChangeReason>;
  keptWith: Map<string, ChangeReason>;
  listed: number;
}> {
  const toArchive = plan.toArchive ?? [];
  const planned = toArchive.length === 0 ? plan.toDelete : [...plan.toDelete, ...toArchive];
  const candidates = new Set(planned);
  // The plan's graph: its records by digest for the comparison, its edges for what a changed candidate protects.
  const graph = options.graph ?? buildImageGraph(images);
  const byDigest = graph.byDigest;

  // 1. One listing: the candidates as they are now (the re-read), and what was pushed since the plan.
  const ownReads = options.ownReads;
  const isOwnRead = (image: ImageRecord) =>
    ownReads?.digests.has(image.digest) === true &&
    image.lastPulledAt !== undefined &&
    image.lastPulledAt >= (ownReads?.since ?? 0) - OWN_READ_CLOCK_SKEW_MS;
  const since = await listSincePlan(gateway, plan.repositoryName, byDigest, candidates, isOwnRead);
  // The candidates listed are some of them: when as many were listed as there are, none is missing.
  const missing =
    since.candidates.size === candidates.size
      ? new Set<string>()
      : new Set(planned.filter((digest) => !since.candidates.has(digest)));
  // The changed candidates in the plan's order.
  const changed = new Map<string, ChangeReason>();
  if (since.changes.size > 0) {
    for (const digest of planned) {
      const reason = since.changes.get(digest);
      if (reason !== undefined && !changed.has(digest)) changed.set(digest, reason);
    }
  }

  // 2. Images pushed (or re-tagged as referrers) since the plan that name a candidate.
  for (const { digest, reason } of since.references) {
    if (!changed.has(digest) && !missing.has(digest)) changed.set(digest, reason);
  }

  // 3. What a changed candidate protects is kept with it: its children and referrers, transitively.
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
  return { missing, changed, keptWith, listed: since.listed };
}

export interface VerifyOptions {
  /**
   * How many images the repository holds now, to price a listing of it: the act's listing less what it deleted
   * (`listedImages`). Without it, the snapshot's images less `deleted`.
   */
  repositoryImages?: number;
  /** The graph of `images` (`buildImageGraph`), when the caller built it already for the plan. */
  graph?: ImageGraph;
}

/** The repository's size after an execution, for `VerifyOptions`: what its listing saw less what it deleted. */
export const imagesLeft = (execution: Pick<ExecutionResult, 'listedImages' | 'deleted'>): VerifyOptions =>
  execution.listedImages === undefined
    ? {}
    : { repositoryImages: Math.max(0, execution.listedImages - execution.deleted.length) };

/**
 * Checks that every image the plan keeps (and every candidate kept since, `keptSincePlan`) still resolves whole:
 * each child it lists and each referrer it has is still in the repository. Reads just those edge targets by digest
 * (DescribeImages by id, ceil(targets/100) calls), or lists the repository when that takes fewer calls
 * (ceil(images/1000) pages, `cheaperRead`): a target the listing does not show is gone. Throws `IntegrityError`
 * naming the broken edges; a failure here means something else deleted images during the run, or a bug.
 */
export async function verifyKeptImagesWhole(
  gateway: CleanupGateway,
  images: readonly ImageRecord[],
  plan: CleanupPlan,
  deleted: ReadonlySet<string>,
  keptSincePlan: ReadonlySet<string> = new Set(),
  options: VerifyOptions = {},
): Promise<{ checked: number }> {
  const graph = options.graph ?? buildImageGraph(images);
  // The plan's decisions are read one by one (`decisionView`), not made all at once.
  const view = decisionView(plan);
  const edges: { from: string; to: string; edge: 'child' | 'referrer' }[] = [];
  for (const image of images) {
    const digest = image.digest;
    if (!(view.keeps(digest) || keptSincePlan.has(digest)) || deleted.has(digest)) continue;
    for (const child of graph.children.get(digest) ?? []) edges.push({ from: digest, to: child, edge: 'child' });
    for (const referrer of graph.referrers.get(digest) ?? [])
      edges.push({ from: digest, to: referrer, edge: 'referrer' });
  }
  const targets = [...new Set(edges.map((edge) => edge.to))];
  if (targets.length === 0) return { checked: 0 };
  const repositoryImages =
    options.repositoryImages ?? images.reduce((n, image) => n + (deleted.has(image.digest) ? 0 : 1), 0);
  const read = cheaperRead(targets.length, repositoryImages);
  const gone = new Set<string>();
  if (read === 'by-id') {
    for (const digest of (await gateway.describeImages(plan.repositoryName, targets)).missing) gone.add(digest);
  } else {
    for (const digest of targets) gone.add(digest);
    for await (const page of gateway.listImages(plan.repositoryName, EVERY_STATUS))
      for (const image of page) gone.delete(image.digest);
  }
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
