import { describe, expect, it } from 'vitest';
import config, { type FunctionWithRole } from '../../../serverless.ts';

const fn = (name: string) => config.functions?.[name] as FunctionWithRole;

const actionsOf = (name: string) =>
  (fn(name).iamRoleStatements ?? []).flatMap((statement) =>
    [statement.Action ?? []].flat().map((action) => ({ action: String(action), resource: statement.Resource })),
  );

describe('serverless.ts: onImagePush', () => {
  it('is triggered by exactly the successful pushes of ECR, on the default bus', () => {
    // Act
    const events = fn('onImagePush').events ?? [];
    // Assess
    expect(events).toEqual([
      {
        eventBridge: {
          pattern: {
            source: ['aws.ecr'],
            'detail-type': ['ECR Image Action'],
            detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
          },
        },
      },
    ]);
  });

  it('may call only the ECR actions the handler calls (see the unit test of its calls), and publish its verdict', () => {
    // Act
    const actions = actionsOf('onImagePush');
    // Assess
    expect(
      actions
        .filter((entry) => entry.action.startsWith('ecr:'))
        .map((entry) => entry.action)
        .sort(),
    ).toEqual(
      [
        'ecr:BatchDeleteImage',
        'ecr:DescribeImages',
        'ecr:DescribeRepositories',
        'ecr:GetRegistryScanningConfiguration',
        'ecr:PutImageTagMutability',
        'ecr:StartImageScan',
      ].sort(),
    );
    // Only the registry-level read is granted on every resource.
    expect(actions.filter((entry) => entry.resource === '*').map((entry) => entry.action)).toEqual([
      'ecr:GetRegistryScanningConfiguration',
    ]);
    expect(actions.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['events:PutEvents', 'sqs:SendMessage']),
    );
    expect(actions.some((entry) => entry.action.includes('*'))).toBe(false);
  });

  it('sends failed invocations to the dead-letter queue, like the other functions', () => {
    // Assess
    expect(fn('onImagePush')).toMatchObject({
      handler: 'functions/on-image-push/handler.handler',
      destinations: fn('cleanupRepository').destinations,
      maximumRetryAttempts: 2,
      environment: { EVENT_BUS_NAME: expect.stringContaining('ecr-automation-') },
    });
  });
});

describe('serverless.ts: onScanResult', () => {
  it('is triggered by exactly completed or failed basic scans, initial Inspector scans and Inspector findings on ECR images', () => {
    // Act
    const events = fn('onScanResult').events ?? [];
    // Assess
    expect(events).toEqual([
      {
        eventBridge: {
          pattern: {
            source: ['aws.ecr'],
            'detail-type': ['ECR Image Scan'],
            detail: { 'scan-status': ['COMPLETE', 'FAILED'] },
          },
        },
      },
      {
        eventBridge: {
          pattern: {
            source: ['aws.inspector2'],
            'detail-type': ['Inspector2 Scan'],
            detail: { 'scan-status': ['INITIAL_SCAN_COMPLETE'] },
          },
        },
      },
      {
        eventBridge: {
          pattern: {
            source: ['aws.inspector2'],
            'detail-type': ['Inspector2 Finding'],
            detail: { resources: { type: ['AWS_ECR_CONTAINER_IMAGE'] } },
          },
        },
      },
    ]);
  });

  it('may call only the ECR actions its gateway methods send, on repositories only, and publish its verdict', () => {
    // Act
    const actions = actionsOf('onScanResult');
    // Assess
    expect(
      actions
        .filter((entry) => entry.action.startsWith('ecr:'))
        .map((entry) => entry.action)
        .sort(),
    ).toEqual(
      [
        'ecr:BatchDeleteImage',
        'ecr:BatchGetImage',
        'ecr:DescribeImageScanFindings',
        'ecr:DescribeImages',
        'ecr:PutImage',
      ].sort(),
    );
    expect(actions.filter((entry) => entry.resource === '*')).toEqual([]);
    expect(actions.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['events:PutEvents', 'sqs:SendMessage']),
    );
    expect(fn('onScanResult')).toMatchObject({
      handler: 'functions/on-scan-result/handler.handler',
      destinations: fn('cleanupRepository').destinations,
      maximumRetryAttempts: 2,
    });
  });
});

