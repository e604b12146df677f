import type { CleanupPlan, Decision } from '../../shared/policy/cleanup/plan.ts';
import type { ImageChange } from './snapshot.ts';

/** How the CLI prints digests, sizes, ages, reasons, changes and tables for people (`--json` is for machines). */

/** Hex digits of a digest shown in tables: 12, like `docker images`, unique in any real repository. */
const SHORT_DIGEST_HEX = 12;
/** Tags longer than this are shortened in tables (cosign's `sha256-<64 hex>.sig` tags would fill a line). */
const TAG_WIDTH = 28;
/** A table shows at most this many tags per image, then `+N`. */
const TAGS_SHOWN = 3;

export const shortDigest = (digest: string): string => {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest : digest.slice(0, colon + 1 + SHORT_DIGEST_HEX);
};

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `90d ago`, `6h ago`, `12m ago`, `just now`; `in 5m` for a time after `now` (clock skew). */
export function formatAge(at: number | string, now: number): string {
  const ms = now - (typeof at === 'string' ? Date.parse(at) : at);
  const abs = Math.abs(ms);
  const text =
    abs >= 86_400_000
      ? `${Math.floor(abs / 86_400_000)}d`
      : abs >= 3_600_000
        ? `${Math.floor(abs / 3_600_000)}h`
        : abs >= 60_000
          ? `${Math.floor(abs / 60_000)}m`
          : undefined;
  if (text === undefined) return 'just now';
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}

export const formatTime = (ms: number | undefined): string => (ms === undefined ? 'never' : new Date(ms).toISOString());

const shortTag = (tag: string) => (tag.length > TAG_WIDTH ? `${tag.slice(0, TAG_WIDTH - 7)}…${tag.slice(-6)}` : tag);

export function formatTags(tags: readonly string[]): string {
  if (tags.length === 0) return '-';
  const shown = tags.slice(0, TAGS_SHOWN).map(shortTag).join(',');
  return tags.length > TAGS_SHOWN ? `${shown} +${tags.length - TAGS_SHOWN}` : shown;
}

/** A decision's reason as its code and the one detail that explains it, e.g. `stale-untagged (pushed 90d ago)`. */
export function formatReason(reason: Decision['reason'], now: number): string {
  switch (reason.code) {
    case 'tagged':
      return 'tagged';
    case 'quiet-period':
      return `quiet-period (pushed ${formatAge(reason.pushedAt, now)})`;
    case 'recently-pushed':
      return `recently-pushed (pushed ${formatAge(reason.pushedAt, now)}, < ${reason.olderThanDays}d)`;
    case 'recently-pulled':
      return `recently-pulled (last activity ${formatAge(reason.lastActivityAt, now)}, < ${reason.notPulledForDays}d)`;
    case 'keep-latest-untagged':
      return `keep-latest-untagged (newest #${reason.rank})`;
    case 'archived':
      return `archived (${reason.status}${reason.lastArchivedAt === undefined ? '' : `, since ${formatAge(reason.lastArchivedAt, now)}`})`;
    case 'child-of-kept-index':
    case 'referrer-of-kept-image':
    case 'may-be-child-of-archived-index':
    case 'child-of-deleted-index':
    case 'referrer-of-deleted-image':
      return `${reason.code} (via ${shortDigest(reason.via)})`;
    case 'safety-brake':
      return `safety-brake (would delete ${reason.wouldDelete}/${reason.total})`;
    case 'stale-untagged':
      return `stale-untagged (pushed ${formatAge(reason.pushedAt, now)}, pulled ${
        reason.lastPulledAt === undefined ? 'never' : formatAge(reason.lastPulledAt, now)
      })`;
    case 'orphaned-referrer':
      return `orphaned-referrer (subject ${shortDigest(reason.subject)} gone)`;
    case 'retained':
      return `kept: ${reason.explanation} [${reason.tag}]`;
    case 'released':
      return `deleted with tags ${reason.tags.join(',')}: ${reason.explanations.join('; ')}`;
    case 'in-use':
      return `in-use (${reason.usedBy.map((use) => `${use.provider} ${use.where}`).join(', ')})`;
    case 'in-use-unknown':
      return `in-use-unknown (${reason.message})`;
    case 'tagged-safety-brake':
      return `tagged-safety-brake (would delete ${reason.wouldDelete}/${reason.total} tagged)`;
    case 'archive-expired':
      return `archive-expired (archived ${formatAge(reason.lastArchivedAt, now)}, over ${reason.days} days)`;
  }
}

