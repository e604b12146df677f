import type { IncomingMessage, ServerResponse } from 'node:http';
import { sha256 } from '../model/manifests.ts';
import { verifyPassword } from '../ops/authorization.ts';
import { BEARER_TTL_MS, issueBearerToken } from '../public/bearer-tokens.ts';
import type { PublicOpContext } from '../public/context.ts';
import { linkPublicBlob, storePublicImage } from '../public/images.ts';
import { PUBLIC_TOKEN_REGION } from '../public/operations.ts';
import { PUBLIC_REGISTRY_HOST, type PublicRepositoryRecord } from '../public/state.ts';
import type { DistributionHost, PublicIdentity, V2Target } from './distribution-host.ts';
import { EcrException } from './errors.ts';
import { DistributionError, sendDistributionError, sendJson } from './oci-http.ts';

/**
 * Public repositories over the registry API, as public.ecr.aws serves them: `/v2/<registry alias>/<repository
 * name>/...`. Anyone pulls (manifests, blobs, tags, referrers); only the alias's own account pushes, logged in with
 * an ECR Public password (`Basic AWS:<password>`) or a bearer token of the token endpoint (`GET /token/`). A push
 * follows ECR Public PutImage's rules (`storePublicImage`: no event, scan, replication or pull time) and is journalled
 * as a `pub` PutImage record; a blob upload or mount links the blob with `linkPublicBlob`. No manifest is deleted over
 * `/v2/` (BatchDeleteImage deletes).
 */

/** The 401 of a public path: the bearer challenge public.ecr.aws answers, its realm the local token endpoint. */
export function publicLoginRequired(host: Pick<DistributionHost, 'endpoint'>, message: string): DistributionError {
  return new DistributionError(401, 'UNAUTHORIZED', message, {
    'www-authenticate': `Bearer realm="${host.endpoint()}/token/",service="${PUBLIC_REGISTRY_HOST}",scope="aws"`,
  });
}

/** A public registry's `/v2/` target: names are `<alias>/<repository name>`, uploads belong to the alias's account. */
export function publicTarget(ctx: PublicOpContext): V2Target {
  const prefix = `${ctx.state.alias}/`;
  const record = (name: string): PublicRepositoryRecord | undefined =>
    name.startsWith(prefix) ? ctx.state.repositories.get(name.slice(prefix.length)) : undefined;
  const found = (name: string): PublicRepositoryRecord => {
    const repository = record(name);
    if (!repository) {
      throw new DistributionError(
        404,
        'NAME_UNKNOWN',
        `The repository with name '${name.slice(prefix.length)}' does not exist in the registry with id '${ctx.account}'`,
      );
    }
    return repository;
  };
  return {
    account: ctx.account,
    registry: ctx.registry,
    now: ctx.now,
    find: (name) => record(name)?.content,
    forPush: (name) => record(name)?.content,
    push(name, request) {
      const repository = found(name);
      try {
        const { image } = storePublicImage(ctx, repository, request);
        ctx.journal('PutImage', {
          repositoryName: repository.name,
          imageManifest: request.manifest,
          ...(request.mediaType === undefined ? {} : { imageManifestMediaType: request.mediaType }),
          ...(request.tag === undefined ? {} : { imageTag: request.tag }),
          ...(request.digest === undefined ? {} : { imageDigest: request.digest }),
        });
        return { image, stored: true };
      } catch (error) {
        // The same manifest (and tag) pushed again is a success for a registry client, as on the private side.
        const existing = repository.content.images.get(sha256(request.manifest));
        if (error instanceof EcrException && error.type === 'ImageAlreadyExistsException' && existing) {
          return { image: existing, stored: false };
        }
        throw error;
      }
    },
    // ECR Public records no pull time.
    pulled: () => undefined,
    link: (name, digest, size) => linkPublicBlob(ctx, found(name), digest, size),
    mount(name, from, digest) {
      // Only within the same public registry: another alias's repository is not `from`'s namespace here.
      const source = record(from);
      const target = found(name);
      const size = ctx.registry.blobs.size(digest);
      if (!source?.content.layers.has(digest) || size === undefined) return false;
      if (target.content.layers.get(digest) !== size) linkPublicBlob(ctx, target, digest, size);
      return true;
    },
    uploadOwner: (name) => ({ account: ctx.account, region: PUBLIC_TOKEN_REGION, repositoryName: name }),
  };
}

