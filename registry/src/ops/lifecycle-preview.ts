import {
  checkLifecyclePolicy,
  evaluateLifecyclePolicy,
  type LifecycleEvaluation,
  type LifecycleImage,
  type LifecyclePolicy,
} from '@ecr-automation/lifecycle';
import { imageStatus } from '../model/image-store.ts';
import type {
  LifecyclePreviewItem,
  LifecyclePreviewRecord,
  RegistryState,
  RepositoryRecord,
  StoredImage,
} from '../model/state.ts';
import { constraintMessage, EcrException, invalidParameter } from '../wire/errors.ts';
import { Input, type NumberRule } from '../wire/validate.ts';
import {
  decodeToken,
  encodeToken,
  rejectPagingWithIds,
  repositoryName,
  repositoryRef,
  requireRepository,
  stateFor,
  toEpochSeconds,
} from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import {
  FAILURE_REASONS,
  type ImageId,
  imageIdProblem,
  invalidToken,
  listingFingerprint,
  readImageIds,
} from './image-common.ts';
import { deleteImageById, emitDelete } from './image-pull-delete.ts';
import { LIFECYCLE_POLICY_TEXT, lifecyclePolicyNotFound } from './repository-policies.ts';
import { archiveImage } from './storage-class.ts';

/**
 * Lifecycle policies at work: the preview (StartLifecyclePolicyPreview, GetLifecyclePolicyPreview, [M-ECR]) and the
 * run of a repository's stored policy (`POST /_local/lifecycle/run`), both on `evaluateLifecyclePolicy` of
 * `@ecr-automation/lifecycle`.
 *
 * A preview evaluates the policy over every image of the repository (all statuses) at its start, in registry time,
 * and keeps that evaluation: it is IN_PROGRESS for `scanDurationMs` of real time (as ECR's previews take a while),
 * then COMPLETE, and GetLifecyclePolicyPreview pages through what it found. One preview per repository is kept; a
 * new one replaces it once the last is COMPLETE. ECR's previews also turn EXPIRED after a while (not emulated:
 * a preview stays until the next one or the repository's deletion).
 */

/** `LifecyclePreviewMaxResults` ([M-ECR]: 1–100); 100 when omitted ("returns up to 100 results"). */
const PREVIEW_MAX_RESULTS: NumberRule = { min: 1, max: 100 };
const DEFAULT_PAGE = 100;
const TAG_STATUS = ['TAGGED', 'UNTAGGED', 'ANY'] as const;

const previewInProgress = (repository: RepositoryRecord) =>
  new EcrException(
    'LifecyclePolicyPreviewInProgressException',
    // UNCONFIRMED wording: the exception is in the model, its message is not.
    `The previous lifecycle policy preview request for the repository with name '${repository.name}' in the registry with id '${repository.registryId}' has not completed. Please try again later.`,
  );

const previewNotFound = (repository: RepositoryRecord) =>
  new EcrException(
    'LifecyclePolicyPreviewNotFoundException',
    // UNCONFIRMED wording, as above.
    `Lifecycle policy preview does not exist for the repository with name '${repository.name}' in the registry with id '${repository.registryId}'`,
  );

/**
 * The images of a repository as the evaluator reads them, in listing order, each status brought to `now` first.
 * An image being restored (ACTIVATING) is still in the archive, with no archive time (so that no
 * `sinceImageTransitioned` rule acts on it while it comes back) *(choice: the guide does not say)*.
 */
