import type { FixtureImage } from '@ecr-automation/local-registry';
import { ARTIFACT_TYPES, buildReferrerManifest, MEDIA_TYPES } from '@ecr-automation/local-registry/manifests';
import type { ImageRecord } from '../shared/domain/image.ts';
import type { InUseImage, InUseReference, InUseSnapshot } from '../shared/domain/in-use.ts';
import type { EcrGateway } from '../shared/ecr/index.ts';
import type { CleanupRule } from '../shared/policy/cleanup/plan.ts';
import { judgeTags } from '../shared/policy/cleanup/retention.ts';
import { prng } from './prng.ts';

/**
 * Synthetic repositories for the cleanup benchmark: one "shape" (which images, how they refer to each other, their
 * tags, push and pull ages) that becomes either `ImageRecord`s for the planner (figures 1 and 1b) or a registry
 * fixture for `POST /_local/load` / `loadFixture` (figures 2 and 3). Deterministic: the same seed gives the same
 * repository.
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** The rule of every figure but 1b: the defaults, with the brake off so that each plan does its full work. */
export const BENCH_RULE: CleanupRule = {
  olderThanDays: 14,
  notPulledForDays: 30,
  quietPeriodMinutes: 60,
  keepLatestUntagged: 0,
  maxDeleteFraction: 1,
  allowMassDelete: true,
};

/**
 * BENCH_RULE with retention of tagged images, as a service's rule might read: releases and `latest` protected, the
 * last 5 branch builds, the last 20 pull-request builds or those pulled within 30 days, and any other tag for 90
 * days. The tagged brake is off too, so that each plan does its full work.
 */
export const RETENTION_RULE: CleanupRule = {
  ...BENCH_RULE,
  tagSelections: [
    { tags: [{ form: 'semver' }], protect: true },
    { tags: ['main-*'], keepLast: 5 },
    { tags: ['pr-*'], keepLast: 20, keepPulledWithinDays: 30 },
    { tags: ['latest'], protect: true },
    { tags: [{ form: 'any' }], keepNewerThanDays: 90 },
  ],
  maxTaggedDeleteFraction: 1,
};

const HEX = '0123456789abcdef';
const digestBytes = Buffer.alloc(71);
digestBytes.write('sha256:', 'latin1');
/** A byte's two hex digits, as character codes. */
const HIGH_DIGIT = new Uint8Array(256);
const LOW_DIGIT = new Uint8Array(256);
for (let byte = 0; byte < 256; byte++) {
  HIGH_DIGIT[byte] = HEX.charCodeAt(byte >> 4);
  LOW_DIGIT[byte] = HEX.charCodeAt(byte & 15);
}

/**
 * A random-looking `sha256:<64 hex>` digest from the PRNG (content addressing is not needed by the planner). Built
 * in a buffer so that the result is one flat string, as JSON.parse gives the gateway: a digest concatenated from
 * pieces would be a V8 rope several times the size, and the memory figure would measure that instead.
 */
export function randomDigest(random: () => number): string {
  // Each of 8 draws gives 32 bits, written as 8 hex digits, most significant first, a byte (two digits) at a time.
  for (let i = 0, at = 7; i < 8; i++) {
    const word = (random() * 4_294_967_296) >>> 0;
    for (let shift = 24; shift >= 0; shift -= 8, at += 2) {
      const byte = (word >>> shift) & 255;
      digestBytes[at] = HIGH_DIGIT[byte] as number;
      digestBytes[at + 1] = LOW_DIGIT[byte] as number;
    }
  }
  return digestBytes.toString('latin1');
}

/** The same text as one flat string (a template literal of 13 characters or more is a V8 rope). */
export const flat = (text: string): string => Buffer.from(text, 'latin1').toString('latin1');

export type ShapeKind = 'image' | 'index' | 'referrer' | 'sig' | 'orphan';

/** One image of a synthetic repository; `children` and `subject` are positions in the same shape array. */
export interface ShapeImage {
  kind: ShapeKind;
  /** Ordinary tags (a `.sig` image's convention tag is derived from its subject). */
  tags: string[];
  children?: number[];
  subject?: number;
  artifact?: 'signature' | 'attestation' | 'sbom';
  pushedAgoMs: number;
  pulledAgoMs?: number;
  /** Docker media types instead of OCI for this image (and an index's children). */
  docker?: boolean;
}