// The token endpoint

/** The longest query string the token endpoint reads. */
const MAX_TOKEN_QUERY = 4096;
/** At most this many `scope` parameters, each at most `MAX_SCOPE_LENGTH` characters. */
const MAX_SCOPES = 16;
const MAX_SCOPE_LENGTH = 1024;
const MAX_SERVICE_LENGTH = 256;

/** The identity a token request's `Authorization` asks for: anonymous, a public password's, else undefined. */
function tokenIdentity(
  header: string | undefined,
  now: number,
): (PublicIdentity & { expiresAt: number | undefined }) | undefined {
  const anonymous = { account: undefined, accessKeyId: '', expiresAt: undefined };
  if (header === undefined || header.trim() === '') return anonymous;
  const match = /^Basic +([A-Za-z0-9+/=]{1,4096})$/i.exec(header.trim());
  if (!match) return undefined;
  const credentials = Buffer.from(match[1] as string, 'base64').toString('utf8');
  if (credentials.startsWith(':')) return anonymous;
  if (!credentials.startsWith('AWS:')) return undefined;
  const claims = verifyPassword(credentials.slice('AWS:'.length), now);
  if (claims?.region !== PUBLIC_TOKEN_REGION) return undefined;
  return { account: claims.account, accessKeyId: claims.accessKeyId, expiresAt: claims.expiresAt };
}

/**
 * `GET /token/?service=public.ecr.aws&scope=...`: the token endpoint of the bearer challenge ([DOCKER-TOKEN]),
 * as `https://public.ecr.aws/token/`. Without credentials (or with an empty user name) it answers an anonymous,
 * pull-only token; with `Basic AWS:<ECR Public password>` a token acting as that password's account, expiring with
 * it (12 hours at most). The answer is `{"token": "<bearer>"}`. The scopes are checked for size, not for what they
 * ask: a token's rights are its account's (pushes to its own registry's repositories) or an anonymous pull.
 */
export async function serveToken(req: IncomingMessage, res: ServerResponse, host: DistributionHost): Promise<void> {
  try {
    if (req.method !== 'GET') {
      throw new DistributionError(405, 'UNSUPPORTED', `${String(req.method).slice(0, 16)} is not allowed here`, {
        allow: 'GET',
      });
    }
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const text = mark < 0 ? '' : url.slice(mark + 1);
    if (text.length > MAX_TOKEN_QUERY) {
      throw new DistributionError(400, 'UNSUPPORTED', `The query is longer than ${MAX_TOKEN_QUERY} characters`);
    }
    const query = new URLSearchParams(text);
    const scopes = query.getAll('scope');
    const service = query.get('service') ?? '';
    if (scopes.length > MAX_SCOPES || scopes.some((scope) => scope.length > MAX_SCOPE_LENGTH)) {
      throw new DistributionError(
        400,
        'UNSUPPORTED',
        `At most ${MAX_SCOPES} scopes of at most ${MAX_SCOPE_LENGTH} characters each`,
      );
    }
    if (service.length > MAX_SERVICE_LENGTH) {
      throw new DistributionError(400, 'UNSUPPORTED', `service is longer than ${MAX_SERVICE_LENGTH} characters`);
    }
    const fault = await host.call(`v2public:GET:token`);
    if (fault === 'throttle') {
      throw new DistributionError(429, 'TOOMANYREQUESTS', 'Rate exceeded (an injected fault)', { 'retry-after': '1' });
    }
    if (fault === 'server') throw new DistributionError(500, 'UNKNOWN', 'Injected server error');
    const now = host.now();
    const identity = tokenIdentity(req.headers.authorization, now);
    if (!identity) {
      throw new DistributionError(
        401,
        'UNAUTHORIZED',
        'The credentials are not an ECR Public authorization token (AWS:<password> of ecr-public get-login-password) or have expired',
      );
    }
    const expiresAt = Math.min(now + BEARER_TTL_MS, identity.expiresAt ?? Number.POSITIVE_INFINITY);
    sendJson(res, 200, { token: issueBearerToken(identity.account, identity.accessKeyId, expiresAt) });
  } catch (error) {
    if (!(error instanceof DistributionError)) throw error;
    sendDistributionError(req, res, error);
  } finally {
    if (!req.complete && !req.destroyed) req.resume();
  }
}
