/**
 * The AWS Organizations gateway: the only module of the product that talks to AWS Organizations (and the only
 * importer of `@aws-sdk/client-organizations`). Read-only: the `targets` section's accounts are discovered and
 * checked through it.
 */
export type { OrganizationsClient } from '@aws-sdk/client-organizations';
export { createOrganizationsClient, type OrganizationsClientOptions } from './client.ts';
export * from './gateway.ts';
