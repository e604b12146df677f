import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
// The local registry: its server, bus shapes, fixtures and demo.
import type { BusEvent, BusTarget, RuleSpec } from '@ecr-automation/local-registry';
import {
  demoFixture,
  loadDemoOrganization,
  loadFixtureWithContent,
  type RegistryServer,
  startRegistryServer,
} from '@ecr-automation/local-registry';
import { type FunctionSpec, type Manifest, serviceManifest } from '../service/manifest.ts';
import { inUseSource } from '../shared/cleanup/in-use.ts';
import type { ReportStore } from '../shared/cleanup/run-store.ts';
import { loadServiceConfig } from '../shared/config/file.ts';
import { parseConfig } from '../shared/config/load.ts';
import type { ServiceConfig } from '../shared/config/schema.ts';
import { createStsClient } from '../shared/credentials/index.ts';
import { createEcrClient, createEcrGateway } from '../shared/ecr/index.ts';
import { createEcrPublicClient, createEcrPublicGateway } from '../shared/ecr-public/index.ts';
import { publishEvents } from '../shared/events/publisher.ts';
import { inUseGateways, inUseProvidersAcross } from '../shared/in-use/index.ts';
import { observability, tracer } from '../shared/obs/index.ts';
import { createOrganizationsClient, createOrganizationsGateway } from '../shared/organizations/index.ts';
import { acrossTargets, organisationTargets } from '../shared/runtime/across-targets.ts';
import { logInvalidOutputEvents } from '../shared/runtime/output-events.ts';
import { onFirstUse, type ServiceDeps } from '../shared/runtime/service-deps.ts';
import { createS3Client, createS3Gateway } from '../shared/s3/index.ts';
import { createSnsClient, createSnsGateway } from '../shared/sns/index.ts';
import { createDashboard, DASHBOARD_PREFIX } from './dashboard/index.ts';

/**
 * The whole service on one machine: the local registry and event bus on loopback, the demo registry, and the
 * service's handlers wired to the bus with the same event patterns and schedules as `serverless.ts` deploys: both are
 * built from the service's manifest (`service/manifest.ts`).
 * The handlers run in this process, through the real AWS SDK clients, against the local endpoint.
 */
export interface LocalServiceOptions {
  port?: number;
  /** Load the demo registry (default true). */
  demo?: boolean;
  /** Called with each event the bus accepts (for printing). */
  onEvent?: (event: BusEvent) => void;
  /** The service config (default: CONFIG_FILE or the bundled config/ecr-automation.json). */
  config?: Readonly<ServiceConfig>;
  /** Force every cleanup and push verdict into dry run: a preview of what the policies would do. */
  dryRun?: boolean;
  /** How long a started scan takes in the local registry (ms). */
  scanDurationMs?: number;
  /** Attempts per ECR request of the handlers' client (default: as in Lambda, see createEcrClient). */
  ecrMaxAttempts?: number;
  /** Serve the local dashboard under `/_dashboard/` (default true; see local/dashboard/). */
  dashboard?: boolean;
}

/** The local stand-in for the service's bus (`ecr-automation-<stage>` in AWS). */
export const LOCAL_EVENT_BUS = 'ecr-automation-local';
/** The handlers sign their requests with this key; the local registry treats the key as the caller's identity. */
export const LOCAL_SERVICE_ACCESS_KEY = 'ecr-automation-cleanup-repository';
/** The account the local registry takes the service's key for. */
export const LOCAL_SERVICE_ACCOUNT = '123456789012';
export const LOCAL_WORKER_PRINCIPAL = `arn:aws:iam::${LOCAL_SERVICE_ACCOUNT}:role/${LOCAL_SERVICE_ACCESS_KEY}`;
/** The local stand-in for the service's reports bucket (`ReportsBucket` in AWS). */
export const LOCAL_REPORTS_BUCKET = 'ecr-automation-local-reports';
/** The local stand-in for the notifications topic (the config's `notifications`), in the local registry's SNS. */
export const LOCAL_NOTIFICATIONS_TOPIC = 'ecr-automation-local-notifications';
const REGION = 'us-east-1';

/** A handler module of the manifest (`functions/<name>/handler.ts`): every one exports the same `createHandler`. */
export interface HandlerModule {
  createHandler(deps: () => ServiceDeps): (event: never, context: never) => Promise<unknown>;
}

const ROOT = resolve(import.meta.dirname, '..');
const handlerModules = new Map<string, Promise<HandlerModule>>();

/** The handler module at a manifest path (`functions/<name>/handler`), imported once. */
export function loadHandlerModule(path: string): Promise<HandlerModule> {
  let loaded = handlerModules.get(path);
  if (!loaded) {
    loaded = import(pathToFileURL(resolve(ROOT, `${path}.ts`)).href).then((module: Partial<HandlerModule>) => {
      if (typeof module.createHandler !== 'function') throw new Error(`${path}.ts does not export createHandler`);
      return module as HandlerModule;
    });
    handlerModules.set(path, loaded);
  }
  return loaded;
}

