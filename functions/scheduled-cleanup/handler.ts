import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { runCleanupFanOut } from '../../shared/cleanup/entry-fan-out.ts';
import { ScheduledCleanupDetailSchema } from '../../shared/events/schemas.ts';
import { clearParseErrors } from '../../shared/middleware/clear-parse-errors.ts';
import { logger, tracer } from '../../shared/obs/index.ts';
import { parseFunctionEnv } from '../../shared/runtime/env.ts';
import { onFirstUse, type ServiceDeps, serviceDeps } from '../../shared/runtime/service-deps.ts';

/** The schedule's "Scheduled Event", or any EventBridge event whose detail holds a manual run's overrides. */
export const ScheduleEventSchema = EventBridgeSchema.extend({ detail: ScheduledCleanupDetailSchema });
export type ScheduleEvent = z.infer<typeof ScheduleEventSchema>;

/** Real dependencies, created on first use (one client per container, not at import); throws on a bad environment. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ServiceDeps {
  return serviceDeps(parseFunctionEnv('scheduledCleanup', env));
}

/** The Lambda handler around `runCleanupFanOut`; `deps` is called once per invocation. */
export function createHandler(deps: () => ServiceDeps) {
  return middy<ScheduleEvent, unknown, Error, Context>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger))
    .use(clearParseErrors())
    .use(parser({ schema: ScheduleEventSchema }))
    .handler(async (event) => {
      const given = deps();
      const summary = await runCleanupFanOut({ id: event.id, time: event.time, detail: event.detail }, given);
      given.logger.info('cleanup fan-out', { summary });
      return summary;
    });
}

/** The deployed handler: its environment is parsed on the container's first invocation (see shared/runtime/env.ts). */
export const handler = createHandler(onFirstUse(() => defaultDeps()));
