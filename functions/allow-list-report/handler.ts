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
import { parseFunctionEnv } from '../../shared/runtime/env.ts';
import { onFirstUse } from '../../shared/runtime/service-deps.ts';
import { type AllowListReportDeps, runAllowListReport } from '../../shared/scan/entry-allow-list.ts';

/** The schedule's "Scheduled Event" (or any EventBridge event: the report reads nothing from it but its id). */
export const AllowListScheduleEventSchema = EventBridgeSchema;
export type AllowListScheduleEvent = z.infer<typeof AllowListScheduleEventSchema>;

let events: EventBridgeClient | undefined;

/** Real dependencies: the bus client is created on first use; throws on a bad environment. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): AllowListReportDeps {
  const parsed = parseFunctionEnv('allowListReport', env);
  events ??= new EventBridgeClient({});
  const client = events;
  const eventBusName = parsed.EVENT_BUS_NAME;
  return {
    config: () => loadServiceConfig({ CONFIG_FILE: parsed.CONFIG_FILE }),
    publish: (entries) => publishEvents(client, eventBusName, entries),
    now: () => Date.now(),
  };
}

/** The Lambda handler around `runAllowListReport`; `deps` is called once per invocation. */
export function createHandler(deps: () => AllowListReportDeps = () => defaultDeps()) {
  return middy<AllowListScheduleEvent, unknown, Error, Context>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(clearParseErrors())
    .use(parser({ schema: AllowListScheduleEventSchema }))
    .handler((event) => runAllowListReport({ id: event.id }, deps()));
}

/** The deployed handler: its environment is parsed on the container's first invocation (see shared/runtime/env.ts). */
export const handler = createHandler(onFirstUse(() => defaultDeps()));
