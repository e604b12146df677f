import {
  AccessDeniedError,
  EcrGatewayError,
  EcrUnavailableError,
  ThrottledError,
  toServiceGatewayError,
} from '../ecr/errors.ts';

/**
 * Why a target's credentials could not be had:
 *
 * | Reason         | STS error                                                   | Next step                                 |
 * |----------------|-------------------------------------------------------------|-------------------------------------------|
 * | `access-denied`| AccessDenied, HTTP 403, an expired or unknown service token | fix the target role or its trust policy   |
 * | `throttled`    | Throttling, HTTP 429 (after the SDK's retries)              | retry later                               |
 * | `unavailable`  | 5xx, network errors (after the SDK's retries)               | retry later                               |
 * | `invalid`      | anything else: a malformed request, a response without keys | report                                    |
 */
export type TargetCredentialsReason = 'access-denied' | 'throttled' | 'unavailable' | 'invalid';

/**
 * The role of a target account could not be assumed. Part of the gateways' error tree (an `EcrGatewayError` with
 * the STS error's `code` and `retryable`), with the account and the role named in the message and as fields.
 */
export class TargetCredentialsError extends EcrGatewayError {
  readonly account: string;
  readonly roleName: string;
  readonly reason: TargetCredentialsReason;

  constructor(
    message: string,
    details: { account: string; roleName: string; reason: TargetCredentialsReason; code: string; cause?: unknown },
  ) {
    super(message, {
      operation: 'AssumeRole',
      code: details.code,
      retryable: details.reason === 'throttled' || details.reason === 'unavailable',
      cause: details.cause,
    });
    this.name = 'TargetCredentialsError';
    this.account = details.account;
    this.roleName = details.roleName;
    this.reason = details.reason;
  }
}

const HINTS: Record<TargetCredentialsReason, string> = {
  'access-denied':
    'the role is missing, does not trust the service’s role, requires another external id, or the service’s role may not assume it',
  throttled: 'STS kept throttling; retryable',
  unavailable: 'STS could not be reached or failed; retryable',
  invalid: 'not retryable',
};

/**
 * Maps anything an AssumeRole call threw (through the gateways' mapping, `toServiceGatewayError`) to a
 * `TargetCredentialsError` naming the account and the role. One already mapped passes through.
 */
export function toTargetCredentialsError(thrown: unknown, account: string, roleName: string): TargetCredentialsError {
  if (thrown instanceof TargetCredentialsError) return thrown;
  const mapped = toServiceGatewayError('STS', 'AssumeRole', thrown, `role ${roleName} in account ${account}`);
  const reason: TargetCredentialsReason =
    mapped instanceof AccessDeniedError
      ? 'access-denied'
      : mapped instanceof ThrottledError
        ? 'throttled'
        : mapped instanceof EcrUnavailableError
          ? 'unavailable'
          : 'invalid';
  return new TargetCredentialsError(
    `Cannot assume role ${roleName} in account ${account}: ${mapped.message} (${HINTS[reason]})`,
    { account, roleName, reason, code: mapped.code, cause: thrown },
  );
}
