import { createEcsClient, createEcsGateway, type EcsClientOptions } from '../ecs/index.ts';
import { createLambdaClient, createLambdaGateway } from '../lambda/index.ts';
import { createS3Client, createS3Gateway } from '../s3/index.ts';
import { createSsmClient, createSsmGateway } from '../ssm/index.ts';
import type { InUseGateways } from './from-config.ts';

/** The AWS services the in-use providers read. */
export type InUseClientService = keyof InUseGateways;

/** What each provider client is made with (the same options every one of the four clients takes). */
export interface InUseClientOptions {
  endpoint?: string;
  region?: string;
  credentials?: EcsClientOptions['credentials'];
  maxAttempts?: number;
}

/**
 * The read-only gateways the in-use providers read through, each client made on first use with `optionsFor` its
 * service, passed through `wrap` (the tracer's capture), and kept for later reads; `destroy` closes the clients made.
 * The Lambda functions, the local service and the CLI build them all here.
 */
export function inUseGateways(
  optionsFor: (service: InUseClientService) => InUseClientOptions,
  wrap: <C>(client: C) => C = (client) => client,
): InUseGateways & { destroy(): void } {
  const made: { destroy(): void }[] = [];
  const once = <C extends { destroy(): void }, G>(create: () => C, gatewayOf: (client: C) => G) => {
    let gateway: G | undefined;
    return (): G => {
      if (gateway === undefined) {
        const client = wrap(create());
        made.push(client);
        gateway = gatewayOf(client);
      }
      return gateway;
    };
  };
  return {
    ecs: once(() => createEcsClient(optionsFor('ecs')), createEcsGateway),
    lambda: once(() => createLambdaClient(optionsFor('lambda')), createLambdaGateway),
    s3: once(() => createS3Client(optionsFor('s3')), createS3Gateway),
    ssm: once(() => createSsmClient(optionsFor('ssm')), createSsmGateway),
    destroy: () => {
      for (const client of made.splice(0)) client.destroy();
    },
  };
}
