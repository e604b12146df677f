import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  BatchGetRepositoryScanningConfigurationCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  type ECRClient,
  GetRegistryScanningConfigurationCommand,
  ListImageReferrersCommand,
  ListPullTimeUpdateExclusionsCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  paginateDescribeImageScanFindings,
  paginateDescribeImages,
  paginateDescribeRepositories,
  RegisterPullTimeUpdateExclusionCommand,
  StartImageScanCommand,
  UpdateImageStorageClassCommand,
} from '@aws-sdk/client-ecr';
import { z } from 'zod';
import type { ImageRecord } from '../domain/image.ts';
import { chunk, countedSending, notInResponse, runInRounds, unique } from './calls.ts';
import {
  EcrGatewayError,
  ImageNotFoundError,
  InvalidRequestError,
  ReadOnlyViolationError,
  RepositoryNotFoundError,
  toGatewayError,
} from './errors.ts';
import {
  DEFAULT_ITEM_RETRY_DELAY_MS,
  DEFAULT_MAX_ITEM_RETRIES,
  DESCRIBE_IMAGES_PAGE_SIZE,
  DESCRIBE_REPOSITORIES_PAGE_SIZE,
  DESCRIBE_SCAN_FINDINGS_PAGE_SIZE,
  LIST_PULL_TIME_EXCLUSIONS_PAGE_SIZE,
  LIST_REFERRERS_PAGE_SIZE,
  MAX_IMAGE_IDS_PER_BATCH,
  MAX_REPOSITORIES_PER_SCANNING_CONFIGURATION_BATCH,
  MAX_TAG_MUTABILITY_EXCLUSION_FILTERS,
} from './limits.ts';
import {
  ACCEPTED_MANIFEST_MEDIA_TYPES,
  byDigest,
  byTag,
  IMAGE_NOT_FOUND,
  required,
  toImageRecord,
  toItemFailure,
  toManifestRecord,
  toReferrerRecord,
  toRegistryScanningSettings,
  toRepositoryScanningFailure,
  toRepositoryScanningSettings,
  toRepositorySummary,
  toScanFindingsPage,
  toSdkExclusionFilters,
  toTagMutabilitySettings,
} from './mapping.ts';
import { type RegistrySettingsMethods, registrySettingsMethods } from './registry-settings.ts';
import type {
  DeleteOutcome,
  EcrOperation,
  ItemFailure,
  ManifestRecord,
  ReferrerRecord,
  RegistryScanningSettings,
  RepositoryScanningFailure,
  RepositoryScanningSettings,
  RepositorySummary,
  ScanFindingsPage,
  ScanStartOutcome,
  TagImageOutcome,
  TagMutability,
  TagMutabilitySettings,
  UntagOutcome,
} from './types.ts';

export interface EcrGatewayOptions {
  /** Dry run: every mutating method throws `ReadOnlyViolationError` before sending anything. Default false. */
  readOnly?: boolean;
  /** Rounds of re-tries for per-id failures with a retryable code (0–10). Default 3. */
  maxItemRetries?: number;
  /** Delay before the first re-try round, ms; doubled every round, with jitter (0–60,000). Default 200. */
  itemRetryDelayMs?: number;
}

const EcrGatewayOptionsSchema = z.strictObject({
  readOnly: z.boolean().default(false),
  maxItemRetries: z.number().int().min(0).max(10).default(DEFAULT_MAX_ITEM_RETRIES),
  itemRetryDelayMs: z.number().int().min(0).max(60_000).default(DEFAULT_ITEM_RETRY_DELAY_MS),
});

/**
 * The one module through which the product talks to ECR. It speaks domain words (images, digests, tags), pages
 * every list with the largest page ECR allows, batches every multi-id call at ECR's cap and returns per-id
 * failures as values, maps every ECR exception to an `EcrGatewayError`, and refuses to mutate when read-only.
 *
 * Retries come in two layers. The client's (see `createEcrClient`): the SDK's adaptive mode re-sends a request
 * that was throttled or failed with 5xx. The gateway's: ids that a batch call reports as failed with a retryable
 * code are re-sent, in at most `maxItemRetries` further rounds with exponential back-off and jitter.
 */
