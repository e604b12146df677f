import type { ECRClient, ImageDetail, Repository } from '@aws-sdk/client-ecr';
import { MEDIA_TYPES } from '@ecr-automation/local-registry/manifests';
import type { ImageRecord } from '../../shared/domain/image.ts';
import {
  COLUMN_MEDIA_TYPES,
  FLEET_PROFILE,
  generateShape,
  generateShapeColumns,
  type ImageColumns,
  STALE_PROFILE,
  toImageColumns,
  toImageRecords,
} from '../cleanup-lib.ts';
import { prng } from '../prng.ts';
import type { VirtualClock } from './clock.ts';
import type { Organisation, RepositorySpec, TargetSpec } from './organisation.ts';
import { type ApiRate, DEFAULT_RATES, FALLBACK_RATE } from './rates.ts';

/**
 * An in-process model of ECR for one organisation: per account and region, the repositories of `organisation.ts`,
 * their images generated when a repository is first read and dropped when the simulation says its cleanup is done
 * (`release`), request rates as token buckets per API, and a latency per call on the virtual clock. It answers from
 * inside each target's real `ECRClient` (`attach`), after the SDK's retry middleware, so that a throttled call is
 * retried by the SDK's adaptive strategy as a real one would be.
 */

/** The virtual latency of one answered call, ms: a base and a share per item in the request or the answer. */
export const LATENCY_MS: Readonly<Record<string, { base: number; perItem: number }>> = {
  DescribeImages: { base: 80, perItem: 0.05 },
  BatchGetImage: { base: 50, perItem: 0.3 },
  BatchDeleteImage: { base: 60, perItem: 0.9 },
  DescribeRepositories: { base: 60, perItem: 0.02 },
};
const DEFAULT_LATENCY = { base: 40, perItem: 0 };

/** The SDK's build-step middleware, which sets the HTTP request's headers (left out of the model's clients). */
const WIRE_ONLY_MIDDLEWARE = [
  'contentLengthMiddleware',
  'getUserAgentMiddleware',
  'hostHeaderMiddleware',
  'recursionDetectionMiddleware',
];
/** A throttled call is refused quickly. */
export const THROTTLED_LATENCY_MS = 20;

export interface ModelOptions {
  rates?: Partial<Record<string, ApiRate>>;
  /** The start of the simulation: images' push and pull times are relative to it. */
  epoch: number;
  /** Keep each repository's deleted digests after `release` (for tests; costs memory). */
  keepDeleted?: boolean;
  /**
   * Let the clients make the HTTP request as production's do (the SDK's serializer and the build step's headers),
   * though the model reads only the command's input: for comparing the figure with and without that work.
   */
  serializeRequests?: boolean;
}

/** ECR's service exception, shaped as the SDK's deserializer would throw it. */
export class ModelServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId: string };
  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, requestId: 'org-sim' };
  }
}

interface Bucket {
  rate: ApiRate;
  tokens: number;
  updatedAt: number;
}

/**
 * A repository being cleaned, held in columns (`ImageColumns`): its images, which of them are gone, their pull times
 * (updated by BatchGetImage), and two indexes in typed arrays: digest → position (open addressing) and, for each
 * child of an index, the indexes listing it.
 */
interface ActiveRepository {
  spec: RepositorySpec;
  images: ImageColumns;
  /** Positions + 1 by a digest's hash (`digestHash`), 0 for an empty slot; a power of two long. */
  slots: Int32Array;
  /** The indexes listing image `i` are `parentList[parentStart[i]]` up to `parentList[parentStart[i + 1]]`. */
  parentStart: Int32Array;
  parentList: Int32Array;
  deleted: Uint8Array;
  deletedCount: number;
  /** Tag → the first position carrying it, built on the first DescribeImages by tag. */
  byTag: Map<string, number> | undefined;
}

