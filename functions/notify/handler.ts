import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { countFailures } from '../../shared/middleware/count-failures.ts';
import { RecentEvents, runNotify } from '../../shared/notify/entry.ts';
import { logger, metrics, tracer } from '../../shared/obs/index.ts';
import { parseFunctionEnv } from '../../shared/runtime/env.ts';
import { onFirstUse, type ServiceDeps, serviceDeps } from '../../shared/runtime/service-deps.ts';

/** Real dependencies, created on first use (one SNS client per container, not at import); throws on a bad environment. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ServiceDeps {
  return serviceDeps(parseFunctionEnv('notify', env));
}

/**
 * The Lambda handler around `runNotify`; `deps` is called once per invocation. The event is not parsed by a schema
 * middleware: the renderer validates it (envelope, then the detail by its detail-type's schema), so that a malformed
 * event is logged and counted, publishes nothing and is not retried, while a failed Publish throws and is retried.
 * The container remembers the events it published, so that a re-delivered one is not sent twice.
 */
export function createHandler(deps: () => ServiceDeps) {
  const recent = new RecentEvents();
  return middy<unknown, unknown, Error, Context>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(countFailures(metrics))
    .handler((event) => runNotify(event, deps(), recent));
}

/** The deployed handler: its environment is parsed on the container's first invocation (see shared/runtime/env.ts). */
export const handler = createHandler(onFirstUse(() => defaultDeps()));
