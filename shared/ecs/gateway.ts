import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListClustersCommand,
  ListServicesCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { chunk, countedSending } from '../ecr/calls.ts';
import { toServiceGatewayError } from '../ecr/errors.ts';

/**
 * ECS API caps [M-ECS] (botocore `ecs` `service-2.json`): ListClusters, ListServices and ListTasks take
 * `maxResults` 1–100 (ListServices defaults to only 10); DescribeServices takes at most 10 services, DescribeTasks at
 * most 100 tasks, both in one cluster.
 */
export const ECS_LIST_PAGE_SIZE = 100;
export const MAX_SERVICES_PER_DESCRIBE = 10;
export const MAX_TASKS_PER_DESCRIBE = 100;

/** A service of a cluster, with every task definition it runs: its own and each deployment's (a rolling update has two). */
export interface EcsServiceRecord {
  serviceArn: string;
  serviceName: string;
  clusterArn: string;
  status: string;
  taskDefinitions: string[];
}

export interface EcsContainerRecord {
  name: string;
  /** The image as the task definition names it (`repo:tag`, `repo@sha256:…`). */
  image: string;
  /** The digest the container runs (the agent resolves a tag when the task starts); absent while it is pulling. */
  imageDigest?: string;
}

export interface EcsTaskRecord {
  taskArn: string;
  clusterArn: string;
  /** `service:<name>` for a service's task, `family:<name>` for a standalone one. */
  group?: string;
  taskDefinitionArn?: string;
  lastStatus?: string;
  containers: EcsContainerRecord[];
}

export interface EcsTaskDefinitionRecord {
  taskDefinitionArn: string;
  containers: { name: string; image: string }[];
}

/** An ARN a Describe call reported as failed (`MISSING`: the service or task is gone), a value and not an error. */
export interface EcsFailure {
  arn?: string;
  reason?: string;
}

/**
 * The read-only ECS gateway of the in-use provider: the only importer of `@aws-sdk/client-ecs`. It pages every list
 * to the end with the largest page ECS allows, batches the Describe calls at ECS's caps, maps every error into the
 * ECR gateway's error tree (`toServiceGatewayError`), and counts its calls. It has no mutating method.
 */
export interface EcsGateway {
  callCounts(): Record<string, number>;
  /** Every cluster ARN of the account and region (ListClusters, pages of 100). */
  listClusters(): AsyncIterable<string>;
  /** The service ARNs of a cluster (ListServices, pages of 100). */
  listServices(cluster: string): AsyncIterable<string>;
  /** Services by ARN (DescribeServices, batches of 10). */
  describeServices(
    cluster: string,
    serviceArns: readonly string[],
  ): Promise<{ services: EcsServiceRecord[]; failures: EcsFailure[] }>;
  /** The task ARNs of a cluster whose desired status is `desiredStatus` (ListTasks, pages of 100). */
  listTasks(cluster: string, desiredStatus: 'RUNNING' | 'PENDING'): AsyncIterable<string>;
  /** Tasks by ARN (DescribeTasks, batches of 100). */
  describeTasks(
    cluster: string,
    taskArns: readonly string[],
  ): Promise<{ tasks: EcsTaskRecord[]; failures: EcsFailure[] }>;
  /** A task definition's containers and their images (DescribeTaskDefinition). */
  describeTaskDefinition(taskDefinition: string): Promise<EcsTaskDefinitionRecord>;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

export function createEcsGateway(sdkClient: ECSClient): EcsGateway {
  const {
    client,
    call: send,
    callCounts,
  } = countedSending<string, typeof sdkClient>(sdkClient, (operation, error, resource) =>
    toServiceGatewayError('ECS', operation, error, resource),
  );

  /** Follows `nextToken` to the last page; a token seen twice ends the listing rather than looping forever. */
  async function* pages(
    operation: string,
    resource: string | undefined,
    page: (nextToken: string | undefined) => Promise<{ arns?: string[]; nextToken?: string }>,
  ): AsyncIterable<string> {
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const output = await send(operation, resource, () => page(token));
      for (const arn of output.arns ?? []) if (str(arn)) yield arn;
      token = str(output.nextToken);
      if (token !== undefined && seen.has(token)) return;
      if (token !== undefined) seen.add(token);
    } while (token !== undefined);
  }

