import { policyAllows } from '../model/resource-policy.ts';
import type { RegistryState, RepositoryRecord } from '../model/state.ts';
import { constraintMessage, EcrException, invalidParameter, repositoryNotFound } from '../wire/errors.ts';
import { type Input, REGISTRY_ID, REPOSITORY_NAME } from '../wire/validate.ts';
import type { OpContext } from './context.ts';
import { paginationKeys } from './signing-keys.ts';

/** Epoch milliseconds to the wire's epoch seconds. */
export const toEpochSeconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/**
 * The state that `registryId` names (default: the caller's account), in the request's region. Another account's
 * registry is reached only through a repository whose repository policy allows the caller's account the operation
 * (`ecr:<Operation>`), as ECR requires for cross-account calls; anything else is `AccessDeniedException`, whether
 * or not the repository exists (so that a denied caller learns nothing about the other registry).
 */
export function stateFor(ctx: OpContext, input: Input): RegistryState {
  const registryId = input.str('registryId', REGISTRY_ID);
  if (!registryId || registryId === ctx.account) return ctx.state;
  const name = input.body.repositoryName;
  const target = ctx.registry.existing(registryId, ctx.region);
  const repository = typeof name === 'string' ? target?.repositories.get(name) : undefined;
  const action = `ecr:${ctx.operation}`;
  if (target && repository && policyAllows(repository.policyText, ctx.account, action)) return target;
  const resource =
    typeof name === 'string' && name.length <= 256
      ? `arn:aws:ecr:${ctx.region}:${registryId}:repository/${name}`
      : `arn:aws:ecr:${ctx.region}:${registryId}:repository/*`;
  throw new EcrException(
    'AccessDeniedException',
    `User: arn:aws:iam::${ctx.account}:user/${ctx.accessKeyId.slice(0, 128)} is not authorized to perform: ${action} on resource: ${resource} because no resource-based policy allows the ${action} action`,
  );
}

export function requireRepository(state: RegistryState, name: string): RepositoryRecord {
  const repository = state.repositories.get(name);
  if (!repository) throw repositoryNotFound(name, state.account);
  return repository;
}

/**
 * Opaque pagination tokens. A token names the listing it belongs to and the request's fingerprint (its filters),
 * and holds a position in the listing order, so that it stays valid when the same request is repeated and while
 * items are added or removed between pages. Tokens are signed (HMAC-SHA256 with a key drawn at start, or kept in the
 * data directory when the registry has one): a forged or altered token, or one from an earlier run without a data
 * directory, is `InvalidParameterException`.
 */
/** Longest token accepted (the registry's own are a few hundred characters). */
const MAX_TOKEN_LENGTH = 2048;

export function encodeToken(listing: string, fingerprint: string, position: number | string): string {
  const payload = Buffer.from(JSON.stringify({ l: listing, f: fingerprint, p: position }), 'utf8').toString(
    'base64url',
  );
  return `${payload}.${paginationKeys.sign(payload).toString('base64url')}`;
}

function verifiedPayload(token: string): string | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const dot = token.indexOf('.');
  if (dot < 0) return undefined;
  const payload = token.slice(0, dot);
  return paginationKeys.verify(payload, Buffer.from(token.slice(dot + 1), 'base64url')) ? payload : undefined;
}

export function decodeToken(token: string, listing: string, fingerprint: string): number | string {
  try {
    const payload = verifiedPayload(token);
    if (payload === undefined) throw invalidParameter(constraintMessage('nextToken', 'Invalid NextToken'));
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      l?: unknown;
      f?: unknown;
      p?: unknown;
    };
    if (
      decoded.l === listing &&
      decoded.f === fingerprint &&
      (typeof decoded.p === 'number' || typeof decoded.p === 'string')
    ) {
      return decoded.p;
    }
  } catch {
    // fall through to the error below
  }
  throw invalidParameter(constraintMessage('nextToken', 'Invalid NextToken'));
}

/** `nextToken`/`maxResults` cannot be combined with an explicit id list ([M-ECR]). */
export function rejectPagingWithIds(input: Input, idsMember: string): void {
  if (input.has(idsMember) && (input.has('nextToken') || input.has('maxResults'))) {
    throw new EcrException(
      'InvalidParameterException',
      `Invalid parameter: nextToken and maxResults cannot be used together with ${idsMember}`,
    );
  }
}

/** The repository a request names (`repositoryName`, required). */
export const repositoryName = (input: Input) => input.str('repositoryName', { ...REPOSITORY_NAME, required: true });

/** The members that name a repository in an answer. */
export const repositoryRef = (repository: RepositoryRecord) => ({
  registryId: repository.registryId,
  repositoryName: repository.name,
});