/** How a repository is made up. Shares are probabilities per build (one push of an image or a multi-arch index). */
export interface ShapeProfile {
  /** A build keeps a tag (release, branch head) rather than having lost it to a newer build. */
  taggedShare: number;
  /** A build is multi-arch: an index with 2–4 child manifests. */
  indexShare: number;
  /** Push ages are spread over [minAgeMs, maxAgeDays], skewed towards recent (`age = max · u^skew`). */
  maxAgeDays: number;
  minAgeMs: number;
  ageSkew: number;
  /** A tagged build was pulled (within the last 60 days); an untagged one, some time after its push. */
  taggedPulledShare: number;
  untaggedPulledShare: number;
  /** Signatures and attestations of tagged builds; of untagged builds (signed in CI before the tag moved). */
  taggedSignedShare: number;
  untaggedSignedShare: number;
}

/** A busy service repository: ~60 % of images untagged, pushes from minutes to a year ago. */
export const FLEET_PROFILE: ShapeProfile = {
  taggedShare: 0.55,
  indexShare: 0.15,
  maxAgeDays: 365,
  minAgeMs: 2 * MINUTE_MS,
  ageSkew: 1.6,
  taggedPulledShare: 0.5,
  untaggedPulledShare: 0.1,
  taggedSignedShare: 1,
  untaggedSignedShare: 0.15,
};

/** A CI repository nobody cleaned for a year: mostly stale untagged builds, a few releases. */
export const STALE_PROFILE: ShapeProfile = {
  taggedShare: 0.04,
  indexShare: 0.08,
  maxAgeDays: 365,
  minAgeMs: 2 * MINUTE_MS,
  ageSkew: 0.7,
  taggedPulledShare: 0.5,
  untaggedPulledShare: 0.03,
  taggedSignedShare: 1,
  untaggedSignedShare: 0.05,
};

/** Kinds of images by code (`ShapeColumns.kind`). */
const IMAGE = 0;
const INDEX = 1;
const REFERRER = 2;
const SIG = 3;
const ORPHAN = 4;
/** Artifacts of referrers by code (`ShapeColumns.artifact`); 0 is none. */
const ARTIFACTS = [undefined, 'signature', 'attestation', 'sbom'] as const;
const SIGNATURE = 1;
const ATTESTATION = 2;
const SBOM = 3;
/** `ShapeColumns.flags`: Docker media types; a build's top image (its `ShapeImage` has a `pulledAgoMs` member). */
const DOCKER = 1;
const TOP = 2;

/**
 * A shape in columns: position `i` of every column is image `i`. What `generateShape` draws, without an object per
 * image: the organisation simulation's model holds a repository this way (`toImageColumns`).
 */
export interface ShapeColumns {
  readonly count: number;
  /** `IMAGE`, `INDEX`, `REFERRER`, `SIG`, `ORPHAN`. */
  readonly kind: Uint8Array;
  /** Ordinary tags: undefined for none, the tag itself for one, else the list. */
  readonly tags: (string | string[] | undefined)[];
  readonly pushedAgoMs: Float64Array;
  /** NaN for none. */
  readonly pulledAgoMs: Float64Array;
  /** `DOCKER`, `TOP`. */
  readonly flags: Uint8Array;
  /** A referrer's or `.sig`'s subject, as a position; -1 for none. */
  readonly subject: Int32Array;
  /** Codes into `ARTIFACTS`. */
  readonly artifact: Uint8Array;
  /** An index's children are `childList[childStart[i]]` up to `childList[childStart[i + 1]]`, as positions. */
  readonly childStart: Int32Array;
  readonly childList: Int32Array;
}

/**
 * Builds a repository of exactly `count` images (the last build may be cut short: an index always comes with its
 * children, so the cut falls on a single image or a referrer).
 */
export function generateShape(count: number, profile: ShapeProfile, random: () => number): ShapeImage[] {
  return shapeImagesOf(generateShapeColumns(count, profile, random));
}

