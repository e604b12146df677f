import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { matchesPattern } from '@ecr-automation/local-registry/matching';
import { describe, expect, it } from 'vitest';
import { LOCAL_EVENT_BUS, localRules } from '../../../local/service.ts';
import { type FunctionSpec, roleStatements, serviceManifest } from '../../../service/manifest.ts';
import { notificationResources } from '../../../service/notifications.ts';
import { serverlessConfig } from '../../../service/serverless-config.ts';
import { loadServiceConfig } from '../../../shared/config/file.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { NotificationsConfigSchema } from '../../../shared/config/notifications-schema.ts';
import type { ServiceConfig } from '../../../shared/config/schema.ts';
import { OPTIONAL_FUNCTION_ENV, requiredVariables } from '../../../shared/runtime/env.ts';
import { expectDeploysManifest, roleId, v } from '../../helpers/deploy.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const BUNDLED = loadServiceConfig({});
const withNotifications = (notifications: ServiceConfig['notifications']) =>
  parseConfig({ ...BUNDLED, notifications }, 'test config');
const EMAIL = withNotifications({ email: ['platform@example.com', 'security@example.com'] });
const EXISTING_TOPIC = 'arn:aws:sns:eu-west-1:111122223333:platform-alerts';
const EXISTING = withNotifications({ topicArn: EXISTING_TOPIC });
const deployed = (config: Readonly<ServiceConfig>) =>
  serverlessConfig(serviceManifest(config), notificationResources(config.notifications));
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation resources are free-form JSON
const resourcesOf = (config: Readonly<ServiceConfig>) => deployed(config).resources?.Resources as Record<string, any>;
const notifyOf = (config: Readonly<ServiceConfig>): FunctionSpec => {
  const spec = (serviceManifest(config) as Record<string, FunctionSpec>).notify;
  if (spec === undefined) throw new Error('no notify function');
  return spec;
};
// biome-ignore lint/suspicious/noExplicitAny: the samples are free-form JSON
const sample = (name: string): any => JSON.parse(readFileSync(resolve(ROOT, 'events', name), 'utf8'));

