import { readFileSync } from 'node:fs';
import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  PutImageCommand,
  StartImageScanCommand,
} from '@aws-sdk/client-ecr';
import type { BusEvent, RegistryServer } from '@ecr-automation/local-registry';
import { buildImageManifest, sha256 } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { control, declareBlobs, ecrClient, startTestRegistry } from '../../helpers/registry.ts';

const sample = (name: string) => JSON.parse(readFileSync(`events/${name}`, 'utf8')) as BusEvent;

const waitFor = async <T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> => {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** The registry emits the events ECR emits, in the shapes of the samples in events/ (which follow AWS's docs). */
describe('events the local registry emits', () => {
  let server: RegistryServer;

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  const expectSameShape = (event: BusEvent, expected: BusEvent) => {
    expect(Object.keys(event).sort()).toEqual(Object.keys(expected).sort());
    expect(event.source).toBe(expected.source);
    expect(event['detail-type']).toBe(expected['detail-type']);
    expect(event.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    for (const key of Object.keys(event.detail as object)) {
      expect(Object.keys(expected.detail as object)).toContain(key);
    }
  };

  it('emits "ECR Image Action" PUSH on PutImage and DELETE on BatchDeleteImage', async () => {
    // Prepare
    const client = ecrClient(server);
    await client.send(new CreateRepositoryCommand({ repositoryName: 'events/app' }));
    const manifest = buildImageManifest({ seed: 'events-1' });
    // Act
    await declareBlobs(server, 'events/app', manifest);
    await client.send(new PutImageCommand({ repositoryName: 'events/app', imageManifest: manifest, imageTag: 'v1' }));
    await client.send(
      new BatchDeleteImageCommand({ repositoryName: 'events/app', imageIds: [{ imageDigest: sha256(manifest) }] }),
    );
    // Assess
    const actions = server.bus.events.filter((event) => event['detail-type'] === 'ECR Image Action');
    expect(actions).toHaveLength(2);
    const [push, deletion] = actions as [BusEvent, BusEvent];
    expectSameShape(push, sample('ecr-image-push.json'));
    expect(push.detail).toMatchObject({
      'action-type': 'PUSH',
      result: 'SUCCESS',
      'repository-name': 'events/app',
      'image-digest': sha256(manifest),
      'image-tag': 'v1',
    });
    expectSameShape(deletion, sample('ecr-image-delete.json'));
    expect(deletion.detail).toMatchObject({ 'action-type': 'DELETE', 'image-digest': sha256(manifest) });
    expect(push.account).toBe('123456789012');
    expect(push.region).toBe('us-east-1');
  });

  it('emits "ECR Image Scan" when a scan completes, counting only the severities found', async () => {
    // Prepare
    const client = ecrClient(server);
    await client.send(new CreateRepositoryCommand({ repositoryName: 'events/scan' }));
    await declareBlobs(server, 'events/scan', buildImageManifest({ seed: 'events-scan' }));
    await client.send(
      new PutImageCommand({
        repositoryName: 'events/scan',
        imageManifest: buildImageManifest({ seed: 'events-scan' }),
        imageTag: '1.0',
      }),
    );
    await control(server, 'findings', {
      repositoryName: 'events/scan',
      imageTag: '1.0',
      findings: [
        { name: 'CVE-1', severity: 'CRITICAL', attributes: [] },
        { name: 'CVE-2', severity: 'HIGH', attributes: [] },
        { name: 'CVE-3', severity: 'HIGH', attributes: [] },
      ],
    });
    // Act
    await client.send(new StartImageScanCommand({ repositoryName: 'events/scan', imageId: { imageTag: '1.0' } }));
    const scan = await waitFor(() => server.bus.events.find((event) => event['detail-type'] === 'ECR Image Scan'));
    // Assess
    expectSameShape(scan, sample('ecr-image-scan.json'));
    expect(scan.resources).toEqual(['arn:aws:ecr:us-east-1:123456789012:repository/events/scan']);
    expect(scan.detail).toMatchObject({
      'scan-status': 'COMPLETE',
      'repository-name': 'events/scan',
      'finding-severity-counts': { CRITICAL: 1, HIGH: 2 },
      'image-tags': ['1.0'],
    });
  });
});
