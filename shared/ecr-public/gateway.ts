import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  DescribeRegistriesCommand,
  DescribeRepositoriesCommand,
  type ECRPUBLICClient,
  GetAuthorizationTokenCommand,
  GetRepositoryCatalogDataCommand,
  GetRepositoryPolicyCommand,
  PutRepositoryCatalogDataCommand,
  paginateDescribeImages,
  paginateDescribeRepositories,
} from '@aws-sdk/client-ecr-public';
import { z } from 'zod';
import type { ImageRecord } from '../domain/image.ts';
import { chunk, countedSending, notInResponse, runInRounds, unique } from '../ecr/calls.ts';
import {
  EcrGatewayError,
  ImageNotFoundError,
  ReadOnlyViolationError,
  RepositoryNotFoundError,
  toGatewayError,
} from '../ecr/errors.ts';
import { DEFAULT_ITEM_RETRY_DELAY_MS, DEFAULT_MAX_ITEM_RETRIES } from '../ecr/limits.ts';
import { IMAGE_NOT_FOUND } from '../ecr/mapping.ts';
import type { ItemFailure, ManifestRecord } from '../ecr/types.ts';
import {
  AUTHORIZATION_TOKEN_MARGIN_MS,
  DEFAULT_MANIFEST_READ_CONCURRENCY,
  DEFAULT_PUBLIC_REGISTRY_URL,
  DEFAULT_REGISTRY_TIMEOUT_MS,
  PUBLIC_DESCRIBE_IMAGES_PAGE_SIZE,
  PUBLIC_DESCRIBE_REPOSITORIES_PAGE_SIZE,
  PUBLIC_MAX_IMAGE_IDS_PER_BATCH,
} from './limits.ts';
import {
  aliasOfUri,
  byDigest,
  toPublicCatalogData,
  toPublicImageRecord,
  toPublicItemFailure,
  toPublicRegistrySummary,
  toPublicRepositorySummary,
} from './mapping.ts';
import { createManifestReader } from './registry-api.ts';
import type { EcrPublicGateway, EcrPublicOperation, PublicRegistrySummary } from './types.ts';

export interface EcrPublicGatewayOptions {
  /** Dry run: every mutating method throws `ReadOnlyViolationError` before sending anything. Default false. */
  readOnly?: boolean;
  /** Rounds of re-tries for per-id failures with a retryable code (0–10). Default 3. */
  maxItemRetries?: number;
  /** Delay before the first re-try round, ms; doubled every round, with jitter (0–60,000). Default 200. */
  itemRetryDelayMs?: number;
  /** The registry API's address (`/token/`, `/v2/`): `https://public.ecr.aws` unless it is the local registry. */
  registryUrl?: string;
  /** Manifest reads in flight at once (1–32). Default 8. */
  manifestConcurrency?: number;
  /** Time limit of one registry API exchange, ms (100–300,000). Default 30,000. */
  registryTimeoutMs?: number;
}

const EcrPublicGatewayOptionsSchema = z.strictObject({
  readOnly: z.boolean().default(false),
  maxItemRetries: z.number().int().min(0).max(10).default(DEFAULT_MAX_ITEM_RETRIES),
  itemRetryDelayMs: z.number().int().min(0).max(60_000).default(DEFAULT_ITEM_RETRY_DELAY_MS),
  registryUrl: z.url({ protocol: /^https?$/ }).default(DEFAULT_PUBLIC_REGISTRY_URL),
  manifestConcurrency: z.number().int().min(1).max(32).default(DEFAULT_MANIFEST_READ_CONCURRENCY),
  registryTimeoutMs: z.number().int().min(100).max(300_000).default(DEFAULT_REGISTRY_TIMEOUT_MS),
});

/**
 * Builds the ECR Public gateway around one `ECRPUBLICClient` (from `createEcrPublicClient`, or a client aimed at
 * the local registry), with the private gateway's rules: one counted, error-mapped `call` per request, SDK
 * paginators at the largest page, batches of 100 sent in order with retryable per-id failures re-tried in bounded
 * rounds, and every mutating method refused before sending anything when read-only.
 *
 * @example
 * ```ts
 * const gateway = createEcrPublicGateway(createEcrPublicClient(), { readOnly: true });
 * for await (const repository of gateway.listRepositories()) console.log(repository.uri);
 * ```
 */
