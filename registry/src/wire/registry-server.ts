import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventBus } from '../bus/event-bus.ts';
import type { LocalTopics } from '../bus/sns.ts';
import type { Faults } from '../control/faults.ts';
import type { Registry } from '../model/state.ts';
import type { PublicRegistries } from '../public/state.ts';

/**
 * What serves the requests under a mounted path prefix (`mount`): it answers every request it is given, after the
 * server's loopback checks (`Host`, `Origin`), with nothing of the request read yet.
 */
export type MountedHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** A running local registry: what the control API, the local wiring and the tests hold on to. */
export interface RegistryServer {
  readonly url: string;
  readonly port: number;
  readonly registry: Registry;
  /** Every account's ECR Public registry (not kept by a data directory yet). */
  readonly publicRegistries: PublicRegistries;
  readonly bus: EventBus;
  readonly faults: Faults;
  /** Calls served per ECR or EventBridge operation since start or the last reset. */
  readonly calls: Map<string, number>;
  /** SNS topics and the messages published to them, newest kept (not kept by a data directory). */
  readonly topics: LocalTopics;
  /** The data directory the registry keeps its state in, and how its journal was replayed at start. */
  readonly dataDir?: { path: string; replayedRecords: number; replayMs: number };
  /** The registry clock: real time plus an offset the control API can move. */
  now(): number;
  advanceClock(ms: number): void;
  reset(): void;
  /**
   * Serves every request whose path starts with `prefix` (`/_<name>/`: an underscore name no ECR, S3 or registry API
   * route has; `/_local/` is the control API's) with `handler`, after the same loopback checks as every request.
   * Throws when the prefix is not of that form or is mounted already.
   */
  mount(prefix: string, handler: MountedHandler): void;
  close(): Promise<void>;
}
