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

let clients: { ecr: ECRClient; events: EventBridgeClient } | undefined;

/**
 * The real dependencies of a Lambda container: one ECR client and one EventBridge client, created on first use (not
 * at import, so that nothing is signed while Lambda provisions the container), the config from `CONFIG_FILE` or the
 * bundled file, and the bus `EVENT_BUS_NAME` names.
 */
export function serviceDeps(env: NodeJS.ProcessEnv = process.env): ServiceDeps {
  clients ??= { ecr: createEcrClient(), events: new EventBridgeClient({}) };
  const { ecr, events } = clients;
  const eventBusName = env.EVENT_BUS_NAME ?? 'default';
  return {
    config: () => loadServiceConfig(env),
    gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
    publish: (entries) => publishEvents(events, eventBusName, entries),
  };
}
