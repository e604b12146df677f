import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeRepositoriesCommand,
  type ECRPUBLICClient,
  GetRegistryCatalogDataCommand,
  GetRepositoryCatalogDataCommand,
  GetRepositoryPolicyCommand,
  ListTagsForResourceCommand,
  PutRegistryCatalogDataCommand,
  PutRepositoryCatalogDataCommand,
  SetRepositoryPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-ecr-public';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publicOperationJournalling, publicOperations } from '../../src/public/operations.ts';
import { newPublicContent, PublicRegistryState, type PublicRepositoryRecord } from '../../src/public/state.ts';
import { ecrPublicClient, startTestRegistry, TEST_ACCOUNT } from '../../src/testing.ts';
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
  });

  it('classifies every ECR Public operation served as a change or a read', () => {
    expect(Object.keys(publicOperationJournalling).sort()).toEqual(Object.keys(publicOperations).sort());
  });
});
