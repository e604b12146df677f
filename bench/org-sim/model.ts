import type { ECRClient, ImageDetail, Repository } from '@aws-sdk/client-ecr';
import { MEDIA_TYPES } from '@ecr-automation/local-registry';
import type { ImageRecord } from '../../shared/domain/image.ts';
import { FLEET_PROFILE, generateShape, prng, STALE_PROFILE, toImageRecords } from '../cleanup-lib.ts';
import type { VirtualClock } from './clock.ts';
import type { Organisation, RepositorySpec, TargetSpec } from './organisation.ts';

/**
 * An in-process model of ECR for one organisation: per account and region, the repositories of `organisation.ts`,
 * their images generated when a repository is first read and dropped when the simulation says its cleanup is done
 * (`release`), request rates as token buckets per API, and a latency per call on the virtual clock. It answers from
 * inside each target's real `ECRClient` (`attach`), after the SDK's retry middleware, so that a throttled call is
 * retried by the SDK's adaptive strategy as a real one would be.
 */

/** A request rate: tokens per second, and the bucket's size (the burst a quiet client may send at once). */
export interface ApiRate {
  perSecond: number;
  burst: number;
}

/**
 * The request rates per account and region. ECR's user guide publishes rates for a few APIs only
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html, [UG-QUOTA] in
 * docs/ecr-limits.md#service-quotas): BatchGetImage 2,000 per second (and PutImage 10, which the cleanup does not
 * call). It publishes none for DescribeImages, BatchDeleteImage, DescribeRepositories or the pull-time exclusion
 * calls; for those the values below are conservative choices of this simulation (UNCONFIRMED: AWS states no
 * figure), each overridable with BENCH_ORG_RATE_<Operation>=<perSecond>[:<burst>].
 */
export const DEFAULT_RATES: Readonly<Record<string, ApiRate>> = {
  // Published: 2,000 per second.
  BatchGetImage: { perSecond: 2_000, burst: 2_000 },
  // Not published: chosen.
  DescribeImages: { perSecond: 20, burst: 40 },
  BatchDeleteImage: { perSecond: 10, burst: 20 },
  DescribeRepositories: { perSecond: 10, burst: 20 },
  ListPullTimeUpdateExclusions: { perSecond: 5, burst: 10 },
  RegisterPullTimeUpdateExclusion: { perSecond: 5, burst: 10 },
};

/** Any operation not listed above. */
export const FALLBACK_RATE: ApiRate = { perSecond: 5, burst: 10 };

/** The virtual latency of one answered call, ms: a base and a share per item in the request or the answer. */
export const LATENCY_MS: Readonly<Record<string, { base: number; perItem: number }>> = {
  DescribeImages: { base: 80, perItem: 0.05 },
  BatchGetImage: { base: 50, perItem: 0.3 },
  BatchDeleteImage: { base: 60, perItem: 0.9 },
  DescribeRepositories: { base: 60, perItem: 0.02 },
};
const DEFAULT_LATENCY = { base: 40, perItem: 0 };
/** A throttled call is refused quickly. */
export const THROTTLED_LATENCY_MS = 20;

export interface ModelOptions {
  rates?: Partial<Record<string, ApiRate>>;
  /** The start of the simulation: images' push and pull times are relative to it. */
  epoch: number;
  /** Keep each repository's deleted digests after `release` (for tests; costs memory). */
  keepDeleted?: boolean;
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

/** A repository being cleaned: its images, which of them are gone, pulls recorded since generation. */
interface ActiveRepository {
  spec: RepositorySpec;
  records: ImageRecord[];
  byDigest: Map<string, number>;
  /** For each child of an index: the indexes listing it. */
  parents: Map<number, number[]>;
  deleted: Uint8Array;
  deletedCount: number;
  pulledAt: Map<number, number>;
}

const ISO_LIKE = (ms: number) => new Date(ms);

/** The manifest of an image as BatchGetImage returns it: an index lists its children, a referrer names its subject. */
function manifestOf(record: ImageRecord, records: { get(digest: string): ImageRecord | undefined }): string {
  if (record.childDigests !== undefined) {
    return JSON.stringify({
      schemaVersion: 2,
      mediaType: record.manifestMediaType,
      manifests: record.childDigests.map((digest) => ({
        mediaType: records.get(digest)?.manifestMediaType ?? MEDIA_TYPES.ociManifest,
        digest,
        size: 1_024,
      })),
    });
  }
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: record.manifestMediaType,
    config: { mediaType: record.artifactMediaType ?? MEDIA_TYPES.ociConfig, digest: record.digest, size: 2 },
    layers: [],
    ...(record.subjectDigest === undefined
      ? {}
      : { subject: { mediaType: MEDIA_TYPES.ociManifest, digest: record.subjectDigest, size: 1_024 } }),
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
    return output;
  }

  private operate(
    operation: string,
    input: Record<string, unknown>,
  ): { output: Record<string, unknown> | Error; items: number } {
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
    const records = this.model.recordsOf(spec);
    const byDigest = new Map<string, number>();
    const parents = new Map<number, number[]>();
    for (const [position, record] of records.entries()) byDigest.set(record.digest, position);
    records.forEach((record, position) => {
      for (const child of record.childDigests ?? []) {
        const at = byDigest.get(child);
        if (at === undefined) continue;
        const list = parents.get(at);
        if (list === undefined) parents.set(at, [position]);
        else list.push(position);
      }
    });
    const repository: ActiveRepository = {
      spec,
      records,
      byDigest,
      parents,
      deleted: new Uint8Array(records.length),
      deletedCount: 0,
      pulledAt: new Map(),
    };
    this.active.set(name, repository);
    this.model.noteActive(records.length);
    return repository;
  }

