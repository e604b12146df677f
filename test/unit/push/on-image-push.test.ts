import { readFileSync } from 'node:fs';
import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetRegistryScanningConfigurationCommand,
  type ImageDetail,
  ImageNotFoundException,
  LimitExceededException,
  PutImageTagMutabilityCommand,
  type Repository,
  RepositoryNotFoundException,
  StartImageScanCommand,
} from '@aws-sdk/client-ecr';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler, ImagePushEventSchema } from '../../../functions/on-image-push/handler.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { createEcrGateway } from '../../../shared/ecr/index.ts';
import { publishEvents } from '../../../shared/events/publisher.ts';
import { DEFAULT_PUSH_POLICY } from '../../../shared/policy/push/policy.ts';
import { runPushPolicy } from '../../../shared/push/entry.ts';
import { type PushVerdict, PushVerdictSchema } from '../../../shared/push/report.ts';
import { digestOf } from '../../helpers/images.ts';
import { testDeps } from '../../helpers/service-deps.ts';

const REPO = 'payments/api';
const DIGEST = digestOf('pushed');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const ecr = mockClient(ECRClient);
const events = mockClient(EventBridgeClient);

const ENFORCE = {
  mode: 'enforce',
  tags: { forbidden: ['latest'], required: { form: 'semver' } },
  tagMutability: { setting: 'IMMUTABLE' },
};

const configWith = (push: Record<string, unknown>) => parseConfig({ push });
const enforced = (overrides: Record<string, unknown> = {}) =>
  configWith({ rules: [{ repositories: ['payments/**'], ...ENFORCE, ...overrides }] });

const handlerWith = (config = enforced()) =>
  createHandler(() =>
    testDeps({
      config: () => config,
      gateway: ({ readOnly }) => createEcrGateway(new ECRClient({ region: 'us-east-1' }), { readOnly }),
      publish: (entries) => publishEvents(new EventBridgeClient({ region: 'us-east-1' }), 'service-bus', entries),
    }),
  );

const context = {
  getRemainingTimeInMillis: () => 60_000,
  awsRequestId: 'request-1',
  functionName: 'onImagePush',
} as unknown as Context;

const pushEvent = (detail: Record<string, unknown> = {}) => ({
  version: '0',
  id: 'event-1',
  'detail-type': 'ECR Image Action',
  source: 'aws.ecr',
  account: '123456789012',
  time: '2026-11-24T07:45:10Z',
  region: 'us-east-1',
  resources: [],
  detail: {
    result: 'SUCCESS',
    'repository-name': REPO,
    'image-digest': DIGEST,
    'action-type': 'PUSH',
    'image-tag': 'latest',
    'manifest-media-type': OCI_MANIFEST,
    ...detail,
  },
});

const repository = (overrides: Partial<Repository> = {}): Repository => ({
  repositoryName: REPO,
  repositoryArn: `arn:aws:ecr:us-east-1:123456789012:repository/${REPO}`,
  registryId: '123456789012',
  imageTagMutability: 'MUTABLE',
  imageScanningConfiguration: { scanOnPush: false },
  ...overrides,
});

const image = (overrides: Partial<ImageDetail> = {}): ImageDetail => ({
  repositoryName: REPO,
  imageDigest: DIGEST,
  imageTags: ['v1.2.3', 'latest'],
  imagePushedAt: new Date('2026-11-24T07:45:09Z'),
  imageSizeInBytes: 1_000,
  imageManifestMediaType: OCI_MANIFEST,
  artifactMediaType: 'application/vnd.oci.image.config.v1+json',
  ...overrides,
});

/** A registry where the pushed image has `v1.2.3` and `latest`, in a MUTABLE repository, BASIC scanning, no rules. */
function prepareRegistry(options: { repository?: Partial<Repository>; image?: Partial<ImageDetail> } = {}) {
  ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [repository(options.repository)] });
  ecr.on(DescribeImagesCommand).resolves({ imageDetails: [image(options.image)] });
  ecr.on(GetRegistryScanningConfigurationCommand).resolves({
    registryId: '123456789012',
    scanningConfiguration: { scanType: 'BASIC', rules: [] },
  });
  ecr.on(PutImageTagMutabilityCommand).resolves({ repositoryName: REPO, imageTagMutability: 'IMMUTABLE' });
  ecr.on(BatchDeleteImageCommand).resolves({ imageIds: [{ imageDigest: DIGEST, imageTag: 'latest' }], failures: [] });
  ecr.on(StartImageScanCommand).resolves({ imageScanStatus: { status: 'IN_PROGRESS' } });
}