export interface EcrGateway extends RegistrySettingsMethods {
  readonly readOnly: boolean;

  /**
   * ECR calls made so far, per operation, as ECR counts them: one per request the gateway sent (a page, a batch, a
   * re-try round), and one more for each of the SDK's own re-sends of a throttled or failed request.
   */
  callCounts(): Record<string, number>;

  /** Every repository of the registry (DescribeRepositories, pages of 1000). */
  listRepositories(): AsyncIterable<RepositorySummary>;

  /** One repository (DescribeRepositories by name). Throws `RepositoryNotFoundError`. */
  getRepository(name: string): Promise<RepositorySummary>;

  /**
   * The repository's images, one page (≤ 1000 images, never empty) at a time (DescribeImages). Records have no
   * `childDigests`: those need the manifests (`getManifests`). Archived images are listed only with
   * `imageStatus: 'ANY'` (or `ARCHIVED`, `ACTIVATING`); ECR's default is ACTIVE images.
   *
   * @example
   * ```ts
   * const images: ImageRecord[] = [];
   * for await (const page of gateway.listImages('team/app')) images.push(...page);
   * ```
   */
  listImages(
    repositoryName: string,
    options?: { tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY'; imageStatus?: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING' | 'ANY' },
  ): AsyncIterable<ImageRecord[]>;

  /**
   * Images by digest, in batches of 100 (DescribeImages by id), in the order given. DescribeImages fails the whole
   * request with ImageNotFoundException when any id is missing, so a failed batch is split in halves and each half
   * asked again (recursively): present images are still returned and the missing ones reported. That costs extra
   * calls only when images vanished (about 2·log2(100) per missing digest).
   */
  describeImages(
    repositoryName: string,
    digests: readonly string[],
  ): Promise<{ images: ImageRecord[]; missing: string[] }>;

  /**
   * The image a tag names now (DescribeImages by tag), or undefined when no image carries the tag
   * (ImageNotFoundException). Throws `RepositoryNotFoundError` when the repository is gone.
   */
  findImageByTag(repositoryName: string, tag: string): Promise<ImageRecord | undefined>;

  /**
   * Manifests by digest, byte-exact, in batches of 100 (BatchGetImage, accepting every manifest and index media
   * type); per-id failures are returned, retryable ones re-tried first. NOTE: in ECR this is the pull API, so it
   * records a pull (`lastRecordedPullTime`) on each image returned; it is still allowed in read-only mode.
   */
  getManifests(
    repositoryName: string,
    digests: readonly string[],
  ): Promise<{ manifests: ManifestRecord[]; failures: ItemFailure[] }>;

  /**
   * Deletes images by digest with all their tags (BatchDeleteImage), in the order given, in batches of 100 sent
   * one after the other: a caller that orders indexes before their children never sees a child refused as
   * `ImageReferencedByManifestList` because its index was in a later batch. Retryable failures are re-tried in up to
   * `maxItemRetries` rounds; `ImageNotFound` counts as done (`alreadyGone`). Refused in read-only mode.
   */
  deleteImages(repositoryName: string, digests: readonly string[]): Promise<DeleteOutcome>;

  /**
   * Removes tags (BatchDeleteImage by tag). An image keeps its other tags; it is deleted only when the tag was its
   * last one. A tag that no longer exists counts as done (`alreadyGone`). Refused in read-only mode.
   */
  untagImages(repositoryName: string, tags: readonly string[]): Promise<UntagOutcome>;

  /** The registry's scanning configuration (GetRegistryScanningConfiguration). */
  getRegistryScanningConfiguration(): Promise<RegistryScanningSettings>;

  /**
   * The effective scanning configuration of each repository (BatchGetRepositoryScanningConfiguration, batches of
   * 25); a repository ECR does not know is a failure entry, not an exception.
   */
  getRepositoryScanningConfigurations(
    repositoryNames: readonly string[],
  ): Promise<{ configurations: RepositoryScanningSettings[]; failures: RepositoryScanningFailure[] }>;

