import type { ImageRecord } from '../domain/image.ts';
import type { EcrGateway } from '../ecr/index.ts';
import { needsRegistryScanning, type PushFacts } from '../policy/push/judge.ts';
import type { PushPolicy } from '../policy/push/policy.ts';

/** Reads what the policy looks at; undefined when the image is gone. */
export async function gatherPush(
  gateway: EcrGateway,
  input: { repositoryName: string; digest: string; pushedTag?: string },
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
