import { createHash } from 'node:crypto';
import { newRepository } from '../model/records.ts';
import type { ExclusionFilter, RegistryState, RepositoryRecord, StoredTagMutability } from '../model/state.ts';
import { constraintMessage, EcrException, invalidParameter } from '../wire/errors.ts';
import {
  Input,
  type ListRule,
  MAX_RESULTS,
  REPOSITORY_NAME,
  type StringRule,
  TAG_MUTABILITY,
} from '../wire/validate.ts';
import {
  decodeToken,
  encodeToken,
  rejectPagingWithIds,
  repositoryName,
  repositoryRef,
  requireRepository,
  stateFor,
  toEpochSeconds,
} from './common.ts';
import type { OpContext, OperationTable } from './context.ts';

/** Registered repositories per registry ([UG-QUOTA] default; adjustable in a real account). */
export const MAX_REPOSITORIES_PER_REGISTRY = 100_000;
/** Tags per repository ([M-ECR] `TooManyTagsException` doc). */
export const MAX_TAGS_PER_REPOSITORY = 50;
/** Tag key and value lengths in characters ([M-ECR] `TagResource` doc). */
const MAX_TAG_KEY_LENGTH = 128;
const MAX_TAG_VALUE_LENGTH = 256;
/** Keys per UntagResource call: the model sets no bound; 200 is the AWS tagging API's (UNCONFIRMED for ECR). */
const MAX_UNTAG_KEYS = 200;
/** DescribeRepositories page when `maxResults` is omitted ([M-ECR] member doc: "returns up to 100 results"). */
const DEFAULT_DESCRIBE_PAGE = 100;
/** AWS's tag character set (letters, separators, digits and `_ . : / = + - @`); the `aws:` prefix is reserved. */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const RESERVED_TAG_PREFIX = /^aws:/i;

const REPOSITORY_NAMES: ListRule = { min: 1, max: 100 };
const EXCLUSION_FILTERS: ListRule = { min: 1, max: 5 };
const EXCLUSION_FILTER_VALUE: StringRule = {
  min: 1,
  max: 128,
  pattern: /^[0-9a-zA-Z._*-]{1,128}$/,
  patternText: '^[0-9a-zA-Z._*-]{1,128}$',
};
const ENCRYPTION_TYPES = ['AES256', 'KMS', 'KMS_DSSE'] as const;
const KMS_KEY: StringRule = { min: 1, max: 2048 };
const WITH_EXCLUSION: readonly StoredTagMutability[] = ['IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'];

type Encryption = RepositoryRecord['encryption'];

// Wire shapes

/** The `Repository` shape, with only present members. */
export function toRepositoryShape(repository: RepositoryRecord): Record<string, unknown> {
  const filters = repository.imageTagMutabilityExclusionFilters;
  const { encryptionType, kmsKey } = repository.encryption;
  return {
    repositoryArn: repository.arn,
    registryId: repository.registryId,
    repositoryName: repository.name,
    repositoryUri: repository.uri,
    createdAt: toEpochSeconds(repository.createdAt),
    imageTagMutability: repository.imageTagMutability,
    ...(filters.length > 0 ? { imageTagMutabilityExclusionFilters: filters.map((filter) => ({ ...filter })) } : {}),
    imageScanningConfiguration: { scanOnPush: repository.scanOnPush },
    encryptionConfiguration: kmsKey === undefined ? { encryptionType } : { encryptionType, kmsKey },
  };
}

// Errors with ECR's messages

const alreadyExists = (name: string, registryId: string) =>
  new EcrException(
    'RepositoryAlreadyExistsException',
    `The repository with name '${name}' already exists in the registry with id '${registryId}'`,
  );

const notEmpty = (name: string, registryId: string) =>
  new EcrException(
    'RepositoryNotEmptyException',
    `The repository with name '${name}' in registry with id '${registryId}' cannot be deleted because it still contains images`,
  );

const invalidTag = (message: string) => new EcrException('InvalidTagParameterException', message);

export const tooManyTags = (count: number) =>
  new EcrException(
    'TooManyTagsException',
    `A repository can have at most ${MAX_TAGS_PER_REPOSITORY} tags; the request would leave it with ${count}`,
  );

// Member readers (validation only; none of them changes state)

function checkTagKey(key: string): void {
  if (key.length < 1 || key.length > MAX_TAG_KEY_LENGTH) {
    throw invalidTag(`Tag key '${key}' must be 1 to ${MAX_TAG_KEY_LENGTH} characters long`);
  }
  if (RESERVED_TAG_PREFIX.test(key)) throw invalidTag(`Tag key '${key}' uses the reserved prefix 'aws:'`);
  if (!TAG_CHARACTERS.test(key)) throw invalidTag(`Tag key '${key}' contains characters that are not allowed`);
}

function checkTagValue(key: string, value: string): void {
  if (value.length > MAX_TAG_VALUE_LENGTH) {
    throw invalidTag(`The value of tag '${key}' must be at most ${MAX_TAG_VALUE_LENGTH} characters long`);
  }
  if (!TAG_CHARACTERS.test(value))
    throw invalidTag(`The value of tag '${key}' contains characters that are not allowed`);
}