/** `generateShape`'s images, in columns: the same draws in the same order. */
export function generateShapeColumns(count: number, profile: ShapeProfile, random: () => number): ShapeColumns {
  const kind = new Uint8Array(count);
  const tags: (string | string[] | undefined)[] = new Array(count).fill(undefined);
  const pushedAgoMs = new Float64Array(count);
  const pulledAgoMs = new Float64Array(count).fill(Number.NaN);
  const flags = new Uint8Array(count);
  const subject = new Int32Array(count).fill(-1);
  const artifact = new Uint8Array(count);
  const childStart = new Int32Array(count + 1);
  const childList: number[] = [];
  let length = 0;
  let release = 0;
  let previousChildren: number[] = [];
  const age = () =>
    Math.max(profile.minAgeMs, profile.maxAgeDays * DAY_MS * random() ** profile.ageSkew + random() * 60_000);
  // A build's tag: a release `vX.Y.Z` (20 %), a pull request's `pr-<n>` (30 %) or a branch head `main-<sha>-<n>`
  // (50 %). One draw picks the kind and only `main-` draws again, so the PRNG sequence (and every other property
  // of the shape) is the same as when the first half were all releases.
  const tagFor = () => {
    release++;
    const draw = random();
    const tag =
      draw < 0.2
        ? `v${Math.floor(release / 100)}.${Math.floor(release / 10) % 10}.${release % 10}`
        : draw < 0.5
          ? `pr-${release}`
          : `main-${Math.floor(random() * 0xfffffff)
              .toString(16)
              .padStart(7, '0')}-${release}`;
    return flat(tag);
  };
  const pulled = (tagged: boolean, ago: number): number => {
    if (tagged) return random() < profile.taggedPulledShare ? Math.min(ago, random() * 60 * DAY_MS) : Number.NaN;
    return random() < profile.untaggedPulledShare ? ago * random() : Number.NaN;
  };
  /** Appends an image unless the repository is full (-1): a build's images fit, its referrers may not. */
  const add = (code: number, ago: number, imageFlags = 0, subjectOf = -1, artifactOf = 0): number => {
    if (length === count) return -1;
    childStart[length] = childList.length;
    kind[length] = code;
    pushedAgoMs[length] = ago;
    flags[length] = imageFlags;
    subject[length] = subjectOf;
    artifact[length] = artifactOf;
    return length++;
  };

  while (length < count) {
    const tagged = random() < profile.taggedShare;
    const ago = age();
    const docker = random() < 0.1 ? DOCKER : 0;
    const tag = tagged ? tagFor() : undefined;
    const pulledAgo = pulled(tagged, ago);
    const room = count - length;
    let top: number;
    const arches = 2 + Math.floor(random() * 3);
    if (random() < profile.indexShare && room >= arches + 1) {
      // A multi-arch build: children pushed seconds before their index; now and then an arch's image is reused
      // unchanged from the previous multi-arch build (two indexes share a child). The first arch is always new, so
      // that no two indexes list the same children (they would be one manifest, one digest).
      const children: number[] = [];
      for (let arch = 0; arch < arches; arch++) {
        const reused = arch === 0 ? undefined : previousChildren[arch];
        if (reused !== undefined && random() < 0.05) children.push(reused);
        else children.push(add(IMAGE, ago + 5_000 + arch * 1_000, docker));
      }
      previousChildren = children;
      top = add(INDEX, ago, docker | TOP);
      for (const child of children) childList.push(child);
    } else {
      top = add(IMAGE, ago, docker | TOP);
    }
    // Never -1: the loop runs while there is room, and makes an index only when its children fit too.
    tags[top] = tag;
    pulledAgoMs[top] = pulledAgo;
    // Signatures, attestations, SBOMs: cosign's `.sig` tag convention or OCI 1.1 referrers.
    const signed = random() < (tagged ? profile.taggedSignedShare : profile.untaggedSignedShare);
    if (signed) {
      const after = Math.max(0, ago - 30_000);
      if (random() < 0.45) add(SIG, after, 0, top);
      else add(REFERRER, after, 0, top, SIGNATURE);
      if (random() < 0.3) add(REFERRER, after, 0, top, random() < 0.5 ? ATTESTATION : SBOM);
    }
    // A referrer whose subject was deleted by hand (or never pushed here).
    if (random() < 0.005) add(ORPHAN, age());
  }
  childStart[count] = childList.length;
  // `latest` moves with every release or branch build: the newest such tagged build carries it as a second tag
  // (pull request builds do not move it). Chosen without drawing, so the PRNG sequence is unchanged.
  let newest = -1;
  for (let i = 0; i < count; i++) {
    const tag = tags[i];
    if (typeof tag !== 'string' || tag.startsWith('pr-')) continue;
    if (newest < 0 || (pushedAgoMs[i] as number) < (pushedAgoMs[newest] as number)) newest = i;
  }
  if (newest >= 0) tags[newest] = [tags[newest] as string, 'latest'];
  return {
    count,
    kind,
    tags,
    pushedAgoMs,
    pulledAgoMs,
    flags,
    subject,
    artifact,
    childStart,
    childList: Int32Array.from(childList),
  };
}

