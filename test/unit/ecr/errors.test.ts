import {
  DescribeImagesCommand,
  ECRClient,
  ECRServiceException,
  ImageNotFoundException,
  InvalidParameterException,
  LimitExceededException,
  RepositoryNotFoundException,
  ScanNotFoundException,
  ServerException,
  ValidationException,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { UnretriedError } from '../../../shared/ecr/errors.ts';
import {
  AccessDeniedError,
  createEcrGateway,
  EcrGatewayError,
  EcrUnavailableError,
  ImageNotFoundError,
  InvalidRequestError,
  LimitExceededError,
  ReadOnlyViolationError,
  RepositoryNotFoundError,
  ScanNotFoundError,
  ThrottledError,
  toGatewayError,
} from '../../../shared/ecr/index.ts';

type ErrorClass = abstract new (...args: never[]) => EcrGatewayError;

/** An SDK-shaped error as aws-sdk-client-mock and unmodelled responses produce it: a name and HTTP metadata. */
const sdkError = (name: string, httpStatusCode = 400, attempts = 1) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode, attempts } });

describe('Function: toGatewayError', () => {
  const modelled: [string, Error, ErrorClass, boolean][] = [
    [
      'RepositoryNotFoundException',
      new RepositoryNotFoundException({ message: 'm', $metadata: {} }),
      RepositoryNotFoundError,
      false,
    ],
    ['ImageNotFoundException', new ImageNotFoundException({ message: 'm', $metadata: {} }), ImageNotFoundError, false],
    ['LimitExceededException', new LimitExceededException({ message: 'm', $metadata: {} }), LimitExceededError, false],
    ['ScanNotFoundException', new ScanNotFoundException({ message: 'm', $metadata: {} }), ScanNotFoundError, false],
    [
      'InvalidParameterException',
      new InvalidParameterException({ message: 'm', $metadata: {} }),
      InvalidRequestError,
      false,
    ],
    ['ValidationException', new ValidationException({ message: 'm', $metadata: {} }), InvalidRequestError, false],
    ['ServerException', new ServerException({ message: 'm', $metadata: {} }), EcrUnavailableError, true],
  ];

  it.each(modelled)('maps the SDK class %s to its domain error', (_name, error, expected, retryable) => {
    // Act
    const mapped = toGatewayError('DescribeImages', error, 'team/app');
    // Assess
    expect(mapped).toBeInstanceOf(expected);
    expect(mapped.retryable).toBe(retryable);
    expect(mapped.cause).toBe(error);
  });

  const byName: [string, ErrorClass][] = [
    ['AccessDeniedException', AccessDeniedError],
    ['UnrecognizedClientException', AccessDeniedError],
    ['ExpiredTokenException', AccessDeniedError],
    ['ThrottlingException', ThrottledError],
    ['TooManyRequestsException', ThrottledError],
    ['ServerException', EcrUnavailableError],
    ['InvalidParameterException', InvalidRequestError],
    ['ValidationException', InvalidRequestError],
    ['RepositoryNotFoundException', RepositoryNotFoundError],
    ['ImageNotFoundException', ImageNotFoundError],
    ['LimitExceededException', LimitExceededError],
    ['ScanNotFoundException', ScanNotFoundError],
  ];

  it.each(byName)('maps a plain error named %s by its name', (name, expected) => {
    // Act
    const mapped = toGatewayError('DescribeImages', sdkError(name));
    // Assess
    expect(mapped).toBeInstanceOf(expected);
  });

  const byStatus: [number, ErrorClass, boolean][] = [
    [403, AccessDeniedError, false],
    [429, ThrottledError, true],
    [500, EcrUnavailableError, true],
    [503, EcrUnavailableError, true],
  ];

  it.each(byStatus)('maps an unmodelled error with HTTP %i by its status', (status, expected, retryable) => {
    // Act
    const mapped = toGatewayError('DescribeImages', sdkError('UnknownError', status));
    // Assess
    expect(mapped).toBeInstanceOf(expected);
    expect(mapped.retryable).toBe(retryable);
  });

  it('maps a refused connection to EcrUnavailableError', () => {
    // Prepare
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    // Act
    const mapped = toGatewayError('DescribeRepositories', refused);
    // Assess
    expect(mapped).toBeInstanceOf(EcrUnavailableError);
    expect(mapped.message).toBe('DescribeRepositories: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('puts the operation, repository, exception name and ECR message in the message', () => {
    // Prepare
    const error = new RepositoryNotFoundException({
      message: "The repository 'team/app' does not exist",
      $metadata: {},
    });
    // Act
    const mapped = toGatewayError('BatchDeleteImage', error, 'team/app');
    // Assess
    expect(mapped.message).toBe(
      "BatchDeleteImage on repository 'team/app': RepositoryNotFoundException: The repository 'team/app' does not exist",
    );
    expect(mapped).toMatchObject({
      name: 'RepositoryNotFoundError',
      operation: 'BatchDeleteImage',
      repository: 'team/app',
      code: 'RepositoryNotFoundException',
    });
  });

  it('says how many attempts the SDK made when it gave up on throttling', () => {
    // Act
    const mapped = toGatewayError('DescribeImages', sdkError('ThrottlingException', 400, 8), 'team/app');
    // Assess
    expect(mapped.message).toBe(
      "DescribeImages on repository 'team/app': ThrottlingException: ThrottlingException happened (after 8 attempts)",
    );
  });

  it('maps an unknown ECR exception to the base class, not retryable', () => {
    // Prepare
    const error = new ECRServiceException({
      name: 'KmsException',
      $fault: 'client',
      message: 'key disabled',
      $metadata: {},
    });
    // Act
    const mapped = toGatewayError('BatchDeleteImage', error, 'team/app');
    // Assess
    expect(mapped.constructor).toBe(EcrGatewayError);
    expect(mapped).toMatchObject({ name: 'EcrGatewayError', code: 'KmsException', retryable: false });
  });

  it('unwraps a quota error the client carried past the SDK retry loop', () => {
    // Prepare
    const quota = new LimitExceededException({ message: 'The scan quota per image has been exceeded', $metadata: {} });
    // Act
    const mapped = toGatewayError('StartImageScan', new UnretriedError(quota), 'team/app');
    // Assess
    expect(mapped).toBeInstanceOf(LimitExceededError);
    expect(mapped.cause).toBe(quota);
    expect(mapped.message).toBe(
      "StartImageScan on repository 'team/app': LimitExceededException: The scan quota per image has been exceeded",
    );
  });

  it('passes a gateway error through unchanged', () => {
    // Prepare
    const error = new ReadOnlyViolationError('BatchDeleteImage', 'team/app');
    // Act & Assess
    expect(toGatewayError('DescribeImages', error)).toBe(error);
  });

  it('maps a thrown non-error value', () => {
    // Act
    const mapped = toGatewayError('DescribeImages', 'socket hang up');
    // Assess
    expect(mapped).toBeInstanceOf(EcrGatewayError);
    expect(mapped.message).toBe('DescribeImages: Error: socket hang up');
  });
});

describe('Error classes', () => {
  it('set literal names that survive minification', () => {
    // Prepare
    const details = { operation: 'DescribeImages' };
    // Act
    const names = [
      new EcrGatewayError('m', details),
      new RepositoryNotFoundError('m', details),
      new ImageNotFoundError('m', details),
      new ScanNotFoundError('m', details),
      new LimitExceededError('m', details),
      new AccessDeniedError('m', details),
      new ThrottledError('m', details),
      new EcrUnavailableError('m', details),
      new InvalidRequestError('m', details),
      new ReadOnlyViolationError('BatchDeleteImage'),
    ].map((error) => error.name);
    // Assess
    expect(names).toEqual([
      'EcrGatewayError',
      'RepositoryNotFoundError',
      'ImageNotFoundError',
      'ScanNotFoundError',
      'LimitExceededError',
      'AccessDeniedError',
      'ThrottledError',
      'EcrUnavailableError',
      'InvalidRequestError',
      'ReadOnlyViolationError',
    ]);
  });
});

describe('Gateway error boundary', () => {
  const ecr = mockClient(ECRClient);

  beforeEach(() => {
    ecr.reset();
  });

  it('never lets an SDK exception escape a gateway method', async () => {
    // Prepare
    ecr.onAnyCommand().rejects(sdkError('SomethingNewException'));
    const gateway = createEcrGateway(new ECRClient({ region: 'us-east-1' }));
    // Act
    const outcomes = await Promise.allSettled([
      gateway.getRepository('team/app'),
      gateway.describeImages('team/app', ['sha256:a']),
      gateway.getManifests('team/app', ['sha256:a']),
      gateway.deleteImages('team/app', ['sha256:a']),
      gateway.untagImages('team/app', ['v1']),
      gateway.getRegistryScanningConfiguration(),
      gateway.getRepositoryScanningConfigurations(['team/app']),
      gateway.startImageScan('team/app', 'sha256:a'),
      gateway.putTagMutability('team/app', 'MUTABLE'),
      (async () => {
        for await (const _ of gateway.listImages('team/app'));
      })(),
      (async () => {
        for await (const _ of gateway.listRepositories());
      })(),
      (async () => {
        for await (const _ of gateway.getScanFindings('team/app', 'sha256:a'));
      })(),
      (async () => {
        for await (const _ of gateway.listImageReferrers('team/app', 'sha256:a'));
      })(),
    ]);
    // Assess
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(EcrGatewayError);
    }
    expect(ecr).toHaveReceivedCommand(DescribeImagesCommand);
  });

  it('reports a malformed response as a gateway error for the operation', async () => {
    // Prepare
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageTags: ['v1'] }] });
    const gateway = createEcrGateway(new ECRClient({ region: 'us-east-1' }));
    // Act
    const attempt = gateway.describeImages('team/app', ['sha256:a']);
    // Assess
    await expect(attempt).rejects.toThrow(
      "DescribeImages on repository 'team/app': Error: invariant: ECR returned an image without imageDigest",
    );
  });
});
