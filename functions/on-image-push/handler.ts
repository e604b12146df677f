import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { ECR_DETAIL_TYPES, EcrImagePushDetailSchema } from '../../shared/events/schemas.ts';
import { clearParseErrors } from '../../shared/middleware/clear-parse-errors.ts';
import { countFailures } from '../../shared/middleware/count-failures.ts';
import { ignoreForeignSources } from '../../shared/middleware/ignore-foreign-sources.ts';
import { logger, metrics, tracer } from '../../shared/obs/index.ts';
import { runPush } from '../../shared/push/entry.ts';
import { parseFunctionEnv } from '../../shared/runtime/env.ts';
import { onFirstUse, type ServiceDeps, serviceDeps } from '../../shared/runtime/service-deps.ts';

/** ECR's "ECR Image Action" for a successful push, as the rule in `serverless.ts` lets through. */
export const ImagePushEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.ecr'),
  'detail-type': z.literal(ECR_DETAIL_TYPES.imageAction),
  detail: EcrImagePushDetailSchema,
});
export type ImagePushEvent = z.infer<typeof ImagePushEventSchema>;

/** Real dependencies, created on first use (one client per container, not at import); throws on a bad environment. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ServiceDeps {
  return serviceDeps(parseFunctionEnv('onImagePush', env));
}

/** The Lambda handler around `runPush`; `deps` is called once per invocation. */
export function createHandler(deps: () => ServiceDeps) {
  return (
    middy<ImagePushEvent, unknown, Error, Context>()
      // Only ECR's own events: the rule's pattern filters on the source too.
      .use(ignoreForeignSources(['aws.ecr']))
      .use(captureLambdaHandler(tracer, { captureResponse: false }))
      .use(injectLambdaContext(logger))
      .use(logMetrics(metrics))
      .use(countFailures(metrics))
      .use(clearParseErrors())
      .use(parser({ schema: ImagePushEventSchema }))
      .handler((event) => runPush({ id: event.id, time: event.time, detail: event.detail }, deps()))
  );
}

/** The deployed handler: its environment is parsed on the container's first invocation (see shared/runtime/env.ts). */
export const handler = createHandler(onFirstUse(() => defaultDeps()));