/** A shape in columns as one object per image, with the members `generateShape` has always given each kind. */
function shapeImagesOf(shape: ShapeColumns): ShapeImage[] {
  const images: ShapeImage[] = [];
  for (let i = 0; i < shape.count; i++) {
    const code = shape.kind[i] as number;
    const own = shape.tags[i];
    const tags = own === undefined ? [] : typeof own === 'string' ? [own] : [...own];
    const pushedAgoMs = shape.pushedAgoMs[i] as number;
    const flags = shape.flags[i] as number;
    const docker = (flags & DOCKER) !== 0;
    const pulled = shape.pulledAgoMs[i] as number;
    const pulledAgoMs = Number.isNaN(pulled) ? undefined : pulled;
    const subject = shape.subject[i] as number;
    switch (code) {
      case INDEX:
        images.push({
          kind: 'index',
          tags,
          children: Array.from(shape.childList.subarray(shape.childStart[i], shape.childStart[i + 1])),
          pushedAgoMs,
          pulledAgoMs,
          docker,
        });
        break;
      case REFERRER:
        images.push({
          kind: 'referrer',
          tags,
          subject,
          artifact: ARTIFACTS[shape.artifact[i] as number] ?? 'signature',
          pushedAgoMs,
        });
        break;
      case SIG:
        images.push({ kind: 'sig', tags, subject, pushedAgoMs });
        break;
      case ORPHAN:
        images.push({ kind: 'orphan', tags, pushedAgoMs });
        break;
      default:
        images.push(
          (flags & TOP) !== 0
            ? { kind: 'image', tags, pushedAgoMs, pulledAgoMs, docker }
            : { kind: 'image', tags, pushedAgoMs, docker },
        );
    }
  }
  return images;
}

/** Counts of a shape: what the figures report as the mix. */
export function shapeMix(shape: readonly ShapeImage[]) {
  const mix = { images: shape.length, tagged: 0, untagged: 0, indexes: 0, children: 0, referrers: 0, sigTags: 0 };
  const children = new Set<number>();
  for (const image of shape) {
    if (image.tags.length > 0 || image.kind === 'sig') mix.tagged++;
    else mix.untagged++;
    if (image.kind === 'index') {
      mix.indexes++;
      for (const child of image.children ?? []) children.add(child);
    }
    if (image.kind === 'referrer' || image.kind === 'orphan') mix.referrers++;
    if (image.kind === 'sig') mix.sigTags++;
  }
  mix.children = children.size;
  return mix;
}

const ARTIFACT_MEDIA_TYPES = {
  signature: ARTIFACT_TYPES.cosignSignature,
  attestation: ARTIFACT_TYPES.inTotoAttestation,
  sbom: ARTIFACT_TYPES.spdxSbom,
} as const;

/**
 * The shape as the planner sees it after gathering: DescribeImages fields plus each index's children. Digests are
 * random (not content hashes); sizes and media types are plausible.
 */
export function toImageRecords(shape: readonly ShapeImage[], now: number, random: () => number): ImageRecord[] {
  const digests = shape.map(() => randomDigest(random));
  return shape.map((image, position) => {
    const digest = digests[position] as string;
    const pushedAt = now - Math.round(image.pushedAgoMs);
    const pulled = image.pulledAgoMs === undefined ? {} : { lastPulledAt: now - Math.round(image.pulledAgoMs) };
    const size = 20_000_000 + Math.floor(random() * 400_000_000);
    switch (image.kind) {
      case 'index':
        return {
          digest,
          tags: [...image.tags],
          pushedAt,
          ...pulled,
          sizeInBytes: size,
          manifestMediaType: image.docker ? MEDIA_TYPES.dockerManifestList : MEDIA_TYPES.ociIndex,
          childDigests: (image.children ?? []).map((child) => digests[child] as string),
        };
      case 'referrer':
        return {
          digest,
          tags: [],
          pushedAt,
          ...pulled,
          sizeInBytes: 1_500,
          manifestMediaType: MEDIA_TYPES.ociManifest,
          artifactMediaType: ARTIFACT_MEDIA_TYPES[image.artifact ?? 'signature'],
          subjectDigest: digests[image.subject ?? -1] as string,
        };
      case 'orphan':
        return {
          digest,
          tags: [],
          pushedAt,
          sizeInBytes: 1_500,
          manifestMediaType: MEDIA_TYPES.ociManifest,
          artifactMediaType: ARTIFACT_TYPES.cosignSignature,
          subjectDigest: randomDigest(random),
        };
      case 'sig':
        return {
          digest,
          tags: [flat(`${(digests[image.subject ?? -1] as string).replace(':', '-')}.sig`)],
          pushedAt,
          ...pulled,
          sizeInBytes: 1_500,
          manifestMediaType: MEDIA_TYPES.ociManifest,
          artifactMediaType: MEDIA_TYPES.ociConfig,
        };
      default:
        return {
          digest,
          tags: [...image.tags],
          pushedAt,
          ...pulled,
          sizeInBytes: size,
          manifestMediaType: image.docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest,
          artifactMediaType: image.docker ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.ociConfig,
        };
    }
  });
}

/**
 * The media types of generated images by code (`ImageColumns.manifestType`, `artifactType`); code 0 is none.
 */
