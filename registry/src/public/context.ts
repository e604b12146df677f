import type { Registry } from '../model/state.ts';
import type { PublicRegistryState } from './state.ts';

/** What an ECR Public operation sees of the request and the registry. */
export interface PublicOpContext {
  account: string;
  accessKeyId: string;
  /** The caller's public registry (held or detached, see the server). */
  state: PublicRegistryState;
  now: () => number;
  /** The registry's own address (for logo URLs). */
  endpoint: string;
  /** The whole registry: its blob store and uploads in progress, shared with the private registries. */
  registry: Registry;
  /**
   * Records a change that the operation's own input cannot replay (a layer upload completed, a manifest pushed over
   * `/v2/`), as a `pub` journal record replayed with `op` (a member of `publicOperations` or `publicReplays`) and
   * `input`. A no-op without a data directory.
   */
  journal(op: string, input: Record<string, unknown>): void;
}

export type PublicOperation = (input: Record<string, unknown>, ctx: PublicOpContext) => unknown | Promise<unknown>;
