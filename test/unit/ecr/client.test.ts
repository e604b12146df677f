import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEcrClient, ECR_CLIENT_MAX_ATTEMPTS } from '../../../shared/ecr/index.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('Function: createEcrClient', () => {
  it('uses adaptive retries with ECR_CLIENT_MAX_ATTEMPTS attempts by default', async () => {
    // Prepare
    vi.stubEnv('AWS_MAX_ATTEMPTS', '');
    // Act
    const client = createEcrClient({ region: 'us-east-1' });
    // Assess
    expect(await client.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
    expect(await client.config.maxAttempts()).toBe(ECR_CLIENT_MAX_ATTEMPTS);
    expect(ECR_CLIENT_MAX_ATTEMPTS).toBe(8);
  });

  it('leaves out the SDK’s logger middleware, which walks every response for a log no one reads', () => {
    // Act
    const client = createEcrClient({ region: 'us-east-1' });
    // Assess: the retry and signing middleware stay; the logger goes
    const names = client.middlewareStack.identify().join(' ');
    expect(names).not.toContain('loggerMiddleware');
    expect(names).toContain('retryMiddleware');
    expect(names).toContain('httpSigningMiddleware');
  });

  it('lets AWS_MAX_ATTEMPTS override the default, and an explicit option override both', async () => {
    // Prepare
    vi.stubEnv('AWS_MAX_ATTEMPTS', '2');
    // Act
    const fromEnvironment = createEcrClient({ region: 'us-east-1' });
    const explicit = createEcrClient({ region: 'us-east-1', maxAttempts: 5 });
    // Assess
    expect(await fromEnvironment.config.maxAttempts()).toBe(2);
    expect(await explicit.config.maxAttempts()).toBe(5);
  });

  it('takes a custom endpoint', async () => {
    // Act
    const client = createEcrClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4566' });
    // Assess
    const endpoint = await client.config.endpoint?.();
    expect(endpoint?.hostname).toBe('127.0.0.1');
    expect(endpoint?.port).toBe(4566);
  });
});
