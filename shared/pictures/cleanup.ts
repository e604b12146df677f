import type { ImageRecord } from '../domain/image.ts';
import type { CleanupPlan, CleanupRule, Decision } from '../policy/cleanup/plan.ts';
import { imageGraphPicture, kindOf, type NodeFate, shortDigest } from './graph.ts';
import { type DecisionRow, REPORT_VERSION, type Report, type SummaryLine } from './model.ts';

/** What the report needs of a cleanup plan file (the CLI's `PlanFile` is one). */
export interface CleanupPlanInput {
  createdAt: string;
  registry?: 'public';
  endpoint?: string;
  region: string;
  repositories: readonly {
    repositoryName: string;
    rule: CleanupRule;
    ruleIndex: number;
    images: readonly ImageRecord[];
    plan: CleanupPlan;
  }[];
}

const day = (iso: string) => iso.slice(0, 10);

/** A decision's reason in words, with every detail the plan saved (digests shortened to 12 hex digits). */
export function reasonText(reason: Decision['reason']): string {
  switch (reason.code) {
    case 'tagged':
      return `tagged ${reason.tags.join(', ')}`;
    case 'quiet-period':
      return `pushed ${reason.pushedAt}, within the quiet period`;
    case 'recently-pushed':
      return `pushed ${day(reason.pushedAt)}, less than ${reason.olderThanDays} days ago`;
    case 'recently-pulled':
      return `last pulled or pushed ${day(reason.lastActivityAt)}, less than ${reason.notPulledForDays} days ago`;
    case 'keep-latest-untagged':
      return `one of the newest untagged images (#${reason.rank})`;
    case 'child-of-kept-index':
      return `listed by the kept index ${shortDigest(reason.via)}`;
    case 'referrer-of-kept-image':
      return `refers to the kept image ${shortDigest(reason.via)}`;
    case 'safety-brake':
      return `safety brake held: would delete ${reason.wouldDelete} of ${reason.total} images (limit ${Math.round(reason.maxDeleteFraction * 100)} %)`;
    case 'retained':
      return `tag ${reason.tag} kept: ${reason.explanation}`;
    case 'in-use':
      return `in use: ${reason.usedBy.map((use) => `${use.provider} ${use.where}`).join(', ')}`;
    case 'in-use-unknown':
      return `what runs could not be read: ${reason.message}`;
    case 'archived':
      return `in the archive (${reason.status}${reason.lastArchivedAt === undefined ? '' : ` since ${day(reason.lastArchivedAt)}`})`;
    case 'may-be-child-of-archived-index':
      return `may be listed by the archived index ${shortDigest(reason.via)}`;
    case 'tagged-safety-brake':
      return `tagged safety brake held: would delete ${reason.wouldDelete} of ${reason.total} tagged images (limit ${Math.round(reason.maxTaggedDeleteFraction * 100)} %)`;
    case 'stale-untagged':
      return `untagged, pushed ${day(reason.pushedAt)}, ${reason.lastPulledAt === undefined ? 'never pulled' : `last pulled ${day(reason.lastPulledAt)}`}`;
    case 'child-of-deleted-index':
      return `listed only by the deleted index ${shortDigest(reason.via)}`;
    case 'referrer-of-deleted-image':
      return `refers to the deleted image ${shortDigest(reason.via)}`;
    case 'orphaned-referrer':
      return `refers to ${shortDigest(reason.subject)}, which is gone`;
    case 'released':
      return `every tag released: ${reason.explanations.join('; ')}`;
    case 'archive-expired':
      return `archived ${day(reason.lastArchivedAt)}, more than ${reason.days} days ago`;
  }
}

const brakeText = (plan: CleanupPlan): string =>
  plan.brake === undefined
    ? 'not reached'
    : `held (${plan.brake.tagged ? 'tagged: ' : ''}${plan.brake.wouldDelete} of ${plan.brake.total} would go)`;

