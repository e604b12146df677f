import { createHash } from 'node:crypto';
import type { Registry, RepositoryRecord } from '../model/state.ts';
import type {
  EcsCluster,
  EcsContainer,
  EcsService,
  EcsTask,
  EcsTaskDefinition,
  LambdaFunction,
  LambdaVersion,
  TaskStatus,
} from './state.ts';

/**
 * The workloads part of a fixture (`POST /_local/load`): ECS clusters with services and tasks, task definitions, and
 * Lambda container functions with versions and aliases, in the fixture's account and region. With `resolve: true`, an
 * image reference by tag is resolved to its digest against the registry when the fixture is loaded (after the
 * fixture's own repositories), as ECS resolves a task's images when it starts and Lambda a function's image when the
 * code is deployed; a tag that resolves to nothing is an error.
 */
export interface WorkloadFixture {
  resolve?: boolean;
  ecs?: { clusters?: FixtureCluster[]; taskDefinitions?: FixtureTaskDefinition[] };
  lambda?: { functions?: FixtureFunction[] };
}

export interface FixtureTaskDefinition {
  family: string;
  /** Default: the family's next revision. */
  revision?: number;
  containers: { name: string; image: FixtureImageReference }[];
  registeredAt?: TimeSpec;
}

export interface FixtureCluster {
  name: string;
  createdAt?: TimeSpec;
  services?: {
    name: string;
    /** `family:revision` of a task definition declared in this fixture or before. */
    taskDefinition: string;
    desiredCount?: number;
    runningCount?: number;
    pendingCount?: number;
    launchType?: string;
    createdAt?: TimeSpec;
  }[];
  tasks?: {
    /** Default: a 32-digit hex id derived from the cluster and the task's position. */
    id?: string;
    /** `family:revision`; default: the service's. */
    taskDefinition?: string;
    service?: string;
    /** Default RUNNING. */
    lastStatus?: TaskStatus;
    /** Default: STOPPED for a stopped task, RUNNING otherwise. */
    desiredStatus?: 'RUNNING' | 'STOPPED';
    launchType?: string;
    /** Default: the task definition's containers (with the digests their references resolve to). */
    containers?: { name: string; image?: FixtureImageReference; imageDigest?: string }[];
    startedAt?: TimeSpec;
    stoppedAt?: TimeSpec;
  }[];
}

export interface FixtureFunction {
  name: string;
  /** The image of `$LATEST` (by tag or by digest). */
  imageUri: FixtureImageReference;
  /** `<registry>/<repository>@sha256:...`; default: `imageUri` when it is by digest, or resolved with `resolve`. */
  resolvedImageUri?: string;
  lastModified?: TimeSpec;
  /** Published versions 1, 2, ... in order; each defaults to `$LATEST`'s image. */
  versions?: { imageUri?: FixtureImageReference; resolvedImageUri?: string; lastModified?: TimeSpec }[];
  aliases?: { name: string; version: string; description?: string }[];
}

type TimeSpec = string | number;

/** Workload records one fixture may declare (clusters, services, tasks, definitions, functions, versions, aliases). */
export const MAX_FIXTURE_WORKLOADS = 100_000;

