import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { clearParseErrors } from '../../shared/middleware/clear-parse-errors.ts';
import { countFailures } from '../../shared/middleware/count-failures.ts';
import { logger, metrics, tracer } from '../../shared/obs/index.ts';
import { parseFunctionEnv } from '../../shared/runtime/env.ts';
import { onFirstUse, type ServiceDeps, serviceDeps } from '../../shared/runtime/service-deps.ts';
import { runAllowListReport } from '../../shared/scan/entry-allow-list.ts';

/** The schedule's "Scheduled Event" (or any EventBridge event: the report reads nothing from it but its id). */
export const AllowListScheduleEventSchema = EventBridgeSchema;
export type AllowListScheduleEvent = z.infer<typeof AllowListScheduleEventSchema>;

/** Real dependencies, created on first use (one client per container, not at import); throws on a bad environment. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ServiceDeps {
  return serviceDeps(parseFunctionEnv('allowListReport', env));
}

/** The Lambda handler around `runAllowListReport`; `deps` is called once per invocation. */
export function createHandler(deps: () => ServiceDeps) {
  return middy<AllowListScheduleEvent, unknown, Error, Context>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(countFailures(metrics))
    .use(clearParseErrors())
    .use(parser({ schema: AllowListScheduleEventSchema }))
    .handler((event) => runAllowListReport({ id: event.id }, deps()));
}

/** The deployed handler: its environment is parsed on the container's first invocation (see shared/runtime/env.ts). */
export const handler = createHandler(onFirstUse(() => defaultDeps()));
