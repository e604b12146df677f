import { ECRPUBLICClient, type ECRPUBLICClientConfig } from '@aws-sdk/client-ecr-public';
import { countsResends } from '../ecr/calls.ts';
import { withQuotaNotRetried } from '../ecr/client.ts';
import { ECR_CLIENT_MAX_ATTEMPTS } from '../ecr/limits.ts';

/** ECR Public's API is served in us-east-1 only, whatever region the caller runs in. */
export const ECR_PUBLIC_API_REGION = 'us-east-1';

export interface EcrPublicClientOptions {
  /**
   * A custom endpoint (the local registry). Without it the SDK honours `AWS_ENDPOINT_URL_ECR_PUBLIC`, then
   * `AWS_ENDPOINT_URL`.
   */
  endpoint?: string;
  /** Without it the SDK's default credential chain runs (the Lambda role, env, profile). */
  credentials?: ECRPUBLICClientConfig['credentials'];
  /** Attempts per request, first try included. Default: `AWS_MAX_ATTEMPTS` when set, else ECR_CLIENT_MAX_ATTEMPTS. */
  maxAttempts?: number;
}

/**
 * The one ECR Public client of a Lambda container or CLI run, with the ECR client's retry rules (adaptive mode, the
 * same attempts, `LimitExceededException` not retried as throttling) and its region pinned to us-east-1.
 *
 * @example
 * ```ts
 * const gateway = createEcrPublicGateway(createEcrPublicClient(), { readOnly: true });
 * ```
 */
export function createEcrPublicClient(options: EcrPublicClientOptions = {}): ECRPUBLICClient {
  const fromEnvironment = process.env.AWS_MAX_ATTEMPTS !== undefined && process.env.AWS_MAX_ATTEMPTS !== '';
  return countsResends(
    withQuotaNotRetried(
      new ECRPUBLICClient({
        // As the ECR client's (see `createEcrClient`): the middleware is resolved once per command class.
        cacheMiddleware: true,
        retryMode: 'adaptive',
        // Left undefined, the SDK reads AWS_MAX_ATTEMPTS itself (and validates it).
        maxAttempts: options.maxAttempts ?? (fromEnvironment ? undefined : ECR_CLIENT_MAX_ATTEMPTS),
        region: ECR_PUBLIC_API_REGION,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      }),
    ),
  );
}
