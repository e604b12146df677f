import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** The service's Powertools singletons: one logger and one metrics emitter per container. */
export const SERVICE_NAME = 'ecr-automation';
export const METRICS_NAMESPACE = 'EcrAutomation';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