export const COLUMN_MEDIA_TYPES: readonly (string | undefined)[] = [
  undefined,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociConfig,
  MEDIA_TYPES.dockerConfig,
  ARTIFACT_TYPES.cosignSignature,
  ARTIFACT_TYPES.inTotoAttestation,
  ARTIFACT_TYPES.spdxSbom,
];
const codeOf = (mediaType: string): number => COLUMN_MEDIA_TYPES.indexOf(mediaType);
const OCI_MANIFEST = codeOf(MEDIA_TYPES.ociManifest);
const OCI_INDEX = codeOf(MEDIA_TYPES.ociIndex);
const DOCKER_MANIFEST = codeOf(MEDIA_TYPES.dockerManifest);
const DOCKER_MANIFEST_LIST = codeOf(MEDIA_TYPES.dockerManifestList);
const OCI_CONFIG = codeOf(MEDIA_TYPES.ociConfig);
const DOCKER_CONFIG = codeOf(MEDIA_TYPES.dockerConfig);
const COSIGN_SIGNATURE = codeOf(ARTIFACT_TYPES.cosignSignature);
const ARTIFACT_CODES = {
  signature: COSIGN_SIGNATURE,
  attestation: codeOf(ARTIFACT_TYPES.inTotoAttestation),
  sbom: codeOf(ARTIFACT_TYPES.spdxSbom),
} as const;

/**
 * The images of `toImageRecords`, column by column: position `i` of every column is image `i` of the shape. One
 * string per digest and typed arrays for the rest, so that a repository held for a while costs a few dozen bytes an
 * image besides its digests, and no object per image.
 */
export interface ImageColumns {
  readonly count: number;
  readonly digests: readonly string[];
  /**
   * An image's tags, undefined for none: the very list each DescribeImages answer gives, as a list the answer's
   * reader never changes need not be copied for every answer.
   */
  readonly tags: readonly (readonly string[] | undefined)[];
  readonly pushedAt: Float64Array;
  /** NaN for an image never pulled. */
  readonly lastPulledAt: Float64Array;
  /**
   * Below 2^31 (generated sizes are at most 420 MB): read from an Int32Array a size is a small integer, as a number
   * from JSON is, so that the objects holding it keep an integer field rather than a boxed double.
   */
  readonly sizeInBytes: Int32Array;
  /** Codes into `COLUMN_MEDIA_TYPES`. */
  readonly manifestType: Uint8Array;
  readonly artifactType: Uint8Array;
  readonly subjectDigests: readonly (string | undefined)[];
  /** An index's children are `childList[childStart[i]]` up to `childList[childStart[i + 1]]`, as positions. */
  readonly childStart: Int32Array;
  readonly childList: Int32Array;
}

/**
 * `toImageRecords`' images in columns: the same PRNG draws in the same order, so the same shape and PRNG state give
 * the same digests, times, sizes, media types, tags, subjects and children (test/unit/bench/organisation-sim.test.ts reads the model against toImageRecords).
 */
export function toImageColumns(shape: ShapeColumns, now: number, random: () => number): ImageColumns {
  const { count, kind, childStart, childList } = shape;
  const digests: string[] = new Array(count);
  for (let i = 0; i < count; i++) digests[i] = randomDigest(random);
  const tags: (readonly string[] | undefined)[] = new Array(count).fill(undefined);
  const listOf = (own: string | string[] | undefined) => (typeof own === 'string' ? [own] : own);
  const subjectDigests: (string | undefined)[] = new Array(count).fill(undefined);
  const pushedAt = new Float64Array(count);
  const lastPulledAt = new Float64Array(count);
  const sizeInBytes = new Int32Array(count);
  const manifestType = new Uint8Array(count);
  const artifactType = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const code = kind[i] as number;
    const docker = ((shape.flags[i] as number) & DOCKER) !== 0;
    pushedAt[i] = now - Math.round(shape.pushedAgoMs[i] as number);
    const pulled = shape.pulledAgoMs[i] as number;
    lastPulledAt[i] = Number.isNaN(pulled) || code === ORPHAN ? Number.NaN : now - Math.round(pulled);
    // Drawn for every image, as toImageRecords does, whatever its kind.
    const size = 20_000_000 + Math.floor(random() * 400_000_000);
    switch (code) {
      case INDEX:
        tags[i] = listOf(shape.tags[i]);
        sizeInBytes[i] = size;
        manifestType[i] = docker ? DOCKER_MANIFEST_LIST : OCI_INDEX;
        break;
      case REFERRER:
        sizeInBytes[i] = 1_500;
        manifestType[i] = OCI_MANIFEST;
        artifactType[i] = ARTIFACT_CODES[ARTIFACTS[shape.artifact[i] as number] ?? 'signature'];
        subjectDigests[i] = digests[shape.subject[i] as number];
        break;
      case ORPHAN:
        sizeInBytes[i] = 1_500;
        manifestType[i] = OCI_MANIFEST;
        artifactType[i] = COSIGN_SIGNATURE;
        subjectDigests[i] = randomDigest(random);
        break;
      case SIG:
        tags[i] = [flat(`${(digests[shape.subject[i] as number] as string).replace(':', '-')}.sig`)];
        sizeInBytes[i] = 1_500;
        manifestType[i] = OCI_MANIFEST;
        artifactType[i] = OCI_CONFIG;
        break;
      default:
        tags[i] = listOf(shape.tags[i]);
        sizeInBytes[i] = size;
        manifestType[i] = docker ? DOCKER_MANIFEST : OCI_MANIFEST;
        artifactType[i] = docker ? DOCKER_CONFIG : OCI_CONFIG;
    }
  }
  return {
    count,
    digests,
    tags,
    pushedAt,
    lastPulledAt,
    sizeInBytes,
    manifestType,
    artifactType,
    subjectDigests,
    childStart,
    childList,
  };
}

