import { createHash } from 'node:crypto';
import { EcrException } from '../wire/errors.ts';
import type { Input } from '../wire/validate.ts';
import {
  type EcsCluster,
  type EcsService,
  type EcsTask,
  type EcsTaskDefinition,
  partitionOf,
  type WorkloadState,
} from './state.ts';

/** ECS's JSON 1.1 target prefix. */
export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

/** An ECS operation: reads the workloads of the caller's account and region (undefined: none declared). */
export type EcsOperation = (
  input: Input,
  scope: { account: string; region: string; state: WorkloadState | undefined },
) => unknown;

const invalid = (message: string) => new EcrException('InvalidParameterException', message);
const clusterNotFound = () => new EcrException('ClusterNotFoundException', 'Cluster not found.');

const arn = (scope: { account: string; region: string }, resource: string) =>
  `arn:${partitionOf(scope.region)}:ecs:${scope.region}:${scope.account}:${resource}`;
const clusterArn = (scope: { account: string; region: string }, cluster: EcsCluster) =>
  arn(scope, `cluster/${cluster.name}`);
const taskDefinitionArn = (scope: { account: string; region: string }, familyRevision: string) =>
  arn(scope, `task-definition/${familyRevision}`);
/** JSON 1.1 timestamps are epoch seconds. */
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/** The last path segment of an ARN (`.../cluster/name` → `name`), or the name as given. */
const lastSegment = (value: string) => (value.startsWith('arn:') ? (value.split('/').pop() ?? '') : value);

/** `cluster` (a name or an ARN of the caller's account and region; `default` when absent). */
function findCluster(input: Input, state: WorkloadState | undefined): EcsCluster {
  const reference = input.str('cluster') ?? 'default';
  let name = reference;
  if (reference.startsWith('arn:')) {
    const match = /^arn:[^:]+:ecs:([^:]+):(\d{12}):cluster\/(.+)$/.exec(reference);
    name = match && match[1] === state?.region && match[2] === state?.account ? (match[3] as string) : '';
  }
  const cluster = state?.clusters.find((entry) => entry.name === name);
  if (!cluster) throw clusterNotFound();
  return cluster;
}

/** `maxResults` within 1..max, and the position after `nextToken`. */
function page(input: Input, max: number, defaultSize: number): { size: number; after: string | undefined } {
  // Not a number (or not an integer) does not deserialize; a number out of range is ECS's own check.
  const value = input.num('maxResults');
  if (value !== undefined && (value < 1 || value > max)) {
    throw invalid(`maxResults must be an integer from 1 to ${max}.`);
  }
  const token = input.str('nextToken');
  let after: string | undefined;
  if (token !== undefined) {
    try {
      const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
      if (typeof decoded !== 'object' || decoded === null || typeof (decoded as { a?: unknown }).a !== 'string') {
        throw new Error('no position');
      }
      after = (decoded as { a: string }).a;
    } catch {
      throw invalid('Invalid token');
    }
  }
  return { size: typeof value === 'number' ? value : defaultSize, after };
}

/** One page of `keys` (in their order) after `after`, and the token of the next. */
function pageOf<T>(items: T[], key: (item: T) => string, size: number, after: string | undefined) {
  let start = 0;
  if (after !== undefined) {
    const index = items.findIndex((item) => key(item) === after);
    if (index < 0) throw invalid('Invalid token');
    start = index + 1;
  }
  const slice = items.slice(start, start + size);
  const last = slice.at(-1);
  const nextToken =
    start + size < items.length && last !== undefined
      ? Buffer.from(JSON.stringify({ a: key(last) })).toString('base64url')
      : undefined;
  return { slice, nextToken };
}

const deploymentId = (service: EcsService) =>
  `ecs-svc/${BigInt(`0x${createHash('sha256').update(service.name).digest('hex').slice(0, 15)}`).toString()}`;