/** `scheduledCleanup` → `scheduled-cleanup`: a function's local rule name. */
const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/**
 * The local bus rules of a manifest, as `serverless.ts` deploys them in AWS: one rule per trigger (named after the
 * function, `-1`, `-2`, ... when it has several), on the default bus or the service's bus (`LOCAL_EVENT_BUS`), with
 * the function's timeout as the context's deadline and its retries. `target` gives each function's bus target.
 */
export function localRules(
  manifest: Manifest,
  target: (functionName: string, spec: FunctionSpec) => BusTarget,
): RuleSpec[] {
  return Object.entries(manifest).flatMap(([functionName, spec]) => {
    const invoke = target(functionName, spec);
    return spec.triggers.map(
      (trigger, index): RuleSpec => ({
        name: spec.triggers.length === 1 ? kebab(functionName) : `${kebab(functionName)}-${index + 1}`,
        ...('schedule' in trigger
          ? { scheduleExpression: trigger.schedule }
          : {
              eventPattern: trigger.pattern,
              ...(trigger.bus === 'service' ? { eventBusName: LOCAL_EVENT_BUS } : {}),
            }),
        target: invoke,
        targetName: functionName,
        timeoutMs: spec.timeout * 1000,
        maximumRetryAttempts: spec.onFailure.retries,
      }),
    );
  });
}

/** The local names of a manifest's scheduled rules: what `POST /_local/bus/fire` runs now (`npm start` lists them). */
export function scheduledRuleNames(manifest: Manifest): string[] {
  return localRules(manifest, () => () => undefined)
    .filter((rule) => rule.scheduleExpression !== undefined)
    .map((rule) => rule.name);
}

/** The service's manifest, for the config the local service runs with. */
export const localManifest = (config: Readonly<ServiceConfig>) => serviceManifest(config);

