import type { LifecycleEvaluation, LifecycleKeepReason } from '@ecr-automation/lifecycle';
import type { ImageRecord } from '../../domain/image.ts';
import { buildImageGraph, type CleanupPlan, type DeleteReason, type KeepReason } from '../cleanup/plan.ts';

/**
 * ECR's lifecycle policy next to this service's cleanup plan, image by image: what the native policy does (expire,
 * archive or keep, and by which rule), what the service decides (keep or delete, and why), and where the native
 * policy breaks what the service protects. Pure: the evaluation, the plan and the images are parameters.
 */

/** What the native policy does to one image. */
export type NativeDecision =
  | { action: 'expire' | 'transition'; rulePriority: number; followsSubject?: string }
  | { action: 'keep'; reason: LifecycleKeepReason };

/** What the service's cleanup decides for one image. */
export type ServiceDecision =
  | { action: 'keep'; reason: KeepReason }
  /** `archive`: a rule with `action: 'archive'` moves the image to the archive, as a native transition does. */
  | { action: 'delete' | 'archive'; reason: DeleteReason };

export type BreakCode =
  /** The native policy expires or archives an image a workload runs (the service keeps it: `in-use`). */
  | 'in-use-expired'
  /** The native policy expires or archives an image a tag selection retains, or a tagged image no selection claims. */
  | 'retained-tag-expired'
  /** The native policy expires or archives an image the service keeps as the child of a kept index. */
  | 'kept-child-expired'
  /** The native policy expires or archives a signature or attestation of an image the service keeps. */
  | 'kept-referrer-expired'
  /** The native policy expires an index and keeps an image it lists: the child stays behind, an orphan. */
  | 'children-left-behind'
  /** The native policy expires or archives a referrer (an OCI one, or a cosign tag) while its subject stays. */
  | 'referrer-removed-subject-stays';

export interface Break {
  code: BreakCode;
  digest: string;
  tags: readonly string[];
  /** The native rule behind the break (for `children-left-behind`, the rule that expires the index). */
  rulePriority: number;
  /** The image the break is about: the kept index, the subject, or the expired index. */
  via?: string;
  message: string;
}

export interface ComparisonRow {
  digest: string;
  tags: readonly string[];
  native: NativeDecision;
  service: ServiceDecision;
  breaks: Break[];
}

export interface ComparisonSummary {
  images: number;
  native: { expire: number; transition: number; keep: number };
  /** `archive` only when the cleanup archives (a rule with `action: 'archive'`). */
  service: { delete: number; keep: number; archive?: number };
  /** Both keep it, or the native policy removes (expires or archives) what the service deletes or archives. */
  agree: number;
  /** The native policy removes it (expire or transition), the service keeps it. */
  nativeOnly: number;
  /** The service deletes or archives it, the native policy keeps it. */
  serviceOnly: number;
  breaks: Partial<Record<BreakCode, number>>;
}

export interface Comparison {
  /** One row per image, in the order of `images`. */
  rows: ComparisonRow[];
  /** Every break, in the order of the rows. */
  breaks: Break[];
  summary: ComparisonSummary;
}

const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);
const verb = (native: NativeDecision) => (native.action === 'transition' ? 'archives' : 'expires');

/** The break when the native policy removes an image the service keeps for a reason it protects. */
function protectedBreak(
  image: ImageRecord,
  native: Extract<NativeDecision, { rulePriority: number }>,
  reason: KeepReason,
): Break | undefined {
  const base = { digest: image.digest, tags: image.tags, rulePriority: native.rulePriority };
  const does = `rule ${native.rulePriority} ${verb(native)}`;
  switch (reason.code) {
    case 'in-use':
      return {
        ...base,
        code: 'in-use-expired',
        message: `${does} ${short(image.digest)}, which runs (${reason.usedBy.map((use) => `${use.provider} ${use.where}`).join(', ')})`,
      };
    case 'retained':
    case 'tagged':
      return {
        ...base,
        code: 'retained-tag-expired',
        message: `${does} ${short(image.digest)} (${image.tags.join(', ')}), which the cleanup keeps (${reason.code === 'retained' ? reason.explanation : 'tagged, no selection releases it'})`,
      };
    case 'child-of-kept-index':
      return {
        ...base,
        code: 'kept-child-expired',
        via: reason.via,
        message: `${does} ${short(image.digest)}, listed by the kept index ${short(reason.via)}`,
      };
    case 'referrer-of-kept-image':
      return {
        ...base,
        code: 'kept-referrer-expired',
        via: reason.via,
        message: `${does} ${short(image.digest)}, a signature or attestation of the kept image ${short(reason.via)}`,
      };
    default:
      return undefined;
  }
}

