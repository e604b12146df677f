import { readFileSync } from 'node:fs';
import { DescribeImagesCommand, type ECRClient, PutImageCommand, StartImageScanCommand } from '@aws-sdk/client-ecr';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { buildImageManifest, DEMO_FINDINGS, sha256 } from '@ecr-automation/local-registry';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runScanGate } from '../../../cli/commands/scan-gate.ts';
import { serviceRules } from '../../../local/service.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import type { ServiceConfig } from '../../../shared/config/schema.ts';
import { createEcrClient } from '../../../shared/ecr/index.ts';
import { AllowListReportEventSchema, ScanVerdictSchema } from '../../../shared/scan/report.ts';
import { expectPublishedEventsParse } from '../../helpers/events.ts';
import { control, declareBlobs, ecrClient, startTestRegistry } from '../../helpers/registry.ts';

/**
 * The scan verdict end to end: an image pushed through the real ECRClient, findings attached through the control
 * API, a basic scan started; the local registry completes it and emits "ECR Image Scan"; the bus runs the
 * on-scan-result handler (wired by `serviceRules`, as `npm start` wires it), which reads the findings through its own
 * ECRClient and publishes an "Image Scan Verdict".
 */
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

const SCAN_CONFIG = parseConfig({
  scan: {
    defaults: { maxFindings: { CRITICAL: 0, HIGH: 0 } },
    rules: [
      {
        repositories: ['quarantine/**'],
        mode: 'enforce',
        quarantineTagPrefix: 'quarantined-',
        untag: ['latest', 'prod-*'],
      },
      { repositories: ['team/**'] },
    ],
    allowList: [
      {
        id: 'CVE-2023-38545',
        package: 'curl',
        repositories: ['team/**'],
        expires: inDays(30),
        owner: 'team-a',
        reason: 'not reachable',
      },
    ],
  },
});

const CRITICAL = DEMO_FINDINGS.slice(0, 1);
const HIGH_CURL = DEMO_FINDINGS.slice(1, 2);
const MEDIUM_AND_BELOW = DEMO_FINDINGS.slice(3);

