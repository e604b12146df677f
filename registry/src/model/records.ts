import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decodeManifest, encodeManifest } from './manifest-codec.ts';
import { MEDIA_TYPES, type ParsedManifest, parseManifest } from './manifests.ts';
import {
  type ExclusionFilter,
  ImageStore,
  type RegistryState,
  type RepositoryRecord,
  type StoredImage,
  type StoredTagMutability,
} from './state.ts';

/** Builds a repository record with ECR's defaults (MUTABLE, no scan on push, AES256). Does not store it. */
export function newRepository(
  state: RegistryState,
  name: string,
  now: number,
  options: {
    imageTagMutability?: StoredTagMutability;
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
    layers: new Map(),
  };
}

/**
 * Builds an image record from a parsed manifest. An index's size is its largest child's, as ECR reports
 * (`imageSizeInBytes` of a manifest list). Does not store it.
 */
/**
 * Media types repeat across images; JSON.parse makes a fresh copy per manifest, so records share one copy of each
 * (bounded, as clients may send any artifact type).
 */
const internedStrings = new Map<string, string>();
const MAX_INTERNED = 4_096;
function intern(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const known = internedStrings.get(value);
  if (known !== undefined) return known;
  if (internedStrings.size < MAX_INTERNED) internedStrings.set(value, value);
  return value;
}

/**
 * Manifests are most of the registry's memory (100,000 images of 1 KB are 100 MB of text), so each is kept packed,
 * as a one-byte string: by the manifest codec (manifest-codec.ts) when the text is ASCII, as nearly every manifest
 * is, else deflated (about half the size for digest-heavy manifests; ~15 µs to pack, ~5 µs to unpack). Unpacking
 * gives back the exact text, so its UTF-8 bytes still hash to the digest.
 */
/**
 * For deflate, a preset dictionary of the text every manifest repeats (keys, media types, `sha256:`): with it a 1 KB manifest packs
 * to about 360 bytes instead of 550 (its digests, random hex, are what is left). A small window and memory level:
 * manifests are a few KB, and zlib's default state (~300 KB per call) fragmented the heap allocator enough to cost more
 * resident memory than the compression saved. Changing the dictionary would make stored manifests unreadable, but
 * nothing is stored beyond the life of the process.
 */
const MANIFEST_DICTIONARY = Buffer.from(
  `"annotations": {"org.opencontainers.image.created": "${[
    { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [descriptorOf(MEDIA_TYPES.ociManifest, true)] },
    {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: descriptorOf(MEDIA_TYPES.dockerConfig),
      layers: [descriptorOf(MEDIA_TYPES.dockerLayer)],
    },
    {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: descriptorOf(MEDIA_TYPES.ociConfig),
      layers: [descriptorOf(MEDIA_TYPES.ociLayer), descriptorOf(MEDIA_TYPES.ociLayer)],
    },
  ]
    .map((document) => JSON.stringify(document, null, 2))
    .join('')}`,
  'utf8',
);
const ZLIB_OPTIONS = { windowBits: 11, memLevel: 2, dictionary: MANIFEST_DICTIONARY } as const;

function descriptorOf(mediaType: string, platform = false) {
  return {
    mediaType,
    digest: 'sha256:',
    size: 1,
    ...(platform ? { platform: { architecture: 'amd64', os: 'linux' } } : {}),
  };
}

export function packManifest(manifest: string): string {
  return deflateRawSync(Buffer.from(manifest, 'utf8'), ZLIB_OPTIONS).toString('latin1');
}

export function unpackManifest(packed: string): string {
  return inflateRawSync(Buffer.from(packed, 'latin1'), ZLIB_OPTIONS).toString('utf8');
}

export function newImage(
  repository: RepositoryRecord,
  manifest: string,
  parsed: ParsedManifest,
  now: number,
  tags: string[] = [],
): StoredImage {
  let sizeInBytes = parsed.sizeInBytes;
  if (parsed.isIndex) {
    sizeInBytes = 0;
    for (const child of parsed.children) {
      sizeInBytes = Math.max(sizeInBytes, repository.images.get(child)?.sizeInBytes ?? 0);
    }
  }
  return new CompactImage(
    parsed.digest,
    manifest,
    Buffer.byteLength(manifest, 'utf8'),
    intern(parsed.mediaType) as string,
    intern(parsed.artifactMediaType),
    sizeInBytes,
    parsed.subjectDigest,
    parsed.children,
    intern(parsed.artifactType),
    // Only the referrers listing returns annotations, and it lists only referrers.
    parsed.subjectDigest === undefined ? undefined : parsed.annotations,
    now,
    [...tags],
    repository.images.allocateSeq(),
  );
}

/** How a record holds its manifest: as text, packed by the manifest codec, or deflated. */
const Packing = { None: 0, Codec: 1, Deflate: 2 } as const;
type Packing = (typeof Packing)[keyof typeof Packing];

/**
 * An image as the store keeps it. A class, so that the `manifest` getter lives once on the prototype: a getter in
 * each object literal gave every record its own hidden class, about a kilobyte per image.
 */
class CompactImage implements StoredImage {
  lastPulledAt?: number;
  status: StoredImage['status'] = 'ACTIVE';
  scan?: StoredImage['scan'];
  lastScanStartedAt?: number;
  attachedFindings?: StoredImage['attachedFindings'];
  /** The manifest text until it is packed (off the request path), then its packed form. */
  private stored: string;
  private packing: Packing = Packing.None;

  constructor(
    readonly digest: string,
    manifest: string,
    readonly manifestSize: number,
    readonly manifestMediaType: string,
    readonly artifactMediaType: string | undefined,
    readonly sizeInBytes: number,
    readonly subjectDigest: string | undefined,
    readonly childDigests: readonly string[],
    readonly artifactType: string | undefined,
    readonly annotations: Record<string, string> | undefined,
    public pushedAt: number,
    public tags: string[],
    readonly seq: number,
  ) {
    this.stored = manifest;
    compressLater(this);
  }

  get manifest(): string {
    if (this.packing === Packing.Codec) return decodeManifest(this.stored);
    return this.packing === Packing.Deflate ? unpackManifest(this.stored) : this.stored;
  }

  compress(): void {
    if (this.packing !== Packing.None) return;
    const encoded = encodeManifest(this.stored);
    if (encoded === undefined) {
      this.stored = packManifest(this.stored);
      this.packing = Packing.Deflate;
    } else {
      this.stored = encoded;
      this.packing = Packing.Codec;
    }
  }
}

/**
 * Manifests are compressed after the response that stored them has been written (setImmediate runs after I/O), so
 * that PutImage does not wait for zlib; a burst of pushes is compressed in one pass when the burst pauses.
 */
const pendingCompression: CompactImage[] = [];
let compressionScheduled = false;

function compressLater(image: CompactImage): void {
  pendingCompression.push(image);
  if (compressionScheduled) return;
  compressionScheduled = true;
  setImmediate(compressPending);
}

function compressPending(): void {
  compressionScheduled = false;
  const batch = pendingCompression.splice(0, pendingCompression.length);
  for (const image of batch) image.compress();
}

export { parseManifest };
