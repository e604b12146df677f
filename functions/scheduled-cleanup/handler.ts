import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { type CleanupSchedulerDeps, runCleanupFanOut } from '../../shared/cleanup/entry-fan-out.ts';
import { ScheduledCleanupDetailSchema } from '../../shared/events/schemas.ts';
import { clearParseErrors } from '../../shared/middleware/clear-parse-errors.ts';
import { logger } from '../../shared/obs/index.ts';
import { parseFunctionEnv } from '../../shared/runtime/env.ts';
import { onFirstUse, serviceDeps } from '../../shared/runtime/service-deps.ts';

/** The schedule's "Scheduled Event", or any EventBridge event whose detail holds a manual run's overrides. */
export const ScheduleEventSchema = EventBridgeSchema.extend({ detail: ScheduledCleanupDetailSchema });
export type ScheduleEvent = z.infer<typeof ScheduleEventSchema>;

/** Real dependencies, created on first use (one client per container, not at import); throws on a bad environment. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): CleanupSchedulerDeps {
  const parsed = parseFunctionEnv('scheduledCleanup', env);
  return { ...serviceDeps(parsed), workerPrincipalArn: parsed.WORKER_PRINCIPAL_ARN };
}

/** The Lambda handler around `runCleanupFanOut`; `deps` is called once per invocation (default: the real ones). */
export function createHandler(deps: () => CleanupSchedulerDeps = () => defaultDeps()) {
  return middy<ScheduleEvent, unknown, Error, Context>()
    .use(injectLambdaContext(logger))
    .use(clearParseErrors())
    .use(parser({ schema: ScheduleEventSchema }))
    .handler(async (event) => {
      const summary = await runCleanupFanOut({ id: event.id, time: event.time, detail: event.detail }, deps());
      logger.info('cleanup fan-out', { summary });
      return summary;
    });
}

/** The deployed handler: its environment is parsed on the container's first invocation (see shared/runtime/env.ts). */
export const handler = createHandler(onFirstUse(() => defaultDeps()));
