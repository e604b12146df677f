import { type ParsedManifest, parseManifest } from './manifests.ts';
import {
  type ExclusionFilter,
  type ImageRecord,
  ImageStore,
  type RegistryState,
  type RepositoryRecord,
  type TagMutability,
} from './state.ts';

/** Builds a repository record with ECR's defaults (MUTABLE, no scan on push, AES256). Does not store it. */
export function newRepository(
  state: RegistryState,
  name: string,
  now: number,
  options: {
    imageTagMutability?: TagMutability;
    imageTagMutabilityExclusionFilters?: ExclusionFilter[];
    scanOnPush?: boolean;
    encryption?: RepositoryRecord['encryption'];
    tags?: Iterable<[string, string]>;
  } = {},
): RepositoryRecord {
  return {
    name,
    registryId: state.account,
    arn: state.repositoryArn(name),
    uri: state.repositoryUri(name),
    createdAt: now,
    seq: state.allocateRepositorySeq(),
    imageTagMutability: options.imageTagMutability ?? 'MUTABLE',
    imageTagMutabilityExclusionFilters: options.imageTagMutabilityExclusionFilters ?? [],
    scanOnPush: options.scanOnPush ?? false,
    encryption: options.encryption ?? { encryptionType: 'AES256' },
    tags: new Map(options.tags ?? []),
    images: new ImageStore(),
  };
}

/**
 * Builds an image record from a parsed manifest. An index's size is its largest child's, as ECR reports
 * (`imageSizeInBytes` of a manifest list). Does not store it.
 */
export function newImage(
  repository: RepositoryRecord,
  manifest: string,
  parsed: ParsedManifest,
  now: number,
  tags: string[] = [],
): ImageRecord {
  let sizeInBytes = parsed.sizeInBytes;
  if (parsed.isIndex) {
    sizeInBytes = 0;
    for (const child of parsed.children) {
      sizeInBytes = Math.max(sizeInBytes, repository.images.get(child)?.sizeInBytes ?? 0);
    }
  }
  return {
    digest: parsed.digest,
    manifest,
    manifestMediaType: parsed.mediaType,
    artifactMediaType: parsed.artifactMediaType,
    sizeInBytes,
    subjectDigest: parsed.subjectDigest,
    childDigests: parsed.children,
    artifactType: parsed.artifactType,
    annotations: parsed.annotations,
    pushedAt: now,
    tags: [...tags],
    seq: repository.images.allocateSeq(),
    status: 'ACTIVE',
  };
}

export { parseManifest };
