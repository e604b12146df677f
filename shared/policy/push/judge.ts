import type { ImageRecord } from '../../domain/image.ts';
import { classifyImage, type ImageKind } from './classify.ts';
import { decideMutability, type MutabilityDecision } from './mutability.ts';
import type { PushPolicy } from './policy.ts';
import { decideScan, isScannable, type RegistryScanning, type ScanDecision } from './scan.ts';
import { judgeTags, type TagJudgement } from './tags.ts';

/** Everything the push policy looks at, gathered by the handler (no clock, no AWS here). */
export interface PushFacts {
  repositoryName: string;
  /** The pushed image as DescribeImages reports it now. */
  image: Pick<ImageRecord, 'digest' | 'tags' | 'manifestMediaType' | 'artifactMediaType' | 'subjectDigest'>;
  /** The event's `image-tag`: absent for a push by digest (an index's child, a referrer). */
  pushedTag?: string;
  /**
   * Where the pushed tag is now, when the image no longer carries it: `gone` (no image has it: removed since the
   * push, by this service on an earlier delivery or by someone else) or `moved` (another image has it now).
   */
  pushedTagNow?: 'gone' | 'moved';
  repository: { imageTagMutability: string; exclusions: readonly string[]; scanOnPush: boolean };
  /** Needed only when `needsRegistryScanning` says so. */
  registryScanning?: RegistryScanning;
}

export interface PushDecision {
  kind: ImageKind;
  /** The tags judged, sorted: the image's tags, and the pushed tag when it is gone (not when it moved). */
  tags: string[];
  scan: ScanDecision;
  tagPolicy: TagJudgement;
  mutability: MutabilityDecision;
}

/** The tags judged: a pushed tag removed since the push is judged as if still there, so a re-delivery agrees. */
export function tagsToJudge(facts: Pick<PushFacts, 'image' | 'pushedTag' | 'pushedTagNow'>): string[] {
  const tags = new Set(facts.image.tags);
  if (facts.pushedTag !== undefined && facts.pushedTagNow === 'gone') tags.add(facts.pushedTag);
  return [...tags].sort();
}

/** Whether deciding needs the registry scanning configuration (one ECR call the handler skips otherwise). */
export function needsRegistryScanning(
  facts: Pick<PushFacts, 'image' | 'pushedTag' | 'pushedTagNow'>,
  policy: PushPolicy,
) {
  return policy.scan && isScannable(classifyImage(facts.image, tagsToJudge(facts)), facts.image.manifestMediaType);
}

/**
 * The push policy's judgement of one pushed image: what it is, whether it needs a scan, which tags offend and what
 * enforcement does about them, and whether the repository's tag mutability needs correcting. Pure: the same facts
 * and policy always give the same decision.
 */
export function judgePush(facts: PushFacts, policy: PushPolicy): PushDecision {
  const tags = tagsToJudge(facts);
  const kind = classifyImage(facts.image, tags);
  const tagJudgement = judgeTags({
    kind,
    tags,
    currentTags: facts.image.tags,
    pushedTag: facts.pushedTag,
    rules: policy.tags,
    mode: policy.mode,
    undoPush: policy.undoPush,
  });
  const scan: ScanDecision = tagJudgement.undo
    ? { reason: { code: 'push-undone' }, start: false }
    : decideScan({
        repositoryName: facts.repositoryName,
        kind,
        manifestMediaType: facts.image.manifestMediaType,
        repositoryScanOnPush: facts.repository.scanOnPush,
        registry: facts.registryScanning,
        policyScans: policy.scan,
      });
  const mutability = decideMutability({
    found: { setting: facts.repository.imageTagMutability, exclusions: facts.repository.exclusions },
    policy: policy.tagMutability,
    mode: policy.mode,
  });
  return { kind, tags, scan, tagPolicy: tagJudgement, mutability };
}
