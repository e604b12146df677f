import { buildIdentity, type IdentityFixture } from '../identity/fixture.ts';
import { buildContentImage, buildContentReferrer } from '../model/content-images.ts';
import {
  ARTIFACT_TYPES,
  buildImageManifest,
  buildIndexManifest,
  buildReferrerManifest,
  type Descriptor,
} from '../model/manifests.ts';
import { newImage, newRepository, parseManifest } from '../model/records.ts';
import {
  DEFAULT_ACCOUNT,
  DEFAULT_REGION,
  type ExclusionFilter,
  type Registry,
  type RepositoryRecord,
  type StoredImage,
  type StoredTagMutability,
} from '../model/state.ts';
import { PUBLIC_REPOSITORY_NAME } from '../public/common.ts';
import { readCatalogData } from '../public/operations.ts';
import { newPublicContent, type PublicRepositoryRecord } from '../public/state.ts';
import { buildStorage, type StorageFixture } from '../storage/fixture.ts';
import { Input, REPOSITORY_NAME, TAG_MUTABILITY } from '../wire/validate.ts';
import { buildWorkloads, type WorkloadFixture } from '../workloads/fixture.ts';

/**
 * A registry fixture: repositories with images, multi-arch indexes, referrers (signatures, attestations, SBOMs),
 * tags, push and pull times and scan findings, loaded through the control API (`POST /_local/load`).
 *
 * Times (`pushedAt`, `lastPulledAt`, `createdAt`) are ISO strings, epoch seconds, or relative to the registry
 * clock: `"-90d"`, `"-6h"`, `"-15m"`, `"-30s"`, `"now"`.
 */
export interface Fixture extends WorkloadFixture, IdentityFixture, StorageFixture {
  account?: string;
  region?: string;
  /**
   * `true`: every image gets real content (gzip tar layers, an OCI config; see `content-images.ts`) that pulls over
   * `/v2/` and downloads with GetDownloadUrlForLayer. Otherwise (the default, fast for large fixtures) images have
   * placeholder blobs: listed in their repository, not downloadable.
   */
  content?: boolean;
  /** Private repositories of `account` in `region` (may be empty when the fixture holds other things; over the control API, absent). */
  repositories: FixtureRepository[];
  /** ECR Public repositories of `account`'s public registry (global: `region` does not apply to them). */
  publicRepositories?: FixturePublicRepository[];
}

/**
 * An ECR Public repository: its catalog data (absent: the repository has none, as one created without it), resource
 * tags and images (the same image specs as a private repository's). Each tag's time (DescribeImageTags' `createdAt`)
 * is its image's `pushedAt`.
 */
export interface FixturePublicRepository {
  name: string;
  catalogData?: {
    description?: string;
    architectures?: string[];
    operatingSystems?: string[];
    aboutText?: string;
    usageText?: string;
  };
  tags?: Record<string, string>;
  createdAt?: TimeSpec;
  images?: FixtureImage[];
}

export interface FixtureRepository {
  name: string;
  imageTagMutability?: StoredTagMutability;
  imageTagMutabilityExclusionFilters?: ExclusionFilter[];
  scanOnPush?: boolean;
  encryptionType?: 'AES256' | 'KMS' | 'KMS_DSSE';
  kmsKey?: string;
  /** Resource tags (`team`, `cost-center`, ...). */
  tags?: Record<string, string>;
  lifecyclePolicy?: string | Record<string, unknown>;
  repositoryPolicy?: string | Record<string, unknown>;
  createdAt?: TimeSpec;
  images?: FixtureImage[];
}

export type FixtureImageKind = 'image' | 'index' | 'signature' | 'attestation' | 'sbom';

