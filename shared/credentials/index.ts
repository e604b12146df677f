/**
 * The credentials of the target accounts: the only module of the product that talks to STS (and the only importer
 * of `@aws-sdk/client-sts`). It assumes the `targets` section's role in each account, caches the credentials, and
 * builds each target's ECR client with them; it resolves the section into the accounts and regions worked in,
 * discovering accounts from AWS Organizations (`targets.ts`).
 */
export type { STSClient } from '@aws-sdk/client-sts';
export * from './assume-role.ts';
export { createStsClient, type StsClientOptions } from './client.ts';
export * from './errors.ts';
export * from './pool.ts';
export * from './targets.ts';
