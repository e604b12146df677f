/**
 * The ECR gateway: the only module of the product that talks to ECR (and the only importer of
 * `@aws-sdk/client-ecr`). Handlers and the CLI create one client per container with `createEcrClient()`, wrap it
 * with `createEcrGateway(client, { readOnly })`, and from then on speak in images, digests and tags.
 */
export type { ECRClient } from '@aws-sdk/client-ecr';
export { createEcrClient, type EcrClientOptions } from './client.ts';
export {
  AccessDeniedError,
  EcrGatewayError,
  type EcrGatewayErrorDetails,
  EcrUnavailableError,
  ImageNotFoundError,
  InvalidRequestError,
  LimitExceededError,
  ReadOnlyViolationError,
  RepositoryNotFoundError,
  reportedFailure,
  ScanNotFoundError,
  ThrottledError,
  toGatewayError,
  toServiceGatewayError,
} from './errors.ts';
export { createEcrGateway, type EcrGateway, type EcrGatewayOptions } from './gateway.ts';
export * from './limits.ts';
export * from './registry-settings.ts';
export * from './types.ts';
