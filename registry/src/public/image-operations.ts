import type { StoredImage } from '../model/state.ts';
import { decodeToken, encodeToken, rejectPagingWithIds, toEpochSeconds } from '../ops/common.ts';
import {
  type ImageFailure,
  type ImageId,
  invalidToken,
  listingFingerprint,
  readImageIds,
} from '../ops/image-common.ts';
import { imagesByIds, type ListEntry, listEntries, listPositionToken, readListPosition } from '../ops/image-listing.ts';
import { deleteImageById } from '../ops/image-pull-delete.ts';
import { IMAGE_MANIFEST } from '../ops/image-push.ts';
import {
  finishLayerUpload,
  type LayerUploadScope,
  layerAvailability,
  readBatchedLayerDigests,
  readCompleteLayerRequest,
  readLayerPartRequest,
  receiveLayerPart,
  startLayerUpload,
} from '../ops/layers.ts';
import { IMAGE_TAG, Input, MAX_RESULTS } from '../wire/validate.ts';
import { ownRegistry, ownRegistryOrAlias, repositoryName, requireRepository } from './common.ts';
import type { PublicOpContext, PublicOperation } from './context.ts';
import { linkPublicBlob, storePublicImage } from './images.ts';
import type { PublicRepositoryRecord } from './state.ts';

/**
 * ECR Public's image and layer operations ([M-ECRPUB]): PutImage, the layer upload (InitiateLayerUpload,
 * UploadLayerPart, CompleteLayerUpload), BatchCheckLayerAvailability, DescribeImages, DescribeImageTags and
 * BatchDeleteImage, on a public repository's `content` with the private operations' rules (ops/layers.ts,
 * ops/image-push.ts, ops/image-listing.ts, ops/image-pull-delete.ts) and ECR Public's shapes. ECR Public has no
 * GetDownloadUrlForLayer, BatchGetImage nor ListImages; its images are pulled over `/v2/`. No push or delete emits an
 * event, scans or replicates: ECR Public has none of these.
 */

/** DescribeImages and DescribeImageTags page when `maxResults` is absent ([M-ECRPUB] member docs: "up to 100"). */
const DEFAULT_PAGE = 100;
/**
 * The region ECR Public's uploads are owned in: none of the private regions, so that an upload id of one API is
 * unknown to the other.
 */
export const PUBLIC_UPLOAD_REGION = 'ecr-public';
/** Every image of a public repository is ACTIVE (ECR Public has no archive); DescribeImageTags lists tagged ones. */
/** ECR Public has no archive: every image is ACTIVE, whatever the time. */
const TAGGED = { tagStatus: 'TAGGED', imageStatus: 'ACTIVE', now: 0 } as const;

const layerScope = (ctx: PublicOpContext, repository: PublicRepositoryRecord): LayerUploadScope => ({
  registry: ctx.registry,
  now: () => ctx.now(),
  repository: repository.content,
  owner: { account: ctx.state.account, region: PUBLIC_UPLOAD_REGION, repositoryName: repository.name },
  link: (digest, size) => linkPublicBlob(ctx, repository, digest, size),
});

/** The members a repository-scoped answer starts with (UploadLayerPart, CompleteLayerUpload). */
const repositoryRef = (repository: PublicRepositoryRecord) => ({
  registryId: repository.content.registryId,
  repositoryName: repository.name,
});

// Layers

function initiateLayerUpload(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistryOrAlias(input, ctx, 'InitiateLayerUpload');
  const repository = requireRepository(state, repositoryName(input));
  return startLayerUpload(layerScope(ctx, repository));
}

async function uploadLayerPart(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistryOrAlias(input, ctx, 'UploadLayerPart');
  const name = repositoryName(input);
  const request = readLayerPartRequest(input);
  const repository = requireRepository(state, name);
  const lastByteReceived = await receiveLayerPart(layerScope(ctx, repository), request);
  return { ...repositoryRef(repository), uploadId: request.uploadId, lastByteReceived };
}

/** A completed upload is journalled as the blob link it makes (`LinkPublicBlob`): its bytes are not in the input. */
async function completeLayerUpload(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistryOrAlias(input, ctx, 'CompleteLayerUpload');
  const name = repositoryName(input);
  const { uploadId, digests } = readCompleteLayerRequest(input);
  const repository = requireRepository(state, name);
  const layerDigest = await finishLayerUpload(layerScope(ctx, repository), uploadId, digests);
  return { ...repositoryRef(repository), uploadId, layerDigest };
}

/** The blobs the repository may use are AVAILABLE with their size; any other digest is a per-layer failure. */
function batchCheckLayerAvailability(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistryOrAlias(input, ctx, 'BatchCheckLayerAvailability');
  const name = repositoryName(input);
  const digests = readBatchedLayerDigests(input);
  return layerAvailability(requireRepository(state, name).content, digests);
}

// PutImage

/**
 * `placeImage`'s rules: `ImageAlreadyExistsException`, `LayersNotFoundException`,
 * `ReferencedImagesNotFoundException`, `ImageDigestDoesNotMatchException`, `LimitExceededException`. A public
 * repository's tags are always mutable, so `ImageTagAlreadyExistsException` (in the model) never arises.
 */
function putImage(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistryOrAlias(input, ctx, 'PutImage');
  const name = repositoryName(input);
  const manifest = input.str('imageManifest', { ...IMAGE_MANIFEST, required: true });
  const mediaType = input.str('imageManifestMediaType');
  const tag = input.str('imageTag', IMAGE_TAG);
  const digest = input.str('imageDigest');
  const repository = requireRepository(state, name);
  const { image } = storePublicImage(ctx, repository, { manifest, mediaType, tag, digest });
  return {
    image: {
      registryId: state.account,
      repositoryName: repository.name,
      imageId: { imageDigest: image.digest, ...(tag === undefined ? {} : { imageTag: tag }) },
      imageManifest: image.manifest,
      imageManifestMediaType: image.manifestMediaType,
    },
  };
}

