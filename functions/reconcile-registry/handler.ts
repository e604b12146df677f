import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { ReconcileRegistryDetailSchema } from '../../shared/events/registry-schemas.ts';
import { clearParseErrors } from '../../shared/middleware/clear-parse-errors.ts';
import { countFailures } from '../../shared/middleware/count-failures.ts';
import { logger, metrics, tracer } from '../../shared/obs/index.ts';
import { runReconcile } from '../../shared/reconcile/entry.ts';
import { parseFunctionEnv } from '../../shared/runtime/env.ts';
import { onFirstUse, type ServiceDeps, serviceDeps } from '../../shared/runtime/service-deps.ts';

/** The schedule's "Scheduled Event", or any EventBridge event whose detail holds a manual run's override. */
export const ReconcileEventSchema = EventBridgeSchema.extend({ detail: ReconcileRegistryDetailSchema });
export type ReconcileEvent = z.infer<typeof ReconcileEventSchema>;

/** Real dependencies, created on first use (one client per container, not at import); throws on a bad environment. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ServiceDeps {
  return serviceDeps(parseFunctionEnv('reconcileRegistry', env));
}

/** The Lambda handler around `runReconcile`; `deps` is called once per invocation. */
export function createHandler(deps: () => ServiceDeps) {
  return middy<ReconcileEvent, unknown, Error, Context>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(countFailures(metrics))
    .use(clearParseErrors())
    .use(parser({ schema: ReconcileEventSchema }))
    .handler((event) => runReconcile({ id: event.id, detail: event.detail }, deps()));
}

/** The deployed handler: its environment is parsed on the container's first invocation (see shared/runtime/env.ts). */
export const handler = createHandler(onFirstUse(() => defaultDeps()));
