import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { BusEvent, LambdaLikeContext, RuleSpec } from '@ecr-automation/local-registry';
import { demoFixture, loadFixture, type RegistryServer, startRegistryServer } from '@ecr-automation/local-registry';
import { createHandler as createAllowListReportHandler } from '../functions/allow-list-report/handler.ts';
import { createHandler as createWorkerHandler } from '../functions/cleanup-repository/handler.ts';
import { createHandler as createPushHandler } from '../functions/on-image-push/handler.ts';
import { createHandler as createScanHandler } from '../functions/on-scan-result/handler.ts';
import { createHandler as createReconcileHandler } from '../functions/reconcile-registry/handler.ts';
import { createHandler as createSchedulerHandler } from '../functions/scheduled-cleanup/handler.ts';
import { createHandler as createComplianceHandler } from '../functions/scheduled-compliance/handler.ts';
import { loadServiceConfig } from '../shared/config/file.ts';
import { parseConfig } from '../shared/config/load.ts';
import type { ServiceConfig } from '../shared/config/schema.ts';
import { createEcrClient, createEcrGateway } from '../shared/ecr/index.ts';
import { publishEvents } from '../shared/events/publisher.ts';

/**
 * The whole service on one machine: the local registry and event bus on loopback, the demo registry, and the
 * service's handlers wired to the bus with the same event patterns and schedules as `serverless.ts` deploys.
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
}

/** The local stand-in for the service's bus (`ecr-automation-<stage>` in AWS). */
export const LOCAL_EVENT_BUS = 'ecr-automation-local';
/** The handlers sign their requests with this key; the local registry treats the key as the caller's identity. */
export const LOCAL_SERVICE_ACCESS_KEY = 'ecr-automation-cleanup-repository';
export const LOCAL_WORKER_PRINCIPAL = `arn:aws:iam::123456789012:role/${LOCAL_SERVICE_ACCESS_KEY}`;
const REGION = 'us-east-1';

/** The rules `serverless.ts` deploys, as local bus rules invoking the real handlers. */
export function serviceRules(server: RegistryServer, options: LocalServiceOptions = {}): RuleSpec[] {
  const credentials = { accessKeyId: LOCAL_SERVICE_ACCESS_KEY, secretAccessKey: 'local' };
  const ecr = createEcrClient({
    endpoint: server.url,
    region: REGION,
    credentials,
    maxAttempts: options.ecrMaxAttempts,
  });
  const events = new EventBridgeClient({ endpoint: server.url, region: REGION, credentials });
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
  const config = () => dryRunConfig;
  const publish = (entries: Parameters<typeof publishEvents>[2]) => publishEvents(events, LOCAL_EVENT_BUS, entries);
  const scheduler = createSchedulerHandler(() => ({
    config,
    gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
    publish,
    workerPrincipalArn: LOCAL_WORKER_PRINCIPAL,
  }));
  // The registry's clock, so that moving it (`POST /_local/clock`) ages images and allow-list entries alike.
  const now = () => server.now();
  const worker = createWorkerHandler(() => ({
    config,
    gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
    publish,
    reserveMs: 5_000,
    now,
  }));
  const onPush = createPushHandler(() => ({
    config,
    gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
    publish,
  }));
  const onScan = createScanHandler(() => ({
    config,
    gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
    publish,
    now,
  }));
  const allowListReport = createAllowListReportHandler(() => ({ config, publish, now }));
  const compliance = createComplianceHandler(() => ({
    config,
    gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
    publish,
  }));
  const reconcile = createReconcileHandler(() => ({
    config,
    gateway: ({ readOnly }) => createEcrGateway(ecr, { readOnly }),
    publish,
  }));
  // middy handlers take (event, context); the bus gives a Lambda-like context with a deadline.
  const invoke =
    (handler: (event: never, context: never) => Promise<unknown>) => (event: BusEvent, context: LambdaLikeContext) =>
      handler(event as never, context as never);
  return [
    {
      name: 'scheduled-cleanup',
      scheduleExpression: 'cron(0 3 * * ? *)',
      target: invoke(scheduler),
      targetName: 'scheduledCleanup',
      timeoutMs: 300_000,
    },
    {
      name: 'cleanup-repository',
      eventBusName: LOCAL_EVENT_BUS,
      eventPattern: { source: ['ecr-automation'], 'detail-type': ['Cleanup Work Item'] },
      target: invoke(worker),
      targetName: 'cleanupRepository',
      timeoutMs: 900_000,
    },
    {
      // ECR's own events arrive on the default bus.
      name: 'on-image-push',
      eventPattern: {
        source: ['aws.ecr'],
        'detail-type': ['ECR Image Action'],
        detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
      },
      target: invoke(onPush),
      targetName: 'onImagePush',
      timeoutMs: 60_000,
    },
    ...[
      { source: ['aws.ecr'], 'detail-type': ['ECR Image Scan'], detail: { 'scan-status': ['COMPLETE', 'FAILED'] } },
      {
        source: ['aws.inspector2'],
        'detail-type': ['Inspector2 Scan'],
        detail: { 'scan-status': ['INITIAL_SCAN_COMPLETE'] },
      },
      {
        source: ['aws.inspector2'],
        'detail-type': ['Inspector2 Finding'],
        detail: { resources: { type: ['AWS_ECR_CONTAINER_IMAGE'] } },
      },
    ].map(
      (eventPattern, index): RuleSpec => ({
        // One rule per pattern, as serverless.ts deploys them.
        name: `on-scan-result-${index + 1}`,
        eventPattern,
        target: invoke(onScan),
        targetName: 'onScanResult',
        timeoutMs: 120_000,
      }),
    ),
    {
      name: 'allow-list-report',
      scheduleExpression: 'cron(0 6 * * ? *)',
      target: invoke(allowListReport),
      targetName: 'allowListReport',
      timeoutMs: 30_000,
    },
    {
      name: 'scheduled-compliance',
      scheduleExpression: 'cron(0 4 * * ? *)',
      target: invoke(compliance),
      targetName: 'scheduledCompliance',
      timeoutMs: 900_000,
    },
    {
      name: 'reconcile-registry',
      scheduleExpression: 'rate(1 hour)',
      target: invoke(reconcile),
      targetName: 'reconcileRegistry',
      timeoutMs: 300_000,
    },
  ];
}

export async function startLocalService(options: LocalServiceOptions = {}): Promise<RegistryServer> {
  const server = await startRegistryServer({
    port: options.port ?? 0,
    scanDurationMs: options.scanDurationMs ?? 1_000,
  });
  try {
    if (options.demo !== false) loadFixture(server.registry, demoFixture(), server.now());
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
    for (const rule of serviceRules(server, options)) server.bus.addRule(rule);
    server.bus.startSchedules();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
