import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { resolveDryRun } from '../config/dry-run.ts';
import { scanRuleFor } from '../config/load.ts';
import type { ImageRecord } from '../domain/image.ts';
import { type EcrGateway, ImageNotFoundError, RepositoryNotFoundError, ScanNotFoundError } from '../ecr/index.ts';
import {
  DETAIL_TYPES,
  type EcrImageScanDetail,
  type InspectorFindingDetail,
  type InspectorScanDetail,
} from '../events/schemas.ts';
import type { AllowListEntry } from '../policy/scan/allow-list.ts';
import { type EnhancedFindingInput, fromEnhancedFinding, type ScanFinding } from '../policy/scan/findings.ts';
import { judgeScan, type ScanJudgement } from '../policy/scan/judge.ts';
import type { ScanPolicy } from '../policy/scan/policy.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import { act } from './act.ts';
import { findingOfEvent, type GatheredScan, gatherScan, imageOfFinding, repositoryNameOf } from './gather.ts';
import { MAX_LISTED_FINDINGS, type ScanSkipCode, type ScanTrigger, type ScanVerdict } from './report.ts';

/** What the scan handler needs from the outside world; the handler wires the real ones, tests their own. */
export type OnScanResultDeps = Pick<
  ServiceDeps,
  'config' | 'gateway' | 'publish' | 'now' | 'logger' | 'metrics' | 'tracer'
>;

/** The three events that bring a scan result, as the handler's parser lets them through. */
export type ScanResultEvent = { id: string; time: string } & (
  | { source: 'aws.ecr'; detailType: 'ECR Image Scan'; detail: EcrImageScanDetail }
  | { source: 'aws.inspector2'; detailType: 'Inspector2 Scan'; detail: InspectorScanDetail }
  | { source: 'aws.inspector2'; detailType: 'Inspector2 Finding'; detail: InspectorFindingDetail }
);

/** The image an event is about, with the event's own view of it. */
function targetOf(event: ScanResultEvent): Pick<ScanRunInput, 'repositoryName' | 'digest' | 'eventTags' | 'trigger'> & {
  eventFinding?: ScanRunInput['eventFinding'];
} {
  const trigger = { eventId: event.id, eventTime: event.time, source: event.source, detailType: event.detailType };
  if (event.detailType === 'Inspector2 Finding') {
    const image = imageOfFinding(event.detail);
    if (!image) throw new Error('invariant: the parser lets through only findings about an ECR image');
    const eventFinding = findingOfEvent(event.detail);
    return {
      repositoryName: image.repositoryName,
      digest: image.digest,
      eventTags: image.tags,
      eventFinding,
      trigger: {
        ...trigger,
        finding: {
          findingArn: event.detail.findingArn,
          id: eventFinding.vulnerabilityId ?? eventFinding.title ?? event.detail.findingArn,
          status: event.detail.status,
        },
      },
    };
  }
  return {
    // Inspector2 Scan's `repository-name` holds the repository ARN (docs/ecr-limits.md#inspector-events).
    repositoryName: repositoryNameOf(event.detail['repository-name']),
    digest: event.detail['image-digest'],
    eventTags: event.detail['image-tags'],
    trigger,
  };
}

/**
 * One scan result: judge the image with its repository's scan policy (`runScanVerdict`), publish the "Image Scan
 * Verdict" on the service's bus, log it and emit metrics. The findings are read again from ECR every time, so the
 * same event delivered twice gives the same verdict, and a late event the verdict of the image as it is now.
 */