/** A `TagList` member as a key → value map, each tag checked. Duplicate keys are rejected (UNCONFIRMED: AWS's tagging rule). */
/**
 * Adds `tags` to a repository's resource tags (a key already there takes the new value), refusing with
 * `TooManyTagsException` and changing nothing when the result would pass `MAX_TAGS_PER_REPOSITORY`. Private and
 * public repositories alike.
 */
export function addTags(repository: { tags: Map<string, string> }, tags: Map<string, string>): void {
  const merged = new Map([...repository.tags, ...tags]);
  if (merged.size > MAX_TAGS_PER_REPOSITORY) throw tooManyTags(merged.size);
  repository.tags = merged;
}

export function readTags(input: Input, member: string, required: boolean): Map<string, string> | undefined {
  const list = required ? input.objList(member, { required: true }) : input.objList(member);
  if (!list) return undefined;
  const tags = new Map<string, string>();
  for (const item of list) {
    const key = item.str('Key', { required: true });
    const value = item.str('Value', { required: true });
    checkTagKey(key);
    checkTagValue(key, value);
    if (tags.has(key)) throw invalidTag(`Tag key '${key}' appears more than once in the request`);
    tags.set(key, value);
  }
  return tags;
}

function readExclusionFilters(input: Input): ExclusionFilter[] | undefined {
  return input.objList('imageTagMutabilityExclusionFilters', EXCLUSION_FILTERS)?.map((item) => ({
    filterType: item.str('filterType', { required: true, enum: ['WILDCARD'] }) as 'WILDCARD',
    filter: item.str('filter', { ...EXCLUSION_FILTER_VALUE, required: true }),
  }));
}

/**
 * `imageTagMutability` with its exclusion filters. Filters go with the `*_WITH_EXCLUSION` values only, and those
 * values need filters (UNCONFIRMED: the model's `min: 1` only applies when the list is sent; this is the reading
 * closest to the member docs).
 */
function readTagMutability(
  input: Input,
  required: boolean,
): { mutability: StoredTagMutability; filters: ExclusionFilter[] } {
  const rule = { enum: TAG_MUTABILITY, required };
  const mutability = (input.str('imageTagMutability', rule) as StoredTagMutability | undefined) ?? 'MUTABLE';
  const filters = readExclusionFilters(input);
  const needsFilters = WITH_EXCLUSION.includes(mutability);
  if (needsFilters && !filters) {
    throw invalidParameter(
      constraintMessage(
        'imageTagMutabilityExclusionFilters',
        `Member must not be null when imageTagMutability is ${mutability}`,
      ),
    );
  }
  if (!needsFilters && filters) {
    throw invalidParameter(
      constraintMessage(
        'imageTagMutabilityExclusionFilters',
        `Member must be null when imageTagMutability is ${mutability}; use ${mutability}_WITH_EXCLUSION`,
      ),
    );
  }
  return { mutability, filters: filters ?? [] };
}

/**
 * The AWS-managed `aws/ecr` key, which ECR uses for KMS encryption when no key is given. ECR reports it as a key ARN;
 * the key id is fixed per account and region but unknown here, so it is derived from both (UNCONFIRMED id format).
 */
function awsManagedEcrKeyArn(state: RegistryState): string {
  const hex = createHash('sha256').update(`aws/ecr:${state.account}:${state.region}`).digest('hex');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return `arn:aws:kms:${state.region}:${state.account}:key/${id}`;
}

/** A given `kmsKey` (alias, key id or ARN) is echoed as sent; no KMS is emulated to resolve it (UNCONFIRMED). */
function readEncryption(input: Input, state: RegistryState): Encryption | undefined {
  const config = input.obj('encryptionConfiguration');
  if (!config) return undefined;
  const encryptionType = config.str('encryptionType', {
    required: true,
    enum: ENCRYPTION_TYPES,
  }) as Encryption['encryptionType'];
  const kmsKey = config.str('kmsKey', KMS_KEY);
  if (encryptionType === 'AES256') {
    if (kmsKey !== undefined) {
      throw invalidParameter(
        constraintMessage(
          'encryptionConfiguration.kmsKey',
          'kmsKey can be given only with encryptionType KMS or KMS_DSSE',
        ),
      );
    }
    return { encryptionType };
  }
  return { encryptionType, kmsKey: kmsKey ?? awsManagedEcrKeyArn(state) };
}

/** The repository a `resourceArn` names: only repositories of the caller's account and region are taggable. */
function repositoryForArn(input: Input, ctx: OpContext): RepositoryRecord {
  const arn = input.str('resourceArn', { required: true });
  const prefix = ctx.state.repositoryArn('');
  const name = arn.startsWith(prefix) ? arn.slice(prefix.length) : '';
  const validName = name.length >= 2 && name.length <= 256 && REPOSITORY_NAME.pattern?.test(name) === true;
  if (!validName) {
    throw invalidParameter(
      constraintMessage(
        'resourceArn',
        `Invalid ARN: expected an Amazon ECR repository ARN of the form ${prefix}<name>`,
      ),
    );
  }
  return requireRepository(ctx.state, name);
}

