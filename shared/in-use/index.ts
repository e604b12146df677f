/**
 * The in-use protection providers ("never delete what runs"): the provider interface, the ECS, Lambda and
 * Kubernetes providers, image-reference parsing, the Kubernetes list format, `gatherInUse` (concurrent, timed,
 * fail closed) and the per-repository mapping the planner takes.
 */
export * from './clients.ts';
export * from './ecs.ts';
export * from './from-config.ts';
export * from './gather.ts';
export * from './image-ref.ts';
export * from './kubernetes.ts';
export * from './kubernetes-list.ts';
export * from './lambda.ts';
export * from './provider.ts';
export * from './repository.ts';
