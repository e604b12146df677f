import { newImage, parseManifest } from '../model/records.ts';
import type { RegistryState, RepositoryRecord, StoredImage, StoredReplicationRule } from '../model/state.ts';
import { ECR_REGIONS } from '../model/state.ts';
import { constraintMessage, invalidParameter, validationError } from '../wire/errors.ts';
import { Input, type ListRule, REGISTRY_ID, REPOSITORY_NAME, type StringRule } from '../wire/validate.ts';
import { requireRepository, stateFor } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import { createRepositoryFromTemplate } from './creation-templates.ts';
import { answerImageId, findImage, readImageId, repositoryState } from './image-ids.ts';

/** Replication ([M-ECR] PutReplicationConfiguration, DescribeRegistry, DescribeImageReplicationStatus). */

/** Replication quotas ([M-ECR] list bounds; [UG-QUOTA]: 25 unique destinations across all rules). */
export const MAX_REPLICATION_RULES = 10;
export const MAX_UNIQUE_REPLICATION_DESTINATIONS = 25;

const REPLICATION_RULES: ListRule = { min: 0, max: MAX_REPLICATION_RULES };
const REPLICATION_DESTINATIONS: ListRule = { min: 0, max: 100 };
const REPLICATION_FILTERS: ListRule = { min: 1, max: 100 };
const REGION: StringRule = { min: 2, max: 25, pattern: /^[0-9a-z-]{2,25}$/, patternText: '[0-9a-z-]{2,25}' };
const REPLICATION_FILTER_VALUE: StringRule = {
  min: 2,
  max: 256,
  pattern: /^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*\/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$/,
  patternText: '^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$',
};

const replicationShape = (rules: StoredReplicationRule[]) => ({
  rules: rules.map((rule) => ({
    destinations: rule.destinations.map((destination) => ({ ...destination })),
    ...(rule.repositoryFilters ? { repositoryFilters: rule.repositoryFilters.map((filter) => ({ ...filter })) } : {}),
  })),
});

function describeRegistry(raw: Record<string, unknown>, ctx: OpContext) {
  Input.parse(raw, validationError);
  return { registryId: ctx.state.account, replicationConfiguration: replicationShape(ctx.state.replication.rules) };
}

function readReplicationRule(rule: Input, ctx: OpContext): StoredReplicationRule {
  const destinations = rule
    .objList('destinations', { ...REPLICATION_DESTINATIONS, required: true })
    .map((destination) => {
      const region = destination.str('region', { ...REGION, required: true });
      const registryId = destination.str('registryId', { ...REGISTRY_ID, required: true });
      if (!ECR_REGIONS.has(region)) {
        throw destination.fail(constraintMessage(`${destination.path}.region`, `'${region}' is not an ECR region`));
      }
      if (region === ctx.region && registryId === ctx.account) {
        // The model names no error for this; InvalidParameterException is ECR's general "parameter is invalid".
        throw invalidParameter(
          constraintMessage(destination.path, 'A replication destination cannot be the source registry and region'),
        );
      }
      return { region, registryId };
    });
  const repositoryFilters = rule.objList('repositoryFilters', REPLICATION_FILTERS)?.map((filter) => ({
    filter: filter.str('filter', { ...REPLICATION_FILTER_VALUE, required: true }),
    filterType: filter.str('filterType', { required: true, enum: ['PREFIX_MATCH'] }) as 'PREFIX_MATCH',
  }));
  return { destinations, ...(repositoryFilters ? { repositoryFilters } : {}) };
}

/** Replaces the whole replication configuration ([M-ECR] op doc). */
function putReplicationConfiguration(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const configuration = input.obj('replicationConfiguration', { required: true });
  const rules = configuration
    .objList('rules', { ...REPLICATION_RULES, required: true })
    .map((rule) => readReplicationRule(rule, ctx));
  const unique = new Set(rules.flatMap((rule) => rule.destinations.map((d) => `${d.registryId}/${d.region}`)));
  if (unique.size > MAX_UNIQUE_REPLICATION_DESTINATIONS) {
    throw validationError(
      constraintMessage(
        'replicationConfiguration.rules',
        `The rules have ${unique.size} unique destinations; at most ${MAX_UNIQUE_REPLICATION_DESTINATIONS} are allowed across all rules`,
      ),
    );
  }
  ctx.state.replication = { rules };
  return { replicationConfiguration: replicationShape(rules) };
}

