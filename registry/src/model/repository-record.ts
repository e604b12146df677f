import type { ImageStore } from './image-store.ts';

/** A repository as the registry keeps it: a private one, or the images and blobs of a public one. */

export type StoredTagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

export interface ExclusionFilter {
  filter: string;
  filterType: 'WILDCARD';
}

/** One image a lifecycle policy preview acts on, as evaluated when the preview started. Times are epoch ms. */
export interface LifecyclePreviewItem {
  digest: string;
  tags: string[];
  pushedAt: number;
  storageClass: 'STANDARD' | 'ARCHIVE';
  action: 'EXPIRE' | 'TRANSITION';
  appliedRulePriority: number;
}

/**
 * A lifecycle policy preview: the policy text it evaluated, its status, and the evaluation made at `startedAt`
 * (registry time), in the repository's listing order. `number` tells one preview of the repository from the next
 * (pagination tokens name it).
 */
export interface LifecyclePreviewRecord {
  number: number;
  policyText: string;
  status: 'IN_PROGRESS' | 'COMPLETE';
  startedAt: number;
  items: LifecyclePreviewItem[];
  expiringImageTotalCount: number;
  transitioningImageTotalCount: number;
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
  /** When the stored lifecycle policy was last carried out (`POST /_local/lifecycle/run`), epoch ms. */
  lifecyclePolicyEvaluatedAt?: number;
  /** The last lifecycle policy preview started (StartLifecyclePolicyPreview), kept until the next one replaces it. */
  lifecyclePreview?: LifecyclePreviewRecord;
  readonly images: ImageStore;
  /**
   * The blobs (layers and configs) this repository may use, digest → size: uploaded to it, mounted into it, or
   * replicated with an image. A blob listed here whose content the registry's `BlobStore` lacks is a placeholder: a
   * fixture image declared without content (`POST /_local/load`, `POST /_local/blobs`); it satisfies PutImage's
   * layer check but cannot be downloaded.
   */
  readonly layers: Map<string, number>;
}
