import { imageStatus } from '../model/image-store.ts';
import type { RepositoryRecord, StoredImage } from '../model/state.ts';
import { imageNotFound, invalidParameter } from '../wire/errors.ts';
import { Input, type ListRule, MAX_RESULTS, type NumberRule, type StringRule } from '../wire/validate.ts';
import { decodeToken, encodeToken, rejectPagingWithIds, requireRepository, stateFor } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import {
  FAILURE_REASONS,
  IMAGE_STATUS_FILTER,
  type ImageId,
  invalidToken,
  listingFingerprint,
  readImageIds,
  readRepositoryName,
  resolveImageId,
  type StatusFilter,
} from './image-common.ts';
import { imageDetailList } from './image-detail.ts';

/** The image listings: DescribeImages, ListImages and ListImageReferrers. */

/** DescribeImages and ListImages page when `maxResults` is omitted ([M-ECR] member docs: "up to 100 results"). */
const DEFAULT_PAGE = 100;
/** ListImageReferrers `maxResults` ([M-ECR] `FiftyMaxResults`: 1–50, 20 when omitted). */
const REFERRER_MAX_RESULTS: NumberRule = { min: 1, max: 50 };
const DEFAULT_REFERRER_PAGE = 20;
const ARTIFACT_TYPES: ListRule = { min: 0, max: 5 };
const ARTIFACT_TYPE: StringRule = { min: 1, max: 255 };
const TAG_STATUS = ['TAGGED', 'UNTAGGED', 'ANY'] as const;

type TagStatus = (typeof TAG_STATUS)[number];

// Listing filters

export interface ListingFilter {
  tagStatus: TagStatus;
  imageStatus: StatusFilter;
  /** The registry time of the listing: a restore that ended by then lists as ACTIVE. */
  now: number;
}

function readListingFilter(input: Input, now: number): ListingFilter {
  const filter = input.obj('filter');
  return {
    now,
    tagStatus: (filter?.str('tagStatus', { enum: TAG_STATUS }) as TagStatus | undefined) ?? 'ANY',
    // Only ACTIVE images unless the filter asks for others ([M-ECR] `ImageStatusFilter` doc).
    imageStatus: (filter?.str('imageStatus', { enum: IMAGE_STATUS_FILTER }) as StatusFilter | undefined) ?? 'ACTIVE',
  };
}

/** Whether a listing shows the image; its status is brought to the listing's time first, as its detail shows it. */
function matchesFilter(image: StoredImage, filter: ListingFilter): boolean {
  const status = imageStatus(image, filter.now);
  return (
    (filter.imageStatus === 'ANY' || status === filter.imageStatus) &&
    (filter.tagStatus === 'ANY' || (filter.tagStatus === 'TAGGED') === image.tags.length > 0)
  );
}

// DescribeImages

/**
 * Explicit ids: each must name an image, else `ImageNotFoundException` (a tag and digest that disagree name none).
 * A malformed id is an `InvalidParameterException`, as DescribeImages has no per-item failures (UNCONFIRMED). Several
 * ids of one image give one detail.
 */
function describeByIds(repository: RepositoryRecord, ids: ImageId[], now: number) {
  const images = imagesByIds(repository, ids);
  for (const image of images) imageStatus(image, now);
  return { imageDetails: imageDetailList(repository, images) };
}

/**
 * The images `ids` name, each once, in the order first named; DescribeImages' rules for explicit ids (ECR's and ECR
 * Public's alike): an id naming no image is `ImageNotFoundException`, a malformed one `InvalidParameterException`.
 */
export function imagesByIds(repository: RepositoryRecord, ids: readonly ImageId[]): StoredImage[] {
  const found = new Map<string, StoredImage>();
  for (const id of ids) {
    const resolution = resolveImageId(repository, id);
    if ('image' in resolution) {
      found.set(resolution.image.digest, resolution.image);
      continue;
    }
    const code = resolution.failureCode;
    if (code === 'ImageNotFound' || code === 'ImageTagDoesNotMatchDigest') {
      throw imageNotFound(id, repository.name, repository.registryId);
    }
    throw invalidParameter(FAILURE_REASONS[code]);
  }
  return [...found.values()];
}

function describeImages(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = readRepositoryName(input);
  const ids = readImageIds(input, false);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', MAX_RESULTS);
  // The filter applies to the listing only; explicit ids are described whatever their status (UNCONFIRMED).
  const filter = readListingFilter(input, ctx.now());
  rejectPagingWithIds(input, 'imageIds');
  const repository = requireRepository(state, name);
  if (ids) return describeByIds(repository, ids, ctx.now());
  const listing = 'DescribeImages';
  const fingerprint = listingFingerprint(repository, filter.tagStatus, filter.imageStatus);
  const afterSeq = nextToken === undefined ? 0 : decodeToken(nextToken, listing, fingerprint);
  if (typeof afterSeq !== 'number') throw invalidToken();
  const limit = maxResults ?? DEFAULT_PAGE;
  const page: StoredImage[] = [];
  let more = false;
  for (const image of repository.images.after(afterSeq)) {
    if (!matchesFilter(image, filter)) continue;
    if (page.length === limit) {
      more = true;
      break;
    }
    page.push(image);
  }
  const last = page[page.length - 1];
  return {
    imageDetails: imageDetailList(repository, page),
    ...(more && last ? { nextToken: encodeToken(listing, fingerprint, last.seq) } : {}),
  };
}

// ListImages

/** A ListImages entry and where it sits: image `seq`, its index among that image's entries (one per tag), and tag. */
export interface ListEntry {
  seq: number;
  index: number;
  id: ImageId;
}

