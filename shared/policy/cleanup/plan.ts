import { conventionTagSubject, type ImageRecord, isArchived, isConventionTag, isIndex } from '../../domain/image.ts';
import type { InUseReference } from '../../domain/in-use.ts';
import type { CleanupSettings } from '../../domain/settings.ts';
import { costExplanation } from './cost.ts';
import { judgeTags, type TagKeep } from './retention.ts';

/**
 * The cleanup policy: which images of one repository to delete (stale untagged ones, and tagged ones every tag of
 * which the rule's tag selections release: `retention.ts`), and why every image is kept or deleted.
 * Pure: no AWS, no clock (`now` is a parameter), no I/O; the input is not modified.
 *
 * The cleanup settings of one repository: `olderThanDays`, `notPulledForDays`, `quietPeriodMinutes`,
 * `keepLatestUntagged`, the safety brake `maxDeleteFraction` and `allowMassDelete`. Inferred from the schema in
 * `shared/domain/settings.ts` (each field is described there), which the config file's cleanup section is built on.
 */
export type CleanupRule = CleanupSettings;

export const DEFAULT_CLEANUP_RULE: CleanupRule = {
  olderThanDays: 14,
  notPulledForDays: 30,
  quietPeriodMinutes: 60,
  keepLatestUntagged: 0,
  maxDeleteFraction: 0.5,
  allowMassDelete: false,
  tagSelections: [],
  maxTaggedDeleteFraction: 0.1,
};

/** Why an image is kept: its own signal, or the edge that protects it. */
export type KeepReason =
  | { code: 'tagged'; tags: string[] }
  | { code: 'quiet-period'; pushedAt: string }
  | { code: 'recently-pushed'; pushedAt: string; olderThanDays: number }
  | { code: 'recently-pulled'; lastActivityAt: string; notPulledForDays: number }
  | { code: 'keep-latest-untagged'; rank: number }
  | { code: 'child-of-kept-index'; via: string }
  | { code: 'referrer-of-kept-image'; via: string }
  | { code: 'safety-brake'; wouldDelete: number; total: number; maxDeleteFraction: number }
  /** A tag selection keeps one of its tags (`explanation`: `keepLast 20 of pr-* (rank 7)`). */
  | ({ code: 'retained' } & TagKeep)
  /** A workload runs it (ECS, Lambda, Kubernetes): kept whatever tags or selections say. */
  | { code: 'in-use'; usedBy: InUseReference[] }
  /** What runs could not be read: nothing is deleted (fail closed). */
  | { code: 'in-use-unknown'; message: string }
  /** In ECR's archive (or being restored from it): the archive's to keep; the cleanup never deletes it. */
  | { code: 'archived'; status: 'ARCHIVED' | 'ACTIVATING'; lastArchivedAt?: string }
  /**
   * Pushed no later than an archived index, whose manifest cannot be read: it may be one of that index's children
   * (a child is pushed before its index), so it is kept with it.
   */
  | { code: 'may-be-child-of-archived-index'; via: string }
  /** The tagged safety brake held: too large a share of the tagged images would go. */
  | { code: 'tagged-safety-brake'; wouldDelete: number; total: number; maxTaggedDeleteFraction: number };

/** Why an image is deleted. */
export type DeleteReason =
  | { code: 'stale-untagged'; pushedAt: string; lastPulledAt?: string }
  | { code: 'child-of-deleted-index'; via: string }
  | { code: 'referrer-of-deleted-image'; via: string }
  | { code: 'orphaned-referrer'; subject: string }
  /**
   * Every tag it carries is released by the selection that claims it; it is deleted by digest with all these tags.
   * `explanations`: one per tag, `pr-12: pr-* beyond keepLast 20 (rank 21) and not pulled for 31 days`.
   */
  | { code: 'released'; tags: string[]; explanations: string[] }
  /** Archived more than the rule's `deleteArchivedAfterDays` ago (`days`): deleted from the archive. */
  | { code: 'archive-expired'; lastArchivedAt: string; days: number };

