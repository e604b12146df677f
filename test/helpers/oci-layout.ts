import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gzipSync } from 'node:zlib';

/**
 * OCI image layouts on disk, for real clients (skopeo) to push: images whose layers are real gzip-compressed tar
 * archives of deterministic files, a two-platform image index, and a referrer artifact as raw manifest bytes.
 *
 * Written here rather than with umoci: umoci builds one layer per `insert` of a directory already on disk, stamps the
 * current time into the config (so digests change between runs), and costs a process per step. A tar writer is forty
 * lines, and the same seed gives the same digests on every run. `oci-layout.test.ts` checks with umoci that the
 * layouts are valid and that every layer unpacks.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** The empty descriptor of OCI 1.1 (image-spec `manifest.md`): content `{}`, for an artifact without config. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_EMPTY_BYTES = Buffer.from('{}');
const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * Deterministic bytes for a seed, as random as real binaries (AES-128-CTR over zeros): they do not compress, so a
 * layer of N bytes of files is about N bytes on the wire, and the same seed always gives the same bytes.
 */
export function seededBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

export interface TarEntry {
  path: string;
  /** Absent for a directory. */
  content?: Buffer;
  mode?: number;
}

const BLOCK = 512;
/** Fixed in every header, so that archives are reproducible: 2020-01-01T00:00:00Z. */
const TAR_MTIME = 1_577_836_800;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as POSIX ustar writes numeric fields.
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function tarHeader(entry: TarEntry): Buffer {
  const header = Buffer.alloc(BLOCK);
  const isDir = entry.content === undefined;
  const name = isDir && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: path longer than 100 bytes: ${name}`);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(entry.mode ?? (isDir ? 0o755 : 0o644), 8), 100, 8, 'ascii');
  header.write(octal(0, 8), 108, 8, 'ascii'); // uid
  header.write(octal(0, 8), 116, 8, 'ascii'); // gid
  header.write(octal(entry.content?.length ?? 0, 12), 124, 12, 'ascii');
  header.write(octal(TAR_MTIME, 12), 136, 12, 'ascii');
  header.write(' '.repeat(8), 148, 8, 'ascii'); // checksum counted as spaces
  header.write(isDir ? '5' : '0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write('root', 265, 32, 'ascii');
  header.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

/** A POSIX ustar archive of the entries, in order, ended by two zero blocks. */
export function tar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(tarHeader(entry));
    if (entry.content !== undefined) {
      parts.push(entry.content);
      const padding = (BLOCK - (entry.content.length % BLOCK)) % BLOCK;
      if (padding > 0) parts.push(Buffer.alloc(padding));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

export interface LayerSpec {
  /** Bytes of file content in the layer (spread over `files` files); the gzip stream is about as large. */
  size: number;
  files?: number;
}

export interface ImageSpec {
  /** Same seed, same bytes, same digests. */
  seed: string;
  layers: readonly (number | LayerSpec)[];
  platform?: Platform;
}

export interface BuiltImage {
  descriptor: Descriptor;
  manifest: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  /** Every blob of the image (config and layers), by digest. */
  blobDigests: string[];
}

export interface BuiltIndex {
  descriptor: Descriptor;
  index: Buffer;
  children: BuiltImage[];
}

export interface BuiltArtifact {
  descriptor: Descriptor;
  manifest: Buffer;
  /** The blobs a registry must hold before the manifest is accepted: the empty config and the payload. */
  blobs: { descriptor: Descriptor; bytes: Buffer }[];
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** An OCI image layout directory: `oci-layout`, `index.json` and `blobs/sha256/`. */
export class OciLayout {
  private readonly refs: Descriptor[] = [];

  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    this.save();
  }

  /** Stores bytes under their digest and returns their descriptor. */
  writeBlob(bytes: Buffer, mediaType: string): Descriptor {
    const digest = sha256(bytes);
    writeFileSync(join(this.dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  readBlob(digest: string): Buffer {
    return readFileSync(join(this.dir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
  }

  /** An image: one gzip tar layer per spec (files of seeded bytes), an OCI config with their diff IDs, a manifest. */
  addImage(spec: ImageSpec): BuiltImage {
    const platform = spec.platform ?? { architecture: 'amd64', os: 'linux' };
    const diffIds: string[] = [];
    const layers = spec.layers.map((layer, index) => {
      const { size, files = 3 } = typeof layer === 'number' ? { size: layer } : layer;
      const dir = `data/${spec.seed}/layer-${index}`;
      const entries: TarEntry[] = [{ path: 'data' }, { path: `data/${spec.seed}` }, { path: dir }];
      const perFile = Math.ceil(size / files);
      for (let file = 0; file < files; file++) {
        const length = Math.max(0, Math.min(perFile, size - file * perFile));
        entries.push({
          path: `${dir}/file-${file}.bin`,
          content: seededBytes(`${spec.seed}/${index}/${file}`, length),
        });
      }
      const archive = tar(entries);
      diffIds.push(sha256(archive));
      // Level 1: these bytes do not compress anyway, and level 6 only costs time building the fixture.
      return this.writeBlob(gzipSync(archive, { level: constants.Z_BEST_SPEED }), OCI_LAYER_GZIP);
    });
    const config = this.writeBlob(
      json({
        created: '2020-01-01T00:00:00Z',
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: diffIds.map(() => ({ created: '2020-01-01T00:00:00Z', created_by: 'test/helpers/oci-layout.ts' })),
      }),
      OCI_CONFIG,
    );
    const manifest = json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers });
    const descriptor = { ...this.writeBlob(manifest, OCI_MANIFEST), platform };
    return { descriptor, manifest, config, layers, blobDigests: [config.digest, ...layers.map((l) => l.digest)] };
  }

  /** An image index of the given images (with their platforms), stored as a blob. */
  addIndex(children: BuiltImage[]): BuiltIndex {
    const index = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((c) => c.descriptor) });
    return { descriptor: this.writeBlob(index, OCI_INDEX), index, children };
  }

  /** Names a manifest or index in `index.json`, so that `oci:<dir>:<tag>` finds it. */
  tag(tag: string, descriptor: Descriptor): void {
    const { platform: _platform, ...plain } = descriptor;
    const existing = this.refs.findIndex((ref) => ref.annotations?.[REF_NAME] === tag);
    if (existing >= 0) this.refs.splice(existing, 1);
    this.refs.push({ ...plain, annotations: { [REF_NAME]: tag } });
    this.save();
  }

  /** Every digest under `blobs/sha256`, sorted. */
  digests(): string[] {
    return listBlobDigests(this.dir);
  }

  private save(): void {
    writeFileSync(join(this.dir, 'index.json'), json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: this.refs }));
  }
}

/** A new, empty layout in a fresh temporary directory (or in `dir`). */
export function createOciLayout(dir: string = mkdtempSync(join(tmpdir(), 'oci-layout-'))): OciLayout {
  return new OciLayout(dir);
}

/** The digests of the blobs of any OCI layout (one skopeo wrote, say), sorted. */
export function listBlobDigests(dir: string): string[] {
  return readdirSync(join(dir, 'blobs', 'sha256'))
    .map((hex) => `sha256:${hex}`)
    .sort();
}

/** The blobs of an OCI layout whose content does not hash to their name: empty when every byte is intact. */
export function corruptBlobs(dir: string): string[] {
  return listBlobDigests(dir).filter(
    (digest) => sha256(readFileSync(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)))) !== digest,
  );
}

/** A two-platform image (linux/amd64 and linux/arm64 children, each with its own layers) tagged `tag` in the layout. */
export function addTwoPlatformIndex(layout: OciLayout, seed: string, tag: string, layerSizes: number[]): BuiltIndex {
  const children = (['amd64', 'arm64'] as const).map((architecture) =>
    layout.addImage({ seed: `${seed}-${architecture}`, layers: layerSizes, platform: { architecture, os: 'linux' } }),
  );
  const built = layout.addIndex(children);
  layout.tag(tag, built.descriptor);
  return built;
}

/**
 * A referrer (OCI 1.1): an artifact manifest with `artifactType`, the empty config and `subject` pointing at
 * another manifest, as raw bytes for a `/v2/<name>/manifests/<digest>` PUT. Not written to a layout here; to push it
 * with skopeo, write its blobs and manifest with `writeBlob` and `tag` it: skopeo 1.9.3 copies it both ways byte for
 * byte with --preserve-digests, though its non-raw `inspect` refuses artifacts and it knows nothing of referrers.
 */
export function buildReferrer(options: {
  subject: Descriptor;
  artifactType?: string;
  payload?: Buffer;
  payloadMediaType?: string;
  annotations?: Record<string, string>;
}): BuiltArtifact {
  const artifactType = options.artifactType ?? 'application/vnd.example.sbom.v1+json';
  const payload = options.payload ?? Buffer.from(`{"sbom":"for ${options.subject.digest}"}`);
  const config = { mediaType: OCI_EMPTY, digest: sha256(OCI_EMPTY_BYTES), size: OCI_EMPTY_BYTES.length };
  const layer = { mediaType: options.payloadMediaType ?? artifactType, digest: sha256(payload), size: payload.length };
  const { platform: _platform, ...subject } = options.subject;
  const manifest = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config,
    layers: [layer],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: options.annotations ?? { 'org.opencontainers.image.created': '2020-01-01T00:00:00Z' },
  });
  return {
    descriptor: { mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length, artifactType },
    manifest,
    blobs: [
      { descriptor: config, bytes: OCI_EMPTY_BYTES },
      { descriptor: layer, bytes: payload },
    ],
  };
}
