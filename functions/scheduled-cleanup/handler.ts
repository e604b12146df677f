import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { type CleanupSchedulerDeps, fanOutCleanup } from '../../shared/cleanup/scheduler.ts';
import { loadServiceConfig } from '../../shared/config/file.ts';
import { createEcrClient, createEcrGateway, type ECRClient } from '../../shared/ecr/index.ts';
import { publishEvents } from '../../shared/events/publisher.ts';
import { ScheduledCleanupDetailSchema } from '../../shared/events/schemas.ts';
import { clearParseErrors } from '../../shared/middleware/clear-parse-errors.ts';
import { logger } from '../../shared/obs/index.ts';

/** The schedule's "Scheduled Event", or any EventBridge event whose detail holds a manual run's overrides. */
export const ScheduleEventSchema = EventBridgeSchema.extend({ detail: ScheduledCleanupDetailSchema });
export type ScheduleEvent = z.infer<typeof ScheduleEventSchema>;

let clients: { ecr: ECRClient; events: EventBridgeClient } | undefined;

export function defaultDeps(env: NodeJS.ProcessEnv = process.env): CleanupSchedulerDeps {
  clients ??= { ecr: createEcrClient(), events: new EventBridgeClient({}) };
  const { ecr, events } = clients;
  const eventBusName = env.EVENT_BUS_NAME ?? 'default';
  return {
    config: () => loadServiceConfig(env),
    gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
    publish: (entries) => publishEvents(events, eventBusName, entries),
    workerPrincipalArn: env.WORKER_PRINCIPAL_ARN,
  };
}

/** The Lambda handler around `fanOutCleanup`; `deps` is called once per invocation (default: the real ones). */
export function createHandler(deps: () => CleanupSchedulerDeps = () => defaultDeps()) {
  return middy<ScheduleEvent, unknown, Error, Context>()
    .use(injectLambdaContext(logger))
    .use(clearParseErrors())
    .use(parser({ schema: ScheduleEventSchema }))
    .handler(async (event) => {
      const summary = await fanOutCleanup({ id: event.id, time: event.time, detail: event.detail }, deps());
      logger.info('cleanup fan-out', { summary });
      return summary;
    });
}

export const handler = createHandler();
