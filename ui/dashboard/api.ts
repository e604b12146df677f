/** The dashboard's JSON API (local/dashboard/), as the page reads it. */

export const BASE = '/_dashboard/api/';

import type { GraphModel } from '../../shared/pictures/model.ts';

export type { GraphModel };

/** The newest cleanup report's decision on an image, with its reason in words. */
export interface Decision {
  action: 'delete' | 'archive' | 'keep';
  reason: { code: string; [key: string]: unknown };
  reasonText: string;
  cost?: string;
}

export interface ImageNode {
  seq?: number;
  digest: string;
  tags: string[];
  kind: 'index' | 'image' | 'referrer';
  mediaType: string;
  artifactType?: string;
  sizeInBytes: number;
  pushedAt: string;
  lastPulledAt?: string;
  status: string;
  children: string[];
  parents: string[];
  subject?: string;
  referrers: string[];
  scanStatus?: string;
  decision?: Decision;
}

export interface Repository {
  name: string;
  images: number;
  tags: number;
  tagMutability: string;
  scanOnPush: boolean;
  cleanup?: { status: string; dryRun: boolean; toDelete: number; bytesReclaimed: number };
}

export interface Registry {
  account: string;
  region: string;
  own: boolean;
  repositories: number;
}

export interface FeedEvent {
  seq: number;
  id: string;
  time: string;
  source: string;
  detailType: string;
  account: string;
  region: string;
  detail?: Record<string, unknown>;
  truncated?: true;
}

export interface Job {
  rule: string;
  title: string;
  dryRun: string;
  running: boolean;
}

export interface JobRun {
  job: string;
  dryRun: true;
  ok: boolean;
  attempts: number;
  error?: string;
  result?: unknown;
}

export async function getJson<T>(route: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value));
  const text = query.toString();
  const response = await fetch(`${BASE}${route}${text ? `?${text}` : ''}`, { headers: { accept: 'application/json' } });
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
  return body;
}

/** Fires a job in dry run: the header marks the request as the page's own (the server refuses any other). */
export async function fireJob(rule: string): Promise<JobRun> {
  const response = await fetch(`${BASE}jobs/${encodeURIComponent(rule)}`, {
    method: 'POST',
    headers: { 'x-dashboard-action': 'dry-run' },
  });
  const body = (await response.json()) as JobRun & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
  return body;
}
