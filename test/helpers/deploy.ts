import type { AWS } from 'osls';
import { expect } from 'vitest';
import type { Manifest } from '../../service/manifest.ts';
import type { FunctionWithRole } from '../../service/serverless-config.ts';

/** An osls variable or a CloudFormation `Fn::Sub` placeholder, spelled as the manifest spells it. */
export const v = (name: string) => `\${${name}}`;
export const RULE_DLQ = { 'Fn::GetAtt': ['RuleDeliveryFailuresQueue', 'Arn'] };
export const FAILED_INVOCATIONS_DLQ = { 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] };
export const SERVICE_BUS = `ecr-automation-${v('sls:stage')}`;
export const roleId = (name: string) => `${name[0]?.toUpperCase()}${name.slice(1)}IamRoleLambdaExecution`;
export const XRAY_ACTIONS = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

/**
 * Checks that the osls configuration deploys every function of `manifest` as the manifest declares it: the handler,
 * one EventBridge rule per trigger (on the service's bus or the default one, each with the rule dead-letter queue),
 * timeout, memory, reserved concurrency, environment, Lambda's retries then the failed-invocations queue, X-Ray
 * tracing, and a role of the function's own statements plus the dead-letter and X-Ray rights; and that the bus lets
 * exactly the publishers' roles put events. Returns the names of the functions checked.
 */
export function expectDeploysManifest(config: AWS, manifest: Manifest): string[] {
  const functions = (config.functions ?? {}) as Record<string, FunctionWithRole>;
  expect(Object.keys(functions).sort()).toEqual(Object.keys(manifest).sort());
  for (const [name, spec] of Object.entries(manifest)) {
    const fn = functions[name];
    const concurrency = spec.reservedConcurrency;
    expect(fn, name).toMatchObject({
      handler: `${spec.handler}.handler`,
      timeout: spec.timeout,
      memorySize: spec.memorySize,
      environment: spec.environment,
      maximumRetryAttempts: spec.onFailure.retries,
      destinations: { onFailure: { type: 'sqs', arn: spec.onFailure.deadLetterQueue } },
      tracing: spec.tracing,
    });
    expect(fn?.reservedConcurrency, name).toEqual(
      typeof concurrency === 'object' ? v(`param:${concurrency.param}, ${concurrency.default}`) : concurrency,
    );
    expect(fn?.events, name).toEqual(
      spec.triggers.map((trigger) => ({
        eventBridge:
          'schedule' in trigger
            ? { schedule: trigger.schedule, deadLetterQueueArn: RULE_DLQ }
            : trigger.bus === 'service'
              ? { eventBus: SERVICE_BUS, pattern: trigger.pattern, deadLetterQueueArn: RULE_DLQ }
              : { pattern: trigger.pattern, deadLetterQueueArn: RULE_DLQ },
      })),
    );
    const statements = fn?.iamRoleStatements ?? [];
    expect(statements.slice(0, spec.iam.length), name).toEqual(spec.iam);
    expect(statements, name).toContainEqual({
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: spec.onFailure.deadLetterQueue,
    });
    const xray = statements.filter((statement) => [statement.Action].flat().some((a) => String(a).startsWith('xray:')));
    expect(xray.flatMap((statement) => [statement.Action].flat()).sort(), name).toEqual(
      spec.tracing === 'Active' ? XRAY_ACTIONS : [],
    );
  }
  const publishers = Object.entries(manifest)
    .filter(([, spec]) => spec.iam.some((statement) => statement.Action.includes('events:PutEvents')))
    .map(([name]) => ({ 'Fn::GetAtt': [roleId(name), 'Arn'] }));
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation resources are free-form JSON
  const resources = config.resources?.Resources as Record<string, any>;
  expect(resources.ServiceEventBusPublishers.Properties.Statement.Principal.AWS).toEqual(publishers);
  expect(resources.ServiceEventBusOthersDenied.Properties.Statement.Condition).toEqual({
    ArnNotEquals: { 'aws:PrincipalArn': publishers },
  });
  return Object.keys(manifest);
}