const NAME = /^[a-zA-Z0-9_-]{1,255}$/;
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const ALIAS_NAME = /^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$/;
const TASK_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const STATUSES: TaskStatus[] = ['RUNNING', 'PENDING', 'STOPPED'];
const LAUNCH_TYPE = /^(?:EC2|FARGATE|EXTERNAL)$/;
/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>` then `:tag` or `@sha256:...`. */
const ECR_REFERENCE =
  /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)(?::([\w][\w.-]{0,299})|@(sha256:[a-f0-9]{64}))$/;

export interface WorkloadContext {
  account: string;
  region: string;
  now: number;
  resolveTime: (spec: unknown, now: number) => number;
  /** A repository the fixture itself declares (not stored yet), by account, region and name. */
  pending: (account: string, region: string, name: string) => RepositoryRecord | undefined;
  /** The digest of an image the fixture itself declares, by its repository and fixture id. */
  pendingImage: (repository: string, id: string) => string | undefined;
}

/**
 * An image reference in a workload: a string (`<registry>/<repository>:<tag>` or `@sha256:...`), or an image of the
 * fixture's own repositories by its fixture id (`{ repository, id }`), which stands for that image by digest (an
 * untagged image has no other name).
 */
export type FixtureImageReference = string | { repository: string; id: string };

const fail = (message: string): never => {
  throw new Error(message);
};
const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const list = (value: unknown, what: string): Record<string, unknown>[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isObject)) fail(`${what} is a list of objects`);
  return value as Record<string, unknown>[];
};
const text = (value: unknown, what: string, pattern?: RegExp, max = 1024): string => {
  if (typeof value !== 'string' || value.length < 1 || value.length > max || (pattern && !pattern.test(value))) {
    fail(`Invalid ${what} ${JSON.stringify(value)?.slice(0, 300)}`);
  }
  return value as string;
};
const count = (value: unknown, what: string, fallback: number): number => {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_000_000) {
    fail(`Invalid ${what} ${JSON.stringify(value)}`);
  }
  return value as number;
};

/** Builds and checks the workloads of `fixture`; `commit` stores them (undefined when the fixture declares none). */
export function buildWorkloads(
  registry: Registry,
  raw: Record<string, unknown>,
  context: WorkloadContext,
): (() => { clusters: number; taskDefinitions: number; functions: number }) | undefined {
  if (raw.ecs === undefined && raw.lambda === undefined) return undefined;
  const ecs = raw.ecs ?? {};
  const lambda = raw.lambda ?? {};
  if (!isObject(ecs)) fail('ecs is an object');
  if (!isObject(lambda)) fail('lambda is an object');
  const ecsSpec = ecs as Record<string, unknown>;
  const lambdaSpec = lambda as Record<string, unknown>;
  if (raw.resolve !== undefined && typeof raw.resolve !== 'boolean') fail('resolve is true or false');
  const resolve = raw.resolve === true;
  const { account, region, now } = context;
  const time = (spec: unknown, fallback: number) => (spec === undefined ? fallback : context.resolveTime(spec, now));
  const existing = registry.workloads.existing(account, region);
  let records = 0;
  const tally = () => {
    records++;
    if (records > MAX_FIXTURE_WORKLOADS) fail(`A fixture declares at most ${MAX_FIXTURE_WORKLOADS} workload records`);
  };

  /** The digest an image reference names or resolves to (undefined: a tag, without `resolve`). */
  const digestOf = (image: string): string | undefined => {
    const match = ECR_REFERENCE.exec(image);
    const byDigest = /@(sha256:[a-f0-9]{64})$/.exec(image)?.[1];
    if (byDigest) return byDigest;
    if (!resolve) return undefined;
    if (!match)
      return fail(
        `Cannot resolve ${image}: not an ECR image reference (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>)`,
      );
    const [, refAccount, refRegion, name, tag] = match as unknown as [string, string, string, string, string];
    const repository =
      context.pending(refAccount, refRegion, name) ?? registry.existing(refAccount, refRegion)?.repositories.get(name);
    const digest = repository?.images.digestForTag(tag);
    if (!digest) return fail(`Cannot resolve ${image}: no such tag in ${refAccount}/${refRegion}`);
    return digest;
  };
  const imageReference = (value: unknown, what: string): string => {
    if (isObject(value)) {
      const repository = text(value.repository, `repository of ${what}`);
      const id = text(value.id, `fixture image id of ${what}`);
      const digest =
        context.pendingImage(repository, id) ?? fail(`${what}: the fixture declares no image ${id} in ${repository}`);
      return `${account}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}/${repository}@${digest}`;
    }
    return text(value, what, /^\S+$/, 1024);
  };

  // Task definitions first: services and tasks refer to them.
  const definitions: EcsTaskDefinition[] = [];
  const allDefinitions = () => [...(existing?.taskDefinitions ?? []), ...definitions];
  for (const spec of list(ecsSpec.taskDefinitions, 'ecs.taskDefinitions')) {
    tally();
    const family = text(spec.family, 'task definition family', NAME);
    const taken = allDefinitions().filter((definition) => definition.family === family);
    const revision =
      spec.revision === undefined
        ? Math.max(0, ...taken.map((definition) => definition.revision)) + 1
        : count(spec.revision, `revision of ${family}`, 1);
    if (revision < 1 || taken.some((definition) => definition.revision === revision)) {
      fail(`Task definition ${family}:${revision} already exists or is not a revision`);
    }
    const containers = list(spec.containers, `containers of ${family}`).map((container) => ({
      name: text(container.name, `container name of ${family}`, NAME),
      image: imageReference(container.image, `image of ${family}`),
    }));
    if (containers.length === 0) fail(`Task definition ${family} needs containers`);
    definitions.push({ family, revision, containers, registeredAt: time(spec.registeredAt, now) });
  }
  const definition = (reference: unknown, what: string) => {
    const name = text(reference, what);
    const found = allDefinitions().find((entry) => `${entry.family}:${entry.revision}` === name);
    if (!found) return fail(`${what}: no task definition ${name} (declare it as family and revision)`);
    return found;
  };

  const clusters: EcsCluster[] = [];
  for (const spec of list(ecsSpec.clusters, 'ecs.clusters')) {
    tally();
    const name = text(spec.name, 'cluster name', NAME);
    if (existing?.clusters.some((cluster) => cluster.name === name) || clusters.some((c) => c.name === name)) {
      fail(`Cluster ${name} already exists in ${account}/${region}`);
    }
    const createdAt = time(spec.createdAt, now);
    const services: EcsService[] = list(spec.services, `services of ${name}`).map((service) => {
      tally();
      const serviceName = text(service.name, `service name in ${name}`, NAME);
      const taskDefinition = definition(service.taskDefinition, `Service ${serviceName}`);
      const desiredCount = count(service.desiredCount, `desiredCount of ${serviceName}`, 1);
      return {
        name: serviceName,
        taskDefinition: `${taskDefinition.family}:${taskDefinition.revision}`,
        desiredCount,
        runningCount: count(service.runningCount, `runningCount of ${serviceName}`, desiredCount),
        pendingCount: count(service.pendingCount, `pendingCount of ${serviceName}`, 0),
        launchType:
          service.launchType === undefined
            ? 'FARGATE'
            : text(service.launchType, 'launchType', /^(EC2|FARGATE|EXTERNAL)$/),
        createdAt: time(service.createdAt, createdAt),
      };
    });
    if (new Set(services.map((service) => service.name)).size !== services.length) {
      fail(`Cluster ${name} declares a service twice`);
    }
    const tasks: EcsTask[] = list(spec.tasks, `tasks of ${name}`).map((task, index) => {
      tally();
      const service =
        task.service === undefined
          ? undefined
          : (services.find((entry) => entry.name === task.service) ??
            fail(`A task of ${name} names service ${String(task.service)}, which the cluster does not declare`));
      const taskDefinition =
        task.taskDefinition === undefined && service
          ? definition(service.taskDefinition, `Task ${index + 1} of ${name}`)
          : definition(task.taskDefinition, `Task ${index + 1} of ${name}`);
      const lastStatus = (task.lastStatus ?? 'RUNNING') as TaskStatus;
      if (!STATUSES.includes(lastStatus)) fail(`Invalid lastStatus ${JSON.stringify(task.lastStatus)}`);
      const desiredStatus = (task.desiredStatus ?? (lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING')) as
        | 'RUNNING'
        | 'STOPPED';
      if (desiredStatus !== 'RUNNING' && desiredStatus !== 'STOPPED') {
        fail(`Invalid desiredStatus ${JSON.stringify(task.desiredStatus)}`);
      }
      const containers: EcsContainer[] =
        task.containers === undefined
          ? taskDefinition.containers.map((container) => ({ ...container, imageDigest: digestOf(container.image) }))
          : list(task.containers, `containers of task ${index + 1} of ${name}`).map((container) => {
              const containerName = text(container.name, 'container name', NAME);
              const image =
                container.image === undefined
                  ? (taskDefinition.containers.find((entry) => entry.name === containerName)?.image ??
                    fail(`Container ${containerName} has no image`))
                  : imageReference(container.image, `image of ${containerName}`);
              const imageDigest =
                container.imageDigest === undefined
                  ? digestOf(image)
                  : text(container.imageDigest, `imageDigest of ${containerName}`, DIGEST);
              return { name: containerName, image, imageDigest };
            });
      const id =
        task.id === undefined
          ? createHash('sha256').update(`${account}/${region}/${name}/${index}`).digest('hex').slice(0, 32)
          : text(task.id, 'task id', TASK_ID);
      const started = lastStatus === 'PENDING' ? undefined : time(task.startedAt, createdAt);
      return {
        id,
        taskDefinition: `${taskDefinition.family}:${taskDefinition.revision}`,
        service: service?.name,
        lastStatus,
        desiredStatus,
        launchType:
          task.launchType === undefined
            ? (service?.launchType ?? 'FARGATE')
            : text(task.launchType, 'launchType', LAUNCH_TYPE),
        containers,
        createdAt: started ?? createdAt,
        startedAt: started,
        stoppedAt: lastStatus === 'STOPPED' ? time(task.stoppedAt, now) : undefined,
      };
    });
    if (new Set(tasks.map((task) => task.id)).size !== tasks.length) fail(`Cluster ${name} declares a task id twice`);
    clusters.push({ name, createdAt, services, tasks });
  }

  const functions: LambdaFunction[] = [];
  for (const spec of list(lambdaSpec.functions, 'lambda.functions')) {
    tally();
    const name = text(spec.name, 'function name', FUNCTION_NAME);
    if (existing?.functions.some((fn) => fn.name === name) || functions.some((fn) => fn.name === name)) {
      fail(`Function ${name} already exists in ${account}/${region}`);
    }
    const version = (
      label: string,
      imageUri: string,
      resolved: unknown,
      lastModified: unknown,
      fallbackResolved?: string,
    ): LambdaVersion => {
      let resolvedImageUri: string;
      if (resolved !== undefined) {
        resolvedImageUri = text(resolved, `resolvedImageUri of ${name}`, /^\S+@sha256:[a-f0-9]{64}$/);
      } else if (fallbackResolved !== undefined) {
        resolvedImageUri = fallbackResolved;
      } else {
        const digest =
          digestOf(imageUri) ?? fail(`Function ${name}: ${imageUri} is by tag; give resolvedImageUri or resolve: true`);
        resolvedImageUri = `${imageUri.replace(/@sha256:[a-f0-9]{64}$/, '').replace(/:[\w][\w.-]*$/, '')}@${digest}`;
      }
      return { version: label, imageUri, resolvedImageUri, lastModified: time(lastModified, now) };
    };
    const imageUri = imageReference(spec.imageUri, `imageUri of ${name}`);
    const latest = version('$LATEST', imageUri, spec.resolvedImageUri, spec.lastModified);
    const versions = [latest];
    list(spec.versions, `versions of ${name}`).forEach((entry, index) => {
      tally();
      const uri = entry.imageUri === undefined ? imageUri : imageReference(entry.imageUri, `imageUri of ${name}`);
      versions.push(
        version(
          String(index + 1),
          uri,
          entry.resolvedImageUri,
          entry.lastModified,
          entry.imageUri === undefined && entry.resolvedImageUri === undefined ? latest.resolvedImageUri : undefined,
        ),
      );
    });
    const aliases = list(spec.aliases, `aliases of ${name}`).map((alias) => {
      tally();
      const aliasName = text(alias.name, `alias name of ${name}`, ALIAS_NAME);
      const target = text(alias.version, `version of alias ${aliasName}`);
      if (!versions.some((entry) => entry.version === target)) {
        fail(`Alias ${aliasName} of ${name} points at version ${target}, which the function does not have`);
      }
      return {
        name: aliasName,
        version: target,
        description:
          alias.description === undefined ? '' : text(alias.description, 'alias description', undefined, 256),
      };
    });
    if (new Set(aliases.map((alias) => alias.name)).size !== aliases.length)
      fail(`Function ${name} has an alias twice`);
    functions.push({ name, versions, aliases });
  }

  return () => {
    const state = registry.workloads.state(account, region);
    state.taskDefinitions.push(...definitions);
    state.clusters.push(...clusters);
    state.functions.push(...functions);
    return { clusters: clusters.length, taskDefinitions: definitions.length, functions: functions.length };
  };
}
