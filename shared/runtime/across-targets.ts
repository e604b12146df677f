import type { Logger } from '@aws-lambda-powertools/logger';
import type { TargetsConfig } from '../config/targets-schema.ts';
import type { STSClient } from '../credentials/index.ts';
import { targetClientPool } from '../credentials/pool.ts';
import { resolveTargets } from '../credentials/targets.ts';
import { type Target, targetKey } from '../domain/target.ts';
import { createEcrGateway, type EcrGateway } from '../ecr/index.ts';
import { type InUseGateways, type InUsePlace, inUseGateways } from '../in-use/index.ts';
import type { OrganizationsGateway } from '../organizations/index.ts';
import type { Clock } from './clock.ts';

/** How long a container reuses the resolved targets (the organisation's accounts change rarely). */
export const TARGETS_CACHE_MS = 5 * 60_000;

export interface AcrossTargetsOptions {
  /** The STS client that assumes the target roles, made on first use. */
  sts: () => STSClient;
  /** Lists the targets of a section (the accounts of its units discovered): `resolveTargets` with an organisation. */
  resolve: (section: TargetsConfig) => Promise<readonly Target[]>;
  /** A custom endpoint for every target client (the local registry). */
  endpoint?: string | undefined;
  maxAttempts?: number | undefined;
  now: Clock;
  /** The tracer's capture. */
  wrap: <C>(client: C) => C;
}

/**
 * What a runtime needs to work across the config's `targets`, for `ServiceDeps`: the targets (resolved once per
 * `TARGETS_CACHE_MS` per container, a failed resolution not kept), each target's ECR gateway and the places the
 * in-use providers read, all through one pool of clients (`targetClientPool`: one session per account and role,
 * one client per account and region). The Lambda functions and the local service build theirs here.
 */
export function acrossTargets(options: AcrossTargetsOptions) {
  const pool = targetClientPool({
    sts: options.sts,
    endpoint: options.endpoint,
    maxAttempts: options.maxAttempts,
    now: options.now,
    wrap: options.wrap,
  });
  let resolved: { key: string; at: number; targets: Promise<readonly Target[]> } | undefined;
  const places = new Map<string, InUseGateways>();

  const targets = (section: TargetsConfig): Promise<readonly Target[]> => {
    const key = JSON.stringify(section);
    const at = options.now();
    if (resolved !== undefined && resolved.key === key && at - resolved.at < TARGETS_CACHE_MS) return resolved.targets;
    const entry = { key, at, targets: options.resolve(section) };
    resolved = entry;
    entry.targets.catch(() => {
      if (resolved === entry) resolved = undefined;
    });
    return entry.targets;
  };

  return {
    targets,
    targetGateway: (section: TargetsConfig, target: Target, gatewayOptions: { readOnly: boolean }): EcrGateway =>
      createEcrGateway(pool.ecr(section, target), gatewayOptions),
    /** The places (account, region, gateways) whose workloads the in-use providers read. */
    inUsePlaces: async (section: TargetsConfig): Promise<InUsePlace[]> =>
      (await targets(section)).map((target) => {
        const key = `${JSON.stringify(section)}|${targetKey(target)}`;
        let gateways = places.get(key);
        if (gateways === undefined) {
          gateways = inUseGateways(() => pool.settings(section, target), options.wrap);
          places.set(key, gateways);
        }
        return { target, gateways };
      }),
    /** STS's calls so far. */
    stsCallCounts: () => pool.callCounts(),
  };
}
export type AcrossTargets = ReturnType<typeof acrossTargets>;

/**
 * The targets of a section as the organisation lists them now (`resolveTargets`: named accounts checked against its
 * members, the accounts of its units discovered, inactive ones left out, `exclude` applied), its warnings logged.
 * Throws `TargetsResolutionError` (an unknown unit or account): the run then works in no account.
 */
export const organisationTargets =
  (organizations: () => OrganizationsGateway, logger?: Pick<Logger, 'warn'>) =>
  async (section: TargetsConfig): Promise<readonly Target[]> => {
    const resolved = await resolveTargets(section, organizations());
    for (const warning of resolved.warnings) logger?.warn('targets', { warning });
    return resolved.targets;
  };
