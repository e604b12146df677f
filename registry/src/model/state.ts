/**
 * In-memory state of the local registry: one `RegistryState` per account and region, as ECR keeps them apart.
 * Times are epoch milliseconds inside the registry; the wire layer turns them into epoch seconds.
 */

import { Identity } from '../identity/state.ts';
import { PublicRegistries } from '../public/state.ts';
import { ObjectStorage } from '../storage/state.ts';
import { Workloads } from '../workloads/state.ts';
import type { BlobStore } from './blob-store.ts';
import type { FindingsSet } from './image-store.ts';
import type { RepositoryRecord } from './repository-record.ts';
import { UploadSessions } from './uploads.ts';

export {
  type FindingsSet,
  type ImageScan,
  type ImageStatus,
  ImageStore,
  type StoredImage,
} from './image-store.ts';
export type {
  ExclusionFilter,
  LifecyclePreviewItem,
  LifecyclePreviewRecord,
  RepositoryRecord,
  StoredTagMutability,
} from './repository-record.ts';

export const DEFAULT_ACCOUNT = '123456789012';
export const DEFAULT_REGION = 'us-east-1';

/**
 * The regions a request may name in its credential scope: the commercial (`aws`), China (`aws-cn`) and GovCloud
 * (`aws-us-gov`) partitions, as the AWS SDK's partition table lists them (its `partitions.js`, 2026). Any other
 * region would have no ECR endpoint, so the registry refuses it rather than keeping state for it.
 */
export const ECR_REGIONS: ReadonlySet<string> = new Set([
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'me-west-1',
  'mx-central-1',
  'sa-east-1',
  'sa-west-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'cn-north-1',
  'cn-northwest-1',
  'us-gov-east-1',
  'us-gov-west-1',
]);

/**
 * Accounts the registry keeps state for at once (each with any of the regions above). A request that would create
 * state for one more account fails with `LimitExceededException`; `POST /_local/reset` frees them all.
 */
export const MAX_ACCOUNTS = 100;

export interface StoredScanningRule {
  scanFrequency: 'SCAN_ON_PUSH' | 'CONTINUOUS_SCAN' | 'MANUAL';
  repositoryFilters: { filter: string; filterType: 'WILDCARD' }[];
}

export interface StoredReplicationRule {
  destinations: { region: string; registryId: string }[];
  repositoryFilters?: { filter: string; filterType: 'PREFIX_MATCH' }[];
}

/** Wire-shaped records (members as ECR returns them, times in epoch ms). */
export type StoredPullThroughCacheRule = Record<string, unknown> & { ecrRepositoryPrefix: string };
export type StoredCreationTemplate = Record<string, unknown> & { prefix: string };

export class RegistryState {
  readonly repositories = new Map<string, RepositoryRecord>();
  private nextRepositorySeq = 1;
  scanning: { scanType: 'BASIC' | 'ENHANCED'; rules: StoredScanningRule[] } = { scanType: 'BASIC', rules: [] };
  replication: { rules: StoredReplicationRule[] } = { rules: [] };
  readonly pullThroughCacheRules = new Map<string, StoredPullThroughCacheRule>();
  readonly creationTemplates = new Map<string, StoredCreationTemplate>();
  registryPolicyText?: string;
  /** Basic scans started per UTC day (account quota 100,000 / 24 h). */
  readonly scansPerDay = new Map<string, number>();
  /**
   * Findings the control API attached to a digest before it was pushed (`<repository>@<digest>` → findings): the
   * push picks them up, so that a scan on push reports them (demos and tests of push → scan → verdict).
   */
  readonly pendingFindings = new Map<string, FindingsSet>();
  /** IAM principal ARN → when it was excluded from pull-time updates (epoch ms). */
  readonly pullTimeExclusions = new Map<string, number>();

  constructor(
    readonly account: string,
    readonly region: string,
  ) {}

  allocateRepositorySeq(): number {
    return this.nextRepositorySeq++;
  }

  /** The seq the next repository will get (a snapshot of the state keeps it). */
  get repositorySeqToCome(): number {
    return this.nextRepositorySeq;
  }

