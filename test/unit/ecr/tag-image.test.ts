import {
  BatchGetImageCommand,
  ECRClient,
  ImageAlreadyExistsException,
  ImageTagAlreadyExistsException,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEcrGateway, ImageNotFoundError, ReadOnlyViolationError } from '../../../shared/ecr/index.ts';
import { digestOf } from '../../helpers/images.ts';

const REPO = 'team/app';
const DIGEST = digestOf('image');
const MANIFEST = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const ecr = mockClient(ECRClient);
const gateway = (readOnly = false) => createEcrGateway(new ECRClient({ region: 'us-east-1' }), { readOnly });

const storedImage = () =>
  ecr.on(BatchGetImageCommand).resolves({
    images: [{ imageId: { imageDigest: DIGEST }, imageManifest: MANIFEST, imageManifestMediaType: OCI_MANIFEST }],
    failures: [],
  });

beforeEach(() => ecr.reset());
afterEach(() => ecr.reset());

describe('Method: tagImage', () => {
  it('reads the manifest by digest and pushes the same bytes under the tag, naming the digest', async () => {
    // Prepare
    storedImage();
    ecr.on(PutImageCommand).resolves({ image: { imageId: { imageDigest: DIGEST, imageTag: 'quarantined' } } });
    const subject = gateway();
    // Act
    const outcome = await subject.tagImage(REPO, DIGEST, 'quarantined');
    // Assess
    expect(outcome).toEqual({ result: 'tagged', tag: 'quarantined', digest: DIGEST });
    expect(ecr).toHaveReceivedCommandWith(BatchGetImageCommand, {
      repositoryName: REPO,
      imageIds: [{ imageDigest: DIGEST }],
    });
    expect(ecr).toHaveReceivedCommandWith(PutImageCommand, {
      repositoryName: REPO,
      imageManifest: MANIFEST,
      imageManifestMediaType: OCI_MANIFEST,
      imageDigest: DIGEST,
      imageTag: 'quarantined',
    });
    expect(subject.callCounts()).toEqual({ BatchGetImage: 1, PutImage: 1 });
  });

  it('answers already-tagged when the image already carries the tag (ImageAlreadyExistsException)', async () => {
    // Prepare
    storedImage();
    ecr.on(PutImageCommand).rejects(new ImageAlreadyExistsException({ message: 'exists', $metadata: {} }));
    // Act
    const outcome = await gateway().tagImage(REPO, DIGEST, 'quarantined');
    // Assess
    expect(outcome.result).toBe('already-tagged');
  });

  it('throws a gateway error when the tag is held by another image in an immutable repository', async () => {
    // Prepare
    storedImage();
    ecr.on(PutImageCommand).rejects(new ImageTagAlreadyExistsException({ message: 'immutable', $metadata: {} }));
    // Act
    const attempt = gateway().tagImage(REPO, DIGEST, 'quarantined');
    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'EcrGatewayError', code: 'ImageTagAlreadyExistsException' });
  });

  it('throws ImageNotFoundError when the image is gone, and pushes nothing', async () => {
    // Prepare
    ecr.on(BatchGetImageCommand).resolves({
      images: [],
      failures: [{ imageId: { imageDigest: DIGEST }, failureCode: 'ImageNotFound', failureReason: 'gone' }],
    });
    // Act
    const attempt = gateway().tagImage(REPO, DIGEST, 'quarantined');
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ImageNotFoundError);
    expect(ecr).not.toHaveReceivedCommand(PutImageCommand);
  });

  it('is refused in read-only mode before anything is sent', async () => {
    // Act
    const attempt = gateway(true).tagImage(REPO, DIGEST, 'quarantined');
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ReadOnlyViolationError);
    expect(ecr).not.toHaveReceivedAnyCommand();
  });
});
