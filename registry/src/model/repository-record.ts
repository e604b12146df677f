import type { ImageStore } from './image-store.ts';

/** A repository as the registry keeps it: a private one, or the images and blobs of a public one. */

export type StoredTagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

export interface ExclusionFilter {
  filter: string;
  filterType: 'WILDCARD';
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
  /**
   * The blobs (layers and configs) this repository may use, digest → size: uploaded to it, mounted into it, or
   * replicated with an image. A blob listed here whose content the registry's `BlobStore` lacks is a placeholder: a
   * fixture image declared without content (`POST /_local/load`, `POST /_local/blobs`); it satisfies PutImage's
   * layer check but cannot be downloaded.
   */
  readonly layers: Map<string, number>;
}
