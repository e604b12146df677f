/**
 * The gateway's error tree. Every failure of an ECR call leaves the gateway as one of these, never as an SDK
 * exception; the subclass says what the caller should do next:
 *
 * | Class                    | ECR / SDK error                                              | Caller's next step           |
 * |--------------------------|--------------------------------------------------------------|------------------------------|
 * | RepositoryNotFoundError  | RepositoryNotFoundException                                  | skip the repository, report  |
 * | ImageNotFoundError       | ImageNotFoundException                                       | the image is gone            |
 * | ScanNotFoundError        | ScanNotFoundException                                        | not scanned (yet)            |
 * | LimitExceededError       | LimitExceededException                                       | back off for a long while    |
 * | AccessDeniedError        | AccessDenied, UnrecognizedClient, ExpiredToken, HTTP 403, … | stop: a configuration problem|
 * | ThrottledError           | Throttling, TooManyRequests, HTTP 429 (after SDK retries)    | let Lambda retry later       |
 * | EcrUnavailableError      | ServerException, HTTP 5xx, network errors (after retries)    | let Lambda retry later       |
 * | InvalidRequestError      | InvalidParameter, Validation, other 4xx about the input      | a bug or bad input: report   |
 * | ReadOnlyViolationError   | none: a mutating call on a read-only (dry-run) gateway       | a bug: dry run must not act  |
 * | EcrGatewayError          | anything else (KmsException, malformed response, …)          | report                       |
 *
 * `toGatewayError` is the one place that maps; it matches on `error.name` and `$metadata.httpStatusCode`, so it
 * works for real SDK exceptions, plain objects rejected by aws-sdk-client-mock, and unmodelled errors alike.
 */

export interface EcrGatewayErrorDetails {
  /** The ECR operation, e.g. `BatchDeleteImage`. */
  operation: string;
  repository?: string;
  /** The ECR exception name (`RepositoryNotFoundException`), or the error's name for non-ECR errors. */
  code?: string;
  retryable?: boolean;
  cause?: unknown;
}

/** `BatchDeleteImage on repository 'team/app'`, or just the operation for registry-wide calls. */
const where = (operation: string, repository?: string) =>
  repository === undefined ? operation : `${operation} on repository '${repository}'`;

export class EcrGatewayError extends Error {
  readonly operation: string;
  readonly repository?: string;
  /** The ECR exception name this error was mapped from (`ThrottlingException`, `Error`, ...). */
  readonly code: string;
  /** True when the same call may succeed later (throttling, 5xx); the SDK has already retried it. */
  readonly retryable: boolean;
  override readonly cause: unknown;

  constructor(message: string, details: EcrGatewayErrorDetails) {
    super(message, { cause: details.cause });
    this.name = 'EcrGatewayError'; // literal names survive minification; new.target.name may not
    this.operation = details.operation;
    if (details.repository !== undefined) this.repository = details.repository;
    this.code = details.code ?? 'EcrGatewayError';
    this.retryable = details.retryable ?? false;
    this.cause = details.cause;
  }
}

/**
 * A failed action, as a verdict reports it, when ECR's answer is final. A retryable error (throttling, 5xx) and
 * anything that is not a gateway error are thrown again, so that the whole event is retried (every step is idempotent).
 */
export function reportedFailure(error: unknown): { result: 'failed'; code: string; message: string } {
  if (!(error instanceof EcrGatewayError) || error.retryable) throw error;
  return { result: 'failed', code: error.code, message: error.message };
}

/** The repository does not exist (or not in this account and region). Skip it and report it. */
export class RepositoryNotFoundError extends EcrGatewayError {
  constructor(message: string, details: EcrGatewayErrorDetails) {
    super(message, { ...details, retryable: false });
    this.name = 'RepositoryNotFoundError';
  }
}

/** An image named by digest or tag does not exist in the repository. */
export class ImageNotFoundError extends EcrGatewayError {
  constructor(message: string, details: EcrGatewayErrorDetails) {
    super(message, { ...details, retryable: false });
    this.name = 'ImageNotFoundError';
  }
}