// DescribeImages

/** ECR Public's `ImageDetail`: no scan, pull time, status nor subject members. */
function imageDetail(repository: PublicRepositoryRecord, image: StoredImage) {
  return {
    registryId: repository.content.registryId,
    repositoryName: repository.name,
    imageDigest: image.digest,
    ...(image.tags.length > 0 ? { imageTags: image.tags.slice() } : {}),
    imageSizeInBytes: image.sizeInBytes,
    imagePushedAt: toEpochSeconds(image.pushedAt),
    imageManifestMediaType: image.manifestMediaType,
    ...(image.artifactMediaType === undefined ? {} : { artifactMediaType: image.artifactMediaType }),
  };
}

/**
 * By id, each id must name an image, else `ImageNotFoundException` (a malformed id is `InvalidParameterException`,
 * as for ECR's DescribeImages); several ids of one image give one detail. Else one page of the repository's images
 * in push order.
 */
function describeImages(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistry(input, ctx, 'DescribeImages');
  const name = repositoryName(input);
  const ids = readImageIds(input, false);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', MAX_RESULTS);
  rejectPagingWithIds(input, 'imageIds');
  const repository = requireRepository(state, name);
  const content = repository.content;
  if (ids) {
    return { imageDetails: imagesByIds(content, ids).map((image) => imageDetail(repository, image)) };
  }
  const listing = 'PublicDescribeImages';
  const fingerprint = listingFingerprint(content);
  const afterSeq = nextToken === undefined ? 0 : decodeToken(nextToken, listing, fingerprint);
  if (typeof afterSeq !== 'number') throw invalidToken();
  const limit = maxResults ?? DEFAULT_PAGE;
  const page: StoredImage[] = [];
  let more = false;
  for (const image of content.images.after(afterSeq)) {
    if (page.length === limit) {
      more = true;
      break;
    }
    page.push(image);
  }
  const last = page[page.length - 1];
  return {
    imageDetails: page.map((image) => imageDetail(repository, image)),
    ...(more && last ? { nextToken: encodeToken(listing, fingerprint, last.seq) } : {}),
  };
}

// DescribeImageTags

/**
 * One entry per tag, in the images' push order and each image's tag order (a token survives pushes, deletes and tag
 * changes as ListImages' does). `createdAt` is when the tag was last put on an image (its image's push time for a
 * tag whose time is unknown); `imageDetail` is the image's `ReferencedImageDetail`.
 */
function describeImageTags(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistry(input, ctx, 'DescribeImageTags');
  const name = repositoryName(input);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', MAX_RESULTS);
  const repository = requireRepository(state, name);
  const content = repository.content;
  const listing = 'PublicDescribeImageTags';
  const fingerprint = listingFingerprint(content, 'tags');
  const start = readListPosition(nextToken, listing, fingerprint);
  const limit = maxResults ?? DEFAULT_PAGE;
  const page: ListEntry[] = [];
  let more = false;
  for (const entry of listEntries(content, start, TAGGED)) {
    if (page.length === limit) {
      more = true;
      break;
    }
    page.push(entry);
  }
  const last = page[page.length - 1];
  const imageTagDetails = page.flatMap((entry) => {
    const image = entry.id.imageDigest === undefined ? undefined : content.images.get(entry.id.imageDigest);
    const tag = entry.id.imageTag;
    if (!image || tag === undefined) return [];
    return [
      {
        imageTag: tag,
        createdAt: toEpochSeconds(repository.tagTimes.get(tag) ?? image.pushedAt),
        imageDetail: {
          imageDigest: image.digest,
          imageSizeInBytes: image.sizeInBytes,
          imagePushedAt: toEpochSeconds(image.pushedAt),
          imageManifestMediaType: image.manifestMediaType,
          ...(image.artifactMediaType === undefined ? {} : { artifactMediaType: image.artifactMediaType }),
        },
      },
    ];
  });
  return {
    imageTagDetails,
    ...(more && last ? { nextToken: listPositionToken(listing, fingerprint, last) } : {}),
  };
}

// BatchDeleteImage

/**
 * ECR's rules (`deleteImageById`): by tag, that tag (the image with its last one); by digest, the image and its tags;
 * an image an index of the repository lists is refused (`ImageReferencedByManifestList`); per-id failures. The tags'
 * times go with them; the repository keeps its blobs (as ECR keeps layers until its own garbage collection).
 */
function batchDeleteImage(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistryOrAlias(input, ctx, 'BatchDeleteImage');
  const name = repositoryName(input);
  const ids = readImageIds(input, true) ?? [];
  const repository = requireRepository(state, name);
  const imageIds: ImageId[] = [];
  const failures: ImageFailure[] = [];
  for (const id of ids) {
    const outcome = deleteImageById(repository.content, id, (_image, removedTags) => {
      for (const tag of removedTags) repository.tagTimes.delete(tag);
    });
    if ('failureCode' in outcome) failures.push(outcome);
    else imageIds.push(...outcome);
  }
  return { imageIds, failures };
}

/** The image and layer operations, keyed by the name after `SpencerFrontendService.`. */
export const publicImageOperations: Readonly<Record<string, PublicOperation>> = {
  InitiateLayerUpload: initiateLayerUpload,
  UploadLayerPart: uploadLayerPart,
  CompleteLayerUpload: completeLayerUpload,
  BatchCheckLayerAvailability: batchCheckLayerAvailability,
  PutImage: putImage,
  DescribeImages: describeImages,
  DescribeImageTags: describeImageTags,
  BatchDeleteImage: batchDeleteImage,
};
