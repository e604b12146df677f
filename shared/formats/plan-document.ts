import type { ImageRecord } from '../domain/image.ts';
import type { CleanupPlan, CleanupRule, Decision } from '../policy/cleanup/plan.ts';
import type { ComplianceCheck } from '../policy/compliance/check.ts';
import { type CompliancePlan, tallyChecks } from '../policy/compliance/plan.ts';
import type { ChangeAction, PlannedChange, RegistryPlan, ResourceType } from '../policy/reconcile/plan.ts';

/**
 * The plan document that `plan --json` prints (cleanup and registry reconcile), modelled on `terraform show -json`:
 * `format_version`, the tool and its version, one `resource_changes` entry per decision with Terraform's
 * `change.actions`, `before` and `after`, the reason of each decision, and a summary. Its JSON Schema is
 * `schemas/plan.schema.json`; `docs/machine-formats.md` describes it. Pure: no AWS, no clock, no I/O.
 *
 * `format_version` is `major.minor`: a minor bump only adds optional fields; a major bump may break readers.
 */
export const PLAN_FORMAT_VERSION = '1.0';

/** Terraform's action lists: `["delete", "create"]` is a replacement. */
export type ResourceActions = ['no-op'] | ['create'] | ['update'] | ['delete'] | ['delete', 'create'];

export interface ResourceChange {
  /** Unique in the document: `<type>.<name>["<index>"]`, as Terraform addresses a resource of a `for_each`. */
  address: string;
  type: string;
  name: string;
  /** The resource's key: `<repository>@<digest>` for an image, the rule's key for a registry setting. */
  index: string;
  /** The repository an image or a checked setting belongs to (cleanup and compliance). */
  repository?: string;
  change: { actions: ResourceActions; before: Record<string, unknown> | null; after: Record<string, unknown> | null };
  /** The reason's code (Terraform's field for why an action was chosen). */
  action_reason: string;
  /** What kind of reason: `rule`, `index`, `referrer`, `in-use`, `safety-brake`, `archive`, `drift`, ... */
  reason_category: string;
  /** The planner's reason, whole: its `code` and the details (tags, the protecting index's digest, who runs it). */
  reason: { code: string } & Record<string, unknown>;
  /** The index of the config rule the decision was taken under (cleanup and compliance). */
  rule_index?: number;
  /** The storage cost of a deletion or an archiving, in words (cleanup only, when the planner explains it). */
  cost?: string;
}

export interface CleanupCounts {
  images: number;
  delete: number;
  archive: number;
  keep: number;
  bytes_reclaimed: number;
}

export interface PlanDocument {
  format_version: typeof PLAN_FORMAT_VERSION;
  tool: { name: string; version: string };
  plan_type: 'cleanup' | 'registry-reconcile' | 'compliance';
  /** When the plan was made (ISO 8601). */
  timestamp?: string;
  target: { registry: 'private' | 'public'; region: string; endpoint?: string };
  resource_changes: ResourceChange[];
  summary: CleanupSummary | ReconcileSummary | ComplianceSummary;
  /** Things the plan says beside its changes (repositories left out, ECR limits the result would break). */
  notes: string[];
}

export interface SafetyBrake {
  held: boolean;
  /** `untagged` (maxDeleteFraction) or `tagged` (maxTaggedDeleteFraction): the brake that held. */
  kind?: 'untagged' | 'tagged';
  would_delete?: number;
  total?: number;
  max_fraction?: number;
  message?: string;
}

export interface CleanupSummary {
  actions: Record<'delete' | 'update' | 'no-op', number>;
  totals: CleanupCounts;
  repositories: (CleanupCounts & { repository: string; rule_index: number; safety_brake: SafetyBrake })[];
  rules: (CleanupCounts & { rule_index: number; repositories: number })[];
  /** The repositories whose brake held (nothing of theirs is deleted). */
  safety_brake: { held: boolean; repositories: string[] };
}

