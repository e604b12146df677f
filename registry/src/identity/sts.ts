import { randomBytes } from 'node:crypto';
import { partitionOf } from '../workloads/state.ts';
import type { Identity, StsSession } from './state.ts';

/** AWS STS over the Query protocol: `POST /` with a form body (`Action=...&Version=2011-06-15&...`), answered in XML. */
export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** An STS error: `type` Sender (4xx) or Receiver (5xx), `code` as STS spells it (`AccessDenied`, `ValidationError`). */
export class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Who calls: the signing access key, the account it selects and, for a key AssumeRole issued, its session. */
export interface StsCaller {
  accessKeyId: string;
  account: string;
  region: string;
  session?: StsSession;
}

const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const MIN_DURATION = 900;
const MAX_DURATION = 43_200;
const DEFAULT_DURATION = 3_600;

const escapeXml = (value: string) =>
  value.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

const token = (bytes: number) => randomBytes(bytes).toString('base64');

/** The caller's ARN: an assumed role's session, or the account's root for any other key. */
export function callerArn(caller: StsCaller): string {
  const partition = partitionOf(caller.region);
  if (caller.session) {
    return `arn:${partition}:sts::${caller.session.account}:assumed-role/${caller.session.roleName}/${caller.session.sessionName}`;
  }
  return `arn:${partition}:iam::${caller.account}:root`;
}

/** Whether a role's trust names the caller: its account (id or root ARN), its role's ARN, `*`, or its session ARN. */
function trusted(trust: string[], caller: StsCaller): boolean {
  const names = new Set(['*', caller.account, `arn:${partitionOf(caller.region)}:iam::${caller.account}:root`]);
  if (caller.session) {
    names.add(caller.session.roleArn);
    names.add(callerArn(caller));
  }
  return trust.some((principal) => names.has(principal));
}

export interface StsAnswer {
  /** The `<Action>Result` element's XML. */
  result: string;
}

/** Runs an STS action against `identity` at registry time `now` (ms). */
export function runSts(
  action: string,
  params: URLSearchParams,
  caller: StsCaller,
  identity: Identity,
  now: number,
): StsAnswer {
  if (params.get('Version') !== null && params.get('Version') !== '2011-06-15') {
    throw new StsError('InvalidAction', `Could not find operation ${action} for version ${params.get('Version')}`);
  }
  switch (action) {
    case 'GetCallerIdentity': {
      const userId = caller.session ? `${caller.session.roleId}:${caller.session.sessionName}` : caller.account;
      return {
        result: `<Arn>${escapeXml(callerArn(caller))}</Arn><UserId>${escapeXml(userId)}</UserId><Account>${caller.account}</Account>`,
      };
    }
    case 'AssumeRole':
      return assumeRole(params, caller, identity, now);
    default:
      throw new StsError('InvalidAction', `Could not find operation ${action.slice(0, 64)} for version 2011-06-15`);
  }
}

function assumeRole(params: URLSearchParams, caller: StsCaller, identity: Identity, now: number): StsAnswer {
  const roleArn = params.get('RoleArn');
  const sessionName = params.get('RoleSessionName');
  if (roleArn === null) throw new StsError('MissingParameter', "The request must contain the parameter 'RoleArn'");
  if (sessionName === null) {
    throw new StsError('MissingParameter', "The request must contain the parameter 'RoleSessionName'");
  }
  const match = ROLE_ARN.exec(roleArn);
  if (!match || roleArn.length > 2048) {
    throw new StsError(
      'ValidationError',
      `${roleArn.slice(0, 256)} is invalid: 'roleArn' failed to satisfy constraint: an IAM role ARN`,
    );
  }
  if (!SESSION_NAME.test(sessionName)) {
    throw new StsError(
      'ValidationError',
      "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64",
    );
  }
  const durationText = params.get('DurationSeconds');
  const duration = durationText === null ? DEFAULT_DURATION : Number(durationText);
  if (!Number.isInteger(duration) || duration < MIN_DURATION || duration > MAX_DURATION) {
    throw new StsError(
      'ValidationError',
      `1 validation error detected: Value '${(durationText ?? '').slice(0, 32)}' at 'durationSeconds' failed to satisfy constraint: Member must have value between ${MIN_DURATION} and ${MAX_DURATION}`,
    );
  }
  const [, , account, name] = match as unknown as [string, string, string, string];
  const role = identity.role(account, name);
  const denied = new StsError(
    'AccessDenied',
    `User: ${callerArn(caller)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    403,
  );
  if (!role || !trusted(role.trust, caller)) throw denied;
  const externalId = params.get('ExternalId');
  if (role.externalId !== undefined && externalId !== role.externalId) throw denied;
  const expiresAt = now + duration * 1000;
  const session = identity.issue(role, roleArn, sessionName, expiresAt);
  const assumedArn = `arn:${match[1]}:sts::${account}:assumed-role/${name}/${sessionName}`;
  return {
    result:
      `<Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId><SecretAccessKey>${token(30)}</SecretAccessKey>` +
      `<SessionToken>${token(96)}</SessionToken><Expiration>${new Date(expiresAt).toISOString()}</Expiration></Credentials>` +
      `<AssumedRoleUser><AssumedRoleId>${session.roleId}:${escapeXml(sessionName)}</AssumedRoleId><Arn>${escapeXml(assumedArn)}</Arn></AssumedRoleUser>` +
      '<PackedPolicySize>0</PackedPolicySize>',
  };
}

/** The XML of an answer. */
export const stsResponseXml = (action: string, answer: StsAnswer, requestId: string) =>
  `<${action}Response xmlns="${STS_NAMESPACE}"><${action}Result>${answer.result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;

/** The XML of an error. */
export const stsErrorXml = (error: StsError, requestId: string) =>
  `<ErrorResponse xmlns="${STS_NAMESPACE}"><Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
