/**
 * What runs in an account and region, as ECS and Lambda describe it to the in-use protection providers: clusters with
 * their services and tasks, task definitions, and Lambda container functions with their versions and aliases. It is
 * declared by fixtures (`POST /_local/load`), never by the ECS or Lambda operations (which only read it), and is kept
 * apart from ECR's state. Every record is plain JSON, so that a snapshot writes it as it is.
 */

export type TaskStatus = 'RUNNING' | 'PENDING' | 'STOPPED';

export interface EcsContainer {
  name: string;
  /** The image reference as the task definition gave it (by tag or by digest). */
  image: string;
  /** The digest ECS resolved the reference to when the task started (absent when it did not). */
  imageDigest?: string;
}

export interface EcsTask {
  id: string;
  /** `family:revision`. */
  taskDefinition: string;
  /** The service that started it, if any (its group is `service:<name>`). */
  service?: string;
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  launchType: string;
  containers: EcsContainer[];
  createdAt: number;
  startedAt?: number;
  stoppedAt?: number;
}

export interface EcsService {
  name: string;
  /** `family:revision`. */
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  launchType: string;
  createdAt: number;
}

export interface EcsCluster {
  name: string;
  createdAt: number;
  services: EcsService[];
  tasks: EcsTask[];
}

export interface EcsTaskDefinition {
  family: string;
  revision: number;
  containers: EcsContainer[];
  registeredAt: number;
}

export interface LambdaVersion {
  /** `$LATEST` or a number. */
  version: string;
  imageUri: string;
  /** `<registry>/<repository>@sha256:...`. */
  resolvedImageUri: string;
  lastModified: number;
}

export interface LambdaAlias {
  name: string;
  version: string;
  description: string;
}

export interface LambdaFunction {
  name: string;
  /** `$LATEST` first, then the published versions in order. */
  versions: LambdaVersion[];
  aliases: LambdaAlias[];
}

export interface WorkloadState {
  account: string;
  region: string;
  clusters: EcsCluster[];
  taskDefinitions: EcsTaskDefinition[];
  functions: LambdaFunction[];
}

/** The workloads of every account and region. */
export class Workloads {
  private readonly states = new Map<string, WorkloadState>();

  existing(account: string, region: string): WorkloadState | undefined {
    return this.states.get(`${account}/${region}`);
  }

  state(account: string, region: string): WorkloadState {
    const key = `${account}/${region}`;
    let state = this.states.get(key);
    if (!state) {
      state = { account, region, clusters: [], taskDefinitions: [], functions: [] };
      this.states.set(key, state);
    }
    return state;
  }

  all(): IterableIterator<WorkloadState> {
    return this.states.values();
  }

  /** Puts back a state a snapshot wrote. */
  restore(state: WorkloadState): void {
    this.states.set(`${state.account}/${state.region}`, state);
  }

  reset(): void {
    this.states.clear();
  }
}

/** The partition of a region's ARNs. */
export const partitionOf = (region: string) =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
