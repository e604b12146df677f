import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeImageTagsCommand,
  DescribeRepositoriesCommand,
  type ECRPUBLICClient,
  GetRegistryCatalogDataCommand,
  GetRepositoryCatalogDataCommand,
  GetRepositoryPolicyCommand,
  InitiateLayerUploadCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutRegistryCatalogDataCommand,
  PutRepositoryCatalogDataCommand,
  SetRepositoryPolicyCommand,
  TagResourceCommand,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr-public';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore } from '../../src/model/blob-store.ts';
import { Registry } from '../../src/model/state.ts';
import { readSnapshot, SNAPSHOT_FIELDS, writeSnapshot } from '../../src/persist/snapshot.ts';
import { publicOperationJournalling, publicOperations } from '../../src/public/operations.ts';
import { newPublicContent, PublicRegistryState, type PublicRepositoryRecord } from '../../src/public/state.ts';
import { control, ecrPublicClient, startTestRegistry, TEST_ACCOUNT } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('logo')]);
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ecr-public:DescribeImages' }],
});
const arnOf = (name: string) => `arn:aws:ecr-public::${TEST_ACCOUNT}:repository/${name}`;

/** What a client sees of the public registry (`$metadata` left out; logo URLs carry the port). */
async function observe(client: ECRPUBLICClient) {
  const strip = <T extends { $metadata?: unknown }>({ $metadata: _, ...rest }: T) => rest;
  const repositories = strip(await client.send(new DescribeRepositoriesCommand({})));
  const per: Record<string, unknown> = {};
  for (const { repositoryName, repositoryArn } of repositories.repositories ?? []) {
    const name = repositoryName as string;
    per[name] = {
      catalog: await client.send(new GetRepositoryCatalogDataCommand({ repositoryName: name })).then(
        (out) => ({ ...out.catalogData, logoUrl: out.catalogData?.logoUrl?.replace(/^http:\/\/[^/]+/, '') }),
        (e) => e.name,
      ),
      policy: await client.send(new GetRepositoryPolicyCommand({ repositoryName: name })).then(strip, (e) => e.name),
      tags: strip(await client.send(new ListTagsForResourceCommand({ resourceArn: repositoryArn }))),
    };
  }
  return { repositories, per, registry: strip(await client.send(new GetRegistryCatalogDataCommand({}))) };
}

const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Pushes an image of two fresh blobs to `repositoryName` with the layer API and PutImage; answers its digest. */
async function pushImage(client: ECRPUBLICClient, repositoryName: string, seed: string, imageTag?: string) {
  const blobs = [Buffer.from(`{"seed":"${seed}"}`), Buffer.from(`layer ${seed}`)];
  for (const bytes of blobs) {
    const { uploadId } = await client.send(new InitiateLayerUploadCommand({ repositoryName }));
    const last = bytes.length - 1;
    await client.send(
      new UploadLayerPartCommand({
        repositoryName,
        uploadId,
        partFirstByte: 0,
        partLastByte: last,
        layerPartBlob: bytes,
      }),
    );
    await client.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha256(bytes)] }));
  }
  const [config, layer] = blobs as [Buffer, Buffer];
  const descriptor = (mediaType: string, bytes: Buffer) => ({ mediaType, digest: sha256(bytes), size: bytes.length });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: descriptor('application/vnd.oci.image.config.v1+json', config),
    layers: [descriptor('application/vnd.oci.image.layer.v1.tar+gzip', layer)],
  });
  await client.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag }));
  return { digest: sha256(manifest), manifest, blobs: blobs.map((bytes) => sha256(bytes)) };
}

/** What a client sees of a public repository's images, tags and blobs. */
async function observeImages(client: ECRPUBLICClient, repositoryName: string, blobs: string[]) {
  const images = await client.send(new DescribeImagesCommand({ repositoryName }));
  const tags = await client.send(new DescribeImageTagsCommand({ repositoryName }));
  const layers = await client.send(new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: blobs }));
  return { images: images.imageDetails, tags: tags.imageTagDetails, layers: layers.layers, failures: layers.failures };
}

