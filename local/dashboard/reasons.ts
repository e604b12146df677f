import { shortDigest as short } from '../../shared/pictures/graph.ts';

/** The cleanup's reasons in words, as the dashboard shows them on each image and node of the graph. */

/** A decision of a cleanup report on one image. */
export interface Decision {
  action: 'delete' | 'archive' | 'keep';
  reason: { code: string; [key: string]: unknown };
  cost?: string;
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
