import { loadServiceConfig } from '../../shared/config/file.ts';
import { observability } from '../../shared/obs/index.ts';
import { CLEANUP_RESERVE_MS_BOUNDS } from '../../shared/runtime/env.ts';
import type { ServiceDeps } from '../../shared/runtime/service-deps.ts';
import { expectOutputEventsParse } from './events.ts';

/**
 * A handler's dependencies for a test: what the test gives, and otherwise the bundled config, no ECR nor ECR Public
 * (a gateway refused), a bus that takes every event whose detail parses with its schema (and throws on any other),
 * `Date.now`, the container's logger, metrics and tracer (silent and disabled under vitest), and the cleanup
 * settings' defaults.
 */
export function testDeps(given: Partial<ServiceDeps> = {}): ServiceDeps {
  return {
    config: () => loadServiceConfig({}),
    gateway: () => {
      throw new Error('this test gives no ECR gateway');
    },
    publicGateway: () => {
      throw new Error('this test gives no ECR Public gateway');
    },
    publish: async (events) => {
      expectOutputEventsParse(events);
      return { calls: Math.ceil(events.length / 10) };
    },
    now: () => Date.now(),
    ...observability,
    reserveMs: CLEANUP_RESERVE_MS_BOUNDS.default,
    workerPrincipalArn: undefined,
    ...given,
  };
}