export interface ReconcileSummary {
  actions: Record<'create' | 'update' | 'delete' | 'replace', number>;
  /** Limits of ECR the registry after this plan would break: nothing may be applied. */
  problems: string[];
  /** Resources the registry has that the config neither mentions nor prunes: left alone. */
  unmanaged: { type: string; index: string }[];
}

export interface ComplianceSummary {
  actions: Record<'update' | 'no-op', number>;
  counts: { repositories: number; checked: number; compliant: number; drifting: number };
  /** Per check: repositories whose rule checks it, compliant and drifting ones, drifting ones enforce mode fixes. */
  checks: { check: ComplianceCheck; checked: number; compliant: number; drifting: number; fixable: number }[];
  repositories: { repository: string; rule_index: number; mode: 'report' | 'enforce'; drifting: ComplianceCheck[] }[];
}

/** What `cleanup plan` decided, as its plan file holds it (`cli/commands/plan-file.ts`'s `PlanFile` is one). */
export interface CleanupPlanInput {
  createdAt: string;
  registry?: 'public';
  endpoint?: string;
  region: string;
  repositories: readonly {
    repositoryName: string;
    ruleIndex: number;
    rule: CleanupRule;
    images: readonly ImageRecord[];
    plan: CleanupPlan;
  }[];
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** An image as `before`/`after` show it: snake_case, times in ISO 8601, absent fields left out. */
function imageValues(image: ImageRecord | undefined, decision: Decision): Record<string, unknown> {
  const values: Record<string, unknown> = {
    digest: decision.digest,
    tags: [...decision.tags],
    size_in_bytes: decision.sizeInBytes,
    storage_class: image?.imageStatus === undefined ? 'STANDARD' : 'ARCHIVE',
  };
  if (image === undefined) return values;
  const optional: Record<string, unknown> = {
    image_status: image.imageStatus,
    pushed_at: iso(image.pushedAt),
    last_pulled_at: iso(image.lastPulledAt),
    last_archived_at: iso(image.lastArchivedAt),
    manifest_media_type: image.manifestMediaType,
    artifact_media_type: image.artifactMediaType,
    subject_digest: image.subjectDigest,
    child_digests: image.childDigests && image.childDigests.length > 0 ? [...image.childDigests] : undefined,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) values[key] = value;
  return values;
}

/** The kind of reason a decision has: what a reader filters on ("kept because of an index, a signature, ..."). */
const CLEANUP_REASON_CATEGORY: Record<Decision['reason']['code'], string> = {
  tagged: 'rule',
  'quiet-period': 'rule',
  'recently-pushed': 'rule',
  'recently-pulled': 'rule',
  'keep-latest-untagged': 'rule',
  retained: 'rule',
  'stale-untagged': 'rule',
  released: 'rule',
  'child-of-kept-index': 'index',
  'may-be-child-of-archived-index': 'index',
  'child-of-deleted-index': 'index',
  'referrer-of-kept-image': 'referrer',
  'referrer-of-deleted-image': 'referrer',
  'orphaned-referrer': 'referrer',
  'in-use': 'in-use',
  'in-use-unknown': 'in-use',
  'safety-brake': 'safety-brake',
  'tagged-safety-brake': 'safety-brake',
  archived: 'archive',
  'archive-expired': 'archive',
};

const addressOf = (type: string, name: string, index: string) => `${type}.${name}[${JSON.stringify(index)}]`;

function imageChange(
  repositoryName: string,
  ruleIndex: number,
  decision: Decision,
  image: ImageRecord | undefined,
): ResourceChange {
  const before = imageValues(image, decision);
  const index = `${repositoryName}@${decision.digest}`;
  const change: ResourceChange['change'] =
    decision.action === 'delete'
      ? { actions: ['delete'], before, after: null }
      : decision.action === 'archive'
        ? { actions: ['update'], before, after: { ...before, storage_class: 'ARCHIVE', image_status: 'ARCHIVED' } }
        : { actions: ['no-op'], before, after: before };
  return {
    address: addressOf('aws_ecr_image', 'image', index),
    type: 'aws_ecr_image',
    name: 'image',
    index,
    repository: repositoryName,
    change,
    action_reason: decision.reason.code,
    reason_category: CLEANUP_REASON_CATEGORY[decision.reason.code],
    reason: { ...decision.reason },
    rule_index: ruleIndex,
    ...(decision.action !== 'keep' && decision.cost !== undefined ? { cost: decision.cost } : {}),
  };
}

const countsOf = (plan: CleanupPlan): CleanupCounts => {
  const archive = plan.toArchive?.length ?? 0;
  return {
    images: plan.decisions.length,
    delete: plan.toDelete.length,
    archive,
    keep: plan.decisions.length - plan.toDelete.length - archive,
    bytes_reclaimed: plan.bytesReclaimed,
  };
};

const addCounts = (a: CleanupCounts, b: CleanupCounts): CleanupCounts => ({
  images: a.images + b.images,
  delete: a.delete + b.delete,
  archive: a.archive + b.archive,
  keep: a.keep + b.keep,
  bytes_reclaimed: a.bytes_reclaimed + b.bytes_reclaimed,
});

const NO_COUNTS: CleanupCounts = { images: 0, delete: 0, archive: 0, keep: 0, bytes_reclaimed: 0 };

function brakeOf(plan: CleanupPlan): SafetyBrake {
  if (plan.brake === undefined) return { held: false };
  return {
    held: true,
    kind: plan.brake.tagged ? 'tagged' : 'untagged',
    would_delete: plan.brake.wouldDelete,
    total: plan.brake.total,
    max_fraction: plan.brake.maxDeleteFraction,
    message: plan.brake.message,
  };
}

/**
 * The cleanup plan as a plan document: one `aws_ecr_image` change per image of every planned repository (in the
 * plan's order: deletions as they will be sent, then archivings, then the kept images), and the summary per
 * repository and per rule.
 */
export function cleanupPlanDocument(
  input: CleanupPlanInput,
  tool: { name: string; version: string },
  notes: readonly string[] = [],
): PlanDocument {
  const resourceChanges: ResourceChange[] = [];
  const repositories: CleanupSummary['repositories'] = [];
  const rules = new Map<number, CleanupCounts & { rule_index: number; repositories: number }>();
  for (const entry of input.repositories) {
    const images = new Map(entry.images.map((image) => [image.digest, image]));
    const decisions = new Map(entry.plan.decisions.map((decision) => [decision.digest, decision]));
    const ordered = [
      ...entry.plan.toDelete.flatMap((digest) => decisions.get(digest) ?? []),
      ...(entry.plan.toArchive ?? []).flatMap((digest) => decisions.get(digest) ?? []),
      ...entry.plan.decisions.filter((decision) => decision.action === 'keep'),
    ];
    for (const decision of ordered) {
      resourceChanges.push(imageChange(entry.repositoryName, entry.ruleIndex, decision, images.get(decision.digest)));
    }
    const counts = countsOf(entry.plan);
    repositories.push({
      repository: entry.repositoryName,
      rule_index: entry.ruleIndex,
      ...counts,
      safety_brake: brakeOf(entry.plan),
    });
    const rule = rules.get(entry.ruleIndex) ?? { rule_index: entry.ruleIndex, repositories: 0, ...NO_COUNTS };
    rules.set(entry.ruleIndex, { ...rule, ...addCounts(rule, counts), repositories: rule.repositories + 1 });
  }
  const count = (action: string) => resourceChanges.filter((change) => change.change.actions[0] === action).length;
  const held = repositories.filter((entry) => entry.safety_brake.held).map((entry) => entry.repository);
  return {
    format_version: PLAN_FORMAT_VERSION,
    tool: { name: tool.name, version: tool.version },
    plan_type: 'cleanup',
    timestamp: input.createdAt,
    target: {
      registry: input.registry === 'public' ? 'public' : 'private',
      region: input.region,
      ...(input.endpoint === undefined ? {} : { endpoint: input.endpoint }),
    },
    resource_changes: resourceChanges,
    summary: {
      actions: { delete: count('delete'), update: count('update'), 'no-op': count('no-op') },
      totals: repositories.reduce<CleanupCounts>((sum, entry) => addCounts(sum, entry), NO_COUNTS),
      repositories,
      rules: [...rules.values()].sort((a, b) => a.rule_index - b.rule_index),
      safety_brake: { held: held.length > 0, repositories: held },
    },
    notes: [...notes],
  };
}

/** The Terraform AWS provider's resource type of each registry setting the reconcile manages. */
const RECONCILE_TYPES: Record<ResourceType, string> = {
  'replication-rule': 'aws_ecr_replication_configuration',
  'pull-through-cache-rule': 'aws_ecr_pull_through_cache_rule',
  'creation-template': 'aws_ecr_repository_creation_template',
  'registry-scanning': 'aws_ecr_registry_scanning_configuration',
  'registry-policy-statement': 'aws_ecr_registry_policy',
};

const RECONCILE_ACTIONS: Record<ChangeAction, ResourceActions> = {
  create: ['create'],
  update: ['update'],
  replace: ['delete', 'create'],
  delete: ['delete'],
};

/** Why the reconcile changes a resource: missing from the registry, different from the config, or pruned. */
const RECONCILE_REASON: Record<ChangeAction, string> = {
  create: 'declared-not-present',
  update: 'fields-differ',
  replace: 'fields-differ-not-updatable',
  delete: 'present-not-declared-pruned',
};

const nameOf = (resource: ResourceType) => resource.replaceAll('-', '_');

function fieldValues(change: PlannedChange, side: 'before' | 'after'): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of change.fields) if (field[side] !== undefined) values[field.field] = field[side];
  return values;
}

