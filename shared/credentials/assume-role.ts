import { AssumeRoleCommand, type STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { roleResourceName } from '../config/targets-schema.ts';
import { partitionOf } from '../domain/regions.ts';
import { countedSending } from '../ecr/calls.ts';
import { TargetCredentialsError, toTargetCredentialsError } from './errors.ts';

type CredentialsSetting = NonNullable<STSClientConfig['credentials']>;
/** The AWS SDK's credentials provider (`AwsCredentialIdentityProvider` of `@smithy/types`). */
export type AwsCredentialIdentityProvider = Extract<CredentialsSetting, (...args: never[]) => unknown>;
/** The AWS SDK's credentials (`AwsCredentialIdentity` of `@smithy/types`). */
export type AwsCredentialIdentity = Awaited<ReturnType<AwsCredentialIdentityProvider>>;

/** Credentials are renewed this long before they expire, so that no request is signed with nearly-expired ones. */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

export interface TargetCredentialsOptions {
  /** The target account (12 digits). */
  account: string;
  /** The target region: it gives the role ARN's partition (`aws`, `aws-cn`, `aws-us-gov`). */
  region: string;
  /** The role's name, optionally behind its path (`/platform/ecr/EcrAutomation`). */
  roleName: string;
  /** Passed to AssumeRole when the role's trust policy requires it (`sts:ExternalId`). */
  externalId?: string;
  /** The session's name, seen in the target account's CloudTrail (2–64 of `[\w+=,.@-]`). */
  sessionName: string;
  /** How long the session lasts (900–43200, within the role's maximum session duration). */
  durationSeconds: number;
  /** The clock, in epoch milliseconds. */
  now: () => number;
}

/** A target's credentials provider, with the STS calls it made (`AssumeRole`, re-sends included). */
export type TargetCredentialsProvider = AwsCredentialIdentityProvider & { callCounts(): Record<string, number> };

/** The ARN of a target's role: `arn:<partition>:iam::<account>:role/<path/name>`. */
export const targetRoleArn = (account: string, region: string, roleName: string): string =>
  `arn:${partitionOf(region)}:iam::${account}:role/${roleResourceName(roleName)}`;

/**
 * The credentials of one target account: AssumeRole on the target's role, cached until 5 minutes before they
 * expire (by the injected clock), one call in flight at a time however many requests ask at once (they share it),
 * and a failed call not cached (the next request tries again). Every error is a `TargetCredentialsError` naming the
 * account and the role: `access-denied` (the role is missing or does not trust the service's role) or, retryable,
 * `throttled` and `unavailable`. The SDK calls the provider before signing each request, so it is cheap when cached;
 * `{ forceRefresh: true }` assumes the role again.
 *
 * @example
 * ```ts
 * const credentials = targetCredentials(createStsClient(), {
 *   account: '111122223333', region: 'eu-west-1', roleName: 'EcrAutomation', sessionName: 'ecr-automation',
 *   durationSeconds: 3600, now: Date.now,
 * });
 * const ecr = createEcrClient({ region: 'eu-west-1', credentials });
 * ```
 */
export function targetCredentials(sts: STSClient, options: TargetCredentialsOptions): TargetCredentialsProvider {
  const { account, roleName } = options;
  const roleArn = targetRoleArn(account, options.region, roleName);
  const { client, call, callCounts } = countedSending<'AssumeRole', STSClient>(sts, (_operation, error) =>
    toTargetCredentialsError(error, account, roleName),
  );
  let cached: AwsCredentialIdentity | undefined;
  let inFlight: Promise<AwsCredentialIdentity> | undefined;

  const fresh = (identity: AwsCredentialIdentity | undefined): identity is AwsCredentialIdentity =>
    identity !== undefined &&
    (identity.expiration === undefined || options.now() < identity.expiration.getTime() - REFRESH_BEFORE_EXPIRY_MS);

  const assume = () =>
    call('AssumeRole', roleArn, async (): Promise<AwsCredentialIdentity> => {
      const out = await client.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: options.sessionName,
          DurationSeconds: options.durationSeconds,
          ...(options.externalId === undefined ? {} : { ExternalId: options.externalId }),
        }),
      );
      const credentials = out.Credentials;
      if (
        credentials?.AccessKeyId === undefined ||
        credentials.SecretAccessKey === undefined ||
        credentials.SessionToken === undefined ||
        credentials.Expiration === undefined
      ) {
        throw new TargetCredentialsError(
          `Cannot assume role ${roleName} in account ${account}: AssumeRole answered without credentials`,
          { account, roleName, reason: 'invalid', code: 'MissingCredentials' },
        );
      }
      return {
        accessKeyId: credentials.AccessKeyId,
        secretAccessKey: credentials.SecretAccessKey,
        sessionToken: credentials.SessionToken,
        expiration: new Date(credentials.Expiration),
        accountId: account,
      };
    });

  // `forceRefresh` (asked by an SDK that saw the credentials refused) drops the cache; a call in flight is still shared.
  const provider = async (properties?: { forceRefresh?: boolean }): Promise<AwsCredentialIdentity> => {
    if (properties?.forceRefresh === true) cached = undefined;
    if (fresh(cached)) return cached;
    inFlight ??= assume().then(
      (identity) => {
        cached = identity;
        inFlight = undefined;
        return identity;
      },
      (error: unknown) => {
        inFlight = undefined;
        throw error;
      },
    );
    return await inFlight;
  };
  return Object.assign(provider, { callCounts });
}
