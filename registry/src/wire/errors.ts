/**
 * Wire errors of the local registry. `type` is the exact `__type` ECR sends (clients match on it), so names keep
 * AWS's `...Exception` spelling. Every ECR error is a client fault (HTTP 400) except `ServerException` (500).
 */
export class EcrException extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    /** Extra members some exceptions carry (for example `KmsException.kmsError`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = type;
  }
}

export const invalidParameter = (message: string) => new EcrException('InvalidParameterException', message);
export const validationError = (message: string) => new EcrException('ValidationException', message);
export const serializationError = (message: string) => new EcrException('SerializationException', message);

/** The message ECR gives for a model constraint (length, range, pattern) that a member fails. */
export const constraintMessage = (path: string, constraint: string) =>
  `Invalid parameter at '${path}' failed to satisfy constraint: '${constraint}'`;

export const repositoryNotFound = (name: string, registryId: string) =>
  new EcrException(
    'RepositoryNotFoundException',
    `The repository with name '${name}' does not exist in the registry with id '${registryId}'`,
  );

export const formatImageId = (id: { imageDigest?: string; imageTag?: string }) =>
  `{imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'}`;

export const imageNotFound = (id: { imageDigest?: string; imageTag?: string }, name: string, registryId: string) =>
  new EcrException(
    'ImageNotFoundException',
    `The image with imageId ${formatImageId(id)} does not exist within the repository with name '${name}' in the registry with id '${registryId}'`,
  );
