import type { ImageRecord } from '../domain/image.ts';
import { type EcrGateway, reportedFailure } from '../ecr/index.ts';
import type { PushDecision } from '../policy/push/judge.ts';
import type { PushAction } from './report.ts';

/**
 * Carries the decision out, in an order that keeps the registry safe: the tag mutability first (once a repository is
 * immutable, nobody can move a tag between this verdict's read and its removals), then the offending tags (by tag,
 * never by digest), then the scan. In dry run every action is `planned` and nothing is sent.
 */
export async function act(
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
        actions.push({ ...action, ...reportedFailure(error) });
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
          const failed = reportedFailure(error);
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
        actions.push({ action: 'start-scan', ...reportedFailure(error) });
      }
    }
  }
  return actions;
}

/** Tags the decision removes, or would remove but finds already gone, in sorted order. */
export function offendingTags(decision: PushDecision): string[] {
  const tags = new Set<string>();
  for (const { violation, resolution } of decision.tagPolicy.violations) {
    if ((resolution === 'remove' || resolution === 'undo') && 'tag' in violation && violation.tag !== undefined) {
      tags.add(violation.tag);
    }
  }
  return [...tags].sort();
}