export async function runScan(event: ScanResultEvent, deps: OnScanResultDeps): Promise<ScanVerdict> {
  const config = deps.config();
  // ECR's and Inspector's events carry no dry-run request: the config alone decides.
  const gateway = deps.gateway({ readOnly: resolveDryRun(config.scan.dryRun) });
  const target = targetOf(event);
  deps.tracer.putAnnotation('repository', target.repositoryName);
  deps.tracer.putAnnotation('dryRun', gateway.readOnly);
  const verdict = await runScanVerdict(gateway, {
    ...target,
    match: scanRuleFor(config.scan, target.repositoryName),
    allowList: config.scan.allowList,
    now: deps.now(),
  });
  const published = await deps.publish([{ detailType: DETAIL_TYPES.imageScanVerdict, detail: verdict }]);
  const apiCalls = { ...gateway.callCounts(), PutEvents: published.calls };

  deps.metrics.addMetric('ScanVerdicts', MetricUnit.Count, 1);
  deps.metrics.addMetric('ScanFailVerdicts', MetricUnit.Count, verdict.verdict === 'FAIL' ? 1 : 0);
  deps.metrics.addMetric('ScanVerdictFlips', MetricUnit.Count, verdict.flip ? 1 : 0);
  deps.metrics.addMetric('ExpiredAllowListMatches', MetricUnit.Count, verdict.expiredEntries?.length ?? 0);
  deps.metrics.addMetric(
    'QuarantineActions',
    MetricUnit.Count,
    verdict.actions.filter((action) => action.result === 'done').length,
  );
  deps.logger.info('image scan verdict', { verdict, apiCalls });
  return verdict;
}

export interface ScanRunInput {
  trigger: ScanTrigger;
  repositoryName: string;
  digest: string;
  /** The tags the event names (used when the image cannot be read). */
  eventTags: readonly string[];
  /** The finding an "Inspector2 Finding" event carries (with `firstObservedAt`, to tell a new finding). */
  eventFinding?: EnhancedFindingInput & { firstObservedAt?: number };
  /** The scan rule that matched (`scanRuleFor`); undefined gives a skipped verdict. */
  match: { rule: ScanPolicy; index: number } | undefined;
  allowList: readonly AllowListEntry[];
  /** The clock: which allow-list entries have expired. */
  now: number;
  /** Carry out the policy's actions (default true; the CLI gate only reads). */
  act?: boolean;
}

/** Statuses whose findings are judged: basic COMPLETE, enhanced ACTIVE (monitored continuously). */
const JUDGED_STATUSES: ReadonlySet<string> = new Set(['COMPLETE', 'ACTIVE']);

/** Statuses that mean "not yet": the next completion brings the verdict. */
const PENDING_STATUSES: ReadonlySet<string> = new Set(['IN_PROGRESS', 'PENDING']);

/**
 * An Inspector finding event against the findings ECR lists: the newer of the two wins. Returns the findings to judge,
 * the findings as they were before the event's change (to tell a flip; undefined when that cannot be known: the event
 * updates a finding without saying what it was), and whether the event is older than what ECR reports (stale).
 */
function mergeEventFinding(
  listed: ScanFinding[],
  event: EnhancedFindingInput & { firstObservedAt?: number },
): { current: ScanFinding[]; before?: ScanFinding[]; stale: boolean } {
  const fromEvent = fromEnhancedFinding(event);
  const index = listed.findIndex((finding) => finding.findingArn === event.findingArn);
  const known = index < 0 ? undefined : listed[index];
  if (known?.updatedAt !== undefined && event.updatedAt !== undefined && known.updatedAt > event.updatedAt) {
    return { current: listed, stale: true };
  }
  const without = index < 0 ? listed : [...listed.slice(0, index), ...listed.slice(index + 1)];
  const current = [...without, fromEvent];
  if (fromEvent.status === 'CLOSED') {
    return { current, before: [...without, { ...fromEvent, status: 'ACTIVE' }], stale: false };
  }
  const created = event.firstObservedAt !== undefined && event.firstObservedAt === event.updatedAt;
  return created ? { current, before: without, stale: false } : { current, stale: false };
}

/**
 * One scan result through the scan policy: gather (the image, every page of its findings), decide (pure: thresholds
 * and allow-list, `judgeScan`), act (enforce mode: quarantine tag, tag removal; nothing in dry run, where the gateway
 * is read-only), and return the verdict. The findings are always read again from ECR, so a re-delivered or late event
 * gives the verdict of the image as it is now: the newest verdict wins. A repository, image or scan gone before the
 * handler ran gives a skipped verdict and no mutating call; ECR errors the caller can retry are thrown.
 */
