import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { runCleanup } from '../../shared/cleanup/entry.ts';
import { SERVICE_EVENT_SOURCE } from '../../shared/events/publisher.ts';
import { CleanupWorkItemSchema, DETAIL_TYPES } from '../../shared/events/schemas.ts';
import { clearParseErrors } from '../../shared/middleware/clear-parse-errors.ts';
import { countFailures } from '../../shared/middleware/count-failures.ts';
import { ignoreForeignSources } from '../../shared/middleware/ignore-foreign-sources.ts';
import { logger, metrics, tracer } from '../../shared/obs/index.ts';
import { parseFunctionEnv } from '../../shared/runtime/env.ts';
import { onFirstUse, type ServiceDeps, serviceDeps } from '../../shared/runtime/service-deps.ts';

/** A "Cleanup Work Item" from the service's bus: one repository to clean. */
export const WorkItemEventSchema = EventBridgeSchema.extend({
  source: z.literal(SERVICE_EVENT_SOURCE),
  'detail-type': z.literal(DETAIL_TYPES.cleanupWorkItem),
  detail: CleanupWorkItemSchema,
});
export type WorkItemEvent = z.infer<typeof WorkItemEventSchema>;

/** Real dependencies, created on first use (one client per container, not at import); throws on a bad environment. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ServiceDeps {
  return serviceDeps(parseFunctionEnv('cleanupRepository', env));
}

/**
 * The Lambda handler around `runCleanup`; `deps` is called once per invocation. An
 * event from any source but the service's own is ignored (the rule's pattern filters on it too).
 */
export function createHandler(deps: () => ServiceDeps) {
  return middy<WorkItemEvent, unknown, Error, Context>()
    .use(ignoreForeignSources([SERVICE_EVENT_SOURCE]))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(countFailures(metrics))
    .use(clearParseErrors())
    .use(parser({ schema: WorkItemEventSchema }))
    .handler((event, context) => runCleanup(event.detail, context, deps()));
}

/** The deployed handler: its environment is parsed on the container's first invocation (see shared/runtime/env.ts). */
export const handler = createHandler(onFirstUse(() => defaultDeps()));
