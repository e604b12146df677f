import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { loadServiceConfig } from '../config/file.ts';
import type { ServiceConfig } from '../config/schema.ts';
import { createEcrClient, createEcrGateway, type ECRClient, type EcrGateway } from '../ecr/index.ts';
import { publishEvents, type ServiceEvent } from '../events/publisher.ts';

/** What every ECR-facing handler needs: its config, a gateway (read-only in dry run), and the service's bus. */
export interface ServiceDeps {
  config(): Readonly<ServiceConfig>;
  gateway(options: { readOnly: boolean }): EcrGateway;
  publish(events: readonly ServiceEvent[]): Promise<{ calls: number }>;
}

/** The variables `serviceDeps` reads, as a function's schema in `env.ts` parsed them. */
export interface ServiceEnv {
  EVENT_BUS_NAME: string;
  CONFIG_FILE?: string | undefined;
  AWS_MAX_ATTEMPTS?: number | undefined;
}

let clients: { ecr: ECRClient; events: EventBridgeClient } | undefined;

/**
 * The real dependencies of a Lambda container: one ECR client and one EventBridge client, created on first use (not
 * at import, so that nothing is signed while Lambda provisions the container), the config from `CONFIG_FILE` or the
 * bundled file, and the bus `EVENT_BUS_NAME` names. `env` is the function's parsed environment (`parseFunctionEnv`).
 */
export function serviceDeps(env: ServiceEnv): ServiceDeps {
  clients ??= { ecr: createEcrClient({ maxAttempts: env.AWS_MAX_ATTEMPTS }), events: new EventBridgeClient({}) };
  const { ecr, events } = clients;
  const eventBusName = env.EVENT_BUS_NAME;
  return {
    config: () => loadServiceConfig({ CONFIG_FILE: env.CONFIG_FILE }),
    gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
    publish: (entries) => publishEvents(events, eventBusName, entries),
  };
}

/**
 * `make` called on first use and its result kept for the container's life; a call that throws (a bad environment)
 * is not kept, so every invocation of a misconfigured container fails with the same message.
 */
export function onFirstUse<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}
