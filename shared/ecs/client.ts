import { ECSClient, type ECSClientConfig } from '@aws-sdk/client-ecs';
import { countsResends } from '../ecr/calls.ts';
import { adaptiveRetries } from '../ecr/client.ts';

export interface EcsClientOptions {
  /** A custom endpoint. Without it the SDK honours `AWS_ENDPOINT_URL_ECS`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /** Without it the SDK reads `AWS_REGION` (set by Lambda) or the shared config. */
  region?: string;
  credentials?: ECSClientConfig['credentials'];
  /** Attempts per request, first try included. Default: `AWS_MAX_ATTEMPTS` when set, else the ECR client's. */
  maxAttempts?: number;
}

/** The ECS client of the in-use provider: the ECR client's retry rules (adaptive mode, the same attempts). */
export function createEcsClient(options: EcsClientOptions = {}): ECSClient {
  return countsResends(
    new ECSClient({
      ...adaptiveRetries(options.maxAttempts),
      cacheMiddleware: true,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    }),
  );
}
