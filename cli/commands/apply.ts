import {
  type ChangedSincePlan,
  type ChangeReason,
  executePlan,
  imagesLeft,
  verifyKeptImagesWhole,
} from '../../shared/cleanup/act.ts';
import type { CleanupGateway } from '../../shared/cleanup/gateway.ts';
import { fingerprintOf } from '../../shared/cleanup/gather.ts';
import { inUsePlanOptions, locateRepository } from '../../shared/cleanup/in-use.ts';
import { type ImageRecord, isIndex } from '../../shared/domain/image.ts';
import type { InUseReference, InUseSnapshot } from '../../shared/domain/in-use.ts';
import { type ItemFailure, RepositoryNotFoundError } from '../../shared/ecr/index.ts';
import { EXIT, UsageError } from './errors.ts';
import { formatAge, formatBytes, formatChange, formatReason, shortDigest } from './format.ts';
import type { PlanFile, PlannedRepository } from './plan-file.ts';
import { describeChanges, type ImageChange, listCurrentImages } from './snapshot.ts';

export interface ApplyDeps {
  /** A gateway that may delete. */
  gateway: CleanupGateway;
  now: number;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Whether there is someone to ask (standard input is a terminal). */
  interactive: boolean;
  /** Asks a yes/no question; true means yes. */
  confirm: (question: string) => Promise<boolean>;
  /**
   * Reads what runs now (the config's in-use providers); undefined when the config names none. Absent: no check.
   */
  readInUse?: () => Promise<InUseSnapshot | undefined>;
}

export interface ApplyOptions {
  file: PlanFile;
  /** The plan file's path, for messages. */
  source: string;
  /** `--yes`: do not ask. */
  yes: boolean;
}

export interface RepositoryRefusal {
  repositoryName: string;
  plannedFingerprint: string;
  /** Absent when the repository is gone. */
  currentFingerprint?: string;
  changes: ImageChange[];
  /** Images the plan deletes that run now, each with where (the repository itself is unchanged). */
  inUse?: { digest: string; usedBy: readonly InUseReference[] }[];
  /** Why what runs in the repository could not be told (a failed provider covers it). */
  inUseUnknown?: string;
}

export interface RepositoryApplied {
  repositoryName: string;
  deleted: string[];
  /** Images moved to ECR's archive (a rule with `action: 'archive'`). */
  archived: string[];
  alreadyGone: string[];
  failed: ItemFailure[];
  /** Planned deletions kept because they changed since the check (a tag, a pull, a push naming them). */
  changedSincePlan: string[];
  /** Every planned deletion kept since the check, with why (those above, and their children and referrers). */
  changes: ChangedSincePlan[];
  bytesReclaimed: number;
  /** References of kept images checked after the deletions. */
  checked: number;
}

