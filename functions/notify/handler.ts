import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { countFailures } from '../../shared/middleware/count-failures.ts';
import { notifyDeps } from '../../shared/notify/deps.ts';
import { RecentEvents, runNotify } from '../../shared/notify/entry.ts';
import { logger, metrics, observability, tracer } from '../../shared/obs/index.ts';
import { parseFunctionEnv } from '../../shared/runtime/env.ts';
import type { ServiceDeps } from '../../shared/runtime/service-deps.ts';

/** Real dependencies, created on first use (one SNS client per container, not at import); throws on a bad environment. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ServiceDeps {
  return notifyDeps(parseFunctionEnv('notify', env), observability);
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

let deps: ServiceDeps | undefined;
/**
 * The deployed handler: its environment is parsed on the container's first invocation (see shared/runtime/env.ts),
 * and again on the next one when it did not parse. (Not `onFirstUse`, whose module would bring `serviceDeps`'s
 * clients into the bundle.)
 */
export const handler = createHandler(() => {
  deps ??= defaultDeps();
  return deps;
});
