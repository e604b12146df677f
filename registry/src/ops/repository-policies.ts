import { checkLifecyclePolicy } from '@ecr-automation/lifecycle';
import type { RepositoryRecord } from '../model/state.ts';
import { constraintMessage, EcrException, invalidParameter } from '../wire/errors.ts';
import { Input, type StringRule } from '../wire/validate.ts';
import { repositoryName, repositoryRef, requireRepository, stateFor, toEpochSeconds } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';

/** A repository's policies: its repository (resource) policy and its lifecycle policy ([M-ECR]). */

const REPOSITORY_POLICY_TEXT: StringRule = { min: 0, max: 10_240 };
export const LIFECYCLE_POLICY_TEXT: StringRule = { min: 100, max: 30_720 };

const repositoryPolicyNotFound = (repository: RepositoryRecord) =>
  new EcrException(
    'RepositoryPolicyNotFoundException',
    `Repository policy does not exist for the repository with name '${repository.name}' in the registry with id '${repository.registryId}'`,
  );

export const lifecyclePolicyNotFound = (repository: RepositoryRecord) =>
  new EcrException(
    'LifecyclePolicyNotFoundException',
    `Lifecycle policy does not exist for the repository with name '${repository.name}' in the registry with id '${repository.registryId}'`,
  );
// Repository policy

const invalidRepositoryPolicy = () =>
  invalidParameter(constraintMessage('PolicyText', 'Invalid repository policy provided'));

/**
 * A repository policy must be a JSON object with a `Statement` (one statement object or a list of them), each with an
 * `Effect` of Allow or Deny, a `Principal` (or `NotPrincipal`) and an `Action` (or `NotAction`): ECR refuses a
 * statement without them as an invalid policy. Which principals and actions are valid is not checked. The text is
 * stored and returned as sent, while ECR may return it re-formatted (UNCONFIRMED).
 */
export function checkRepositoryPolicy(text: string): void {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw invalidRepositoryPolicy();
  }
  const isObject = (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!isObject(document)) throw invalidRepositoryPolicy();
  const statement = (document as Record<string, unknown>).Statement;
  const statements = Array.isArray(statement) ? statement : [statement];
  if (statements.length === 0 || !statements.every(isObject)) throw invalidRepositoryPolicy();
  for (const item of statements as Record<string, unknown>[]) {
    const has = (key: string) => Object.hasOwn(item, key);
    if (item.Effect !== 'Allow' && item.Effect !== 'Deny') throw invalidRepositoryPolicy();
    if (!has('Principal') && !has('NotPrincipal')) throw invalidRepositoryPolicy();
    if (!has('Action') && !has('NotAction')) throw invalidRepositoryPolicy();
  }
}

function getRepositoryPolicy(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const repository = requireRepository(state, repositoryName(input));
  if (repository.policyText === undefined) throw repositoryPolicyNotFound(repository);
  return { ...repositoryRef(repository), policyText: repository.policyText };
}

/** `force` (needed in ECR when the policy would lock the caller out) is accepted; no lock-out is emulated. */
function setRepositoryPolicy(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const policyText = input.str('policyText', { ...REPOSITORY_POLICY_TEXT, required: true });
  input.bool('force');
  const repository = requireRepository(state, name);
  checkRepositoryPolicy(policyText);
  repository.policyText = policyText;
  return { ...repositoryRef(repository), policyText };
}

function deleteRepositoryPolicy(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const repository = requireRepository(state, repositoryName(input));
  const policyText = repository.policyText;
  if (policyText === undefined) throw repositoryPolicyNotFound(repository);
  repository.policyText = undefined;
  return { ...repositoryRef(repository), policyText };
}

// Lifecycle policy

/**
 * `lastEvaluatedAt` is when ECR last ran the policy. The local registry runs policies only when asked (`POST
 * /_local/lifecycle/run`): it reports that run, and for a policy not run since it was set, when it was set
 * (UNCONFIRMED: what ECR reports for a policy it has not run yet).
 */
const lifecyclePolicyShape = (repository: RepositoryRecord, text: string) => ({
  ...repositoryRef(repository),
  lifecyclePolicyText: text,
  lastEvaluatedAt: toEpochSeconds(repository.lifecyclePolicyEvaluatedAt ?? repository.lifecyclePolicyUpdatedAt),
});

function getLifecyclePolicy(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const repository = requireRepository(state, repositoryName(input));
  if (repository.lifecyclePolicyText === undefined) throw lifecyclePolicyNotFound(repository);
  return lifecyclePolicyShape(repository, repository.lifecyclePolicyText);
}

function putLifecyclePolicy(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const lifecyclePolicyText = input.str('lifecyclePolicyText', { ...LIFECYCLE_POLICY_TEXT, required: true });
  const repository = requireRepository(state, name);
  const check = checkLifecyclePolicy(lifecyclePolicyText);
  if (!check.valid) throw invalidParameter(constraintMessage('LifecyclePolicyText', check.reason));
  repository.lifecyclePolicyText = lifecyclePolicyText;
  repository.lifecyclePolicyUpdatedAt = ctx.now();
  repository.lifecyclePolicyEvaluatedAt = undefined;
  return { ...repositoryRef(repository), lifecyclePolicyText };
}

function deleteLifecyclePolicy(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const repository = requireRepository(state, repositoryName(input));
  const text = repository.lifecyclePolicyText;
  if (text === undefined) throw lifecyclePolicyNotFound(repository);
  const deleted = lifecyclePolicyShape(repository, text);
  repository.lifecyclePolicyText = undefined;
  repository.lifecyclePolicyUpdatedAt = undefined;
  repository.lifecyclePolicyEvaluatedAt = undefined;
  return deleted;
}
export const repositoryPolicyOperations: OperationTable = {
  GetRepositoryPolicy: getRepositoryPolicy,
  SetRepositoryPolicy: setRepositoryPolicy,
  DeleteRepositoryPolicy: deleteRepositoryPolicy,
  GetLifecyclePolicy: getLifecyclePolicy,
  PutLifecyclePolicy: putLifecyclePolicy,
  DeleteLifecyclePolicy: deleteLifecyclePolicy,
};
