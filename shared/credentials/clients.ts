import type { STSClient } from '@aws-sdk/client-sts';
import { createEcrClient, type ECRClient } from '../ecr/index.ts';
import { type TargetCredentialsOptions, type TargetCredentialsProvider, targetCredentials } from './assume-role.ts';

export interface TargetClientsOptions extends Omit<TargetCredentialsOptions, 'account' | 'region'> {
  /** A custom ECR endpoint (the local registry). */
  endpoint?: string;
  /** ECR attempts per request (default: `createEcrClient`'s). */
  maxAttempts?: number;
}

/** The clients of one target (account, region): its assumed-role credentials and an ECR client signed with them. */
export interface TargetClients {
  account: string;
  region: string;
  credentials: TargetCredentialsProvider;
  ecr: ECRClient;
}

/**
 * The ECR client of one target (account, region), through `createEcrClient` (adaptive retries, quota errors not
 * re-sent), with the credentials of the target's role (`targetCredentials`). Each call builds a client and a
 * provider of its own: build them once per target and run, and hand the client to `createEcrGateway`.
 */
export function clientsForTarget(
  sts: STSClient,
  target: { account: string; region: string },
  options: TargetClientsOptions,
): TargetClients {
  const { endpoint, maxAttempts, ...credentialsOptions } = options;
  const credentials = targetCredentials(sts, { ...credentialsOptions, account: target.account, region: target.region });
  const ecr = createEcrClient({
    region: target.region,
    credentials,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
  return { account: target.account, region: target.region, credentials, ecr };
}
