import { createHash } from 'node:crypto';
import { EcrException, invalidParameter } from '../wire/errors.ts';

/** Manifest media types ([OCI-IMG], [M-ECR] BatchGetImage doc). */
export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
export const KNOWN_MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.dockerSchema1,
  MEDIA_TYPES.dockerSchema1Signed,
]);

/** The empty config of OCI artifacts: content `{}` ([OCI-IMG] manifest.md). */
export const EMPTY_CONFIG = {
  mediaType: MEDIA_TYPES.ociEmpty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
};

export const sha256 = (text: string | Buffer): string =>
  `sha256:${createHash('sha256')
    .update(typeof text === 'string' ? Buffer.from(text, 'utf8') : text)
    .digest('hex')}`;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface ParsedManifest {
  digest: string;
  mediaType: string;
  isIndex: boolean;
  /** Digests an index references. */
  children: string[];
  subjectDigest?: string;
  /** ECR's `artifactMediaType`: the artifact type, or else the config's media type. */
  artifactMediaType?: string;
  /** OCI `artifactType`, for the referrers listing. */
  artifactType?: string;
  annotations?: Record<string, string>;
  /** Config plus layers for an image; 0 for an index (the store uses its largest child). */
  sizeInBytes: number;
  /** The blobs an image manifest needs in its repository (config, then layers; `blobSum`s of schema 1); none for an index. */
  blobs: { digest: string; size: number }[];
}

/**
 * A digest ECR can store: sha256 or sha512 with its full lower-case hex ([OCI-IMG] descriptor.md's registered
 * algorithms); anything else (`../../x`) is refused.
 */
export const OCI_DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** A descriptor's `size`: absent (schema 1 `fsLayers`) counts 0; otherwise a safe non-negative integer. */
function descriptorSize(size: unknown, member: string): number {
  if (size === undefined) return 0;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw imageManifestError(`each ${member} size must be a non-negative integer below 2^53`);
  }
  return size;
}

const imageManifestError = (constraint: string) =>
  invalidParameter(`Invalid parameter at 'ImageManifest' failed to satisfy constraint: '${constraint}'`);

const asDescriptorList = (value: unknown, member: string): Descriptor[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw imageManifestError(`${member} must be an array`);
  return value.map((entry) => {
    if (!entry || typeof entry !== 'object' || typeof (entry as Descriptor).digest !== 'string') {
      throw imageManifestError(`each ${member} entry must be a descriptor with a digest`);
    }
    return entry as Descriptor;
  });
};

/**
 * Reads what the registry needs from a manifest: its digest (sha256 of the exact bytes), media type
 * (the manifest's own `mediaType`, else the request's; both present and different is an error), children
 * of an index, `subject`, artifact type and size.
 */
export function parseManifest(text: string, requestMediaType?: string): ParsedManifest {
  let document: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    document = parsed as Record<string, unknown>;
  } catch {
    throw imageManifestError('Invalid JSON syntax');
  }
  const own = typeof document.mediaType === 'string' ? document.mediaType : undefined;
  if (own && requestMediaType && own !== requestMediaType) {
    throw new EcrException(
      'InvalidParameterException',
      `Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: 'Manifest media type ${own} does not match ${requestMediaType}'`,
    );
  }
  let mediaType = own ?? requestMediaType;
  if (!mediaType && document.schemaVersion === 1) mediaType = MEDIA_TYPES.dockerSchema1;
  // ECR refuses a manifest it cannot type (no mediaType in it or in the request) as it refuses text that is not JSON.
  if (!mediaType) throw imageManifestError('Invalid JSON syntax');
  if (!KNOWN_MANIFEST_MEDIA_TYPES.has(mediaType)) {
    throw new EcrException('UnsupportedImageTypeException', `The manifest media type '${mediaType}' is not supported`);
  }
  const isIndex = INDEX_MEDIA_TYPES.has(mediaType);
  const subject = document.subject as { digest?: unknown } | undefined;
  const subjectDigest = subject && typeof subject.digest === 'string' ? subject.digest : undefined;
  if (subject !== undefined && (subjectDigest === undefined || !OCI_DIGEST.test(subjectDigest))) {
    throw imageManifestError('subject.digest must be a digest (sha256:<64 hex> or sha512:<128 hex>)');
  }
  const artifactType = typeof document.artifactType === 'string' ? document.artifactType : undefined;
  const annotations =
    document.annotations && typeof document.annotations === 'object'
      ? (document.annotations as Record<string, string>)
      : undefined;
  const digest = sha256(text);
  if (isIndex) {
    const children = asDescriptorList(document.manifests, 'manifests').map((d) => d.digest);
    return {
      digest,
      mediaType,
      isIndex,
      children,
      subjectDigest,
      artifactType,
      artifactMediaType: artifactType,
      annotations,
      sizeInBytes: 0,
      blobs: [],
    };
  }
  const config = document.config as Descriptor | undefined;
  const layers = asDescriptorList(document.layers ?? document.fsLayers, 'layers');
  const blobs: { digest: string; size: number }[] = [];
  if (config && typeof config === 'object' && typeof config.digest === 'string') {
    blobs.push({ digest: config.digest, size: descriptorSize(config.size, 'config') });
  }
  let sizeInBytes = descriptorSize(config?.size, 'config');
  for (const layer of layers) {
    const size = descriptorSize(layer.size, 'layers');
    sizeInBytes += size;
    const digest = layer.digest ?? (layer as { blobSum?: string }).blobSum;
    if (typeof digest === 'string' && !blobs.some((blob) => blob.digest === digest)) blobs.push({ digest, size });
  }
  if (!Number.isSafeInteger(sizeInBytes)) throw imageManifestError('the image size is larger than a size can be');
  return {
    digest,
    mediaType,
    isIndex,
    children: [],
    subjectDigest,
    artifactType,
    artifactMediaType: artifactType ?? config?.mediaType,
    annotations,
    sizeInBytes,
    blobs,
  };
}

