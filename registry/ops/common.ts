import type { OpContext } from '../context.ts';
import { constraintMessage, EcrException, invalidParameter, repositoryNotFound } from '../errors.ts';
import type { RegistryState, RepositoryRecord } from '../state.ts';
import { type Input, REGISTRY_ID } from '../validate.ts';

/** Epoch milliseconds to the wire's epoch seconds. */
export const toEpochSeconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/** The state that `registryId` names (default: the caller's account), in the request's region. */
export function stateFor(ctx: OpContext, input: Input): RegistryState {
  const registryId = input.str('registryId', REGISTRY_ID);
  if (!registryId || registryId === ctx.account) return ctx.state;
  return ctx.registry.state(registryId, ctx.region);
}

export function requireRepository(state: RegistryState, name: string): RepositoryRecord {
  const repository = state.repositories.get(name);
  if (!repository) throw repositoryNotFound(name, state.account);
  return repository;
}

/**
 * Opaque pagination tokens. A token names the listing it belongs to and the request's fingerprint (its filters),
 * and holds a position in the listing order, so that it stays valid when the same request is repeated and while
 * items are added or removed between pages.
 */
export function encodeToken(listing: string, fingerprint: string, position: number | string): string {
  return Buffer.from(JSON.stringify({ l: listing, f: fingerprint, p: position }), 'utf8').toString('base64url');
}

export function decodeToken(token: string, listing: string, fingerprint: string): number | string {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
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
