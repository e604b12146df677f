import { afterEach, describe, expect, it } from 'vitest';
import { BlobStore } from '../../src/model/blob-store.ts';
import { MEDIA_TYPES } from '../../src/model/manifests.ts';
import { Registry } from '../../src/model/state.ts';
import { linkBlob } from '../../src/ops/blob-links.ts';
import type { OpContext } from '../../src/ops/context.ts';
import { pushManifest, recordPull, repositoryForPush } from '../../src/ops/distribution.ts';
import { ecrOperations, replayOperations } from '../../src/ops/index.ts';

/**
 * What the registry API changes is journalled so that replaying the journal (ECR operations by name, and
 * `replayOperations`) rebuilds the same state: a repository created on push, blobs linked, manifests pushed, pulls.
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

interface Entry {
  op: string;
  input: Record<string, unknown>;
  at: number;
}

function contextFor(registry: Registry, clock: { now: number }, journal: Entry[], accessKeyId = 'AKIDLOCALTEST') {
  const ctx: OpContext = {
    operation: 'test',
    account: ACCOUNT,
    region: REGION,
    accessKeyId,
    state: registry.state(ACCOUNT, REGION),
    registry,
    settings: {
      scanDurationMs: 5,
      restoreDurationMs: 1_000,
      endpoint: 'http://127.0.0.1:1',
      layerUrlKey: Buffer.alloc(32),
    },
    now: () => clock.now,
    emit: () => undefined,
    later: () => undefined,
    journal: (op, input) => journal.push({ op, input, at: clock.now }),
  };
  return ctx;
}

/** What a replay must reproduce: repositories with their settings, blobs, images, tags and pull times. */
function snapshot(registry: Registry) {
  const state = registry.state(ACCOUNT, REGION);
  return [...state.repositories.values()].map((repository) => ({
    name: repository.name,
    createdAt: repository.createdAt,
    imageTagMutability: repository.imageTagMutability,
    layers: [...repository.layers],
    images: [...repository.images.values()].map((image) => ({
      digest: image.digest,
      tags: image.tags,
      mediaType: image.manifestMediaType,
      pushedAt: image.pushedAt,
      lastPulledAt: image.lastPulledAt,
    })),
  }));
}

describe('registry API journal', () => {
  const stores: BlobStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  it('replays a push to a repository created on push, with its blobs and a pull, into the same state', async () => {
    // Prepare
    const blobs = await BlobStore.open();
    stores.push(blobs);
    const registry = new Registry(blobs);
    const clock = { now: 1_700_000_000_000 };
    const journal: Entry[] = [];
    const ctx = contextFor(registry, clock, journal);
    const template = {
      prefix: 'auto',
      appliedFor: ['CREATE_ON_PUSH'],
      imageTagMutability: 'IMMUTABLE',
    };
    await ecrOperations.CreateRepositoryCreationTemplate?.(template, ctx);
    journal.push({ op: 'CreateRepositoryCreationTemplate', input: template, at: clock.now });
    clock.now += 1_000;
    // Act
    const repository = repositoryForPush(ctx, 'auto/app');
    if (!repository) throw new Error('no repository created on push');
    const config = await blobs.put(Buffer.from('{"os":"linux"}'));
    linkBlob(ctx, repository, config.digest, config.size);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, ...config },
      layers: [],
    });
    clock.now += 1_000;
    const pushed = pushManifest(ctx, repository, { manifest, mediaType: MEDIA_TYPES.ociManifest, tag: 'v1' });
    const again = pushManifest(ctx, repository, { manifest, mediaType: MEDIA_TYPES.ociManifest, tag: 'v1' });
    clock.now += 1_000;
    recordPull(ctx, repository, pushed.image);
    // Assess
    expect(pushed.stored).toBe(true);
    expect(again.stored).toBe(false);
    expect(journal.map((entry) => entry.op)).toEqual([
      'CreateRepositoryCreationTemplate',
      'CreateRepositoryOnPush',
      'LinkBlob',
      'PutImage',
      'RecordPull',
    ]);
    const replayed = new Registry(blobs);
    for (const entry of journal) {
      const replayClock = { now: entry.at };
      const operation = replayOperations[entry.op] ?? ecrOperations[entry.op];
      await operation?.(entry.input, contextFor(replayed, replayClock, []));
    }
    expect(snapshot(replayed)).toEqual(snapshot(registry));
    expect(snapshot(registry)[0]?.imageTagMutability).toBe('IMMUTABLE');
  });
});
