import type { LifecycleImage } from '@ecr-automation/lifecycle';
import type { ImageRecord } from '../../domain/image.ts';

/**
 * A repository's images as ECR's lifecycle evaluation sees them: each image with the indexes that list it (from the
 * gathered `childDigests`) and its OCI `subject`. ECR knows referrers only by their `subject`: a signature stored
 * beside its image under cosign's tag convention (`sha256-<hex>.sig`) is an ordinary tagged image to a lifecycle
 * policy, though the service's cleanup treats it as a referrer.
 */
export function toLifecycleImages(images: readonly ImageRecord[]): LifecycleImage[] {
  const listedBy = new Map<string, string[]>();
  for (const image of images) {
    for (const child of image.childDigests ?? []) {
      if (child === image.digest) continue;
      const lists = listedBy.get(child);
      if (lists === undefined) listedBy.set(child, [image.digest]);
      else if (!lists.includes(image.digest)) lists.push(image.digest);
    }
  }
  return images.map((image) => {
    const lists = listedBy.get(image.digest);
    return {
      digest: image.digest,
      tags: image.tags,
      pushedAt: image.pushedAt,
      storageClass: image.imageStatus === undefined ? 'standard' : 'archive',
      ...(image.lastPulledAt === undefined ? {} : { lastPulledAt: image.lastPulledAt }),
      ...(image.lastArchivedAt === undefined ? {} : { lastArchivedAt: image.lastArchivedAt }),
      ...(lists === undefined ? {} : { referencedByIndex: lists }),
      ...(image.subjectDigest === undefined ? {} : { subjectDigest: image.subjectDigest }),
    };
  });
}