/** Where a synthetic fleet lives: the account and region of every repository. */
export interface FleetRegistry {
  registryId: string;
  region: string;
}

/** What a synthetic in-use snapshot holds, by kind of reference, for the figure to state. */
export interface InUseMix {
  references: number;
  byDigest: number;
  byDigestUntagged: number;
  byDigestReleased: number;
  byDigestTagged: number;
  byDigestGone: number;
  byTag: number;
  byTagLatest: number;
  byTagGone: number;
  elsewhere: number;
  duplicates: number;
  providers: Record<InUseReference['provider'], number>;
  repositoriesReferenced: number;
}

const hex = (random: () => number, length: number) => {
  let text = '';
  for (let i = 0; i < length; i++) text += HEX[Math.floor(random() * 16)];
  return text;
};

/**
 * One in-use snapshot of `count` references over the fleet, as `gatherInUse` returns it (ECS, then Lambda, then
 * Kubernetes; no failures). About half name a digest, most of an image the repository has: untagged images (which
 * the untagged rules would delete), tagged images the rule's selections release, other tagged images, with the tag
 * the workload names when there is one; a few name a digest the repository no longer has. The other half name only
 * a tag: mostly a tag the repository has (now and then `latest`), a few one it no longer has. About 2 % are for
 * the same repository name in another account or region, and about 3 % repeat an earlier reference exactly (a
 * service and its task). Repositories are picked with a skew: some services run in many places, many in none.
 */
