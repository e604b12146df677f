import { issuePassword } from '../ops/authorization.ts';
import { decodeToken, encodeToken, rejectPagingWithIds, toEpochSeconds } from '../ops/common.ts';
import { addTags, MAX_TAGS_PER_REPOSITORY, readTags, tooManyTags } from '../ops/repositories.ts';
import { checkRepositoryPolicy } from '../ops/repository-policies.ts';
import { constraintMessage, EcrException, invalidParameter, serializationError } from '../wire/errors.ts';
import { Input, MAX_RESULTS, type StringRule } from '../wire/validate.ts';
import { ownRegistry, PUBLIC_REPOSITORY_NAME, repositoryName, requireRepository } from './common.ts';
import type { PublicOpContext, PublicOperation } from './context.ts';
import { publicImageOperations } from './image-operations.ts';
import { replayLinkPublicBlob } from './images.ts';
import {
  newPublicContent,
  type PublicCatalogRecord,
  type PublicRegistryState,
  type PublicRepositoryRecord,
} from './state.ts';

/**
 * The ECR Public operations served ([M-ECRPUB], target prefix `SpencerFrontendService.`): repositories, the
 * registry and its catalog data, repository catalog data, repository policies, resource tags and
 * GetAuthorizationToken. Every member is checked before anything changes.
 */

export { PUBLIC_REPOSITORY_NAME } from './common.ts';
export type { PublicOpContext, PublicOperation } from './context.ts';