export interface FixtureImage {
  /** A name other images of the same repository use to refer to this one (`children`, `subject`). */
  id?: string;
  kind?: FixtureImageKind;
  /** A raw manifest (string kept byte for byte, or an object serialised with JSON.stringify); overrides `kind`. */
  manifest?: string | Record<string, unknown>;
  mediaType?: string;
  tags?: string[];
  architecture?: string;
  os?: string;
  layerSizes?: number[];
  /** For an index: ids (or digests) of images listed earlier in the same repository. */
  children?: string[];
  /** For a referrer: the id (or digest) of its subject, listed earlier in the same repository. */
  subject?: string;
  pushedAt?: TimeSpec;
  lastPulledAt?: TimeSpec;
  /** Findings a scan of this image reports (basic `findings` and enhanced `enhancedFindings` shapes). */
  findings?: Record<string, unknown>[];
  enhancedFindings?: Record<string, unknown>[];
  /**
   * A cosign-style artifact stored under the tag convention (`sha256-<hex>.sig|.att|.sbom`) of the image `subject`
   * names, rather than as an OCI referrer: it gets that tag and no `subject` field.
   */
  tagConvention?: { subject: string; suffix: '.sig' | '.att' | '.sbom' };
  /** The image has already been scanned (basic scan COMPLETE, reporting its findings). */
  scanned?: boolean;
}

export type TimeSpec = string | number;

export interface LoadedImage {
  repositoryName: string;
  /** Set for an image of a public repository. */
  public?: true;
  id?: string;
  imageDigest: string;
  imageTags: string[];
}

const RELATIVE = /^-(\d+(?:\.\d+)?)([dhms])$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;

/** Times a fixture or the control API may set: year 1970 to 9999, as epoch ms. */
const LATEST_TIME_MS = Date.UTC(9999, 11, 31);

/** A fixture time to epoch ms. */
export function resolveTime(spec: unknown, now: number): number {
  const ms = parseTimeSpec(spec, now);
  if (ms !== undefined && ms >= 0 && ms <= LATEST_TIME_MS) return ms;
  throw new Error(
    `Invalid time ${JSON.stringify(spec)}: use ISO-8601, epoch seconds, "now" or a relative "-3d"/"-6h"/"-15m"/"-30s", from 1970 to 9999`,
  );
}

