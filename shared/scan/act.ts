import type { ImageRecord } from '../domain/image.ts';
import { type EcrGateway, reportedFailure } from '../ecr/index.ts';
import { tagMatches } from '../policy/push/tags.ts';
import { quarantineTagOf, type ScanPolicy } from '../policy/scan/policy.ts';
import type { ScanAction } from './report.ts';

/**
 * Enforce mode. On FAIL: add the quarantine tag first (so that the image keeps a tag whatever is removed next), then
 * remove the tags matching `untag`, never the image's last one. On PASS: lift the quarantine tag, unless it is the
 * image's only tag. Report mode does nothing; dry run plans.
 */
export async function act(
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
        actions.push({ ...action, ...reportedFailure(error) });
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
    const failure = reportedFailure(error);
    return tags.map((tag) => ({ action, tag, ...failure }));
  }
}
