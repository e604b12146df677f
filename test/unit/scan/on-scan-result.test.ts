import { readFileSync } from 'node:fs';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  ECRClient,
  type ImageScanFinding,
  PutImageCommand,
  ScanNotFoundException,
  type ScanStatus,
} from '@aws-sdk/client-ecr';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler, ScanResultEventSchema } from '../../../functions/on-scan-result/handler.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { createEcrGateway } from '../../../shared/ecr/index.ts';
import { publishEvents } from '../../../shared/events/publisher.ts';
import { parseInspectorTime, repositoryNameOf } from '../../../shared/scan/gather.ts';
import { type ScanVerdict, ScanVerdictSchema } from '../../../shared/scan/report.ts';
import { digestOf } from '../../helpers/images.ts';
import { testDeps } from '../../helpers/service-deps.ts';

const REPO = 'team/app';
const DIGEST = digestOf('scanned');
const NOW = Date.parse('2026-11-24T12:00:00Z');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const ecr = mockClient(ECRClient);
const events = mockClient(EventBridgeClient);

const CONFIG = parseConfig({
  scan: {
    rules: [
      {
        repositories: ['team/**'],
        mode: 'enforce',
        quarantineTagPrefix: 'quarantined-',
        maxFindings: { CRITICAL: 0, HIGH: 5 },
      },
    ],
  },
});

const handler = (config = CONFIG) =>
  createHandler(() =>
    testDeps({
      config: () => config,
      gateway: ({ readOnly }) => createEcrGateway(new ECRClient({ region: 'us-east-1' }), { readOnly }),
      publish: (entries) => publishEvents(new EventBridgeClient({ region: 'us-east-1' }), 'service-bus', entries),
      now: () => NOW,
    }),
  );

const context = { getRemainingTimeInMillis: () => 60_000, functionName: 'onScanResult' } as unknown as Context;

const envelope = (source: string, detailType: string, detail: Record<string, unknown>) => ({
  version: '0',
  id: 'event-1',
  'detail-type': detailType,
  source,
  account: '123456789012',
  time: '2026-11-24T07:46:02Z',
  region: 'us-east-1',
  resources: [`arn:aws:ecr:us-east-1:123456789012:repository/${REPO}`],
  detail,
});

const scanEvent = (detail: Record<string, unknown> = {}) =>
  envelope('aws.ecr', 'ECR Image Scan', {
    'scan-status': 'COMPLETE',
    'repository-name': REPO,
    'finding-severity-counts': { HIGH: 3 },
    'image-digest': DIGEST,
    'image-tags': ['v1'],
    ...detail,
  });

const run = async (event: unknown, config = CONFIG) => (await handler(config)(event as never, context)) as ScanVerdict;

const high = (i: number): ImageScanFinding => ({
  name: `CVE-2026-${i}`,
  severity: i === 0 ? 'CRITICAL' : 'HIGH',
  attributes: [
    { key: 'package_name', value: `pkg-${i}` },
    { key: 'package_version', value: '1.0' },
  ],
});

/** The image in DescribeImages, and its findings over pages of 1000 (DescribeImageScanFindings). */
function prepareRegistry(findings: ImageScanFinding[], status: ScanStatus = 'COMPLETE') {
  ecr.on(DescribeImagesCommand).resolves({
    imageDetails: [
      { repositoryName: REPO, imageDigest: DIGEST, imageTags: ['v1'], imageManifestMediaType: OCI_MANIFEST },
    ],
  });
  const pages = Math.max(1, Math.ceil(findings.length / 1000));
  let chain = ecr.on(DescribeImageScanFindingsCommand);
  for (let page = 0; page < pages; page++) {
    chain = chain.resolvesOnce({
      imageScanStatus: { status },
      imageScanFindings: {
        imageScanCompletedAt: new Date(NOW - 60_000),
        findings: findings.slice(page * 1000, (page + 1) * 1000),
      },
      ...(page < pages - 1 ? { nextToken: `t${page + 1}` } : {}),
    });
  }
  ecr.on(BatchGetImageCommand).resolves({
    images: [
      { imageId: { imageDigest: DIGEST }, imageManifest: '{"schemaVersion":2}', imageManifestMediaType: OCI_MANIFEST },
    ],
    failures: [],
  });
  ecr.on(PutImageCommand).resolves({ image: { imageId: { imageDigest: DIGEST } } });
}