/** The image has no scan yet (DescribeImageScanFindings before any StartImageScan or scan on push). */
export class ScanNotFoundError extends EcrGatewayError {
  constructor(message: string, details: EcrGatewayErrorDetails) {
    super(message, { ...details, retryable: false });
    this.name = 'ScanNotFoundError';
  }
}

/** A service quota was hit (`LimitExceededException`); quotas reset slowly, so this is not retryable now. */
export class LimitExceededError extends EcrGatewayError {
  constructor(message: string, details: EcrGatewayErrorDetails) {
    super(message, { ...details, retryable: false });
    this.name = 'LimitExceededError';
  }
}

/** Credentials are missing, invalid or expired, or IAM denies the action: a configuration problem. */
export class AccessDeniedError extends EcrGatewayError {
  constructor(message: string, details: EcrGatewayErrorDetails) {
    super(message, { ...details, retryable: false });
    this.name = 'AccessDeniedError';
  }
}

/** ECR kept throttling after the SDK's adaptive retries ran out. Retryable later. */
export class ThrottledError extends EcrGatewayError {
  constructor(message: string, details: EcrGatewayErrorDetails) {
    super(message, { ...details, retryable: true });
    this.name = 'ThrottledError';
  }
}

/** ECR answered 5xx (or could not be reached) after the SDK's retries ran out. Retryable later. */
export class EcrUnavailableError extends EcrGatewayError {
  constructor(message: string, details: EcrGatewayErrorDetails) {
    super(message, { ...details, retryable: true });
    this.name = 'EcrUnavailableError';
  }
}

/** ECR rejected the request's input (`InvalidParameterException`, `ValidationException`, ...). */
export class InvalidRequestError extends EcrGatewayError {
  constructor(message: string, details: EcrGatewayErrorDetails) {
    super(message, { ...details, retryable: false });
    this.name = 'InvalidRequestError';
  }
}

/** A mutating method was called on a read-only (dry-run) gateway. Thrown before any request is sent. */
export class ReadOnlyViolationError extends EcrGatewayError {
  constructor(operation: string, repository?: string) {
    super(`${where(operation, repository)}: refused: the ECR gateway is read-only (dry run) and ${operation} mutates`, {
      operation,
      repository,
      code: 'ReadOnlyViolation',
      retryable: false,
    });
    this.name = 'ReadOnlyViolationError';
  }
}

/**
 * Carries an ECR error through the SDK's retry loop so that the SDK does not re-send the request (see
 * `createEcrClient`: ECR's quota error `LimitExceededException` is on the SDK's list of throttling codes).
 * Internal: `toGatewayError` unwraps it, so it never leaves the gateway.
 */
export class UnretriedError extends Error {
  readonly original: unknown;

  constructor(original: unknown) {
    super(original instanceof Error ? original.message : String(original), { cause: original });
    this.name = 'UnretriedError';
    this.original = original;
  }
}

type ErrorClass = new (message: string, details: EcrGatewayErrorDetails) => EcrGatewayError;

