import type { AWS } from 'osls';
import { serviceManifest } from './service/manifest.ts';
import { notificationResources } from './service/notifications.ts';
import { serverlessConfig } from './service/serverless-config.ts';
import { loadServiceConfig } from './shared/config/file.ts';

/**
 * Deployment of ecr-automation (osls, the open fork of the Serverless Framework): the service's manifest
 * (`service/manifest.ts`, one entry per function) as an osls configuration (`service/serverless-config.ts`).
 *
 * The repositories the push and scan handlers may change are derived from the bundled config
 * (`config/ecr-automation.json`, the one the functions run with: CONFIG_FILE is not set in their environment) when
 * the service is packaged, and so is the optional notifications topic (the config's `notifications` section).
 */
const serviceConfig = loadServiceConfig({});
const config: AWS = serverlessConfig(
  serviceManifest(serviceConfig),
  notificationResources(serviceConfig.notifications),
);

export default config;
