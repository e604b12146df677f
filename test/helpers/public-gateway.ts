import { EcrGatewayError, ReadOnlyViolationError, RepositoryNotFoundError } from '../../shared/ecr/index.ts';
import {
  type EcrPublicGateway,
  type EcrPublicOperation,
  PUBLIC_MUTATING_OPERATIONS,
  type PublicCatalogData,
  type PublicCatalogUpdate,
  type PublicRepositorySummary,
} from '../../shared/ecr-public/types.ts';

/** One public repository of the fake registry. */
export interface FakePublicRepository {
  name: string;
  catalog?: PublicCatalogData;
  policyText?: string;
  /** An operation that fails on this repository with an `EcrGatewayError` of this code. */
  failing?: { operation: EcrPublicOperation; code: string };
}

/** A call the fake gateway received, in order. */
export interface RecordedPublicCall {
  operation: EcrPublicOperation;
  repositoryName?: string;
  readOnly: boolean;
  update?: PublicCatalogUpdate;
}

const ACCOUNT = '123456789012';

/**
 * An in-memory ECR Public registry for unit tests: `gateway({ readOnly })` gives an `EcrPublicGateway` over it that
 * records every call (so that "dry run makes zero mutating calls" is asserted on the calls made), refuses a mutating
 * call when read-only with `ReadOnlyViolationError` as the real gateway does, replaces the catalog data on a put
 * (a logo becomes a `logoUrl`), and answers `RepositoryNotFoundError` for a repository it does not hold. The image
 * methods are not served: compliance does not call them.
 */
export function fakePublicRegistry(repositories: readonly FakePublicRepository[]) {
  const held = new Map(repositories.map((repository) => [repository.name, structuredClone(repository)]));
  const calls: RecordedPublicCall[] = [];
  const gateways: { readOnly: boolean }[] = [];

  const gateway = ({ readOnly }: { readOnly: boolean }): EcrPublicGateway => {
    gateways.push({ readOnly });
    const counts: Record<string, number> = {};
    const record = (operation: EcrPublicOperation, repositoryName?: string, update?: PublicCatalogUpdate) => {
      calls.push({
        operation,
        readOnly,
        ...(repositoryName === undefined ? {} : { repositoryName }),
        ...(update === undefined ? {} : { update }),
      });
      counts[operation] = (counts[operation] ?? 0) + 1;
      if (readOnly && PUBLIC_MUTATING_OPERATIONS.has(operation)) {
        throw new ReadOnlyViolationError(operation, repositoryName);
      }
      if (repositoryName === undefined) return undefined;
      const repository = held.get(repositoryName);
      if (!repository) {
        throw new RepositoryNotFoundError(`repository '${repositoryName}' not found`, {
          operation,
          repository: repositoryName,
          code: 'RepositoryNotFoundException',
        });
      }
      if (repository.failing?.operation === operation) {
        throw new EcrGatewayError(`${operation} on repository '${repositoryName}': ${repository.failing.code}`, {
          operation,
          repository: repositoryName,
          code: repository.failing.code,
        });
      }
      return repository;
    };
    const summary = (name: string): PublicRepositorySummary => ({
      name,
      arn: `arn:aws:ecr-public::${ACCOUNT}:repository/${name}`,
      uri: `public.ecr.aws/fake/${name}`,
      registryId: ACCOUNT,
      createdAt: 0,
    });
    const notServed = (what: string) => () => {
      throw new Error(`the fake ECR Public gateway does not serve ${what}`);
    };
    return {
      describesSubjects: false,
      readOnly,
      callCounts: () => ({ ...counts }),
      getRegistry: async () => {
        record('DescribeRegistries');
        return { registryId: ACCOUNT, alias: 'fake', uri: 'public.ecr.aws/fake' };
      },
      listRepositories: async function* () {
        record('DescribeRepositories');
        for (const name of held.keys()) yield summary(name);
      },
      getRepository: async (name) => {
        record('DescribeRepositories', name);
        return summary(name);
      },
      listImages: notServed('listImages') as never,
      describeImages: notServed('describeImages'),
      getManifests: notServed('getManifests'),
      deleteImages: notServed('deleteImages'),
      getCatalogData: async (name) => {
        const repository = record('GetRepositoryCatalogData', name) as FakePublicRepository;
        return repository.catalog === undefined ? undefined : structuredClone(repository.catalog);
      },
      putCatalogData: async (name, update) => {
        const repository = record('PutRepositoryCatalogData', name, update) as FakePublicRepository;
        const { logoImageBlob, architectures, operatingSystems, ...texts } = update;
        repository.catalog = {
          ...texts,
          architectures: [...(architectures ?? [])],
          operatingSystems: [...(operatingSystems ?? [])],
          ...(logoImageBlob === undefined ? {} : { logoUrl: `https://logo.example/${name}.png` }),
        };
        return structuredClone(repository.catalog);
      },
      getRepositoryPolicy: async (name) => (record('GetRepositoryPolicy', name) as FakePublicRepository).policyText,
    };
  };

  return {
    gateway,
    /** Every call made through any gateway of this registry. */
    calls,
    /** The `readOnly` each gateway was made with, in order. */
    gateways,
    /** The calls that would change the registry (refused ones included). */
    mutatingCalls: () => calls.filter((call) => PUBLIC_MUTATING_OPERATIONS.has(call.operation)),
    /** A repository's catalog data now. */
    catalogOf: (name: string) => held.get(name)?.catalog,
  };
}