/**
 * The registry reconcile plan as a plan document: one change per resource the plan creates, updates, replaces or
 * deletes, with the fields that differ in `before` (the registry) and `after` (the config).
 */
export function reconcilePlanDocument(
  plan: RegistryPlan,
  context: { region: string; endpoint?: string; timestamp?: string },
  tool: { name: string; version: string },
): PlanDocument {
  const resourceChanges = plan.changes.map((change): ResourceChange => {
    const type = RECONCILE_TYPES[change.resource];
    const name = nameOf(change.resource);
    return {
      address: addressOf(type, name, change.key),
      type,
      name,
      index: change.key,
      change: {
        actions: RECONCILE_ACTIONS[change.action],
        before: change.action === 'create' ? null : fieldValues(change, 'before'),
        after: change.action === 'delete' ? null : fieldValues(change, 'after'),
      },
      action_reason: RECONCILE_REASON[change.action],
      reason_category: 'drift',
      reason: {
        code: RECONCILE_REASON[change.action],
        fields: change.fields.map((field) => field.field),
      },
    };
  });
  const count = (action: ChangeAction) => plan.changes.filter((change) => change.action === action).length;
  return {
    format_version: PLAN_FORMAT_VERSION,
    tool: { name: tool.name, version: tool.version },
    plan_type: 'registry-reconcile',
    ...(context.timestamp === undefined ? {} : { timestamp: context.timestamp }),
    target: {
      registry: 'private',
      region: context.region,
      ...(context.endpoint === undefined ? {} : { endpoint: context.endpoint }),
    },
    resource_changes: resourceChanges,
    summary: {
      actions: { create: count('create'), update: count('update'), delete: count('delete'), replace: count('replace') },
      problems: [...plan.problems],
      unmanaged: plan.unmanaged.map((entry) => ({ type: RECONCILE_TYPES[entry.resource], index: entry.key })),
    },
    notes: [...plan.problems.map((problem) => `invalid: ${problem}`)],
  };
}