  private detailOf(repository: ActiveRepository, position: number): ImageDetail {
    const record = repository.records[position] as ImageRecord;
    const pulled = repository.pulledAt.get(position) ?? record.lastPulledAt;
    return {
      registryId: this.target.account,
      repositoryName: repository.spec.name,
      imageDigest: record.digest,
      ...(record.tags.length > 0 ? { imageTags: [...record.tags] } : {}),
      imageSizeInBytes: record.sizeInBytes,
      imagePushedAt: new Date(record.pushedAt),
      ...(pulled === undefined ? {} : { lastRecordedPullTime: new Date(pulled) }),
      ...(record.manifestMediaType === undefined ? {} : { imageManifestMediaType: record.manifestMediaType }),
      ...(record.artifactMediaType === undefined ? {} : { artifactMediaType: record.artifactMediaType }),
      ...(record.subjectDigest === undefined ? {} : { subjectManifestDigest: record.subjectDigest }),
      imageStatus: 'ACTIVE',
    };
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
    if (ids !== undefined) {
      const details: ImageDetail[] = [];
      for (const id of ids) {
        const position =
          id.imageDigest !== undefined
            ? repository.byDigest.get(id.imageDigest)
            : repository.records.findIndex((record) => record.tags.includes(id.imageTag ?? ''));
        if (position === undefined || position < 0 || repository.deleted[position] === 1) {
          return {
            output: new ModelServiceError('ImageNotFoundException', `image ${id.imageDigest ?? id.imageTag} not found`),
            items: ids.length,
          };
        }
        details.push(this.detailOf(repository, position));
      }
      return { output: { imageDetails: details }, items: details.length };
    }
    const size = Math.min(1_000, Number(input.maxResults ?? 100));
    let position = input.nextToken === undefined ? 0 : Number(input.nextToken);
    const details: ImageDetail[] = [];
    const count = repository.records.length;
    for (; position < count && details.length < size; position++) {
      if (repository.deleted[position] === 0) details.push(this.detailOf(repository, position));
    }
    while (position < count && repository.deleted[position] === 1) position++;
    return {
      output: { imageDetails: details, ...(position < count ? { nextToken: String(position) } : {}) },
      items: details.length,
    };
  }

  private batchGetImage(input: Record<string, unknown>) {
    const name = String(input.repositoryName);
    const repository = this.activate(name);
    if (repository === undefined) return this.notFound(name);
    const ids = (input.imageIds as { imageDigest?: string }[] | undefined) ?? [];
    const records = {
      get: (digest: string) => {
        const position = repository.byDigest.get(digest);
        return position === undefined ? undefined : repository.records[position];
      },
    };
    const excluded = this.exclusions.has(this.principalArn);
    const images: Record<string, unknown>[] = [];
    const failures: Record<string, unknown>[] = [];
    for (const id of ids) {
      const position = id.imageDigest === undefined ? undefined : repository.byDigest.get(id.imageDigest);
      if (position === undefined || repository.deleted[position] === 1) {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
        continue;
      }
      const record = repository.records[position] as ImageRecord;
      if (!excluded) repository.pulledAt.set(position, this.clock.now());
      images.push({
        registryId: this.target.account,
        repositoryName: name,
        imageId: { imageDigest: record.digest },
        imageManifest: manifestOf(record, records),
        imageManifestMediaType: record.manifestMediaType,
      });
    }
    return { output: { images, failures }, items: ids.length };
  }

  private batchDeleteImage(input: Record<string, unknown>) {
    const name = String(input.repositoryName);
    const repository = this.activate(name);
    if (repository === undefined) return this.notFound(name);
    const ids = (input.imageIds as { imageDigest?: string }[] | undefined) ?? [];
    const imageIds: Record<string, unknown>[] = [];
    const failures: Record<string, unknown>[] = [];
    const positions = ids.map((id) =>
      id.imageDigest === undefined ? undefined : repository.byDigest.get(id.imageDigest),
    );
    // The batch's own indexes go first: a child they list is deletable in the same batch.
    const inBatch = new Set(positions.filter((p): p is number => p !== undefined));
    ids.forEach((id, i) => {
      const position = positions[i];
      if (position === undefined || repository.deleted[position] === 1) {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
        return;
      }
      const listedBy = (repository.parents.get(position) ?? []).filter(
        (parent) => repository.deleted[parent] === 0 && !inBatch.has(parent),
      );
      if (listedBy.length > 0) {
        failures.push({
          imageId: id,
          failureCode: 'ImageReferencedByManifestList',
          failureReason: 'Requested image is referenced by an image index',
        });
        return;
      }
      repository.deleted[position] = 1;
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
      repository.records.filter((_, position) => repository.deleted[position] === 1).map((record) => record.digest),
    );
    this.active.delete(name);
    this.model.noteActive(-repository.records.length);
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
    return client;
  }
}
