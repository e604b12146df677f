import { ECRClient } from '@aws-sdk/client-ecr';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
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

  it('gives an ECR Public gateway, read-only when asked, that refuses to delete before sending anything', async () => {
    // Prepare
    const deps = serviceDeps({ EVENT_BUS_NAME: 'bus', ECR_PUBLIC_REGISTRY_URL: 'http://127.0.0.1:1' });
    // Act
    const gateway = deps.publicGateway({ readOnly: true });
    // Assess
    expect(gateway.readOnly).toBe(true);
    await expect(gateway.deleteImages('team/app', ['sha256:'.padEnd(71, '0')])).rejects.toThrow(/read-only/);
    expect(gateway.callCounts()).toEqual({});
    expect(deps.publicGateway({ readOnly: false }).readOnly).toBe(false);
  });
});

describe('serviceDeps publish', () => {
  it('logs an event whose detail does not match its schema, with the issues, and still publishes it', async () => {
    // Prepare
    const bus = mockClient(EventBridgeClient);
    bus.on(PutEventsCommand).resolves({ Entries: [{ EventId: 'e-1' }, { EventId: 'e-2' }] });
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const deps = serviceDeps({ EVENT_BUS_NAME: 'bus' });
    try {
      // Act
      const published = await deps.publish([
        { detailType: 'Compliance Drift', detail: { runId: 'r', repositoryName: 'team/app' } },
        { detailType: 'Something Else', detail: {} },
      ]);
      // Assess
      expect(published.calls).toBe(1);
      expect(bus.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries).toHaveLength(2);
      expect(error).toHaveBeenCalledTimes(2);
      expect(error).toHaveBeenCalledWith('published event does not match its schema', {
        detailType: 'Compliance Drift',
        issues: expect.arrayContaining([{ path: 'mode', message: expect.any(String) }]),
      });
      expect(error).toHaveBeenCalledWith('published event does not match its schema', {
        detailType: 'Something Else',
        issues: [{ path: '', message: 'no schema for this detail-type' }],
      });
    } finally {
      error.mockRestore();
      bus.restore();
    }
  });

  it('logs nothing for events that match their schemas', async () => {
    // Prepare
    const bus = mockClient(EventBridgeClient);
    bus.on(PutEventsCommand).resolves({ Entries: [{ EventId: 'e-1' }] });
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const item = { runId: 'r', repositoryName: 'team/app', dryRun: false, part: 1, plannedAt: '2026-11-24T03:00:00Z' };
    try {
      // Act
      await serviceDeps({ EVENT_BUS_NAME: 'bus' }).publish([{ detailType: 'Cleanup Work Item', detail: item }]);
      // Assess
      expect(error).not.toHaveBeenCalled();
    } finally {
      error.mockRestore();
      bus.restore();
    }
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
