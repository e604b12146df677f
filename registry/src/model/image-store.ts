/**
 * The images of a repository as the registry keeps them: the `StoredImage` shape, its scan and findings, and the
 * `ImageStore` that indexes a repository's images by digest and tag in listing order.
 */

export type ImageStatus = 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';

/** Findings as the wire carries them (`ImageScanFindings.findings` and `.enhancedFindings` members). */
export interface FindingsSet {
  findings: Record<string, unknown>[];
  enhancedFindings: Record<string, unknown>[];
}

export interface ImageScan {
  status: 'IN_PROGRESS' | 'COMPLETE' | 'FAILED' | 'UNSUPPORTED_IMAGE';
  description: string;
  startedAt: number;
  completedAt?: number;
  findings: FindingsSet;
}

export interface StoredImage {
  readonly digest: string;
  /** The manifest exactly as received; its UTF-8 bytes hash to `digest` (stored compressed, see `newImage`). */
  readonly manifest: string;
  /** Byte length of the manifest. */
  readonly manifestSize: number;
  readonly manifestMediaType: string;
  readonly artifactMediaType?: string;
  /** For an image: config plus layers. For an index: the largest child's size, as ECR reports. */
  readonly sizeInBytes: number;
  /** OCI 1.1 `subject`: this image is a referrer of that digest. */
  readonly subjectDigest?: string;
  /** Manifests an index references (empty for an image manifest). */
  readonly childDigests: readonly string[];
  /** Media type of the referrer (`artifactType`), for ListImageReferrers. */
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
  pushedAt: number;
  lastPulledAt?: number;
  /** Tags in the order they were attached. */
  tags: string[];
  /** Position in the repository's listing order; stable for the image's lifetime. */
  readonly seq: number;
  /** Read it with `imageStatus(image, now)`: a restore in progress (ACTIVATING) ends at `activatesAt`. */
  status: ImageStatus;
  /** When the image last went to the archive (UpdateImageStorageClass ARCHIVE), epoch ms. */
  lastArchivedAt?: number;
  /** When the image was last restored from the archive (its ACTIVATING ended), epoch ms. */
  lastActivatedAt?: number;
  /** While ACTIVATING: the registry time the restore completes. */
  activatesAt?: number;
  scan?: ImageScan;
  /** When the last scan (manual or on push) was started: one scan per image per 24 h. */
  lastScanStartedAt?: number;
  /** Findings attached through the control API; a scan reports them. */
  attachedFindings?: FindingsSet;
}

/**
 * The image's status at registry time `now`: a restore (ACTIVATING) that has run its course is completed first, so
 * that moving the registry's clock (`POST /_local/clock`) ends restores as waiting would. Deterministic in `now`, so
 * a data directory's replay, and a snapshot holding `activatesAt`, come to the same state.
 */
export function imageStatus(image: StoredImage, now: number): ImageStatus {
  if (image.status === 'ACTIVATING' && image.activatesAt !== undefined && now >= image.activatesAt) {
    image.status = 'ACTIVE';
    image.lastActivatedAt = image.activatesAt;
    image.activatesAt = undefined;
  }
  return image.status;
}

/**
 * The images of one repository, indexed by digest and tag, with a listing order (`seq`) that pagination tokens
 * point into. The order is append-only with tombstones, so that a token stays valid while images are pushed and
 * deleted between pages: an image present for the whole listing is returned exactly once.
 */
export class ImageStore {
  private readonly byDigest = new Map<string, StoredImage>();
  private readonly byTag = new Map<string, string>();
  private order: (StoredImage | undefined)[] = [];
  /** `seqs[i]` is the seq of the image in `order[i]`, kept when the slot becomes a tombstone, so lookups stay O(log n). */
  private seqs: number[] = [];
  private tombstones = 0;
  /** child digest → digests of the indexes that reference it */
  private readonly parents = new Map<string, Set<string>>();
  /** subject digest → digests of its referrers */
  private readonly referrerIndex = new Map<string, Set<string>>();
  private nextSeq = 1;

  get size(): number {
    return this.byDigest.size;
  }

  get tagCount(): number {
    return this.byTag.size;
  }

  allocateSeq(): number {
    return this.nextSeq++;
  }

  /** The seq the next image will get (a snapshot of the state keeps it). */
  get seqToCome(): number {
    return this.nextSeq;
  }