  /** Makes `seq` the seq of the next repository (restoring a snapshot). Never goes back. */
  resumeRepositorySeq(seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < this.nextRepositorySeq) {
      throw new Error(`invariant: repository seq ${seq} goes back`);
    }
    this.nextRepositorySeq = seq;
  }

  repositoryArn(name: string): string {
    return `arn:aws:ecr:${this.region}:${this.account}:repository/${name}`;
  }

  repositoryUri(name: string): string {
    return `${this.account}.dkr.ecr.${this.region}.amazonaws.com/${name}`;
  }
}

/** Thrown when state would be created for one account more than `MAX_ACCOUNTS` (the server answers it as ECR's `LimitExceededException`). */
export class AccountLimitError extends Error {
  constructor(readonly account: string) {
    super(
      `The local registry keeps state for at most ${MAX_ACCOUNTS} accounts; account ${account} would be one more (POST /_local/reset frees them)`,
    );
  }
}

/**
 * Every account and region that holds state. State is created only by `state()` (a request that succeeded and
 * changed something, a fixture, a replication): reads of an account or region with no state see an empty registry
 * (`peek`) and create nothing.
 */
export class Registry {
  /** Blob uploads in progress (ECR's layer API and `/v2/`). */
  readonly uploads: UploadSessions;

  /** Every account's ECR Public registry (global: not per region). */
  readonly publicRegistries = new PublicRegistries(MAX_ACCOUNTS, (account) => new AccountLimitError(account));

  /** What runs in each account and region (ECS and Lambda), as fixtures declare it. */
  readonly workloads = new Workloads();

  /** IAM roles, STS sessions and the AWS Organizations tree (global: not per account or region). */
  readonly identity = new Identity();

  /** Amazon S3's buckets and objects (global: a bucket name is unique across accounts). */
  readonly storage = new ObjectStorage();

  constructor(
    /** Layer and config content, on disk, shared by every account and region. */
    readonly blobs: BlobStore,
  ) {
    this.uploads = new UploadSessions(blobs);
  }

  private readonly states = new Map<string, RegistryState>();
  /** account → how many regions of it hold state */
  private readonly accounts = new Map<string, number>();

  /** The state of an account and region, created when absent; throws `AccountLimitError` past `MAX_ACCOUNTS`. */
  state(account: string, region: string): RegistryState {
    const key = `${account}/${region}`;
    const existing = this.states.get(key);
    if (existing) return existing;
    if (!this.accounts.has(account) && this.accounts.size >= MAX_ACCOUNTS) throw new AccountLimitError(account);
    const state = new RegistryState(account, region);
    this.states.set(key, state);
    this.accounts.set(account, (this.accounts.get(account) ?? 0) + 1);
    return state;
  }

  /** Whether `state()` could create (or return) the state of this account without passing the account limit. */
  canHold(account: string): boolean {
    return this.accounts.has(account) || this.accounts.size < MAX_ACCOUNTS;
  }

  /** The state of an account and region, or a fresh detached one (not kept) when it holds none. */
  peek(account: string, region: string): RegistryState {
    return this.states.get(`${account}/${region}`) ?? new RegistryState(account, region);
  }

  /** Forgets a state (a request's state that ended up holding nothing). */
  release(state: RegistryState): void {
    const key = `${state.account}/${state.region}`;
    if (this.states.get(key) !== state) return;
    this.states.delete(key);
    const regions = (this.accounts.get(state.account) ?? 1) - 1;
    if (regions > 0) this.accounts.set(state.account, regions);
    else this.accounts.delete(state.account);
  }

  /** How many account/region states are held. */
  get size(): number {
    return this.states.size;
  }

  existing(account: string, region: string): RegistryState | undefined {
    return this.states.get(`${account}/${region}`);
  }

  all(): IterableIterator<RegistryState> {
    return this.states.values();
  }

  reset(): void {
    this.publicRegistries.reset();
    this.workloads.reset();
    this.identity.reset();
    this.storage.reset();
    this.uploads.clear();
    this.states.clear();
    this.accounts.clear();
  }
}