/** A rule without filters replicates every repository; filters match by name prefix. */
const ruleMatches = (rule: StoredReplicationRule, repositoryName: string) =>
  !rule.repositoryFilters || rule.repositoryFilters.some((filter) => repositoryName.startsWith(filter.filter));

function destinationsFor(state: RegistryState, repositoryName: string): { region: string; registryId: string }[] {
  const unique = new Map<string, { region: string; registryId: string }>();
  for (const rule of state.replication.rules) {
    if (!ruleMatches(rule, repositoryName)) continue;
    for (const destination of rule.destinations)
      unique.set(`${destination.registryId}/${destination.region}`, destination);
  }
  return [...unique.values()];
}

/** Copies an image (an index with its children first) into `target`, and points its tags at the copy. */
function copyImage(ctx: OpContext, source: RepositoryRecord, image: StoredImage, target: RegistryState): void {
  const replica =
    target.repositories.get(source.name) ?? createRepositoryFromTemplate(ctx, target, source.name, 'REPLICATION');
  for (const childDigest of image.childDigests) {
    const child = source.images.get(childDigest);
    if (child) copyImage(ctx, source, child, target);
  }
  let copy = replica.images.get(image.digest);
  if (!copy) {
    const parsed = parseManifest(image.manifest, image.manifestMediaType);
    // The layers travel with the image (content is shared on disk; a placeholder stays a placeholder).
    for (const blob of parsed.blobs) {
      const size = source.layers.get(blob.digest);
      if (size !== undefined) replica.layers.set(blob.digest, size);
    }
    copy = newImage(replica, image.manifest, parsed, ctx.now());
    replica.images.add(copy);
  }
  for (const tag of image.tags) replica.images.setTag(tag, copy.digest);
}

/**
 * Replicates an image to every destination of the replication rules that match its repository, and returns the
 * `replicationStatuses`. The local registry replicates at once, so every status is COMPLETE. Copying is idempotent:
 * PutImage may call this after each push, and DescribeImageReplicationStatus calls it too, so that an image pushed
 * before PutImage replicated (or before the rule existed) is in place when its status is read. Registry-policy
 * permissions for cross-account destinations and the "ECR Replication Action" event (which belongs to the
 * destination's account and region, out of reach of `ctx.emit`) are not emulated.
 */
export function replicateImage(
  ctx: OpContext,
  repository: RepositoryRecord,
  image: StoredImage,
): { region: string; registryId: string; status: 'COMPLETE' | 'FAILED'; failureCode?: string }[] {
  const source = repositoryState(ctx, repository);
  return destinationsFor(source, repository.name).map((destination) => {
    // The registry holds state for a bounded number of accounts: past it, the replica cannot be made.
    if (!ctx.registry.canHold(destination.registryId)) {
      return {
        region: destination.region,
        registryId: destination.registryId,
        status: 'FAILED' as const,
        failureCode: 'The local registry holds the most accounts it can',
      };
    }
    copyImage(ctx, repository, image, ctx.registry.state(destination.registryId, destination.region));
    return { region: destination.region, registryId: destination.registryId, status: 'COMPLETE' as const };
  });
}

function describeImageReplicationStatus(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const state = stateFor(ctx, input);
  const name = input.str('repositoryName', { ...REPOSITORY_NAME, required: true });
  const imageId = readImageId(input);
  const repository = requireRepository(state, name);
  const image = findImage(repository, imageId);
  return {
    repositoryName: name,
    imageId: answerImageId(image, imageId),
    replicationStatuses: replicateImage(ctx, repository, image),
  };
}

export const replicationOperations: OperationTable = {
  DescribeRegistry: describeRegistry,
  PutReplicationConfiguration: putReplicationConfiguration,
  DescribeImageReplicationStatus: describeImageReplicationStatus,
};