const run = async (event: unknown = pushEvent(), config = enforced()) =>
  (await handlerWith(config)(event as never, context)) as PushVerdict;

const publishedVerdicts = () =>
  events
    .commandCalls(PutEventsCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => ({
      detailType: entry.DetailType,
      verdict: PushVerdictSchema.parse(JSON.parse(entry.Detail ?? '{}')),
    }));

const expectNoMutatingCall = () => {
  expect(ecr).not.toHaveReceivedCommand(BatchDeleteImageCommand);
  expect(ecr).not.toHaveReceivedCommand(PutImageTagMutabilityCommand);
  expect(ecr).not.toHaveReceivedCommand(StartImageScanCommand);
};

beforeEach(() => {
  ecr.reset();
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'verdict-1' }] });
});

afterEach(() => {
  ecr.reset();
  events.reset();
});

describe('on-image-push handler', () => {
  it('reads, then corrects the mutability, removes the forbidden tag by tag, starts the scan, and publishes', async () => {
    // Prepare
    prepareRegistry();
    // Act
    const verdict = await run();
    // Assess
    expect(ecr.calls().map((call) => call.args[0].constructor.name)).toEqual([
      'DescribeRepositoriesCommand',
      'DescribeImagesCommand',
      'GetRegistryScanningConfigurationCommand',
      'PutImageTagMutabilityCommand',
      'BatchDeleteImageCommand',
      'StartImageScanCommand',
    ]);
    expect(ecr).toHaveReceivedNthCommandWith(DescribeImagesCommand, 1, {
      repositoryName: REPO,
      imageIds: [{ imageDigest: DIGEST }],
    });
    expect(ecr).toHaveReceivedNthCommandWith(PutImageTagMutabilityCommand, 1, {
      repositoryName: REPO,
      imageTagMutability: 'IMMUTABLE',
    });
    expect(ecr).toHaveReceivedNthCommandWith(BatchDeleteImageCommand, 1, {
      repositoryName: REPO,
      imageIds: [{ imageTag: 'latest' }],
    });
    expect(ecr).toHaveReceivedNthCommandWith(StartImageScanCommand, 1, {
      repositoryName: REPO,
      imageId: { imageDigest: DIGEST },
    });
    expect(verdict).toMatchObject({
      eventId: 'event-1',
      repositoryName: REPO,
      digest: DIGEST,
      pushedTag: 'latest',
      tags: ['latest', 'v1.2.3'],
      kind: 'image',
      status: 'corrected',
      mode: 'enforce',
      ruleIndex: 0,
      dryRun: false,
      checks: {
        scan: { outcome: 'pass', reason: { code: 'service-scans' } },
        tags: {
          outcome: 'corrected',
          violations: [{ code: 'forbidden', tag: 'latest', pattern: 'latest', resolution: 'removed' }],
        },
        tagMutability: {
          outcome: 'corrected',
          reason: { code: 'drift', found: { setting: 'MUTABLE' }, required: { setting: 'IMMUTABLE' } },
        },
      },
      actions: [
        { action: 'set-tag-mutability', result: 'done' },
        { action: 'remove-tag', tag: 'latest', result: 'done' },
        { action: 'start-scan', result: 'done' },
      ],
    });
    expect(events).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(publishedVerdicts()).toEqual([{ detailType: 'Image Push Verdict', verdict }]);
  });

  it('never scans where the repository scans on push, nor reads the tag of an image that still has it', async () => {
    // Prepare
    prepareRegistry({ repository: { imageScanningConfiguration: { scanOnPush: true } } });
    // Act
    const verdict = await run(pushEvent({ 'image-tag': 'v1.2.3' }), enforced({ tags: { forbidden: [] } }));
    // Assess
    expect(ecr).not.toHaveReceivedCommand(StartImageScanCommand);
    expect(ecr).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
    expect(verdict.checks?.scan).toEqual({
      outcome: 'pass',
      reason: { code: 'ecr-scans-on-push', scanType: 'BASIC', via: 'repository-setting' },
    });
  });

  it('never scans where a registry SCAN_ON_PUSH rule covers the repository', async () => {
    // Prepare
    prepareRegistry();
    ecr.on(GetRegistryScanningConfigurationCommand).resolves({
      scanningConfiguration: {
        scanType: 'BASIC',
        rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'payments', filterType: 'WILDCARD' }] }],
      },
    });
    // Act
    await run();
    // Assess
    expect(ecr).not.toHaveReceivedCommand(StartImageScanCommand);
  });

  it('takes a scan already run today (LimitExceededException) as done, not as an error', async () => {
    // Prepare
    prepareRegistry();
    ecr
      .on(StartImageScanCommand)
      .rejects(new LimitExceededException({ message: 'The scan quota per image has been exceeded.', $metadata: {} }));
    // Act
    const verdict = await run();
    // Assess
    expect(ecr).toHaveReceivedCommandTimes(StartImageScanCommand, 1);
    expect(verdict.actions).toContainEqual(
      expect.objectContaining({ action: 'start-scan', result: 'already-done', code: 'scan-quota-exceeded' }),
    );
    expect(verdict.checks?.scan.outcome).toBe('pass');
  });

  it('starts no scan when DescribeImages already reports one (a second push of the same digest)', async () => {
    // Prepare
    prepareRegistry({ image: { imageScanStatus: { status: 'COMPLETE' } } });
    // Act
    const verdict = await run();
    // Assess
    expect(ecr).not.toHaveReceivedCommand(StartImageScanCommand);
    expect(verdict.actions).toContainEqual(expect.objectContaining({ action: 'start-scan', result: 'already-done' }));
  });

  it('changes nothing in report mode, and reports every violation', async () => {
    // Prepare
    prepareRegistry();
    // Act
    const verdict = await run(pushEvent(), enforced({ mode: 'report', scan: false }));
    // Assess
    expectNoMutatingCall();
    expect(verdict).toMatchObject({
      status: 'violations',
      checks: {
        tags: { outcome: 'violation', violations: [{ code: 'forbidden', resolution: 'reported' }] },
        tagMutability: { outcome: 'violation' },
        scan: { outcome: 'not-applicable', reason: { code: 'scan-not-required' } },
      },
      actions: [],
    });
  });

  it('sends no mutating call in dry run and lists every action as planned', async () => {
    // Prepare
    prepareRegistry();
    const config = configWith({ dryRun: true, rules: [{ repositories: ['payments/**'], ...ENFORCE }] });
    // Act
    const verdict = await run(pushEvent(), config);
    // Assess
    expectNoMutatingCall();
    expect(verdict.dryRun).toBe(true);
    expect(verdict.actions.map((action) => [action.action, action.result])).toEqual([
      ['set-tag-mutability', 'planned'],
      ['remove-tag', 'planned'],
      ['start-scan', 'planned'],
    ]);
  });

  it("an event's dryRun false cannot turn off the config's dry run", async () => {
    // Prepare
    prepareRegistry();
    const config = configWith({ dryRun: true, rules: [{ repositories: ['payments/**'], ...ENFORCE }] });
    // Act
    const verdict = await run(pushEvent({ dryRun: false }), config);
    // Assess
    expectNoMutatingCall();
    expect(verdict.dryRun).toBe(true);
    expect(verdict.actions.every((action) => action.result === 'planned')).toBe(true);
  });

  it("leaves a forbidden tag that is the image's only tag in place", async () => {
    // Prepare
    prepareRegistry({ image: { imageTags: ['latest'] }, repository: { imageTagMutability: 'IMMUTABLE' } });
    // Act
    const verdict = await run();
    // Assess
    expect(ecr).not.toHaveReceivedCommand(BatchDeleteImageCommand);
    expect(verdict.checks?.tags.violations).toEqual([
      { code: 'forbidden', tag: 'latest', pattern: 'latest', resolution: 'left-in-place' },
      { code: 'missing-required-tag', required: 'semver', resolution: 'reported' },
    ]);
    expect(verdict.status).toBe('violations');
  });

  it('undoes such a push only when the policy says so, by tag, never by digest', async () => {
    // Prepare
    prepareRegistry({ image: { imageTags: ['latest'] }, repository: { imageTagMutability: 'IMMUTABLE' } });
    // Act
    const verdict = await run(pushEvent(), enforced({ undoPush: true }));
    // Assess
    expect(ecr).toHaveReceivedCommandWith(BatchDeleteImageCommand, {
      repositoryName: REPO,
      imageIds: [{ imageTag: 'latest' }],
    });
    expect(ecr).not.toHaveReceivedCommand(StartImageScanCommand);
    expect(verdict.checks?.tags.violations[0]).toMatchObject({ tag: 'latest', resolution: 'undone' });
  });

  it('on a re-delivered event finds the removed tag gone, removes nothing and reaches the same judgement', async () => {
    // Prepare: the first delivery removed `latest`; ECR answers ImageNotFound for the tag.
    prepareRegistry();
    const first = await run();
    ecr.reset();
    prepareRegistry({
      image: { imageTags: ['v1.2.3'], imageScanStatus: { status: 'IN_PROGRESS' } },
      repository: { imageTagMutability: 'IMMUTABLE' },
    });
    ecr
      .on(DescribeImagesCommand, { repositoryName: REPO, imageIds: [{ imageTag: 'latest' }] })
      .rejects(new ImageNotFoundException({ message: 'not found', $metadata: {} }));
    // Act
    const again = await run();
    // Assess
    expectNoMutatingCall();
    expect(again.tags).toEqual(first.tags);
    expect(again.checks?.tags).toEqual(first.checks?.tags);
    expect(again.checks?.scan).toEqual(first.checks?.scan);
    expect(again.actions).toEqual([
      { action: 'remove-tag', tag: 'latest', result: 'already-done' },
      expect.objectContaining({ action: 'start-scan', result: 'already-done' }),
    ]);
  });

  it('gives a skipped verdict, and no mutating call, for an image deleted before the handler ran', async () => {
    // Prepare
    prepareRegistry();
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'not found', $metadata: {} }));
    // Act
    const verdict = await run();
    // Assess
    expectNoMutatingCall();
    expect(verdict).toMatchObject({ status: 'skipped', skipped: { code: 'image-gone' }, actions: [] });
    expect(publishedVerdicts()).toHaveLength(1);
  });

  it('gives a skipped verdict, and no mutating call, for a repository that no longer exists', async () => {
    // Prepare
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(new RepositoryNotFoundException({ message: 'no such repository', $metadata: {} }));
    // Act
    const verdict = await run();
    // Assess
    expectNoMutatingCall();
    expect(verdict).toMatchObject({ status: 'skipped', skipped: { code: 'repository-gone' } });
  });

  it('gives a skipped verdict without calling ECR when no push rule matches', async () => {
    // Act
    const verdict = await run(pushEvent({ 'repository-name': 'web/frontend' }));
    // Assess
    expect(ecr).not.toHaveReceivedAnyCommand();
    expect(verdict).toMatchObject({ status: 'skipped', skipped: { code: 'no-policy' }, tags: ['latest'] });
  });

  it('accepts the sample push event (events/ecr-image-push.json), unknown detail fields included', () => {
    // Prepare
    const sample = JSON.parse(readFileSync('events/ecr-image-push.json', 'utf8'));
    // Act
    const parsed = ImagePushEventSchema.safeParse({ ...sample, detail: { ...sample.detail, 'new-field': 1 } });
    // Assess
    expect(parsed.success).toBe(true);
  });

  it.each([
    ['a delete', { 'action-type': 'DELETE' }, /detail\.action-type/],
    ['a failed push', { result: 'FAILURE' }, /detail\.result/],
    ['a bad digest', { 'image-digest': 'nope' }, /detail\.image-digest/],
    ['no repository', { 'repository-name': undefined }, /detail\.repository-name/],
  ])('rejects %s with a clear error naming the field, and calls nothing', async (_name, detail, message) => {
    // Act
    const attempt = run(pushEvent(detail));
    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidEventError', message: expect.stringMatching(message) });
    expect(ecr).not.toHaveReceivedAnyCommand();
    expect(events).not.toHaveReceivedAnyCommand();
  });

  it('throws a throttled action so that Lambda retries the event (every step is idempotent)', async () => {
    // Prepare
    prepareRegistry();
    ecr
      .on(PutImageTagMutabilityCommand)
      .rejects({ name: 'ThrottlingException', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    // Act
    const attempt = run();
    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'ThrottledError' });
    expect(events).not.toHaveReceivedAnyCommand();
  });

  it('reports a tag removal ECR refused as a failed action and leaves the violation standing', async () => {
    // Prepare
    prepareRegistry();
    ecr.on(BatchDeleteImageCommand).resolves({
      failures: [{ imageId: { imageTag: 'latest' }, failureCode: 'KmsError', failureReason: 'KMS down' }],
    });
    // Act
    const gateway = createEcrGateway(new ECRClient({ region: 'us-east-1' }), { maxItemRetries: 0 });
    const rule = { ...DEFAULT_PUSH_POLICY, mode: 'enforce' as const, tags: { forbidden: ['latest'] } };
    const verdict = await runPushPolicy(gateway, {
      eventId: 'event-1',
      eventTime: '2026-11-24T07:45:10Z',
      repositoryName: REPO,
      digest: DIGEST,
      pushedTag: 'latest',
      match: { rule, index: 0 },
    });
    // Assess
    expect(verdict.actions).toContainEqual({
      action: 'remove-tag',
      tag: 'latest',
      result: 'failed',
      code: 'KmsError',
      message: 'KMS down',
    });
    expect(verdict.checks?.tags).toMatchObject({ outcome: 'violation', violations: [{ resolution: 'not-removed' }] });
    expect(verdict.status).toBe('violations');
  });
});
