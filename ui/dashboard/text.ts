/** Words for what the API answers: sizes, digests, one line per event of the live stream. */
import type { Decision, FeedEvent } from './api.ts';

export const short = (digest: string) => (digest.includes(':') ? `${digest.slice(0, 19)}…` : digest);

export function actionText(decision: Decision | undefined): string {
  if (!decision) return 'not planned';
  return { delete: 'would delete', archive: 'would archive', keep: 'keep' }[decision.action];
}

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