/** A hash of a digest string from its first hex characters (FNV-1a over 12 characters past `sha256:`). */
function digestHash(digest: string): number {
  let hash = 0x811c9dc5;
  for (let i = 7; i < 19; i++) hash = Math.imul(hash ^ digest.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** The position of `digest` in the repository, or undefined. */
function positionOf(repository: ActiveRepository, digest: string): number | undefined {
  const { slots } = repository;
  const { digests } = repository.images;
  const mask = slots.length - 1;
  for (let slot = digestHash(digest) & mask; ; slot = (slot + 1) & mask) {
    const entry = slots[slot] as number;
    if (entry === 0) return undefined;
    if (digests[entry - 1] === digest) return entry - 1;
  }
}

/** Always empty: asking it about a string makes V8 compute and keep the string's hash. */
const HASHED: ReadonlySet<string> = new Set();

/** The repository's indexes over its generated images. */
function indexed(spec: RepositorySpec, images: ImageColumns): ActiveRepository {
  const { count, digests, childStart, childList } = images;
  let size = 16;
  while (size < count * 2) size *= 2;
  const slots = new Int32Array(size);
  const mask = size - 1;
  // A digest met twice keeps its last position, as a map by digest would.
  for (let position = 0; position < count; position++) {
    const digest = digests[position] as string;
    // V8 computes a string's own hash on its first use as a key and keeps it in the string. Done here, on a string
    // just made, it is cheaper than in the worker's first map by digest, which then finds it done (the worker keys
    // several maps by the very strings the model answers with).
    HASHED.has(digest);
    let slot = digestHash(digest) & mask;
    for (;;) {
      const entry = slots[slot] as number;
      if (entry === 0 || digests[entry - 1] === digest) break;
      slot = (slot + 1) & mask;
    }
    slots[slot] = position + 1;
  }
  // Parents in the order of their positions: counted, then placed.
  const parentStart = new Int32Array(count + 1);
  for (let at = 0; at < childList.length; at++) (parentStart[(childList[at] as number) + 1] as number)++;
  for (let position = 0; position < count; position++) {
    parentStart[position + 1] = (parentStart[position + 1] as number) + (parentStart[position] as number);
  }
  const parentList = new Int32Array(childList.length);
  const filled = parentStart.slice(0, count);
  for (let parent = 0; parent < count; parent++) {
    for (let at = childStart[parent] as number; at < (childStart[parent + 1] as number); at++) {
      const child = childList[at] as number;
      parentList[filled[child] as number] = parent;
      filled[child] = (filled[child] as number) + 1;
    }
  }
  return {
    spec,
    images,
    slots,
    parentStart,
    parentList,
    deleted: new Uint8Array(count),
    deletedCount: 0,
    byTag: undefined,
  };
}

const ISO_LIKE = (ms: number) => new Date(ms);
const mediaType = (code: number): string | undefined => COLUMN_MEDIA_TYPES[code];

/** The manifest of an image as BatchGetImage returns it: an index lists its children, a referrer names its subject. */
function manifestOf(images: ImageColumns, position: number): string {
  const manifestType = mediaType(images.manifestType[position] as number);
  const first = images.childStart[position] as number;
  const end = images.childStart[position + 1] as number;
  if (manifestType === MEDIA_TYPES.ociIndex || manifestType === MEDIA_TYPES.dockerManifestList) {
    const manifests: { mediaType: string; digest: string; size: number }[] = [];
    for (let at = first; at < end; at++) {
      const child = images.childList[at] as number;
      manifests.push({
        mediaType: mediaType(images.manifestType[child] as number) ?? MEDIA_TYPES.ociManifest,
        digest: images.digests[child] as string,
        size: 1_024,
      });
    }
    return JSON.stringify({ schemaVersion: 2, mediaType: manifestType, manifests });
  }
  const subject = images.subjectDigests[position];
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: manifestType,
    config: {
      mediaType: mediaType(images.artifactType[position] as number) ?? MEDIA_TYPES.ociConfig,
      digest: images.digests[position],
      size: 2,
    },
    layers: [],
    ...(subject === undefined ? {} : { subject: { mediaType: MEDIA_TYPES.ociManifest, digest: subject, size: 1_024 } }),
  });
}

/** Counters of one target (account and region). */
export interface TargetCounters {
  accepted: Record<string, number>;
  throttled: Record<string, number>;
}

/** The model of one account and region. */
export class TargetModel {
  readonly counters: TargetCounters = { accepted: {}, throttled: {} };
  private readonly buckets = new Map<string, Bucket>();
  private readonly exclusions = new Set<string>();
  private readonly byName = new Map<string, RepositorySpec>();
  private readonly active = new Map<string, ActiveRepository>();
  private readonly jitter: () => number;

