import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import { InvalidEventError } from './clear-parse-errors.ts';

/** The metrics a failed invocation records: an event the handler's schema refused, or any other failure. */
export const FAILURE_METRICS = { invalidEvent: 'InvalidEvents', failed: 'FailedInvocations' } as const;

/**
 * Counts a failed invocation as a metric (`InvalidEvents` for an event the schema refused, `FailedInvocations`
 * otherwise), so that an operator can alarm on them and so that a failed invocation publishes a metric instead of
 * Powertools' "No application metrics to publish" warning. Used after `logMetrics` and before `clearParseErrors`:
 * middy runs `onError` in reverse, so this sees the clear error and runs before the metrics are flushed.
 */
export function countFailures(metrics: Metrics): middy.MiddlewareObj {
  return {
    onError: async (request) => {
      const invalid = request.error instanceof InvalidEventError;
      metrics.addMetric(invalid ? FAILURE_METRICS.invalidEvent : FAILURE_METRICS.failed, MetricUnit.Count, 1);
    },
  };
}
