import type { ImageRecord } from '../domain/image.ts';
import {
  type EcrGateway,
  EcrGatewayError,
  ImageNotFoundError,
  RepositoryNotFoundError,
  ScanNotFoundError,
} from '../ecr/index.ts';
import { tagMatches } from '../policy/push/tags.ts';
import type { AllowListEntry } from '../policy/scan/allow-list.ts';
import {
  type EnhancedFindingInput,
  fromBasicFinding,
  fromEnhancedFinding,
  type ScanFinding,
} from '../policy/scan/findings.ts';
import { judgeScan, type ScanJudgement } from '../policy/scan/judge.ts';
import { quarantineTagOf, type ScanPolicy } from '../policy/scan/policy.ts';
import {
  MAX_LISTED_FINDINGS,
  type ScanAction,
  type ScanSkipCode,
  type ScanTrigger,
  type ScanVerdict,
} from './report.ts';

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

/** What ECR reports about an image's latest scan, every page read. */
export interface GatheredScan {
  status: string;
  description?: string;
  completedAt?: number;
  findings: ScanFinding[];
  enhanced: boolean;
}

/**
 * Reads every page of an image's scan findings (DescribeImageScanFindings, basic and enhanced lists). Throws the
 * gateway's errors (`ScanNotFoundError` when never scanned, `ImageNotFoundError`, `RepositoryNotFoundError`).
 */
export async function gatherScan(gateway: EcrGateway, repositoryName: string, digest: string): Promise<GatheredScan> {
  const findings: ScanFinding[] = [];
  let status = 'UNKNOWN';
  let description: string | undefined;
  let completedAt: number | undefined;
  let enhanced = false;
  for await (const page of gateway.getScanFindings(repositoryName, digest)) {
    status = page.status;
    description = page.statusDescription;
    completedAt = page.completedAt;
    for (const finding of page.findings) findings.push(fromBasicFinding(finding));
    for (const finding of page.enhancedFindings) findings.push(fromEnhancedFinding(finding));
    if (page.enhancedFindings.length > 0) enhanced = true;
  }
  return {
    status,
    ...(description === undefined ? {} : { description }),
    ...(completedAt === undefined ? {} : { completedAt }),
    findings,
    enhanced,
  };
}

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

/** A failed action is reported unless ECR may answer differently later: then the whole event is retried. */
function failureOf(error: unknown): { result: 'failed'; code: string; message: string } {
  if (!(error instanceof EcrGatewayError) || error.retryable) throw error;
  return { result: 'failed', code: error.code, message: error.message };
}

/**
 * Enforce mode. On FAIL: add the quarantine tag first (so that the image keeps a tag whatever is removed next), then
 * remove the tags matching `untag`, never the image's last one. On PASS: lift the quarantine tag, unless it is the
 * image's only tag. Report mode does nothing; dry run plans.
 */
async function act(
  gateway: EcrGateway,
  repositoryName: string,
  image: ImageRecord,
  policy: ScanPolicy,
  verdict: 'PASS' | 'FAIL',
): Promise<ScanAction[]> {
  if (policy.mode !== 'enforce') return [];
  const actions: ScanAction[] = [];
  const planned = gateway.readOnly;
  const quarantineTag =
    policy.quarantineTagPrefix === null ? undefined : quarantineTagOf(policy.quarantineTagPrefix, image.digest);
  const tags = new Set(image.tags);

  if (verdict === 'PASS') {
    if (quarantineTag === undefined || !tags.has(quarantineTag)) return actions;
    const action = { action: 'lift-quarantine' as const, tag: quarantineTag };
    if (tags.size === 1) actions.push({ ...action, result: 'left-in-place', message: 'the only tag of the image' });
    else if (planned) actions.push({ ...action, result: 'planned' });
    else actions.push(...(await untag(gateway, repositoryName, [quarantineTag], 'lift-quarantine')));
    return actions;
  }

  if (quarantineTag !== undefined) {
    const action = { action: 'quarantine-tag' as const, tag: quarantineTag };
    if (tags.has(quarantineTag)) actions.push({ ...action, result: 'already-done' });
    else if (planned) actions.push({ ...action, result: 'planned' });
    else {
      try {
        const outcome = await gateway.tagImage(repositoryName, image.digest, quarantineTag);
        actions.push({ ...action, result: outcome.result === 'tagged' ? 'done' : 'already-done' });
      } catch (error) {
        actions.push({ ...action, ...failureOf(error) });
      }
    }
    if (actions.at(-1)?.result !== 'failed') tags.add(quarantineTag);
  }

  const toRemove = [...tags]
    .filter((tag) => tag !== quarantineTag && policy.untag.some((pattern) => tagMatches(pattern, tag)))
    .sort();
  if (toRemove.length === 0) return actions;
  if (toRemove.length >= tags.size) {
    for (const tag of toRemove) {
      actions.push({
        action: 'remove-tag',
        tag,
        result: 'left-in-place',
        message: 'removing it would delete the image',
      });
    }
  } else if (planned) {
    for (const tag of toRemove) actions.push({ action: 'remove-tag', tag, result: 'planned' });
  } else actions.push(...(await untag(gateway, repositoryName, toRemove, 'remove-tag')));
  return actions;
}

async function untag(
  gateway: EcrGateway,
  repositoryName: string,
  tags: readonly string[],
  action: 'remove-tag' | 'lift-quarantine',
): Promise<ScanAction[]> {
  try {
    const outcome = await gateway.untagImages(repositoryName, tags);
    const failed = new Map(outcome.failed.map((failure) => [failure.tag, failure]));
    return tags.map((tag): ScanAction => {
      if (outcome.untagged.includes(tag)) return { action, tag, result: 'done' };
      if (outcome.alreadyGone.includes(tag)) return { action, tag, result: 'already-done' };
      const failure = failed.get(tag);
      return { action, tag, result: 'failed', code: failure?.code ?? 'NotInResponse', message: failure?.reason ?? '' };
    });
  } catch (error) {
    const failure = failureOf(error);
    return tags.map((tag) => ({ action, tag, ...failure }));
  }
}
