/**
 * In-memory state of the local registry: one `RegistryState` per account and region, as ECR keeps them apart.
 * Times are epoch milliseconds inside the registry; the wire layer turns them into epoch seconds.
 */

export const DEFAULT_ACCOUNT = '123456789012';
export const DEFAULT_REGION = 'us-east-1';

/**
 * The regions a request may name in its credential scope: the commercial (`aws`), China (`aws-cn`) and GovCloud
 * (`aws-us-gov`) partitions, as the AWS SDK's partition table lists them (its `partitions.js`, 2026). Any other
 * region would have no ECR endpoint, so the registry refuses it rather than keeping state for it.
 */
export const ECR_REGIONS: ReadonlySet<string> = new Set([
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'me-west-1',
  'mx-central-1',
  'sa-east-1',
  'sa-west-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'cn-north-1',
  'cn-northwest-1',
  'us-gov-east-1',
  'us-gov-west-1',
]);

/**
 * Accounts the registry keeps state for at once (each with any of the regions above). A request that would create
 * state for one more account fails with `LimitExceededException`; `POST /_local/reset` frees them all.
 */
export const MAX_ACCOUNTS = 100;

export type StoredTagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';
export type ImageStatus = 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';

export interface ExclusionFilter {
  filter: string;
  filterType: 'WILDCARD';
}

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
  status: ImageStatus;
  scan?: ImageScan;
  /** When the last scan (manual or on push) was started: one scan per image per 24 h. */
  lastScanStartedAt?: number;
  /** Findings attached through the control API; a scan reports them. */
  attachedFindings?: FindingsSet;
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

export interface RepositoryRecord {
  readonly name: string;
  readonly registryId: string;
  readonly arn: string;
  readonly uri: string;
  readonly createdAt: number;
  readonly seq: number;
  imageTagMutability: StoredTagMutability;
  imageTagMutabilityExclusionFilters: ExclusionFilter[];
  scanOnPush: boolean;
  readonly encryption: { encryptionType: 'AES256' | 'KMS' | 'KMS_DSSE'; kmsKey?: string };
  /** Resource tags in insertion order (`Key` → `Value`). */
  tags: Map<string, string>;
  policyText?: string;
  lifecyclePolicyText?: string;
  lifecyclePolicyUpdatedAt?: number;
  readonly images: ImageStore;
}

export interface StoredScanningRule {
  scanFrequency: 'SCAN_ON_PUSH' | 'CONTINUOUS_SCAN' | 'MANUAL';
  repositoryFilters: { filter: string; filterType: 'WILDCARD' }[];
}

export interface StoredReplicationRule {
  destinations: { region: string; registryId: string }[];
  repositoryFilters?: { filter: string; filterType: 'PREFIX_MATCH' }[];
}

/** Wire-shaped records (members as ECR returns them, times in epoch ms). */
export type StoredPullThroughCacheRule = Record<string, unknown> & { ecrRepositoryPrefix: string };
export type StoredCreationTemplate = Record<string, unknown> & { prefix: string };

export class RegistryState {
  readonly repositories = new Map<string, RepositoryRecord>();
  private nextRepositorySeq = 1;
  scanning: { scanType: 'BASIC' | 'ENHANCED'; rules: StoredScanningRule[] } = { scanType: 'BASIC', rules: [] };
  replication: { rules: StoredReplicationRule[] } = { rules: [] };
  readonly pullThroughCacheRules = new Map<string, StoredPullThroughCacheRule>();
  readonly creationTemplates = new Map<string, StoredCreationTemplate>();
  registryPolicyText?: string;
  /** Basic scans started per UTC day (account quota 100,000 / 24 h). */
  readonly scansPerDay = new Map<string, number>();
  /**
   * Findings the control API attached to a digest before it was pushed (`<repository>@<digest>` → findings): the
   * push picks them up, so that a scan on push reports them (demos and tests of push → scan → verdict).
   */
  readonly pendingFindings = new Map<string, FindingsSet>();
  /** IAM principal ARN → when it was excluded from pull-time updates (epoch ms). */
  readonly pullTimeExclusions = new Map<string, number>();

  constructor(
    readonly account: string,
    readonly region: string,
  ) {}

  allocateRepositorySeq(): number {
    return this.nextRepositorySeq++;
  }

  repositoryArn(name: string): string {
    return `arn:aws:ecr:${this.region}:${this.account}:repository/${name}`;
  }

  repositoryUri(name: string): string {
    return `${this.account}.dkr.ecr.${this.region}.amazonaws.com/${name}`;
  }
}

/** Thrown when state would be created for one account more than `MAX_ACCOUNTS` (the server answers it as ECR's `LimitExceededException`). */
export class AccountLimitError extends Error {
  constructor(readonly account: string) {
    super(
      `The local registry keeps state for at most ${MAX_ACCOUNTS} accounts; account ${account} would be one more (POST /_local/reset frees them)`,
    );
  }
}

/**
 * Every account and region that holds state. State is created only by `state()` (a request that succeeded and
 * changed something, a fixture, a replication): reads of an account or region with no state see an empty registry
 * (`peek`) and create nothing.
 */
export class Registry {
  private readonly states = new Map<string, RegistryState>();
  /** account → how many regions of it hold state */
  private readonly accounts = new Map<string, number>();

  /** The state of an account and region, created when absent; throws `AccountLimitError` past `MAX_ACCOUNTS`. */
  state(account: string, region: string): RegistryState {
    const key = `${account}/${region}`;
    const existing = this.states.get(key);
    if (existing) return existing;
    if (!this.accounts.has(account) && this.accounts.size >= MAX_ACCOUNTS) throw new AccountLimitError(account);
    const state = new RegistryState(account, region);
    this.states.set(key, state);
    this.accounts.set(account, (this.accounts.get(account) ?? 0) + 1);
    return state;
  }

  /** Whether `state()` could create (or return) the state of this account without passing the account limit. */
  canHold(account: string): boolean {
    return this.accounts.has(account) || this.accounts.size < MAX_ACCOUNTS;
  }

  /** The state of an account and region, or a fresh detached one (not kept) when it holds none. */
  peek(account: string, region: string): RegistryState {
    return this.states.get(`${account}/${region}`) ?? new RegistryState(account, region);
  }

  /** Forgets a state (a request's state that ended up holding nothing). */
  release(state: RegistryState): void {
    const key = `${state.account}/${state.region}`;
    if (this.states.get(key) !== state) return;
    this.states.delete(key);
    const regions = (this.accounts.get(state.account) ?? 1) - 1;
    if (regions > 0) this.accounts.set(state.account, regions);
    else this.accounts.delete(state.account);
  }

  /** How many account/region states are held. */
  get size(): number {
    return this.states.size;
  }

  existing(account: string, region: string): RegistryState | undefined {
    return this.states.get(`${account}/${region}`);
  }

  all(): IterableIterator<RegistryState> {
    return this.states.values();
  }

  reset(): void {
    this.states.clear();
    this.accounts.clear();
  }
}