export function createEcrPublicGateway(
  sdkClient: ECRPUBLICClient,
  options: EcrPublicGatewayOptions = {},
): EcrPublicGateway {
  const parsed = EcrPublicGatewayOptionsSchema.safeParse(options);
  if (!parsed.success) throw new RangeError(`Invalid EcrPublicGatewayOptions:\n${z.prettifyError(parsed.error)}`);
  const settings = parsed.data;
  const { client, count, call, paged, callCounts } = countedSending<EcrPublicOperation, ECRPUBLICClient>(
    sdkClient,
    toGatewayError,
  );

  const refuseWhenReadOnly = (operation: EcrPublicOperation, repository?: string) => {
    if (settings.readOnly) throw new ReadOnlyViolationError(operation, repository);
  };

  const rounds = { maxItemRetries: settings.maxItemRetries, itemRetryDelayMs: settings.itemRetryDelayMs };

  /** Repository URIs seen, by name: the alias of a repository's registry API path. */
  const uris = new Map<string, string>();
  let registry: Promise<PublicRegistrySummary> | undefined;

  function getRegistry(): Promise<PublicRegistrySummary> {
    registry ??= call('DescribeRegistries', undefined, async () => {
      // One account has one public registry; the first page holds it.
      const response = await client.send(new DescribeRegistriesCommand({}));
      const [first] = response.registries ?? [];
      if (first === undefined) throw new Error('invariant: ECR Public returned no registry');
      return toPublicRegistrySummary(first);
    });
    registry.catch(() => {
      registry = undefined;
    });
    return registry;
  }

  /**
   * The alias in the repository's URI (`public.ecr.aws/<alias>/<name>`): the URI seen when listing, else the
   * repository's own (DescribeRepositories by name, which the cleanup is allowed anyway), else the registry's
   * default alias (DescribeRegistries).
   */
  async function aliasFor(repositoryName: string): Promise<string> {
    const known = uris.get(repositoryName);
    const uri = known ?? (await gateway.getRepository(repositoryName)).uri;
    return aliasOfUri(uri, repositoryName) ?? (await getRegistry()).alias;
  }

  let authorization: Promise<{ token: string; expiresAt: number }> | undefined;

  /** ECR Public's authorization token, kept until shortly before it expires. */
  async function authorizationToken(fresh: boolean): Promise<string> {
    const cached = authorization === undefined ? undefined : await authorization.catch(() => undefined);
    if (!fresh && cached !== undefined && cached.expiresAt - AUTHORIZATION_TOKEN_MARGIN_MS > Date.now()) {
      return cached.token;
    }
    const pending = call('GetAuthorizationToken', undefined, async () => {
      const response = await client.send(new GetAuthorizationTokenCommand({}));
      const data = response.authorizationData;
      if (!data?.authorizationToken) throw new Error('invariant: ECR Public returned no authorizationToken');
      return { token: data.authorizationToken, expiresAt: data.expiresAt?.getTime() ?? 0 };
    });
    authorization = pending;
    return (await pending).token;
  }

  const reader = createManifestReader({
    registryUrl: settings.registryUrl,
    timeoutMs: settings.registryTimeoutMs,
    authorizationToken,
    count,
  });

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
        return (response.imageDetails ?? []).map(toPublicImageRecord);
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
      // DescribeImages fails the whole request when any id is missing: ask each half again.
      const middle = Math.ceil(batch.length / 2);
      await describeBatch(repositoryName, batch.slice(0, middle), found, missing);
      await describeBatch(repositoryName, batch.slice(middle), found, missing);
    }
  }

  const inOrder = (ids: readonly string[], done: ReadonlySet<string>) => ids.filter((id) => done.has(id));

  const gateway: EcrPublicGateway = {
    readOnly: settings.readOnly,

    describesSubjects: false,

    callCounts,

    getRegistry,

    async *listRepositories() {
      const pages = paged(
        'DescribeRepositories',
        undefined,
        (withCommand) =>
          paginateDescribeRepositories({ client, pageSize: PUBLIC_DESCRIBE_REPOSITORIES_PAGE_SIZE, withCommand }, {}),
        (page) => (page.repositories ?? []).map(toPublicRepositorySummary),
      );
      for await (const repositories of pages) {
        for (const repository of repositories) uris.set(repository.name, repository.uri);
        yield* repositories;
      }
    },

    async getRepository(name) {
      const repository = await call('DescribeRepositories', name, async () => {
        const response = await client.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
        const [first] = response.repositories ?? [];
        return first === undefined ? undefined : toPublicRepositorySummary(first);
      });
      if (repository === undefined) {
        throw new RepositoryNotFoundError(
          `DescribeRepositories on repository '${name}': RepositoryNotFoundException: not in the response`,
          { operation: 'DescribeRepositories', repository: name, code: 'RepositoryNotFoundException' },
        );
      }
      uris.set(repository.name, repository.uri);
      return repository;
    },

    async *listImages(repositoryName) {
      const pages = paged(
        'DescribeImages',
        repositoryName,
        (withCommand) =>
          paginateDescribeImages(
            { client, pageSize: PUBLIC_DESCRIBE_IMAGES_PAGE_SIZE, withCommand },
            { repositoryName },
          ),
        (page) => (page.imageDetails ?? []).map(toPublicImageRecord),
      );
      for await (const images of pages) if (images.length > 0) yield images;
    },

    async describeImages(repositoryName, digests) {
      const ids = unique(digests);
      const found = new Map<string, ImageRecord>();
      const missing = new Set<string>();
      for (const batch of chunk(ids, PUBLIC_MAX_IMAGE_IDS_PER_BATCH)) {
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

    async getManifests(repositoryName, digests) {
      const ids = unique(digests);
      const manifests = new Map<string, ManifestRecord>();
      if (ids.length === 0) return { manifests: [], failures: [] };
      const alias = await aliasFor(repositoryName);
      const failures = await runInRounds(
        ids,
        ids.length, // one round reads every pending digest, `manifestConcurrency` at a time
        async (batch) => {
          const outcomes = await mapConcurrently(batch, settings.manifestConcurrency, (digest) =>
            reader.read(alias, repositoryName, digest),
          );
          const failed: ItemFailure[] = [];
          for (const outcome of outcomes) {
            if ('manifest' in outcome) manifests.set(outcome.manifest.digest, outcome.manifest);
            else failed.push(outcome.failure);
          }
          return failed;
        },
        (failure) => failure.digest,
        rounds,
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
      refuseWhenReadOnly('BatchDeleteImage', repositoryName);
      const distinct = unique(digests);
      const done = new Set<string>();
      const alreadyGone = new Set<string>();
      const failed = await runInRounds(
        distinct,
        PUBLIC_MAX_IMAGE_IDS_PER_BATCH,
        (batch) =>
          call('BatchDeleteImage', repositoryName, async () => {
            const response = await client.send(
              new BatchDeleteImageCommand({ repositoryName, imageIds: batch.map(byDigest) }),
            );
            for (const id of response.imageIds ?? []) if (id.imageDigest) done.add(id.imageDigest);
            const failures: ItemFailure[] = [];
            for (const failure of (response.failures ?? []).map(toPublicItemFailure)) {
              if (failure.code === IMAGE_NOT_FOUND && failure.digest !== undefined) alreadyGone.add(failure.digest);
              else failures.push(failure);
            }
            const answered = new Set([...done, ...alreadyGone, ...failures.flatMap((f) => f.digest ?? [])]);
            return [
              ...failures,
              ...batch.filter((digest) => !answered.has(digest)).map((digest) => notInResponse({ digest })),
            ];
          }),
        (failure) => failure.digest,
        rounds,
      );
      return {
        deleted: inOrder(distinct, done),
        alreadyGone: inOrder(distinct, alreadyGone).filter((digest) => !done.has(digest)),
        failed,
      };
    },

    async getCatalogData(repositoryName) {
      try {
        return await call('GetRepositoryCatalogData', repositoryName, async () => {
          const response = await client.send(new GetRepositoryCatalogDataCommand({ repositoryName }));
          return response.catalogData === undefined ? undefined : toPublicCatalogData(response.catalogData);
        });
      } catch (error) {
        if (error instanceof EcrGatewayError && error.code === 'RepositoryCatalogDataNotFoundException') {
          return undefined;
        }
        throw error;
      }
    },

    async putCatalogData(repositoryName, update) {
      refuseWhenReadOnly('PutRepositoryCatalogData', repositoryName);
      return call('PutRepositoryCatalogData', repositoryName, async () => {
        const response = await client.send(
          new PutRepositoryCatalogDataCommand({
            repositoryName,
            catalogData: {
              ...(update.description === undefined ? {} : { description: update.description }),
              ...(update.aboutText === undefined ? {} : { aboutText: update.aboutText }),
              ...(update.usageText === undefined ? {} : { usageText: update.usageText }),
              ...(update.architectures === undefined ? {} : { architectures: [...update.architectures] }),
              ...(update.operatingSystems === undefined ? {} : { operatingSystems: [...update.operatingSystems] }),
              ...(update.logoImageBlob === undefined ? {} : { logoImageBlob: update.logoImageBlob }),
            },
          }),
        );
        return toPublicCatalogData(response.catalogData ?? {});
      });
    },

    async getRepositoryPolicy(repositoryName) {
      try {
        return await call('GetRepositoryPolicy', repositoryName, async () => {
          const response = await client.send(new GetRepositoryPolicyCommand({ repositoryName }));
          return response.policyText;
        });
      } catch (error) {
        if (error instanceof EcrGatewayError && error.code === 'RepositoryPolicyNotFoundException') return undefined;
        throw error;
      }
    },
  };
  return gateway;
}

/** Runs `work` on every item, at most `limit` at once; results in the items' order. */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
