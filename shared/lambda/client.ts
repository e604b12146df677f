import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { countsResends } from '../ecr/calls.ts';
import { adaptiveRetries } from '../ecr/client.ts';

export interface LambdaClientOptions {
  /** A custom endpoint. Without it the SDK honours `AWS_ENDPOINT_URL_LAMBDA`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /** Without it the SDK reads `AWS_REGION` (set by Lambda) or the shared config. */
  region?: string;
  credentials?: LambdaClientConfig['credentials'];
  /** Attempts per request, first try included. Default: `AWS_MAX_ATTEMPTS` when set, else the ECR client's. */
  maxAttempts?: number;
}

/** The Lambda client of the in-use provider: the ECR client's retry rules (adaptive mode, the same attempts). */
export function createLambdaClient(options: LambdaClientOptions = {}): LambdaClient {
  return countsResends(
    new LambdaClient({
      ...adaptiveRetries(options.maxAttempts),
      cacheMiddleware: true,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    }),
  );
}
