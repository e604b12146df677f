import type { ImageRecord } from '../domain/image.ts';
import { type EcrGateway, EcrGatewayError, RepositoryNotFoundError } from '../ecr/index.ts';
import { judgePush, needsRegistryScanning, type PushDecision, type PushFacts } from '../policy/push/judge.ts';
import type { PushPolicy } from '../policy/push/policy.ts';
import type {
  ActionResult,
  CheckOutcome,
  PushAction,
  PushChecks,
  PushVerdict,
  PushVerdictStatus,
  SkipCode,
  ViolationResolution,
} from './report.ts';

export interface PushRunInput {
  /** The ECR event's id and time. */
  eventId: string;
  eventTime: string;
  repositoryName: string;
  digest: string;
  /** The event's `image-tag`. */
  pushedTag?: string;
  /** The push rule that matched (from `pushRuleFor`); undefined gives a skipped verdict. */
  match: { rule: PushPolicy; index: number } | undefined;
}

type VerdictBase = Pick<PushVerdict, 'eventId' | 'eventTime' | 'repositoryName' | 'digest' | 'pushedTag' | 'dryRun'>;

const skipped = (base: VerdictBase, code: SkipCode, message: string, tags: string[] = []): PushVerdict => ({
  ...base,
  tags,
  status: 'skipped',
  skipped: { code, message },
  actions: [],
});

/**
 * One pushed image through the push policy: gather (the repository, the image, the registry scanning configuration
 * when a scan may be needed), decide (pure), act (correct the tag mutability, remove offending tags, start the scan;
 * nothing in dry run, where the gateway is read-only), and return the verdict. A repository or image gone before the
 * handler ran gives a skipped verdict and no mutating call. ECR errors the caller can retry (throttling, 5xx) are
 * thrown, so that Lambda retries the event (every step is idempotent); other failures of an action are reported in
 * the verdict.
 */
export async function runPushPolicy(gateway: EcrGateway, input: PushRunInput): Promise<PushVerdict> {
  const base: VerdictBase = {
    eventId: input.eventId,
    eventTime: input.eventTime,
    repositoryName: input.repositoryName,
    digest: input.digest,
    ...(input.pushedTag === undefined ? {} : { pushedTag: input.pushedTag }),
    dryRun: gateway.readOnly,
  };
  const pushedTags = input.pushedTag === undefined ? [] : [input.pushedTag];
  if (!input.match) {
    return skipped(base, 'no-policy', 'No enabled push rule matches this repository; nothing was checked', pushedTags);
  }
  const { rule, index } = input.match;
  let gathered: { facts: PushFacts; image: ImageRecord } | undefined;
  try {
    gathered = await gatherPush(gateway, input, rule);
  } catch (error) {
    if (error instanceof RepositoryNotFoundError) {
      return skipped(base, 'repository-gone', `The repository no longer exists: ${error.message}`, pushedTags);
    }
    throw error;
  }
  if (!gathered) {
    return skipped(
      base,
      'image-gone',
      `The image ${input.digest} is no longer in ${input.repositoryName} (deleted before the push was judged)`,
      pushedTags,
    );
  }
  const decision = judgePush(gathered.facts, rule);
  const actions = await act(gateway, input.repositoryName, gathered.image, decision);
  const checks = checksOf(decision, actions);
  return {
    ...base,
    tags: decision.tags,
    kind: decision.kind,
    status: statusOf(checks),
    ruleIndex: index,
    mode: rule.mode,
    checks,
    actions,
  };
}

