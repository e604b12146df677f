import { createHash } from 'node:crypto';
import type { ImageRecord } from '../../shared/domain/image.ts';

export const NOW = Date.parse('2026-11-24T03:00:00Z');
export const DAY = 86_400_000;
export const MINUTE = 60_000;

export const digestOf = (name: string) => `sha256:${createHash('sha256').update(name).digest('hex')}`;

export const INDEX = 'application/vnd.oci.image.index.v1+json';
export const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** An image record for policy tests: by default untagged, pushed 100 days ago, never pulled, 10 MB. */
export function image(
  name: string,
  overrides: Partial<Omit<ImageRecord, 'childDigests'>> & {
    children?: string[];
    ageDays?: number;
    pulledDaysAgo?: number;
  } = {},
): ImageRecord {
  const { children, ageDays, pulledDaysAgo, ...rest } = overrides;
  return {
    digest: digestOf(name),
    tags: [],
    pushedAt: NOW - (ageDays ?? 100) * DAY,
    ...(pulledDaysAgo === undefined ? {} : { lastPulledAt: NOW - pulledDaysAgo * DAY }),
    sizeInBytes: 10_000_000,
    manifestMediaType: children ? INDEX : MANIFEST,
    ...(children ? { childDigests: children.map(digestOf) } : {}),
    ...rest,
  };
}