export function inUseSnapshotOf(
  repositories: readonly { name: string; images: readonly ImageRecord[] }[],
  rule: CleanupRule,
  registry: FleetRegistry,
  count: number,
  now: number,
  random: () => number,
): { snapshot: InUseSnapshot; mix: InUseMix } {
  const mix: InUseMix = {
    references: count,
    byDigest: 0,
    byDigestUntagged: 0,
    byDigestReleased: 0,
    byDigestTagged: 0,
    byDigestGone: 0,
    byTag: 0,
    byTagLatest: 0,
    byTagGone: 0,
    elsewhere: 0,
    duplicates: 0,
    providers: { ecs: 0, lambda: 0, k8s: 0 },
    repositoriesReferenced: 0,
  };
  // Per repository, once it is referenced: its untagged images that are no referrer, its tagged images (real tags
  // only), and those the selections release.
  const pools = new Map<number, { untagged: ImageRecord[]; tagged: ImageRecord[]; released: ImageRecord[] }>();
  const poolOf = (position: number) => {
    let pool = pools.get(position);
    if (pool === undefined) {
      const images = repositories[position]?.images ?? [];
      const verdicts = judgeTags(images, rule.tagSelections ?? [], now);
      pool = { untagged: [], tagged: [], released: [] };
      for (const image of images) {
        const verdict = verdicts.kind(image.digest);
        if (verdict === undefined) {
          if (image.tags.length === 0 && image.subjectDigest === undefined) pool.untagged.push(image);
        } else {
          pool.tagged.push(image);
          if (verdict === 'released') pool.released.push(image);
        }
      }
      pools.set(position, pool);
    }
    return pool;
  };
  const pick = <T>(list: readonly T[]): T | undefined => list[Math.floor(random() * list.length)];
  const realTag = (image: ImageRecord | undefined) => image?.tags.find((tag) => !tag.endsWith('.sig'));

  const byProvider: Record<InUseReference['provider'], InUseImage[]> = { ecs: [], lambda: [], k8s: [] };
  const all: InUseImage[] = [];
  for (let i = 0; i < count; i++) {
    const earlier = all.length > 0 && random() < 0.03 ? pick(all) : undefined;
    if (earlier !== undefined) {
      mix.duplicates++;
      all.push(earlier);
      byProvider[earlier.usedBy.provider].push({ ...earlier, usedBy: { ...earlier.usedBy } });
      continue;
    }
    const position = Math.floor(repositories.length * random() ** 2);
    const repositoryName = repositories[position]?.name ?? 'missing';
    const pool = poolOf(position);
    let digest: string | undefined;
    let tag: string | undefined;
    const kind = random();
    if (kind < 0.5) {
      mix.byDigest++;
      let image: ImageRecord | undefined;
      if (kind < 0.15 && pool.untagged.length > 0) {
        image = pick(pool.untagged);
        mix.byDigestUntagged++;
      } else if (kind < 0.3 && pool.released.length > 0) {
        image = pick(pool.released);
        mix.byDigestReleased++;
      } else if (kind < 0.46 && pool.tagged.length > 0) {
        image = pick(pool.tagged);
        mix.byDigestTagged++;
      } else mix.byDigestGone++;
      digest = image?.digest ?? randomDigest(random);
      tag = realTag(image);
    } else {
      mix.byTag++;
      if (kind < 0.9) tag = realTag(pick(pool.tagged));
      else if (kind < 0.95) {
        tag = 'latest';
        mix.byTagLatest++;
      }
      if (tag === undefined) {
        tag = flat(`pr-${1_000_000 + Math.floor(random() * 1_000_000)}`);
        mix.byTagGone++;
      }
    }
    const elsewhere = random() < 0.02;
    if (elsewhere) mix.elsewhere++;
    const place = random();
    const usedBy: InUseReference =
      place < 0.5
        ? {
            provider: 'ecs',
            where: flat(
              random() < 0.8
                ? `prod-${Math.floor(random() * 8)}/service-${position}`
                : `batch-${Math.floor(random() * 4)}/${hex(random, 32)}`,
            ),
          }
        : place < 0.65
          ? { provider: 'lambda', where: flat(`fn-${position}-${hex(random, 4)}:${random() < 0.5 ? 'live' : '7'}`) }
          : {
              provider: 'k8s',
              where: flat(`team-${position % 50}/service-${position}-${hex(random, 10)}-${hex(random, 5)}`),
            };
    const reference: InUseImage = {
      registryId: elsewhere && random() < 0.5 ? '210987654321' : registry.registryId,
      region: elsewhere ? 'eu-west-1' : registry.region,
      repositoryName,
      ...(digest === undefined ? {} : { digest }),
      ...(tag === undefined ? {} : { tag }),
      usedBy,
    };
    all.push(reference);
    byProvider[usedBy.provider].push(reference);
  }
  for (const [provider, list] of Object.entries(byProvider))
    mix.providers[provider as InUseReference['provider']] = list.length;
  mix.repositoriesReferenced = new Set(all.map((reference) => reference.repositoryName)).size;
  return { snapshot: { images: [...byProvider.ecs, ...byProvider.lambda, ...byProvider.k8s], failures: [] }, mix };
}

const ARCHES = ['amd64', 'arm64', 'ppc64le', 's390x'];
const ago = (ms: number) => `-${Math.max(0, Math.round(ms / 1_000))}s`;

/** The shape as fixture images for `loadFixture` / `POST /_local/load`: referenced images get an id. */
export function toFixtureImages(shape: readonly ShapeImage[], seed: string): FixtureImage[] {
  const referenced = new Set<number>();
  for (const image of shape) {
    for (const child of image.children ?? []) referenced.add(child);
    if (image.subject !== undefined) referenced.add(image.subject);
  }
  const childArch = new Map<number, string>();
  for (const image of shape) {
    (image.children ?? []).forEach((child, arch) => {
      if (!childArch.has(child)) childArch.set(child, ARCHES[arch] ?? 'amd64');
    });
  }
  const id = (position: number) => `i${position}`;
  return shape.map((image, position): FixtureImage => {
    const common: FixtureImage = {
      ...(referenced.has(position) ? { id: id(position) } : {}),
      ...(image.tags.length > 0 ? { tags: image.tags } : {}),
      pushedAt: ago(image.pushedAgoMs),
      ...(image.pulledAgoMs === undefined ? {} : { lastPulledAt: ago(image.pulledAgoMs) }),
    };
    switch (image.kind) {
      case 'index':
        // Fixtures build OCI manifests only: `docker` is a planner-side (media type) detail.
        return { ...common, kind: 'index', children: (image.children ?? []).map(id) };
      case 'referrer':
        return { ...common, kind: image.artifact ?? 'signature', subject: id(image.subject ?? -1) };
      case 'sig':
        return { ...common, layerSizes: [1_024], tagConvention: { subject: id(image.subject ?? -1), suffix: '.sig' } };
      case 'orphan':
        return {
          ...common,
          manifest: buildReferrerManifest({
            seed: `${seed}/orphan/${position}`,
            subject: {
              mediaType: MEDIA_TYPES.ociManifest,
              digest: randomDigest(prng(position + 1)),
              size: 1_024,
            },
            artifactType: ARTIFACT_TYPES.cosignSignature,
          }),
        };
      default: {
        const arch = childArch.get(position);
        return arch ? { ...common, architecture: arch } : common;
      }
    }
  });
}