function describeService(scope: { account: string; region: string }, cluster: EcsCluster, service: EcsService) {
  const taskDefinition = taskDefinitionArn(scope, service.taskDefinition);
  return {
    serviceArn: arn(scope, `service/${cluster.name}/${service.name}`),
    serviceName: service.name,
    clusterArn: clusterArn(scope, cluster),
    status: 'ACTIVE',
    desiredCount: service.desiredCount,
    runningCount: service.runningCount,
    pendingCount: service.pendingCount,
    launchType: service.launchType,
    taskDefinition,
    deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100 },
    deployments: [
      {
        id: deploymentId(service),
        status: 'PRIMARY',
        taskDefinition,
        desiredCount: service.desiredCount,
        pendingCount: service.pendingCount,
        runningCount: service.runningCount,
        failedTasks: 0,
        createdAt: seconds(service.createdAt),
        updatedAt: seconds(service.createdAt),
        launchType: service.launchType,
        rolloutState: 'COMPLETED',
        rolloutStateReason: 'ECS deployment completed.',
      },
    ],
    events: [],
    createdAt: seconds(service.createdAt),
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: 'ECS' },
    enableECSManagedTags: false,
    propagateTags: 'NONE',
    enableExecuteCommand: false,
  };
}

function describeTask(scope: { account: string; region: string }, cluster: EcsCluster, task: EcsTask) {
  const taskArn = arn(scope, `task/${cluster.name}/${task.id}`);
  const containerStatus = task.lastStatus;
  return {
    taskArn,
    clusterArn: clusterArn(scope, cluster),
    taskDefinitionArn: taskDefinitionArn(scope, task.taskDefinition),
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    launchType: task.launchType,
    group: task.service ? `service:${task.service}` : `family:${task.taskDefinition.split(':')[0]}`,
    startedBy: task.service ? deploymentIdOf(cluster, task.service) : undefined,
    version: 1,
    containers: task.containers.map((container) => ({
      containerArn: arn(
        scope,
        `container/${cluster.name}/${task.id}/${createHash('sha256').update(`${task.id}/${container.name}`).digest('hex').slice(0, 32)}`,
      ),
      taskArn,
      name: container.name,
      image: container.image,
      imageDigest: container.imageDigest,
      lastStatus: containerStatus,
    })),
    createdAt: seconds(task.createdAt),
    startedAt: seconds(task.startedAt),
    stoppedAt: seconds(task.stoppedAt),
    stopCode: task.lastStatus === 'STOPPED' ? 'ServiceSchedulerInitiated' : undefined,
  };
}

const deploymentIdOf = (cluster: EcsCluster, serviceName: string) => {
  const service = cluster.services.find((entry) => entry.name === serviceName);
  return service ? deploymentId(service) : undefined;
};

function describeTaskDefinition(scope: { account: string; region: string }, definition: EcsTaskDefinition) {
  return {
    taskDefinitionArn: taskDefinitionArn(scope, `${definition.family}:${definition.revision}`),
    family: definition.family,
    revision: definition.revision,
    status: 'ACTIVE',
    containerDefinitions: definition.containers.map((container) => ({
      name: container.name,
      image: container.image,
      cpu: 0,
      essential: true,
      portMappings: [],
      environment: [],
      mountPoints: [],
      volumesFrom: [],
    })),
    volumes: [],
    placementConstraints: [],
    compatibilities: ['EC2', 'FARGATE'],
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    registeredAt: seconds(definition.registeredAt),
  };
}

const LAUNCH_TYPES = ['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'];

