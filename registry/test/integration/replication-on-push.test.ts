import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  PutImageCommand,
  PutReplicationConfigurationCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImageManifest, sha256 } from '../../src/model/manifests.ts';
import { declareBlobs, ecrClient, startTestRegistry } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

describe('replication on push', () => {
  let server: RegistryServer;

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });

  it('copies a pushed image to each destination whose rule matches the repository', async () => {
    // Prepare
    const source = ecrClient(server);
    await source.send(
      new PutReplicationConfigurationCommand({
        replicationConfiguration: {
          rules: [
            {
              destinations: [{ region: 'eu-west-1', registryId: '123456789012' }],
              repositoryFilters: [{ filter: 'prod/', filterType: 'PREFIX_MATCH' }],
            },
          ],
        },
      }),
    );
    await source.send(new CreateRepositoryCommand({ repositoryName: 'prod/app' }));
    await source.send(new CreateRepositoryCommand({ repositoryName: 'dev/app' }));
    const manifest = buildImageManifest({ seed: 'replicated' });
    await declareBlobs(server, 'prod/app', manifest);
    await declareBlobs(server, 'dev/app', manifest);
    // Act
    await source.send(new PutImageCommand({ repositoryName: 'prod/app', imageManifest: manifest, imageTag: 'v1' }));
    await source.send(new PutImageCommand({ repositoryName: 'dev/app', imageManifest: manifest, imageTag: 'v1' }));
    // Assess
    const destination = ecrClient(server, { region: 'eu-west-1' });
    const replicated = await destination.send(new DescribeImagesCommand({ repositoryName: 'prod/app' }));
    expect(replicated.imageDetails?.map((detail) => [detail.imageDigest, detail.imageTags])).toEqual([
      [sha256(manifest), ['v1']],
    ]);
    await expect(destination.send(new DescribeImagesCommand({ repositoryName: 'dev/app' }))).rejects.toMatchObject({
      name: 'RepositoryNotFoundException',
    });
  });
});
