import { EcrException } from '../wire/errors.ts';
import { Input, MAX_RESULTS } from '../wire/validate.ts';
import { decodeToken, encodeToken, toEpochSeconds } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';

/**
 * Pull-time update exclusions: IAM principals whose image reads (BatchGetImage) do not move `lastRecordedPullTime`,
 * so that automation reading manifests does not make images look used ([M-ECR]
 * Register/Deregister/ListPullTimeUpdateExclusions).
 *
 * The local registry has no IAM: a request's principal is named by the access key that signed it. An exclusion for
 * `arn:aws:iam::<account>:role/<name>` (or `user/<name>`) applies to requests signed with access key `<name>`.
 */

/** IAM role or user ARN; the model bounds it at 20–2048 characters. */
const PRINCIPAL_ARN = {
  min: 20,
  max: 2048,
  pattern: /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/,
  patternText: 'arn:aws:iam::<account>:(role|user)/<name>',
};
/** UNCONFIRMED: the quota on exclusions per registry is not published; 100 is a cautious stand-in. */
export const MAX_PULL_TIME_EXCLUSIONS = 100;

const principalName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/** Whether the caller of this request is on its registry's exclusion list. */
export function isExcludedFromPullTime(ctx: OpContext): boolean {
  for (const arn of ctx.state.pullTimeExclusions.keys()) {
    if (principalName(arn) === ctx.accessKeyId) return true;
  }
  return false;
}

export const pullTimeExclusionOperations: OperationTable = {
  RegisterPullTimeUpdateExclusion(raw, ctx) {
    const principalArn = new Input(raw).str('principalArn', { required: true, ...PRINCIPAL_ARN });
    const exclusions = ctx.state.pullTimeExclusions;
    if (exclusions.has(principalArn)) {
      throw new EcrException(
        'ExclusionAlreadyExistsException',
        `The principal '${principalArn}' is already excluded from pull time updates in the registry with id '${ctx.state.account}'`,
      );
    }
    if (exclusions.size >= MAX_PULL_TIME_EXCLUSIONS) {
      throw new EcrException(
        'LimitExceededException',
        `The registry already has ${MAX_PULL_TIME_EXCLUSIONS} pull time update exclusions`,
      );
    }
    const now = ctx.now();
    exclusions.set(principalArn, now);
    return { principalArn, createdAt: toEpochSeconds(now) };
  },

  DeregisterPullTimeUpdateExclusion(raw, ctx) {
    const principalArn = new Input(raw).str('principalArn', { required: true, ...PRINCIPAL_ARN });
    if (!ctx.state.pullTimeExclusions.delete(principalArn)) {
      throw new EcrException(
        'ExclusionNotFoundException',
        `The principal '${principalArn}' is not excluded from pull time updates in the registry with id '${ctx.state.account}'`,
      );
    }
    return { principalArn };
  },

  ListPullTimeUpdateExclusions(raw, ctx) {
    const input = new Input(raw);
    const maxResults = input.num('maxResults', MAX_RESULTS) ?? 100;
    const token = input.str('nextToken');
    const all = [...ctx.state.pullTimeExclusions.keys()].sort();
    const after = token === undefined ? undefined : String(decodeToken(token, 'pull-time-exclusions', ''));
    const remaining = after === undefined ? all : all.filter((arn) => arn > after);
    const page = remaining.slice(0, maxResults);
    const last = page[page.length - 1];
    return {
      pullTimeUpdateExclusions: page,
      ...(remaining.length > page.length && last ? { nextToken: encodeToken('pull-time-exclusions', '', last) } : {}),
    };
  },
};
