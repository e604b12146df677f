import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import {
  ECR_DETAIL_TYPES,
  EcrImageScanDetailSchema,
  INSPECTOR_DETAIL_TYPES,
  InspectorFindingDetailSchema,
  InspectorScanDetailSchema,
} from '../../shared/events/schemas.ts';
import { clearParseErrors } from '../../shared/middleware/clear-parse-errors.ts';
import { countFailures } from '../../shared/middleware/count-failures.ts';
import { ignoreForeignSources } from '../../shared/middleware/ignore-foreign-sources.ts';
import { logger, metrics, tracer } from '../../shared/obs/index.ts';
import { parseFunctionEnv } from '../../shared/runtime/env.ts';
import { onFirstUse, type ServiceDeps, serviceDeps } from '../../shared/runtime/service-deps.ts';
import { runScan, type ScanResultEvent } from '../../shared/scan/entry.ts';

/**
 * The events the rules in `serverless.ts` let through: ECR's "ECR Image Scan" (basic, COMPLETE or FAILED),
 * Inspector's "Inspector2 Scan" (the initial enhanced scan) and "Inspector2 Finding" about an ECR image.
 */
export const ScanResultEventSchema = z.discriminatedUnion('detail-type', [
  EventBridgeSchema.extend({
    source: z.literal('aws.ecr'),
    'detail-type': z.literal(ECR_DETAIL_TYPES.imageScan),
    detail: EcrImageScanDetailSchema,
  }),
  EventBridgeSchema.extend({
    source: z.literal('aws.inspector2'),
    'detail-type': z.literal(INSPECTOR_DETAIL_TYPES.scan),
    detail: InspectorScanDetailSchema,
  }),
  EventBridgeSchema.extend({
    source: z.literal('aws.inspector2'),
    'detail-type': z.literal(INSPECTOR_DETAIL_TYPES.finding),
    detail: InspectorFindingDetailSchema.refine(
      (detail) => detail.resources.some((r) => r.type === 'AWS_ECR_CONTAINER_IMAGE' && r.details?.awsEcrContainerImage),
      { message: 'a finding about an ECR image (resources[].details.awsEcrContainerImage)', path: ['resources'] },
    ),
  }),
]);
export type ScanResultEventInput = z.infer<typeof ScanResultEventSchema>;

/** Real dependencies, created on first use (one client per container, not at import); throws on a bad environment. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ServiceDeps {
  return serviceDeps(parseFunctionEnv('onScanResult', env));
}

const toScanResult = (event: ScanResultEventInput): ScanResultEvent =>
  ({
    id: event.id,
    time: event.time,
    source: event.source,
    detailType: event['detail-type'],
    detail: event.detail,
  }) as ScanResultEvent;

/** The Lambda handler around `runScan`; `deps` is called once per invocation. */
export function createHandler(deps: () => ServiceDeps) {
  return (
    middy<ScanResultEventInput, unknown, Error, Context>()
      // Only ECR's and Inspector's own events: the rules' patterns filter on the source too.
      .use(ignoreForeignSources(['aws.ecr', 'aws.inspector2']))
      .use(captureLambdaHandler(tracer, { captureResponse: false }))
      .use(injectLambdaContext(logger))
      .use(logMetrics(metrics))
      .use(countFailures(metrics))
      .use(clearParseErrors())
      .use(parser({ schema: ScanResultEventSchema }))
      .handler((event) => runScan(toScanResult(event), deps()))
  );
}

/** The deployed handler: its environment is parsed on the container's first invocation (see shared/runtime/env.ts). */
export const handler = createHandler(onFirstUse(() => defaultDeps()));
