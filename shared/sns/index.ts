/**
 * The SNS gateway: the only module of the product that talks to SNS (and the only importer of `@aws-sdk/client-sns`).
 * The notifications are published through it.
 */
export type { SNSClient } from '@aws-sdk/client-sns';
export { createSnsClient, type SnsClientOptions } from './client.ts';
export * from './gateway.ts';
