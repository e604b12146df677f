/** Words for what the API answers: reasons, sizes, digests, one line per event. */
import type { Decision, FeedEvent } from './api.ts';

export const short = (digest: string) => (digest.includes(':') ? `${digest.slice(0, 19)}…` : digest);

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

const list = (value: unknown) => (Array.isArray(value) ? value.map(String).join(', ') : String(value ?? ''));

/** Why the cleanup keeps, deletes or archives an image, in a sentence. */
export function reasonText(reason: Decision['reason'] | undefined): string {
  if (!reason) return 'no cleanup decision yet: run the cleanup (dry run) to plan';
  const r = reason as Record<string, unknown>;
  switch (reason.code) {
    case 'tagged':
      return `tagged (${list(r.tags)})`;
    case 'quiet-period':
      return `pushed ${String(r.pushedAt)}, inside the quiet period`;
    case 'recently-pushed':
      return `pushed ${String(r.pushedAt)}, less than ${String(r.olderThanDays)} days ago`;
    case 'recently-pulled':
      return `pulled ${String(r.lastActivityAt)}, within ${String(r.notPulledForDays)} days`;
    case 'keep-latest-untagged':
      return `one of the latest untagged images (rank ${String(r.rank)})`;
    case 'child-of-kept-index':
      return `listed by kept index ${short(String(r.via))}`;
    case 'referrer-of-kept-image':
      return `refers to kept image ${short(String(r.via))}`;
    case 'safety-brake':
    case 'tagged-safety-brake':
      return `safety brake: would delete ${String(r.wouldDelete)} of ${String(r.total)}`;
    case 'retained':
      return `retained: ${String(r.explanation)}`;
    case 'in-use':
      return `in use (${((r.usedBy as { provider: string; where: string }[]) ?? []).map((u) => `${u.provider} ${u.where}`).join(', ')})`;
    case 'in-use-unknown':
      return `in use unknown: ${String(r.message)}`;
    case 'archived':
      return `archived (${String(r.status)})`;
    case 'may-be-child-of-archived-index':
      return `may be listed by archived index ${short(String(r.via))}`;
    case 'stale-untagged':
      return `stale untagged: pushed ${String(r.pushedAt)}${r.lastPulledAt ? `, last pulled ${String(r.lastPulledAt)}` : ', never pulled'}`;
    case 'child-of-deleted-index':
      return `listed only by deleted index ${short(String(r.via))}`;
    case 'referrer-of-deleted-image':
      return `refers to deleted image ${short(String(r.via))}`;
    case 'orphaned-referrer':
      return `refers to ${short(String(r.subject))}, which is gone`;
    case 'released':
      return `released: ${list(r.explanations)}`;
    case 'archive-expired':
      return `archived ${String(r.lastArchivedAt)}, more than ${String(r.days)} days ago`;
    default:
      return reason.code;
  }
}

export function actionText(decision: Decision | undefined): string {
  if (!decision) return 'not planned';
  return { delete: 'would delete', archive: 'would archive', keep: 'keep' }[decision.action];
}

/** One line per event of the live stream. */
export function eventLine(event: FeedEvent): string {
  const d = event.detail ?? {};
  const s = (key: string) => String(d[key] ?? '');
  switch (event.detailType) {
    case 'ECR Image Action':
      return `${s('action-type')} ${s('repository-name')}${d['image-tag'] ? `:${s('image-tag')}` : ''} ${short(s('image-digest'))} ${s('result')}`;
    case 'ECR Image Scan':
      return `scan ${s('scan-status')} ${s('repository-name')} ${short(s('image-digest'))}`;
    case 'Image Push Verdict':
      return `push ${s('repositoryName')} ${short(s('digest'))}: ${s('status')}${d.dryRun ? ' (dry run)' : ''}`;
    case 'Image Scan Verdict':
      return `scan verdict ${s('repositoryName')} ${short(s('digest'))}: ${s('verdict')}${d.dryRun ? ' (dry run)' : ''}`;
    case 'Cleanup Report': {
      const counts = (d.counts ?? {}) as Record<string, number>;
      return `cleanup ${s('repositoryName')}: ${s('status')}${d.dryRun ? ' (dry run)' : ''}, ${counts.toDelete ?? 0} of ${counts.images ?? 0} selected`;
    }
    case 'Cleanup Fan-Out Report':
      return `cleanup fan-out${d.dryRun ? ' (dry run)' : ''}: ${s('repositories')} repositories, ${s('workItems')} work items`;
    case 'Cleanup Work Item':
      return `work item ${s('repositoryName')}${d.dryRun ? ' (dry run)' : ''}`;
    case 'Compliance Report': {
      const counts = (d.counts ?? {}) as Record<string, number>;
      return `compliance${d.dryRun ? ' (dry run)' : ''}: ${counts.checked ?? 0} checked, ${counts.nonCompliant ?? 0} not compliant`;
    }
    case 'Compliance Drift':
      return `drift ${s('repositoryName')}`;
    case 'Allow List Report':
      return `allow-list: ${((d.expiring as unknown[]) ?? []).length} expiring, ${((d.expired as unknown[]) ?? []).length} expired`;
    case 'Scheduled Event':
      return `schedule ${event.detail && (event.detail as { dryRun?: boolean }).dryRun ? '(dry run) ' : ''}fired`;
    default:
      return event.truncated ? '(detail too large to show)' : '';
  }
}