describe('notifications in the manifest and serverless.ts', () => {
  it('deploys no notify function, rule or topic without the notifications section (the bundled config)', () => {
    // Act
    const resources = resourcesOf(BUNDLED);
    // Assess
    expect(Object.keys(serviceManifest(BUNDLED))).not.toContain('notify');
    expect(Object.keys(resources).filter((id) => id.startsWith('Notifications'))).toEqual([]);
  });

  it('deploys the notify function as the manifest declares it, with the variables its schema requires', () => {
    // Act
    const manifest = serviceManifest(EMAIL);
    const spec = notifyOf(EMAIL);
    // Assess
    expect(expectDeploysManifest(deployed(EMAIL), manifest)).toContain('notify');
    expect(Object.keys(spec.environment).sort()).toEqual(['NOTIFICATIONS_TOPIC_ARN', 'REPORTS_BUCKET']);
    expect(Object.keys(OPTIONAL_FUNCTION_ENV.notify.shape)).toEqual(
      expect.arrayContaining(Object.keys(spec.environment)),
    );
    expect(Object.keys(spec.environment)).toEqual(expect.arrayContaining(requiredVariables('notify')));
    expect(spec.environment.NOTIFICATIONS_TOPIC_ARN).toEqual({ 'Fn::Sub': v('NotificationsTopic') });
  });

  it('routes the run reports, the cleanup reports that need a person, applied or failed reconciles and FAIL verdicts', () => {
    // Prepare
    const patterns = notifyOf(EMAIL).triggers.map((trigger) => ('pattern' in trigger ? trigger.pattern : {}));
    const routed = (event: object) => patterns.some((pattern) => matchesPattern(pattern, event));
    const verdict = sample('image-scan-verdict.json');
    const reconcile = sample('registry-reconcile-report.json');
    const cleanup = sample('cleanup-report.json');
    // Act & Assess
    for (const name of [
      'cleanup-fan-out-report.json',
      'organisation-cleanup-report.json',
      'compliance-report.json',
      'allow-list-report.json',
      'notify-cleanup-report-braked.json',
      'cleanup-report-in-use-unknown.json',
      'cleanup-report-target-unavailable.json',
      'image-scan-verdict.json',
      'registry-reconcile-report.json',
    ]) {
      expect(routed(sample(name)), name).toBe(true);
    }
    expect(routed({ ...cleanup, detail: { ...cleanup.detail, counts: { ...cleanup.detail.counts, failed: 2 } } })).toBe(
      true,
    );
    for (const name of [
      'cleanup-report.json',
      'cleanup-work-item.json',
      'compliance-drift.json',
      'image-push-verdict.json',
    ]) {
      expect(routed(sample(name)), name).toBe(false);
    }
    expect(routed({ ...verdict, detail: { ...verdict.detail, verdict: 'PASS' } })).toBe(false);
    expect(routed({ ...verdict, detail: { ...verdict.detail, verdict: 'SKIPPED' } })).toBe(false);
    expect(routed({ ...reconcile, detail: { ...reconcile.detail, status: 'in-sync' } })).toBe(false);
    expect(routed({ ...reconcile, detail: { ...reconcile.detail, status: 'planned' } })).toBe(false);
    expect(routed({ ...verdict, source: 'someone.else' })).toBe(false);
  });

  it("listens on the service's bus only, one rule per pattern, also under npm start", () => {
    // Act
    const rules = localRules(serviceManifest(EMAIL), () => () => undefined).filter(
      (rule) => rule.targetName === 'notify',
    );
    // Assess
    expect(notifyOf(EMAIL).triggers.every((trigger) => 'bus' in trigger && trigger.bus === 'service')).toBe(true);
    expect(rules.map((rule) => [rule.name, rule.eventBusName])).toEqual([
      ['notify-1', LOCAL_EVENT_BUS],
      ['notify-2', LOCAL_EVENT_BUS],
      ['notify-3', LOCAL_EVENT_BUS],
      ['notify-4', LOCAL_EVENT_BUS],
    ]);
  });

  it('lets the notify role publish to its topic only and use its key through SNS only, and not publish on the bus', () => {
    // Act
    const statements = roleStatements(notifyOf(EMAIL));
    const resources = resourcesOf(EMAIL);
    // Assess
    expect(statements.slice(0, 2)).toEqual([
      { Effect: 'Allow', Action: ['sns:Publish'], Resource: { 'Fn::Sub': v('NotificationsTopic') } },
      {
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': ['NotificationsKey', 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': `sns.${v('AWS::Region')}.amazonaws.com` } } },
      },
    ]);
    const actions = statements.flatMap((statement) => statement.Action);
    expect(
      actions.filter((action) => !/^(sns:Publish|kms:GenerateDataKey|kms:Decrypt|sqs:SendMessage|xray:)/.test(action)),
    ).toEqual([]);
    // Only X-Ray's writes name no resource.
    expect(
      statements
        .filter((s) => s.Resource === '*')
        .flatMap((s) => s.Action)
        .every((a) => a.startsWith('xray:')),
    ).toBe(true);
    expect(JSON.stringify(resources.ServiceEventBusPublishers)).not.toContain(roleId('notify'));
  });

  it('creates a topic encrypted with its own rotated key, published to over TLS by the notify role only, and subscribes each address', () => {
    // Act
    const resources = resourcesOf(EMAIL);
    // Assess
    expect(resources.NotificationsTopic).toEqual({
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: `ecr-automation-${v('sls:stage')}-notifications`,
        DisplayName: 'ecr-automation',
        KmsMasterKeyId: { Ref: 'NotificationsKey' },
      },
    });
    expect(resources.NotificationsKey.Properties.EnableKeyRotation).toBe(true);
    const statements = resources.NotificationsTopicPolicy.Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [roleId('notify'), 'Arn'] } } },
      }),
    );
    expect([resources.NotificationsEmail1.Properties, resources.NotificationsEmail2.Properties]).toEqual([
      { TopicArn: { Ref: 'NotificationsTopic' }, Protocol: 'email', Endpoint: 'platform@example.com' },
      { TopicArn: { Ref: 'NotificationsTopic' }, Protocol: 'email', Endpoint: 'security@example.com' },
    ]);
  });

  it('publishes to an existing topic when the section names one: no topic, key or subscription is created', () => {
    // Act
    const spec = notifyOf(EXISTING);
    const resources = resourcesOf(EXISTING);
    // Assess
    expect(spec.environment.NOTIFICATIONS_TOPIC_ARN).toBe(EXISTING_TOPIC);
    expect(spec.iam).toEqual([{ Effect: 'Allow', Action: ['sns:Publish'], Resource: EXISTING_TOPIC }]);
    expect(Object.keys(resources).filter((id) => id.startsWith('Notifications'))).toEqual([]);
  });
});

