import type { Registry, RegistryState } from '../model/state.ts';

/** An event the emulated ECR service emits (`source: aws.ecr`), in the account and region of the request. */
export interface EmittedEvent {
  detailType: string;
  detail: Record<string, unknown>;
  resources?: string[];
}

export interface OpSettings {
  /** How long a started scan, or lifecycle policy preview, stays IN_PROGRESS before it completes (ms of real time). */
  scanDurationMs: number;
  /** How long a restore from the archive (UpdateImageStorageClass STANDARD) stays ACTIVATING, in registry time (ms). */
  restoreDurationMs: number;
  /** The registry's own address (`http://127.0.0.1:<port>`), known once it listens: GetAuthorizationToken's proxyEndpoint. */
  endpoint: string;
  /**
   * The key that signs GetDownloadUrlForLayer's URLs (HMAC-SHA256): drawn when the server starts, so a URL is
   * refused after a restart, unless whoever starts the server supplies a lasting one.
   */
  layerUrlKey: Buffer;
}

/** What an operation sees of the request and the registry. */
export interface OpContext {
  readonly operation: string;
  readonly account: string;
  readonly region: string;
  /** The access key that signed the request: the local registry has no IAM, so this names the caller. */
  readonly accessKeyId: string;
  /** The state of the request's account and region. */
  readonly state: RegistryState;
  /** All accounts and regions (replication status, registryId of another account). */
  readonly registry: Registry;
  readonly settings: OpSettings;
  /** The registry clock, epoch ms (the control API can move it). */
  now(): number;
  emit(event: EmittedEvent): void;
  /**
   * Runs `task` after `delayMs` of real time, unless the registry is reset or closed first. With a data directory,
   * tasks are numbered in the order they are scheduled and journalled when they run, and the replay schedules them
   * again through the operations it replays: only an operation replayed by name (`change` in
   * `ecrOperationJournalling`) may schedule one.
   */
  later(delayMs: number, task: () => void): void;
  /**
   * Records a change that the operation's own input cannot replay (a layer upload completed, an image pushed over
   * `/v2/`), so that a registry with a data directory has it after a restart. A no-op without one. `op` names a
   * member of `replayOperations` (ops/index.ts), which is run with `input` on replay.
   */
  journal(op: string, input: Record<string, unknown>): void;
}

export type Operation = (input: Record<string, unknown>, ctx: OpContext) => unknown | Promise<unknown>;
export type OperationTable = Record<string, Operation>;
