/**
 * The ECS gateway: the only module of the product that talks to ECS (and the only importer of `@aws-sdk/client-ecs`).
 * Read-only: the in-use provider lists clusters, services, tasks and task definitions through it.
 */
export type { ECSClient } from '@aws-sdk/client-ecs';
export { createEcsClient, type EcsClientOptions } from './client.ts';
export * from './gateway.ts';
