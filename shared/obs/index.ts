import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The service's Powertools singletons: one logger, one metrics emitter and one tracer per container. Handlers give
 * them to their middlewares and, through their dependencies (`shared/runtime/service-deps.ts`), to the workflows,
 * which never import them. The tracer records X-Ray segments only in Lambda with active tracing: elsewhere (`npm
 * start`, the tests, the CLIs) Powertools disables it, and it records and prints nothing.
 */
export const SERVICE_NAME = 'ecr-automation';
export const METRICS_NAMESPACE = 'EcrAutomation';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
export const tracer = new Tracer({ serviceName: SERVICE_NAME });

/** What a workflow logs, measures and traces with. */
export interface Observability {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

/** The container's logger, metrics and tracer. */
export const observability: Observability = { logger, metrics, tracer };
