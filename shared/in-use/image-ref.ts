/**
 * Image references as workloads name them, parsed into this service's registries: a private registry
 * (`<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository>[:tag][@sha256:…]`) or ECR Public
 * (`public.ecr.aws/<alias>/<repository>…`). A reference to any other registry (Docker Hub, ghcr.io, a bare `nginx`)
 * is not ours and parses to undefined, as does anything malformed. Input is hostile: it is bounded in length first,
 * then split on fixed characters and checked piece by piece with anchored expressions that cannot backtrack, so the
 * work is linear in the (bounded) length.
 */

export interface ParsedImageReference {
  registry: 'private' | 'public';
  /** The account (private) or the alias (public). */
  registryId: string;
  /** The registry's region (us-east-1 for ECR Public). */
  region: string;
  repositoryName: string;
  tag?: string;
  digest?: string;
}

/** Host (≤ 253) + `/` + repository (≤ 256) + `:` tag (≤ 128) + `@` digest (71), with room to spare. */
export const MAX_IMAGE_REFERENCE_LENGTH = 1024;

const PRIVATE_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]{1,32})\.amazonaws\.com(?:\.cn)?$/;
const PUBLIC_HOST = 'public.ecr.aws';
/** One path component of a repository name (ECR's rule, per component): no ambiguity, so no backtracking. */
const NAME_COMPONENT = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const PUBLIC_ALIAS = /^[a-z0-9][a-z0-9_-]{1,49}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_REPOSITORY_NAME_LENGTH = 256;

/** Splits `name[:tag][@digest]`; the tag's colon is the last one after the last slash. */
function splitReference(reference: string): { name: string; tag?: string; digest?: string } | undefined {
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  return { name: rest, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

const validRepositoryName = (components: readonly string[]): boolean =>
  components.length > 0 &&
  components.join('/').length <= MAX_REPOSITORY_NAME_LENGTH &&
  components.every((component) => NAME_COMPONENT.test(component));

/** The reference, resolved to one of this service's registries, or undefined (another registry, or malformed). */
export function parseImageReference(reference: unknown): ParsedImageReference | undefined {
  if (typeof reference !== 'string' || reference.length === 0 || reference.length > MAX_IMAGE_REFERENCE_LENGTH) {
    return undefined;
  }
  const split = splitReference(reference.trim());
  if (split === undefined) return undefined;
  const [host, ...path] = split.name.split('/');
  if (host === undefined) return undefined;
  const ids = {
    ...(split.tag === undefined ? {} : { tag: split.tag }),
    ...(split.digest === undefined ? {} : { digest: split.digest }),
  };
  if (host === PUBLIC_HOST) {
    const [alias, ...repository] = path;
    if (alias === undefined || !PUBLIC_ALIAS.test(alias) || !validRepositoryName(repository)) return undefined;
    return { registry: 'public', registryId: alias, region: 'us-east-1', repositoryName: repository.join('/'), ...ids };
  }
  if (host.length > 253) return undefined;
  const match = PRIVATE_HOST.exec(host);
  if (match === null || !validRepositoryName(path)) return undefined;
  return {
    registry: 'private',
    registryId: match[1] as string,
    region: match[2] as string,
    repositoryName: path.join('/'),
    ...ids,
  };
}

/**
 * The digest a runtime reports for a container (`imageID`, `imageDigest`): a bare `sha256:…`, a reference with a
 * digest (`repo@sha256:…`), or Docker's `docker-pullable://repo@sha256:…`. Undefined when there is none.
 */
export function digestOf(imageId: unknown): string | undefined {
  if (typeof imageId !== 'string' || imageId.length > MAX_IMAGE_REFERENCE_LENGTH + 32) return undefined;
  const at = imageId.lastIndexOf('@');
  const digest = at >= 0 ? imageId.slice(at + 1) : imageId;
  return DIGEST.test(digest) ? digest : undefined;
}