/** Repositories per public registry (UNCONFIRMED: ECR Public's default service quota, 10,000). */
export const MAX_PUBLIC_REPOSITORIES = 10_000;
/** [M-ECRPUB] LogoImageBlob: at most 512,000 bytes. */
export const MAX_LOGO_BYTES = 512_000;
/** The path (under the registry's address) its logos are served at. */
export const PUBLIC_LOGO_PREFIX = '/_local/public/logo/';
const DESCRIBE_PAGE = 100;
const REPOSITORY_NAMES = { min: 1, max: 100 };
const TAG_LIST = { min: 0, max: 200 };
const DESCRIPTION: StringRule = { max: 1024 };
const LONG_TEXT: StringRule = { max: 25_600 };
const ARCHITECTURE: StringRule = { min: 1, max: 50 };
const CATALOG_LIST = { max: 50 };
const DISPLAY_NAME: StringRule = { min: 0, max: 100 };
const POLICY_TEXT: StringRule = { min: 0, max: 10_240 };
const ARN: StringRule = { min: 1, max: 2048 };
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A `RepositoryCatalogDataInput` member (also a fixture's catalog data, control/fixtures.ts). */
export function readCatalogData(input: Input, member: string, required: boolean): PublicCatalogRecord | undefined {
  const data = required ? input.obj(member, { required: true }) : input.obj(member);
  if (!data) return undefined;
  const description = data.str('description', DESCRIPTION);
  const architectures = data.strList('architectures', CATALOG_LIST, ARCHITECTURE);
  const operatingSystems = data.strList('operatingSystems', CATALOG_LIST, ARCHITECTURE);
  const aboutText = data.str('aboutText', LONG_TEXT);
  const usageText = data.str('usageText', LONG_TEXT);
  const logoText = data.str('logoImageBlob');
  let logo: Buffer | undefined;
  if (logoText !== undefined) {
    if (!BASE64.test(logoText) || logoText.length % 4 !== 0) {
      throw serializationError(`Cannot deserialize '${member}.logoImageBlob': expected base64`);
    }
    logo = Buffer.from(logoText, 'base64');
    if (logo.length > MAX_LOGO_BYTES) {
      throw invalidParameter(
        constraintMessage(`${member}.logoImageBlob`, `Member must have length less than or equal to ${MAX_LOGO_BYTES}`),
      );
    }
    // ECR Public takes PNG logos only (UNCONFIRMED: the wording of its refusal).
    if (logo.length > 0 && !logo.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
      throw invalidParameter('Invalid parameter: logoImageBlob must be a PNG image');
    }
    if (logo.length === 0) logo = undefined;
  }
  return {
    ...(description !== undefined ? { description } : {}),
    ...(architectures !== undefined ? { architectures } : {}),
    ...(operatingSystems !== undefined ? { operatingSystems } : {}),
    ...(logo !== undefined ? { logo } : {}),
    ...(aboutText !== undefined ? { aboutText } : {}),
    ...(usageText !== undefined ? { usageText } : {}),
    logoVersion: 0,
  };
}

const catalogShape = (state: PublicRegistryState, repository: PublicRepositoryRecord, ctx: PublicOpContext) => {
  const catalog = repository.catalog ?? { logoVersion: 0 };
  return {
    ...(catalog.description !== undefined ? { description: catalog.description } : {}),
    ...(catalog.architectures !== undefined ? { architectures: catalog.architectures } : {}),
    ...(catalog.operatingSystems !== undefined ? { operatingSystems: catalog.operatingSystems } : {}),
    ...(catalog.logo !== undefined
      ? {
          logoUrl: `${ctx.endpoint}${PUBLIC_LOGO_PREFIX}${state.account}/${repository.name}?v=${catalog.logoVersion}`,
        }
      : {}),
    ...(catalog.aboutText !== undefined ? { aboutText: catalog.aboutText } : {}),
    ...(catalog.usageText !== undefined ? { usageText: catalog.usageText } : {}),
    marketplaceCertified: false,
  };
};

const repositoryShape = (state: PublicRegistryState, repository: PublicRepositoryRecord) => ({
  repositoryArn: state.repositoryArn(repository.name),
  registryId: state.account,
  repositoryName: repository.name,
  repositoryUri: state.repositoryUri(repository.name),
  createdAt: toEpochSeconds(repository.createdAt),
});

// Repositories

function createRepository(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const name = repositoryName(input);
  const catalog = readCatalogData(input, 'catalogData', false);
  input.objList('tags', TAG_LIST);
  const tags = readTags(input, 'tags', false) ?? new Map<string, string>();
  if (tags.size > MAX_TAGS_PER_REPOSITORY) throw tooManyTags(tags.size);
  const state = ctx.state;
  if (state.repositories.has(name)) {
    throw new EcrException(
      'RepositoryAlreadyExistsException',
      `The repository with name '${name}' already exists in the registry with id '${state.account}'`,
    );
  }
  if (state.repositories.size >= MAX_PUBLIC_REPOSITORIES) {
    throw new EcrException(
      'LimitExceededException',
      `The registry with id '${state.account}' already has the maximum of ${MAX_PUBLIC_REPOSITORIES} repositories`,
    );
  }
  if (catalog?.logo) catalog.logoVersion = 1;
  const seq = state.allocateSeq();
  const createdAt = ctx.now();
  const repository: PublicRepositoryRecord = {
    name,
    seq,
    createdAt,
    catalog,
    policyText: undefined,
    tags,
    content: newPublicContent(state, name, createdAt, seq),
    tagTimes: new Map(),
  };
  state.repositories.set(name, repository);
  return {
    repository: repositoryShape(state, repository),
    ...(catalog ? { catalogData: catalogShape(state, repository, ctx) } : {}),
  };
}

function describeRepositories(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistry(input, ctx, 'DescribeRepositories');
  const names = input.strList('repositoryNames', REPOSITORY_NAMES, PUBLIC_REPOSITORY_NAME);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', MAX_RESULTS);
  rejectPagingWithIds(input, 'repositoryNames');
  if (names) {
    return {
      repositories: [...new Set(names)].map((name) => repositoryShape(state, requireRepository(state, name))),
    };
  }
  const listing = 'PublicDescribeRepositories';
  const afterSeq = nextToken === undefined ? 0 : decodeToken(nextToken, listing, state.account);
  if (typeof afterSeq !== 'number') throw invalidParameter(constraintMessage('nextToken', 'Invalid NextToken'));
  const limit = maxResults ?? DESCRIBE_PAGE;
  const remaining = [...state.repositories.values()].filter((r) => r.seq > afterSeq).sort((a, b) => a.seq - b.seq);
  const page = remaining.slice(0, limit);
  const last = page[page.length - 1];
  return {
    repositories: page.map((repository) => repositoryShape(state, repository)),
    ...(remaining.length > limit && last ? { nextToken: encodeToken(listing, state.account, last.seq) } : {}),
  };
}

/** A repository holding images is `RepositoryNotEmptyException` unless `force`, which deletes them with it. */
function deleteRepository(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistry(input, ctx, 'DeleteRepository');
  const name = repositoryName(input);
  const force = input.bool('force') ?? false;
  const repository = requireRepository(state, name);
  if (repository.content.images.size > 0 && !force) {
    throw new EcrException(
      'RepositoryNotEmptyException',
      `The repository with name '${name}' in registry with id '${state.account}' cannot be deleted because it still contains images`,
    );
  }
  state.repositories.delete(name);
  return { repository: repositoryShape(state, repository) };
}

// The registry

function describeRegistries(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const nextToken = input.str('nextToken');
  input.num('maxResults', MAX_RESULTS);
  // One registry per account: every listing fits in one page, and no token is ever issued.
  if (nextToken !== undefined) decodeToken(nextToken, 'PublicDescribeRegistries', ctx.account);
  const state = ctx.state;
  return {
    registries: [
      {
        registryId: state.account,
        registryArn: state.registryArn,
        registryUri: state.registryUri,
        verified: false,
        aliases: [{ name: state.alias, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }],
      },
    ],
  };
}

function getRegistryCatalogData(raw: Record<string, unknown>, ctx: PublicOpContext) {
  Input.parse(raw);
  return { registryCatalogData: ctx.state.displayName ? { displayName: ctx.state.displayName } : {} };
}

/** An absent `displayName` leaves it as it is; an empty one clears it (UNCONFIRMED). */
function putRegistryCatalogData(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const displayName = input.str('displayName', DISPLAY_NAME);
  if (displayName !== undefined) ctx.state.displayName = displayName;
  return { registryCatalogData: ctx.state.displayName ? { displayName: ctx.state.displayName } : {} };
}

// Repository catalog data

/** A repository that never had catalog data answers `RepositoryCatalogDataNotFoundException` (UNCONFIRMED). */
function getRepositoryCatalogData(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistry(input, ctx, 'GetRepositoryCatalogData');
  const repository = requireRepository(state, repositoryName(input));
  if (!repository.catalog) {
    throw new EcrException(
      'RepositoryCatalogDataNotFoundException',
      `The repository catalog data for the repository with name '${repository.name}' in the registry with id '${state.account}' does not exist`,
    );
  }
  return { catalogData: catalogShape(state, repository, ctx) };
}

/** The catalog data given replaces the repository's (UNCONFIRMED: whether AWS merges absent members). */
function putRepositoryCatalogData(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistry(input, ctx, 'PutRepositoryCatalogData');
  const name = repositoryName(input);
  const catalog = readCatalogData(input, 'catalogData', true) as PublicCatalogRecord;
  const repository = requireRepository(state, name);
  const previous = repository.catalog?.logoVersion ?? 0;
  catalog.logoVersion = catalog.logo ? previous + 1 : previous;
  repository.catalog = catalog;
  return { catalogData: catalogShape(state, repository, ctx) };
}

// Repository policies

const policyNotFound = (state: PublicRegistryState, name: string) =>
  new EcrException(
    'RepositoryPolicyNotFoundException',
    `Repository policy does not exist for the repository with name '${name}' in the registry with id '${state.account}'`,
  );

function getRepositoryPolicy(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistry(input, ctx, 'GetRepositoryPolicy');
  const repository = requireRepository(state, repositoryName(input));
  if (repository.policyText === undefined) throw policyNotFound(state, repository.name);
  return { registryId: state.account, repositoryName: repository.name, policyText: repository.policyText };
}

function setRepositoryPolicy(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistry(input, ctx, 'SetRepositoryPolicy');
  const name = repositoryName(input);
  const policyText = input.str('policyText', { ...POLICY_TEXT, required: true });
  input.bool('force');
  const repository = requireRepository(state, name);
  checkRepositoryPolicy(policyText);
  repository.policyText = policyText;
  return { registryId: state.account, repositoryName: name, policyText };
}

function deleteRepositoryPolicy(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const state = ownRegistry(input, ctx, 'DeleteRepositoryPolicy');
  const repository = requireRepository(state, repositoryName(input));
  const policyText = repository.policyText;
  if (policyText === undefined) throw policyNotFound(state, repository.name);
  repository.policyText = undefined;
  return { registryId: state.account, repositoryName: repository.name, policyText };
}

// Resource tags

function repositoryForArn(input: Input, ctx: PublicOpContext): PublicRepositoryRecord {
  const arn = input.str('resourceArn', { ...ARN, required: true });
  const prefix = ctx.state.repositoryArn('');
  const name = arn.startsWith(prefix) ? arn.slice(prefix.length) : '';
  const valid = name.length >= 2 && name.length <= 205 && PUBLIC_REPOSITORY_NAME.pattern?.test(name) === true;
  if (!valid) {
    throw invalidParameter(
      constraintMessage(
        'resourceArn',
        `Invalid ARN: expected an Amazon ECR Public repository ARN of the form ${prefix}<name>`,
      ),
    );
  }
  return requireRepository(ctx.state, name);
}

function tagResource(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  input.objList('tags', { ...TAG_LIST, required: true });
  const tags = readTags(input, 'tags', true) ?? new Map<string, string>();
  addTags(repositoryForArn(input, ctx), tags);
  return {};
}

function untagResource(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const keys = input.strList('tagKeys', { required: true, min: 0, max: 200 }, { min: 1, max: 128 });
  const repository = repositoryForArn(input, ctx);
  for (const key of keys) repository.tags.delete(key);
  return {};
}

function listTagsForResource(raw: Record<string, unknown>, ctx: PublicOpContext) {
  const input = Input.parse(raw);
  const repository = repositoryForArn(input, ctx);
  return { tags: [...repository.tags].map(([Key, Value]) => ({ Key, Value })) };
}

// Authorization

/**
 * The region a public login's password names: no private region, so that the private `/v2/` API refuses it (a
 * public token is no private login); the public registry API will take it.
 */
export const PUBLIC_TOKEN_REGION = 'ecr-public';
const TOKEN_TTL_MS = 12 * 60 * 60 * 1000;

function getAuthorizationToken(raw: Record<string, unknown>, ctx: PublicOpContext) {
  Input.parse(raw);
  const expiresAt = ctx.now() + TOKEN_TTL_MS;
  const password = issuePassword(ctx.account, PUBLIC_TOKEN_REGION, expiresAt, ctx.accessKeyId, ctx.account);
  return {
    authorizationData: {
      authorizationToken: Buffer.from(`AWS:${password}`, 'utf8').toString('base64'),
      expiresAt: toEpochSeconds(expiresAt),
    },
  };
}

/** The ECR Public operations served, keyed by the name after `SpencerFrontendService.`. */
export const publicOperations: Readonly<Record<string, PublicOperation>> = {
  CreateRepository: createRepository,
  DescribeRepositories: describeRepositories,
  DeleteRepository: deleteRepository,
  DescribeRegistries: describeRegistries,
  GetRegistryCatalogData: getRegistryCatalogData,
  PutRegistryCatalogData: putRegistryCatalogData,
  GetRepositoryCatalogData: getRepositoryCatalogData,
  PutRepositoryCatalogData: putRepositoryCatalogData,
  GetRepositoryPolicy: getRepositoryPolicy,
  SetRepositoryPolicy: setRepositoryPolicy,
  DeleteRepositoryPolicy: deleteRepositoryPolicy,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
  GetAuthorizationToken: getAuthorizationToken,
  ...publicImageOperations,
};

/**
 * How a data directory's journal keeps each ECR Public operation (as `ecrOperationJournalling` for ECR): a `change`
 * that succeeds is journalled as a `pub` record (input, account, access key, registry time) and replayed by name; a
 * `read` is not journalled (GetAuthorizationToken included: its tokens are signed with the data directory's key).
 */
export const publicOperationJournalling: Readonly<Record<string, 'change' | 'read'>> = {
  CreateRepository: 'change',
  DescribeRepositories: 'read',
  DeleteRepository: 'change',
  DescribeRegistries: 'read',
  GetRegistryCatalogData: 'read',
  PutRegistryCatalogData: 'change',
  GetRepositoryCatalogData: 'read',
  PutRepositoryCatalogData: 'change',
  GetRepositoryPolicy: 'read',
  SetRepositoryPolicy: 'change',
  DeleteRepositoryPolicy: 'change',
  TagResource: 'change',
  UntagResource: 'change',
  ListTagsForResource: 'read',
  GetAuthorizationToken: 'read',
  DescribeImages: 'read',
  DescribeImageTags: 'read',
  BatchDeleteImage: 'change',
  BatchCheckLayerAvailability: 'read',
  PutImage: 'change',
  // An upload's bytes are not in a journal: its parts change nothing a restart keeps (an upload in progress is lost,
  // as a client retries it), and its completion journals the blob link it makes (`LinkPublicBlob`).
  InitiateLayerUpload: 'read',
  UploadLayerPart: 'read',
  CompleteLayerUpload: 'read',
};

/**
 * Changes no ECR Public operation replays by name (see `PublicOpContext.journal`): a layer upload completed, a
 * manifest pushed over `/v2/`. Never served to a client.
 */
export const publicReplays: Record<string, PublicOperation> = { LinkPublicBlob: replayLinkPublicBlob };

/** The handler a `pub` journal record is replayed with: an operation, else one of `publicReplays`. */
export function publicHandler(op: string): PublicOperation | undefined {
  if (Object.hasOwn(publicOperations, op)) return publicOperations[op];
  return Object.hasOwn(publicReplays, op) ? publicReplays[op] : undefined;
}
