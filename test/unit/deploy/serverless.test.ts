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
