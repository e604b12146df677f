import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../../functions/reconcile-registry/handler.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import type { EcrGateway } from '../../../shared/ecr/index.ts';
import { testDeps } from '../../helpers/service-deps.ts';

describe("a workflow's logger, metrics and tracer", () => {
  it('are the ones its dependencies give, not module singletons', async () => {
    // Prepare: a config with no registry section to reconcile, so no ECR call is made.
    const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
    const tracer = new Tracer({ serviceName: 'test', enabled: false });
    const info = vi.spyOn(logger, 'info');
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const putAnnotation = vi.spyOn(tracer, 'putAnnotation');
    const handler = createHandler(() =>
      testDeps({
        config: () => parseConfig({ registry: { dryRun: true } }),
        gateway: () => ({ callCounts: () => ({}) }) as unknown as EcrGateway,
        logger,
        metrics,
        tracer,
      }),
    );
    const event = {
      version: '0',
      id: 'run-1',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2026-12-05T03:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: {},
    };
    // Act
    await handler(event as never, { getRemainingTimeInMillis: () => 60_000 } as unknown as Context);
    // Assess
    expect(info).toHaveBeenCalledWith('registry reconcile report', expect.anything());
    expect(addMetric.mock.calls.map(([name]) => name)).toContain('RegistryChangesPlanned');
    expect(putAnnotation).toHaveBeenCalledWith('dryRun', true);
  });
});