/** The rules `serverless.ts` deploys, as local bus rules invoking the real handlers. */
export function serviceRules(
  server: RegistryServer,
  options: LocalServiceOptions = {},
  manifest: Manifest = localManifest(options.config ?? loadServiceConfig()),
): RuleSpec[] {
  const credentials = { accessKeyId: LOCAL_SERVICE_ACCESS_KEY, secretAccessKey: 'local' };
  // Captured as in Lambda; outside Lambda the tracer is disabled and leaves the clients as they are.
  const ecr = tracer.captureAWSv3Client(
    createEcrClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: options.ecrMaxAttempts }),
  );
  // ECR Public's API (us-east-1) and its registry API (`/token/`, `/v2/`) are the local registry's own address.
  const ecrPublic = tracer.captureAWSv3Client(
    createEcrPublicClient({ endpoint: server.url, credentials, maxAttempts: options.ecrMaxAttempts }),
  );
  const events = tracer.captureAWSv3Client(
    new EventBridgeClient({ endpoint: server.url, region: REGION, credentials }),
  );
  // The in-use providers read the local registry's ECS and Lambda (and would read S3 or SSM there, which it does not
  // serve: a configured Kubernetes list fails, and so keeps everything it covers, as a failing provider does in AWS).
  const local = { endpoint: server.url, region: REGION, credentials, maxAttempts: options.ecrMaxAttempts };
  const localInUseGateways = inUseGateways(
    () => local,
    (client) => tracer.captureAWSv3Client(client),
  );
  // The target accounts' clients: the local STS issues keys that select each account's registry.
  const across = acrossTargets({
    sts: () => tracer.captureAWSv3Client(createStsClient({ ...local })),
    // The local organisation (a fixture's `organization` section), read as the service's own account.
    resolve: organisationTargets(
      onFirstUse(() => createOrganizationsGateway(tracer.captureAWSv3Client(createOrganizationsClient({ ...local })))),
      observability.logger,
    ),
    endpoint: server.url,
    maxAttempts: options.ecrMaxAttempts,
    now: () => server.now(),
    wrap: (client) => tracer.captureAWSv3Client(client),
  });
  const inUse = inUseSource(
    async (section, targets) =>
      inUseProvidersAcross(section, localInUseGateways, targets === undefined ? [] : await across.inUsePlaces(targets)),
    () => server.now(),
  );
  const base = options.config ?? loadServiceConfig();
  const dryRunConfig = options.dryRun
    ? parseConfig(
        {
          ...base,
          cleanup: { ...base.cleanup, dryRun: true },
          push: { ...base.push, dryRun: true },
          scan: { ...base.scan, dryRun: true },
          compliance: { ...base.compliance, dryRun: true },
          registry: { ...base.registry, dryRun: true },
        },
        'config (dry run)',
      )
    : base;
  // The reports bucket (`REPORTS_BUCKET` in AWS) in the local registry's S3, made when first needed (and again after a
  // reset of the registry), owned by the service's account.
  const reportsGateway = createS3Gateway(tracer.captureAWSv3Client(createS3Client({ ...local, forcePathStyle: true })));
  const ensureBucket = () => {
    if (server.registry.storage.bucket(LOCAL_REPORTS_BUCKET) === undefined) {
      server.registry.storage.createBucket(LOCAL_REPORTS_BUCKET, LOCAL_SERVICE_ACCOUNT, REGION, server.now());
    }
  };
  const reports: ReportStore = {
    bucket: LOCAL_REPORTS_BUCKET,
    gateway: {
      callCounts: () => reportsGateway.callCounts(),
      getObject: (...args) => {
        ensureBucket();
        return reportsGateway.getObject(...args);
      },
      putJson: (...args) => {
        ensureBucket();
        return reportsGateway.putJson(...args);
      },
      list: (...args) => {
        ensureBucket();
        return reportsGateway.list(...args);
      },
    },
  };
  // With the config's `notifications`, the notify function publishes to a topic of the local registry's SNS (made when
  // first needed, and again after a reset), whose messages `GET /_local/sns/messages` lists.
  const notificationsGateway = createSnsGateway(tracer.captureAWSv3Client(createSnsClient({ ...local })));
  const notificationsTopic = () =>
    server.topics.create(LOCAL_NOTIFICATIONS_TOPIC, { account: LOCAL_SERVICE_ACCOUNT, region: REGION });
  // One set of dependencies for every handler, as in Lambda (shared/runtime/service-deps.ts), on loopback.
  const deps: ServiceDeps = {
    config: () => dryRunConfig,
    gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
    publicGateway: ({ readOnly }) => createEcrPublicGateway(ecrPublic, { readOnly, registryUrl: server.url }),
    publish: (entries) => {
      logInvalidOutputEvents(entries, observability.logger);
      return publishEvents(events, LOCAL_EVENT_BUS, entries);
    },
    // The registry's clock, so that moving it (`POST /_local/clock`) ages images and allow-list entries alike.
    now: () => server.now(),
    ...observability,
    reserveMs: 5_000,
    workerPrincipalArn: LOCAL_WORKER_PRINCIPAL,
    inUse,
    targets: across.targets,
    targetGateway: across.targetGateway,
    reports,
    ...(base.notifications === undefined
      ? {}
      : {
          notifications: {
            topicArn: notificationsTopic(),
            gateway: {
              publish: (_topicArn, message) => notificationsGateway.publish(notificationsTopic(), message),
            },
            reportsBucket: LOCAL_REPORTS_BUCKET,
          },
        }),
  };
  // middy handlers take (event, context); the bus gives a Lambda-like context with a deadline. Each handler is
  // created once, on its first event.
  return localRules(manifest, (_functionName, spec) => {
    let handler: Promise<(event: never, context: never) => Promise<unknown>> | undefined;
    return async (event, context) => {
      handler ??= loadHandlerModule(spec.handler).then((module) => module.createHandler(() => deps));
      return (await handler)(event as never, context as never);
    };
  });
}

export async function startLocalService(options: LocalServiceOptions = {}): Promise<RegistryServer> {
  const server = await startRegistryServer({
    port: options.port ?? 0,
    scanDurationMs: options.scanDurationMs ?? 1_000,
  });
  try {
    if (options.demo !== false) {
      await loadFixtureWithContent(server.registry, demoFixture(), server.now());
      // An organisation the demo account manages: three accounts in two regions (and one the example config excludes).
      loadDemoOrganization(server.registry, server.now());
    }
    if (options.onEvent) {
      const onEvent = options.onEvent;
      for (const eventBusName of ['default', LOCAL_EVENT_BUS]) {
        server.bus.addRule({
          name: 'local-event-log',
          eventBusName,
          eventPattern: { source: [{ prefix: '' }] },
          target: (event) => {
            onEvent(event);
          },
          targetName: 'local-event-log',
        });
      }
    }
    const manifest = localManifest(options.config ?? loadServiceConfig());
    // Every handler module loads before the first event: a missing one fails the start, not a delivery.
    await Promise.all(Object.values(manifest).map((spec) => loadHandlerModule(spec.handler)));
    for (const rule of serviceRules(server, options, manifest)) server.bus.addRule(rule);
    if (options.dashboard !== false) {
      const config = options.config ?? loadServiceConfig();
      const dashboard = createDashboard({
        server,
        config: () => config,
        own: { account: LOCAL_SERVICE_ACCOUNT, region: REGION },
        serviceBus: LOCAL_EVENT_BUS,
      });
      server.mount(DASHBOARD_PREFIX, dashboard.handle);
    }
    server.bus.startSchedules();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