export interface ApplyResult {
  exitCode: number;
  refused: RepositoryRefusal[];
  applied: RepositoryApplied[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * `cleanup apply <plan.json>`: carries out a saved plan, and only while the registry is still what the plan saw.
 *
 * 1. Asks for confirmation (or takes `--yes`) before any ECR call.
 * 2. Checks every repository with deletions against its fingerprint, before deleting anything anywhere.
 * 3. When the config names in-use providers, reads what runs again (a workload may have started on an image since
 *    the plan was made): if a failed provider covers a repository with deletions, or any image the plan deletes in
 *    it now runs, the whole plan is refused, as for a changed repository, and each such image is named with where it
 *    runs. The planner would keep such an image; the saved plan cannot, so it is not carried out at all.
 * 4. Deletes with `executePlan` (the worker's act), whose re-read of the candidates and look at images pushed since
 *    are a second guard for changes made after steps 2 and 3,
 *    then checks that every kept image still resolves whole (`verifyKeptImagesWhole`).
 */
export async function applyPlan(deps: ApplyDeps, options: ApplyOptions): Promise<ApplyResult> {
  const { gateway, out, err, now } = deps;
  const { file } = options;
  const planned = (entry: PlannedRepository) => entry.plan.toDelete.length + (entry.plan.toArchive?.length ?? 0);
  const pending = file.repositories.filter((entry) => planned(entry) > 0);
  const total = pending.reduce((n, entry) => n + entry.plan.toDelete.length, 0);
  const archiving = pending.reduce((n, entry) => n + (entry.plan.toArchive?.length ?? 0), 0);
  const toArchiveText = archiving > 0 ? ` and ${plural(archiving, 'image')} to archive` : '';
  out(
    `Plan ${options.source}, made ${file.createdAt} (${formatAge(file.createdAt, now)}) against ${file.endpoint ?? 'AWS'} (${file.region}): ${plural(total, 'image')} to delete${toArchiveText} in ${plural(pending.length, 'repository', 'repositories')}.`,
  );
  if (total + archiving === 0) {
    out('Nothing to delete.');
    return { exitCode: EXIT.ok, refused: [], applied: [] };
  }
  if (!options.yes) {
    if (!deps.interactive) {
      throw new UsageError(
        'apply deletes images and needs a confirmation: standard input is not a terminal, so there is no one to ask',
        'Review the plan, then pass --yes.',
      );
    }
    const question = `Delete ${plural(total, 'image')}${archiving > 0 ? ` and archive ${plural(archiving, 'image')}` : ''} in ${plural(pending.length, 'repository', 'repositories')}?`;
    if (!(await deps.confirm(question))) {
      err('Not applied: nothing was deleted.');
      return { exitCode: EXIT.failed, refused: [], applied: [] };
    }
  }

  // Every repository is checked before anything is deleted anywhere, and one changed repository refuses the whole
  // plan. A plan is reviewed as a whole; carrying out part of it leaves the registry in a state nobody reviewed, and
  // the changed repository needs a new plan anyway, which covers the others again at no risk. Refusing everything
  // also makes the outcome all-or-nothing and easy to state: "nothing was deleted".
  const refused: RepositoryRefusal[] = [];
  const current = new Map<string, ImageRecord[]>();
  for (const entry of pending) {
    let images: ImageRecord[];
    try {
      images = await listCurrentImages(gateway, entry.repositoryName, entry.images);
    } catch (error) {
      if (!(error instanceof RepositoryNotFoundError)) throw error;
      refused.push({ repositoryName: entry.repositoryName, plannedFingerprint: entry.fingerprint, changes: [] });
      continue;
    }
    const fingerprint = fingerprintOf(images);
    if (fingerprint === entry.fingerprint) current.set(entry.repositoryName, images);
    else {
      refused.push({
        repositoryName: entry.repositoryName,
        plannedFingerprint: entry.fingerprint,
        currentFingerprint: fingerprint,
        changes: describeChanges(entry.images, images),
      });
    }
  }
  if (refused.length === 0 && deps.readInUse !== undefined) {
    const inUse = await deps.readInUse();
    if (inUse !== undefined) refused.push(...(await inUseRefusals(gateway, file, pending, current, inUse)));
  }
  if (refused.length > 0) {
    reportRefusal(err, file, refused);
    return { exitCode: EXIT.failed, refused, applied: [] };
  }

  const applied: RepositoryApplied[] = [];
  for (const entry of pending) {
    const images = current.get(entry.repositoryName) ?? [];
    const result = await applyRepository(gateway, entry, images);
    if (result === undefined) {
      out(`${entry.repositoryName}: gone since the check; nothing left to delete`);
      continue;
    }
    applied.push(result);
    for (const line of renderApplied(entry, result, now)) out(line);
  }
  const deleted = applied.reduce((n, result) => n + result.deleted.length, 0);
  const failed = applied.reduce((n, result) => n + result.failed.length, 0);
  const bytes = applied.reduce((n, result) => n + result.bytesReclaimed, 0);
  out(
    `Applied: deleted ${plural(deleted, 'image')} (${formatBytes(bytes)}) in ${plural(applied.length, 'repository', 'repositories')}; ${failed} failed.`,
  );
  return { exitCode: failed > 0 ? EXIT.failed : EXIT.ok, refused: [], applied };
}

async function applyRepository(
  gateway: CleanupGateway,
  entry: PlannedRepository,
  images: readonly ImageRecord[],
): Promise<RepositoryApplied | undefined> {
  let execution: Awaited<ReturnType<typeof executePlan>>;
  try {
    // The same act as the Lambda worker: the saved plan, as reviewed, minus what changed since.
    execution = await executePlan(gateway, images, entry.plan);
  } catch (error) {
    if (error instanceof RepositoryNotFoundError) return undefined;
    throw error;
  }
  const gone = new Set([...execution.deleted, ...execution.alreadyGone]);
  const keptSincePlan = new Set([...execution.changedSincePlan, ...execution.keptWithChanged]);
  const { checked } = await verifyKeptImagesWhole(
    gateway,
    images,
    execution.plan,
    gone,
    keptSincePlan,
    imagesLeft(execution),
  );
  const byDigest = new Map(images.map((image) => [image.digest, image]));
  // An index owns no layers: its size is its largest child's, so deleting it reclaims nothing by itself.
  const bytesReclaimed = execution.deleted.reduce((n, digest) => {
    const image = byDigest.get(digest);
    return n + (image === undefined || isIndex(image) ? 0 : image.sizeInBytes);
  }, 0);
  return {
    repositoryName: entry.repositoryName,
    deleted: execution.deleted,
    archived: execution.archived,
    alreadyGone: execution.alreadyGone,
    failed: execution.failed,
    changedSincePlan: execution.changedSincePlan,
    changes: execution.changes,
    bytesReclaimed,
    checked,
  };
}

function renderApplied(entry: PlannedRepository, result: RepositoryApplied, now: number): string[] {
  const reasons = new Map(entry.plan.decisions.map((decision) => [decision.digest, decision.reason]));
  const reasonOf = (digest: string) => {
    const reason = reasons.get(digest);
    return reason === undefined ? '' : formatReason(reason, now);
  };
  return [
    `${entry.repositoryName}: deleted ${result.deleted.length} of ${entry.plan.toDelete.length} planned (${formatBytes(result.bytesReclaimed)})`,
    ...result.deleted.map((digest) => `  deleted  ${shortDigest(digest)}  ${reasonOf(digest)}`),
    ...(entry.plan.toArchive === undefined
      ? []
      : [`  archived ${result.archived.length} of ${entry.plan.toArchive.length} planned`]),
    ...result.archived.map((digest) => `  archived ${shortDigest(digest)}  ${reasonOf(digest)}`),
    ...result.alreadyGone.map((digest) => `  gone     ${shortDigest(digest)}  already deleted by someone else`),
    ...result.changes.map(
      ({ digest, reason }) => `  kept     ${shortDigest(digest)}  changed since the plan: ${describeChange(reason)}`,
    ),
    ...result.failed.map(
      (failure) =>
        `  FAILED   ${failure.digest ? shortDigest(failure.digest) : failure.tag}  ${failure.code}: ${failure.reason}`,
    ),
    `  kept images resolve whole (${plural(result.checked, 'reference')} checked)`,
  ];
}

/**
 * The repositories with deletions where what runs now forbids the plan: a failed provider covers the repository, or
 * an image the plan deletes is in use (by digest, or by a tag it has now).
 */
async function inUseRefusals(
  gateway: CleanupGateway,
  file: PlanFile,
  pending: readonly PlannedRepository[],
  current: ReadonlyMap<string, ImageRecord[]>,
  inUse: InUseSnapshot,
): Promise<RepositoryRefusal[]> {
  const refused: RepositoryRefusal[] = [];
  for (const entry of pending) {
    const base = { repositoryName: entry.repositoryName, plannedFingerprint: entry.fingerprint, changes: [] };
    let location: Awaited<ReturnType<typeof locateRepository>>;
    try {
      location = await locateRepository(gateway, file.registry ?? 'private', entry.repositoryName);
    } catch (error) {
      if (!(error instanceof RepositoryNotFoundError)) throw error;
      refused.push(base);
      continue;
    }
    const images = current.get(entry.repositoryName) ?? entry.images;
    const found = inUsePlanOptions(inUse, location, entry.repositoryName, images);
    if (found.inUseUnavailable !== undefined) {
      refused.push({ ...base, currentFingerprint: entry.fingerprint, inUseUnknown: found.inUseUnavailable });
      continue;
    }
    const running = [...entry.plan.toDelete, ...(entry.plan.toArchive ?? [])].flatMap((digest) => {
      const usedBy = found.inUse?.get(digest);
      return usedBy === undefined ? [] : [{ digest, usedBy }];
    });
    if (running.length > 0) refused.push({ ...base, currentFingerprint: entry.fingerprint, inUse: running });
  }
  return refused;
}

function reportRefusal(err: (line: string) => void, file: PlanFile, refused: readonly RepositoryRefusal[]): void {
  const running = refused.filter((refusal) => refusal.inUse !== undefined).length;
  const unknown = refused.filter((refusal) => refusal.inUseUnknown !== undefined).length;
  const changed = refused.length - running - unknown;
  const why = [
    ...(changed > 0
      ? [
          `${plural(changed, 'repository has', 'repositories have')} changed since the plan was made (${file.createdAt})`,
        ]
      : []),
    ...(running > 0 ? [`images the plan deletes now run in ${plural(running, 'repository', 'repositories')}`] : []),
    ...(unknown > 0
      ? [`what runs could not be read for ${plural(unknown, 'repository', 'repositories')} with deletions`]
      : []),
  ];
  err(`Refused: ${why.join('; ')}; nothing was deleted in any repository.`);
  for (const refusal of refused) {
    if (refusal.inUseUnknown !== undefined) {
      err(`${refusal.repositoryName}: ${refusal.inUseUnknown}`);
      continue;
    }
    if (refusal.inUse !== undefined) {
      err(`${refusal.repositoryName}: ${plural(refusal.inUse.length, 'image')} the plan deletes now in use`);
      for (const { digest, usedBy } of refusal.inUse) {
        err(`  ${digest} in use: ${usedBy.map((use) => `${use.provider} ${use.where}`).join(', ')}`);
      }
      continue;
    }
    if (refusal.currentFingerprint === undefined) {
      err(`${refusal.repositoryName}: the repository is gone`);
      continue;
    }
    err(`${refusal.repositoryName}: fingerprint ${refusal.plannedFingerprint} → ${refusal.currentFingerprint}`);
    for (const change of refusal.changes) err(`  ${formatChange(change)}`);
    const onlyIndexPulls =
      refusal.changes.length > 0 && refusal.changes.every((change) => change.kind === 'pulled-since' && change.index);
    if (onlyIndexPulls) {
      err(
        '  (only index pull times moved: if nobody pulled them, these are manifest reads by automation, which ECR records as pulls; excluding that principal from pull-time updates avoids this)',
      );
    }
  }
  err('Make a new plan (npm run cleanup -- plan) and review it.');
}

/** Why a planned deletion was kept, in a line. */
function describeChange(reason: ChangeReason): string {
  switch (reason.code) {
    case 'tag-gained':
      return `gained the tag(s) ${reason.tags.join(', ')}`;
    case 'pulled':
      return `pulled at ${reason.lastPulledAt}`;
    case 'changed':
      return 'pushed again or re-tagged';
    case 'new-parent':
      return `listed by ${shortDigest(reason.via)}, pushed since`;
    case 'new-referrer':
      return `named by the referrer ${shortDigest(reason.via)}, pushed since`;
    case 'unreadable-new-index':
      return `${shortDigest(reason.via)}, pushed since, could not be read: nothing is deleted`;
    case 'kept-with':
      return `${reason.edge} of ${shortDigest(reason.via)}, which is kept`;
  }
}
