import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { buildImageManifest, describeManifest, MEDIA_TYPES } from '../../src/model/manifests.ts';
import { newImage, newRepository, parseManifest } from '../../src/model/records.ts';
import { RegistryState, type StoredImage } from '../../src/model/state.ts';
import { imageDetailJson, imageDetailList, secondsJson, toImageDetail } from '../../src/ops/image-detail.ts';
import { send } from '../../src/wire/json-response.ts';

/** A deterministic generator, so that a failure reproduces. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Tags of every kind JSON escapes or keeps: plain, unicode, quotes, backslashes, controls, lone surrogates. */
const TAG_PIECES = [
  'latest',
  'v1.2.3',
  'é',
  '日本',
  '\u{1f600}',
  '"',
  '\\',
  '\n',
  '\u0000',
  '\u001f',
  '\ud800',
  '\udfff',
  '\u2028',
  '/',
];

function repositoryWithImages(name: string, count: number) {
  const repository = newRepository(new RegistryState('123456789012', 'us-east-1'), name, 0);
  const next = random(count);
  const images: StoredImage[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 5;
    const manifest =
      kind === 4
        ? buildImageManifest({
            seed: `${name}-${i}`,
            artifactType: 'application/vnd.example+json',
            subject: describeManifest(buildImageManifest({ seed: `subject-${i}` })),
          })
        : buildImageManifest({ seed: `${name}-${i}` });
    const tags: string[] = [];
    const tagCount = Math.floor(next() * 4);
    for (let t = 0; t < tagCount; t++) {
      let tag = '';
      const parts = 1 + Math.floor(next() * 3);
      for (let p = 0; p < parts; p++) tag += TAG_PIECES[Math.floor(next() * TAG_PIECES.length)];
      tags.push(tag);
    }
    const image = newImage(
      repository,
      manifest,
      parseManifest(manifest),
      1_700_000_000_000 + Math.floor(next() * 1e6),
      tags,
    );
    if (kind === 1) image.lastPulledAt = 1_700_000_000_123 + i;
    if (kind === 2) image.status = 'ARCHIVED';
    if (kind === 3) {
      image.scan = {
        status: i % 2 === 0 ? 'COMPLETE' : 'IN_PROGRESS',
        description: i % 4 === 1 ? undefined : 'The scan was completed successfully.',
        completedAt: 1_700_000_100_000,
        findings: { findings: [{ severity: 'HIGH' }, { severity: 'LOW' }] },
      } as unknown as StoredImage['scan'];
    }
    repository.images.add(image);
    images.push(image);
  }
  return { repository, images };
}

describe('ImageDetail as JSON text', () => {
  it('is JSON.stringify of the ImageDetail object, character for character', () => {
    for (const name of ['unit/detail', 'unit/ünïcode"\\name']) {
      const { repository, images } = repositoryWithImages(name, 2_000);
      const texts = imageDetailList(repository, images).texts;
      images.forEach((image, i) => {
        expect(texts[i]).toBe(JSON.stringify(toImageDetail(repository, image)));
      });
    }
  });

  it('writes a page as the same body JSON.stringify of the objects gives', () => {
    const { repository, images } = repositoryWithImages('unit/page', 1_000);
    for (const count of [0, 1, 15, 16, 17, 63, 64, 1_000]) {
      for (const nextToken of [undefined, 'token"é']) {
        const page = images.slice(0, count);
        const expected = JSON.stringify({
          imageDetails: page.map((image) => toImageDetail(repository, image)),
          ...(nextToken === undefined ? {} : { nextToken }),
        });
        let body = '';
        const res = {
          once: () => res,
          writeHead: () => res,
          end: (payload: Buffer | string) => {
            body = typeof payload === 'string' ? payload : payload.toString('utf8');
          },
        } as unknown as ServerResponse;
        send(
          res,
          200,
          { imageDetails: imageDetailList(repository, page), ...(nextToken === undefined ? {} : { nextToken }) },
          'request',
        );
        expect(body).toBe(expected);
        expect(JSON.stringify({ imageDetails: imageDetailList(repository, page) })).toBe(
          JSON.stringify({ imageDetails: page.map((image) => toImageDetail(repository, image)) }),
        );
      }
    }
  });

  it('writes the members of an unusual record as JSON does', () => {
    const { repository, images } = repositoryWithImages('unit/odd', 1);
    const image = images[0] as StoredImage;
    image.pushedAt = Number.NaN;
    const prefix = `{"registryId":"123456789012","repositoryName":"unit/odd","imageDigest":`;
    expect(imageDetailJson(repository, prefix, image)).toBe(JSON.stringify(toImageDetail(repository, image)));
    expect(MEDIA_TYPES.ociManifest).toBe(image.manifestMediaType);
  });

  it('writes epoch ms as seconds exactly as JSON.stringify(ms / 1000) does', () => {
    const next = random(11);
    const samples = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1_700_000_000_000, 1_700_000_000_001, 2 ** 51 - 1, 2 ** 51];
    for (let n = 0; n < 200_000; n++) {
      const scale = 10 ** Math.floor(next() * 16);
      samples.push(Math.floor(next() * scale));
    }
    samples.push(-1, 1.5, Number.NaN, 2 ** 53, 1e21);
    for (const ms of samples) expect(secondsJson(ms), String(ms)).toBe(JSON.stringify(ms / 1000));
  });
});