describe('on-scan-result through the local registry and bus', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => expectPublishedEventsParse(server.bus.events));
  beforeEach(async () => {
    server.reset();
    for (const rule of server.bus.listRules()) server.bus.removeRule(rule.name, rule.eventBusName);
    await control(server, 'load', { repositories: [{ name: 'team/app' }, { name: 'quarantine/app' }] });
  });

  const wire = (config: Readonly<ServiceConfig> = SCAN_CONFIG) => {
    for (const rule of serviceRules(server, { config })) server.bus.addRule(rule);
  };
  const verdicts = () =>
    server.bus.events
      .filter((event) => event['detail-type'] === 'Image Scan Verdict')
      .map((event) => ScanVerdictSchema.parse(event.detail));

  /** Waits for the registry to complete the scan (a timer) and for the bus to deliver everything. */
  const settle = async (count: number) => {
    const deadline = Date.now() + 5_000;
    while (verdicts().length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await server.bus.drain();
    }
    await server.bus.drain();
  };

  const pushAndScan = async (
    repositoryName: string,
    tags: string[],
    findings: readonly Record<string, unknown>[],
    seed: string,
  ) => {
    const manifest = buildImageManifest({ seed });
    const [first, ...more] = tags;
    await declareBlobs(server, repositoryName, manifest);
    await client.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: first }));
    for (const tag of more)
      await client.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: tag }));
    const digest = sha256(manifest);
    await control(server, 'findings', { repositoryName, imageDigest: digest, findings });
    await client.send(new StartImageScanCommand({ repositoryName, imageId: { imageDigest: digest } }));
    return digest;
  };

  const tagsOf = async (repositoryName: string, digest: string) =>
    (
      await client.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: digest }] }))
    ).imageDetails?.[0]?.imageTags?.sort() ?? [];

  it('publishes a FAIL verdict naming the critical finding of a pushed and scanned image', async () => {
    // Prepare
    wire();
    // Act
    const digest = await pushAndScan('team/app', ['v1'], [...CRITICAL, ...MEDIUM_AND_BELOW], 'critical');
    await settle(1);
    // Assess
    const [verdict] = verdicts();
    expect(verdict).toMatchObject({
      repositoryName: 'team/app',
      digest,
      tags: ['v1'],
      verdict: 'FAIL',
      trigger: { source: 'aws.ecr', detailType: 'ECR Image Scan' },
      scan: { status: 'COMPLETE', type: 'BASIC', findings: 1 + MEDIUM_AND_BELOW.length },
      breaches: [{ code: 'severity-count', severity: 'CRITICAL', count: 1, max: 0 }],
      blocking: [{ id: 'CVE-2024-3094', severity: 'CRITICAL', package: 'xz-utils@5.6.0', fixedInVersion: '5.6.1' }],
      actions: [],
    });
    expect(verdict?.counts?.found).toEqual({ CRITICAL: 1, MEDIUM: 2, LOW: 1, INFORMATIONAL: 1, UNDEFINED: 1 });
  });

  it('passes an image whose only high finding the allow-list accepts, and names the entry with its expiry', async () => {
    // Prepare
    wire();
    // Act
    await pushAndScan('team/app', ['v2'], [...HIGH_CURL, ...MEDIUM_AND_BELOW], 'allowed');
    await settle(1);
    // Assess
    const [verdict] = verdicts();
    expect(verdict?.verdict).toBe('PASS');
    expect(verdict?.allowed).toEqual([
      expect.objectContaining({ id: 'CVE-2023-38545', allowedUntil: inDays(30), owner: 'team-a' }),
    ]);
  });

  it('quarantines a failing image in enforce mode: adds the quarantine tag, removes matching tags, keeps the image', async () => {
    // Prepare
    wire();
    // Act
    const digest = await pushAndScan('quarantine/app', ['v1', 'latest', 'prod-1'], CRITICAL, 'quarantine');
    await settle(1);
    // Assess
    const quarantineTag = `quarantined-${digest.slice(7, 19)}`;
    expect(verdicts()[0]?.actions).toEqual([
      { action: 'quarantine-tag', tag: quarantineTag, result: 'done' },
      { action: 'remove-tag', tag: 'latest', result: 'done' },
      { action: 'remove-tag', tag: 'prod-1', result: 'done' },
    ]);
    expect(await tagsOf('quarantine/app', digest)).toEqual([quarantineTag, 'v1'].sort());
  });

  it('publishes FAIL with reason scan-failed for an ECR Image Scan whose scan FAILED, and acts on nothing', async () => {
    // Prepare
    wire();
    const manifest = buildImageManifest({ seed: 'failed' });
    await declareBlobs(server, 'quarantine/app', manifest);
    await client.send(
      new PutImageCommand({ repositoryName: 'quarantine/app', imageManifest: manifest, imageTag: 'x' }),
    );
    const digest = sha256(manifest);
    // The local registry's scans always complete: a failed scan is set on the image directly.
    const stored = server.registry
      .state('123456789012', 'us-east-1')
      .repositories.get('quarantine/app')
      ?.images.get(digest);
    if (!stored) throw new Error('the pushed image is not stored');
    stored.scan = {
      status: 'FAILED',
      description: 'UnsupportedImageError: the operating system is not supported',
      startedAt: Date.now(),
      findings: { findings: [], enhancedFindings: [] },
    };
    // Act
    server.bus.emit({
      source: 'aws.ecr',
      detailType: 'ECR Image Scan',
      detail: {
        'scan-status': 'FAILED',
        'repository-name': 'quarantine/app',
        'image-digest': digest,
        'image-tags': ['x'],
      },
    });
    await settle(1);
    // Assess
    expect(verdicts()[0]).toMatchObject({
      verdict: 'FAIL',
      reason: { code: 'scan-failed', scanStatus: 'FAILED' },
      actions: [],
    });
    expect(await tagsOf('quarantine/app', digest)).toEqual(['x']);
  });

  it('flips FAIL to PASS when Inspector closes the blocking finding, and lifts the quarantine tag', async () => {
    // Prepare: an enhanced finding, scanned, judged FAIL and quarantined
    wire();
    const findingArn = 'arn:aws:inspector2:us-east-1:123456789012:finding/abc';
    const enhanced = {
      findingArn,
      severity: 'CRITICAL',
      status: 'ACTIVE',
      score: 9.8,
      fixAvailable: 'YES',
      packageVulnerabilityDetails: {
        vulnerabilityId: 'CVE-2024-3094',
        vulnerablePackages: [{ name: 'xz-utils', version: '5.6.0', fixedInVersion: '5.6.1' }],
      },
      firstObservedAt: 1_764_000_000,
      updatedAt: 1_764_000_000,
    };
    const manifest = buildImageManifest({ seed: 'enhanced' });
    await declareBlobs(server, 'quarantine/app', manifest);
    await client.send(
      new PutImageCommand({ repositoryName: 'quarantine/app', imageManifest: manifest, imageTag: 'v9' }),
    );
    const digest = sha256(manifest);
    await control(server, 'findings', {
      repositoryName: 'quarantine/app',
      imageDigest: digest,
      enhancedFindings: [enhanced],
    });
    await client.send(
      new StartImageScanCommand({ repositoryName: 'quarantine/app', imageId: { imageDigest: digest } }),
    );
    await settle(1);
    // Act: Inspector closes the finding (its human timestamps, after the listed one)
    server.bus.emit({
      source: 'aws.inspector2',
      detailType: 'Inspector2 Finding',
      resources: [`arn:aws:ecr:us-east-1:123456789012:repository/quarantine/app/${digest}`],
      detail: {
        ...enhanced,
        status: 'CLOSED',
        firstObservedAt: 'Nov 24, 2025, 4:00:00 PM',
        updatedAt: 'Dec 3, 2026, 6:02:30 PM',
        resources: [
          {
            type: 'AWS_ECR_CONTAINER_IMAGE',
            id: `arn:aws:ecr:us-east-1:123456789012:repository/quarantine/app/${digest}`,
            details: {
              awsEcrContainerImage: { repositoryName: 'quarantine/app', imageHash: digest, imageTags: ['v9'] },
            },
          },
        ],
      },
    });
    await settle(2);
    // Assess
    const quarantineTag = `quarantined-${digest.slice(7, 19)}`;
    const [first, second] = verdicts();
    expect(first).toMatchObject({ verdict: 'FAIL', scan: { type: 'ENHANCED' } });
    expect(second).toMatchObject({
      verdict: 'PASS',
      trigger: { detailType: 'Inspector2 Finding', finding: { findingArn, status: 'CLOSED' } },
      flip: { from: 'FAIL', to: 'PASS' },
      counts: { ignored: { closed: 1 } },
      actions: [{ action: 'lift-quarantine', tag: quarantineTag, result: 'done' }],
    });
    expect(await tagsOf('quarantine/app', digest)).toEqual(['v9']);
  });

  it('publishes the daily allow-list report when its schedule fires', async () => {
    // Prepare
    const config = parseConfig({
      scan: {
        allowList: [
          { id: 'CVE-1', expires: inDays(3), owner: 'a', reason: 'r' },
          { id: 'CVE-2', expires: inDays(60), owner: 'b', reason: 'r' },
          { id: 'CVE-3', expires: '2020-01-01', owner: 'c', reason: 'r' },
        ],
      },
    });
    wire(config);
    // Act
    await control(server, 'bus/fire', { rule: 'allow-list-report' });
    await server.bus.drain();
    // Assess
    const reports = server.bus.events
      .filter((event) => event['detail-type'] === 'Allow List Report')
      .map((event) => AllowListReportEventSchema.parse(event.detail));
    expect(reports).toHaveLength(1);
    expect(reports[0]?.expiring.map((entry) => entry.id)).toEqual(['CVE-1']);
    expect(reports[0]?.expired.map((entry) => entry.id)).toEqual(['CVE-3']);
  });

  it('fails the image once the registry clock has moved past the allow-list entry (npm start runs on that clock)', async () => {
    // Prepare: the entry expires in 30 days; the registry's clock moves 40 days ahead
    wire();
    await control(server, 'clock', { advanceSeconds: 40 * 86_400 });
    // Act
    await pushAndScan('team/app', ['v3'], [...HIGH_CURL, ...MEDIUM_AND_BELOW], 'allowed-expired');
    await settle(1);
    // Assess
    const [verdict] = verdicts();
    expect(verdict?.verdict).toBe('FAIL');
    expect(verdict?.allowed).toEqual([]);
    expect(verdict?.expiredEntries).toEqual([expect.objectContaining({ id: 'CVE-2023-38545', matched: 1 })]);
  });

  describe('the scan-gate CLI', () => {
    const gate = async (args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const configFile = `${process.env.TMPDIR ?? '/tmp'}/scan-gate-${process.pid}.json`;
      const { writeFileSync } = await import('node:fs');
      writeFileSync(configFile, JSON.stringify(SCAN_CONFIG));
      const code = await runScanGate(
        [...args, '--config', configFile, '--endpoint-url', server.url, '--region', 'us-east-1'],
        {
          env: { AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST', AWS_SECRET_ACCESS_KEY: 'local' },
          stdout: (line) => out.push(line),
          stderr: (line) => err.push(line),
          connect: (options) => createEcrClient({ ...options, maxAttempts: 1 }),
          now: () => Date.now(),
        },
      );
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

    it('exits 0 on PASS and prints the verdict as JSON', async () => {
      // Prepare
      await pushAndScan('team/app', ['ok'], MEDIUM_AND_BELOW, 'gate-pass');
      // Act
      const result = await gate(['team/app:ok', '--json', '--interval', '0.01', '--timeout', '5']);
      // Assess
      expect(result.code).toBe(0);
      expect(JSON.parse(result.out)).toMatchObject({ verdict: 'PASS', repositoryName: 'team/app', tags: ['ok'] });
    });

    it('judges the allow-list by the local registry clock: an entry past its expiry there no longer passes', async () => {
      // Prepare: the entry expires in 30 days on the machine's clock; the registry's clock is 40 days ahead
      await pushAndScan('team/app', ['curl'], HIGH_CURL, 'gate-expired');
      await control(server, 'clock', { advanceSeconds: 40 * 86_400 });
      // Act
      const result = await gate(['team/app:curl', '--json', '--interval', '0.01', '--timeout', '5']);
      // Assess
      expect(result.code).toBe(1);
      expect(JSON.parse(result.out)).toMatchObject({
        verdict: 'FAIL',
        expiredEntries: [expect.objectContaining({ id: 'CVE-2023-38545' })],
      });
    });

    it('exits 1 on FAIL and prints the blocking findings as a table', async () => {
      // Prepare
      await pushAndScan('team/app', ['bad'], CRITICAL, 'gate-fail');
      // Act
      const result = await gate(['team/app:bad', '--interval', '0.01', '--timeout', '5']);
      // Assess
      expect(result.code).toBe(1);
      expect(result.out).toMatch(/^FAIL {2}team\/app/);
      expect(result.out).toMatch(/CRITICAL\s+CVE-2024-3094\s+xz-utils@5\.6\.0\s+10\s+5\.6\.1/);
    });

    it('exits 3 when the scan does not complete within the timeout', async () => {
      // Prepare: pushed, never scanned
      await declareBlobs(server, 'team/app', buildImageManifest({ seed: 'never' }));
      await client.send(
        new PutImageCommand({
          repositoryName: 'team/app',
          imageManifest: buildImageManifest({ seed: 'never' }),
          imageTag: 'slow',
        }),
      );
      // Act
      const result = await gate(['team/app:slow', '--interval', '0.02', '--timeout', '0.1']);
      // Assess
      expect(result.code).toBe(3);
      expect(result.err).toContain('Timed out');
    });

    it('exits 2 on an image reference without a tag, and 4 on a tag no image carries', async () => {
      // Act
      const noTag = await gate(['team/app']);
      const missing = await gate(['team/app:nope', '--timeout', '0']);
      // Assess
      expect(noTag.code).toBe(2);
      expect(missing).toMatchObject({ code: 4, err: 'No image tagged nope in team/app' });
    });
  });

  it('publishes verdicts shaped like events/image-scan-verdict.json', async () => {
    // Prepare
    const sample = JSON.parse(readFileSync('events/image-scan-verdict.json', 'utf8')) as {
      source: string;
      'detail-type': string;
      detail: Record<string, unknown>;
    };
    wire();
    // Act
    await pushAndScan(
      'team/app',
      ['1.0.0'],
      [{ name: 'CVE-2024-3094', severity: 'CRITICAL', attributes: [] }],
      'sample',
    );
    await settle(1);
    // Assess
    const event = server.bus.events.find((e) => e['detail-type'] === 'Image Scan Verdict');
    expect(event).toMatchObject({ source: sample.source, 'detail-type': sample['detail-type'] });
    const keys = Object.keys(event?.detail as object).sort();
    expect(keys).toEqual(Object.keys(sample.detail).sort());
  });
});