  /** Makes `seq` the seq of the next image (restoring a snapshot: images get back their own). Never goes back. */
  resumeSeq(seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < this.nextSeq) throw new Error(`invariant: image seq ${seq} goes back`);
    this.nextSeq = seq;
  }

  get(digest: string): StoredImage | undefined {
    return this.byDigest.get(digest);
  }

  digestForTag(tag: string): string | undefined {
    return this.byTag.get(tag);
  }

  byTagName(tag: string): StoredImage | undefined {
    const digest = this.byTag.get(tag);
    return digest === undefined ? undefined : this.byDigest.get(digest);
  }

  /** Adds a new image (its `seq` from `allocateSeq`) and indexes its tags, children and subject. */
  add(image: StoredImage): void {
    if (this.byDigest.has(image.digest)) throw new Error(`invariant: image ${image.digest} is already stored`);
    this.byDigest.set(image.digest, image);
    this.order.push(image);
    this.seqs.push(image.seq);
    for (const tag of image.tags) this.byTag.set(tag, image.digest);
    for (const child of image.childDigests) {
      const set = this.parents.get(child) ?? new Set<string>();
      this.parents.set(child, set);
      set.add(image.digest);
    }
    if (image.subjectDigest) {
      const set = this.referrerIndex.get(image.subjectDigest) ?? new Set<string>();
      this.referrerIndex.set(image.subjectDigest, set);
      set.add(image.digest);
    }
  }

  /** Points `tag` at `digest`, moving it from any other image. Returns the image the tag left, if any. */
  setTag(tag: string, digest: string): StoredImage | undefined {
    const image = this.byDigest.get(digest);
    if (!image) throw new Error(`invariant: tag ${tag} set on unknown image ${digest}`);
    const previousDigest = this.byTag.get(tag);
    let previous: StoredImage | undefined;
    if (previousDigest !== undefined && previousDigest !== digest) {
      previous = this.byDigest.get(previousDigest);
      if (previous) previous.tags = previous.tags.filter((t) => t !== tag);
    }
    // A new exact-size array: `push` on a growing array reserves room for 16 more tags per image.
    if (!image.tags.includes(tag)) image.tags = [...image.tags, tag];
    this.byTag.set(tag, digest);
    return previous;
  }

  /** Removes a tag from its image (the image stays). */
  removeTag(tag: string): StoredImage | undefined {
    const digest = this.byTag.get(tag);
    if (digest === undefined) return undefined;
    this.byTag.delete(tag);
    const image = this.byDigest.get(digest);
    if (image) image.tags = image.tags.filter((t) => t !== tag);
    return image;
  }

  /** Deletes an image and all its tags. */
  delete(digest: string): StoredImage | undefined {
    const image = this.byDigest.get(digest);
    if (!image) return undefined;
    this.byDigest.delete(digest);
    for (const tag of image.tags) if (this.byTag.get(tag) === digest) this.byTag.delete(tag);
    for (const child of image.childDigests) {
      const set = this.parents.get(child);
      set?.delete(digest);
      if (set && set.size === 0) this.parents.delete(child);
    }
    if (image.subjectDigest) {
      const set = this.referrerIndex.get(image.subjectDigest);
      set?.delete(digest);
      if (set && set.size === 0) this.referrerIndex.delete(image.subjectDigest);
    }
    const position = this.positionOf(image.seq);
    if (position >= 0) {
      this.order[position] = undefined;
      this.tombstones++;
      if (this.tombstones > 1024 && this.tombstones * 2 > this.order.length) this.compact();
    }
    return image;
  }

  /** Digests of the indexes that still reference `digest`. */
  parentsOf(digest: string): ReadonlySet<string> {
    return this.parents.get(digest) ?? new Set();
  }

  /** Digests of the images whose `subject` is `digest`. */
  referrersOf(digest: string): ReadonlySet<string> {
    return this.referrerIndex.get(digest) ?? new Set();
  }

  /** Images in listing order whose `seq` is greater than `afterSeq`. */
  *after(afterSeq = 0): Generator<StoredImage> {
    let index = this.firstPositionAfter(afterSeq);
    // The array may be compacted while a caller pauses between items; re-find the position by seq if so.
    let generation = this.order;
    let lastSeq = afterSeq;
    while (true) {
      if (generation !== this.order) {
        generation = this.order;
        index = this.firstPositionAfter(lastSeq);
      }
      if (index >= generation.length) return;
      const image = generation[index++];
      if (image && this.byDigest.get(image.digest) === image) {
        lastSeq = image.seq;
        yield image;
      }
    }
  }

  values(): IterableIterator<StoredImage> {
    return this.byDigest.values();
  }

  private compact(): void {
    const order: StoredImage[] = [];
    for (const image of this.order) if (image) order.push(image);
    this.order = order;
    this.seqs = order.map((image) => image.seq);
    this.tombstones = 0;
  }

  /** Index of the first slot whose seq is greater than `seq` (binary search over `seqs`, which only grows). */
  private firstPositionAfter(seq: number): number {
    let low = 0;
    let high = this.seqs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.seqs[mid] as number) > seq) high = mid;
      else low = mid + 1;
    }
    return low;
  }

  private positionOf(seq: number): number {
    const position = this.firstPositionAfter(seq - 1);
    return this.seqs[position] === seq && this.order[position] !== undefined ? position : -1;
  }
}