describe('the notifications section of the config', () => {
  it('takes an existing topic or addresses, not both, and refuses what is not an SNS ARN or an address', () => {
    // Act
    const parse = (section: unknown) => NotificationsConfigSchema.safeParse(section);
    // Assess
    expect(parse({}).success).toBe(true);
    expect(parse({ topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts.fifo' }).success).toBe(true);
    expect(parse({ topicArn: EXISTING_TOPIC, email: ['a@example.com'] }).error?.issues[0]?.message).toBe(
      'email subscribes addresses to the topic the service creates; with topicArn, subscribe them to that topic',
    );
    expect(parse({ topicArn: 'arn:aws:sqs:us-east-1:123456789012:queue' }).success).toBe(false);
    expect(parse({ email: ['not an address'] }).success).toBe(false);
    expect(parse({ email: Array.from({ length: 11 }, (_, i) => `a${i}@example.com`) }).success).toBe(false);
    expect(parse({ emails: ['a@example.com'] }).success).toBe(false);
  });
});

/** cfn-lint (on PATH in CI, as for the member-role template): the notifications resources and the notify role. */
const cfnLint = (() => {
  const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0 ? probe.stdout.trim() : undefined;
})();

describe('cfn-lint', () => {
  if (cfnLint !== undefined) {
    it(`${cfnLint} finds no error or warning in the notifications topic, key, policy, subscriptions and role`, {
      timeout: 120_000,
    }, () => {
      // Prepare: the resources as osls writes them (the stage resolved), with the notify function's role.
      const resources = JSON.parse(
        JSON.stringify(notificationResources(EMAIL.notifications)).replaceAll(v('sls:stage'), 'dev'),
      );
      const template = {
        AWSTemplateFormatVersion: '2010-09-09',
        Resources: {
          ...resources,
          FailedInvocationsQueue: { Type: 'AWS::SQS::Queue', Properties: {} },
          [roleId('notify')]: {
            Type: 'AWS::IAM::Role',
            Properties: {
              AssumeRolePolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
                ],
              },
              Policies: [
                {
                  PolicyName: 'notify',
                  PolicyDocument: { Version: '2012-10-17', Statement: roleStatements(notifyOf(EMAIL)) },
                },
              ],
            },
          },
        },
      };
      const dir = mkdtempSync(join(tmpdir(), 'notify-lint-'));
      try {
        writeFileSync(join(dir, 'notify.json'), JSON.stringify(template, null, 2));
        // Act
        const run = spawnSync('cfn-lint', ['--format', 'json', join(dir, 'notify.json')], { encoding: 'utf8' });
        // Assess
        expect(run.error).toBeUndefined();
        const matches = JSON.parse(run.stdout || '[]') as { Level: string; Message: string }[];
        expect(matches.map((match) => `${match.Level}: ${match.Message}`)).toEqual([]);
        expect(run.status, run.stderr).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } else {
    it('cfn-lint is on PATH', () => {
      expect.fail('cfn-lint is not on PATH: install it (pip install cfn-lint) to validate the notifications resources');
    });
  }
});
