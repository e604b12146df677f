import type { Registry, RegistryState, RepositoryRecord, StoredImage } from '../model/state.ts';
import type { UploadOwner } from '../model/uploads.ts';
import type { OpContext } from '../ops/context.ts';
import type { PushedManifest } from '../ops/distribution.ts';
import type { StoreImageRequest } from '../ops/image-push.ts';
import type { PublicOpContext } from '../public/context.ts';
import type { PublicRegistryState } from '../public/state.ts';
import type { RequestScope } from './sigv4.ts';

/** What the registry API (wire/distribution.ts, wire/public-distribution.ts) needs of the server, and works on. */

/** What the registry API needs of the server. */
export interface DistributionHost {
  readonly registry: Registry;
  /** The registry's own address (`http://127.0.0.1:<port>`), the realm of the login challenge. */
  readonly endpoint: () => string;
  now(): number;
  /** An operation context for a request of `scope` in `state` (events, journal, clock). */
  context(operation: string, scope: RequestScope, state: RegistryState): OpContext;
  /**
   * Counts a request (`GET /_local/calls`, as `v2:<METHOD>:<route>` for a private registry's, e.g. `v2:GET:blob`,
   * `v2public:<METHOD>:<route>` for a public one's and the token endpoint's) and decides its injected fault
   * (`POST /_local/faults` with that name as `operation`): latency, or a failure.
   */
  call(name: string): Promise<'throttle' | 'server' | undefined>;
  /** The public registry whose alias is `alias`, when one is kept. */
  publicRegistry(alias: string): PublicRegistryState | undefined;
  /**
   * An ECR Public operation context in `state` for a request of `identity` (its changes journalled as `pub`
   * records, at the registry time the request started).
   */
  publicContext(state: PublicRegistryState, identity: PublicIdentity): PublicOpContext;
}

/** Who a request without a private login is, on a public repository's path. */
export interface PublicIdentity {
  /** The account of its ECR Public login; undefined when anonymous (it may pull only). */
  account: string | undefined;
  accessKeyId: string;
}

/**
 * The registry a `/v2/` request works on, by the name in its path: a private registry (an account and region), or a
 * public registry (`<alias>/<name>`). Its changes are journalled.
 */
export interface V2Target {
  /** The account whose registry it is. */
  readonly account: string;
  readonly registry: Registry;
  now(): number;
  /** The repository a path's name addresses, undefined when there is none. */
  find(name: string): RepositoryRecord | undefined;
  /** The repository a push to `name` goes to (a private one may be created on push), undefined when there is none. */
  forPush(name: string): RepositoryRecord | undefined;
  /** Pushes a manifest to `name` (an `EcrException` of PutImage when refused). */
  push(name: string, request: StoreImageRequest): PushedManifest;
  /** Records a manifest pull (a public repository records none). */
  pulled(name: string, image: StoredImage): void;
  /** Makes a stored blob usable by `name`. */
  link(name: string, digest: string, size: number): void;
  /** Mounts `digest` from repository `from` into `name`: false when it cannot (the client then uploads it). */
  mount(name: string, from: string, digest: string): boolean;
  /** Deletes an image by digest; absent when the registry deletes no manifest over `/v2/`. */
  readonly deleteImage?: (name: string, digest: string) => Promise<void>;
  /** The owner of `name`'s uploads. */
  uploadOwner(name: string): UploadOwner;
}
