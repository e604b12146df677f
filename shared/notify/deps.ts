import type { ServiceDeps } from '../runtime/service-deps.ts';
import { createSnsClient, createSnsGateway, type SnsGateway } from '../sns/index.ts';

/** The variables the notify function reads, as its schema in `shared/runtime/env.ts` parsed them. */
export interface NotifyEnv {
  NOTIFICATIONS_TOPIC_ARN: string;
  REPORTS_BUCKET?: string | undefined;
  AWS_MAX_ATTEMPTS?: number | undefined;
}

let snsGateway: SnsGateway | undefined;

const unused = (what: string) => () => {
  throw new Error(`invariant: the notify function has no ${what}`);
};

/**
 * The notify function's real dependencies: its topic and one SNS client (created on first use, captured by the
 * tracer), the reports bucket it links to, the clock and the container's logger, metrics and tracer. It reads no
 * config, no registry and publishes nothing on the bus, so it builds none of their clients: its bundle holds the SNS
 * client alone, not `serviceDeps`'s ECR, ECR Public, EventBridge, S3, STS, Organizations, ECS and Lambda clients.
 */
export function notifyDeps(env: NotifyEnv, obs: Pick<ServiceDeps, 'logger' | 'metrics' | 'tracer'>): ServiceDeps {
  return {
    config: unused('config'),
    gateway: unused('ECR gateway'),
    publicGateway: unused('ECR Public gateway'),
    publish: unused('event bus'),
    now: () => Date.now(),
    ...obs,
    reserveMs: 0,
    notifications: {
      topicArn: env.NOTIFICATIONS_TOPIC_ARN,
      reportsBucket: env.REPORTS_BUCKET,
      get gateway() {
        snsGateway ??= createSnsGateway(
          obs.tracer.captureAWSv3Client(createSnsClient({ maxAttempts: env.AWS_MAX_ATTEMPTS })),
        );
        return snsGateway;
      },
    },
  };
}
