import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { loadServiceConfig } from '../../shared/config/file.ts';
import { createEcrClient, createEcrGateway, type ECRClient } from '../../shared/ecr/index.ts';
import { publishEvents } from '../../shared/events/publisher.ts';
import { ReconcileRegistryDetailSchema } from '../../shared/events/registry-schemas.ts';
import { clearParseErrors } from '../../shared/middleware/clear-parse-errors.ts';
import { logger, metrics } from '../../shared/obs/index.ts';
import { type ReconcileDeps, reconcileRegistry } from '../../shared/reconcile/handle.ts';

/** The schedule's "Scheduled Event", or any EventBridge event whose detail holds a manual run's override. */
export const ReconcileEventSchema = EventBridgeSchema.extend({ detail: ReconcileRegistryDetailSchema });
export type ReconcileEvent = z.infer<typeof ReconcileEventSchema>;

let clients: { ecr: ECRClient; events: EventBridgeClient } | undefined;

/** Real dependencies, created on first use (one client per container, not at import). */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ReconcileDeps {
  clients ??= { ecr: createEcrClient(), events: new EventBridgeClient({}) };
  const { ecr, events } = clients;
  const eventBusName = env.EVENT_BUS_NAME ?? 'default';
  return {
    config: () => loadServiceConfig(env),
    gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
    publish: (entries) => publishEvents(events, eventBusName, entries),
  };
}

/** The Lambda handler around `reconcileRegistry`; `deps` is called once per invocation (default: the real ones). */
export function createHandler(deps: () => ReconcileDeps = () => defaultDeps()) {
  return middy<ReconcileEvent, unknown, Error, Context>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(clearParseErrors())
    .use(parser({ schema: ReconcileEventSchema }))
    .handler((event) => reconcileRegistry({ id: event.id, detail: event.detail }, deps()));
}

export const handler = createHandler();
