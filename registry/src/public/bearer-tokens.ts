import { passwordKeys } from '../ops/signing-keys.ts';

/**
 * The bearer tokens of the public registry API's token endpoint (`GET /token/`, as `https://public.ecr.aws/token/`):
 * an anonymous token that may pull, or a token acting as the account whose ECR Public password asked for it. A token
 * is signed with the key of GetAuthorizationToken's passwords (of the data directory, when there is one: a token
 * survives a restart) under a label of its own, so that a token is never a password nor a password a token, and it
 * is never stored.
 */

/** How long a bearer token is valid: 12 hours, as the ECR Public password it may be asked for with. */
export const BEARER_TTL_MS = 12 * 60 * 60 * 1000;
/** The longest token verified (a token is about 200 characters). */
const MAX_TOKEN_LENGTH = 1024;
const LABEL = 'ecr-public-bearer.';

/** What a valid bearer token names. */
export interface BearerClaims {
  /** The account the token acts as; undefined for an anonymous (pull-only) token. */
  account: string | undefined;
  /** The access key of the password the token was asked for with ('' when anonymous). */
  accessKeyId: string;
  expiresAt: number;
}

/** A token valid until `expiresAt` (epoch ms), for `account` (undefined: anonymous). */
export function issueBearerToken(account: string | undefined, accessKeyId: string, expiresAt: number): string {
  const claims = { a: account ?? '', k: accessKeyId, e: expiresAt };
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `${payload}.${passwordKeys.sign(LABEL + payload).toString('base64url')}`;
}

/** What a token was issued for, or undefined when it is forged, malformed or expired. */
export function verifyBearerToken(token: string, now: number): BearerClaims | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const [payload, signature, ...rest] = token.split('.');
  if (payload === undefined || signature === undefined || rest.length > 0) return undefined;
  if (!passwordKeys.verify(LABEL + payload, Buffer.from(signature, 'base64url'))) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      a: string;
      k: string;
      e: number;
    };
    if (!(claims.e > now) || typeof claims.a !== 'string') return undefined;
    return {
      account: claims.a === '' ? undefined : claims.a,
      accessKeyId: typeof claims.k === 'string' ? claims.k : '',
      expiresAt: claims.e,
    };
  } catch {
    return undefined;
  }
}