/**
 * The least number of ECR calls a cleanup of a repository can make, by the formula the figure states: the listing,
 * the index reads, the deletes, and for each of the safety reads (the re-read of the candidates before deleting, the
 * check after deleting that kept images' children and referrers still resolve) the cheaper of reading by id (100 a
 * call) and listing the repository (1,000 a page). The act lists the repository for images pushed since the plan
 * in any case, so when the candidates are few (ceil(toDelete/100) < pages) a run makes the difference more than
 * this floor.
 */
export interface CallFloor {
  describePages: number;
  indexReads: number;
  reReads: number;
  deletes: number;
  verifyReads: number;
  total: number;
}

export const FLOOR_FORMULA =
  'ceil(images/1000) DescribeImages pages + ceil(indexes/100) BatchGetImage + min(ceil(toDelete/100) DescribeImages by id, ceil(images/1000) pages) (re-read) + ceil(toDelete/100) BatchDeleteImage + min(ceil(distinct edge targets of kept images/100) DescribeImages by id, ceil((images - toDelete)/1000) pages) (verify)';

/** The cheaper of the two ways to read `ids` images of a repository of `images`: by id, or a listing. */
export const cheaperReadCalls = (ids: number, images: number): number =>
  Math.min(Math.ceil(ids / 100), Math.max(1, Math.ceil(images / 1_000)));

export function callFloor(counts: {
  images: number;
  indexes: number;
  toDelete: number;
  edgeTargets: number;
}): CallFloor {
  const floor = {
    describePages: Math.ceil(counts.images / 1_000),
    indexReads: Math.ceil(counts.indexes / 100),
    reReads: cheaperReadCalls(counts.toDelete, counts.images),
    deletes: Math.ceil(counts.toDelete / 100),
    verifyReads: cheaperReadCalls(counts.edgeTargets, counts.images - counts.toDelete),
  };
  return { ...floor, total: Object.values(floor).reduce((sum, n) => sum + n, 0) };
}

/** The floor before the act chose between reading by id and listing: both safety reads by id. */
export function byIdCallFloor(counts: Parameters<typeof callFloor>[0]): number {
  return (
    Math.ceil(counts.images / 1_000) +
    Math.ceil(counts.indexes / 100) +
    2 * Math.ceil(counts.toDelete / 100) +
    Math.ceil(counts.edgeTargets / 100)
  );
}

/** Wall time spent inside each gateway method, to tell waiting on ECR from local work. */
export interface GatewayTimes {
  listImages: number;
  getManifests: number;
  describeImages: number;
  deleteImages: number;
}

/** Wraps the gateway methods a cleanup uses, adding their wall time (ms) to `times`. */
export function timedGateway(gateway: EcrGateway): { gateway: EcrGateway; times: GatewayTimes } {
  const times: GatewayTimes = { listImages: 0, getManifests: 0, describeImages: 0, deleteImages: 0 };
  const wrapped: EcrGateway = {
    ...gateway,
    callCounts: () => gateway.callCounts(),
    async *listImages(repositoryName, options) {
      let started = performance.now();
      for await (const page of gateway.listImages(repositoryName, options)) {
        times.listImages += performance.now() - started;
        yield page;
        started = performance.now();
      }
      times.listImages += performance.now() - started;
    },
    async getManifests(repositoryName, digests) {
      const started = performance.now();
      try {
        return await gateway.getManifests(repositoryName, digests);
      } finally {
        times.getManifests += performance.now() - started;
      }
    },
    async describeImages(repositoryName, digests) {
      const started = performance.now();
      try {
        return await gateway.describeImages(repositoryName, digests);
      } finally {
        times.describeImages += performance.now() - started;
      }
    },
    async deleteImages(repositoryName, digests) {
      const started = performance.now();
      try {
        return await gateway.deleteImages(repositoryName, digests);
      } finally {
        times.deleteImages += performance.now() - started;
      }
    },
  };
  return { gateway: wrapped, times };
}
