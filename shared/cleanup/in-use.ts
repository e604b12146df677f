import { hasInUseProviders, type InUseConfig } from '../config/in-use-schema.ts';
import type { TargetsConfig } from '../config/targets-schema.ts';
import type { ImageRecord } from '../domain/image.ts';
import type { InUseFailure, InUseSnapshot } from '../domain/in-use.ts';
import { gatherInUse } from '../in-use/gather.ts';
import { parseImageReference } from '../in-use/image-ref.ts';
import type { InUseProvider } from '../in-use/provider.ts';
import { inUseForRepository } from '../in-use/repository.ts';
import type { PlanOptions } from '../policy/cleanup/plan.ts';
import type { Clock } from '../runtime/clock.ts';
import type { CleanupGateway, RegistryKind } from './gateway.ts';

/**
 * The cleanup's side of "never delete what runs": what the in-use providers found, read at most once per
 * `cacheSeconds` per container (a worker cleans one repository per invocation, and every repository needs the same
 * answer), and turned into one repository's planner input. A provider that failed is not remembered: the next work
 * item asks again, and until one succeeds every repository it covers keeps everything (fail closed).
 */

/**
 * Reads what runs for a config, through a cache; built once per container (`inUseSource`). With the config's
 * `targets`, the workloads of every target account and region are read.
 */
export type InUseSource = (inUse: InUseConfig, targets?: TargetsConfig) => Promise<InUseSnapshot>;

/**
 * A source over `providersFor` (the providers a config names: `inUseProvidersFor` with the container's clients).
 * A snapshot without failures is reused until `cacheSeconds` pass by `now`, for the same `cleanup.inUse` section;
 * concurrent callers share one gather.
 */
export function inUseSource(
  providersFor: (inUse: InUseConfig, targets?: TargetsConfig) => InUseProvider[] | Promise<InUseProvider[]>,
  now: Clock,
): InUseSource {
  let cached: { key: string; at: number; snapshot: Promise<InUseSnapshot> } | undefined;
  return (inUse, targets) => {
    const key = JSON.stringify([inUse, targets ?? null]);
    const at = now();
    if (cached !== undefined && cached.key === key && at - cached.at < inUse.cacheSeconds * 1_000) {
      return cached.snapshot;
    }
    const entry = {
      key,
      at,
      snapshot: Promise.resolve()
        .then(() => providersFor(inUse, targets))
        .then(
          (providers) => gatherInUse(providers, { timeoutMs: inUse.timeoutSeconds * 1_000 }),
          // The providers could not even be listed (the targets could not be resolved): every repository keeps all.
          (error: unknown): InUseSnapshot => ({
            images: [],
            failures: [
              {
                provider: 'ecs',
                message: `the accounts whose workloads to read could not be listed: ${error instanceof Error ? error.message : String(error)}`,
              },
            ],
          }),
        ),
    };
    cached = entry;
    void entry.snapshot.then((snapshot) => {
      if (snapshot.failures.length > 0 && cached === entry) cached = undefined;
    });
    return entry.snapshot;
  };
}

/**
 * What a run uses when the config names in-use providers: the snapshot from `source`, or, when this runtime has no
 * source (a caller that cannot reach the providers), a snapshot whose one failure blocks every repository.
 * Undefined when the config names no provider: the cleanup then plans without in-use protection, as configured.
 */
export async function inUseForRun(
  inUse: InUseConfig | undefined,
  source: InUseSource | undefined,
  targets?: TargetsConfig,
): Promise<InUseSnapshot | undefined> {
  if (!hasInUseProviders(inUse)) return undefined;
  if (source === undefined) {
    return {
      images: [],
      failures: [{ provider: 'ecs', message: 'this runtime has no in-use providers to read what runs' }],
    };
  }
  return source(inUse, targets);
}

/** Where a repository is, in the terms image references use: the registry's id (account, or alias) and region. */
export interface RepositoryLocation {
  registry: RegistryKind;
  registryId: string;
  region: string;
}

/**
 * The repository's location, from its URI as the registry reports it (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`
 * or `public.ecr.aws/<alias>/<name>`): the same form workloads name images by. Undefined when the URI is not one of
 * those (the caller fails closed). Throws the gateway's `RepositoryNotFoundError` when the repository is gone.
 */
export async function locateRepository(
  gateway: Pick<CleanupGateway, 'getRepository'>,
  registry: RegistryKind,
  repositoryName: string,
): Promise<RepositoryLocation | undefined> {
  const { uri } = await gateway.getRepository(repositoryName);
  const parsed = parseImageReference(uri);
  if (parsed === undefined || parsed.registry !== registry || parsed.repositoryName !== repositoryName)
    return undefined;
  return { registry, registryId: parsed.registryId, region: parsed.region };
}

/** `ecs: timed out after 60000 ms; lambda: AccessDenied …`: why nothing may be deleted. */
export const describeInUseFailures = (failures: readonly InUseFailure[]): string =>
  `what runs could not be read (${failures.map((failure) => `${failure.provider}: ${failure.message}`).join('; ')}), so nothing is deleted in this repository in this run`;

/** The planner's in-use input for one repository: its images in use, or why deleting anything would be a guess. */
export function inUsePlanOptions(
  snapshot: InUseSnapshot,
  location: RepositoryLocation | undefined,
  repositoryName: string,
  images: readonly Pick<ImageRecord, 'digest' | 'tags'>[],
): Pick<PlanOptions, 'inUse' | 'inUseUnavailable'> {
  if (location === undefined) {
    return {
      inUseUnavailable: `the registry reported a repository URI that names no ECR registry, so what runs from ${repositoryName} cannot be matched and nothing is deleted in it`,
    };
  }
  const found = inUseForRepository(snapshot, { ...location, repositoryName, images });
  if (found.blockedBy.length > 0) return { inUseUnavailable: describeInUseFailures(found.blockedBy) };
  return { inUse: found.inUse };
}