const published = () =>
  events
    .commandCalls(PutEventsCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => ({
      detailType: entry.DetailType,
      verdict: ScanVerdictSchema.parse(JSON.parse(entry.Detail ?? '{}')),
    }));

beforeEach(() => {
  ecr.reset();
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'verdict-1' }] });
});
afterEach(() => {
  ecr.reset();
  events.reset();
});

describe('on-scan-result handler', () => {
  it('reads 3,500 findings over four pages, judges them all, quarantines the image and publishes the verdict', async () => {
    // Prepare
    prepareRegistry(Array.from({ length: 3_500 }, (_, i) => high(i)));
    // Act
    const verdict = await run(scanEvent());
    // Assess
    expect(ecr).toHaveReceivedCommandTimes(DescribeImageScanFindingsCommand, 4);
    expect(ecr).toHaveReceivedNthCommandWith(DescribeImageScanFindingsCommand, 4, {
      repositoryName: REPO,
      imageId: { imageDigest: DIGEST },
      maxResults: 1000,
      nextToken: 't3',
    });
    expect(verdict).toMatchObject({
      verdict: 'FAIL',
      scan: { findings: 3_500, type: 'BASIC' },
      counts: { found: { CRITICAL: 1, HIGH: 3_499 } },
      blockingTotal: 3_500,
    });
    expect(verdict.blocking).toHaveLength(100);
    expect(verdict.blocking?.[0]).toMatchObject({ id: 'CVE-2026-0', severity: 'CRITICAL' });
    expect(ecr).toHaveReceivedCommandWith(PutImageCommand, {
      repositoryName: REPO,
      imageDigest: DIGEST,
      imageTag: `quarantined-${DIGEST.slice(7, 19)}`,
      imageManifest: '{"schemaVersion":2}',
      imageManifestMediaType: OCI_MANIFEST,
    });
    expect(ecr).not.toHaveReceivedCommand(BatchDeleteImageCommand);
    expect(published()).toEqual([{ detailType: 'Image Scan Verdict', verdict }]);
  });

  it("an event's dryRun false cannot turn off the config's dry run: the FAIL is judged, the quarantine only planned", async () => {
    // Prepare
    prepareRegistry([high(0)]);
    const dry = parseConfig({ scan: { ...CONFIG.scan, dryRun: true } });
    // Act
    const verdict = await run(scanEvent({ dryRun: false }), dry);
    // Assess
    expect(verdict).toMatchObject({ verdict: 'FAIL', dryRun: true });
    expect(verdict.actions).toEqual([
      { action: 'quarantine-tag', tag: `quarantined-${DIGEST.slice(7, 19)}`, result: 'planned' },
    ]);
    expect(ecr).not.toHaveReceivedCommand(PutImageCommand);
    expect(ecr).not.toHaveReceivedCommand(BatchDeleteImageCommand);
  });

  it('publishes FAIL with reason scan-failed for a FAILED scan, and acts on nothing', async () => {
    // Prepare
    prepareRegistry([], 'FAILED');
    // Act
    const verdict = await run(scanEvent({ 'scan-status': 'FAILED' }));
    // Assess
    expect(verdict).toMatchObject({
      verdict: 'FAIL',
      reason: { code: 'scan-failed', scanStatus: 'FAILED' },
      actions: [],
    });
    expect(published()).toEqual([{ detailType: 'Image Scan Verdict', verdict }]);
    expect(ecr).not.toHaveReceivedCommand(PutImageCommand);
    expect(ecr).not.toHaveReceivedCommand(BatchDeleteImageCommand);
  });

  it('skips an image deleted before the handler ran: publishes a skipped verdict and reads no findings', async () => {
    // Prepare
    ecr.on(DescribeImagesCommand).rejects({ name: 'ImageNotFoundException', message: 'gone', $metadata: {} });
    // Act
    const verdict = await run(scanEvent());
    // Assess
    expect(verdict).toMatchObject({ verdict: 'SKIPPED', skipped: { code: 'image-gone' }, tags: ['v1'] });
    expect(ecr).not.toHaveReceivedCommand(DescribeImageScanFindingsCommand);
    expect(published()).toHaveLength(1);
  });

  it('skips an image whose scan ECR no longer has (ScanNotFoundException)', async () => {
    // Prepare
    prepareRegistry([]);
    ecr.on(DescribeImageScanFindingsCommand).rejects(new ScanNotFoundException({ message: 'no scan', $metadata: {} }));
    // Act
    const verdict = await run(scanEvent());
    // Assess
    expect(verdict.skipped?.code).toBe('scan-not-found');
  });

  it('reads the repository name out of the ARN an Inspector2 Scan event carries', async () => {
    // Prepare
    prepareRegistry([]);
    // Act
    const verdict = await run(
      envelope('aws.inspector2', 'Inspector2 Scan', {
        'scan-status': 'INITIAL_SCAN_COMPLETE',
        'repository-name': `arn:aws:ecr:us-east-1:123456789012:repository/${REPO}`,
        'finding-severity-counts': { TOTAL: 0 },
        'image-digest': DIGEST,
        'image-tags': ['v1'],
      }),
    );
    // Assess
    expect(verdict).toMatchObject({ repositoryName: REPO, verdict: 'PASS', scan: { type: 'ENHANCED' } });
    expect(ecr).toHaveReceivedCommandWith(DescribeImagesCommand, { repositoryName: REPO });
  });

  it('gives a skipped verdict and no ECR call when no scan rule matches the repository', async () => {
    // Act
    const verdict = await run(scanEvent({ 'repository-name': 'other/app' }));
    // Assess
    expect(verdict.skipped?.code).toBe('no-policy');
    expect(ecr).not.toHaveReceivedAnyCommand();
  });

  it.each([
    ['an unknown detail-type', envelope('aws.ecr', 'ECR Image Action', {}), /detail-type/],
    ['a bad digest', scanEvent({ 'image-digest': 'nope' }), /detail\.image-digest/],
    ['no scan status', scanEvent({ 'scan-status': undefined }), /detail\.scan-status/],
    [
      'an Inspector finding about a Lambda function',
      envelope('aws.inspector2', 'Inspector2 Finding', {
        findingArn: 'arn:f',
        severity: 'HIGH',
        status: 'ACTIVE',
        resources: [{ type: 'AWS_LAMBDA_FUNCTION', id: 'fn' }],
      }),
      /detail\.resources/,
    ],
  ])('rejects %s with a clear error naming the field, and calls nothing', async (_name, event, message) => {
    // Act
    const attempt = run(event);
    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidEventError', message: expect.stringMatching(message) });
    expect(ecr).not.toHaveReceivedAnyCommand();
    expect(events).not.toHaveReceivedAnyCommand();
  });
});