  constructor(
    readonly target: TargetSpec,
    private readonly clock: VirtualClock,
    private readonly model: EcrModel,
    /** The principal the target's client signs as (its role): excluded from pull-time updates once registered. */
    readonly principalArn: string,
  ) {
    for (const repository of target.repositories) this.byName.set(repository.name, repository);
    this.jitter = prng(target.repositories[0]?.seed ?? 1);
  }

  /** Takes one token of the operation's bucket, or says it is empty. */
  private admit(operation: string): boolean {
    let bucket = this.buckets.get(operation);
    const now = this.clock.now();
    if (bucket === undefined) {
      const rate = this.model.rateOf(operation);
      bucket = { rate, tokens: rate.burst, updatedAt: now };
      this.buckets.set(operation, bucket);
    }
    bucket.tokens = Math.min(
      bucket.rate.burst,
      bucket.tokens + ((now - bucket.updatedAt) / 1_000) * bucket.rate.perSecond,
    );
    bucket.updatedAt = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private count(which: 'accepted' | 'throttled', operation: string): void {
    this.counters[which][operation] = (this.counters[which][operation] ?? 0) + 1;
  }

  /** One call: throttled (after a short delay) or answered after the operation's latency. */
  async answer(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.admit(operation)) {
      this.count('throttled', operation);
      this.model.totals.throttled += 1;
      await this.clock.sleep(THROTTLED_LATENCY_MS);
      throw new ModelServiceError('ThrottlingException', `Rate exceeded for ${operation}`);
    }
    this.count('accepted', operation);
    this.model.totals.accepted += 1;
    const { output, items } = this.operate(operation, input);
    const latency = LATENCY_MS[operation] ?? DEFAULT_LATENCY;
    await this.clock.sleep((latency.base + latency.perItem * items) * (0.8 + 0.4 * this.jitter()));
    if (output instanceof Error) throw output;
    return typeof output === 'function' ? output() : output;
  }

  private operate(
    operation: string,
    input: Record<string, unknown>,
  ): { output: Record<string, unknown> | (() => Record<string, unknown>) | Error; items: number } {
    // ECR's request bounds ([M-ECR]): at most 100 image ids a call, pages of at most 1,000.
    const ids = input.imageIds;
    if (Array.isArray(ids) && (ids.length === 0 || ids.length > 100)) {
      return { output: new ModelServiceError('InvalidParameterException', `${ids.length} image ids`), items: 0 };
    }
    if (typeof input.maxResults === 'number' && (input.maxResults < 1 || input.maxResults > 1_000)) {
      return { output: new ModelServiceError('InvalidParameterException', `maxResults ${input.maxResults}`), items: 0 };
    }
    switch (operation) {
      case 'DescribeRepositories':
        return this.describeRepositories(input);
      case 'DescribeImages':
        return this.describeImages(input);
      case 'BatchGetImage':
        return this.batchGetImage(input);
      case 'BatchDeleteImage':
        return this.batchDeleteImage(input);
      case 'ListPullTimeUpdateExclusions':
        return { output: { pullTimeUpdateExclusions: [...this.exclusions] }, items: 0 };
      case 'RegisterPullTimeUpdateExclusion': {
        const principal = String(input.principalArn);
        if (this.exclusions.has(principal)) {
          return { output: new ModelServiceError('ExclusionAlreadyExistsException', 'already excluded'), items: 0 };
        }
        this.exclusions.add(principal);
        return { output: { principalArn: principal }, items: 0 };
      }
      default:
        return {
          output: new ModelServiceError('UnsupportedOperation', `the organisation model does not answer ${operation}`),
          items: 0,
        };
    }
  }