function parseTimeSpec(spec: unknown, now: number): number | undefined {
  if (typeof spec === 'number' && Number.isFinite(spec)) return spec * 1000;
  if (typeof spec === 'string') {
    if (spec === 'now') return now;
    const relative = RELATIVE.exec(spec);
    if (relative) return now - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
    const parsed = Date.parse(spec);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return undefined;
}

const REFERRER_TYPES: Record<'signature' | 'attestation' | 'sbom', string> = {
  signature: ARTIFACT_TYPES.cosignSignature,
  attestation: ARTIFACT_TYPES.inTotoAttestation,
  sbom: ARTIFACT_TYPES.spdxSbom,
};

function manifestFor(
  image: FixtureImage,
  seed: string,
  lookup: (ref: string) => StoredImage,
  contents?: Buffer[],
): string {
  if (typeof image.manifest === 'string') return image.manifest;
  if (image.manifest) return JSON.stringify(image.manifest);
  const kind = image.kind ?? 'image';
  const descriptor = (record: StoredImage, extra: Partial<Descriptor> = {}): Descriptor => ({
    mediaType: record.manifestMediaType,
    digest: record.digest,
    size: record.manifestSize,
    ...extra,
  });
  if (kind === 'index') {
    if (!image.children?.length) throw new Error(`index ${seed} needs children`);
    return buildIndexManifest(
      image.children.map((ref) => {
        const child = lookup(ref);
        return descriptor(child, { platform: platformOf(child) });
      }),
    );
  }
  if (kind === 'image' && contents) {
    const built = buildContentImage({
      seed,
      layerSizes: image.layerSizes,
      architecture: image.architecture,
      os: image.os,
      subject: image.subject ? descriptor(lookup(image.subject)) : undefined,
    });
    contents.push(...built.blobs);
    return built.manifest;
  }
  if (kind === 'image') {
    return buildImageManifest({
      seed,
      layerSizes: image.layerSizes,
      architecture: image.architecture,
      os: image.os,
      subject: image.subject ? descriptor(lookup(image.subject)) : undefined,
    });
  }
  if (!image.subject) throw new Error(`${kind} ${seed} needs a subject`);
  if (contents) {
    const built = buildContentReferrer({
      seed,
      subject: descriptor(lookup(image.subject)),
      artifactType: REFERRER_TYPES[kind],
    });
    contents.push(...built.blobs);
    return built.manifest;
  }
  return buildReferrerManifest({
    seed,
    subject: descriptor(lookup(image.subject)),
    artifactType: REFERRER_TYPES[kind],
  });
}

/** The platform each fixture image was built for, so that an index can describe its children. */
const platforms = new WeakMap<StoredImage, { architecture: string; os: string }>();
const platformOf = (image: StoredImage) => platforms.get(image) ?? { architecture: 'amd64', os: 'linux' };

/**
 * Loads a fixture. Every repository and image is built and checked first; only then is anything stored, so a bad
 * fixture changes nothing. Existing repositories of the same name are an error (reset first).
 */
export function loadFixture(registry: Registry, fixture: Fixture, now: number): LoadedFixture {
  const built = buildFixture(registry, fixture, now);
  if (built.contents.length > 0) throw new Error('A fixture with content is loaded with loadFixtureWithContent');
  return built.commit();
}

/** Loads a fixture, `content: true` or not: the blobs are written to the registry's blob store before anything is listed. */
export async function loadFixtureWithContent(
  registry: Registry,
  fixture: Fixture,
  now: number,
): Promise<LoadedFixture> {
  const built = buildFixture(registry, fixture, now);
  for (const content of built.contents) await registry.blobs.put(content);
  return built.commit();
}

export interface LoadedFixture {
  repositories: number;
  images: LoadedImage[];
  /** What the fixture's `ecs` and `lambda` sections declared. */
  workloads?: { clusters: number; taskDefinitions: number; functions: number };
  /** What the fixture's `iam` and `organization` sections declared. */
  identity?: { roles: number; accounts: number };
  /** What the fixture's `s3` section declared. */
  storage?: { buckets: number; objects: number };
}

/**
 * Builds the images of one fixture repository into `repository` (a private repository, or a public one's content):
 * their manifests (placeholder blobs, or real content into `contents`), push and pull times, findings, tags.
 */
function buildImages(
  repository: RepositoryRecord,
  name: string,
  specs: FixtureImage[],
  seedPrefix: string,
  now: number,
  contents: Buffer[] | undefined,
): LoadedImage[] {
  const loaded: LoadedImage[] = [];
  const ids = new Map<string, StoredImage>();
  const lookup = (ref: string) => {
    const image = ids.get(ref) ?? repository.images.get(ref);
    if (!image) throw new Error(`Repository ${name}: no image ${ref} listed before it is referenced`);
    return image;
  };
  specs.forEach((imageSpec, index) => {
    const seed = `${seedPrefix}/${imageSpec.id ?? index}`;
    const manifest = manifestFor(imageSpec, seed, lookup, contents);
    const parsed = parseManifest(manifest, imageSpec.mediaType);
    for (const child of parsed.children) {
      if (!repository.images.get(child)) {
        throw new Error(`Repository ${name}: index ${imageSpec.id ?? index} references missing ${child}`);
      }
    }
    const existing = repository.images.get(parsed.digest);
    // Fixture images have no content: their blobs are placeholders (listed, not downloadable), unless already stored.
    for (const blob of parsed.blobs) repository.layers.set(blob.digest, blob.size);
    const image = existing ?? newImage(repository, manifest, parsed, now);
    image.pushedAt = imageSpec.pushedAt === undefined ? now : resolveTime(imageSpec.pushedAt, now);
    if (imageSpec.lastPulledAt !== undefined) image.lastPulledAt = resolveTime(imageSpec.lastPulledAt, now);
    if (imageSpec.findings || imageSpec.enhancedFindings) {
      image.attachedFindings = {
        findings: imageSpec.findings ?? [],
        enhancedFindings: imageSpec.enhancedFindings ?? [],
      };
    }
    if (imageSpec.scanned) {
      image.lastScanStartedAt = image.pushedAt;
      image.scan = {
        status: 'COMPLETE',
        description: 'The scan was completed successfully.',
        startedAt: image.pushedAt,
        completedAt: image.pushedAt + 30_000,
        findings: image.attachedFindings ?? { findings: [], enhancedFindings: [] },
      };
    }
    if (!existing) {
      platforms.set(image, { architecture: imageSpec.architecture ?? 'amd64', os: imageSpec.os ?? 'linux' });
      repository.images.add(image);
    }
    const tags = [...(imageSpec.tags ?? [])];
    if (imageSpec.tagConvention) {
      const subject = lookup(imageSpec.tagConvention.subject);
      tags.push(`${subject.digest.replace(':', '-')}${imageSpec.tagConvention.suffix}`);
    }
    for (const tag of tags) {
      if (typeof tag !== 'string' || tag.length < 1 || tag.length > 300) {
        throw new Error(`Repository ${name}: invalid tag ${JSON.stringify(tag)}`);
      }
      repository.images.setTag(tag, image.digest);
    }
    if (imageSpec.id) ids.set(imageSpec.id, image);
    loaded.push({ repositoryName: name, id: imageSpec.id, imageDigest: image.digest, imageTags: [] });
  });
  return loaded;
}

/** The catalog data of a fixture's public repository, checked with CreateRepository's rules. */
function fixtureCatalog(spec: FixturePublicRepository) {
  if (spec.catalogData === undefined) return undefined;
  try {
    return readCatalogData(new Input({ catalogData: spec.catalogData }), 'catalogData', false);
  } catch (error) {
    throw new Error(`Public repository ${spec.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function buildFixture(
  registry: Registry,
  fixture: Fixture,
  now: number,
): { contents: Buffer[]; commit: () => LoadedFixture } {
  if (!fixture || typeof fixture !== 'object') throw new Error('A fixture is an object');
  const declaresWorkloads =
    fixture.ecs !== undefined ||
    fixture.lambda !== undefined ||
    fixture.iam !== undefined ||
    fixture.organization !== undefined ||
    fixture.s3 !== undefined;
  if (!Array.isArray(fixture.repositories) && !(fixture.repositories === undefined && declaresWorkloads)) {
    throw new Error('A fixture needs a repositories list');
  }
  const privateSpecs: FixtureRepository[] = fixture.repositories ?? [];
  const publicSpecs = fixture.publicRepositories ?? [];
  if (!Array.isArray(publicSpecs)) throw new Error("A fixture's publicRepositories is a list");
  const contents: Buffer[] | undefined = fixture.content === true ? [] : undefined;
  const account = fixture.account ?? DEFAULT_ACCOUNT;
  // A fixture of public repositories alone leaves no private registry state behind.
  const state = privateSpecs.length > 0 ? registry.state(account, fixture.region ?? DEFAULT_REGION) : undefined;
  const built: RepositoryRecord[] = [];
  const loaded: { entry: LoadedImage; repository: RepositoryRecord }[] = [];
  const names = new Set<string>();
  for (const spec of privateSpecs) {
    if (!state) break;
    if (typeof spec.name !== 'string' || !REPOSITORY_NAME.pattern?.test(spec.name) || spec.name.length < 2) {
      throw new Error(`Invalid repository name ${JSON.stringify(spec.name)}`);
    }
    if (state.repositories.has(spec.name) || names.has(spec.name)) {
      throw new Error(`Repository ${spec.name} already exists in ${state.account}/${state.region}`);
    }
    names.add(spec.name);
    if (spec.imageTagMutability && !TAG_MUTABILITY.includes(spec.imageTagMutability)) {
      throw new Error(`Repository ${spec.name}: invalid imageTagMutability ${spec.imageTagMutability}`);
    }
    const repository = newRepository(
      state,
      spec.name,
      spec.createdAt === undefined ? now : resolveTime(spec.createdAt, now),
      {
        imageTagMutability: spec.imageTagMutability,
        imageTagMutabilityExclusionFilters: spec.imageTagMutabilityExclusionFilters,
        scanOnPush: spec.scanOnPush,
        encryption: spec.encryptionType ? { encryptionType: spec.encryptionType, kmsKey: spec.kmsKey } : undefined,
        tags: Object.entries(spec.tags ?? {}),
      },
    );
    if (spec.lifecyclePolicy !== undefined) {
      repository.lifecyclePolicyText =
        typeof spec.lifecyclePolicy === 'string' ? spec.lifecyclePolicy : JSON.stringify(spec.lifecyclePolicy);
      repository.lifecyclePolicyUpdatedAt = now;
    }
    if (spec.repositoryPolicy !== undefined) {
      repository.policyText =
        typeof spec.repositoryPolicy === 'string' ? spec.repositoryPolicy : JSON.stringify(spec.repositoryPolicy);
    }
    for (const entry of buildImages(
      repository,
      spec.name,
      spec.images ?? [],
      `${account}/${spec.name}`,
      now,
      contents,
    )) {
      loaded.push({ entry, repository });
    }
    built.push(repository);
  }
  const publicState = publicSpecs.length > 0 ? registry.publicRegistries.state(account) : undefined;
  const builtPublic: PublicRepositoryRecord[] = [];
  const publicNames = new Set<string>();
  for (const spec of publicSpecs) {
    if (!publicState) break;
    const valid =
      typeof spec.name === 'string' &&
      spec.name.length >= 2 &&
      spec.name.length <= 205 &&
      PUBLIC_REPOSITORY_NAME.pattern?.test(spec.name) === true;
    if (!valid) throw new Error(`Invalid public repository name ${JSON.stringify(spec.name)}`);
    if (publicState.repositories.has(spec.name) || publicNames.has(spec.name)) {
      throw new Error(`Public repository ${spec.name} already exists in ${account}`);
    }
    publicNames.add(spec.name);
    const catalog = fixtureCatalog(spec);
    const createdAt = spec.createdAt === undefined ? now : resolveTime(spec.createdAt, now);
    const seq = publicState.allocateSeq();
    const repository: PublicRepositoryRecord = {
      name: spec.name,
      seq,
      createdAt,
      catalog,
      policyText: undefined,
      tags: new Map(Object.entries(spec.tags ?? {})),
      content: newPublicContent(publicState, spec.name, createdAt, seq),
      tagTimes: new Map(),
    };
    const content = repository.content;
    const seedPrefix = `public/${account}/${spec.name}`;
    for (const entry of buildImages(content, spec.name, spec.images ?? [], seedPrefix, now, contents)) {
      entry.public = true;
      loaded.push({ entry, repository: content });
    }
    for (const image of content.images.values()) {
      for (const tag of image.tags) repository.tagTimes.set(tag, image.pushedAt);
    }
    builtPublic.push(repository);
  }
  const region = fixture.region ?? DEFAULT_REGION;
  const commitWorkloads = buildWorkloads(registry, fixture as unknown as Record<string, unknown>, {
    account,
    region,
    now,
    resolveTime,
    pending: (refAccount, refRegion, name) =>
      refAccount === account && refRegion === region ? built.find((repository) => repository.name === name) : undefined,
    pendingImage: (repositoryName, id) =>
      loaded.find(({ entry }) => !entry.public && entry.repositoryName === repositoryName && entry.id === id)?.entry
        .imageDigest,
  });
  const commitIdentity = buildIdentity(registry.identity, fixture as unknown as Record<string, unknown>, now);
  const commitStorage = buildStorage(registry.storage, fixture as unknown as Record<string, unknown>, {
    account,
    region,
    now,
  });
  const commit = (): LoadedFixture => {
    for (const repository of built) {
      if (state?.repositories.has(repository.name)) {
        throw new Error(`Repository ${repository.name} already exists in ${state.account}/${state.region}`);
      }
    }
    for (const repository of builtPublic) {
      if (publicState?.repositories.has(repository.name)) {
        throw new Error(`Public repository ${repository.name} already exists in ${account}`);
      }
    }
    for (const repository of built) state?.repositories.set(repository.name, repository);
    for (const repository of builtPublic) publicState?.repositories.set(repository.name, repository);
    for (const { entry, repository } of loaded)
      entry.imageTags = [...(repository.images.get(entry.imageDigest)?.tags ?? [])];
    const workloads = commitWorkloads?.();
    const identity = commitIdentity?.();
    const storage = commitStorage?.();
    return {
      repositories: built.length + builtPublic.length,
      images: loaded.map(({ entry }) => entry),
      ...(workloads ? { workloads } : {}),
      ...(identity ? { identity } : {}),
      ...(storage ? { storage } : {}),
    };
  };
  return { contents: contents ?? [], commit };
}
