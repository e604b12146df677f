import { describe, expect, it } from 'vitest';
import { manifestMediaTypeOf, toImageRecord, toItemFailure } from '../../../shared/ecr/mapping.ts';

describe('Function: toImageRecord', () => {
  it('leaves out what ECR did not send (never pulled, no subject, no media types)', () => {
    // Act
    const record = toImageRecord({ imageDigest: 'sha256:a', imagePushedAt: new Date(1_000), imageSizeInBytes: 5 });
    // Assess
    expect(record).toEqual({ digest: 'sha256:a', tags: [], pushedAt: 1_000, sizeInBytes: 5 });
  });

  it('gives every untagged image one frozen empty tag list, which nothing can add a tag to', () => {
    // Act
    const first = toImageRecord({ imageDigest: 'sha256:a', imagePushedAt: new Date(1_000), imageSizeInBytes: 5 });
    const second = toImageRecord({ imageDigest: 'sha256:b', imagePushedAt: new Date(2_000), imageSizeInBytes: 6 });
    const tagged = toImageRecord({ imageDigest: 'sha256:c', imageTags: ['v1'], imageSizeInBytes: 7 });
    // Assess
    expect(second.tags).toBe(first.tags);
    expect(first.tags).toEqual([]);
    expect(() => (first.tags as string[]).push('sneaked-in')).toThrow(TypeError);
    expect(second.tags).toEqual([]);
    expect(tagged.tags).toEqual(['v1']);
  });

  it('keeps the status of the last scan when ECR reports one', () => {
    // Act
    const record = toImageRecord({
      imageDigest: 'sha256:a',
      imageScanStatus: { status: 'IN_PROGRESS', description: 'The scan is in progress.' },
    });
    // Assess
    expect(record.scanStatus).toBe('IN_PROGRESS');
  });

  it('returns plain objects with the members ECR sent, in one order, whatever the mix of them', () => {
    // Act
    const archived = toImageRecord({
      imageDigest: 'sha256:b',
      imageTags: ['v1'],
      imagePushedAt: new Date(1_000),
      lastRecordedPullTime: new Date(2_000),
      imageSizeInBytes: 7,
      imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactMediaType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      subjectManifestDigest: 'sha256:a',
      imageScanStatus: { status: 'COMPLETE' },
      imageStatus: 'ARCHIVED',
      lastArchivedAt: new Date(3_000),
      lastActivatedAt: new Date(500),
    });
    const restored = toImageRecord({
      imageDigest: 'sha256:c',
      imageStatus: 'ACTIVE',
      lastActivatedAt: new Date(4_000),
    });
    // Assess: strictly equal to literals (same prototype, no member left undefined), and the same JSON
    const expectedArchived = {
      digest: 'sha256:b',
      tags: ['v1'],
      pushedAt: 1_000,
      lastPulledAt: 2_000,
      sizeInBytes: 7,
      manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactMediaType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      subjectDigest: 'sha256:a',
      scanStatus: 'COMPLETE',
      imageStatus: 'ARCHIVED',
      lastArchivedAt: 3_000,
    };
    expect(archived).toStrictEqual(expectedArchived);
    expect(JSON.stringify(archived)).toBe(JSON.stringify(expectedArchived));
    expect(Object.getPrototypeOf(archived)).toBe(Object.prototype);
    expect(restored).toStrictEqual({
      digest: 'sha256:c',
      tags: [],
      pushedAt: 0,
      sizeInBytes: 0,
      lastActivatedAt: 4_000,
    });
    expect(Object.keys(restored)).toEqual(['digest', 'tags', 'pushedAt', 'sizeInBytes', 'lastActivatedAt']);
  });

  it('refuses an image without a digest', () => {
    // Act & Assess
    expect(() => toImageRecord({ imageTags: ['v1'] })).toThrow(/without imageDigest/);
  });
});

describe('Function: toItemFailure', () => {
  it.each([
    ['UpstreamTooManyRequests', true],
    ['UpstreamUnavailable', true],
    ['KmsError', true],
    ['ImageReferencedByManifestList', true],
    ['ImageNotFound', false],
    ['InvalidImageDigest', false],
    ['InvalidImageTag', false],
    ['ImageTagDoesNotMatchDigest', false],
    ['MissingDigestAndTag', false],
    ['UpstreamAccessDenied', false],
    ['ImageInaccessible', false],
  ] as const)('marks %s as retryable: %s', (code, retryable) => {
    // Act
    const failure = toItemFailure({ imageId: { imageDigest: 'sha256:a' }, failureCode: code, failureReason: 'why' });
    // Assess
    expect(failure).toEqual({ digest: 'sha256:a', code, reason: 'why', retryable });
  });
});

describe('Function: manifestMediaTypeOf', () => {
  it.each([
    [
      'the type ECR reported',
      '{}',
      'application/vnd.docker.distribution.manifest.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ],
    [
      "the manifest's own mediaType",
      '{"mediaType":"application/vnd.oci.image.index.v1+json"}',
      undefined,
      'application/vnd.oci.image.index.v1+json',
    ],
    [
      'an OCI index for a manifests list',
      '{"schemaVersion":2,"manifests":[]}',
      undefined,
      'application/vnd.oci.image.index.v1+json',
    ],
    [
      'Docker v1 for schemaVersion 1',
      '{"schemaVersion":1}',
      undefined,
      'application/vnd.docker.distribution.manifest.v1+json',
    ],
    [
      'an OCI image manifest otherwise',
      '{"schemaVersion":2,"layers":[]}',
      undefined,
      'application/vnd.oci.image.manifest.v1+json',
    ],
  ])('uses %s', (_case, manifest, reported, expected) => {
    // Act & Assess
    expect(manifestMediaTypeOf(manifest, reported)).toBe(expected);
  });
});
