import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { type InUseSource, inUseSource } from '../cleanup/in-use.ts';
import type { ReportStore } from '../cleanup/run-store.ts';
import { loadServiceConfig } from '../config/file.ts';
import type { ServiceConfig } from '../config/schema.ts';
import type { TargetsConfig } from '../config/targets-schema.ts';
import { createStsClient } from '../credentials/client.ts';
import type { Target } from '../domain/target.ts';
import { createEcrClient, createEcrGateway, type ECRClient, type EcrGateway } from '../ecr/index.ts';
import {
  createEcrPublicClient,
  createEcrPublicGateway,
  DEFAULT_PUBLIC_REGISTRY_URL,
  type ECRPUBLICClient,
  type EcrPublicGateway,
} from '../ecr-public/index.ts';
import { publishEvents, type ServiceEvent } from '../events/publisher.ts';
import { inUseGateways, inUseProvidersAcross } from '../in-use/index.ts';
import type { Notifications } from '../notify/entry.ts';
import { type Observability, observability } from '../obs/index.ts';
import {
  createOrganizationsClient,
  createOrganizationsGateway,
  type OrganizationsGateway,
} from '../organizations/index.ts';
import { createS3Client, createS3Gateway, type S3Gateway } from '../s3/index.ts';
import { type AcrossTargets, acrossTargets, organisationTargets } from './across-targets.ts';
import type { Clock } from './clock.ts';
import { CLEANUP_RESERVE_MS_BOUNDS } from './env.ts';
import { logInvalidOutputEvents } from './output-events.ts';

/**
 * Everything a function's workflow is given: its config, a gateway (read-only in dry run), the service's bus, the
 * clock, the logger, metrics and tracer, and the two settings of the cleanup functions. Every handler's
 * `createHandler` takes it; each workflow takes the `Pick` of it that it uses.
 */
export interface ServiceDeps extends Observability {
  config(): Readonly<ServiceConfig>;
  gateway(options: { readOnly: boolean }): EcrGateway;
  /** The ECR Public gateway (its API in us-east-1), read-only in dry run. */
  publicGateway(options: { readOnly: boolean }): EcrPublicGateway;
  publish(events: readonly ServiceEvent[]): Promise<{ calls: number }>;
  /** The clock (epoch ms): `Date.now` in Lambda, the local registry's under `npm start`. */
  now: Clock;
  /** The cleanup worker's milliseconds kept before the deadline for the report and the hand-over to a follow-up. */
  reserveMs: number;
  /**
   * The IAM principal of the cleanup workers. They read index manifests with BatchGetImage, which ECR records as a
   * pull; the fan-out excludes them from pull-time updates so that their reads do not make images look used.
   */
  workerPrincipalArn?: string | undefined;
  /**
   * What runs, as the in-use providers `cleanup.inUse` configures read it (read-only ECS, Lambda, S3 and SSM
   * gateways, each client made on first use), reused for `cacheSeconds` by the container. A runtime without it
   * cleans nothing in repositories a configured provider covers (fail closed).
   */
  inUse?: InUseSource;
  /**
   * With the config's `targets`: the (account, region) pairs it names, the accounts of its organisational units
   * discovered from AWS Organizations. Throws a clear error when the section names an unknown account or unit: the
   * run then does nothing. Absent: a runtime that cannot work across accounts (target work items are refused).
   */
  targets?(section: TargetsConfig): Promise<readonly Target[]>;
  /** With `targets`: one target's ECR gateway, signed with its role's credentials (read-only in dry run). */
  targetGateway?(section: TargetsConfig, target: Target, options: { readOnly: boolean }): EcrGateway;
  /**
   * The reports bucket (`REPORTS_BUCKET`) where a cleanup run's reports meet for its organisation report; absent: no
   * run report is stored or made.
   */
  reports?: ReportStore;
  /**
   * The notifications topic (the config's `notifications`, `NOTIFICATIONS_TOPIC_ARN`) where the notify function
   * publishes reports and FAIL verdicts as text for people; absent: nothing is sent. The notify function's own
   * dependencies (`shared/notify/deps.ts`) hold it; `serviceDeps` does not.
   */
  notifications?: Notifications;
}

/** The variables `serviceDeps` reads, as a function's schema in `env.ts` parsed them. */
export interface ServiceEnv {
  EVENT_BUS_NAME: string;
  CONFIG_FILE?: string | undefined;
  AWS_MAX_ATTEMPTS?: number | undefined;
  CLEANUP_RESERVE_MS?: number | undefined;
  WORKER_PRINCIPAL_ARN?: string | undefined;
  ECR_PUBLIC_REGISTRY_URL?: string | undefined;
  REPORTS_BUCKET?: string | undefined;
}

