import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { countsResends } from '../ecr/calls.ts';
import { adaptiveRetries } from '../ecr/client.ts';

export interface SnsClientOptions {
  /** A custom endpoint. Without it the SDK honours `AWS_ENDPOINT_URL_SNS`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /** Without it the SDK reads `AWS_REGION` (set by Lambda) or the shared config. */
  region?: string;
  credentials?: SNSClientConfig['credentials'];
  /** Attempts per request, first try included. Default: `AWS_MAX_ATTEMPTS` when set, else the ECR client's. */
  maxAttempts?: number;
}

/** The SNS client of the notifications: the ECR client's retry rules (adaptive mode, the same attempts). */
export function createSnsClient(options: SnsClientOptions = {}): SNSClient {
  return countsResends(
    new SNSClient({
      ...adaptiveRetries(options.maxAttempts),
      cacheMiddleware: true,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    }),
  );
}
