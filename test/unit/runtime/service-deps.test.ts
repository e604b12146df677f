import { ECRClient } from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import { logger, metrics, tracer } from '../../../shared/obs/index.ts';
import { CLEANUP_RESERVE_MS_BOUNDS } from '../../../shared/runtime/env.ts';
import { serviceDeps } from '../../../shared/runtime/service-deps.ts';

describe('serviceDeps', () => {
  it("gives every function the container's logger, metrics and tracer, the clock and the cleanup settings", () => {
    // Act
    const deps = serviceDeps({ EVENT_BUS_NAME: 'bus', WORKER_PRINCIPAL_ARN: 'arn:aws:iam::123456789012:role/w' });
    // Assess
    expect(deps.logger).toBe(logger);
    expect(deps.metrics).toBe(metrics);
    expect(deps.tracer).toBe(tracer);
    expect(Math.abs(deps.now() - Date.now())).toBeLessThan(1_000);
    expect(deps.reserveMs).toBe(CLEANUP_RESERVE_MS_BOUNDS.default);
    expect(deps.workerPrincipalArn).toBe('arn:aws:iam::123456789012:role/w');
    expect(serviceDeps({ EVENT_BUS_NAME: 'bus', CLEANUP_RESERVE_MS: 5_000 }).reserveMs).toBe(5_000);
  });
});

describe('the tracer outside Lambda', () => {
  it('is disabled, and leaves the AWS clients it captures as they are', () => {
    // Prepare
    const client = new ECRClient({ region: 'us-east-1' });
    const middlewares = client.middlewareStack.identify().length;
    // Act
    const captured = tracer.captureAWSv3Client(client);
    // Assess
    expect(tracer.isTracingEnabled()).toBe(false);
    expect(captured).toBe(client);
    expect(client.middlewareStack.identify()).toHaveLength(middlewares);
  });
});