let ecrClient: ECRClient | undefined;
let ecrPublicClient: ECRPUBLICClient | undefined;
let eventsClient: EventBridgeClient | undefined;
/** The in-use providers' ECS, Lambda, S3 and SSM clients, each made on first use. */
let inUseClients: ReturnType<typeof inUseGateways> | undefined;
/** The target accounts' clients (STS, and per target ECR, ECS, Lambda), each made on first use. */
let targetClients: AcrossTargets | undefined;
let organizationsGateway: OrganizationsGateway | undefined;
let reportsGateway: S3Gateway | undefined;

/**
 * The real dependencies of a Lambda container: one ECR client, one ECR Public client (whose manifest reads go to
 * `ECR_PUBLIC_REGISTRY_URL`) and one EventBridge client, each created on first use
 * (not at import, so that nothing is signed while Lambda provisions the container; a function that never calls ECR
 * never creates its client) and captured by the tracer (X-Ray subsegments per call, in Lambda only), the config from
 * `CONFIG_FILE` or the bundled file, the bus `EVENT_BUS_NAME` names, `Date.now`, and the container's logger, metrics
 * and tracer. `env` is the function's parsed environment (`parseFunctionEnv`).
 */
export function serviceDeps(env: ServiceEnv, obs: Observability = observability): ServiceDeps {
  const eventBusName = env.EVENT_BUS_NAME;
  const across = (): AcrossTargets => {
    targetClients ??= acrossTargets({
      sts: () => obs.tracer.captureAWSv3Client(createStsClient({ maxAttempts: env.AWS_MAX_ATTEMPTS })),
      resolve: organisationTargets(() => {
        organizationsGateway ??= createOrganizationsGateway(
          obs.tracer.captureAWSv3Client(createOrganizationsClient({ maxAttempts: env.AWS_MAX_ATTEMPTS })),
        );
        return organizationsGateway;
      }, obs.logger),
      maxAttempts: env.AWS_MAX_ATTEMPTS,
      now: Date.now,
      wrap: (client) => obs.tracer.captureAWSv3Client(client),
    });
    return targetClients;
  };
  return {
    config: () => loadServiceConfig({ CONFIG_FILE: env.CONFIG_FILE }),
    gateway: ({ readOnly }) => {
      ecrClient ??= obs.tracer.captureAWSv3Client(createEcrClient({ maxAttempts: env.AWS_MAX_ATTEMPTS }));
      return createEcrGateway(ecrClient, { readOnly });
    },
    publicGateway: ({ readOnly }) => {
      ecrPublicClient ??= obs.tracer.captureAWSv3Client(createEcrPublicClient({ maxAttempts: env.AWS_MAX_ATTEMPTS }));
      return createEcrPublicGateway(ecrPublicClient, {
        readOnly,
        registryUrl: env.ECR_PUBLIC_REGISTRY_URL ?? DEFAULT_PUBLIC_REGISTRY_URL,
      });
    },
    publish: (entries) => {
      logInvalidOutputEvents(entries, obs.logger);
      eventsClient ??= obs.tracer.captureAWSv3Client(new EventBridgeClient({}));
      return publishEvents(eventsClient, eventBusName, entries);
    },
    now: () => Date.now(),
    ...obs,
    reserveMs: env.CLEANUP_RESERVE_MS ?? CLEANUP_RESERVE_MS_BOUNDS.default,
    workerPrincipalArn: env.WORKER_PRINCIPAL_ARN,
    inUse: inUseSource(async (inUse, targets) => {
      inUseClients ??= inUseGateways(
        () => ({ maxAttempts: env.AWS_MAX_ATTEMPTS }),
        (client) => obs.tracer.captureAWSv3Client(client),
      );
      return inUseProvidersAcross(
        inUse,
        inUseClients,
        targets === undefined ? [] : await across().inUsePlaces(targets),
      );
    }, Date.now),
    ...(env.REPORTS_BUCKET === undefined
      ? {}
      : {
          reports: {
            bucket: env.REPORTS_BUCKET,
            get gateway() {
              reportsGateway ??= createS3Gateway(
                obs.tracer.captureAWSv3Client(createS3Client({ maxAttempts: env.AWS_MAX_ATTEMPTS })),
              );
              return reportsGateway;
            },
          },
        }),
    targets: (section) => across().targets(section),
    targetGateway: (section, target, options) => across().targetGateway(section, target, options),
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
