import type { EventBus } from '../bus/event-bus.ts';
import type { LocalTopics } from '../bus/sns.ts';
import type { Faults } from '../control/faults.ts';
import type { Registry } from '../model/state.ts';
import type { PublicRegistries } from '../public/state.ts';

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
  close(): Promise<void>;
}
