import { OrganizationsClient, type OrganizationsClientConfig } from '@aws-sdk/client-organizations';
import { countsResends } from '../ecr/calls.ts';
import { adaptiveRetries } from '../ecr/client.ts';

export interface OrganizationsClientOptions {
  /** A custom endpoint. Without it the SDK honours `AWS_ENDPOINT_URL_ORGANIZATIONS`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /**
   * Any region of the partition: AWS Organizations has one endpoint per partition (`us-east-1` for `aws`), which the
   * SDK picks from it. Without it the SDK reads `AWS_REGION` (set by Lambda).
   */
  region?: string;
  /** The caller's credentials: the management account's, or a delegated administrator's. */
  credentials?: OrganizationsClientConfig['credentials'];
  /** Attempts per request, first try included. Default: `AWS_MAX_ATTEMPTS` when set, else the ECR client's. */
  maxAttempts?: number;
}

/** The AWS Organizations client that discovers the target accounts: the ECR client's retry rules. */
export function createOrganizationsClient(options: OrganizationsClientOptions = {}): OrganizationsClient {
  return countsResends(
    new OrganizationsClient({
      ...adaptiveRetries(options.maxAttempts),
      cacheMiddleware: true,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    }),
  );
}
