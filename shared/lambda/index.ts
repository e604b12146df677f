/**
 * The Lambda gateway: the only module of the product that talks to Lambda (and the only importer of
 * `@aws-sdk/client-lambda`). Read-only: the in-use provider lists container-image functions, versions and aliases.
 */
export type { LambdaClient } from '@aws-sdk/client-lambda';
export { createLambdaClient, type LambdaClientOptions } from './client.ts';
export * from './gateway.ts';
