import { hasInUseProviders, type InUseConfig } from '../../shared/config/in-use-schema.ts';
import type { InUseSnapshot } from '../../shared/domain/in-use.ts';
import { gatherInUse, inUseGateways, inUseProvidersFor } from '../../shared/in-use/index.ts';

/**
 * What runs, for the CLI: the in-use providers the config names (`cleanup.inUse`), read once per command with the
 * same providers the Lambda worker uses, through read-only ECS, Lambda, S3 and SSM clients in the target's region.
 */

/** The AWS services the in-use providers read, each with the variable the AWS SDK takes its endpoint from. */
export const IN_USE_ENDPOINT_VARIABLES = {
  ecs: 'AWS_ENDPOINT_URL_ECS',
  lambda: 'AWS_ENDPOINT_URL_LAMBDA',
  s3: 'AWS_ENDPOINT_URL_S3',
  ssm: 'AWS_ENDPOINT_URL_SSM',
} as const;
export type InUseService = keyof typeof IN_USE_ENDPOINT_VARIABLES;

/** Where one service's client sends: `endpoint` is passed to the client; without it the AWS SDK resolves its own. */
export interface InUseEndpoint {
  endpoint?: string;
  /** The address read, for the one line saying where what runs was read from. */
  shown: string;
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

/** Whether an endpoint is this machine's loopback (127.0.0.1, localhost, [::1]): the local registry. */
export function isLoopbackEndpoint(url: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return false;
  }
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/**
 * The endpoint of one in-use service's client: `--in-use-endpoint-url` when given; else none when the environment
 * names one (`AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`),
 * which the AWS SDK reads itself; else the ECR endpoint when it is a loopback address (the local registry serves ECS
 * and Lambda on the same port); else none: AWS itself. Pure.
 */
export function inUseEndpoint(
  service: InUseService,
  options: { flag?: string | undefined; env: NodeJS.ProcessEnv; ecrEndpoint?: string | undefined },
): InUseEndpoint {
  if (options.flag !== undefined) return { endpoint: options.flag, shown: options.flag };
  if (options.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== 'true') {
    const fromEnvironment =
      nonEmpty(options.env[IN_USE_ENDPOINT_VARIABLES[service]]) ?? nonEmpty(options.env.AWS_ENDPOINT_URL);
    if (fromEnvironment !== undefined) return { shown: fromEnvironment };
  }
  if (options.ecrEndpoint !== undefined && isLoopbackEndpoint(options.ecrEndpoint)) {
    return { endpoint: options.ecrEndpoint, shown: options.ecrEndpoint };
  }
  return { shown: `AWS (${service})` };
}

/** The services a config's providers read: ECS, Lambda, and S3 or SSM for a Kubernetes list. */
export function inUseServices(inUse: InUseConfig): InUseService[] {
  const kubernetes = inUse.kubernetes;
  return [
    ...(inUse.ecs === undefined ? [] : ['ecs' as const]),
    ...(inUse.lambda === undefined ? [] : ['lambda' as const]),
    ...(kubernetes === undefined ? [] : ['s3' in kubernetes ? ('s3' as const) : ('ssm' as const)]),
  ];
}

export interface InUseReadOptions {
  /** `--in-use-endpoint-url`. */
  flag?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** The ECR endpoint of the command (its target's), if any. */
  ecrEndpoint?: string | undefined;
  region: string;
  /** Standard error: the one line saying where what runs was read from and what it found. */
  say: (line: string) => void;
}

/**
 * Reads what runs when the config names in-use providers (undefined when it names none: the cleanup then plans
 * without in-use protection, as configured). Never throws for a provider: a failure is in the snapshot, and keeps
 * everything in the repositories that provider covers.
 */
export async function readInUse(
  inUse: InUseConfig | undefined,
  options: InUseReadOptions,
): Promise<InUseSnapshot | undefined> {
  if (!hasInUseProviders(inUse)) return undefined;
  const at = (service: InUseService) =>
    inUseEndpoint(service, { flag: options.flag, env: options.env, ecrEndpoint: options.ecrEndpoint });
  const client = (service: InUseService) => {
    const { endpoint } = at(service);
    return { region: options.region, ...(endpoint === undefined ? {} : { endpoint }) };
  };
  const gateways = inUseGateways(client);
  let snapshot: InUseSnapshot;
  try {
    snapshot = await gatherInUse(inUseProvidersFor(inUse, gateways), { timeoutMs: inUse.timeoutSeconds * 1_000 });
  } finally {
    gateways.destroy();
  }
  options.say(
    describeInUseRead(
      snapshot,
      inUseServices(inUse).map((service) => [service, at(service).shown]),
    ),
  );
  return snapshot;
}

/**
 * `in use: 3 image references (ecs 2, lambda 1) read from http://127.0.0.1:4510`, and each failed provider with
 * why: the line a command prints to standard error once it has read what runs.
 */
export function describeInUseRead(
  snapshot: InUseSnapshot,
  endpoints: readonly (readonly [InUseService, string])[],
): string {
  const byProvider = new Map<string, number>();
  for (const image of snapshot.images) {
    byProvider.set(image.usedBy.provider, (byProvider.get(image.usedBy.provider) ?? 0) + 1);
  }
  const counts = [...byProvider].map(([provider, n]) => `${provider} ${n}`).join(', ');
  const addresses = [...new Set(endpoints.map(([, shown]) => shown))];
  const from =
    addresses.length <= 1
      ? (addresses[0] ?? 'nowhere')
      : endpoints.map(([service, shown]) => `${service} ${shown}`).join(', ');
  const n = snapshot.images.length;
  const found = `in use: ${n} image ${n === 1 ? 'reference' : 'references'}${counts === '' ? '' : ` (${counts})`} read from ${from}`;
  if (snapshot.failures.length === 0) return found;
  const failed = snapshot.failures.map((failure) => `${failure.provider}: ${failure.message}`).join('; ');
  return `${found}; FAILED ${failed}: nothing is deleted in the repositories ${snapshot.failures.length === 1 ? 'it covers' : 'they cover'}`;
}