export const ecsOperations: Record<string, EcsOperation> = {
  ListClusters: (input, { account, region, state }) => {
    const { size, after } = page(input, 100, 100);
    const { slice, nextToken } = pageOf(state?.clusters ?? [], (cluster) => cluster.name, size, after);
    return { clusterArns: slice.map((cluster) => clusterArn({ account, region }, cluster)), nextToken };
  },

  ListServices: (input, { account, region, state }) => {
    const { size, after } = page(input, 100, 10);
    const launchType = input.str('launchType', { enum: LAUNCH_TYPES });
    const strategy = input.str('schedulingStrategy', { enum: ['REPLICA', 'DAEMON'] });
    input.str('resourceManagementType');
    const cluster = findCluster(input, state);
    const services = cluster.services.filter(
      (service) => (launchType === undefined || service.launchType === launchType) && strategy !== 'DAEMON',
    );
    const { slice, nextToken } = pageOf(services, (service) => service.name, size, after);
    return {
      serviceArns: slice.map((service) => arn({ account, region }, `service/${cluster.name}/${service.name}`)),
      nextToken,
    };
  },

  DescribeServices: (input, { account, region, state }) => {
    const references = input.strList('services', { required: true });
    input.strList('include');
    if (references.length > 10) throw invalid('services can have at most 10 items.');
    if (references.length === 0) throw invalid('Services cannot be empty.');
    const cluster = findCluster(input, state);
    const services: unknown[] = [];
    const failures: unknown[] = [];
    for (const reference of references) {
      const name = lastSegment(reference);
      const service = cluster.services.find((entry) => entry.name === name);
      if (service) services.push(describeService({ account, region }, cluster, service));
      else failures.push({ arn: arn({ account, region }, `service/${cluster.name}/${name}`), reason: 'MISSING' });
    }
    return { services, failures };
  },

  ListTasks: (input, { account, region, state }) => {
    const { size, after } = page(input, 100, 100);
    const desiredStatus = input.str('desiredStatus', { enum: ['RUNNING', 'PENDING', 'STOPPED'] }) ?? 'RUNNING';
    const launchType = input.str('launchType', { enum: LAUNCH_TYPES });
    const family = input.str('family');
    const serviceName = input.str('serviceName');
    const startedBy = input.str('startedBy');
    const containerInstance = input.str('containerInstance');
    const cluster = findCluster(input, state);
    // ECS takes startedBy alone, and family or serviceName, not both.
    if (
      startedBy !== undefined &&
      [family, serviceName, launchType, containerInstance].some((value) => value !== undefined)
    ) {
      throw invalid('cannot specify startedBy with other arguments');
    }
    if (family !== undefined && serviceName !== undefined) {
      throw invalid('family and serviceName cannot both be specified.');
    }
    if (family !== undefined && !/^[a-zA-Z0-9\-_]+$/.test(family)) {
      throw invalid('family must match ^[a-zA-Z0-9\\-_]+$');
    }
    const service =
      serviceName === undefined ? undefined : cluster.services.find((entry) => entry.name === lastSegment(serviceName));
    if (serviceName !== undefined && !service) {
      throw new EcrException('ServiceNotFoundException', 'Service not found.');
    }
    const tasks = cluster.tasks.filter(
      (task) =>
        task.desiredStatus === desiredStatus &&
        (launchType === undefined || task.launchType === launchType) &&
        (family === undefined || task.taskDefinition.split(':')[0] === family) &&
        (service === undefined || task.service === service.name) &&
        (startedBy === undefined ||
          (task.service !== undefined && deploymentIdOf(cluster, task.service) === startedBy)) &&
        containerInstance === undefined,
    );
    const { slice, nextToken } = pageOf(tasks, (task) => task.id, size, after);
    return { taskArns: slice.map((task) => arn({ account, region }, `task/${cluster.name}/${task.id}`)), nextToken };
  },

  DescribeTasks: (input, { account, region, state }) => {
    const references = input.strList('tasks', { required: true });
    input.strList('include');
    if (references.length > 100) throw invalid('Tasks cannot have more than 100 items.');
    if (references.length === 0) throw invalid('Tasks cannot be empty.');
    const cluster = findCluster(input, state);
    const tasks: unknown[] = [];
    const failures: unknown[] = [];
    for (const reference of references) {
      const id = lastSegment(reference);
      const task = cluster.tasks.find((entry) => entry.id === id);
      if (task) tasks.push(describeTask({ account, region }, cluster, task));
      else failures.push({ arn: arn({ account, region }, `task/${cluster.name}/${id}`), reason: 'MISSING' });
    }
    return { tasks, failures };
  },

  DescribeTaskDefinition: (input, { account, region, state }) => {
    const reference = input.str('taskDefinition', { required: true });
    input.strList('include');
    // An ARN `arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>`: what follows the marker.
    const marker = reference.startsWith('arn:') ? reference.indexOf(':task-definition/') : -1;
    const familyRevision = reference.startsWith('arn:')
      ? marker < 0
        ? ''
        : reference.slice(marker + ':task-definition/'.length)
      : reference;
    const [family, revisionText, extra] = familyRevision.split(':');
    const revision = revisionText === undefined ? undefined : Number(revisionText);
    if (
      extra !== undefined ||
      !family ||
      (revision !== undefined && (!Number.isInteger(revision) || revision < 1 || String(revision) !== revisionText))
    ) {
      throw invalid(`Invalid revision number. Number: ${revisionText ?? ''}`);
    }
    const candidates = (state?.taskDefinitions ?? []).filter(
      (definition) => definition.family === family && (revision === undefined || definition.revision === revision),
    );
    const definition = candidates.sort((a, b) => b.revision - a.revision)[0];
    if (!definition) throw new EcrException('ClientException', 'Unable to describe task definition.');
    return { taskDefinition: describeTaskDefinition({ account, region }, definition), tags: [] };
  },
};
