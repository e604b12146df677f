import type {
  ImageDetail,
  ImageFailure,
  ImageIdentifier,
  Registry,
  Repository,
  RepositoryCatalogData,
} from '@aws-sdk/client-ecr-public';
import type { ImageRecord } from '../domain/image.ts';
import { RETRYABLE_FAILURE_CODES } from '../ecr/mapping.ts';
import type { ItemFailure } from '../ecr/types.ts';
import type { PublicCatalogData, PublicRegistrySummary, PublicRepositorySummary } from './types.ts';

/**
 * ECR Public's SDK shapes ↔ the service's. As on the private side, the members ECR Public always sends are checked
 * and their absence is a broken invariant the gateway reports as an `EcrGatewayError` for the operation.
 */

/** The host of every public repository's URI. */
export const PUBLIC_REGISTRY_HOST = 'public.ecr.aws';

function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`invariant: ECR Public returned ${what}`);
  return value;
}

const epochMs = (date: Date | undefined): number | undefined => (date === undefined ? undefined : date.getTime());

export const byDigest = (digest: string): ImageIdentifier => ({ imageDigest: digest });

export const toPublicRepositorySummary = (repository: Repository): PublicRepositorySummary => ({
  name: required(repository.repositoryName, 'a repository without repositoryName'),
  arn: repository.repositoryArn ?? '',
  uri: repository.repositoryUri ?? '',
  registryId: repository.registryId ?? '',
  createdAt: epochMs(repository.createdAt) ?? 0,
});

/** The registry and its default alias (else its primary one, else the first listed). */
export function toPublicRegistrySummary(registry: Registry): PublicRegistrySummary {
  const aliases = registry.aliases ?? [];
  const alias =
    aliases.find((a) => a.defaultRegistryAlias) ?? aliases.find((a) => a.primaryRegistryAlias) ?? aliases[0];
  const name = required(alias?.name, 'a registry without an alias');
  return {
    registryId: required(registry.registryId, 'a registry without registryId'),
    alias: name,
    uri: `${PUBLIC_REGISTRY_HOST}/${name}`,
  };
}

/**
 * The alias of a repository URI `public.ecr.aws/<alias>/<name>`, or undefined when the URI does not have that form
 * for `name`.
 */
export function aliasOfUri(uri: string, name: string): string | undefined {
  const prefix = `${PUBLIC_REGISTRY_HOST}/`;
  const suffix = `/${name}`;
  if (!uri.startsWith(prefix) || !uri.endsWith(suffix)) return undefined;
  const alias = uri.slice(prefix.length, uri.length - suffix.length);
  return alias !== '' && !alias.includes('/') ? alias : undefined;
}

/**
 * A DescribeImages `ImageDetail` to the domain record. ECR Public records no pull and no scan, and names no subject,
 * so those fields stay absent (a referrer's subject is read from its manifest by the cleanup's gather).
 */
export const toPublicImageRecord = (detail: ImageDetail): ImageRecord => ({
  digest: required(detail.imageDigest, 'an image without imageDigest'),
  tags: detail.imageTags ?? [],
  pushedAt: epochMs(detail.imagePushedAt) ?? 0,
  sizeInBytes: detail.imageSizeInBytes ?? 0,
  ...(detail.imageManifestMediaType ? { manifestMediaType: detail.imageManifestMediaType } : {}),
  ...(detail.artifactMediaType ? { artifactMediaType: detail.artifactMediaType } : {}),
});

export function toPublicItemFailure(failure: ImageFailure): ItemFailure {
  const code = failure.failureCode ?? 'Unknown';
  return {
    ...(failure.imageId?.imageDigest ? { digest: failure.imageId.imageDigest } : {}),
    ...(failure.imageId?.imageTag ? { tag: failure.imageId.imageTag } : {}),
    code,
    reason: failure.failureReason ?? code,
    retryable: RETRYABLE_FAILURE_CODES.has(code),
  };
}

export const toPublicCatalogData = (data: RepositoryCatalogData): PublicCatalogData => ({
  ...(data.description ? { description: data.description } : {}),
  ...(data.aboutText ? { aboutText: data.aboutText } : {}),
  ...(data.usageText ? { usageText: data.usageText } : {}),
  architectures: data.architectures ?? [],
  operatingSystems: data.operatingSystems ?? [],
  ...(data.logoUrl ? { logoUrl: data.logoUrl } : {}),
});