export function lifecycleImages(repository: RepositoryRecord, now: number): LifecycleImage[] {
  const images: LifecycleImage[] = [];
  const store = repository.images;
  for (const image of store.after(0)) {
    const status = imageStatus(image, now);
    const parents = store.parentsOf(image.digest);
    const item: LifecycleImage = {
      digest: image.digest,
      tags: image.tags,
      pushedAt: image.pushedAt,
      storageClass: status === 'ACTIVE' ? 'standard' : 'archive',
    };
    if (image.lastPulledAt !== undefined) item.lastPulledAt = image.lastPulledAt;
    if (image.lastActivatedAt !== undefined) item.lastActivatedAt = image.lastActivatedAt;
    if (status === 'ARCHIVED' && image.lastArchivedAt !== undefined) item.lastArchivedAt = image.lastArchivedAt;
    if (parents.size > 0) item.referencedByIndex = [...parents];
    if (image.subjectDigest !== undefined) item.subjectDigest = image.subjectDigest;
    images.push(item);
  }
  return images;
}

/** Checks a policy text as PutLifecyclePolicy does (InvalidParameterException with the checker's reason). */
function checkedPolicy(text: string): LifecyclePolicy {
  const check = checkLifecyclePolicy(text);
  if (!check.valid) throw invalidParameter(constraintMessage('LifecyclePolicyText', check.reason));
  return check.policy;
}

const evaluate = (policy: LifecyclePolicy, repository: RepositoryRecord, now: number): LifecycleEvaluation =>
  evaluateLifecyclePolicy(policy, lifecycleImages(repository, now), now);

// StartLifecyclePolicyPreview

/**
 * Validation in ECR's order as far as the model shows it: the members, the repository, the policy (the given text,
 * else the stored one: `LifecyclePolicyNotFoundException`; an invalid one is `InvalidParameterException`), then a
 * preview still running (`LifecyclePolicyPreviewInProgressException`; UNCONFIRMED: which ECR checks first).
 */
function startLifecyclePolicyPreview(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const given = input.str('lifecyclePolicyText', LIFECYCLE_POLICY_TEXT);
  const repository = requireRepository(state, name);
  const policyText = given ?? repository.lifecyclePolicyText;
  if (policyText === undefined) throw lifecyclePolicyNotFound(repository);
  const policy = checkedPolicy(policyText);
  const last = repository.lifecyclePreview;
  if (last?.status === 'IN_PROGRESS') throw previewInProgress(repository);
  const now = ctx.now();
  const evaluation = evaluate(policy, repository, now);
  const transitioning = evaluation.summary.transitioningImageTotalCounts?.[0]?.imageTotalCount ?? 0;
  const preview: LifecyclePreviewRecord = {
    number: (last?.number ?? 0) + 1,
    policyText,
    status: 'IN_PROGRESS',
    startedAt: now,
    items: evaluation.actions.map(
      (action): LifecyclePreviewItem => ({
        digest: action.digest,
        tags: [...action.tags],
        pushedAt: action.pushedAt,
        storageClass: action.storageClass === 'archive' ? 'ARCHIVE' : 'STANDARD',
        action: action.action.type === 'expire' ? 'EXPIRE' : 'TRANSITION',
        appliedRulePriority: action.appliedRulePriority,
      }),
    ),
    expiringImageTotalCount: evaluation.summary.expiringImageTotalCount,
    transitioningImageTotalCount: transitioning,
  };
  repository.lifecyclePreview = preview;
  ctx.later(ctx.settings.scanDurationMs, () => {
    preview.status = 'COMPLETE';
  });
  return { ...repositoryRef(repository), lifecyclePolicyText: policyText, status: preview.status };
}

// GetLifecyclePolicyPreview

const previewResult = (item: LifecyclePreviewItem) => ({
  imageTags: [...item.tags],
  imageDigest: item.digest,
  imagePushedAt: toEpochSeconds(item.pushedAt),
  action: item.action === 'EXPIRE' ? { type: 'EXPIRE' } : { type: 'TRANSITION', targetStorageClass: 'ARCHIVE' },
  appliedRulePriority: item.appliedRulePriority,
  storageClass: item.storageClass,
});

