import type { RepositoryRecord, StoredImage } from '../model/state.ts';
import { constraintMessage, invalidParameter } from '../wire/errors.ts';
import { IMAGE_IDS, IMAGE_TAG, type Input, REPOSITORY_NAME, SHA256_DIGEST } from '../wire/validate.ts';

/**
 * What the image operations share (image-push.ts, image-listing.ts, image-pull-delete.ts): image ids as requests give
 * them, per-item failures with ECR's reasons, the tag grammar, listing tokens.
 */

/**
 * The OCI tag grammar ([OCI-DIST]) with ECR's 300-character length. The model gives `ImageTag` no pattern;
 * rejecting other characters on push (and answering `InvalidImageTag` for them in batch operations) is UNCONFIRMED.
 */
export const TAG_GRAMMAR = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
export const IMAGE_STATUS_FILTER = ['ACTIVE', 'ARCHIVED', 'ACTIVATING', 'ANY'] as const;

export type StatusFilter = (typeof IMAGE_STATUS_FILTER)[number];

/** An `ImageIdentifier` as the request gave it. */
export interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

export interface ImageFailure {
  imageId: ImageId;
  failureCode: string;
  failureReason: string;
}

// Failures with ECR's messages

export const failure = (imageId: ImageId, failureCode: string, failureReason: string): ImageFailure => ({
  imageId: { ...imageId },
  failureCode,
  failureReason,
});

export const FAILURE_REASONS = {
  ImageNotFound: 'Requested image not found',
  MissingDigestAndTag: 'Invalid request parameters: both tag and digest cannot be null',
  InvalidImageDigest:
    "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
  InvalidImageTag: "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,299}'",
  // UNCONFIRMED wording: the failure code is in the model, its reason text is not.
  ImageTagDoesNotMatchDigest: 'Invalid request parameters: the image tag does not match the image digest',
} as const;

// Member readers (validation only; none of them changes state)

export const readRepositoryName = (input: Input) => input.str('repositoryName', { ...REPOSITORY_NAME, required: true });

function readImageId(item: Input): ImageId {
  const imageDigest = item.str('imageDigest');
  const imageTag = item.str('imageTag', IMAGE_TAG);
  return { ...(imageDigest === undefined ? {} : { imageDigest }), ...(imageTag === undefined ? {} : { imageTag }) };
}

/** Ids in the order asked; an identical id asked twice counts once (UNCONFIRMED: ECR's handling of repeats). */
export function readImageIds(input: Input, required: boolean): ImageId[] | undefined {
  const list = input.objList('imageIds', { ...IMAGE_IDS, required });
  if (!list) return undefined;
  const seen = new Set<string>();
  const ids: ImageId[] = [];
  for (const id of list.map(readImageId)) {
    const key = `${id.imageDigest ?? ''}\n${id.imageTag ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ids.push(id);
  }
  return ids;
}

// Resolving image ids

/** What is wrong with an id whatever the repository holds (no digest nor tag, or one of them malformed), if anything. */
export function imageIdProblem(
  id: ImageId,
): 'MissingDigestAndTag' | 'InvalidImageDigest' | 'InvalidImageTag' | undefined {
  const { imageDigest, imageTag } = id;
  if (imageDigest === undefined && imageTag === undefined) return 'MissingDigestAndTag';
  if (imageDigest !== undefined && !SHA256_DIGEST.test(imageDigest)) return 'InvalidImageDigest';
  if (imageTag !== undefined && !TAG_GRAMMAR.test(imageTag)) return 'InvalidImageTag';
  return undefined;
}

export type Resolution = { image: StoredImage } | { failureCode: keyof typeof FAILURE_REASONS };

/** Finds the image an id names, or the failure code ECR gives for it. */
export function resolveImageId(repository: RepositoryRecord, id: ImageId): Resolution {
  const problem = imageIdProblem(id);
  if (problem !== undefined) return { failureCode: problem };
  const { imageDigest, imageTag } = id;
  const tagged = imageTag === undefined ? undefined : repository.images.digestForTag(imageTag);
  const digest = imageDigest ?? tagged;
  const image = digest === undefined ? undefined : repository.images.get(digest);
  if (!image || (imageTag !== undefined && tagged === undefined)) return { failureCode: 'ImageNotFound' };
  if (tagged !== undefined && tagged !== image.digest) return { failureCode: 'ImageTagDoesNotMatchDigest' };
  return { image };
}

export const withDigest = (id: ImageId, digest: string): ImageId => ({
  imageDigest: digest,
  ...(id.imageTag === undefined ? {} : { imageTag: id.imageTag }),
});

/** What a listing token is bound to: the repository (a re-created one starts a new listing) and the filter. */
export const listingFingerprint = (repository: RepositoryRecord, ...parts: string[]) =>
  [repository.registryId, repository.name, repository.seq, ...parts].join('|');

export const invalidToken = () => invalidParameter(constraintMessage('nextToken', 'Invalid NextToken'));
