import { PutImageCommand, StartImageScanCommand } from '@aws-sdk/client-ecr';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { buildImageManifest, DEMO_FINDINGS, sha256 } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceRules } from '../../../local/service.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { control, declareBlobs, ecrClient, startTestRegistry } from '../../helpers/registry.ts';

/**
 * A FAIL verdict reaches people: an image pushed and scanned through the real ECR client, the on-scan-result
 * handler's verdict on the local bus, the notify rule (FAIL only) and handler, and SNS Publish to the local topic.
 */
const CONFIG = parseConfig({
  scan: { defaults: { maxFindings: { CRITICAL: 0, HIGH: 0 } }, rules: [{ repositories: ['team/**'] }] },
  notifications: {},
});

describe('a FAIL scan verdict under npm start with notifications', () => {
  let server: RegistryServer;
  beforeAll(async () => {
    server = await startTestRegistry();
    for (const rule of serviceRules(server, { config: CONFIG })) server.bus.addRule(rule);
    await control(server, 'load', { repositories: [{ name: 'team/app' }] });
  });
  afterAll(async () => {
    await server?.close();
  });

  const pushAndScan = async (tag: string, findings: readonly Record<string, unknown>[]) => {
    const client = ecrClient(server);
    const manifest = buildImageManifest({ seed: tag });
    await declareBlobs(server, 'team/app', manifest);
    await client.send(new PutImageCommand({ repositoryName: 'team/app', imageManifest: manifest, imageTag: tag }));
    const digest = sha256(manifest);
    await control(server, 'findings', { repositoryName: 'team/app', imageDigest: digest, findings });
    await client.send(new StartImageScanCommand({ repositoryName: 'team/app', imageId: { imageDigest: digest } }));
    return digest;
  };
  const verdicts = () => server.bus.events.filter((event) => event['detail-type'] === 'Image Scan Verdict');
  const settle = async (count: number) => {
    const deadline = Date.now() + 5_000;
    while (verdicts().length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await server.bus.drain();
    }
    await server.bus.drain();
  };

  it('sends the FAIL verdict with its critical finding, and nothing for a PASS', async () => {
    // Act
    const failing = await pushAndScan('v1', [...DEMO_FINDINGS.slice(0, 1), ...DEMO_FINDINGS.slice(3)]);
    await pushAndScan('v2', DEMO_FINDINGS.slice(3));
    await settle(2);
    // Assess
    expect(
      verdicts()
        .map((event) => (event.detail as { verdict: string }).verdict)
        .sort(),
    ).toEqual(['FAIL', 'PASS']);
    const { messages } = await control<{ messages: { subject?: string; message: string }[] }>(server, 'sns/messages');
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toMatch(/^Scan FAIL: team\/app:v1 - 1 critical/);
    expect(messages[0]?.message).toContain(`Digest: ${failing}`);
    expect(messages[0]?.message).toContain('Repository: team/app');
  });
});
