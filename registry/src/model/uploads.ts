import type { BlobStore, BlobUpload } from './blob-store.ts';

/**
 * Blob uploads in progress, shared by ECR's layer API (`InitiateLayerUpload` … `CompleteLayerUpload`) and the
 * `/v2/` upload API, as both lead to the same blobs. An upload belongs to one repository of one account and region;
 * one not touched for `ttlMs` of registry time expires (its bytes are discarded), and at most `maxSessions` are open
 * at once, so abandoned uploads cannot fill memory or disk.
 */

/** How long an upload may stay untouched before it expires (registry time). */
export const UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;
/** Uploads open at once across the registry. */
export const MAX_UPLOAD_SESSIONS = 1_000;

export interface UploadOwner {
  account: string;
  region: string;
  repositoryName: string;
}

export interface UploadSession extends UploadOwner {
  readonly id: string;
  readonly upload: BlobUpload;
  readonly startedAt: number;
  touchedAt: number;
}

/** Thrown by `UploadSessions.start` when `MAX_UPLOAD_SESSIONS` are open. */
export class TooManyUploadsError extends Error {}

export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(
    private readonly blobs: BlobStore,
    readonly ttlMs = UPLOAD_TTL_MS,
    readonly maxSessions = MAX_UPLOAD_SESSIONS,
  ) {}

  /** Opens an upload for `owner`; `maxBytes` bounds its size. */
  start(owner: UploadOwner, now: number, maxBytes?: number): UploadSession {
    this.sweep(now);
    if (this.sessions.size >= this.maxSessions) {
      throw new TooManyUploadsError(`At most ${this.maxSessions} uploads may be in progress at once`);
    }
    const upload = this.blobs.startUpload(maxBytes);
    const id = upload.file.slice(upload.file.lastIndexOf('/') + 1);
    const session: UploadSession = { ...owner, id, upload, startedAt: now, touchedAt: now };
    this.sessions.set(id, session);
    return session;
  }

  /** The open upload `id` of `owner` (refreshing its expiry), or undefined when unknown, expired or someone else's. */
  get(id: string, owner: UploadOwner, now: number): UploadSession | undefined {
    this.sweep(now);
    const session = this.sessions.get(id);
    if (
      !session ||
      session.account !== owner.account ||
      session.region !== owner.region ||
      session.repositoryName !== owner.repositoryName
    ) {
      return undefined;
    }
    session.touchedAt = now;
    return session;
  }

  /** Forgets an upload that was committed or cancelled (cancelling discards its bytes). */
  async end(id: string, options: { discard: boolean }): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    if (options.discard) await session.upload.abort();
  }

  /** Discards uploads untouched for `ttlMs`. */
  sweep(now: number): void {
    for (const [id, session] of this.sessions) {
      if (now - session.touchedAt >= this.ttlMs) {
        this.sessions.delete(id);
        void session.upload.abort();
      }
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Discards every upload (registry reset). */
  clear(): void {
    for (const session of this.sessions.values()) void session.upload.abort();
    this.sessions.clear();
  }
}
