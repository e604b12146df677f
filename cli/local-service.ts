import type { BusEvent, RuleSpec } from '../registry/bus/event-bus.ts';
import { demoFixture } from '../registry/demo.ts';
import { loadFixture } from '../registry/fixtures.ts';
import { type RegistryServer, startRegistryServer } from '../registry/server.ts';

/**
 * The whole service on one machine: the local registry and event bus on loopback, the demo registry, and the
 * service's handlers wired to the bus as EventBridge rules would wire them in AWS.
 */
export interface LocalServiceOptions {
  port?: number;
  /** Load the demo registry (default true). */
  demo?: boolean;
  /** Called with each event the bus accepts (for printing). */
  onEvent?: (event: BusEvent) => void;
}

/**
 * The rules `serverless.ts` deploys, as local bus rules. Each handler issue adds its function here with the same
 * event pattern or schedule as in `serverless.ts`.
 */
export function serviceRules(): RuleSpec[] {
  return [];
}

export async function startLocalService(options: LocalServiceOptions = {}): Promise<RegistryServer> {
  const server = await startRegistryServer({ port: options.port ?? 0, scanDurationMs: 1_000 });
  try {
    if (options.demo !== false) loadFixture(server.registry, demoFixture(), server.now());
    if (options.onEvent) {
      const onEvent = options.onEvent;
      server.bus.addRule({
        name: 'local-event-log',
        eventPattern: { source: [{ prefix: '' }] },
        target: (event) => {
          onEvent(event);
        },
        targetName: 'local-event-log',
      });
    }
    for (const rule of serviceRules()) server.bus.addRule(rule);
    server.bus.startSchedules();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
