import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  CreatePullThroughCacheRuleCommand,
  CreateRepositoryCommand,
  CreateRepositoryCreationTemplateCommand,
  DeleteRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  DescribePullThroughCacheRulesCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  DescribeRepositoryCreationTemplatesCommand,
  type ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  GetLifecyclePolicyCommand,
  GetRegistryPolicyCommand,
  GetRegistryScanningConfigurationCommand,
  GetRepositoryPolicyCommand,
  InitiateLayerUploadCommand,
  ListImagesCommand,
  ListPullTimeUpdateExclusionsCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  PutRegistryPolicyCommand,
  PutRegistryScanningConfigurationCommand,
  PutReplicationConfigurationCommand,
  RegisterPullTimeUpdateExclusionCommand,
  SetRepositoryPolicyCommand,
  StartImageScanCommand,
  TagResourceCommand,
  UpdateImageStorageClassCommand,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus/event-bus.ts';
import { busOperationJournalling } from '../../src/bus/operations.ts';
import { CONTROL_CHANGES } from '../../src/control/control.ts';
import { buildImageManifest, parseManifest, sha256 } from '../../src/model/manifests.ts';
import { newImage, newRepository } from '../../src/model/records.ts';
import { RegistryState } from '../../src/model/state.ts';
import { verifyPassword } from '../../src/ops/authorization.ts';
import { ecrOperationJournalling, ecrOperations } from '../../src/ops/index.ts';
import { SNAPSHOT_FIELDS } from '../../src/persist/snapshot.ts';
import { control, declareBlobs, ecrClient, startTestRegistry, TEST_ACCOUNT } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const REPO = 'persist/app';
const OTHER_REGION = 'eu-west-1';
const LIFECYCLE = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    },
  ],
});
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'pull', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:root' }, Action: 'ecr:BatchGetImage' },
  ],
});

/** What a client can see of the registry, for comparing before and after a restart (`$metadata` left out). */
async function observe(client: ECRClient, server: RegistryServer) {
  const strip = <T extends { $metadata?: unknown }>({ $metadata: _, ...rest }: T) => rest;
  const repositories = strip(await client.send(new DescribeRepositoriesCommand({})));
  const perRepository: Record<string, unknown> = {};
  for (const repository of repositories.repositories ?? []) {
    const name = repository.repositoryName as string;
    const images = strip(await client.send(new DescribeImagesCommand({ repositoryName: name })));
    const findings: unknown[] = [];
    for (const image of images.imageDetails ?? []) {
      if (!image.imageScanStatus) continue;
      findings.push(
        strip(
          await client.send(
            new DescribeImageScanFindingsCommand({ repositoryName: name, imageId: { imageDigest: image.imageDigest } }),
          ),
        ),
      );
    }
    perRepository[name] = {
      images,
      findings,
      list: strip(await client.send(new ListImagesCommand({ repositoryName: name }))),
      tags: strip(await client.send(new ListTagsForResourceCommand({ resourceArn: repository.repositoryArn }))),
      lifecycle: await client.send(new GetLifecyclePolicyCommand({ repositoryName: name })).then(strip, (e) => e.name),
      policy: await client.send(new GetRepositoryPolicyCommand({ repositoryName: name })).then(strip, (e) => e.name),
    };
  }
  return {
    repositories,
    perRepository,
    registry: strip(await client.send(new DescribeRegistryCommand({}))),
    registryPolicy: await client.send(new GetRegistryPolicyCommand({})).then(strip, (e) => e.name),
    scanning: strip(await client.send(new GetRegistryScanningConfigurationCommand({}))),
    pullThroughCache: strip(await client.send(new DescribePullThroughCacheRulesCommand({}))),
    templates: strip(await client.send(new DescribeRepositoryCreationTemplatesCommand({}))),
    exclusions: strip(await client.send(new ListPullTimeUpdateExclusionsCommand({}))),
    replicas: strip(await ecrClient(server, { region: OTHER_REGION }).send(new DescribeRepositoriesCommand({}))),
    clockOffsetSeconds: Math.round((server.now() - Date.now()) / 1000),
    busRules: server.bus.listRules(),
  };
}

