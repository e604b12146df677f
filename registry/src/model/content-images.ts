import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { type Descriptor, EMPTY_CONFIG, MEDIA_TYPES, sha256 } from './manifests.ts';

/**
 * Images with real content, for the demo registry and for fixtures that ask for it: each layer is a gzip-compressed
 * tar holding one file, the config is an OCI image config whose `rootfs.diff_ids` are the uncompressed layers'
 * digests, and every blob hashes to the digest its manifest names. A container tool can copy such an image
 * (skopeo, podman), and unpack it. Deterministic: the same seed gives the same bytes.
 */

export interface ContentImage {
  manifest: string;
  /** The config and layer blobs the manifest names. */
  blobs: Buffer[];
}

/** `length` bytes that depend only on `seed` (sha256 in counter mode): incompressible, like most layer content. */
export function seededBytes(seed: string, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let offset = 0, counter = 0; offset < length; counter++) {
    const block = createHash('sha256').update(`${seed}:${counter}`).digest();
    offset += block.copy(out, offset, 0, Math.min(block.length, length - offset));
  }
  return out;
}

/** A POSIX ustar archive of regular files (mode 0644, owner 0, mtime 0), ending with its two zero blocks. */
export function tarArchive(files: { name: string; content: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    if (Buffer.byteLength(file.name) > 100) throw new Error(`tar entry name longer than 100 bytes: ${file.name}`);
    const header = Buffer.alloc(512);
    header.write(file.name, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'ascii');
    header.write('0000000\0', 108, 'ascii');
    header.write('0000000\0', 116, 'ascii');
    header.write(`${file.content.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    header.write('00000000000\0', 136, 'ascii');
    header.write('        ', 148, 'ascii');
    header.write('0', 156, 'ascii');
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    let checksum = 0;
    for (const byte of header) checksum += byte;
    header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    parts.push(header, file.content, Buffer.alloc((512 - (file.content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const digestOf = (content: Buffer) => sha256(content);

export interface ContentImageSpec {
  seed: string;
  architecture?: string;
  os?: string;
  /** Uncompressed size of each layer's one file; a small text file per layer when omitted. */
  layerSizes?: number[];
  subject?: Descriptor;
}

/** An OCI image manifest with real config and layers. */
export function buildContentImage(spec: ContentImageSpec): ContentImage {
  const architecture = spec.architecture ?? 'amd64';
  const os = spec.os ?? 'linux';
  const sizes = spec.layerSizes ?? [undefined, undefined];
  const layers = sizes.map((size, i) => {
    const content =
      size === undefined
        ? Buffer.from(`${spec.seed} layer ${i} (${os}/${architecture})\n`, 'utf8')
        : seededBytes(`${spec.seed}:${i}`, size);
    const tar = tarArchive([{ name: `layer-${i}/${i === 0 ? 'release' : 'data'}.txt`, content }]);
    return { tar, gzip: gzipSync(tar, { level: 6 }) };
  });
  const config = Buffer.from(
    JSON.stringify({
      created: '2026-01-01T00:00:00Z',
      architecture,
      os,
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Labels: { seed: spec.seed },
      },
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => digestOf(layer.tar)) },
      history: layers.map((_, i) => ({ created: '2026-01-01T00:00:00Z', created_by: `layer ${i} of ${spec.seed}` })),
    }),
    'utf8',
  );
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: digestOf(config), size: config.length },
    layers: layers.map((layer) => ({
      mediaType: MEDIA_TYPES.ociLayer,
      digest: digestOf(layer.gzip),
      size: layer.gzip.length,
    })),
  };
  if (spec.subject) manifest.subject = spec.subject;
  return { manifest: JSON.stringify(manifest, null, 2), blobs: [config, ...layers.map((layer) => layer.gzip)] };
}

/** An OCI artifact (signature, attestation, SBOM) of `subject` with a real payload and the empty config. */
export function buildContentReferrer(spec: { seed: string; subject: Descriptor; artifactType: string }): ContentImage {
  const payload = Buffer.from(
    JSON.stringify({ subject: spec.subject.digest, artifactType: spec.artifactType, seed: spec.seed }),
    'utf8',
  );
  const empty = Buffer.from('{}', 'utf8');
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: spec.artifactType,
    config: EMPTY_CONFIG,
    layers: [{ mediaType: spec.artifactType, digest: digestOf(payload), size: payload.length }],
    subject: spec.subject,
    annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
  });
  return { manifest, blobs: [empty, payload] };
}
