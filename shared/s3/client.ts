import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { adaptiveRetries } from '../ecr/client.ts';

export interface S3ClientOptions {
  /** A custom endpoint. Without it the SDK honours `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /** Without it the SDK reads `AWS_REGION` (set by Lambda) or the shared config. */
  region?: string;
  credentials?: S3ClientConfig['credentials'];
  /** Attempts per request, first try included. Default: `AWS_MAX_ATTEMPTS` when set, else the ECR client's. */
  maxAttempts?: number;
  /** Path-style addressing (`endpoint/bucket/key`), for a local endpoint. */
  forcePathStyle?: boolean;
}

/** The S3 client of the Kubernetes list reader: the ECR client's retry rules (adaptive mode, the same attempts). */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  return new S3Client({
    ...adaptiveRetries(options.maxAttempts),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
  });
}