  private repositoryOf(spec: RepositorySpec): Repository {
    const { account, region } = this.target;
    return {
      repositoryName: spec.name,
      repositoryArn: `arn:aws:ecr:${region}:${account}:repository/${spec.name}`,
      registryId: account,
      repositoryUri: `${account}.dkr.ecr.${region}.amazonaws.com/${spec.name}`,
      createdAt: ISO_LIKE(this.model.epoch - 400 * 86_400_000),
      imageTagMutability: 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'AES256' },
    };
  }

  private describeRepositories(input: Record<string, unknown>) {
    const names = input.repositoryNames as string[] | undefined;
    if (names !== undefined) {
      const found = names.map((name) => this.byName.get(name));
      if (found.some((spec) => spec === undefined)) {
        return { output: new ModelServiceError('RepositoryNotFoundException', 'repository not found'), items: 0 };
      }
      return { output: { repositories: (found as RepositorySpec[]).map((spec) => this.repositoryOf(spec)) }, items: 1 };
    }
    const all = this.target.repositories;
    const start = input.nextToken === undefined ? 0 : Number(input.nextToken);
    const size = Math.min(1_000, Number(input.maxResults ?? 100));
    const page = all.slice(start, start + size).map((spec) => this.repositoryOf(spec));
    const next = start + size;
    return {
      output: { repositories: page, ...(next < all.length ? { nextToken: String(next) } : {}) },
      items: page.length,
    };
  }

  /** The repository's images, generated on first read. */
  private activate(name: string): ActiveRepository | undefined {
    const existing = this.active.get(name);
    if (existing !== undefined) return existing;
    const spec = this.byName.get(name);
    if (spec === undefined) return undefined;
    const repository = indexed(spec, this.model.columnsOf(spec));
    this.active.set(name, repository);
    this.model.noteActive(repository.images.count);
    return repository;
  }

  /** DescribeImages' answer for one image: one object of one shape, whatever the image (absent members undefined). */
  private detailOf(repository: ActiveRepository, position: number, pulled: number): ImageDetail {
    const images = repository.images;
    const tags = images.tags[position];
    return {
      registryId: this.target.account,
      repositoryName: repository.spec.name,
      imageDigest: images.digests[position],
      imageTags: tags as string[] | undefined,
      imageSizeInBytes: images.sizeInBytes[position],
      imagePushedAt: new Date(images.pushedAt[position] as number),
      lastRecordedPullTime: Number.isNaN(pulled) ? undefined : new Date(pulled),
      imageManifestMediaType: mediaType(images.manifestType[position] as number),
      artifactMediaType: mediaType(images.artifactType[position] as number),
      subjectManifestDigest: images.subjectDigests[position],
      imageStatus: 'ACTIVE',
    };
  }

  /** The first position carrying `tag`, deleted or not. */
  private taggedAt(repository: ActiveRepository, tag: string): number | undefined {
    if (repository.byTag === undefined) {
      const byTag = new Map<string, number>();
      repository.images.tags.forEach((tags, position) => {
        if (tags === undefined) return;
        for (const one of tags) if (!byTag.has(one)) byTag.set(one, position);
      });
      repository.byTag = byTag;
    }
    return repository.byTag.get(tag);
  }

  private notFound(name: string) {
    return {
      output: new ModelServiceError('RepositoryNotFoundException', `The repository '${name}' does not exist`),
      items: 0,
    };
  }

  private describeImages(input: Record<string, unknown>) {
    const name = String(input.repositoryName);
    const repository = this.activate(name);
    if (repository === undefined) return this.notFound(name);
    const ids = input.imageIds as { imageDigest?: string; imageTag?: string }[] | undefined;
    // The answer is the state when the request arrives; its objects are made when it is delivered, after the
    // call's latency (`answer`), so that hundreds of pages in flight are not held, and promoted, meanwhile.
    const positions: number[] = [];
    if (ids !== undefined) {
      for (const id of ids) {
        const position =
          id.imageDigest !== undefined
            ? positionOf(repository, id.imageDigest)
            : this.taggedAt(repository, id.imageTag ?? '');
        if (position === undefined || repository.deleted[position] === 1) {
          return {
            output: new ModelServiceError('ImageNotFoundException', `image ${id.imageDigest ?? id.imageTag} not found`),
            items: ids.length,
          };
        }
        positions.push(position);
      }
      const pulled = this.pullTimesAt(repository, positions);
      return {
        output: () => ({ imageDetails: positions.map((at, i) => this.detailOf(repository, at, pulled[i] as number)) }),
        items: positions.length,
      };
    }
    const size = Math.min(1_000, Number(input.maxResults ?? 100));
    let position = input.nextToken === undefined ? 0 : Number(input.nextToken);
    const { deleted } = repository;
    const count = repository.images.count;
    for (; position < count && positions.length < size; position++) {
      if (deleted[position] === 0) positions.push(position);
    }
    while (position < count && deleted[position] === 1) position++;
    const pulled = this.pullTimesAt(repository, positions);
    const nextToken = position < count ? String(position) : undefined;
    return {
      output: () => ({
        imageDetails: positions.map((at, i) => this.detailOf(repository, at, pulled[i] as number)),
        ...(nextToken === undefined ? {} : { nextToken }),
      }),
      items: positions.length,
    };
  }

  /** The pull times of these images now (a later BatchGetImage may move them before the answer is delivered). */
  private pullTimesAt(repository: ActiveRepository, positions: readonly number[]): Float64Array {
    const pulled = new Float64Array(positions.length);
    positions.forEach((at, i) => {
      pulled[i] = repository.images.lastPulledAt[at] as number;
    });
    return pulled;
  }

  private batchGetImage(input: Record<string, unknown>) {
    const name = String(input.repositoryName);
    const repository = this.activate(name);
    if (repository === undefined) return this.notFound(name);
    const ids = (input.imageIds as { imageDigest?: string }[] | undefined) ?? [];
    const excluded = this.exclusions.has(this.principalArn);
    const { images } = repository;
    const answered: Record<string, unknown>[] = [];
    const failures: Record<string, unknown>[] = [];
    for (const id of ids) {
      const position = id.imageDigest === undefined ? undefined : positionOf(repository, id.imageDigest);
      if (position === undefined || repository.deleted[position] === 1) {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
        continue;
      }
      if (!excluded) images.lastPulledAt[position] = this.clock.now();
      answered.push({
        registryId: this.target.account,
        repositoryName: name,
        imageId: { imageDigest: images.digests[position] },
        imageManifest: manifestOf(images, position),
        imageManifestMediaType: mediaType(images.manifestType[position] as number),
      });
    }
    return { output: { images: answered, failures }, items: ids.length };
  }

  private batchDeleteImage(input: Record<string, unknown>) {
    const name = String(input.repositoryName);
    const repository = this.activate(name);
    if (repository === undefined) return this.notFound(name);
    const ids = (input.imageIds as { imageDigest?: string }[] | undefined) ?? [];
    const imageIds: Record<string, unknown>[] = [];
    const failures: Record<string, unknown>[] = [];
    const positions = ids.map((id) =>
      id.imageDigest === undefined ? undefined : positionOf(repository, id.imageDigest),
    );
    // The batch's own indexes go first: a child they list is deletable in the same batch. (Made for the first child
    // met: most batches have none.)
    let inBatch: Set<number> | undefined;
    const { deleted, parentStart, parentList } = repository;
    ids.forEach((id, i) => {
      const position = positions[i];
      if (position === undefined || deleted[position] === 1) {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
        return;
      }
      for (let at = parentStart[position] as number; at < (parentStart[position + 1] as number); at++) {
        const parent = parentList[at] as number;
        if (deleted[parent] === 1) continue;
        inBatch ??= new Set(positions.filter((p): p is number => p !== undefined));
        if (!inBatch.has(parent)) {
          failures.push({
            imageId: id,
            failureCode: 'ImageReferencedByManifestList',
            failureReason: 'Requested image is referenced by an image index',
          });
          return;
        }
      }
      deleted[position] = 1;
      repository.deletedCount += 1;
      imageIds.push({ imageDigest: id.imageDigest });
    });
    this.model.totals.deleted += imageIds.length;
    return { output: { imageIds, failures }, items: ids.length };
  }

  /** The repository's cleanup is over: its counts are kept, its images dropped. */
  release(name: string): void {
    const repository = this.active.get(name);
    if (repository === undefined) return;
    this.model.recordDone(repository.spec, repository.deletedCount, () =>
      repository.images.digests.filter((_, position) => repository.deleted[position] === 1),
    );
    this.active.delete(name);
    this.model.noteActive(-repository.images.count);
  }

  /** Repositories still holding generated images. */
  activeNames(): string[] {
    return [...this.active.keys()];
  }
}