/**
 * Compares a native lifecycle evaluation of a repository with the service's plan for the same images. Every image of
 * `images` must be in both (the evaluation of `toLifecycleImages(images)`, the plan of `images`).
 */
export function compareWithCleanup(
  evaluation: LifecycleEvaluation,
  plan: CleanupPlan,
  images: readonly ImageRecord[],
): Comparison {
  const native = new Map<string, NativeDecision>();
  for (const action of evaluation.actions) {
    native.set(action.digest, {
      action: action.action.type,
      rulePriority: action.appliedRulePriority,
      ...(action.followsSubject === undefined ? {} : { followsSubject: action.followsSubject }),
    });
  }
  for (const kept of evaluation.kept) native.set(kept.digest, { action: 'keep', reason: kept.reason });
  const service = new Map<string, ServiceDecision>();
  for (const decision of plan.decisions) {
    service.set(
      decision.digest,
      decision.action === 'keep'
        ? { action: 'keep', reason: decision.reason }
        : { action: decision.action, reason: decision.reason },
    );
  }
  const graph = buildImageGraph(images);
  const removed = (digest: string) => {
    const decision = native.get(digest);
    return decision !== undefined && decision.action !== 'keep';
  };

  const rows: ComparisonRow[] = images.map((image) => {
    const nativeDecision = native.get(image.digest);
    const serviceDecision = service.get(image.digest);
    if (nativeDecision === undefined || serviceDecision === undefined) {
      throw new Error(`invariant: the image ${image.digest} is missing from the evaluation or the plan`);
    }
    const breaks: Break[] = [];
    if (nativeDecision.action !== 'keep') {
      if (serviceDecision.action === 'keep') {
        const found = protectedBreak(image, nativeDecision, serviceDecision.reason);
        if (found !== undefined) breaks.push(found);
      }
      const subject = graph.subjectOf.get(image.digest);
      if (subject !== undefined && graph.byDigest.has(subject) && !removed(subject)) {
        breaks.push({
          code: 'referrer-removed-subject-stays',
          digest: image.digest,
          tags: image.tags,
          rulePriority: nativeDecision.rulePriority,
          via: subject,
          message: `rule ${nativeDecision.rulePriority} ${verb(nativeDecision)} ${short(image.digest)}${image.tags.length > 0 ? ` (${image.tags.join(', ')})` : ''}, a signature or attestation of ${short(subject)}, which stays`,
        });
      }
    } else {
      const expiredIndex = (graph.parents.get(image.digest) ?? []).find(
        (parent) => native.get(parent)?.action === 'expire',
      );
      if (expiredIndex !== undefined) {
        const rule = native.get(expiredIndex) as Extract<NativeDecision, { rulePriority: number }>;
        breaks.push({
          code: 'children-left-behind',
          digest: image.digest,
          tags: image.tags,
          rulePriority: rule.rulePriority,
          via: expiredIndex,
          message: `rule ${rule.rulePriority} expires the index ${short(expiredIndex)} and leaves ${short(image.digest)}, which it lists, behind`,
        });
      }
    }
    return { digest: image.digest, tags: image.tags, native: nativeDecision, service: serviceDecision, breaks };
  });

  const summary: ComparisonSummary = {
    images: rows.length,
    native: { expire: 0, transition: 0, keep: 0 },
    service: { delete: 0, keep: 0 },
    agree: 0,
    nativeOnly: 0,
    serviceOnly: 0,
    breaks: {},
  };
  const breaks: Break[] = [];
  for (const row of rows) {
    summary.native[row.native.action] += 1;
    if (row.service.action === 'archive') summary.service.archive = (summary.service.archive ?? 0) + 1;
    else summary.service[row.service.action] += 1;
    const nativeRemoves = row.native.action !== 'keep';
    const serviceDeletes = row.service.action !== 'keep';
    if (nativeRemoves === serviceDeletes) summary.agree += 1;
    else if (nativeRemoves) summary.nativeOnly += 1;
    else summary.serviceOnly += 1;
    for (const found of row.breaks) {
      breaks.push(found);
      summary.breaks[found.code] = (summary.breaks[found.code] ?? 0) + 1;
    }
  }
  return { rows, breaks, summary };
}