// ---- Builders for fixtures, the demo registry, tests and benchmarks ----

const fakeDigest = (seed: string) => sha256(`blob:${seed}`);

export interface ImageManifestSpec {
  /** Makes the content (and so the digest) unique. */
  seed: string;
  layerSizes?: number[];
  architecture?: string;
  os?: string;
  mediaType?: typeof MEDIA_TYPES.ociManifest | typeof MEDIA_TYPES.dockerManifest;
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** An OCI (or Docker v2) image manifest with plausible config and layer descriptors. */
export function buildImageManifest(spec: ImageManifestSpec): string {
  const docker = spec.mediaType === MEDIA_TYPES.dockerManifest;
  const layerSizes = spec.layerSizes ?? [2_811_478, 31_457_280];
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: spec.mediaType ?? MEDIA_TYPES.ociManifest,
    config: {
      mediaType: docker ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.ociConfig,
      digest: fakeDigest(`${spec.seed}:config:${spec.architecture ?? 'amd64'}/${spec.os ?? 'linux'}`),
      size: 1_472,
    },
    layers: layerSizes.map((size, i) => ({
      mediaType: docker ? MEDIA_TYPES.dockerLayer : MEDIA_TYPES.ociLayer,
      digest: fakeDigest(`${spec.seed}:layer:${i}`),
      size,
    })),
  };
  if (spec.subject) manifest.subject = spec.subject;
  if (spec.annotations) manifest.annotations = spec.annotations;
  return JSON.stringify(manifest, null, 2);
}

/** An OCI artifact manifest (signature, attestation, SBOM) whose `subject` is another manifest. */
export function buildReferrerManifest(spec: {
  seed: string;
  subject: Descriptor;
  artifactType: string;
  payloadSize?: number;
  annotations?: Record<string, string>;
}): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: spec.artifactType,
    config: EMPTY_CONFIG,
    layers: [
      { mediaType: spec.artifactType, digest: fakeDigest(`${spec.seed}:payload`), size: spec.payloadSize ?? 1_024 },
    ],
    subject: spec.subject,
    annotations: spec.annotations ?? { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
  });
}

/** An OCI image index (or Docker manifest list) over the given child descriptors. */
export function buildIndexManifest(
  children: Descriptor[],
  mediaType: typeof MEDIA_TYPES.ociIndex | typeof MEDIA_TYPES.dockerManifestList = MEDIA_TYPES.ociIndex,
): string {
  return JSON.stringify({ schemaVersion: 2, mediaType, manifests: children }, null, 2);
}

/** A descriptor for a manifest string, for use as an index child or a subject. */
export function describeManifest(text: string, extra: Partial<Descriptor> = {}): Descriptor {
  const parsed = JSON.parse(text) as { mediaType?: string };
  return {
    mediaType: parsed.mediaType ?? MEDIA_TYPES.ociManifest,
    digest: sha256(text),
    size: Buffer.byteLength(text, 'utf8'),
    ...extra,
  };
}

/** Referrer artifact types used by signing and attestation tools. */
export const ARTIFACT_TYPES = {
  cosignSignature: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  notationSignature: 'application/vnd.cncf.notary.signature',
  inTotoAttestation: 'application/vnd.in-toto+json',
  spdxSbom: 'application/spdx+json',
  cyclonedxSbom: 'application/vnd.cyclonedx+json',
} as const;