/** The model of the whole organisation: one `TargetModel` per account and region. */
export class EcrModel {
  readonly epoch: number;
  readonly totals = { accepted: 0, throttled: 0, deleted: 0 };
  /** Images deleted per repository (by `RepositorySpec.index`), filled as repositories are released. */
  readonly deletedByRepository: Int32Array;
  /** With `keepDeleted`: each released repository's deleted digests. */
  readonly deletedDigests = new Map<number, string[]>();
  /** Images held in generated repositories now, and at most. */
  readonly held = { now: 0, peak: 0 };
  private readonly rates: Record<string, ApiRate>;
  private readonly targets = new Map<string, TargetModel>();

  constructor(
    readonly organisation: Organisation,
    readonly clock: VirtualClock,
    private readonly options: ModelOptions,
    principalOf: (target: TargetSpec) => string,
  ) {
    this.epoch = options.epoch;
    this.rates = { ...DEFAULT_RATES };
    for (const [operation, rate] of Object.entries(options.rates ?? {})) if (rate) this.rates[operation] = rate;
    this.deletedByRepository = new Int32Array(organisation.repositories.length);
    for (const target of organisation.targets) {
      this.targets.set(`${target.account}/${target.region}`, new TargetModel(target, clock, this, principalOf(target)));
    }
  }

