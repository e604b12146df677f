import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { resolveDryRun } from '../config/dry-run.ts';
import { pushRuleFor } from '../config/load.ts';
import type { ImageRecord } from '../domain/image.ts';
import { type EcrGateway, RepositoryNotFoundError } from '../ecr/index.ts';
import { DETAIL_TYPES, type EcrImagePushDetail } from '../events/schemas.ts';
import { judgePush, type PushDecision, type PushFacts } from '../policy/push/judge.ts';
import type { PushPolicy } from '../policy/push/policy.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import { act, offendingTags } from './act.ts';
import { gatherPush } from './gather.ts';
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

/** What the push handler needs from the outside world; the handler wires the real ones, tests their own. */
export type OnImagePushDeps = Pick<ServiceDeps, 'config' | 'gateway' | 'publish' | 'logger' | 'metrics' | 'tracer'>;

/**
 * One "ECR Image Action" PUSH: judge the pushed image with its repository's push policy (`runPushPolicy`), publish the
 * "Image Push Verdict" on the service's bus, log it and emit metrics. The same event delivered twice, or a second
 * push of the same digest, starts no second scan and removes nothing more.
 */
export async function runPush(
  event: { id: string; time: string; detail: EcrImagePushDetail },
  deps: OnImagePushDeps,
): Promise<PushVerdict> {
  const config = deps.config();
  // ECR's and Inspector's events carry no dry-run request: the config alone decides.
  const gateway = deps.gateway({ readOnly: resolveDryRun(config.push.dryRun) });
  const repositoryName = event.detail['repository-name'];
  deps.tracer.putAnnotation('repository', repositoryName);
  deps.tracer.putAnnotation('dryRun', gateway.readOnly);
  const pushedTag = event.detail['image-tag'];
  const verdict = await runPushPolicy(gateway, {
    eventId: event.id,
    eventTime: event.time,
    repositoryName,
    digest: event.detail['image-digest'],
    ...(pushedTag === undefined ? {} : { pushedTag }),
    match: pushRuleFor(config.push, repositoryName),
  });
  const published = await deps.publish([{ detailType: DETAIL_TYPES.imagePushVerdict, detail: verdict }]);
  const apiCalls = { ...gateway.callCounts(), PutEvents: published.calls };

  const count = (action: PushVerdict['actions'][number]['action']) =>
    verdict.actions.filter((entry) => entry.action === action && entry.result === 'done').length;
  deps.metrics.addMetric('PushVerdicts', MetricUnit.Count, 1);
  deps.metrics.addMetric('PushViolations', MetricUnit.Count, verdict.checks?.tags.violations.length ?? 0);
  deps.metrics.addMetric('ScansStarted', MetricUnit.Count, count('start-scan'));
  deps.metrics.addMetric('TagsRemoved', MetricUnit.Count, count('remove-tag'));
  deps.metrics.addMetric('TagMutabilityCorrected', MetricUnit.Count, count('set-tag-mutability'));
  deps.metrics.addMetric(
    'EcrCalls',
    MetricUnit.Count,
    Object.entries(apiCalls).reduce((sum, [operation, n]) => sum + (operation === 'PutEvents' ? 0 : n), 0),
  );
  deps.logger.info('image push verdict', { verdict, apiCalls });
  return verdict;
}

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
