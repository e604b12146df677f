import type { InUseImage } from '../domain/in-use.ts';
import type { EcsGateway, EcsTaskRecord } from '../ecs/gateway.ts';
import { checkAborted, collect, type InUseProvider, inUseImage, nameOfArn } from './provider.ts';

export interface EcsProviderOptions {
  /** `all` (ListClusters) or cluster names or ARNs. */
  clusters: 'all' | readonly string[];
  repositories?: readonly string[];
  exclude?: readonly string[];
}

/**
 * ECS: the images of running and pending tasks, by the digest each container runs (`imageDigest`), in every
 * configured cluster; and the images of the task definitions that the cluster's services run (each deployment's,
 * so a rolling update's old and new ones), pinned by digest when the definition names one, else resolved to the
 * digest a task of that definition runs for the same container, else left as a tag (the planner then resolves it
 * through the repository's current tags). `where` is `cluster/service`, or `cluster/task-id` for a standalone task.
 */
export function ecsProvider(gateway: EcsGateway, options: EcsProviderOptions): InUseProvider {
  return {
    name: 'ecs',
    ...(options.repositories === undefined ? {} : { repositories: options.repositories }),
    ...(options.exclude === undefined ? {} : { exclude: options.exclude }),
    async gather(signal) {
      const clusters =
        options.clusters === 'all' ? await collect(gateway.listClusters(), signal) : [...options.clusters];
      const images: InUseImage[] = [];
      const definitions = new Map<string, Promise<{ containers: { name: string; image: string }[] }>>();
      for (const cluster of clusters) {
        checkAborted(signal);
        images.push(...(await clusterImages(gateway, cluster, definitions, signal)));
      }
      return images;
    },
  };
}

async function clusterImages(
  gateway: EcsGateway,
  cluster: string,
  definitions: Map<string, Promise<{ containers: { name: string; image: string }[] }>>,
  signal: AbortSignal,
): Promise<InUseImage[]> {
  const clusterName = nameOfArn(cluster);
  const images: InUseImage[] = [];
  const taskArns = [
    ...(await collect(gateway.listTasks(cluster, 'RUNNING'), signal)),
    ...(await collect(gateway.listTasks(cluster, 'PENDING'), signal)),
  ];
  checkAborted(signal);
  const { tasks } = taskArns.length === 0 ? { tasks: [] } : await gateway.describeTasks(cluster, taskArns);
  /** `taskDefinitionArn\0container` → the digests its tasks run: how a service's tag is resolved. */
  const runningDigests = new Map<string, Set<string>>();
  for (const task of tasks) {
    const where = `${clusterName}/${whereOfTask(task)}`;
    for (const container of task.containers) {
      const image = inUseImage(container.image, { provider: 'ecs', where }, container.imageDigest);
      if (image !== undefined) images.push(image);
      if (task.taskDefinitionArn !== undefined && container.imageDigest !== undefined) {
        const key = `${task.taskDefinitionArn}\0${container.name}`;
        const digests = runningDigests.get(key) ?? new Set<string>();
        digests.add(container.imageDigest);
        runningDigests.set(key, digests);
      }
    }
  }
  checkAborted(signal);
  const serviceArns = await collect(gateway.listServices(cluster), signal);
  const { services } =
    serviceArns.length === 0 ? { services: [] } : await gateway.describeServices(cluster, serviceArns);
  for (const service of services) {
    if (service.status === 'INACTIVE') continue;
    const where = `${clusterName}/${service.serviceName}`;
    for (const arn of service.taskDefinitions) {
      checkAborted(signal);
      let definition = definitions.get(arn);
      if (definition === undefined) {
        definition = gateway.describeTaskDefinition(arn);
        definitions.set(arn, definition);
      }
      for (const container of (await definition).containers) {
        const digests = runningDigests.get(`${arn}\0${container.name}`);
        if (digests === undefined || digests.size === 0) {
          const image = inUseImage(container.image, { provider: 'ecs', where });
          if (image !== undefined) images.push(image);
          continue;
        }
        for (const digest of digests) {
          const image = inUseImage(container.image, { provider: 'ecs', where }, digest);
          if (image !== undefined) images.push(image);
        }
        // The definition's own reference too (its tag), in case it now names another image than the tasks run.
        const named = inUseImage(container.image, { provider: 'ecs', where });
        if (named !== undefined && named.digest === undefined && named.tag !== undefined) images.push(named);
      }
    }
  }
  return images;
}

/** A service's task is `service:<name>` in its group; a standalone task is named by its id. */
function whereOfTask(task: EcsTaskRecord): string {
  if (task.group?.startsWith('service:')) return task.group.slice('service:'.length);
  return `task/${nameOfArn(task.taskArn)}`;
}
