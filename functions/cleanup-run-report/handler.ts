import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { runCleanupRunReport } from '../../shared/cleanup/entry-run-report.ts';
import { clearParseErrors } from '../../shared/middleware/clear-parse-errors.ts';
import { countFailures } from '../../shared/middleware/count-failures.ts';
import { logger, metrics, tracer } from '../../shared/obs/index.ts';
import { parseFunctionEnv } from '../../shared/runtime/env.ts';
import { onFirstUse, type ServiceDeps, serviceDeps } from '../../shared/runtime/service-deps.ts';

/** The schedule's "Scheduled Event" (or any EventBridge event: the run report reads nothing from it). */
export const RunReportScheduleEventSchema = EventBridgeSchema;
export type RunReportScheduleEvent = z.infer<typeof RunReportScheduleEventSchema>;

/** Real dependencies, created on first use (one client per container, not at import); throws on a bad environment. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ServiceDeps {
  return serviceDeps(parseFunctionEnv('cleanupRunReport', env));
}

/** The Lambda handler around `runCleanupRunReport`; `deps` is called once per invocation. */
export function createHandler(deps: () => ServiceDeps) {
  return middy<RunReportScheduleEvent, unknown, Error, Context>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(countFailures(metrics))
    .use(clearParseErrors())
    .use(parser({ schema: RunReportScheduleEventSchema }))
    .handler(() => runCleanupRunReport(deps()));
}

/** The deployed handler: its environment is parsed on the container's first invocation (see shared/runtime/env.ts). */
export const handler = createHandler(onFirstUse(() => defaultDeps()));