describe('a registry with a data directory', () => {
  let dir: string;
  let servers: RegistryServer[];
  const start = async (
    options: { scanDurationMs?: number; compactBytes?: number; restoreDurationMs?: number } = {},
  ) => {
    const server = await startTestRegistry({ dataDir: dir, ...options });
    servers.push(server);
    return server;
  };
  const stop = async (server: RegistryServer) => {
    servers = servers.filter((held) => held !== server);
    await server.close();
  };
  const journal = () => join(dir, 'journal.jsonl');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-ecr-data-'));
    servers = [];
  });
  afterEach(async () => {
    for (const server of servers) await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const push = async (server: RegistryServer, client: ECRClient, seed: string, tag?: string) => {
    const manifest = buildImageManifest({ seed });
    await declareBlobs(server, REPO, manifest);
    const put = await client.send(
      new PutImageCommand({ repositoryName: REPO, imageManifest: manifest, imageTag: tag }),
    );
    return { manifest, digest: put.image?.imageId?.imageDigest as string };
  };

  /** Changes of every kind the journal keeps, through ECR and the control API. */
  const populate = async (first: RegistryServer) => {
    const client = ecrClient(first);
    await client.send(
      new CreateRepositoryCommand({
        repositoryName: REPO,
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        tags: [{ Key: 'team', Value: 'persist' }],
      }),
    );
    await client.send(new CreateRepositoryCommand({ repositoryName: 'persist/gone' }));
    await client.send(
      new PutReplicationConfigurationCommand({
        replicationConfiguration: { rules: [{ destinations: [{ region: OTHER_REGION, registryId: TEST_ACCOUNT }] }] },
      }),
    );
    const v1 = await push(first, client, 'v1', 'v1');
    const v2 = await push(first, client, 'v2', 'v2');
    const untagged = await push(first, client, 'untagged');
    await client.send(
      new BatchDeleteImageCommand({ repositoryName: REPO, imageIds: [{ imageDigest: untagged.digest }] }),
    );
    await client.send(new DeleteRepositoryCommand({ repositoryName: 'persist/gone' }));
    await client.send(new PutLifecyclePolicyCommand({ repositoryName: REPO, lifecyclePolicyText: LIFECYCLE }));
    await client.send(new SetRepositoryPolicyCommand({ repositoryName: REPO, policyText: POLICY }));
    await client.send(
      new PutRegistryPolicyCommand({
        policyText: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'r',
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::210987654321:root' },
              Action: 'ecr:ReplicateImage',
              Resource: `arn:aws:ecr:us-east-1:${TEST_ACCOUNT}:repository/*`,
            },
          ],
        }),
      }),
    );
    await client.send(
      new TagResourceCommand({
        resourceArn: `arn:aws:ecr:us-east-1:${TEST_ACCOUNT}:repository/${REPO}`,
        tags: [{ Key: 'cost-center', Value: '42' }],
      }),
    );
    await client.send(
      new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'hub', upstreamRegistryUrl: 'public.ecr.aws' }),
    );
    await client.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'prod', appliedFor: ['REPLICATION'] }));
    await client.send(
      new RegisterPullTimeUpdateExclusionCommand({ principalArn: 'arn:aws:iam::123456789012:role/bot' }),
    );
    await client.send(new BatchGetImageCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }] }));
    await control(first, 'findings', {
      repositoryName: REPO,
      imageTag: 'v2',
      findings: [{ name: 'CVE-2026-0001', severity: 'HIGH', uri: 'https://example.com/cve' }],
    });
    await control(first, 'load', {
      repositories: [
        { name: 'fixture/app', images: [{ tags: ['old'], pushedAt: '-30d', lastPulledAt: '-3d', scanned: true }] },
      ],
    });
    await control(first, 'image-times', { repositoryName: REPO, imageTag: 'v2', pushedAt: '-2d' });
    await control(first, 'clock', { advanceSeconds: 3_600 });
    await client
      .send(new StartImageScanCommand({ repositoryName: REPO, imageId: { imageTag: 'v2' } }))
      .catch(() => undefined);
    await client.send(
      new PutRegistryScanningConfigurationCommand({
        scanType: 'BASIC',
        rules: [
          { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'persist/*', filterType: 'WILDCARD' }] },
        ],
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { v1, v2 };
  };

  it('has after a restart every change made through ECR and the control API', async () => {
    // Prepare
    const first = await start();
    const client = ecrClient(first);
    const { v1, v2 } = await populate(first);
    const before = await observe(client, first);
    const page = await client.send(new DescribeImagesCommand({ repositoryName: REPO, maxResults: 1 }));
    const token = await client.send(new GetAuthorizationTokenCommand({}));
    await stop(first);
    // Act
    const second = await start();
    const after = await observe(ecrClient(second), second);
    const nextPage = await ecrClient(second).send(
      new DescribeImagesCommand({ repositoryName: REPO, maxResults: 1, nextToken: page.nextToken }),
    );
    const pulled = await ecrClient(second).send(
      new BatchGetImageCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }, { imageTag: 'v2' }] }),
    );
    // Assess
    expect(second.dataDir?.replayedRecords).toBeGreaterThan(20);
    expect(after).toEqual(before);
    expect(before.perRepository[REPO]).toMatchObject({ images: { imageDetails: expect.any(Array) } });
    expect(Object.keys(after.perRepository).sort()).toEqual(['fixture/app', REPO]);
    expect(after.replicas.repositories?.map((repository) => repository.repositoryName)).toEqual([REPO]);
    expect(nextPage.imageDetails).toHaveLength(1);
    expect(pulled.images?.map((image) => image.imageManifest)).toEqual([v1.manifest, v2.manifest]);
    const password = Buffer.from(token.authorizationData?.[0]?.authorizationToken as string, 'base64')
      .toString('utf8')
      .slice('AWS:'.length);
    expect(verifyPassword(password, second.now())).toMatchObject({ account: TEST_ACCOUNT, region: 'us-east-1' });
  });

  it('keeps an uploaded layer, and a download URL signed before a restart works after it', async () => {
    // Prepare
    const first = await start();
    const client = ecrClient(first);
    await client.send(new CreateRepositoryCommand({ repositoryName: REPO }));
    const layer = Buffer.from('a layer that outlives its registry process');
    const { uploadId } = await client.send(new InitiateLayerUploadCommand({ repositoryName: REPO }));
    await client.send(
      new UploadLayerPartCommand({
        repositoryName: REPO,
        uploadId,
        partFirstByte: 0,
        partLastByte: layer.length - 1,
        layerPartBlob: layer,
      }),
    );
    const { layerDigest } = await client.send(
      new CompleteLayerUploadCommand({ repositoryName: REPO, uploadId, layerDigests: [sha256(layer)] }),
    );
    const { downloadUrl } = await client.send(new GetDownloadUrlForLayerCommand({ repositoryName: REPO, layerDigest }));
    await stop(first);
    // Act
    const second = await start();
    const url = new URL(downloadUrl as string);
    const downloaded = await fetch(`${second.url}${url.pathname}${url.search}`);
    const available = await ecrClient(second).send(
      new BatchCheckLayerAvailabilityCommand({ repositoryName: REPO, layerDigests: [layerDigest as string] }),
    );
    // Assess
    expect(downloaded.status).toBe(200);
    expect(Buffer.from(await downloaded.arrayBuffer())).toEqual(layer);
    expect(available.layers).toEqual([
      expect.objectContaining({ layerDigest, layerAvailability: 'AVAILABLE', layerSize: layer.length }),
    ]);
  });

  it('has a scan that completed before a restart complete after it, and completes one that was still running', async () => {
    // Prepare
    const first = await start({ scanDurationMs: 300 });
    const client = ecrClient(first);
    await client.send(new CreateRepositoryCommand({ repositoryName: REPO }));
    const done = await push(first, client, 'done', 'done');
    const running = await push(first, client, 'running', 'running');
    await client.send(new StartImageScanCommand({ repositoryName: REPO, imageId: { imageDigest: done.digest } }));
    await new Promise((resolve) => setTimeout(resolve, 400));
    await client.send(new StartImageScanCommand({ repositoryName: REPO, imageId: { imageDigest: running.digest } }));
    const scan = async (server: RegistryServer, digest: string) =>
      ecrClient(server).send(
        new DescribeImageScanFindingsCommand({ repositoryName: REPO, imageId: { imageDigest: digest } }),
      );
    const doneBefore = await scan(first, done.digest);
    await stop(first);
    // Act
    const second = await start({ scanDurationMs: 300 });
    const doneAfter = await scan(second, done.digest);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const runningAfter = await scan(second, running.digest);
    // Assess
    expect(doneBefore.imageScanStatus?.status).toBe('COMPLETE');
    expect(doneAfter.imageScanFindings?.imageScanCompletedAt).toEqual(
      doneBefore.imageScanFindings?.imageScanCompletedAt,
    );
    expect(runningAfter.imageScanStatus?.status).toBe('COMPLETE');
    const scanEvents = second.bus.events.filter((event) => event['detail-type'] === 'ECR Image Scan');
    expect(scanEvents.map((event) => (event.detail as Record<string, unknown>)['image-digest'])).toEqual([
      running.digest,
    ]);
  });

  it('refuses a second registry on the same data directory while the first runs, and takes a stale lock over', async () => {
    // Prepare
    const first = await start();
    // Act
    const second = startTestRegistry({ dataDir: dir });
    // Assess
    await expect(second).rejects.toThrow(`The data directory ${dir} is in use by process ${process.pid}`);
    await stop(first);
    writeFileSync(join(dir, 'lock'), '999999999\n');
    const third = await start();
    expect(readFileSync(join(dir, 'lock'), 'utf8').trim()).toBe(String(process.pid));
    await stop(third);
  });

  it('ignores a torn last record, and stops at any other corrupt line naming the file and line', async () => {
    // Prepare
    const first = await start();
    await ecrClient(first).send(new CreateRepositoryCommand({ repositoryName: REPO }));
    await stop(first);
    const intact = statSync(journal()).size;
    appendFileSync(journal(), '{"k":"ecr","op":"CreateRepos');
    // Act
    const second = await start();
    const listed = await ecrClient(second).send(new DescribeRepositoriesCommand({}));
    await ecrClient(second).send(new CreateRepositoryCommand({ repositoryName: 'persist/next' }));
    await stop(second);
    // Assess
    expect(listed.repositories?.map((repository) => repository.repositoryName)).toEqual([REPO]);
    expect(statSync(journal()).size).toBeGreaterThan(intact);
    expect(
      readFileSync(journal(), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).op ?? JSON.parse(line).k),
    ).toEqual(['journal', 'CreateRepository', 'CreateRepository']);
    appendFileSync(journal(), 'not json\n{"k":"ecr"}\n');
    await expect(startTestRegistry({ dataDir: dir })).rejects.toThrow(`The journal ${journal()} is corrupt at line 4`);
  });

  it('does not start when a record no longer replays, and says which', async () => {
    // Prepare
    const first = await start();
    await ecrClient(first).send(new CreateRepositoryCommand({ repositoryName: REPO }));
    await stop(first);
    appendFileSync(
      journal(),
      `${JSON.stringify({ k: 'ecr', op: 'CreateRepository', a: TEST_ACCOUNT, r: 'us-east-1', ak: 'AKID', t: Date.now(), in: { repositoryName: REPO } })}\n`,
    );
    // Act
    const started = startTestRegistry({ dataDir: dir });
    // Assess
    await expect(started).rejects.toThrow(`Cannot replay ${journal()} line 3 (ecr CreateRepository)`);
    expect(() => readFileSync(join(dir, 'lock'))).toThrow();
  });

  it('keeps a repository that a fault made vanish gone, and no fault', async () => {
    // Prepare
    const first = await start();
    const client = ecrClient(first);
    await client.send(new CreateRepositoryCommand({ repositoryName: REPO }));
    await client.send(new CreateRepositoryCommand({ repositoryName: 'persist/stays' }));
    await control(first, 'faults', { repositoryName: REPO, afterCalls: 0 });
    await control(first, 'faults', { operation: 'DescribeRepositories', throttleRate: 1 });
    await client.send(new ListImagesCommand({ repositoryName: 'persist/stays' }));
    await stop(first);
    // Act
    const second = await start();
    const listed = await ecrClient(second).send(new DescribeRepositoriesCommand({}));
    // Assess
    expect(listed.repositories?.map((repository) => repository.repositoryName)).toEqual(['persist/stays']);
    expect(second.faults.describe()).toEqual({ operations: {}, vanishingRepositories: [] });
  });

  it('replays a configuration operation of the bus, not PutEvents', async () => {
    // Prepare: a bus with a configuration operation (the bus serves none yet; an unclassified one is a change).
    const busWith = (seen: unknown[]) => {
      const bus = new EventBus();
      (bus.operations as Record<string, (input: unknown, scope: unknown) => unknown>).TagRule = (input, scope) => {
        seen.push({ input, scope });
        return {};
      };
      return bus;
    };
    const call = (server: RegistryServer, operation: string, body: unknown) =>
      fetch(`${server.url}/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `AWSEvents.${operation}`,
          authorization: `AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST/20261124/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: JSON.stringify(body),
      });
    const first = await startTestRegistry({ dataDir: dir, bus: busWith([]) });
    servers.push(first);
    await call(first, 'TagRule', { Name: 'r', Tags: [{ Key: 'k', Value: 'v' }] });
    await call(first, 'PutEvents', { Entries: [{ Source: 'app', DetailType: 'd', Detail: '{}' }] });
    await stop(first);
    // Act
    const replayed: unknown[] = [];
    const second = await startTestRegistry({ dataDir: dir, bus: busWith(replayed) });
    servers.push(second);
    // Assess
    expect(replayed).toEqual([
      { input: { Name: 'r', Tags: [{ Key: 'k', Value: 'v' }] }, scope: { account: TEST_ACCOUNT, region: 'us-east-1' } },
    ]);
    expect(second.bus.events).toEqual([]);
  });

  it('does not start when a completed task no longer matches the operation that scheduled it', async () => {
    // Prepare
    const first = await start();
    const client = ecrClient(first);
    await client.send(new CreateRepositoryCommand({ repositoryName: REPO }));
    const image = await push(first, client, 'task', 'task');
    await client.send(new StartImageScanCommand({ repositoryName: REPO, imageId: { imageDigest: image.digest } }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await stop(first);
    const lines = readFileSync(journal(), 'utf8').split('\n');
    const index = lines.findIndex((line) => line.includes('"k":"later"'));
    lines[index] = (lines[index] as string).replace('"op":"StartImageScan"', '"op":"PutImage"');
    writeFileSync(journal(), lines.join('\n'));
    // Act
    const started = startTestRegistry({ dataDir: dir });
    // Assess
    await expect(started).rejects.toThrow(
      `Cannot replay ${journal()} line ${index + 1} (later PutImage): task 0 was scheduled by StartImageScan here, by PutImage when it ran`,
    );
  });

  it('journals changes only: reads and failed calls add nothing, and a reset empties the journal', async () => {
    // Prepare
    const server = await start();
    const client = ecrClient(server);
    await client.send(new CreateRepositoryCommand({ repositoryName: REPO }));
    const size = statSync(journal()).size;
    // Act
    await client.send(new DescribeRepositoriesCommand({}));
    await client.send(new CreateRepositoryCommand({ repositoryName: REPO })).catch(() => undefined);
    await client.send(new GetAuthorizationTokenCommand({}));
    const afterReads = statSync(journal()).size;
    await control(server, 'reset', {});
    await stop(server);
    const restarted = await start();
    // Assess
    expect(afterReads).toBe(size);
    expect(readFileSync(journal(), 'utf8')).toBe('{"k":"journal","g":1}\n');
    expect((await ecrClient(restarted).send(new DescribeRepositoriesCommand({}))).repositories).toEqual([]);
  });

  it('compacts a journal past its size into a snapshot, which a restart restores with the journal after it', async () => {
    // Prepare
    const first = await start({ compactBytes: 4_096 });
    const client = ecrClient(first);
    await populate(first);
    const before = await observe(client, first);
    const page = await client.send(new DescribeImagesCommand({ repositoryName: REPO, maxResults: 1 }));
    const journalBytes = statSync(journal()).size;
    await stop(first);
    // Act
    const second = await start({ compactBytes: 4_096 });
    const after = await observe(ecrClient(second), second);
    const nextPage = await ecrClient(second).send(
      new DescribeImagesCommand({ repositoryName: REPO, maxResults: 1, nextToken: page.nextToken }),
    );
    // Assess
    expect(statSync(join(dir, 'snapshot.jsonl')).size).toBeGreaterThan(0);
    expect(journalBytes).toBeLessThan(Math.max(4_096, statSync(join(dir, 'snapshot.jsonl')).size) + 2_048);
    expect(second.dataDir?.replayedRecords).toBeLessThan(20);
    expect(after).toEqual(before);
    expect(nextPage.imageDetails).toHaveLength(1);
  });

  it('keeps archived images and a restore in progress across restarts, from the journal and from a snapshot', async () => {
    for (const compactBytes of [undefined, 1]) {
      // Prepare
      rmSync(dir, { recursive: true, force: true });
      const first = await start({
        ...(compactBytes === undefined ? {} : { compactBytes }),
        restoreDurationMs: 600_000,
      });
      const client = ecrClient(first);
      await client.send(new CreateRepositoryCommand({ repositoryName: REPO }));
      const digests: string[] = [];
      for (const seed of ['archived', 'restoring']) {
        const manifest = buildImageManifest({ seed });
        await declareBlobs(first, REPO, manifest);
        await client.send(new PutImageCommand({ repositoryName: REPO, imageManifest: manifest, imageTag: seed }));
        digests.push(sha256(manifest));
      }
      for (const imageDigest of digests) {
        await client.send(
          new UpdateImageStorageClassCommand({
            repositoryName: REPO,
            imageId: { imageDigest },
            targetStorageClass: 'ARCHIVE',
          }),
        );
      }
      await client.send(
        new UpdateImageStorageClassCommand({
          repositoryName: REPO,
          imageId: { imageDigest: digests[1] },
          targetStorageClass: 'STANDARD',
        }),
      );
      const describe = (server: RegistryServer) =>
        ecrClient(server).send(new DescribeImagesCommand({ repositoryName: REPO, filter: { imageStatus: 'ANY' } }));
      const before = await describe(first);
      await stop(first);
      // Act
      const second = await start({ restoreDurationMs: 600_000 });
      const after = await describe(second);
      second.advanceClock(600_000);
      const restored = await describe(second);
      await stop(second);
      // Assess
      expect(after.imageDetails, `compactBytes ${compactBytes}`).toEqual(before.imageDetails);
      expect(after.imageDetails?.map((detail) => detail.imageStatus)).toEqual(['ARCHIVED', 'ACTIVATING']);
      expect(restored.imageDetails?.map((detail) => detail.imageStatus)).toEqual(['ARCHIVED', 'ACTIVE']);
      expect(restored.imageDetails?.[1]?.lastActivatedAt).toBeInstanceOf(Date);
    }
  });

  it('skips a journal that a snapshot already holds (a kill between writing the snapshot and emptying the journal)', async () => {
    // Prepare
    const first = await start();
    await ecrClient(first).send(new CreateRepositoryCommand({ repositoryName: REPO }));
    const journalBefore = readFileSync(journal());
    first.reset();
    await ecrClient(first).send(new CreateRepositoryCommand({ repositoryName: 'persist/after' }));
    await stop(first);
    // Act: the journal as the kill left it, of the generation before the snapshot's.
    writeFileSync(journal(), journalBefore);
    const second = await start();
    const listed = await ecrClient(second).send(new DescribeRepositoriesCommand({}));
    await stop(second);
    // Assess
    expect(listed.repositories).toEqual([]);
    expect(readFileSync(journal(), 'utf8')).toBe('{"k":"journal","g":1}\n');
  });
});

