import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOCAL_EVENT_BUS, loadHandlerModule, localRules, scheduledRuleNames } from '../../../local/service.ts';
import {
  type FunctionSpec,
  type Manifest,
  roleStatements,
  SERVICE_BUS_NAME,
  serviceManifest,
} from '../../../service/manifest.ts';
import { serverlessConfig } from '../../../service/serverless-config.ts';
import { loadServiceConfig } from '../../../shared/config/file.ts';
import { FUNCTION_ENV, type FunctionName, requiredVariables } from '../../../shared/runtime/env.ts';
import { expectDeploysManifest, roleId, XRAY_ACTIONS } from '../../helpers/deploy.ts';

const manifest = serviceManifest(loadServiceConfig({}));

describe('the service manifest', () => {
  it('has an environment schema for every function, and a function for every schema', () => {
    // Assess
    expect(Object.keys(manifest).sort()).toEqual(Object.keys(FUNCTION_ENV).sort());
  });

  it("sets every variable a function's environment schema requires, and only variables the schema knows", () => {
    for (const [name, spec] of Object.entries(manifest)) {
      // Act
      const set = Object.keys(spec.environment);
      // Assess
      expect(set, name).toEqual(expect.arrayContaining(requiredVariables(name as FunctionName)));
      expect(Object.keys(FUNCTION_ENV[name as FunctionName].shape), name).toEqual(expect.arrayContaining(set));
    }
  });

  it('names a handler module for every function that exports createHandler(deps: () => ServiceDeps) and handler', async () => {
    for (const spec of Object.values(manifest)) {
      // Act
      const module = (await loadHandlerModule(spec.handler)) as unknown as Record<string, unknown>;
      // Assess
      expect(existsSync(`${spec.handler}.ts`), spec.handler).toBe(true);
      expect(typeof module.createHandler, spec.handler).toBe('function');
      expect(typeof module.handler, spec.handler).toBe('function');
      // The same signature for every handler: one dependency type (shared/runtime/service-deps.ts).
      expect(readFileSync(`${spec.handler}.ts`, 'utf8'), spec.handler).toMatch(
        /^export function createHandler\(deps: \(\) => ServiceDeps\)/m,
      );
    }
  });

  it('traces every function with X-Ray and grants each role the X-Ray writes', () => {
    for (const [name, spec] of Object.entries(manifest)) {
      // Act
      const actions = roleStatements(spec).flatMap((statement) => statement.Action);
      // Assess
      expect(spec.tracing, name).toBe('Active');
      expect(actions, name).toEqual(expect.arrayContaining(XRAY_ACTIONS));
    }
  });
});

describe('a function added to the manifest', () => {
  // Prepare: one more entry, with its own handler folder (here an existing one stands in for it).
  const extra: FunctionSpec = {
    handler: 'functions/allow-list-report/handler',
    description: 'A weekly digest',
    triggers: [
      { schedule: 'cron(0 7 ? * MON *)' },
      { bus: 'service', pattern: { source: ['ecr-automation'], 'detail-type': ['Digest Request'] } },
    ],
    timeout: 45,
    memorySize: 384,
    reservedConcurrency: { param: 'weeklyDigestConcurrency', default: 2 },
    environment: { EVENT_BUS_NAME: SERVICE_BUS_NAME },
    iam: [{ Effect: 'Allow', Action: ['ecr:DescribeRepositories'], Resource: '*' }],
    onFailure: { retries: 1, deadLetterQueue: { 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] } },
    tracing: 'Active',
  };
  const extended: Manifest = { ...manifest, weeklyDigest: extra };

  it('is deployed by serverless.ts, with its own role', () => {
    // Act
    const config = serverlessConfig(extended);
    // Assess
    const deployed = config.functions?.weeklyDigest as { iamRoleStatements?: unknown[]; handler?: string };
    expect(deployed?.handler).toBe('functions/allow-list-report/handler.handler');
    expect(deployed?.iamRoleStatements).toEqual(roleStatements(extra));
    expect(deployed?.iamRoleStatements).toContainEqual({
      Effect: 'Allow',
      Action: ['ecr:DescribeRepositories'],
      Resource: '*',
    });
    // ... and it is among what the deploy test checks, which it passes.
    expect(expectDeploysManifest(config, extended)).toContain('weeklyDigest');
    // It publishes nothing, so the bus does not let its role in.
    expect(JSON.stringify(config.resources)).not.toContain(roleId('weeklyDigest'));
  });

  it('is wired to the local bus by npm start, one rule per trigger, with its timeout and retries', () => {
    // Act
    const rules = localRules(extended, (name) => () => name).filter((rule) => rule.targetName === 'weeklyDigest');
    // Assess
    expect(rules.map(({ target: _, ...rule }) => rule)).toEqual([
      {
        name: 'weekly-digest-1',
        scheduleExpression: 'cron(0 7 ? * MON *)',
        targetName: 'weeklyDigest',
        timeoutMs: 45_000,
        maximumRetryAttempts: 1,
      },
      {
        name: 'weekly-digest-2',
        eventBusName: LOCAL_EVENT_BUS,
        eventPattern: { source: ['ecr-automation'], 'detail-type': ['Digest Request'] },
        targetName: 'weeklyDigest',
        timeoutMs: 45_000,
        maximumRetryAttempts: 1,
      },
    ]);
  });

  it('is among the scheduled jobs npm start tells the user how to run now', () => {
    // Assess
    expect(scheduledRuleNames(manifest)).toEqual([
      'scheduled-cleanup',
      'cleanup-run-report',
      'allow-list-report',
      'scheduled-compliance',
      'reconcile-registry',
    ]);
    expect(scheduledRuleNames(extended)).toEqual([...scheduledRuleNames(manifest), 'weekly-digest-1']);
  });

  it('leaves the local rules of the other functions as they were', () => {
    // Act
    const names = (m: Manifest) => localRules(m, () => () => undefined).map((rule) => rule.name);
    // Assess
    expect(names(extended)).toEqual([...names(manifest), 'weekly-digest-1', 'weekly-digest-2']);
    expect(names(manifest)).toEqual([
      'scheduled-cleanup',
      'cleanup-repository',
      'cleanup-run-report',
      'on-image-push',
      'on-scan-result-1',
      'on-scan-result-2',
      'on-scan-result-3',
      'allow-list-report',
      'scheduled-compliance',
      'reconcile-registry',
    ]);
  });
});