/** Where a ListImages page resumes: inside image `seq`, after its entry `index - 1`, which was tag `lastTag`. */
export interface ListPosition {
  seq: number;
  index: number;
  lastTag: string;
}

/**
 * The first entry of the resumed image still to list. Tags are only appended, so the last listed tag locates the
 * position even when earlier tags were removed; when that tag itself was removed, the tags after it moved up one.
 */
function resumeIndex(tags: readonly string[], position: ListPosition): number {
  if (position.lastTag === '') return position.index;
  const at = tags.indexOf(position.lastTag);
  return at >= 0 ? at + 1 : Math.max(0, position.index - 1);
}

/** Entries from `position` on; it survives deletes (tombstoned seq), pushes (higher seq) and tag changes. */
export function* listEntries(repository: RepositoryRecord, position: ListPosition, filter: ListingFilter) {
  for (const image of repository.images.after(position.seq - 1)) {
    if (!matchesFilter(image, filter)) continue;
    const tags = image.tags;
    const from = image.seq === position.seq ? resumeIndex(tags, position) : 0;
    if (tags.length === 0) {
      if (from === 0) yield { seq: image.seq, index: 0, id: { imageDigest: image.digest } } satisfies ListEntry;
      continue;
    }
    for (let index = from; index < tags.length; index++) {
      yield { seq: image.seq, index, id: { imageDigest: image.digest, imageTag: tags[index] } } satisfies ListEntry;
    }
  }
}

const LIST_POSITION = /^(\d+):(\d+):(.*)$/s;

/** Where a listing of entries (ListImages, ECR Public's DescribeImageTags) resumes: its start, or its token's place. */
export function readListPosition(nextToken: string | undefined, listing: string, fingerprint: string): ListPosition {
  if (nextToken === undefined) return { seq: 1, index: 0, lastTag: '' };
  const match = LIST_POSITION.exec(String(decodeToken(nextToken, listing, fingerprint)));
  if (!match) throw invalidToken();
  return { seq: Number(match[1]), index: Number(match[2]), lastTag: match[3] ?? '' };
}

/** The token of a page of entries that ended with `last`. */
export const listPositionToken = (listing: string, fingerprint: string, last: ListEntry) =>
  encodeToken(listing, fingerprint, `${last.seq}:${last.index + 1}:${last.id.imageTag ?? ''}`);

function listImages(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = readRepositoryName(input);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', MAX_RESULTS);
  const filter = readListingFilter(input, ctx.now());
  const repository = requireRepository(state, name);
  const listing = 'ListImages';
  const fingerprint = listingFingerprint(repository, filter.tagStatus, filter.imageStatus);
  const start = readListPosition(nextToken, listing, fingerprint);
  const limit = maxResults ?? DEFAULT_PAGE;
  const page: ListEntry[] = [];
  let more = false;
  for (const entry of listEntries(repository, start, filter)) {
    if (page.length === limit) {
      more = true;
      break;
    }
    page.push(entry);
  }
  const last = page[page.length - 1];
  return {
    imageIds: page.map((entry) => entry.id),
    ...(more && last ? { nextToken: listPositionToken(listing, fingerprint, last) } : {}),
  };
}

// ListImageReferrers

/**
 * The referrers (OCI 1.1 `subject`) of a digest, in push order. A subject that is not in the repository has none,
 * which is an empty list rather than an error ([OCI-DIST]). `artifactType` is the manifest's, else its config's
 * media type, as the OCI referrers API reports it.
 */
function listImageReferrers(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = readRepositoryName(input);
  const subject = input.obj('subjectId', { required: true }).str('imageDigest', { required: true });
  const filter = input.obj('filter');
  const artifactTypes = filter?.strList('artifactTypes', ARTIFACT_TYPES, ARTIFACT_TYPE) ?? [];
  const status = (filter?.str('artifactStatus', { enum: IMAGE_STATUS_FILTER }) as StatusFilter | undefined) ?? 'ACTIVE';
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', REFERRER_MAX_RESULTS);
  const repository = requireRepository(state, name);
  const listing = 'ListImageReferrers';
  const fingerprint = listingFingerprint(repository, subject, status, artifactTypes.join(','));
  const afterSeq = nextToken === undefined ? 0 : decodeToken(nextToken, listing, fingerprint);
  if (typeof afterSeq !== 'number') throw invalidToken();
  const matching = [...repository.images.referrersOf(subject)]
    .map((digest) => repository.images.get(digest))
    .filter((image): image is StoredImage => image !== undefined && image.seq > afterSeq)
    .filter((image) => {
      const current = imageStatus(image, ctx.now());
      return status === 'ANY' || current === status;
    })
    .filter((image) => artifactTypes.length === 0 || artifactTypes.includes(image.artifactMediaType ?? ''))
    .sort((a, b) => a.seq - b.seq);
  const limit = maxResults ?? DEFAULT_REFERRER_PAGE;
  const page = matching.slice(0, limit);
  const last = page[page.length - 1];
  return {
    referrers: page.map((image) => ({
      digest: image.digest,
      mediaType: image.manifestMediaType,
      ...(image.artifactMediaType === undefined ? {} : { artifactType: image.artifactMediaType }),
      size: image.manifestSize,
      ...(image.annotations === undefined ? {} : { annotations: { ...image.annotations } }),
      artifactStatus: imageStatus(image, ctx.now()),
    })),
    ...(matching.length > limit && last ? { nextToken: encodeToken(listing, fingerprint, last.seq) } : {}),
  };
}

export const imageListingOperations: OperationTable = {
  DescribeImages: describeImages,
  ListImages: listImages,
  ListImageReferrers: listImageReferrers,
};