describe('ECR Public state in a data directory', () => {
  let dir: string;
  const servers: RegistryServer[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecr-public-data-'));
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (compactBytes?: number) => {
    const server = await startTestRegistry({ dataDir: dir, compactBytes });
    servers.push(server);
    return { server, client: ecrPublicClient(server) };
  };
  const fill = async (client: ECRPUBLICClient) => {
    await client.send(new PutRegistryCatalogDataCommand({ displayName: 'Kept' }));
    await client.send(new CreateRepositoryCommand({ repositoryName: 'gone' }));
    await client.send(
      new CreateRepositoryCommand({
        repositoryName: 'kept/app',
        catalogData: { description: 'first' },
        tags: [{ Key: 'a', Value: '1' }],
      }),
    );
    await client.send(new CreateRepositoryCommand({ repositoryName: 'plain' }));
    await client.send(new DeleteRepositoryCommand({ repositoryName: 'gone' }));
    await client.send(
      new PutRepositoryCatalogDataCommand({
        repositoryName: 'kept/app',
        catalogData: { description: 'second', usageText: 'use it', logoImageBlob: PNG },
      }),
    );
    await client.send(new SetRepositoryPolicyCommand({ repositoryName: 'kept/app', policyText: POLICY }));
    await client.send(new TagResourceCommand({ resourceArn: arnOf('kept/app'), tags: [{ Key: 'b', Value: '2' }] }));
  };

  it('journals public changes (not reads) and replays them at start', async () => {
    const first = await start();
    await fill(first.client);
    await first.client.send(new DescribeRepositoriesCommand({}));
    const before = await observe(first.client);
    first.client.destroy();
    await first.server.close();
    servers.splice(0);
    const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { k: string; op?: string });
    expect(journal.filter((r) => r.k === 'pub').map((r) => r.op)).toEqual([
      'PutRegistryCatalogData',
      'CreateRepository',
      'CreateRepository',
      'CreateRepository',
      'DeleteRepository',
      'PutRepositoryCatalogData',
      'SetRepositoryPolicy',
      'TagResource',
    ]);
    const second = await start();
    expect(await observe(second.client)).toEqual(before);
    const logo = await fetch(`${second.server.url}/_local/public/logo/${TEST_ACCOUNT}/kept/app`);
    expect(Buffer.from(await logo.arrayBuffer())).toEqual(PNG);
    // A repository created after the restart is listed after the replayed ones.
    await second.client.send(new CreateRepositoryCommand({ repositoryName: 'after' }));
    const names = (await second.client.send(new DescribeRepositoriesCommand({}))).repositories?.map(
      (r) => r.repositoryName,
    );
    expect(names).toEqual(['kept/app', 'plain', 'after']);
    second.client.destroy();
  });

  it('keeps public state through a compaction (snapshot) and a restart', async () => {
    const first = await start(1_024);
    await fill(first.client);
    for (let i = 0; i < 10; i++) await first.client.send(new CreateRepositoryCommand({ repositoryName: `more-${i}` }));
    await new Promise(setImmediate);
    const before = await observe(first.client);
    first.client.destroy();
    await first.server.close();
    servers.splice(0);
    expect(readFileSync(join(dir, 'snapshot.jsonl'), 'utf8')).toContain('"k":"public"');
    const second = await start(1_024);
    expect(await observe(second.client)).toEqual(before);
    second.client.destroy();
  });

  describe('public images', () => {
    const fillImages = async (client: ECRPUBLICClient, server: RegistryServer) => {
      await client.send(new CreateRepositoryCommand({ repositoryName: 'images' }));
      const one = await pushImage(client, 'images', 'one', 'v1');
      await control(server, 'clock', { advanceSeconds: 60 });
      const two = await pushImage(client, 'images', 'two', 'v2');
      const three = await pushImage(client, 'images', 'three');
      await control(server, 'clock', { advanceSeconds: 60 });
      // Moves v1 to the second image, at a later time than its push.
      await client.send(new PutImageCommand({ repositoryName: 'images', imageManifest: two.manifest, imageTag: 'v1' }));
      await client.send(
        new BatchDeleteImageCommand({ repositoryName: 'images', imageIds: [{ imageDigest: three.digest }] }),
      );
      return [...one.blobs, ...two.blobs, ...three.blobs];
    };

    it('replays pushes, layer uploads, tag moves and deletes from the journal', async () => {
      // Arrange
      const first = await start();
      const blobs = await fillImages(first.client, first.server);
      const before = await observeImages(first.client, 'images', blobs);
      first.client.destroy();
      await first.server.close();
      servers.splice(0);
      // Act
      const second = await start();
      const after = await observeImages(second.client, 'images', blobs);
      // Assess
      expect(before.images).toHaveLength(2);
      expect(before.tags?.map((t) => t.imageTag)).toEqual(['v2', 'v1']);
      expect(before.failures).toEqual([]);
      expect(after).toEqual(before);
      // A push after the restart is listed after the replayed images.
      const next = await pushImage(second.client, 'images', 'four', 'v4');
      const listed = await second.client.send(new DescribeImagesCommand({ repositoryName: 'images' }));
      expect(listed.imageDetails?.map((d) => d.imageDigest).at(-1)).toBe(next.digest);
      second.client.destroy();
    });

    it('keeps public images, blobs and tag times through a compaction (snapshot) and a restart', async () => {
      // Arrange
      const first = await start(1_024);
      const blobs = await fillImages(first.client, first.server);
      for (let i = 0; i < 5; i++) await first.client.send(new CreateRepositoryCommand({ repositoryName: `more-${i}` }));
      await new Promise(setImmediate);
      const before = await observeImages(first.client, 'images', blobs);
      first.client.destroy();
      await first.server.close();
      servers.splice(0);
      // Act
      const second = await start(1_024);
      const after = await observeImages(second.client, 'images', blobs);
      // Assess
      expect(readFileSync(join(dir, 'snapshot.jsonl'), 'utf8')).toContain('"k":"public-image"');
      expect(after).toEqual(before);
      second.client.destroy();
    });

    it('keeps a loaded public fixture through a restart', async () => {
      // Arrange
      const first = await start();
      await control(first.server, 'load', {
        repositories: [],
        publicRepositories: [{ name: 'loaded', images: [{ id: 'a', tags: ['x'], pushedAt: '-30d' }, { id: 'b' }] }],
      });
      const before = await observeImages(first.client, 'loaded', [`sha256:${'0'.repeat(64)}`]);
      first.client.destroy();
      await first.server.close();
      servers.splice(0);
      // Act
      const second = await start();
      // Assess
      expect(await observeImages(second.client, 'loaded', [`sha256:${'0'.repeat(64)}`])).toEqual(before);
      second.client.destroy();
    });
  });

  it('reads a snapshot written before public repositories held images (no blobs, tag times or image numbering)', async () => {
    // Arrange
    const blobs = await BlobStore.open();
    const registry = new Registry(blobs);
    const state = registry.publicRegistries.state(TEST_ACCOUNT);
    state.repositories.set('old', {
      name: 'old',
      seq: state.allocateSeq(),
      createdAt: 1_700_000_000_000,
      catalog: undefined,
      policyText: undefined,
      tags: new Map(),
      content: newPublicContent(state, 'old', 1_700_000_000_000, 1),
      tagTimes: new Map(),
    });
    const path = join(dir, 'old-snapshot.jsonl');
    writeSnapshot(path, registry, { generation: 1, clockOffset: 0 });
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    for (const line of lines) {
      if (line.k === 'public') {
        for (const repository of line.repositories) {
          delete repository.layers;
          delete repository.tagTimes;
          delete repository.imageSeq;
        }
      }
      if (line.k === 'end') delete line.publicImages;
    }
    writeFileSync(path, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    const restored = new Registry(blobs);
    // Act
    readSnapshot(path, restored);
    // Assess
    const repository = restored.publicRegistries.existing(TEST_ACCOUNT)?.repositories.get('old');
    expect(repository?.content.images.size).toBe(0);
    expect(repository?.content.layers.size).toBe(0);
    expect(repository?.tagTimes.size).toBe(0);
    await blobs.close();
  });

  it('snapshots every field of the public registry model', () => {
    const state = new PublicRegistryState(TEST_ACCOUNT);
    // account (a), nextSeq (seq), displayName, repositories; the alias is derived from the account.
    expect(Object.keys(state).sort()).toEqual(['account', 'alias', 'displayName', 'nextSeq', 'repositories']);
    const repository: PublicRepositoryRecord = {
      name: 'x',
      seq: 1,
      createdAt: 0,
      catalog: undefined,
      policyText: undefined,
      tags: new Map(),
      content: newPublicContent(state, 'x', 0, 1),
      tagTimes: new Map(),
    };
    expect(Object.keys(repository).sort()).toEqual([
      'catalog',
      'content',
      'createdAt',
      'name',
      'policyText',
      'seq',
      'tagTimes',
      'tags',
    ]);
    // The content is a repository record: every field the snapshot writes of a private one (a public one's settings
    // are fixed, its images and blobs are written; ECR Public has no lifecycle policies, so no preview or run either).
    const privateOnly = [
      'policyText',
      'lifecyclePolicyText',
      'lifecyclePolicyUpdatedAt',
      'lifecyclePolicyEvaluatedAt',
      'lifecyclePreview',
    ];
    expect(Object.keys(repository.content).sort()).toEqual(
      [...SNAPSHOT_FIELDS.repository].filter((f) => !privateOnly.includes(f)).sort(),
    );
  });

  it('classifies every ECR Public operation served as a change or a read', () => {
    expect(Object.keys(publicOperationJournalling).sort()).toEqual(Object.keys(publicOperations).sort());
  });
});