describe('Inspector event facts', () => {
  it.each(['ecr-image-scan.json', 'inspector2-scan.json', 'inspector2-finding.json'])(
    'accepts the sample event events/%s',
    (file) => {
      // Act
      const parsed = ScanResultEventSchema.safeParse(JSON.parse(readFileSync(`events/${file}`, 'utf8')));
      // Assess
      expect(parsed.success).toBe(true);
    },
  );

  it('reads human timestamps ("Dec 3, 2021, 6:02:30 PM") and ISO ones', () => {
    // Assess
    expect(parseInspectorTime('Dec 3, 2021, 6:02:30 PM')).toBe(Date.parse('2021-12-03T18:02:30Z'));
    expect(parseInspectorTime('Jan 1, 2022, 12:00:00 AM')).toBe(Date.parse('2022-01-01T00:00:00Z'));
    expect(parseInspectorTime('2022-01-01T10:00:00Z')).toBe(Date.parse('2022-01-01T10:00:00Z'));
    expect(parseInspectorTime('yesterday')).toBeUndefined();
  });

  it('takes a repository name out of a repository ARN, and leaves a plain name as it is', () => {
    // Assess
    expect(repositoryNameOf('arn:aws:ecr:us-east-1:123456789012:repository/team/app')).toBe('team/app');
    expect(repositoryNameOf('team/app')).toBe('team/app');
  });
});
