import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { loadServiceConfig } from '../../shared/config/file.ts';
import { publishEvents } from '../../shared/events/publisher.ts';
import { clearParseErrors } from '../../shared/middleware/clear-parse-errors.ts';
import { logger, metrics } from '../../shared/obs/index.ts';
import { type AllowListReportDeps, publishAllowListReport } from '../../shared/scan/allow-list-report.ts';

/** The schedule's "Scheduled Event" (or any EventBridge event: the report reads nothing from it but its id). */
export const AllowListScheduleEventSchema = EventBridgeSchema;
export type AllowListScheduleEvent = z.infer<typeof AllowListScheduleEventSchema>;

let events: EventBridgeClient | undefined;

export function defaultDeps(env: NodeJS.ProcessEnv = process.env): AllowListReportDeps {
  events ??= new EventBridgeClient({});
  const client = events;
  const eventBusName = env.EVENT_BUS_NAME ?? 'default';
  return {
    config: () => loadServiceConfig(env),
    publish: (entries) => publishEvents(client, eventBusName, entries),
    now: () => Date.now(),
  };
}

/** The Lambda handler around `publishAllowListReport`; `deps` is called once per invocation. */
export function createHandler(deps: () => AllowListReportDeps = () => defaultDeps()) {
  return middy<AllowListScheduleEvent, unknown, Error, Context>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(clearParseErrors())
    .use(parser({ schema: AllowListScheduleEventSchema }))
    .handler((event) => publishAllowListReport({ id: event.id }, deps()));
}

export const handler = createHandler();
