import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createHandler,
  defaultDeps,
  handler,
  type WorkItemEvent,
} from '../../../functions/cleanup-repository/handler.ts';
import { defaultDeps as schedulerDeps } from '../../../functions/scheduled-cleanup/handler.ts';
import {
  CLEANUP_RESERVE_MS_BOUNDS,
  EnvironmentError,
  FUNCTION_ENV,
  parseFunctionEnv,
  requiredVariables,
} from '../../../shared/runtime/env.ts';
import { onFirstUse } from '../../../shared/runtime/service-deps.ts';

const BUS = 'ecr-automation-dev';
const RESERVE_MESSAGE = 'CLEANUP_RESERVE_MS: expected a whole number of milliseconds between 1000 and 600000, got';

describe('function environments', () => {
  it('parses a complete environment, with the defaults of the optional variables', () => {
    // Act
    const parsed = parseFunctionEnv('cleanupRepository', { EVENT_BUS_NAME: BUS });
    // Assess
    expect(parsed).toEqual({
      EVENT_BUS_NAME: BUS,
      CONFIG_FILE: undefined,
      AWS_MAX_ATTEMPTS: undefined,
      CLEANUP_RESERVE_MS: CLEANUP_RESERVE_MS_BOUNDS.default,
      ECR_PUBLIC_REGISTRY_URL: 'https://public.ecr.aws',
    });
    expect(parseFunctionEnv('cleanupRepository', { EVENT_BUS_NAME: BUS, CLEANUP_RESERVE_MS: '30000' })).toMatchObject({
      CLEANUP_RESERVE_MS: 30_000,
    });
  });

  it('names a missing required variable', () => {
    // Act / Assess
    expect(() => parseFunctionEnv('onImagePush', {})).toThrow(EnvironmentError);
    expect(() => parseFunctionEnv('onImagePush', {})).toThrow(/EVENT_BUS_NAME: is not set \(expected an EventBridge/);
  });

  it('names a malformed variable and quotes its value', () => {
    // Act / Assess
    expect(() => parseFunctionEnv('cleanupRepository', { EVENT_BUS_NAME: BUS, CLEANUP_RESERVE_MS: 'abc' })).toThrow(
      `${RESERVE_MESSAGE} "abc"`,
    );
    for (const value of ['60s', '1e4', '-5000', '5000.5', ' 5000', '']) {
      const env = { EVENT_BUS_NAME: BUS, CLEANUP_RESERVE_MS: value };
      if (value === '') expect(parseFunctionEnv('cleanupRepository', env).CLEANUP_RESERVE_MS).toBe(60_000);
      else
        expect(() => parseFunctionEnv('cleanupRepository', env)).toThrow(`${RESERVE_MESSAGE} ${JSON.stringify(value)}`);
    }
    expect(() => parseFunctionEnv('onScanResult', { EVENT_BUS_NAME: 'my bus' })).toThrow(
      /EVENT_BUS_NAME: expected an EventBridge event bus name or ARN .*, got "my bus"/,
    );
    expect(() =>
      parseFunctionEnv('scheduledCleanup', { EVENT_BUS_NAME: BUS, WORKER_PRINCIPAL_ARN: 'cleanup-repository' }),
    ).toThrow(/WORKER_PRINCIPAL_ARN: expected an IAM role or user ARN .*, got "cleanup-repository"/);
    expect(() => parseFunctionEnv('reconcileRegistry', { EVENT_BUS_NAME: BUS, AWS_MAX_ATTEMPTS: 'many' })).toThrow(
      'AWS_MAX_ATTEMPTS: expected a whole number of attempts between 1 and 100, got "many"',
    );
    for (const value of ['public.ecr.aws', 'ftp://public.ecr.aws', 'https://public.ecr.aws/?x=1']) {
      expect(() =>
        parseFunctionEnv('cleanupRepository', { EVENT_BUS_NAME: BUS, ECR_PUBLIC_REGISTRY_URL: value }),
      ).toThrow(
        `ECR_PUBLIC_REGISTRY_URL: expected an http(s) URL of a registry, such as https://public.ecr.aws, got ${JSON.stringify(value)}`,
      );
    }
    expect(() => parseFunctionEnv('allowListReport', { EVENT_BUS_NAME: BUS, CONFIG_FILE: ' , ' })).toThrow(
      'CONFIG_FILE: expected a config file path, or comma-separated paths, got " , "',
    );
  });

  it('takes an empty value as unset, except for the bus, which has no default', () => {
    // Act
    const parsed = parseFunctionEnv('scheduledCleanup', {
      EVENT_BUS_NAME: BUS,
      CONFIG_FILE: '',
      WORKER_PRINCIPAL_ARN: '',
      AWS_MAX_ATTEMPTS: '',
      ECR_PUBLIC_REGISTRY_URL: '',
    });
    // Assess
    expect(parsed).toEqual({
      EVENT_BUS_NAME: BUS,
      CONFIG_FILE: undefined,
      WORKER_PRINCIPAL_ARN: undefined,
      AWS_MAX_ATTEMPTS: undefined,
      ECR_PUBLIC_REGISTRY_URL: 'https://public.ecr.aws',
    });
    expect(() => parseFunctionEnv('allowListReport', { EVENT_BUS_NAME: '' })).toThrow(
      /EVENT_BUS_NAME: expected an EventBridge event bus name or ARN .*, got ""/,
    );
  });

  it('reports every bad variable at once', () => {
    // Act
    const attempt = () => parseFunctionEnv('cleanupRepository', { CLEANUP_RESERVE_MS: '1' });
    // Assess
    expect(attempt).toThrow(/EVENT_BUS_NAME: is not set .*; CLEANUP_RESERVE_MS: expected .*, got "1"/);
  });

  it('holds the reserve within its bounds, both included', () => {
    // Arrange
    const reserve = (value: string) =>
      parseFunctionEnv('cleanupRepository', { EVENT_BUS_NAME: BUS, CLEANUP_RESERVE_MS: value }).CLEANUP_RESERVE_MS;
    // Act / Assess
    expect(reserve('1000')).toBe(1_000);
    expect(reserve('600000')).toBe(600_000);
    expect(() => reserve('999')).toThrow(`${RESERVE_MESSAGE} "999"`);
    expect(() => reserve('600001')).toThrow(`${RESERVE_MESSAGE} "600001"`);
    expect(() => reserve('99999999999999999999')).toThrow(RESERVE_MESSAGE);
  });

  it('accepts bus ARNs, IAM role ARNs of any partition, and comma-separated config files', () => {
    // Act
    const parsed = parseFunctionEnv('scheduledCleanup', {
      EVENT_BUS_NAME: 'arn:aws:events:us-east-1:123456789012:event-bus/ecr-automation-prod',
      WORKER_PRINCIPAL_ARN:
        'arn:aws-us-gov:iam::123456789012:role/ecr-automation-prod-cleanupRepository-us-gov-west-1-lambdaRole',
      CONFIG_FILE: 'a.json, b.json',
    });
    // Assess
    expect(parsed.WORKER_PRINCIPAL_ARN).toMatch(/^arn:aws-us-gov:iam::/);
    expect(parsed.CONFIG_FILE).toBe('a.json, b.json');
  });

  it('gives each function only its own variables', () => {
    // Assess
    expect(Object.keys(FUNCTION_ENV.cleanupRepository.shape)).toContain('CLEANUP_RESERVE_MS');
    expect(Object.keys(FUNCTION_ENV.scheduledCleanup.shape)).not.toContain('CLEANUP_RESERVE_MS');
    expect(Object.keys(FUNCTION_ENV.scheduledCleanup.shape)).toContain('WORKER_PRINCIPAL_ARN');
    expect(Object.keys(FUNCTION_ENV.allowListReport.shape)).not.toContain('AWS_MAX_ATTEMPTS');
    expect(parseFunctionEnv('onImagePush', { EVENT_BUS_NAME: BUS, CLEANUP_RESERVE_MS: 'abc' })).not.toHaveProperty(
      'CLEANUP_RESERVE_MS',
    );
    expect(requiredVariables('cleanupRepository')).toEqual(['EVENT_BUS_NAME']);
  });
});

describe('handlers: a bad environment fails the cold start', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const context = {
    getRemainingTimeInMillis: () => 900_000,
    functionName: 'cleanupRepository',
    awsRequestId: 'req-1',
  };
  const workItem: WorkItemEvent = {
    version: '0',
    id: 'evt-1',
    'detail-type': 'Cleanup Work Item',
    source: 'ecr-automation',
    account: '123456789012',
    time: '2026-12-05T03:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { runId: 'run-1', repositoryName: 'team-a/api', dryRun: true, part: 1, plannedAt: '2026-12-05T03:00:00Z' },
  };

  it("fails the worker's first invocation with a message naming the malformed variable, on every retry", async () => {
    // Arrange: the deployed handler's wiring, with a malformed reserve in the environment.
    const env = { EVENT_BUS_NAME: BUS, CLEANUP_RESERVE_MS: 'abc' };
    const worker = createHandler(onFirstUse(() => defaultDeps(env)));
    // Act / Assess
    await expect(worker(workItem, context as never)).rejects.toThrow(`${RESERVE_MESSAGE} "abc"`);
    await expect(worker(workItem, context as never)).rejects.toThrow(`${RESERVE_MESSAGE} "abc"`);
  });

  it('fails the deployed handler, which reads process.env, on a malformed or missing variable', async () => {
    // Arrange
    vi.stubEnv('EVENT_BUS_NAME', BUS);
    vi.stubEnv('CLEANUP_RESERVE_MS', '90 seconds');
    // Act / Assess
    await expect(handler(workItem, context as never)).rejects.toThrow(`${RESERVE_MESSAGE} "90 seconds"`);
    vi.stubEnv('EVENT_BUS_NAME', undefined);
    vi.stubEnv('CLEANUP_RESERVE_MS', undefined);
    await expect(handler(workItem, context as never)).rejects.toThrow(/EVENT_BUS_NAME: is not set/);
  });

  it('refuses a worker principal that is not an IAM ARN before any call', () => {
    // Act / Assess
    expect(() => schedulerDeps({ EVENT_BUS_NAME: BUS, WORKER_PRINCIPAL_ARN: '123456789012' })).toThrow(
      'WORKER_PRINCIPAL_ARN: expected an IAM role or user ARN',
    );
  });
});