describe('serverless.ts: allowListReport', () => {
  it('runs daily and may only publish its report (no ECR access)', () => {
    // Act
    const actions = actionsOf('allowListReport').map((entry) => entry.action);
    // Assess
    expect(fn('allowListReport').events).toEqual([{ schedule: { rate: ['cron(0 6 * * ? *)'], enabled: true } }]);
    expect(actions.sort()).toEqual(['events:PutEvents', 'sqs:SendMessage']);
  });
});

describe('serverless.ts: scheduledCompliance and reconcileRegistry', () => {
  it('runs both on a schedule, with the dead-letter destination', () => {
    // Assess
    expect(fn('scheduledCompliance')).toMatchObject({
      handler: 'functions/scheduled-compliance/handler.handler',
      events: [{ schedule: { rate: ['cron(0 4 * * ? *)'], enabled: true } }],
      destinations: fn('cleanupRepository').destinations,
    });
    expect(fn('reconcileRegistry')).toMatchObject({
      handler: 'functions/reconcile-registry/handler.handler',
      events: [{ schedule: { rate: ['rate(1 hour)'], enabled: true } }],
      destinations: fn('cleanupRepository').destinations,
      reservedConcurrency: 1,
    });
  });

  it('lets compliance call only its reads and fixes on repositories, and the scanning read on the registry', () => {
    // Act
    const actions = actionsOf('scheduledCompliance').filter((entry) => entry.action.startsWith('ecr:'));
    // Assess
    expect(
      actions
        .filter((entry) => entry.resource !== '*')
        .map((entry) => entry.action)
        .sort(),
    ).toEqual(
      [
        'ecr:DeleteLifecyclePolicy',
        'ecr:DescribeRepositories',
        'ecr:GetLifecyclePolicy',
        'ecr:GetRepositoryPolicy',
        'ecr:ListTagsForResource',
        'ecr:PutImageScanningConfiguration',
        'ecr:PutImageTagMutability',
        'ecr:PutLifecyclePolicy',
        'ecr:TagResource',
      ].sort(),
    );
    expect(actions.filter((entry) => entry.resource === '*').map((entry) => entry.action)).toEqual([
      'ecr:GetRegistryScanningConfiguration',
    ]);
    // Never the repository policy or the repository itself: compliance reports those.
    expect(actions.map((entry) => entry.action)).not.toContain('ecr:SetRepositoryPolicy');
  });

  it('lets the reconciler call only the registry-settings actions the gateway uses for it', () => {
    // Act
    const actions = actionsOf('reconcileRegistry');
    // Assess
    expect(
      actions
        .filter((entry) => entry.action.startsWith('ecr:'))
        .map((entry) => entry.action)
        .sort(),
    ).toEqual(
      [
        'ecr:CreatePullThroughCacheRule',
        'ecr:CreateRepositoryCreationTemplate',
        'ecr:DeletePullThroughCacheRule',
        'ecr:DeleteRepositoryCreationTemplate',
        'ecr:DescribePullThroughCacheRules',
        'ecr:DescribeRegistry',
        'ecr:DescribeRepositoryCreationTemplates',
        'ecr:GetRegistryScanningConfiguration',
        'ecr:PutRegistryScanningConfiguration',
        'ecr:GetRegistryPolicy',
        'ecr:PutRegistryPolicy',
        'ecr:DeleteRegistryPolicy',
        'ecr:PutReplicationConfiguration',
        'ecr:UpdatePullThroughCacheRule',
        'ecr:UpdateRepositoryCreationTemplate',
      ].sort(),
    );
    expect(actions.some((entry) => entry.action.includes('*'))).toBe(false);
    const linkedRole = (fn('reconcileRegistry').iamRoleStatements ?? []).find((statement) =>
      [statement.Action].flat().includes('iam:CreateServiceLinkedRole'),
    );
    expect(linkedRole?.Condition).toEqual({ StringEquals: { 'iam:AWSServiceName': 'replication.ecr.amazonaws.com' } });
  });
});
