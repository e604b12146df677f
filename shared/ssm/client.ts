import { SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import { countsResends } from '../ecr/calls.ts';
import { adaptiveRetries } from '../ecr/client.ts';

export interface SsmClientOptions {
  /** A custom endpoint. Without it the SDK honours `AWS_ENDPOINT_URL_SSM`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /** Without it the SDK reads `AWS_REGION` (set by Lambda) or the shared config. */
  region?: string;
  credentials?: SSMClientConfig['credentials'];
  /** Attempts per request, first try included. Default: `AWS_MAX_ATTEMPTS` when set, else the ECR client's. */
  maxAttempts?: number;
}

/** The SSM client of the Kubernetes list reader: the ECR client's retry rules (adaptive mode, the same attempts). */
export function createSsmClient(options: SsmClientOptions = {}): SSMClient {
  return countsResends(
    new SSMClient({
      ...adaptiveRetries(options.maxAttempts),
      cacheMiddleware: true,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    }),
  );
}
