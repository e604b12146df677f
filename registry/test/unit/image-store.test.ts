import { describe, expect, it } from 'vitest';
import { buildImageManifest, buildIndexManifest, describeManifest } from '../../src/model/manifests.ts';
import { newImage, newRepository, parseManifest } from '../../src/model/records.ts';
import { RegistryState, type RepositoryRecord } from '../../src/model/state.ts';

const repositoryWith = (count: number): { repository: RepositoryRecord; digests: string[] } => {
  const repository = newRepository(new RegistryState('123456789012', 'us-east-1'), 'unit/store', 0);
  const digests: string[] = [];
  for (let i = 0; i < count; i++) {
    const manifest = buildImageManifest({ seed: `s${i}` });
    const image = newImage(repository, manifest, parseManifest(manifest), i);
    repository.images.add(image);
    digests.push(image.digest);
  }
  return { repository, digests };
};

/** Reads the listing in pages of `size`, resuming after the last seq, running `between` after each page. */
const pageThrough = (repository: RepositoryRecord, size: number, between: (page: number) => void) => {
  const seen: string[] = [];
  let after = 0;
  for (let page = 0; ; page++) {
    const batch: { digest: string; seq: number }[] = [];
    for (const image of repository.images.after(after)) {
      batch.push(image);
      if (batch.length === size) break;
    }
    if (batch.length === 0) return seen;
    seen.push(...batch.map((image) => image.digest));
    after = batch[batch.length - 1]?.seq ?? after;
    between(page);
  }
};

describe('ImageStore', () => {
  it('lists every image once in push order across pages', () => {
    // Prepare
    const { repository, digests } = repositoryWith(2_500);
    // Act
    const seen = pageThrough(repository, 100, () => {});
    // Assess
    expect(seen).toEqual(digests);
  });

  it('returns each image present throughout exactly once while others are deleted and pushed between pages', () => {
    // Prepare
    const { repository, digests } = repositoryWith(5_000);
    const doomed = new Set(digests.filter((_, i) => i % 3 !== 0));
    const doomedList = [...doomed];
    let added = 0;
    // Act: delete 3,333 images (enough for the listing to compact itself) and push new ones while paging
    const seen = pageThrough(repository, 250, (page) => {
      for (const digest of doomedList.splice(0, 400)) repository.images.delete(digest);
      for (let i = 0; i < 20 && page < 10; i++) {
        const manifest = buildImageManifest({ seed: `new${added++}` });
        repository.images.add(newImage(repository, manifest, parseManifest(manifest), 0));
      }
    });
    // Assess
    const survivors = digests.filter((digest) => !doomed.has(digest));
    const seenSet = new Set(seen);
    expect(seen.length).toBe(seenSet.size);
    for (const digest of survivors) expect(seenSet.has(digest)).toBe(true);
    expect(repository.images.size).toBe(survivors.length + added);
  });

  it('moves a tag between images and forgets the tags of a deleted image', () => {
    // Prepare
    const { repository, digests } = repositoryWith(2);
    const [first, second] = digests as [string, string];
    repository.images.setTag('v1', first);
    repository.images.setTag('latest', first);
    // Act
    const left = repository.images.setTag('latest', second);
    repository.images.delete(first);
    // Assess
    expect(left?.digest).toBe(first);
    expect(repository.images.digestForTag('latest')).toBe(second);
    expect(repository.images.digestForTag('v1')).toBeUndefined();
    expect(repository.images.get(second)?.tags).toEqual(['latest']);
  });

  it('indexes the parents of index children until the index is deleted', () => {
    // Prepare
    const { repository, digests } = repositoryWith(2);
    const children = digests.map((digest) => {
      const image = repository.images.get(digest);
      return describeManifest(image?.manifest ?? '');
    });
    const index = buildIndexManifest(children);
    const record = newImage(repository, index, parseManifest(index), 0);
    repository.images.add(record);
    // Act
    const before = [...repository.images.parentsOf(digests[0] as string)];
    repository.images.delete(record.digest);
    // Assess
    expect(before).toEqual([record.digest]);
    expect(repository.images.parentsOf(digests[0] as string).size).toBe(0);
    expect(record.sizeInBytes).toBe(repository.images.get(digests[0] as string)?.sizeInBytes);
  });
});
