import type { RegistryServer } from '@ecr-automation/local-registry';
import { serviceRules } from '../../local/service.ts';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import { control } from './registry.ts';

/** What the local bus says of one delivery of a fired rule. */
export interface Delivery {
  ok: boolean;
  error?: string;
}

/**
 * Runs one scheduled job now, as the schedule would: the service's rules for `config` replace whatever rules the bus
 * had, the rule fires, and the bus drains (the work items it published and their follow-ups delivered too).
 */
export async function fireScheduled(
  server: RegistryServer,
  config: Readonly<ServiceConfig>,
  rule: string,
): Promise<Delivery[]> {
  for (const existing of server.bus.listRules()) server.bus.removeRule(existing.name, existing.eventBusName);
  for (const added of serviceRules(server, { config })) server.bus.addRule(added);
  const { deliveries } = await control<{ deliveries: Delivery[] }>(server, 'bus/fire', { rule });
  await server.bus.drain();
  return deliveries;
}