  const failuresOf = (failures: { arn?: string; reason?: string }[] | undefined): EcsFailure[] =>
    (failures ?? []).map((failure) => ({
      ...(str(failure.arn) ? { arn: failure.arn } : {}),
      ...(str(failure.reason) ? { reason: failure.reason } : {}),
    }));

  return {
    callCounts,

    listClusters: () =>
      pages('ListClusters', undefined, async (nextToken) => {
        const out = await client.send(new ListClustersCommand({ maxResults: ECS_LIST_PAGE_SIZE, nextToken }));
        return { arns: out.clusterArns, nextToken: out.nextToken };
      }),

    listServices: (cluster) =>
      pages('ListServices', cluster, async (nextToken) => {
        const out = await client.send(new ListServicesCommand({ cluster, maxResults: ECS_LIST_PAGE_SIZE, nextToken }));
        return { arns: out.serviceArns, nextToken: out.nextToken };
      }),

    async describeServices(cluster, serviceArns) {
      const services: EcsServiceRecord[] = [];
      const failures: EcsFailure[] = [];
      for (const batch of chunk([...new Set(serviceArns)], MAX_SERVICES_PER_DESCRIBE)) {
        const out = await send('DescribeServices', cluster, () =>
          client.send(new DescribeServicesCommand({ cluster, services: batch })),
        );
        failures.push(...failuresOf(out.failures));
        for (const service of out.services ?? []) {
          const serviceArn = str(service.serviceArn);
          if (serviceArn === undefined) continue;
          const taskDefinitions = [service.taskDefinition, ...(service.deployments ?? []).map((d) => d.taskDefinition)]
            .map(str)
            .filter((arn): arn is string => arn !== undefined);
          services.push({
            serviceArn,
            serviceName: str(service.serviceName) ?? serviceArn.split('/').pop() ?? serviceArn,
            clusterArn: str(service.clusterArn) ?? cluster,
            status: str(service.status) ?? 'UNKNOWN',
            taskDefinitions: [...new Set(taskDefinitions)],
          });
        }
      }
      return { services, failures };
    },

    listTasks: (cluster, desiredStatus) =>
      pages('ListTasks', cluster, async (nextToken) => {
        const out = await client.send(
          new ListTasksCommand({ cluster, desiredStatus, maxResults: ECS_LIST_PAGE_SIZE, nextToken }),
        );
        return { arns: out.taskArns, nextToken: out.nextToken };
      }),

    async describeTasks(cluster, taskArns) {
      const tasks: EcsTaskRecord[] = [];
      const failures: EcsFailure[] = [];
      for (const batch of chunk([...new Set(taskArns)], MAX_TASKS_PER_DESCRIBE)) {
        const out = await send('DescribeTasks', cluster, () =>
          client.send(new DescribeTasksCommand({ cluster, tasks: batch })),
        );
        failures.push(...failuresOf(out.failures));
        for (const task of out.tasks ?? []) {
          const taskArn = str(task.taskArn);
          if (taskArn === undefined) continue;
          const containers: EcsContainerRecord[] = [];
          for (const container of task.containers ?? []) {
            const image = str(container.image);
            if (image === undefined) continue;
            const imageDigest = str(container.imageDigest);
            containers.push({
              name: str(container.name) ?? '',
              image,
              ...(imageDigest === undefined ? {} : { imageDigest }),
            });
          }
          tasks.push({
            taskArn,
            clusterArn: str(task.clusterArn) ?? cluster,
            ...(str(task.group) ? { group: task.group } : {}),
            ...(str(task.taskDefinitionArn) ? { taskDefinitionArn: task.taskDefinitionArn } : {}),
            ...(str(task.lastStatus) ? { lastStatus: task.lastStatus } : {}),
            containers,
          });
        }
      }
      return { tasks, failures };
    },

    async describeTaskDefinition(taskDefinition) {
      const out = await send('DescribeTaskDefinition', taskDefinition, () =>
        client.send(new DescribeTaskDefinitionCommand({ taskDefinition })),
      );
      const definition = out.taskDefinition;
      const containers: { name: string; image: string }[] = [];
      for (const container of definition?.containerDefinitions ?? []) {
        const image = str(container.image);
        if (image !== undefined) containers.push({ name: str(container.name) ?? '', image });
      }
      return { taskDefinitionArn: str(definition?.taskDefinitionArn) ?? taskDefinition, containers };
    },
  };
}