/** The Terraform AWS provider's resource holding each setting compliance checks. */
const COMPLIANCE_TYPES: Record<ComplianceCheck, string> = {
  'tag-mutability': 'aws_ecr_repository',
  'scan-on-push': 'aws_ecr_repository',
  encryption: 'aws_ecr_repository',
  'required-tags': 'aws_ecr_repository',
  'lifecycle-policy': 'aws_ecr_lifecycle_policy',
  'repository-policy': 'aws_ecr_repository_policy',
};

/**
 * The compliance plan as a plan document: one `["update"]` change per setting that drifts (before: the repository's
 * values; after: what enforce mode's fix sets, or the same values when the drift is not fixable, which
 * `reason.fixable` says), and one `["no-op"]` change per compliant repository (its checked settings before and
 * after); a summary per check and per repository.
 */
export function compliancePlanDocument(plan: CompliancePlan, tool: { name: string; version: string }): PlanDocument {
  const resourceChanges: ResourceChange[] = [];
  for (const repository of plan.repositories) {
    if (repository.compliant) {
      const values = Object.fromEntries(repository.settings.map((setting) => [setting.check, setting.before]));
      resourceChanges.push({
        address: addressOf('aws_ecr_repository', 'compliance', repository.repository),
        type: 'aws_ecr_repository',
        name: 'compliance',
        index: repository.repository,
        repository: repository.repository,
        change: { actions: ['no-op'], before: values, after: values },
        action_reason: 'compliant',
        reason_category: 'drift',
        reason: { code: 'compliant', checks: repository.settings.map((setting) => setting.check) },
        rule_index: repository.ruleIndex,
      });
      continue;
    }
    for (const setting of repository.settings) {
      if (setting.status !== 'drift') continue;
      const type = COMPLIANCE_TYPES[setting.check];
      const name = setting.check.replaceAll('-', '_');
      resourceChanges.push({
        address: addressOf(type, name, repository.repository),
        type,
        name,
        index: repository.repository,
        repository: repository.repository,
        change: { actions: ['update'], before: setting.before, after: setting.after },
        action_reason: setting.reasons[0] ?? 'drift',
        reason_category: 'drift',
        reason: {
          code: setting.reasons[0] ?? 'drift',
          reasons: [...setting.reasons],
          details: [...setting.details],
          actual: setting.actual,
          wanted: setting.wanted,
          fixable: setting.fix !== undefined,
          ...(setting.fix === undefined ? {} : { fix: setting.fix }),
          mode: repository.mode,
        },
        rule_index: repository.ruleIndex,
      });
    }
  }
  const drifting = plan.repositories.filter((repository) => !repository.compliant).length;
  const count = (action: string) => resourceChanges.filter((change) => change.change.actions[0] === action).length;
  return {
    format_version: PLAN_FORMAT_VERSION,
    tool: { name: tool.name, version: tool.version },
    plan_type: 'compliance',
    timestamp: plan.createdAt,
    target: {
      registry: 'private',
      region: plan.region,
      ...(plan.endpoint === undefined ? {} : { endpoint: plan.endpoint }),
    },
    resource_changes: resourceChanges,
    summary: {
      actions: { update: count('update'), 'no-op': count('no-op') },
      counts: {
        repositories: plan.listed,
        checked: plan.repositories.length,
        compliant: plan.repositories.length - drifting,
        drifting,
      },
      checks: tallyChecks(plan),
      repositories: plan.repositories.map((repository) => ({
        repository: repository.repository,
        rule_index: repository.ruleIndex,
        mode: repository.mode,
        drifting: repository.settings.filter((setting) => setting.status === 'drift').map((setting) => setting.check),
      })),
    },
    notes: plan.withoutRule.map((name) => `${name}: matched by --repository but by no enabled compliance rule`),
  };
}