export async function runScanVerdict(gateway: EcrGateway, input: ScanRunInput): Promise<ScanVerdict> {
  const base = {
    trigger: input.trigger,
    repositoryName: input.repositoryName,
    digest: input.digest,
    dryRun: gateway.readOnly,
    judgedAt: new Date(input.now).toISOString(),
  };
  const skipped = (code: ScanSkipCode, message: string, tags: readonly string[] = input.eventTags): ScanVerdict => ({
    ...base,
    tags: [...tags].sort(),
    verdict: 'SKIPPED',
    skipped: { code, message },
    actions: [],
  });
  if (!input.match) return skipped('no-policy', 'No enabled scan rule matches this repository; nothing was judged');
  const { rule, index } = input.match;

  let image: ImageRecord | undefined;
  let scan: GatheredScan;
  try {
    ({
      images: [image],
    } = await gateway.describeImages(input.repositoryName, [input.digest]));
    if (!image) return imageGone();
    scan = await gatherScan(gateway, input.repositoryName, input.digest);
  } catch (error) {
    if (error instanceof RepositoryNotFoundError) {
      return skipped('repository-gone', `The repository no longer exists: ${error.message}`);
    }
    if (error instanceof ImageNotFoundError) return imageGone();
    if (error instanceof ScanNotFoundError) {
      return skipped('scan-not-found', `ECR has no scan of ${input.digest}: ${error.message}`, image?.tags);
    }
    throw error;
  }
  const tags = [...image.tags].sort();
  const judged = { ...base, tags, ruleIndex: index, mode: rule.mode };
  const scanInfo = {
    status: scan.status,
    ...(scan.description === undefined ? {} : { description: scan.description }),
    type: scan.enhanced || input.trigger.source === 'aws.inspector2' ? ('ENHANCED' as const) : ('BASIC' as const),
    ...(scan.completedAt === undefined ? {} : { completedAt: new Date(scan.completedAt).toISOString() }),
    findings: scan.findings.length,
  };
  if (PENDING_STATUSES.has(scan.status)) {
    return skipped(
      'scan-in-progress',
      `A scan of ${input.digest} is in progress; its completion brings the verdict`,
      tags,
    );
  }
  if (!JUDGED_STATUSES.has(scan.status)) {
    return {
      ...judged,
      verdict: 'FAIL',
      scan: scanInfo,
      reason: {
        code: 'scan-failed',
        scanStatus: scan.status,
        message: `The scan did not complete (${scan.status}${scan.description ? `: ${scan.description}` : ''}); an image nobody could scan does not pass`,
      },
      actions: [],
    };
  }

  let findings = scan.findings;
  let before: ScanFinding[] | undefined;
  let trigger = input.trigger;
  if (input.eventFinding) {
    const merged = mergeEventFinding(findings, input.eventFinding);
    findings = merged.current;
    before = merged.before;
    if (merged.stale) trigger = { ...trigger, stale: true };
  }
  const judge = (list: readonly ScanFinding[]): ScanJudgement =>
    judgeScan({
      findings: list,
      policy: rule,
      allowList: input.allowList,
      repositoryName: input.repositoryName,
      digest: input.digest,
      now: input.now,
    });
  const judgement = judge(findings);
  const previous = before === undefined ? undefined : judge(before).verdict;
  const actions = input.act === false ? [] : await act(gateway, input.repositoryName, image, rule, judgement.verdict);
  return {
    ...judged,
    trigger,
    verdict: judgement.verdict,
    scan: { ...scanInfo, findings: findings.length },
    counts: judgement.counts,
    breaches: judgement.breaches,
    blocking: judgement.blocking.slice(0, MAX_LISTED_FINDINGS),
    blockingTotal: judgement.blocking.length,
    allowed: judgement.allowed.slice(0, MAX_LISTED_FINDINGS),
    allowedTotal: judgement.allowed.length,
    expiredEntries: judgement.expiredEntries,
    ...(previous !== undefined && previous !== judgement.verdict
      ? { flip: { from: previous, to: judgement.verdict } }
      : {}),
    actions,
  };

  function imageGone(): ScanVerdict {
    return skipped(
      'image-gone',
      `The image ${input.digest} is no longer in ${input.repositoryName} (deleted before its scan was judged)`,
    );
  }
}
