/**
 * The S3 gateway: the only module of the product that talks to S3 (and the only importer of `@aws-sdk/client-s3`).
 * The Kubernetes in-use list is read through it, bounded in size; the cleanup runs' reports are written and listed
 * through it.
 */
export type { S3Client } from '@aws-sdk/client-s3';
export { createS3Client, type S3ClientOptions } from './client.ts';
export * from './gateway.ts';
