import { createHash } from 'node:crypto';
import { ImageStore } from '../model/image-store.ts';
import type { RepositoryRecord } from '../model/repository-record.ts';

/**
 * The state of ECR Public ([M-ECRPUB]): one public registry per account, global (its API is served in us-east-1
 * only), apart from the private registries of `model/state.ts`.
 */

/** The one region whose endpoint serves the ECR Public API. */
export const PUBLIC_REGION = 'us-east-1';
/** The host of every public registry's URI (`public.ecr.aws/<alias>`). */
export const PUBLIC_REGISTRY_HOST = 'public.ecr.aws';

/** A repository's catalog data as stored (the logo as its PNG bytes). */
export interface PublicCatalogRecord {
  description?: string;
  architectures?: string[];
  operatingSystems?: string[];
  logo?: Buffer;
  aboutText?: string;
  usageText?: string;
  /** Bumped on every change of the logo, so that its URL changes as a CDN's would. */
  logoVersion: number;
}

export interface PublicRepositoryRecord {
  name: string;
  /** Creation order (the listing order of DescribeRepositories). */
  seq: number;
  createdAt: number;
  /** Undefined until catalog data is given (then GetRepositoryCatalogData answers it). */
  catalog: PublicCatalogRecord | undefined;
  policyText: string | undefined;
  tags: Map<string, string>;
  /**
   * The repository's images and the blobs it may use, in the private repositories' record shape, so that the image
   * store, the blob links and the registry API (`/v2/`) serve both alike: always MUTABLE (ECR Public has no tag
   * immutability), no scanning, no encryption setting of its own.
   */
  readonly content: RepositoryRecord;
  /** When each tag was last put on an image (DescribeImageTags' `createdAt`), epoch ms. */
  readonly tagTimes: Map<string, number>;
}

/** The record holding a public repository's images and blobs (see `PublicRepositoryRecord.content`). */
export function newPublicContent(
  state: PublicRegistryState,
  name: string,
  createdAt: number,
  seq: number,
): RepositoryRecord {
  return {
    name,
    registryId: state.account,
    arn: state.repositoryArn(name),
    uri: state.repositoryUri(name),
    createdAt,
    seq,
    imageTagMutability: 'MUTABLE',
    imageTagMutabilityExclusionFilters: [],
    scanOnPush: false,
    encryption: { encryptionType: 'AES256' },
    tags: new Map(),
    images: new ImageStore(),
    layers: new Map(),
  };
}

/**
 * An account's default registry alias: ECR Public draws a random one (a letter and seven letters or digits) when
 * the registry is created; here it is derived from the account id, so that it stays the same across restarts.
 */
export function defaultRegistryAlias(account: string): string {
  const digest = createHash('sha256').update(`ecr-public-alias:${account}`).digest();
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const alphabet = `${letters}0123456789`;
  let alias = letters[(digest[0] as number) % letters.length] as string;
  for (let i = 1; i < 8; i++) alias += alphabet[(digest[i] as number) % alphabet.length];
  return alias;
}

export class PublicRegistryState {
  readonly alias: string;
  displayName = '';
  readonly repositories = new Map<string, PublicRepositoryRecord>();
  private nextSeq = 1;

  constructor(readonly account: string) {
    this.alias = defaultRegistryAlias(account);
  }

  allocateSeq(): number {
    return this.nextSeq++;
  }

  /** The creation number the next repository gets (kept by a snapshot). */
  get seqToCome(): number {
    return this.nextSeq;
  }

  resumeSeq(seq: number): void {
    this.nextSeq = Math.max(this.nextSeq, seq);
  }

  get registryArn(): string {
    return `arn:aws:ecr-public::${this.account}:registry/${this.account}`;
  }

  get registryUri(): string {
    return `${PUBLIC_REGISTRY_HOST}/${this.alias}`;
  }

  repositoryArn(name: string): string {
    return `arn:aws:ecr-public::${this.account}:repository/${name}`;
  }

  repositoryUri(name: string): string {
    return `${this.registryUri}/${name}`;
  }

  /** Whether it holds nothing a request made (then it is not kept). */
  get pristine(): boolean {
    return this.repositories.size === 0 && this.displayName === '';
  }
}

/**
 * Every account's public registry. As for private registries, one is kept only once a request leaves something in
 * it (a read sees an empty one), and at most `maxAccounts` accounts hold one.
 */
export class PublicRegistries {
  private readonly states = new Map<string, PublicRegistryState>();

  constructor(
    private readonly maxAccounts: number,
    /** The error past `maxAccounts` (the private registries' own, so that the server answers both alike). */
    private readonly limitError: (account: string) => Error,
  ) {}

  existing(account: string): PublicRegistryState | undefined {
    return this.states.get(account);
  }

  /** The registry of `account`, created when absent; throws `limitError` past `maxAccounts`. */
  state(account: string): PublicRegistryState {
    const existing = this.states.get(account);
    if (existing) return existing;
    if (this.states.size >= this.maxAccounts) throw this.limitError(account);
    const state = new PublicRegistryState(account);
    this.states.set(account, state);
    return state;
  }

  canHold(account: string): boolean {
    return this.states.has(account) || this.states.size < this.maxAccounts;
  }

  release(state: PublicRegistryState): void {
    if (this.states.get(state.account) === state && state.pristine) this.states.delete(state.account);
  }

  get size(): number {
    return this.states.size;
  }

  all(): IterableIterator<PublicRegistryState> {
    return this.states.values();
  }

  reset(): void {
    this.states.clear();
  }
}