  /**
   * Starts a basic scan of one image (StartImageScan). When ECR declines because of the scan quota (one scan per
   * image per 24 h, scan on push included), an unsupported image type or an archived image, the outcome says so
   * (`started: false`) instead of throwing; anything else throws. Refused in read-only mode.
   */
  startImageScan(repositoryName: string, digest: string): Promise<ScanStartOutcome>;

  /**
   * The findings of an image's latest scan, basic and enhanced, one page (≤ 1000 findings) at a time
   * (DescribeImageScanFindings). Throws `ScanNotFoundError` when the image was never scanned.
   */
  getScanFindings(repositoryName: string, digest: string): AsyncIterable<ScanFindingsPage>;

  /**
   * Sets the repository's tag mutability (PutImageTagMutability). `exclusionPatterns` are `WILDCARD` tag patterns
   * (at most 5), for the `*_WITH_EXCLUSION` settings. Refused in read-only mode.
   */
  putTagMutability(
    repositoryName: string,
    mutability: TagMutability,
    exclusionPatterns?: readonly string[],
  ): Promise<TagMutabilitySettings>;

  /** OCI 1.1 referrers (signatures, attestations, SBOMs) of one image (ListImageReferrers, pages of 50). */
  listImageReferrers(repositoryName: string, digest: string): AsyncIterable<ReferrerRecord>;

  /** IAM principals whose image reads do not move `lastRecordedPullTime` (ListPullTimeUpdateExclusions). */
  listPullTimeExclusions(): Promise<string[]>;

  /**
   * Excludes a principal from pull-time updates (RegisterPullTimeUpdateExclusion), so that its manifest reads do not
   * make images look pulled. Already excluded counts as done (`registered: false`). Refused in read-only mode.
   */
  excludeFromPullTime(principalArn: string): Promise<{ registered: boolean }>;

  /**
   * Adds a tag to an image already in the repository: reads its manifest (BatchGetImage) and pushes the same bytes
   * again under the tag (PutImage with the digest, so that ECR checks the manifest is the one named). Nothing is
   * uploaded and the digest does not change. An image that already carries the tag is `already-tagged`. Throws
   * `ImageNotFoundError` when the image is gone. NOTE: the BatchGetImage read records a pull on the image. Refused in
   * read-only mode.
   */
  tagImage(repositoryName: string, digest: string, tag: string): Promise<TagImageOutcome>;

