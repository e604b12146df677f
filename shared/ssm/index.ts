/**
 * The SSM gateway: the only module of the product that talks to SSM Parameter Store (and the only importer of
 * `@aws-sdk/client-ssm`). Read-only: the Kubernetes in-use list may be read from a parameter through it.
 */
export type { SSMClient } from '@aws-sdk/client-ssm';
export { createSsmClient, type SsmClientOptions } from './client.ts';
export * from './gateway.ts';
