import { STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { countsResends } from '../ecr/calls.ts';
import { adaptiveRetries } from '../ecr/client.ts';

export interface StsClientOptions {
  /** A custom endpoint. Without it the SDK honours `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /**
   * The region whose STS endpoint is called (regional endpoints). Without it the SDK reads `AWS_REGION` (set by
   * Lambda). A role can be assumed only within the partition of the caller's credentials.
   */
  region?: string;
  /** The caller's own credentials. Without them the SDK's default credential chain runs (the Lambda role). */
  credentials?: STSClientConfig['credentials'];
  /** Attempts per request, first try included. Default: `AWS_MAX_ATTEMPTS` when set, else the ECR client's. */
  maxAttempts?: number;
}

/** The STS client that assumes the target roles: the ECR client's retry rules (adaptive mode, the same attempts). */
export function createStsClient(options: StsClientOptions = {}): STSClient {
  return countsResends(
    new STSClient({
      ...adaptiveRetries(options.maxAttempts),
      cacheMiddleware: true,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    }),
  );
}