/** Whether a preview item is one an id names: its digest, and its tag (as the preview saw the tags) if given. */
const namedBy = (item: LifecyclePreviewItem, id: ImageId) =>
  (id.imageDigest === undefined || id.imageDigest === item.digest) &&
  (id.imageTag === undefined || item.tags.includes(id.imageTag));

/**
 * The preview's results: none while IN_PROGRESS (its status says when to ask again; the waiter
 * `LifecyclePolicyPreviewComplete` polls it), then pages of the images it acts on in the repository's listing order,
 * the summary counting them all. `filter.tagStatus` keeps tagged or untagged results; `imageIds` keeps the results of
 * the images they name (an id naming none of them adds nothing: the operation has no ImageNotFound in the model) and
 * cannot be combined with `nextToken` or `maxResults`. A token is bound to the repository, the preview and the
 * filter: one from another preview is `InvalidParameterException`.
 */
function getLifecyclePolicyPreview(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const ids = readImageIds(input, false);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', PREVIEW_MAX_RESULTS);
  const tagStatus = input.obj('filter')?.str('tagStatus', { enum: TAG_STATUS }) ?? 'ANY';
  rejectPagingWithIds(input, 'imageIds');
  for (const id of ids ?? []) {
    const problem = imageIdProblem(id);
    if (problem !== undefined) throw invalidParameter(FAILURE_REASONS[problem]);
  }
  const repository = requireRepository(state, name);
  const preview = repository.lifecyclePreview;
  if (!preview) throw previewNotFound(repository);
  const listing = 'GetLifecyclePolicyPreview';
  const fingerprint = listingFingerprint(repository, String(preview.number), tagStatus);
  const from = nextToken === undefined ? 0 : decodeToken(nextToken, listing, fingerprint);
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) throw invalidToken();
  const answer = { ...repositoryRef(repository), lifecyclePolicyText: preview.policyText, status: preview.status };
  if (preview.status === 'IN_PROGRESS') return { ...answer, previewResults: [] };
  const kept = (item: LifecyclePreviewItem) => tagStatus === 'ANY' || (tagStatus === 'TAGGED') === item.tags.length > 0;
  const page: LifecyclePreviewItem[] = [];
  let resumeAt: number | undefined;
  if (ids) {
    for (const item of preview.items) if (kept(item) && ids.some((id) => namedBy(item, id))) page.push(item);
  } else {
    const limit = maxResults ?? DEFAULT_PAGE;
    for (let index = from; index < preview.items.length; index++) {
      const item = preview.items[index] as LifecyclePreviewItem;
      if (!kept(item)) continue;
      if (page.length === limit) {
        resumeAt = index;
        break;
      }
      page.push(item);
    }
  }
  const summary: Record<string, unknown> = { expiringImageTotalCount: preview.expiringImageTotalCount };
  if (preview.transitioningImageTotalCount > 0) {
    summary.transitioningImageTotalCounts = [
      { targetStorageClass: 'ARCHIVE', imageTotalCount: preview.transitioningImageTotalCount },
    ];
  }
  return {
    ...answer,
    ...(resumeAt === undefined ? {} : { nextToken: encodeToken(listing, fingerprint, resumeAt) }),
    previewResults: page.map(previewResult),
    summary,
  };
}

export const lifecyclePreviewOperations: OperationTable = {
  StartLifecyclePolicyPreview: startLifecyclePolicyPreview,
  GetLifecyclePolicyPreview: getLifecyclePolicyPreview,
};

// Running stored policies

/** An image a run acted on, or could not act on. */
export interface LifecycleRunImage {
  imageDigest: string;
  imageTags: string[];
  appliedRulePriority: number;
}

export interface LifecycleRunResult {
  repositoryName: string;
  /** Images deleted (`expire`). */
  expired: LifecycleRunImage[];
  /** Images moved to the archive (`transition`). */
  transitioned: LifecycleRunImage[];
  /** Images the evaluation acted on that could not be acted on, with why. */
  failed: (LifecycleRunImage & { reason: string })[];
  /** Set when the stored policy does not pass the checker (a fixture's, or a template's): nothing was done. */
  invalidPolicy?: string;
}