/** Reads what the policy looks at; undefined when the image is gone. */
async function gatherPush(
  gateway: EcrGateway,
  input: PushRunInput,
  rule: PushPolicy,
): Promise<{ facts: PushFacts; image: ImageRecord } | undefined> {
  const repository = await gateway.getRepository(input.repositoryName);
  const {
    images: [found],
  } = await gateway.describeImages(input.repositoryName, [input.digest]);
  if (!found) return undefined;
  let image: ImageRecord = found;
  let pushedTagNow: PushFacts['pushedTagNow'];
  if (input.pushedTag !== undefined && !image.tags.includes(input.pushedTag)) {
    const holder = await gateway.findImageByTag(input.repositoryName, input.pushedTag);
    if (holder === undefined) pushedTagNow = 'gone';
    else if (holder.digest === image.digest)
      image = holder; // tagged again between the two reads
    else pushedTagNow = 'moved';
  }
  const facts: PushFacts = {
    repositoryName: input.repositoryName,
    image,
    ...(input.pushedTag === undefined ? {} : { pushedTag: input.pushedTag }),
    ...(pushedTagNow === undefined ? {} : { pushedTagNow }),
    repository: {
      imageTagMutability: repository.imageTagMutability,
      exclusions: repository.imageTagMutabilityExclusionFilters.map((filter) => filter.filter),
      scanOnPush: repository.scanOnPush,
    },
  };
  if (needsRegistryScanning(facts, rule)) facts.registryScanning = await gateway.getRegistryScanningConfiguration();
  return { facts, image };
}

/** A failed action is reported unless ECR may answer differently later: then the whole event is retried. */
function failureOf(error: unknown): { result: ActionResult; code: string; message: string } {
  if (!(error instanceof EcrGatewayError) || error.retryable) throw error;
  return { result: 'failed', code: error.code, message: error.message };
}

/**
 * Carries the decision out, in an order that keeps the registry safe: the tag mutability first (once a repository is
 * immutable, nobody can move a tag between this verdict's read and its removals), then the offending tags (by tag,
 * never by digest), then the scan. In dry run every action is `planned` and nothing is sent.
 */
async function act(
  gateway: EcrGateway,
  repositoryName: string,
  image: ImageRecord,
  decision: PushDecision,
): Promise<PushAction[]> {
  const actions: PushAction[] = [];
  const planned = gateway.readOnly;

  const { change } = decision.mutability;
  const reason = decision.mutability.reason;
  if (change && reason.code === 'drift') {
    const action = { action: 'set-tag-mutability' as const, from: reason.found, to: reason.required };
    if (planned) actions.push({ ...action, result: 'planned' });
    else {
      try {
        await gateway.putTagMutability(repositoryName, change.setting, change.exclusions);
        actions.push({ ...action, result: 'done' });
      } catch (error) {
        actions.push({ ...action, ...failureOf(error) });
      }
    }
  }

  const offending = offendingTags(decision);
  if (offending.length > 0) {
    const toRemove = new Set(decision.tagPolicy.toRemove);
    const results = new Map<string, Omit<Extract<PushAction, { action: 'remove-tag' }>, 'action' | 'tag'>>();
    for (const tag of offending) if (!toRemove.has(tag)) results.set(tag, { result: 'already-done' });
    if (toRemove.size > 0) {
      if (planned) for (const tag of toRemove) results.set(tag, { result: 'planned' });
      else {
        try {
          const outcome = await gateway.untagImages(repositoryName, [...toRemove]);
          for (const tag of outcome.untagged) results.set(tag, { result: 'done' });
          for (const tag of outcome.alreadyGone) results.set(tag, { result: 'already-done' });
          for (const failure of outcome.failed) {
            if (failure.tag !== undefined) {
              results.set(failure.tag, { result: 'failed', code: failure.code, message: failure.reason });
            }
          }
        } catch (error) {
          const failed = failureOf(error);
          for (const tag of toRemove) results.set(tag, failed);
        }
      }
    }
    for (const tag of offending) {
      actions.push({ action: 'remove-tag', tag, ...(results.get(tag) ?? { result: 'failed', code: 'NotInResponse' }) });
    }
  }

  if (decision.scan.start) {
    if (planned) actions.push({ action: 'start-scan', result: 'planned' });
    else if (image.scanStatus !== undefined) {
      actions.push({
        action: 'start-scan',
        result: 'already-done',
        message: `DescribeImages reports a scan (${image.scanStatus})`,
      });
    } else {
      try {
        const outcome = await gateway.startImageScan(repositoryName, image.digest);
        if (outcome.started) actions.push({ action: 'start-scan', result: 'done', message: outcome.status });
        else {
          actions.push({
            action: 'start-scan',
            result: outcome.reason === 'scan-quota-exceeded' ? 'already-done' : 'declined',
            code: outcome.reason,
            message: outcome.message,
          });
        }
      } catch (error) {
        actions.push({ action: 'start-scan', ...failureOf(error) });
      }
    }
  }
  return actions;
}

