/**
 * The ECR Public gateway: the only module of the product that talks to ECR Public (and the only importer of
 * `@aws-sdk/client-ecr-public`). Its errors are the ECR gateway's (`shared/ecr/errors.ts`).
 */
export type { ECRPUBLICClient } from '@aws-sdk/client-ecr-public';
export { createEcrPublicClient, ECR_PUBLIC_API_REGION, type EcrPublicClientOptions } from './client.ts';
export { createEcrPublicGateway, type EcrPublicGatewayOptions } from './gateway.ts';
export * from './limits.ts';
export { MAX_MANIFEST_BYTES } from './registry-api.ts';
export * from './types.ts';