/** Left-aligned columns, two spaces apart, the last column not padded. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export interface PlanCounts {
  images: number;
  toDelete: number;
  toArchive: number;
  kept: number;
  bytesReclaimed: number;
}

export const countsOf = (plan: CleanupPlan): PlanCounts => ({
  images: plan.decisions.length,
  toDelete: plan.toDelete.length,
  toArchive: plan.toArchive?.length ?? 0,
  kept: plan.decisions.length - plan.toDelete.length - (plan.toArchive?.length ?? 0),
  bytesReclaimed: plan.bytesReclaimed,
});

/**
 * One repository's plan: a header line, the brake's message when it held, and a table of every decision,
 * deletions first in the order they will be sent (parents before children), then the kept images.
 */
export function renderPlan(plan: CleanupPlan, heading: string, now: number): string[] {
  const counts = countsOf(plan);
  const lines = [
    `${plan.repositoryName}  ${heading}: ${counts.images} images, ${counts.toDelete} to delete (${formatBytes(counts.bytesReclaimed)}), ${counts.toArchive > 0 ? `${counts.toArchive} to archive, ` : ''}${counts.kept} kept`,
  ];
  if (plan.brake) lines.push(`  safety brake held: ${plan.brake.message}`);
  // A failed in-use provider keeps every image for one reason: said once here, not on every row.
  const unknown = plan.decisions.find((decision) => decision.reason.code === 'in-use-unknown')?.reason;
  if (unknown?.code === 'in-use-unknown') lines.push(`  every image kept: ${unknown.message}`);
  if (plan.decisions.length === 0) return [...lines, '  (no images)'];
  const byDigest = new Map(plan.decisions.map((decision) => [decision.digest, decision]));
  const ordered = [
    ...plan.toDelete.flatMap((digest) => byDigest.get(digest) ?? []),
    ...(plan.toArchive ?? []).flatMap((digest) => byDigest.get(digest) ?? []),
    ...plan.decisions.filter((decision) => decision.action === 'keep'),
  ];
  const rows = ordered.map((decision) => [
    shortDigest(decision.digest),
    formatTags(decision.tags),
    decision.action,
    decision.reason.code === 'in-use-unknown'
      ? 'in-use-unknown (see above)'
      : `${formatReason(decision.reason, now)}${archiveCost(decision)}`,
    formatBytes(decision.sizeInBytes),
  ]);
  return [...lines, ...renderTable(['DIGEST', 'TAGS', 'ACTION', 'REASON', 'SIZE'], rows).map((row) => `  ${row}`)];
}

/**
 * The storage-cost text of an archiving or of a deletion from the archive, appended to its reason; a plain deletion's
 * is in the plan file and the report only, which keeps the table of a deleting rule as it was.
 */
const archiveCost = (decision: Decision) =>
  decision.action !== 'keep' &&
  decision.cost !== undefined &&
  (decision.action === 'archive' || decision.reason.code === 'archive-expired')
    ? `; ${decision.cost}`
    : '';

const tagList = (tags: readonly string[]) => (tags.length === 0 ? 'untagged' : `tags ${tags.join(',')}`);

/** One line naming a change, e.g. `tags changed: sha256:1a2b… [] → [rescued]`. */
export function formatChange(change: ImageChange): string {
  const digest = shortDigest(change.digest);
  switch (change.kind) {
    case 'added':
      return `added: ${digest} (${tagList(change.tags)})`;
    case 'removed':
      return `removed: ${digest} (${tagList(change.tags)})`;
    case 'tags-changed':
      return `tags changed: ${digest} [${change.before.join(',')}] → [${change.after.join(',')}]`;
    case 'pulled-since':
      return `pulled since: ${digest}${change.index ? ' (index)' : ''} last pull ${formatTime(change.before)} → ${formatTime(change.after)}`;
    case 'pushed-again':
      return `pushed again: ${digest} push time ${formatTime(change.before)} → ${formatTime(change.after)}`;
    case 'other':
      return `changed: ${digest} (${change.fields.join(', ')})`;
  }
}
