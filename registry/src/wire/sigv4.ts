import { sessionKeyAccount } from '../identity/state.ts';
import { DEFAULT_ACCOUNT, DEFAULT_REGION } from '../model/state.ts';

/** Account and region of a request, from its SigV4 credential scope (`Credential=<key>/<date>/<region>/<service>/aws4_request`). */
export interface RequestScope {
  account: string;
  region: string;
  accessKeyId: string;
}

// `Credential=` only at the start or after a separator: unanchored, `[^/,\s]+` could run from every `Credential=` of a
// long header to its end (quadratic in the header).
const CREDENTIAL = /(?:^|[\s,])Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

/** The signing name of a request's SigV4 credential scope (`s3`, `ecr`, `sts`, ...), or undefined without one. */
export function signingService(authorization: string | undefined): string | undefined {
  return authorization ? CREDENTIAL.exec(authorization)?.[4] : undefined;
}

/**
 * The access key selects the account when it is 12 digits, or when STS AssumeRole issued it (`ASIA`, the role's
 * account, four characters); any other key uses the default account.
 */
export function parseScope(authorization: string | undefined): RequestScope | undefined {
  const match = authorization ? CREDENTIAL.exec(authorization) : null;
  if (!match) return undefined;
  const accessKeyId = match[1] as string;
  return {
    accessKeyId,
    account: /^\d{12}$/.test(accessKeyId) ? accessKeyId : (sessionKeyAccount(accessKeyId) ?? DEFAULT_ACCOUNT),
    region: match[3] ?? DEFAULT_REGION,
  };
}