  /**
   * A repository's images as generated (before any deletion), as the gather sees them: DescribeImages' fields and
   * each index's children. The same seed gives the same images every time.
   */
  recordsOf(spec: RepositorySpec): ImageRecord[] {
    const random = prng(spec.seed);
    const shape = generateShape(spec.images, spec.stale ? STALE_PROFILE : FLEET_PROFILE, random);
    return toImageRecords(shape, this.epoch, random);
  }

  /** `recordsOf`'s images in columns (`toImageColumns`), as the model holds them: the same draws, the same images. */
  columnsOf(spec: RepositorySpec): ImageColumns {
    const random = prng(spec.seed);
    const shape = generateShapeColumns(spec.images, spec.stale ? STALE_PROFILE : FLEET_PROFILE, random);
    return toImageColumns(shape, this.epoch, random);
  }

  rateOf(operation: string): ApiRate {
    return this.rates[operation] ?? FALLBACK_RATE;
  }

  target(account: string, region: string): TargetModel {
    const model = this.targets.get(`${account}/${region}`);
    if (model === undefined) throw new Error(`no account ${account} in ${region} in the organisation`);
    return model;
  }

  allTargets(): TargetModel[] {
    return [...this.targets.values()];
  }

  noteActive(images: number): void {
    this.held.now += images;
    if (this.held.now > this.held.peak) this.held.peak = this.held.now;
  }

  recordDone(spec: RepositorySpec, deleted: number, digests: () => string[]): void {
    this.deletedByRepository[spec.index] = deleted;
    if (this.options.keepDeleted) this.deletedDigests.set(spec.index, digests());
  }

  /**
   * Makes `client` answer from this model for `account` in `region`: a middleware placed right after the SDK's
   * retry middleware (`finalizeRequest`) answers every request without sending it, so that the retry middleware,
   * with its adaptive rate limiter, wraps the model. (It sits before signing, which would only cost time here, and
   * before the deserialize step's middlewares, so the gateway's count of the SDK's re-sends stays at zero: the
   * model counts throttled calls itself.)
   */
  attach(client: ECRClient, account: string, region: string): ECRClient {
    const target = this.target(account, region);
    const answering = (_next: unknown, context: { commandName?: string }) => async (args: { input: object }) => {
      const operation = String(context.commandName).replace(/Command$/, '');
      const output = await target.answer(operation, args.input as Record<string, unknown>);
      return {
        output: { ...output, $metadata: { httpStatusCode: 200, requestId: 'org-sim' } },
        response: { statusCode: 200, headers: {} },
      };
    };
    client.middlewareStack.addRelativeTo(
      answering as unknown as Parameters<typeof client.middlewareStack.addRelativeTo>[0],
      {
        relation: 'after',
        toMiddleware: 'retryMiddleware',
        name: 'organisationModel',
        override: true,
      },
    );
    // The model reads the command's input, not an HTTP request: the SDK's making of one (the serializer, then the
    // build step's headers) is work for the network alone, as signing is, and is left out unless asked for.
    if (this.options.serializeRequests === true) return client;
    client.middlewareStack.add(((next: (args: object) => unknown) => (args: object) => next(args)) as never, {
      step: 'serialize',
      name: 'serializerMiddleware',
      override: true,
    });
    for (const name of WIRE_ONLY_MIDDLEWARE) client.middlewareStack.remove(name);
    return client;
  }
}