const emptyLine = (name: string): SummaryLine => ({
  name,
  total: 0,
  toDelete: 0,
  toArchive: 0,
  kept: 0,
  bytesToDelete: 0,
  brake: 'not reached',
});

/**
 * The HTML report of a cleanup plan: figures per repository and per rule, one row per decision, one graph per
 * repository. The figures are the plan's own: deletions, archivings and kept images counted from its decisions, and
 * the bytes its `bytesReclaimed` says.
 */
export function cleanupPicture(file: CleanupPlanInput): Report {
  const rows: DecisionRow[] = [];
  const byRepository: SummaryLine[] = [];
  const byRule = new Map<number, SummaryLine>();
  const graphs = [];
  let braked = 0;
  for (const entry of file.repositories) {
    const rule = `rule #${entry.ruleIndex}`;
    const line = emptyLine(entry.repositoryName);
    line.brake = brakeText(entry.plan);
    if (entry.plan.brake !== undefined) braked++;
    const imageOf = new Map(entry.images.map((image) => [image.digest, image]));
    const fates = new Map<string, NodeFate>();
    for (const decision of entry.plan.decisions) {
      const reason = reasonText(decision.reason);
      fates.set(decision.digest, { action: decision.action, reasonCode: decision.reason.code, reason });
      const image = imageOf.get(decision.digest);
      line.total++;
      if (decision.action === 'delete') line.toDelete++;
      else if (decision.action === 'archive') line.toArchive++;
      else line.kept++;
      rows.push({
        repository: entry.repositoryName,
        rule,
        subject: decision.digest,
        kind: image === undefined ? 'image' : kindOf(image),
        action: decision.action,
        tags: [...decision.tags],
        sizeInBytes: decision.sizeInBytes,
        // To the second: the table shows minutes, and the page carries seconds (`wire.ts`).
        pushedAt: image === undefined ? '' : new Date(Math.floor(image.pushedAt / 1000) * 1000).toISOString(),
        reasonCode: decision.reason.code,
        reason,
      });
    }
    line.bytesToDelete = entry.plan.bytesReclaimed;
    byRepository.push(line);
    const ruleLine = byRule.get(entry.ruleIndex) ?? emptyLine(rule);
    ruleLine.total += line.total;
    ruleLine.toDelete += line.toDelete;
    ruleLine.toArchive += line.toArchive;
    ruleLine.kept += line.kept;
    ruleLine.bytesToDelete += line.bytesToDelete;
    if (entry.plan.brake !== undefined) ruleLine.brake = 'held in some repositories';
    byRule.set(entry.ruleIndex, ruleLine);
    graphs.push(imageGraphPicture(entry.repositoryName, entry.images, fates));
  }
  const sum = (pick: (line: SummaryLine) => number) => byRepository.reduce((total, line) => total + pick(line), 0);
  return {
    version: REPORT_VERSION,
    kind: 'cleanup',
    title: `Cleanup plan of ${file.createdAt}`,
    facts: [
      { name: 'Planned at', value: file.createdAt },
      { name: 'Registry', value: file.registry === 'public' ? 'ECR Public' : 'ECR (private)' },
      { name: 'Region', value: file.region },
      { name: 'Endpoint', value: file.endpoint ?? 'AWS' },
      { name: 'Repositories', value: String(file.repositories.length) },
    ],
    summary: {
      total: sum((line) => line.total),
      toDelete: sum((line) => line.toDelete),
      toArchive: sum((line) => line.toArchive),
      kept: sum((line) => line.kept),
      bytesToDelete: sum((line) => line.bytesToDelete),
      brake: braked === 0 ? 'not reached' : `held in ${braked} of ${file.repositories.length} repositories`,
      byRepository,
      byRule: [...byRule.entries()].sort(([a], [b]) => a - b).map(([, line]) => line),
      columns: {
        total: 'Images',
        toDelete: 'To delete',
        toArchive: 'To archive',
        kept: 'Kept',
        bytes: 'Bytes to delete',
      },
    },
    rows,
    graphs,
    notes: [],
  };
}