  /**
   * Moves an image (by digest or tag) to ECR's archive (`ARCHIVE`) or brings it back (`STANDARD`: ACTIVATING until
   * the restore completes, up to 20 minutes in ECR); returns its digest and status afterwards. An image an active
   * index lists cannot be archived on its own (`InvalidRequestError`, code
   * `ImageStorageClassUpdateNotSupportedException`). Refused in read-only mode.
   */
  updateImageStorageClass(
    repositoryName: string,
    image: { digest: string } | { tag: string },
    target: 'ARCHIVE' | 'STANDARD',
  ): Promise<{ digest: string; status: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING' }>;
}

/** Exceptions of StartImageScan that are answers about the image, not failures of the call. */
const SCAN_DECLINED: Readonly<Record<string, 'scan-quota-exceeded' | 'unsupported-image-type' | 'image-archived'>> = {
  LimitExceededException: 'scan-quota-exceeded',
  UnsupportedImageTypeException: 'unsupported-image-type',
  ImageArchivedException: 'image-archived',
};

/**
 * Builds the gateway around one `ECRClient` (from `createEcrClient`, or a client aimed at the local registry).
 * The client must be a real `ECRClient`: the SDK paginators check `instanceof` (aws-sdk-client-mock patches the
 * class in place, so mocked clients qualify).
 *
 * @example
 * ```ts
 * const gateway = createEcrGateway(createEcrClient(), { readOnly: config.cleanup.dryRun });
 * const outcome = await gateway.deleteImages('team/app', plan.toDelete);
 * ```
 */
export function createEcrGateway(sdkClient: ECRClient, options: EcrGatewayOptions = {}): EcrGateway {
  const parsed = EcrGatewayOptionsSchema.safeParse(options);
  if (!parsed.success) throw new RangeError(`Invalid EcrGatewayOptions:\n${z.prettifyError(parsed.error)}`);
  const settings = parsed.data;
  const { client, call, paged, callCounts } = countedSending<EcrOperation, ECRClient>(sdkClient, toGatewayError);

  const refuseWhenReadOnly = (operation: EcrOperation, repository?: string) => {
    if (settings.readOnly) throw new ReadOnlyViolationError(operation, repository);
  };

  /**
   * BatchDeleteImage by digest (the image and all its tags go) or by tag (only that tag, unless it was the image's
   * last), in the order given, in batches of 100 sent one after the other, with retryable failures re-tried in rounds.
   * `ImageNotFound` counts as done (`alreadyGone`); an id the response does not mention is re-tried, never assumed done.
   */
  async function batchDelete(repositoryName: string, ids: readonly string[], key: 'digest' | 'tag') {
    refuseWhenReadOnly('BatchDeleteImage', repositoryName);
    const distinct = unique(ids);
    const done = new Set<string>();
    const alreadyGone = new Set<string>();
    const failed = await inRounds(
      distinct,
      MAX_IMAGE_IDS_PER_BATCH,
      (batch) =>
        call('BatchDeleteImage', repositoryName, async () => {
          const response = await client.send(
            new BatchDeleteImageCommand({ repositoryName, imageIds: batch.map(key === 'digest' ? byDigest : byTag) }),
          );
          // One entry per tag removed: the same digest can repeat.
          for (const id of response.imageIds ?? []) {
            const value = key === 'digest' ? id.imageDigest : id.imageTag;
            if (value) done.add(value);
          }
          const failures: ItemFailure[] = [];
          const failedHere = new Set<string>();
          for (const failure of (response.failures ?? []).map(toItemFailure)) {
            const value = failure[key];
            if (failure.code === IMAGE_NOT_FOUND && value !== undefined) alreadyGone.add(value);
            else {
              failures.push(failure);
              if (value !== undefined) failedHere.add(value);
            }
          }
          // Each id of the batch looked up in what is answered so far (not a set of them all built per batch).
          for (const value of batch) {
            if (!done.has(value) && !alreadyGone.has(value) && !failedHere.has(value)) {
              failures.push(notInResponse(key === 'digest' ? { digest: value } : { tag: value }));
            }
          }
          return failures;
        }),
      (failure) => failure[key],
    );
    return {
      done: inOrder(distinct, done),
      alreadyGone: inOrder(distinct, alreadyGone).filter((value) => !done.has(value)),
      failed,
    };
  }

  const inRounds = (
    ids: readonly string[],
    size: number,
    runBatch: (batch: string[]) => Promise<ItemFailure[]>,
    idOf: (failure: ItemFailure) => string | undefined,
  ) => runInRounds(ids, size, runBatch, idOf, settings);

  /** Keeps the ids that are in `done`, in the caller's order. */
  const inOrder = (ids: readonly string[], done: ReadonlySet<string>) => ids.filter((id) => done.has(id));

  async function describeBatch(
    repositoryName: string,
    batch: string[],
    found: Map<string, ImageRecord>,
    missing: Set<string>,
  ): Promise<void> {
    try {
      const images = await call('DescribeImages', repositoryName, async () => {
        const response = await client.send(
          new DescribeImagesCommand({ repositoryName, imageIds: batch.map(byDigest) }),
        );
        return (response.imageDetails ?? []).map(toImageRecord);
      });
      for (const image of images) found.set(image.digest, image);
      for (const digest of batch) if (!found.has(digest)) missing.add(digest);
    } catch (error) {
      if (!(error instanceof ImageNotFoundError)) throw error;
      const [only] = batch;
      if (batch.length === 1 && only !== undefined) {
        missing.add(only);
        return;
      }
      const middle = Math.ceil(batch.length / 2);
      await describeBatch(repositoryName, batch.slice(0, middle), found, missing);
      await describeBatch(repositoryName, batch.slice(middle), found, missing);
    }
  }

  return {
    readOnly: settings.readOnly,

    callCounts,

    // Registry settings, lifecycle and repository policies, resource tags (registry-settings.ts).
    ...registrySettingsMethods({ client, call, paged, refuseWhenReadOnly }),

    async *listRepositories() {
      const pages = paged(
        'DescribeRepositories',
        undefined,
        (withCommand) =>
          paginateDescribeRepositories({ client, pageSize: DESCRIBE_REPOSITORIES_PAGE_SIZE, withCommand }, {}),
        (page) => (page.repositories ?? []).map(toRepositorySummary),
      );
      for await (const repositories of pages) yield* repositories;
    },

    async getRepository(name) {
      const repository = await call('DescribeRepositories', name, async () => {
        const response = await client.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
        const [first] = response.repositories ?? [];
        return first === undefined ? undefined : toRepositorySummary(first);
      });
      if (repository === undefined) {
        throw new RepositoryNotFoundError(
          `DescribeRepositories on repository '${name}': RepositoryNotFoundException: not in the response`,
          { operation: 'DescribeRepositories', repository: name, code: 'RepositoryNotFoundException' },
        );
      }
      return repository;
    },

    async *listImages(repositoryName, options = {}) {
      const filter = {
        ...(options.tagStatus === undefined ? {} : { tagStatus: options.tagStatus }),
        ...(options.imageStatus === undefined ? {} : { imageStatus: options.imageStatus }),
      };
      const input = { repositoryName, ...(Object.keys(filter).length === 0 ? {} : { filter }) };
      const pages = paged(
        'DescribeImages',
        repositoryName,
        (withCommand) => paginateDescribeImages({ client, pageSize: DESCRIBE_IMAGES_PAGE_SIZE, withCommand }, input),
        (page) => (page.imageDetails ?? []).map(toImageRecord),
      );
      for await (const images of pages) if (images.length > 0) yield images;
    },

    async describeImages(repositoryName, digests) {
      const ids = unique(digests);
      const found = new Map<string, ImageRecord>();
      const missing = new Set<string>();
      for (const batch of chunk(ids, MAX_IMAGE_IDS_PER_BATCH)) {
        await describeBatch(repositoryName, batch, found, missing);
      }
      return {
        images: ids.flatMap((digest) => {
          const image = found.get(digest);
          return image === undefined ? [] : [image];
        }),
        missing: inOrder(ids, missing),
      };
    },

    async findImageByTag(repositoryName, tag) {
      try {
        return await call('DescribeImages', repositoryName, async () => {
          const response = await client.send(new DescribeImagesCommand({ repositoryName, imageIds: [byTag(tag)] }));
          const [first] = response.imageDetails ?? [];
          return first === undefined ? undefined : toImageRecord(first);
        });
      } catch (error) {
        if (error instanceof ImageNotFoundError) return undefined;
        throw error;
      }
    },

    async getManifests(repositoryName, digests) {
      const ids = unique(digests);
      const manifests = new Map<string, ManifestRecord>();
      const failures = await inRounds(
        ids,
        MAX_IMAGE_IDS_PER_BATCH,
        (batch) =>
          call('BatchGetImage', repositoryName, async () => {
            const response = await client.send(
              new BatchGetImageCommand({
                repositoryName,
                imageIds: batch.map(byDigest),
                acceptedMediaTypes: [...ACCEPTED_MANIFEST_MEDIA_TYPES],
              }),
            );
            for (const record of (response.images ?? []).map(toManifestRecord)) manifests.set(record.digest, record);
            const failed = (response.failures ?? []).map(toItemFailure);
            const failedHere = new Set(failed.map((f) => f.digest));
            for (const digest of batch) {
              if (!manifests.has(digest) && !failedHere.has(digest)) failed.push(notInResponse({ digest }));
            }
            return failed;
          }),
        (failure) => failure.digest,
      );
      return {
        manifests: ids.flatMap((digest) => {
          const manifest = manifests.get(digest);
          return manifest === undefined ? [] : [manifest];
        }),
        failures,
      };
    },

    async deleteImages(repositoryName, digests) {
      const { done, alreadyGone, failed } = await batchDelete(repositoryName, digests, 'digest');
      return { deleted: done, alreadyGone, failed };
    },

    async untagImages(repositoryName, tags) {
      const { done, alreadyGone, failed } = await batchDelete(repositoryName, tags, 'tag');
      return { untagged: done, alreadyGone, failed };
    },

    getRegistryScanningConfiguration: () =>
      call('GetRegistryScanningConfiguration', undefined, async () =>
        toRegistryScanningSettings(await client.send(new GetRegistryScanningConfigurationCommand({}))),
      ),

    async getRepositoryScanningConfigurations(repositoryNames) {
      const configurations: RepositoryScanningSettings[] = [];
      const failures: RepositoryScanningFailure[] = [];
      for (const batch of chunk(unique(repositoryNames), MAX_REPOSITORIES_PER_SCANNING_CONFIGURATION_BATCH)) {
        await call('BatchGetRepositoryScanningConfiguration', batch.length === 1 ? batch[0] : undefined, async () => {
          const response = await client.send(
            new BatchGetRepositoryScanningConfigurationCommand({ repositoryNames: batch }),
          );
          configurations.push(...(response.scanningConfigurations ?? []).map(toRepositoryScanningSettings));
          failures.push(...(response.failures ?? []).map(toRepositoryScanningFailure));
        });
      }
      return { configurations, failures };
    },

    async startImageScan(repositoryName, digest) {
      refuseWhenReadOnly('StartImageScan', repositoryName);
      try {
        return await call('StartImageScan', repositoryName, async (): Promise<ScanStartOutcome> => {
          const response = await client.send(new StartImageScanCommand({ repositoryName, imageId: byDigest(digest) }));
          return { started: true, status: response.imageScanStatus?.status ?? 'IN_PROGRESS' };
        });
      } catch (error) {
        if (error instanceof EcrGatewayError) {
          const reason = SCAN_DECLINED[error.code];
          if (reason !== undefined) return { started: false, reason, message: error.message };
        }
        throw error;
      }
    },

    getScanFindings(repositoryName, digest) {
      return paged(
        'DescribeImageScanFindings',
        repositoryName,
        (withCommand) =>
          paginateDescribeImageScanFindings(
            { client, pageSize: DESCRIBE_SCAN_FINDINGS_PAGE_SIZE, withCommand },
            { repositoryName, imageId: byDigest(digest) },
          ),
        (page) => toScanFindingsPage(page.imageScanStatus, page.imageScanFindings),
      );
    },

    async putTagMutability(repositoryName, mutability, exclusionPatterns = []) {
      refuseWhenReadOnly('PutImageTagMutability', repositoryName);
      if (exclusionPatterns.length > MAX_TAG_MUTABILITY_EXCLUSION_FILTERS) {
        throw new InvalidRequestError(
          `PutImageTagMutability on repository '${repositoryName}': ${exclusionPatterns.length} exclusion filters, ` +
            `ECR allows at most ${MAX_TAG_MUTABILITY_EXCLUSION_FILTERS}`,
          { operation: 'PutImageTagMutability', repository: repositoryName, code: 'TooManyExclusionFilters' },
        );
      }
      return call('PutImageTagMutability', repositoryName, async () =>
        toTagMutabilitySettings(
          repositoryName,
          await client.send(
            new PutImageTagMutabilityCommand({
              repositoryName,
              imageTagMutability: mutability,
              ...(exclusionPatterns.length === 0
                ? {}
                : { imageTagMutabilityExclusionFilters: toSdkExclusionFilters(exclusionPatterns) }),
            }),
          ),
        ),
      );
    },

    async listPullTimeExclusions() {
      const principals: string[] = [];
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = await call('ListPullTimeUpdateExclusions', undefined, () =>
          client.send(
            new ListPullTimeUpdateExclusionsCommand({
              maxResults: LIST_PULL_TIME_EXCLUSIONS_PAGE_SIZE,
              ...(token === undefined ? {} : { nextToken: token }),
            }),
          ),
        );
        principals.push(...(page.pullTimeUpdateExclusions ?? []));
        nextToken = page.nextToken === token ? undefined : page.nextToken;
      } while (nextToken);
      return principals;
    },

    async excludeFromPullTime(principalArn) {
      refuseWhenReadOnly('RegisterPullTimeUpdateExclusion');
      try {
        await call('RegisterPullTimeUpdateExclusion', undefined, () =>
          client.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn })),
        );
        return { registered: true };
      } catch (error) {
        if (error instanceof EcrGatewayError && error.code === 'ExclusionAlreadyExistsException') {
          return { registered: false };
        }
        throw error;
      }
    },

    async updateImageStorageClass(repositoryName, image, target) {
      refuseWhenReadOnly('UpdateImageStorageClass', repositoryName);
      return call('UpdateImageStorageClass', repositoryName, async () => {
        const response = await client.send(
          new UpdateImageStorageClassCommand({
            repositoryName,
            imageId: 'digest' in image ? byDigest(image.digest) : byTag(image.tag),
            targetStorageClass: target,
          }),
        );
        const status = response.imageStatus;
        return {
          digest: required(response.imageId?.imageDigest, 'no imageId.imageDigest from UpdateImageStorageClass'),
          status: status === 'ARCHIVED' || status === 'ACTIVATING' ? status : 'ACTIVE',
        };
      });
    },

    async tagImage(repositoryName, digest, tag) {
      refuseWhenReadOnly('PutImage', repositoryName);
      const manifest = await call('BatchGetImage', repositoryName, async () => {
        const response = await client.send(
          new BatchGetImageCommand({
            repositoryName,
            imageIds: [byDigest(digest)],
            acceptedMediaTypes: [...ACCEPTED_MANIFEST_MEDIA_TYPES],
          }),
        );
        const [image] = response.images ?? [];
        return image === undefined ? undefined : toManifestRecord(image);
      });
      if (manifest === undefined) {
        throw new ImageNotFoundError(
          `BatchGetImage on repository '${repositoryName}': ImageNotFoundException: no image ${digest} to tag ${tag}`,
          { operation: 'BatchGetImage', repository: repositoryName, code: 'ImageNotFoundException' },
        );
      }
      try {
        await call('PutImage', repositoryName, () =>
          client.send(
            new PutImageCommand({
              repositoryName,
              imageManifest: manifest.manifest,
              imageManifestMediaType: manifest.mediaType,
              imageDigest: digest,
              imageTag: tag,
            }),
          ),
        );
        return { result: 'tagged', tag, digest };
      } catch (error) {
        if (error instanceof EcrGatewayError && error.code === 'ImageAlreadyExistsException') {
          return { result: 'already-tagged', tag, digest };
        }
        throw error;
      }
    },

    async *listImageReferrers(repositoryName, digest) {
      // ListImageReferrers has no generated paginator (docs/ecr-limits.md#api-shapes-and-limits), so this is the one
      // hand-written token loop.
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = await call('ListImageReferrers', repositoryName, async () => {
          const response = await client.send(
            new ListImageReferrersCommand({
              repositoryName,
              subjectId: { imageDigest: digest },
              maxResults: LIST_REFERRERS_PAGE_SIZE,
              ...(token === undefined ? {} : { nextToken: token }),
            }),
          );
          return { referrers: (response.referrers ?? []).map(toReferrerRecord), nextToken: response.nextToken };
        });
        yield* page.referrers;
        // A token that repeats would loop for ever (the paginators' stopOnSameToken guard).
        nextToken = page.nextToken === token ? undefined : page.nextToken;
      } while (nextToken);
    },
  };
}