describe('journalling of operations', () => {
  it('snapshots every field of the registry model', () => {
    const state = new RegistryState(TEST_ACCOUNT, 'us-east-1');
    const repository = newRepository(state, 'fields/app', 0);
    const manifest = buildImageManifest({ seed: 'fields' });
    const image = newImage(repository, manifest, parseManifest(manifest), 0);
    const known = (fields: readonly string[]) => (key: string) => fields.includes(key);
    expect(Object.keys(state).filter((key) => !known(SNAPSHOT_FIELDS.state)(key))).toEqual([]);
    expect(Object.keys(repository).filter((key) => !known(SNAPSHOT_FIELDS.repository)(key))).toEqual([]);
    const imageKeys = [...Object.keys(image), 'manifest'].filter((key) => !['stored', 'packing'].includes(key));
    expect(imageKeys.filter((key) => !known(SNAPSHOT_FIELDS.image)(key))).toEqual([]);
  });

  it('classifies every ECR operation as a change, a read, or one that records its own changes', () => {
    expect(Object.keys(ecrOperationJournalling).sort()).toEqual(Object.keys(ecrOperations).sort());
  });

  it('classifies every EventBridge operation of the bus as a change, a read or a delivery', () => {
    const bus = new EventBus();
    expect(Object.keys(busOperationJournalling).sort()).toEqual(Object.keys(bus.operations).sort());
  });

  it('journals the control routes that change state, not faults', () => {
    expect([...CONTROL_CHANGES].sort()).toEqual([
      'POST blobs',
      'POST clock',
      'POST findings',
      'POST image-times',
      'POST lifecycle/run',
      'POST load',
      'POST reset',
    ]);
  });
});
