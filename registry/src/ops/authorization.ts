import { Input, REGISTRY_ID } from '../wire/validate.ts';
import { toEpochSeconds } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import { passwordKeys } from './signing-keys.ts';

/**
 * GetAuthorizationToken ([M-ECR]): a registry login for `docker login`, `skopeo login` and the like. The token is
 * base64 of `AWS:<password>`, valid for 12 hours, with the registry's own address as `proxyEndpoint`. The password
 * names the account and region it was issued in and the access key that asked for it (the principal its pulls are
 * made as, for pull-time update exclusions), and is signed with a key of this process (of the data directory, when
 * the registry has one: a login survives a restart), so that a registry request presenting it can be placed in that
 * account's registry and a forged or expired one refused.
 */

/** How long a token is valid: 12 hours, as ECR's. */
export const AUTHORIZATION_TTL_MS = 12 * 60 * 60 * 1000;
/** `registryIds` (deprecated in ECR, still accepted): 1 to 10 ids ([M-ECR] GetAuthorizationTokenRegistryIdList). */
const REGISTRY_IDS = { min: 1, max: 10 };

/** What a valid password names. */
export interface PasswordClaims {
  account: string;
  region: string;
  /** The access key that called GetAuthorizationToken ('' for a password issued without one). */
  accessKeyId: string;
  /** The account of that caller: another account than `account` reaches it through repository policies only. */
  callerAccount: string;
  /** When the password expires (epoch ms). */
  expiresAt: number;
}

/**
 * The password of a token for `account` in `region`, valid until `expiresAt` (epoch ms), issued to `accessKeyId` of
 * `callerAccount` (by default the registry's own account).
 */
export function issuePassword(
  account: string,
  region: string,
  expiresAt: number,
  accessKeyId = '',
  callerAccount = account,
): string {
  const claims = { a: account, r: region, e: expiresAt, k: accessKeyId, c: callerAccount };
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `${payload}.${passwordKeys.sign(payload).toString('base64url')}`;
}

/** What a password was issued for, or undefined when it is forged, malformed or expired. */
export function verifyPassword(password: string, now: number): PasswordClaims | undefined {
  if (password.length > 512) return undefined;
  const [payload, signature, ...rest] = password.split('.');
  if (payload === undefined || signature === undefined || rest.length > 0) return undefined;
  if (!passwordKeys.verify(payload, Buffer.from(signature, 'base64url'))) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      a: string;
      r: string;
      e: number;
      k?: string;
      c?: string;
    };
    if (!(claims.e > now)) return undefined;
    return {
      account: claims.a,
      region: claims.r,
      accessKeyId: claims.k ?? '',
      callerAccount: claims.c ?? claims.a,
      expiresAt: claims.e,
    };
  } catch {
    return undefined;
  }
}

function getAuthorizationToken(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const registryIds = input.strList('registryIds', REGISTRY_IDS, REGISTRY_ID) ?? [ctx.account];
  const expiresAt = ctx.now() + AUTHORIZATION_TTL_MS;
  return {
    // One entry per registry asked for; each logs in to the same local endpoint, in that account's registry.
    authorizationData: registryIds.map((account) => ({
      authorizationToken: Buffer.from(
        `AWS:${issuePassword(account, ctx.region, expiresAt, ctx.accessKeyId, ctx.account)}`,
        'utf8',
      ).toString('base64'),
      expiresAt: toEpochSeconds(expiresAt),
      proxyEndpoint: ctx.settings.endpoint,
    })),
  };
}

export const authorizationOperations: OperationTable = {
  GetAuthorizationToken: getAuthorizationToken,
};