/**
 * Carries out one repository's stored lifecycle policy at registry time `now`, as ECR does when it runs it: each
 * image the evaluation expires is deleted as BatchDeleteImage deletes it by digest (with its "ECR Image Action"
 * DELETE event), each image it transitions is archived as UpdateImageStorageClass archives it (no event, as there).
 * A manifest list goes before the images it lists (deleted or archived first, so that neither ECR rule refuses the
 * child), to the end of the chain.
 */
export function runLifecyclePolicy(ctx: OpContext, repository: RepositoryRecord): LifecycleRunResult {
  const result: LifecycleRunResult = { repositoryName: repository.name, expired: [], transitioned: [], failed: [] };
  const text = repository.lifecyclePolicyText;
  if (text === undefined) return result;
  const check = checkLifecyclePolicy(text);
  if (!check.valid) return { ...result, invalidPolicy: check.reason };
  const now = ctx.now();
  repository.lifecyclePolicyEvaluatedAt = now;
  let pending = evaluate(check.policy, repository, now).actions;
  const store = repository.images;
  // A list before its children: each round takes the images none of whose lists stand in the way.
  while (pending.length > 0) {
    const waiting: typeof pending = [];
    const pendingDigests = new Set(pending.map((action) => action.digest));
    for (const action of pending) {
      const image = store.get(action.digest) as StoredImage;
      const entry = {
        imageDigest: image.digest,
        imageTags: [...image.tags],
        appliedRulePriority: action.appliedRulePriority,
      };
      const expire = action.action.type === 'expire';
      const blocking = [...store.parentsOf(image.digest)].filter((digest) => {
        const parent = store.get(digest);
        return parent !== undefined && (expire || imageStatus(parent, now) !== 'ARCHIVED');
      });
      if (blocking.some((digest) => pendingDigests.has(digest))) {
        waiting.push(action);
        continue;
      }
      if (blocking.length > 0) {
        result.failed.push({ ...entry, reason: `referenced by the manifest list ${blocking[0]}` });
        continue;
      }
      if (expire) {
        const outcome = deleteImageById(repository, { imageDigest: image.digest }, (deleted) =>
          emitDelete(ctx, repository, deleted.digest, undefined),
        );
        if ('failureCode' in outcome) result.failed.push({ ...entry, reason: outcome.failureReason });
        else result.expired.push(entry);
      } else {
        const status = imageStatus(image, now);
        if (status === 'ACTIVE') {
          archiveImage(ctx, repository, image, now);
          result.transitioned.push(entry);
        } else {
          result.failed.push({ ...entry, reason: `the image is ${status.toLowerCase()}` });
        }
      }
    }
    // No progress: lists waiting on one another (not possible in a well-formed repository); left as they are.
    if (waiting.length === pending.length) {
      for (const action of waiting) {
        result.failed.push({
          imageDigest: action.digest,
          imageTags: [...action.tags],
          appliedRulePriority: action.appliedRulePriority,
          reason: 'its manifest lists could not be acted on first',
        });
      }
      break;
    }
    pending = waiting;
  }
  return result;
}

/**
 * Runs the stored lifecycle policies of a state's repositories (`repositoryName` given: that one's only), in the
 * order the repositories were created; the answer lists each repository that has a policy.
 */
export function runLifecyclePolicies(
  ctx: OpContext,
  state: RegistryState,
  repositoryName?: string,
): LifecycleRunResult[] {
  const repositories =
    repositoryName === undefined
      ? [...state.repositories.values()].sort((a, b) => a.seq - b.seq)
      : [requireRepository(state, repositoryName)];
  return repositories
    .filter((repository) => repository.lifecyclePolicyText !== undefined)
    .map((repository) => runLifecyclePolicy(ctx, repository));
}
