import { EcrException } from '../wire/errors.ts';
import { type Input, REGISTRY_ID, type StringRule } from '../wire/validate.ts';
import type { PublicOpContext } from './context.ts';
import type { PublicRegistryState, PublicRepositoryRecord } from './state.ts';

/** What ECR Public's operations share: the repository name, the registry a request names, repository lookup. */

/** [M-ECRPUB] RepositoryName: 2 to 205 characters. */
export const PUBLIC_REPOSITORY_NAME: StringRule = {
  min: 2,
  max: 205,
  pattern: /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/,
  patternText: '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*',
};
export const repositoryNotFound = (name: string, registryId: string) =>
  new EcrException(
    'RepositoryNotFoundException',
    `The repository with name '${name}' does not exist in the registry with id '${registryId}'`,
  );

export const repositoryName = (input: Input) =>
  input.str('repositoryName', { ...PUBLIC_REPOSITORY_NAME, required: true });

/**
 * The caller's registry, checking `registryId`: another account's public registry is not reachable through this
 * API locally (no cross-account access is emulated), so naming one is `AccessDeniedException`, as AWS answers a
 * caller no policy allows.
 */
export function ownRegistry(input: Input, ctx: PublicOpContext, operation: string): PublicRegistryState {
  const registryId = input.str('registryId', REGISTRY_ID);
  if (registryId === undefined || registryId === ctx.account) return ctx.state;
  throw new EcrException(
    'AccessDeniedException',
    `User: arn:aws:iam::${ctx.account}:user/${ctx.accessKeyId.slice(0, 128)} is not authorized to perform: ecr-public:${operation} on resource: arn:aws:ecr-public::${registryId}:registry/${registryId}`,
  );
}

export function requireRepository(state: PublicRegistryState, name: string): PublicRepositoryRecord {
  const repository = state.repositories.get(name);
  if (!repository) throw repositoryNotFound(name, state.account);
  return repository;
}

/** [M-ECRPUB] RegistryIdOrAlias (the image and layer operations): 2 to 50 characters, an account id or an alias. */
const REGISTRY_ID_OR_ALIAS: StringRule = { min: 2, max: 50 };

/**
 * The caller's registry, for an operation whose `registryId` may be the account id or the registry's alias. Another
 * account's id is `AccessDeniedException` (as `ownRegistry`); an alias no registry here has is
 * `RegistryNotFoundException` (aliases of other accounts' registries are not resolved locally).
 */
export function ownRegistryOrAlias(input: Input, ctx: PublicOpContext, operation: string): PublicRegistryState {
  const given = input.str('registryId', REGISTRY_ID_OR_ALIAS);
  if (given === undefined || given === ctx.account || given === ctx.state.alias) return ctx.state;
  if (REGISTRY_ID.pattern?.test(given)) return ownRegistry(input, ctx, operation);
  throw new EcrException('RegistryNotFoundException', `The registry with id or alias '${given}' does not exist`);
}
