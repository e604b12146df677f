import { describe, expect, it } from 'vitest';
import { decodeManifest, encodeManifest } from '../../src/model/manifest-codec.ts';
import {
  buildImageManifest,
  buildIndexManifest,
  describeManifest,
  MEDIA_TYPES,
  sha256,
} from '../../src/model/manifests.ts';
import { newImage, newRepository, parseManifest } from '../../src/model/records.ts';
import { RegistryState } from '../../src/model/state.ts';

/** A deterministic generator, so that a failure reproduces. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const PIECES = [
  '0123456789abcdef',
  'ABCDEF',
  'sha256:',
  '"mediaType": ',
  `"${MEDIA_TYPES.ociLayer}"`,
  'application/vnd.',
  '\n      ',
  '\n\t\t',
  '\r\n',
  '{',
  '}',
  '"',
  ' ',
  'z',
  '\\u0000',
];

/** Text of pieces that stress the codec's edges: hex runs of every length and parity, tokens, token prefixes. */
function mixedText(next: () => number): string {
  let text = '';
  const parts = Math.floor(next() * 40);
  for (let k = 0; k < parts; k++) {
    const piece = PIECES[Math.floor(next() * PIECES.length)] as string;
    if (piece === '0123456789abcdef') {
      const digits = Math.floor(next() * 700);
      for (let d = 0; d < digits; d++) text += piece[Math.floor(next() * 16)];
    } else text += piece;
  }
  return text;
}

describe('manifest codec', () => {
  it('gives back the exact text of manifests of every shape', () => {
    const manifests = [
      buildImageManifest({ seed: 'a' }),
      buildImageManifest({ seed: 'b', annotations: { 'org.opencontainers.image.description': 'ab'.repeat(600) } }),
      buildIndexManifest([describeManifest(buildImageManifest({ seed: 'x' })), describeManifest('{}')]),
      JSON.stringify(JSON.parse(buildImageManifest({ seed: 'c' }))),
      JSON.stringify(JSON.parse(buildImageManifest({ seed: 'd' })), null, '\t'),
      '',
      '{}',
      'deadbeef',
      'deadbee',
      'f'.repeat(511),
      'f'.repeat(512),
      'f'.repeat(1_021),
    ];
    for (const manifest of manifests) {
      const packed = encodeManifest(manifest);
      expect(packed).toBeDefined();
      expect(decodeManifest(packed as string)).toBe(manifest);
    }
  });

  it('packs an image manifest to well under half its size', () => {
    const manifest = buildImageManifest({ seed: 'size' });
    expect((encodeManifest(manifest) as string).length).toBeLessThan(manifest.length / 2);
  });

  it('round-trips generated texts of hex runs, tokens and other characters', () => {
    const next = random(7);
    for (let n = 0; n < 3_000; n++) {
      const text = mixedText(next);
      const packed = encodeManifest(text);
      expect(packed, JSON.stringify(text)).toBeDefined();
      expect(decodeManifest(packed as string)).toBe(text);
    }
  });

  it('refuses what it cannot carry: non-ASCII and control characters', () => {
    for (const text of ['{"a": "é"}', '{"a": "\u{1f600}"}', '\u0001', '\u0000', '\ud800', '\u0080']) {
      expect(encodeManifest(text)).toBeUndefined();
    }
  });

  it('stores any manifest exactly, whichever way it is packed', async () => {
    const repository = newRepository(new RegistryState('123456789012', 'us-east-1'), 'unit/codec', 0);
    const manifests = [
      buildImageManifest({ seed: 'ascii' }),
      buildImageManifest({ seed: 'unicode', annotations: { 'org.example.note': 'héllo \u{1f600} wörld' } }),
    ];
    const images = manifests.map((manifest) => newImage(repository, manifest, parseManifest(manifest), 0));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    images.forEach((image, k) => {
      expect(image.manifest).toBe(manifests[k]);
      expect(sha256(image.manifest)).toBe(image.digest);
    });
  });
});
