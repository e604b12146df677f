import { describe, expect, it } from 'vitest';
import { manifestMediaTypeOf, toImageRecord, toItemFailure } from '../../../shared/ecr/mapping.ts';

describe('Function: toImageRecord', () => {
  it('leaves out what ECR did not send (never pulled, no subject, no media types)', () => {
    // Act
    const record = toImageRecord({ imageDigest: 'sha256:a', imagePushedAt: new Date(1_000), imageSizeInBytes: 5 });
    // Assess
    expect(record).toEqual({ digest: 'sha256:a', tags: [], pushedAt: 1_000, sizeInBytes: 5 });
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