// Repositories

function createRepository(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const tags = readTags(input, 'tags', false) ?? new Map<string, string>();
  if (tags.size > MAX_TAGS_PER_REPOSITORY) throw tooManyTags(tags.size);
  const { mutability, filters } = readTagMutability(input, false);
  const scanOnPush = input.obj('imageScanningConfiguration')?.bool('scanOnPush');
  const encryption = readEncryption(input, state);
  if (state.repositories.has(name)) throw alreadyExists(name, state.account);
  if (state.repositories.size >= MAX_REPOSITORIES_PER_REGISTRY) {
    throw new EcrException(
      'LimitExceededException',
      `The registry with id '${state.account}' already has the maximum of ${MAX_REPOSITORIES_PER_REGISTRY} repositories`,
    );
  }
  const repository = newRepository(state, name, ctx.now(), {
    imageTagMutability: mutability,
    imageTagMutabilityExclusionFilters: filters,
    scanOnPush,
    encryption,
    tags,
  });
  state.repositories.set(name, repository);
  return { repository: toRepositoryShape(repository) };
}

/** Repositories after listing position `afterSeq`, in `seq` order (creation order; a re-created name goes last). */
function repositoriesAfter(state: RegistryState, afterSeq: number): RepositoryRecord[] {
  const found: RepositoryRecord[] = [];
  let ordered = true;
  for (const repository of state.repositories.values()) {
    if (repository.seq <= afterSeq) continue;
    const previous = found[found.length - 1];
    if (previous && previous.seq > repository.seq) ordered = false;
    found.push(repository);
  }
  return ordered ? found : found.sort((a, b) => a.seq - b.seq);
}

function describeRepositories(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const names = input.strList('repositoryNames', REPOSITORY_NAMES, REPOSITORY_NAME);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', MAX_RESULTS);
  rejectPagingWithIds(input, 'repositoryNames');
  if (names) {
    // Each named repository once, in the order asked (UNCONFIRMED: ECR's order for explicit names).
    const repositories = [...new Set(names)].map((name) => toRepositoryShape(requireRepository(state, name)));
    return { repositories };
  }
  const listing = 'DescribeRepositories';
  const fingerprint = `${state.account}/${state.region}`;
  const afterSeq = nextToken === undefined ? 0 : decodeToken(nextToken, listing, fingerprint);
  if (typeof afterSeq !== 'number') throw invalidParameter(constraintMessage('nextToken', 'Invalid NextToken'));
  const limit = maxResults ?? DEFAULT_DESCRIBE_PAGE;
  const remaining = repositoriesAfter(state, afterSeq);
  const page = remaining.slice(0, limit);
  const last = page[page.length - 1];
  return {
    repositories: page.map(toRepositoryShape),
    ...(remaining.length > limit && last ? { nextToken: encodeToken(listing, fingerprint, last.seq) } : {}),
  };
}

function deleteRepository(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const force = input.bool('force') ?? false;
  const repository = requireRepository(state, name);
  if (repository.images.size > 0 && !force) throw notEmpty(name, state.account);
  state.repositories.delete(name);
  return { repository: toRepositoryShape(repository) };
}

function putImageTagMutability(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const { mutability, filters } = readTagMutability(input, true);
  const repository = requireRepository(state, name);
  repository.imageTagMutability = mutability;
  repository.imageTagMutabilityExclusionFilters = filters;
  return {
    ...repositoryRef(repository),
    imageTagMutability: mutability,
    ...(filters.length > 0 ? { imageTagMutabilityExclusionFilters: filters.map((filter) => ({ ...filter })) } : {}),
  };
}

function putImageScanningConfiguration(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = repositoryName(input);
  const scanOnPush = input.obj('imageScanningConfiguration', { required: true }).bool('scanOnPush') ?? false;
  const repository = requireRepository(state, name);
  repository.scanOnPush = scanOnPush;
  return { ...repositoryRef(repository), imageScanningConfiguration: { scanOnPush } };
}

// Resource tags

function tagResource(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const tags = readTags(input, 'tags', true) ?? new Map<string, string>();
  addTags(repositoryForArn(input, ctx), tags);
  return {};
}

function untagResource(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const keys = input.strList('tagKeys', { required: true, min: 0, max: MAX_UNTAG_KEYS });
  for (const key of keys) checkTagKey(key);
  const repository = repositoryForArn(input, ctx);
  for (const key of keys) repository.tags.delete(key);
  return {};
}

function listTagsForResource(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const repository = repositoryForArn(input, ctx);
  return { tags: [...repository.tags].map(([Key, Value]) => ({ Key, Value })) };
}

export const repositoryOperations: OperationTable = {
  CreateRepository: createRepository,
  DescribeRepositories: describeRepositories,
  DeleteRepository: deleteRepository,
  PutImageTagMutability: putImageTagMutability,
  PutImageScanningConfiguration: putImageScanningConfiguration,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
};
