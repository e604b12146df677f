import type { STSClient } from '@aws-sdk/client-sts';
import type { TargetsConfig } from '../config/targets-schema.ts';
import { partitionOf } from '../domain/regions.ts';
import { type Target, targetKey } from '../domain/target.ts';
import { sumCallCounts } from '../ecr/calls.ts';
import { createEcrClient, type ECRClient } from '../ecr/index.ts';
import { type TargetCredentialsProvider, targetCredentials } from './assume-role.ts';

/** The session name the service's sessions carry in the target accounts' CloudTrail. */
export const TARGET_SESSION_NAME = 'ecr-automation';

export interface TargetClientPoolOptions {
  /** The STS client that assumes the target roles, made on first use. */
  sts: () => STSClient;
  /** A custom endpoint for the targets' ECR (and in-use) clients: the local registry. */
  endpoint?: string | undefined;
  /** ECR attempts per request (default: `createEcrClient`'s). */
  maxAttempts?: number | undefined;
  /** The clock of the credentials' expiry, epoch ms. */
  now: () => number;
  /** The tracer's capture, applied to each client made. */
  wrap?: <C>(client: C) => C;
}

/** The SDK client shape the concurrency bound hooks into (any v3 client). */
interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/**
 * At most `limit` requests of `client` at once: a request waits for a slot before it is built and holds it through
 * the SDK's retries, so that one account and region never sees more than `limit` requests in flight from this
 * container, whatever the number of callers.
 */
export function boundConcurrency<C>(client: C, limit: number): C {
  let active = 0;
  const waiting: (() => void)[] = [];
  const acquire = async (): Promise<void> => {
    if (active < limit) {
      active += 1;
      return;
    }
    // The slot is handed over by `release`, which leaves `active` as it is.
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = () => {
    const next = waiting.shift();
    if (next === undefined) active -= 1;
    else next();
  };
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (next) => async (args) => {
      await acquire();
      try {
        return await next(args);
      } finally {
        release();
      }
    },
    { step: 'initialize', name: 'targetConcurrencyBound' },
  );
  return client;
}

/** What a target's clients are made with: the credentials' provider, the region, the endpoint. */
export interface TargetClientSettings {
  readonly region: string;
  readonly credentials: TargetCredentialsProvider;
  readonly endpoint?: string;
  readonly maxAttempts?: number;
}

/**
 * The clients of the `targets` accounts, made on first use and kept for the container's life: one credentials
 * provider per account and role (a role is global: one session serves every region of its partition), one ECR
 * client per account and region, bounded to `maxConcurrencyPerTarget` requests at once when the section sets it.
 * A change of role, external id or session length makes new ones.
 */
export function targetClientPool(options: TargetClientPoolOptions) {
  const providers = new Map<string, TargetCredentialsProvider>();
  const ecrClients = new Map<string, ECRClient>();
  const sectionKey = (section: TargetsConfig) =>
    `${section.roleName}|${section.externalId ?? ''}|${section.sessionDurationSeconds}|${section.maxConcurrencyPerTarget ?? ''}`;

  const credentials = (section: TargetsConfig, target: Target): TargetCredentialsProvider => {
    const key = `${sectionKey(section)}|${partitionOf(target.region)}|${target.account}`;
    let provider = providers.get(key);
    if (provider === undefined) {
      provider = targetCredentials(options.sts(), {
        account: target.account,
        region: target.region,
        roleName: section.roleName,
        ...(section.externalId === undefined ? {} : { externalId: section.externalId }),
        sessionName: TARGET_SESSION_NAME,
        durationSeconds: section.sessionDurationSeconds,
        now: options.now,
      });
      providers.set(key, provider);
    }
    return provider;
  };

  return {
    /** The settings of a target's clients (ECS and Lambda for the in-use providers). */
    settings(section: TargetsConfig, target: Target): TargetClientSettings {
      return {
        region: target.region,
        credentials: credentials(section, target),
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      };
    },
    /** A target's ECR client, signed with its role's credentials. */
    ecr(section: TargetsConfig, target: Target): ECRClient {
      const key = `${sectionKey(section)}|${targetKey(target)}`;
      let client = ecrClients.get(key);
      if (client === undefined) {
        const made = createEcrClient({
          region: target.region,
          credentials: credentials(section, target),
          ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
          ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
        });
        const bounded =
          section.maxConcurrencyPerTarget === undefined
            ? made
            : boundConcurrency(made, section.maxConcurrencyPerTarget);
        client = options.wrap === undefined ? bounded : options.wrap(bounded);
        ecrClients.set(key, client);
      }
      return client;
    },
    /** The STS calls made so far, over every target. */
    callCounts: (): Record<string, number> =>
      sumCallCounts([...providers.values()].map((provider) => provider.callCounts())),
  };
}
export type TargetClientPool = ReturnType<typeof targetClientPool>;