/** Tags the decision removes, or would remove but finds already gone, in sorted order. */
function offendingTags(decision: PushDecision): string[] {
  const tags = new Set<string>();
  for (const { violation, resolution } of decision.tagPolicy.violations) {
    if ((resolution === 'remove' || resolution === 'undo') && 'tag' in violation && violation.tag !== undefined) {
      tags.add(violation.tag);
    }
  }
  return [...tags].sort();
}

const succeeded = (result: ActionResult | undefined) => result === 'done' || result === 'already-done';

function checksOf(decision: PushDecision, actions: readonly PushAction[]): PushChecks {
  const resultOf = (tag: string) =>
    actions.find((action) => action.action === 'remove-tag' && action.tag === tag)?.result;
  const scanAction = actions.find((action) => action.action === 'start-scan');
  const mutabilityAction = actions.find((action) => action.action === 'set-tag-mutability');

  // Scan
  let scanOutcome: CheckOutcome;
  const scanReason = decision.scan.reason;
  if (decision.scan.start) {
    scanOutcome = succeeded(scanAction?.result)
      ? 'pass'
      : scanAction?.result === 'declined'
        ? 'not-applicable'
        : 'violation';
  } else if (scanReason.code === 'ecr-scans-on-push' || scanReason.code === 'ecr-scans-continuously') {
    scanOutcome = 'pass';
  } else if (scanReason.code === 'enhanced-scanning-not-covering') scanOutcome = 'violation';
  else scanOutcome = 'not-applicable';

  // Tags
  const removedCount = offendingTags(decision).filter((tag) => succeeded(resultOf(tag))).length;
  const violations = decision.tagPolicy.violations.map(({ violation, resolution }) => {
    let final: ViolationResolution;
    if (resolution === 'report') final = 'reported';
    else if (resolution === 'left-in-place') final = 'left-in-place';
    else if ('tag' in violation && violation.tag !== undefined && succeeded(resultOf(violation.tag))) {
      final = resolution === 'undo' ? 'undone' : 'removed';
    } else final = 'not-removed';
    return { ...violation, resolution: final };
  });
  const fixed = (violation: (typeof violations)[number]) =>
    (violation.resolution === 'removed' || violation.resolution === 'undone') &&
    (violation.code !== 'too-many-tags' || violation.count - removedCount <= violation.max);
  const tagsReason = decision.tagPolicy.reason;
  const tagsOutcome: CheckOutcome =
    tagsReason.code === 'untagged-push' || tagsReason.code === 'referrer'
      ? 'not-applicable'
      : violations.length === 0
        ? 'pass'
        : violations.every(fixed)
          ? 'corrected'
          : 'violation';

  // Tag mutability
  const mutabilityReason = decision.mutability.reason;
  const mutabilityOutcome: CheckOutcome =
    mutabilityReason.code === 'no-mutability-policy'
      ? 'not-applicable'
      : mutabilityReason.code === 'as-policy'
        ? 'pass'
        : succeeded(mutabilityAction?.result)
          ? 'corrected'
          : 'violation';

  return {
    scan: { outcome: scanOutcome, reason: scanReason },
    tags: { outcome: tagsOutcome, reason: tagsReason, violations, exempt: decision.tagPolicy.exempt },
    tagMutability: { outcome: mutabilityOutcome, reason: mutabilityReason },
  };
}

function statusOf(checks: PushChecks): PushVerdictStatus {
  const outcomes = [checks.scan.outcome, checks.tags.outcome, checks.tagMutability.outcome];
  if (outcomes.includes('violation')) return 'violations';
  if (outcomes.includes('corrected')) return 'corrected';
  return 'compliant';
}