/**
 * What happens to one image. `archive` (a rule with `action: 'archive'`) is a deletion turned into a move to ECR's
 * archive: the same selection and the same reasons (`child-of-deleted-index` then names an index archived with it).
 * `cost` explains a deletion or an archiving in storage terms (`cost.ts`).
 */
export type Decision =
  | { digest: string; action: 'keep'; reason: KeepReason; tags: readonly string[]; sizeInBytes: number }
  | {
      digest: string;
      action: 'delete';
      reason: DeleteReason;
      tags: readonly string[];
      sizeInBytes: number;
      cost?: string;
    }
  | {
      digest: string;
      action: 'archive';
      reason: DeleteReason;
      tags: readonly string[];
      sizeInBytes: number;
      cost?: string;
    };

export interface CleanupPlan {
  repositoryName: string;
  /** When the plan was made (ISO). */
  plannedAt: string;
  /** One decision per image, in the order the images were given. */
  decisions: Decision[];
  /** Digests to delete, parents before children and subjects before referrers. */
  toDelete: string[];
  /**
   * Digests to archive (a rule with `action: 'archive'`), parents before children and subjects before referrers, as
   * ECR requires (it refuses to archive an image an active index lists). Absent when nothing is archived.
   */
  toArchive?: string[];
  /** Bytes of image manifests' layers deleted (indexes, which own no layers, are not counted). */
  bytesReclaimed: number;
  /**
   * Set when a safety brake held: nothing is deleted. The untagged brake counts the deletions of images without a
   * tag against all images (`maxDeleteFraction`); the tagged brake the deletions of tagged images against the tagged
   * images (`maxTaggedDeleteFraction`, `tagged: true`).
   */
  brake?: { wouldDelete: number; total: number; maxDeleteFraction: number; message: string; tagged?: true };
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The reference graph of one repository: index → children, subject → referrers. */
export interface ImageGraph {
  readonly byDigest: ReadonlyMap<string, ImageRecord>;
  readonly children: ReadonlyMap<string, readonly string[]>;
  readonly parents: ReadonlyMap<string, readonly string[]>;
  readonly referrers: ReadonlyMap<string, readonly string[]>;
  /** Referrer digest → the subject it names (which may be absent from the repository). */
  readonly subjectOf: ReadonlyMap<string, string>;
}

const NONE: readonly string[] = [];

const push = (map: Map<string, string[]>, key: string, value: string) => {
  const list = map.get(key);
  if (list) {
    if (!list.includes(value)) list.push(value);
  } else map.set(key, [value]);
};

/**
 * Builds the graph once, before any decision. An index whose children are unknown is a bug in the caller (the
 * gatherer reads every index), so it is refused rather than guessed at: a guess could delete a needed child. The one
 * exception is an archived index, whose manifest ECR does not serve: the plan keeps whatever it may list.
 */
export function buildImageGraph(images: readonly ImageRecord[]): ImageGraph {
  const byDigest = new Map<string, ImageRecord>();
  for (const image of images) byDigest.set(image.digest, image);
  const children = new Map<string, string[]>();
  const parents = new Map<string, string[]>();
  const referrers = new Map<string, string[]>();
  const subjectOf = new Map<string, string>();
  const nameSubject = (digest: string, subject: string) => {
    if (subject === digest) return;
    // The subject's own digest string when it is here: a convention tag's subject is a new string, and the maps
    // then hold one string per digest rather than one more per referrer.
    const present = byDigest.get(subject);
    // Stryker disable next-line ConditionalExpression: the same characters either way; only the string held differs.
    const named = present === undefined ? subject : present.digest;
    subjectOf.set(digest, named);
    if (present !== undefined) push(referrers, named, digest);
  };
  for (const image of images) {
    if (isIndex(image) && image.childDigests === undefined && !isArchived(image)) {
      throw new Error(`invariant: index ${image.digest} has no child list; read every index before planning`);
    }
    // Stryker disable next-line ArrayDeclaration: a made-up fallback digest names no image of the repository, so the next line skips it.
    for (const child of image.childDigests ?? []) {
      if (!byDigest.has(child) || child === image.digest) continue;
      push(children, image.digest, child);
      push(parents, child, image.digest);
    }
    // The subjects it names, in order, each once: most images name none, and most of the others one (its
    // `subject`, or one convention tag), so a set is made only for a second one.
    let first = image.subjectDigest || undefined;
    let more: Set<string> | undefined;
    // Indexed: a for-of over tags arrays of two element kinds (the listing's, and the frozen empty one) allocates
    // an iterator result per tag.
    const tags = image.tags;
    for (let at = 0; at < tags.length; at++) {
      const subject = conventionTagSubject(tags[at] as string);
      // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: naming the first subject again changes nothing (each edge is pushed once); the test only saves a set.
      if (!subject || subject === first) continue;
      if (first === undefined) first = subject;
      else {
        more ??= new Set();
        more.add(subject);
      }
    }
    if (first === undefined) continue;
    nameSubject(image.digest, first);
    if (more !== undefined) for (const subject of more) nameSubject(image.digest, subject);
  }
  return { byDigest, children, parents, referrers, subjectOf };
}

export interface PlanOptions {
  /**
   * Images whose recorded pull may be the cleanup's own manifest read (ECR records a BatchGetImage as a pull unless
   * the caller is excluded from pull-time updates). Such a pull still keeps the image, but it is not the image's own
   * reason when a kept index protects it anyway: a nested index under a kept index is `child-of-kept-index`.
   */
  ownReads?: ReadonlySet<string>;
  /**
   * The images of this repository a workload runs, by digest, with where (the in-use providers' findings): each is
   * kept, with its children and referrers, whatever its tags or the selections say.
   */
  inUse?: ReadonlyMap<string, readonly InUseReference[]>;
  /** Set when what runs could not be read: the plan deletes nothing, every image kept with this message. */
  inUseUnavailable?: string;
  /**
   * The graph of exactly these images (`buildImageGraph(images)`), when the caller has it already (the act and
   * verify steps read the same one); built here otherwise.
   */
  graph?: ImageGraph;
}

/** The reasons an image keeps itself by (its tags, its push or its pulls), made into its reason when decided. */
type OwnCode = 'tagged' | 'retained' | 'quiet-period' | 'recently-pulled' | 'recently-pushed';

/**
 * A plan notes an image's own signal (one shared object per kind) rather than its reason: the reason's texts and
 * times are made from the image when its decision is (`keepReasonOf`), as a worker reads a few hundred decisions of
 * a repository of a million images.
 */
interface OwnSignal {
  readonly code: OwnCode;
  readonly own: true;
}
const OWN_SIGNALS: { readonly [Code in OwnCode]: OwnSignal } = {
  tagged: { code: 'tagged', own: true },
  retained: { code: 'retained', own: true },
  'quiet-period': { code: 'quiet-period', own: true },
  'recently-pulled': { code: 'recently-pulled', own: true },
  'recently-pushed': { code: 'recently-pushed', own: true },
};
/** Why the plan keeps an image: a whole reason, or the image's own signal. */
type Kept = KeepReason | OwnSignal;

/** An image's last pull (its push when never pulled), or its restore from the archive when later: someone wanted it. */
const lastActivityOf = (image: ImageRecord): number =>
  Math.max(image.lastPulledAt ?? image.pushedAt, image.lastActivatedAt ?? 0);

/** Decides the fate of every image of one repository. */
export function planCleanup(
  repositoryName: string,
  images: readonly ImageRecord[],
  rule: CleanupRule,
  now: number,
  options: PlanOptions = {},
): CleanupPlan {
  const graph = options.graph ?? buildImageGraph(images);
  const keep = new Map<string, Kept>();
  if (options.inUseUnavailable !== undefined) {
    const reason: KeepReason = { code: 'in-use-unknown', message: options.inUseUnavailable };
    return {
      repositoryName,
      plannedAt: iso(now),
      decisions: images.map((image) => ({
        digest: image.digest,
        tags: image.tags,
        sizeInBytes: image.sizeInBytes,
        action: 'keep',
        reason,
      })),
      toDelete: [],
      bytesReclaimed: 0,
    };
  }
  const verdicts = judgeTags(images, rule.tagSelections ?? [], now);

  // 1. Each image's own signals. An archived image past the rule's `deleteArchivedAfterDays` has none: it goes.
  const expired = new Set<string>();
  const quietMs = rule.quietPeriodMinutes * MINUTE_MS;
  const untaggedRoots: ImageRecord[] = [];
  for (const image of images) {
    const isReferrer = graph.subjectOf.has(image.digest);
    const isChild = graph.parents.has(image.digest);
    let realTags = false;
    const tags = image.tags;
    for (let at = 0; at < tags.length; at++) if (!isConventionTag(tags[at] as string)) realTags = true;
    const lastActivity = lastActivityOf(image);
    const verdict = verdicts.kind(image.digest);
    const usedBy = options.inUse?.get(image.digest);
    let reason: Kept | undefined;
    if (usedBy !== undefined && usedBy.length > 0) reason = { code: 'in-use', usedBy: [...usedBy] };
    else if (archiveExpired(image, rule, now)) expired.add(image.digest);
    else if (image.imageStatus !== undefined) {
      reason = {
        code: 'archived',
        status: image.imageStatus,
        ...(image.lastArchivedAt === undefined ? {} : { lastArchivedAt: iso(image.lastArchivedAt) }),
      };
    } else if (verdict === 'unclaimed') reason = OWN_SIGNALS.tagged;
    else if (verdict === 'kept') reason = OWN_SIGNALS.retained;
    else if (now - image.pushedAt < quietMs) reason = OWN_SIGNALS['quiet-period'];
    // A tagged image its selections release has no other signal of its own: the selections' conditions decided it.
    else if (verdict !== undefined) reason = undefined;
    else if (now - lastActivity < rule.notPulledForDays * DAY_MS) reason = OWN_SIGNALS['recently-pulled'];
    else if (!isReferrer && !isChild && now - image.pushedAt < rule.olderThanDays * DAY_MS) {
      // Children and referrers follow their parent or subject; age alone keeps only top-level images.
      reason = OWN_SIGNALS['recently-pushed'];
    }
    if (reason) keep.set(image.digest, reason);
    // Gathered only for a rule that keeps some of them (most keep none).
    // Stryker disable next-line ConditionalExpression,EqualityOperator: with 0 the list is never read; the test only saves gathering it.
    if (rule.keepLatestUntagged > 0 && !realTags && !isReferrer && !isChild) untaggedRoots.push(image);
  }
  // Stryker disable next-line ConditionalExpression,EqualityOperator: keepLatestUntagged is a whole number of at least 0 (the config schema's bounds), and with 0 the slice below is empty, so the test only saves a sort.
  if (rule.keepLatestUntagged > 0) {
    const newest = [...untaggedRoots].sort((a, b) => b.pushedAt - a.pushedAt || a.digest.localeCompare(b.digest));
    newest.slice(0, rule.keepLatestUntagged).forEach((image, index) => {
      if (!keep.has(image.digest)) keep.set(image.digest, { code: 'keep-latest-untagged', rank: index + 1 });
    });
  }

  // An archived index's children are unknown: whatever was pushed by the time the last of them was may be one.
  let lastArchivedIndex: ImageRecord | undefined;
  for (const image of images) {
    if (
      isArchived(image) &&
      isIndex(image) &&
      (lastArchivedIndex === undefined || image.pushedAt > lastArchivedIndex.pushedAt)
    ) {
      lastArchivedIndex = image;
    }
  }
  if (lastArchivedIndex !== undefined) {
    for (const image of images) {
      if (
        !keep.has(image.digest) &&
        !expired.has(image.digest) &&
        !graph.subjectOf.has(image.digest) &&
        image.pushedAt <= lastArchivedIndex.pushedAt
      ) {
        keep.set(image.digest, { code: 'may-be-child-of-archived-index', via: lastArchivedIndex.digest });
      }
    }
  }

  // An expired archived image takes with it what it alone keeps in the archive: its archived children and
  // referrers (whose own reason is `archived`), transitively.
  const expiring = [...expired];
  for (let digest = expiring.pop(); digest !== undefined; digest = expiring.pop()) {
    for (const next of [...(graph.children.get(digest) ?? []), ...(graph.referrers.get(digest) ?? [])]) {
      const own = keep.get(next);
      if (own?.code === 'archived' && own.status === 'ARCHIVED') {
        keep.delete(next);
        expiring.push(next);
      }
    }
  }

  // 2. Protection flows from every kept image to its children and referrers, transitively.
  const queue = [...keep.keys()];
  while (queue.length > 0) {
    const digest = queue.pop() as string;
    // Stryker disable next-line ArrayDeclaration: a made-up fallback digest names no image, and the decisions and the brake look only at the images given, so marking it kept changes nothing.
    for (const child of graph.children.get(digest) ?? []) {
      const own = keep.get(child);
      if (own === undefined) {
        keep.set(child, { code: 'child-of-kept-index', via: digest });
        queue.push(child);
      } else if (own.code === 'recently-pulled' && options.ownReads?.has(child) === true) {
        // Kept and queued already: only the reason changes, from our own read to the index that keeps it.
        keep.set(child, { code: 'child-of-kept-index', via: digest });
      }
    }
    // Stryker disable next-line ArrayDeclaration: a made-up fallback digest names no image, and the decisions and the brake look only at the images given, so marking it kept changes nothing.
    for (const referrer of graph.referrers.get(digest) ?? []) {
      if (!keep.has(referrer)) {
        keep.set(referrer, { code: 'referrer-of-kept-image', via: digest });
        queue.push(referrer);
      }
    }
  }

  // 3. Everything unprotected goes, with the reason that makes it go.
  const deleteReasonOf = (image: ImageRecord): DeleteReason => {
    if (expired.has(image.digest)) {
      return {
        code: 'archive-expired',
        lastArchivedAt: iso(image.lastArchivedAt ?? 0),
        days: rule.deleteArchivedAfterDays ?? 0,
      };
    }
    // A doomed image's tags are released or it has none: its verdict is made only in the first case.
    const verdict = verdicts.verdict(image);
    if (verdict?.kind === 'released') {
      return { code: 'released', tags: verdict.tags, explanations: verdict.explanations };
    }
    const parent = graph.parents.get(image.digest)?.[0];
    if (parent) return { code: 'child-of-deleted-index', via: parent };
    const subject = graph.subjectOf.get(image.digest);
    if (subject) {
      return graph.byDigest.has(subject)
        ? { code: 'referrer-of-deleted-image', via: subject }
        : { code: 'orphaned-referrer', subject };
    }
    return {
      code: 'stale-untagged',
      pushedAt: iso(image.pushedAt),
      ...(image.lastPulledAt === undefined ? {} : { lastPulledAt: iso(image.lastPulledAt) }),
    };
  };
  // An image's own signal (OWN_SIGNALS) becomes its reason, with the texts and times that explain it, here.
  const keepReasonOf = (image: ImageRecord): KeepReason | undefined => {
    const kept = keep.get(image.digest);
    if (kept === undefined || !('own' in kept)) return kept;
    switch (kept.code) {
      case 'tagged': {
        const verdict = verdicts.verdict(image);
        return { code: 'tagged', tags: verdict?.kind === 'unclaimed' ? verdict.tags : [] };
      }
      case 'retained': {
        const verdict = verdicts.verdict(image);
        if (verdict?.kind !== 'kept') throw new Error(`invariant: ${image.digest} is retained without a keep`);
        return { code: 'retained', ...verdict.keep };
      }
      case 'quiet-period':
        return { code: 'quiet-period', pushedAt: iso(image.pushedAt) };
      case 'recently-pulled': {
        return {
          code: 'recently-pulled',
          lastActivityAt: iso(lastActivityOf(image)),
          notPulledForDays: rule.notPulledForDays,
        };
      }
      default:
        return { code: 'recently-pushed', pushedAt: iso(image.pushedAt), olderThanDays: rule.olderThanDays };
    }
  };
  const doomed = images.filter((image) => !keep.has(image.digest));

  // 4. The safety brakes: untagged deletions against all images, tagged ones against the tagged images.
  let taggedDoomed = 0;
  for (const image of doomed) if (verdicts.kind(image.digest) === 'released') taggedDoomed += 1;
  const untaggedDoomed = doomed.length - taggedDoomed;
  const fraction = untaggedDoomed / Math.max(images.length, 1);
  const taggedTotal = verdicts.size;
  const maxTagged = rule.maxTaggedDeleteFraction ?? DEFAULT_CLEANUP_RULE.maxTaggedDeleteFraction ?? 0.1;
  const taggedFraction = taggedDoomed / Math.max(taggedTotal, 1);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: maxDeleteFraction is at least 0 (the config schema's bounds), so a run deleting nothing (fraction 0) never exceeds it; the first test states that intent.
  const untaggedBrake = untaggedDoomed > 0 && fraction > rule.maxDeleteFraction;
  const taggedBrake = taggedDoomed > 0 && taggedFraction > maxTagged;
  if ((untaggedBrake || taggedBrake) && !rule.allowMassDelete) {
    const brake = untaggedBrake
      ? {
          wouldDelete: untaggedDoomed,
          total: images.length,
          maxDeleteFraction: rule.maxDeleteFraction,
          message: `Refusing to delete ${untaggedDoomed} of ${images.length} images (${(fraction * 100).toFixed(1)}%): the limit is ${(rule.maxDeleteFraction * 100).toFixed(1)}% per run; set allowMassDelete to proceed`,
        }
      : {
          wouldDelete: taggedDoomed,
          total: taggedTotal,
          maxDeleteFraction: maxTagged,
          message: `Refusing to delete ${taggedDoomed} of ${taggedTotal} tagged images (${(taggedFraction * 100).toFixed(1)}%): the limit for tagged images is ${(maxTagged * 100).toFixed(1)}% per run (maxTaggedDeleteFraction); set allowMassDelete to proceed`,
          tagged: true as const,
        };
    const reason: KeepReason = untaggedBrake
      ? {
          code: 'safety-brake',
          wouldDelete: brake.wouldDelete,
          total: brake.total,
          maxDeleteFraction: brake.maxDeleteFraction,
        }
      : {
          code: 'tagged-safety-brake',
          wouldDelete: taggedDoomed,
          total: taggedTotal,
          maxTaggedDeleteFraction: maxTagged,
        };
    for (const image of doomed) keep.set(image.digest, reason);
    const decide = (image: ImageRecord) => decisionOf(image, keepReasonOf, deleteReasonOf, rule);
    return withDecisions(
      { repositoryName, plannedAt: iso(now), toDelete: [], bytesReclaimed: 0, brake: { ...brake } },
      { images, decide, byDigest: graph.byDigest, keeps: (digest) => keep.has(digest), keptCount: images.length },
    );
  }

  // 5. With `action: 'archive'`, what is in standard storage is archived instead; what is archived already is deleted.
  const archives = (image: ImageRecord) => actionOf(image, rule) === 'archive';
  // An archived index's children are unknown (ECR serves no archived manifest): archived indexes go first, the
  // rest in their order (a stable partition, not a sort).
  const deleteOrder: ImageRecord[] = [];
  const others: ImageRecord[] = [];
  const archived: ImageRecord[] = [];
  for (const image of doomed) {
    if (archives(image)) archived.push(image);
    else if (isArchived(image) && isIndex(image)) deleteOrder.push(image);
    else others.push(image);
  }
  // Without archived indexes (the usual case) the others are the order as they are, not copied.
  // Stryker disable next-line ConditionalExpression,EqualityOperator: copying them into an empty list gives the same order; the test only saves the copy.
  if (deleteOrder.length > 0) for (const image of others) deleteOrder.push(image);
  const toDelete = orderParentsFirst(deleteOrder.length > 0 ? deleteOrder : others, graph);
  const bytesReclaimed = doomed.reduce(
    (sum, image) => sum + (isIndex(image) || archives(image) ? 0 : image.sizeInBytes),
    0,
  );
  const decide = (image: ImageRecord) => decisionOf(image, keepReasonOf, deleteReasonOf, rule);
  return withDecisions(
    {
      repositoryName,
      plannedAt: iso(now),
      toDelete,
      ...(archived.length > 0 ? { toArchive: orderParentsFirst(archived, graph) } : {}),
      bytesReclaimed,
    },
    {
      images,
      decide,
      byDigest: graph.byDigest,
      keeps: (digest) => keep.has(digest),
      keptCount: images.length - doomed.length,
    },
  );
}

/**
 * A plan's decisions read one at a time (`decisionView`): the cleanup worker reads a few hundred of a repository's
 * decisions for its report, and a plan of 100,000 images need not hold 100,000 decisions while it is carried out.
 */
export interface DecisionView {
  /** Images decided (the length of `decisions`). */
  readonly size: number;
  /** Decisions that keep their image. */
  readonly keptCount: number;
  /** The decision about the image with this digest, made when asked; undefined when the plan decided none. */
  get(digest: string): Decision | undefined;
  /** Whether the plan keeps the image with this digest. */
  keeps(digest: string): boolean;
  /** The size the plan's decision about the image carries, without making the decision. */
  sizeInBytes(digest: string): number | undefined;
  /** Every decision, in the order of `decisions`, each made when reached. */
  all(): Iterable<Decision>;
  /** The decisions that keep their image, in the order of `decisions`. */
  kept(): Iterable<Decision>;
}

/** How a plan made here decides each image, when its decisions are read. */
interface DecisionSource {
  images: readonly ImageRecord[];
  decide: (image: ImageRecord) => Decision;
  byDigest: ReadonlyMap<string, ImageRecord>;
  keeps: (digest: string) => boolean;
  keptCount: number;
}

const views = new WeakMap<CleanupPlan, DecisionView>();

/**
 * The plan with its `decisions` made when first read (then held): a plan carried out and reported by the worker
 * reads them through `decisionView` and never makes them all. Serialising or spreading the plan reads them.
 */
function withDecisions(base: Omit<CleanupPlan, 'decisions'>, source: DecisionSource): CleanupPlan {
  let decisions: Decision[] | undefined;
  // The members in the order of a plan made all at once, so that its JSON reads the same.
  const plan: CleanupPlan = {
    repositoryName: base.repositoryName,
    plannedAt: base.plannedAt,
    get decisions() {
      decisions ??= source.images.map(source.decide);
      return decisions;
    },
    toDelete: base.toDelete,
    ...(base.toArchive === undefined ? {} : { toArchive: base.toArchive }),
    bytesReclaimed: base.bytesReclaimed,
    ...(base.brake === undefined ? {} : { brake: base.brake }),
  };
  const decisionOfDigest = (digest: string) => {
    const image = source.byDigest.get(digest);
    return image === undefined ? undefined : source.decide(image);
  };
  views.set(plan, {
    size: source.images.length,
    keptCount: source.keptCount,
    get: decisionOfDigest,
    keeps: source.keeps,
    sizeInBytes: (digest) => source.byDigest.get(digest)?.sizeInBytes,
    // Indexed: a for-of over an array in a generator makes an iterator result per image, and the report reads the
    // kept decisions of a repository most of whose images go.
    *all() {
      if (decisions !== undefined) yield* decisions;
      else for (let at = 0; at < source.images.length; at++) yield source.decide(source.images[at] as ImageRecord);
    },
    *kept() {
      const images = source.images;
      for (let at = 0; at < images.length; at++) {
        const image = images[at] as ImageRecord;
        if (source.keeps(image.digest)) yield source.decide(image);
      }
    },
  });
  return plan;
}

/** The view of a plan's decisions: without making them all for a plan made by `planCleanup`, else over its list. */
export function decisionView(plan: CleanupPlan): DecisionView {
  let view = views.get(plan);
  if (view !== undefined) return view;
  const decisions = plan.decisions;
  let byDigest: Map<string, Decision> | undefined;
  const find = (digest: string) => {
    byDigest ??= new Map(decisions.map((decision) => [decision.digest, decision]));
    return byDigest.get(digest);
  };
  view = {
    size: decisions.length,
    keptCount: decisions.reduce((n, decision) => n + (decision.action === 'keep' ? 1 : 0), 0),
    get: find,
    keeps: (digest) => find(digest)?.action === 'keep',
    sizeInBytes: (digest) => find(digest)?.sizeInBytes,
    all: () => decisions,
    kept: () => decisions.filter((decision) => decision.action === 'keep'),
  };
  views.set(plan, view);
  return view;
}

/** Whether an archived image has been in the archive longer than the rule's `deleteArchivedAfterDays`. */
function archiveExpired(image: ImageRecord, rule: CleanupRule, now: number): boolean {
  const days = rule.deleteArchivedAfterDays;
  return (
    days !== undefined &&
    image.imageStatus === 'ARCHIVED' &&
    image.lastArchivedAt !== undefined &&
    now - image.lastArchivedAt > days * DAY_MS
  );
}

/** What a selected image undergoes: an image in standard storage is archived when the rule archives. */
const actionOf = (image: ImageRecord, rule: CleanupRule): 'delete' | 'archive' =>
  rule.action === 'archive' && image.imageStatus === undefined ? 'archive' : 'delete';

function decisionOf(
  image: ImageRecord,
  keepReasonOf: (image: ImageRecord) => KeepReason | undefined,
  deleteReasonOf: (image: ImageRecord) => DeleteReason,
  rule: CleanupRule,
): Decision {
  const reason = keepReasonOf(image);
  if (reason) {
    // Literals rather than a spread of a shared base: a million decisions are made in a few seconds.
    return { digest: image.digest, tags: image.tags, sizeInBytes: image.sizeInBytes, action: 'keep', reason };
  }
  const action = actionOf(image, rule);
  const cost = costExplanation(action, image.sizeInBytes, {
    archived: image.imageStatus !== undefined,
    ownsLayers: !isIndex(image),
  });
  return {
    digest: image.digest,
    tags: image.tags,
    sizeInBytes: image.sizeInBytes,
    reason: deleteReasonOf(image),
    action,
    cost,
  };
}

/**
 * Orders deletions so that no image is deleted while a doomed parent (index) or subject still names it: ECR
 * refuses to delete a child a remaining index references (ImageReferencedByManifestList), and a run that stops
 * half-way then leaves "parent gone, some children left" (cleaned next run), never a kept image missing parts.
 */
export function orderParentsFirst(doomed: readonly ImageRecord[], graph: ImageGraph): string[] {
  const inSet = new Set<string>();
  for (const image of doomed) inSet.add(image.digest);
  // Only the images a doomed parent or subject names wait: the count of those yet to go before each (most images
  // wait for none, and have no entry).
  const pending = new Map<string, number>();
  // Counted over the edges (indexes' children, subjects' referrers), which are far fewer than the doomed images.
  const count = (list: readonly string[], from: string) => {
    if (!inSet.has(from)) return;
    for (const next of list) if (inSet.has(next)) pending.set(next, (pending.get(next) ?? 0) + 1);
  };
  graph.children.forEach(count);
  graph.referrers.forEach(count);
  const ordered: string[] = [];
  for (const digest of inSet) if (!pending.has(digest)) ordered.push(digest);
  const release = (next: string) => {
    // Stryker disable next-line ConditionalExpression: without this skip an image outside the doomed set gets a count below 0, which never reaches 0, so it is never ordered; the skip only avoids that bookkeeping.
    if (!inSet.has(next)) return;
    const left = (pending.get(next) ?? 0) - 1;
    pending.set(next, left);
    if (left === 0) ordered.push(next);
  };
  for (let head = 0; head < ordered.length; head++) {
    const digest = ordered[head] as string;
    for (const next of graph.children.get(digest) ?? NONE) release(next);
    for (const next of graph.referrers.get(digest) ?? NONE) release(next);
  }
  if (ordered.length !== inSet.size) {
    throw new Error('invariant: the reference graph has a cycle; content-addressed manifests cannot form one');
  }
  return ordered;
}
