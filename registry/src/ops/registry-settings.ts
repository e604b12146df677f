import { EcrException, validationError } from '../wire/errors.ts';
import { Input } from '../wire/validate.ts';
import type { OpContext, OperationTable } from './context.ts';
import { creationTemplateOperations } from './creation-templates.ts';
import { pullThroughCacheOperations } from './pull-through-cache.ts';
import { replicationOperations } from './replication.ts';
import { checkPolicyDocument, POLICY_TEXT } from './settings-common.ts';

/**
 * Registry-level settings: replication (replication.ts), pull through cache rules (pull-through-cache.ts),
 * repository creation templates (creation-templates.ts) and, here, the registry policy.
 */

const registryPolicyNotFound = (registryId: string) =>
  new EcrException(
    'RegistryPolicyNotFoundException',
    `Registry policy does not exist in the registry with id '${registryId}'`,
  );
// Registry policy

function getRegistryPolicy(raw: Record<string, unknown>, ctx: OpContext) {
  Input.parse(raw, validationError);
  const { account, registryPolicyText } = ctx.state;
  if (registryPolicyText === undefined) throw registryPolicyNotFound(account);
  return { registryId: account, policyText: registryPolicyText };
}

/** Stores the policy as sent; ECR checks principals and actions too (not emulated). */
function putRegistryPolicy(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const policyText = input.str('policyText', { ...POLICY_TEXT, required: true });
  checkPolicyDocument(policyText, 'policyText', 'registry policy');
  ctx.state.registryPolicyText = policyText;
  return { registryId: ctx.state.account, policyText };
}

function deleteRegistryPolicy(raw: Record<string, unknown>, ctx: OpContext) {
  Input.parse(raw, validationError);
  const { account, registryPolicyText } = ctx.state;
  if (registryPolicyText === undefined) throw registryPolicyNotFound(account);
  ctx.state.registryPolicyText = undefined;
  return { registryId: account, policyText: registryPolicyText };
}

export const registrySettingsOperations: OperationTable = {
  ...replicationOperations,
  ...pullThroughCacheOperations,
  ...creationTemplateOperations,
  GetRegistryPolicy: getRegistryPolicy,
  PutRegistryPolicy: putRegistryPolicy,
  DeleteRegistryPolicy: deleteRegistryPolicy,
};