/** ECR exception names (the `__type` on the wire), each with the class it maps to. */
const BY_NAME: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ['RepositoryNotFoundException', RepositoryNotFoundError],
  ['ImageNotFoundException', ImageNotFoundError],
  ['ScanNotFoundException', ScanNotFoundError],
  ['LimitExceededException', LimitExceededError],
  // Authentication and authorisation, from IAM, STS, SigV4 and the SDK's credential chain.
  ['AccessDeniedException', AccessDeniedError],
  ['AccessDenied', AccessDeniedError],
  ['UnrecognizedClientException', AccessDeniedError],
  ['ExpiredTokenException', AccessDeniedError],
  ['ExpiredToken', AccessDeniedError],
  ['InvalidSignatureException', AccessDeniedError],
  ['InvalidClientTokenId', AccessDeniedError],
  ['SignatureDoesNotMatch', AccessDeniedError],
  ['MissingAuthenticationTokenException', AccessDeniedError],
  ['CredentialsProviderError', AccessDeniedError],
  // The SDK's own list of throttling error codes (@smithy/service-error-classification).
  ['ThrottlingException', ThrottledError],
  ['Throttling', ThrottledError],
  ['TooManyRequestsException', ThrottledError],
  ['ThrottledException', ThrottledError],
  ['RequestThrottledException', ThrottledError],
  ['RequestThrottled', ThrottledError],
  ['RequestLimitExceeded', ThrottledError],
  ['SlowDown', ThrottledError],
  ['BandwidthLimitExceeded', ThrottledError],
  ['ProvisionedThroughputExceededException', ThrottledError],
  ['EC2ThrottledException', ThrottledError],
  ['PriorRequestNotComplete', ThrottledError],
  // Server faults and transient failures.
  ['ServerException', EcrUnavailableError],
  ['ServiceException', EcrUnavailableError], // Lambda's 500
  ['InternalFailure', EcrUnavailableError],
  ['InternalServerError', EcrUnavailableError],
  ['ServiceUnavailable', EcrUnavailableError],
  ['ServiceUnavailableException', EcrUnavailableError],
  ['TimeoutError', EcrUnavailableError],
  ['RequestTimeout', EcrUnavailableError],
  ['RequestTimeoutException', EcrUnavailableError],
  // Input the service rejected.
  ['InvalidParameterException', InvalidRequestError],
  ['ImageStorageClassUpdateNotSupportedException', InvalidRequestError],
  ['ValidationException', InvalidRequestError],
  ['SerializationException', InvalidRequestError],
  ['InvalidImageTagException', InvalidRequestError],
  ['UnsupportedImageTypeException', InvalidRequestError],
  ['ImageArchivedException', InvalidRequestError],
  ['UnknownOperationException', InvalidRequestError],
]);

/** Node socket error codes the SDK's transient-error classification also retries. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown; attempts?: unknown };
}

const classFor = (name: string, status: number | undefined, fault: unknown, code: unknown): ErrorClass => {
  const byName = BY_NAME.get(name);
  if (byName) return byName;
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return EcrUnavailableError;
  if (status === 403 || status === 401) return AccessDeniedError;
  if (status === 429) return ThrottledError;
  if ((status !== undefined && status >= 500) || fault === 'server') return EcrUnavailableError;
  return EcrGatewayError;
};

/**
 * Maps anything an ECR call (or the mapping of its response) threw to an `EcrGatewayError`, with the operation and
 * repository in the message: `BatchDeleteImage on repository 'team/app': RepositoryNotFoundException: ...`.
 * An `EcrGatewayError` passes through unchanged.
 */
export function toGatewayError(operation: string, thrown: unknown, repository?: string): EcrGatewayError {
  return mapThrown(operation, where(operation, repository), thrown, repository);
}

/**
 * The same mapping for the read-only gateways of the other AWS services the product reads (ECS, Lambda, S3, SSM):
 * one error tree, the same classes and retry verdicts, the service and the resource in the message:
 * `ECS ListTasks on 'prod': ClusterNotFoundException: ...`.
 */
export function toServiceGatewayError(
  service: string,
  operation: string,
  thrown: unknown,
  resource?: string,
): EcrGatewayError {
  const place = resource === undefined ? `${service} ${operation}` : `${service} ${operation} on '${resource}'`;
  return mapThrown(operation, place, thrown);
}

function mapThrown(operation: string, place: string, thrown: unknown, repository?: string): EcrGatewayError {
  if (thrown instanceof EcrGatewayError) return thrown;
  const error = thrown instanceof UnretriedError ? thrown.original : thrown;
  const like: ErrorLike = typeof error === 'object' && error !== null ? (error as ErrorLike) : {};
  const name = typeof like.name === 'string' && like.name !== '' ? like.name : 'Error';
  const detail =
    typeof like.message === 'string' && like.message !== '' ? like.message : error === like ? name : String(error);
  const status = typeof like.$metadata?.httpStatusCode === 'number' ? like.$metadata.httpStatusCode : undefined;
  const attempts = typeof like.$metadata?.attempts === 'number' ? like.$metadata.attempts : undefined;
  const ErrorClass = classFor(name, status, like.$fault, like.code);
  const retries = attempts !== undefined && attempts > 1 ? ` (after ${attempts} attempts)` : '';
  const code = typeof like.code === 'string' && name === 'Error' ? like.code : name;
  return new ErrorClass(`${place}: ${code}: ${detail}${retries}`, {
    operation,
    repository,
    code,
    cause: error,
  });
}
