/**
 * The lifecycle policy document ECR accepts (PutLifecyclePolicy, StartLifecyclePolicyPreview), checked the way the
 * user guide describes it (docs/ecr-limits.md#lifecycle-policies, [UG-LCP]). Pure: no state, no clock.
 */

export type LifecycleTagStatus = 'tagged' | 'untagged' | 'any';
export type LifecycleCountType =
  | 'imageCountMoreThan'
  | 'sinceImagePushed'
  | 'sinceImagePulled'
  | 'sinceImageTransitioned';
export type LifecycleStorageClass = 'standard' | 'archive';
export type LifecycleActionType = 'expire' | 'transition';

export interface LifecycleSelection {
  tagStatus: LifecycleTagStatus;
  tagPatternList?: string[];
  tagPrefixList?: string[];
  countType: LifecycleCountType;
  countUnit?: 'days';
  countNumber: number;
  /** Defaults to `standard` when the document omits it. */
  storageClass: LifecycleStorageClass;
}

export interface LifecycleRule {
  rulePriority: number;
  description?: string;
  selection: LifecycleSelection;
  action: { type: LifecycleActionType; targetStorageClass?: 'archive' };
}

export interface LifecyclePolicy {
  rules: LifecycleRule[];
}

export type LifecyclePolicyCheck = { valid: true; policy: LifecyclePolicy } | { valid: false; reason: string };

/** Rules per lifecycle policy ([UG-QUOTA], not adjustable). */
export const MAX_LIFECYCLE_RULES = 50;
/** Wildcards per `tagPatternList` entry ([UG-LCP]). */
export const MAX_WILDCARDS_PER_TAG_PATTERN = 4;
/** ECR's service is written in Java: integers above 2^31-1 do not fit its `int` fields (UNCONFIRMED bound). */
const MAX_JAVA_INT = 2_147_483_647;

const TAG_STATUSES: readonly LifecycleTagStatus[] = ['tagged', 'untagged', 'any'];
const COUNT_TYPES: readonly LifecycleCountType[] = [
  'imageCountMoreThan',
  'sinceImagePushed',
  'sinceImagePulled',
  'sinceImageTransitioned',
];
const STORAGE_CLASSES: readonly LifecycleStorageClass[] = ['standard', 'archive'];
const ACTION_TYPES: readonly LifecycleActionType[] = ['expire', 'transition'];

const POLICY_KEYS = ['rules'];
const RULE_KEYS = ['rulePriority', 'description', 'selection', 'action'];
const SELECTION_KEYS = [
  'tagStatus',
  'tagPatternList',
  'tagPrefixList',
  'countType',
  'countUnit',
  'countNumber',
  'storageClass',
];
const ACTION_KEYS = ['type', 'targetStorageClass'];

/** A reason the document is invalid; caught by `checkLifecyclePolicy`, never thrown out of this module. */
class PolicyProblem extends Error {}

const fail = (reason: string): never => {
  throw new PolicyProblem(reason);
};

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function objectAt(value: unknown, path: string, allowed: readonly string[]): JsonObject {
  if (!isObject(value)) return fail(`${path} must be a JSON object`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${path} has an unknown property '${key}'`);
  }
  return value;
}

function has(object: JsonObject, key: string): boolean {
  return object[key] !== undefined;
}

function positiveInteger(object: JsonObject, key: string, path: string): number {
  const value = object[key];
  if (value === undefined) return fail(`${path} is missing the required property '${key}'`);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_JAVA_INT) {
    return fail(`${path}.${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function oneOf<T extends string>(object: JsonObject, key: string, path: string, values: readonly T[]): T {
  const value = object[key];
  if (value === undefined) return fail(`${path} is missing the required property '${key}'`);
  if (typeof value !== 'string' || !values.includes(value as T)) {
    return fail(`${path}.${key} must be one of [${values.join(', ')}], got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function tagList(object: JsonObject, key: string, path: string): string[] {
  const value = object[key];
  if (!Array.isArray(value) || value.length === 0) return fail(`${path}.${key} must be a non-empty list of strings`);
  return value.map((entry, index) => {
    if (typeof entry !== 'string' || entry === '') fail(`${path}.${key}[${index}] must be a non-empty string`);
    return entry as string;
  });
}

function readTagSelection(selection: JsonObject, path: string, tagStatus: LifecycleTagStatus) {
  const withPatterns = has(selection, 'tagPatternList');
  const withPrefixes = has(selection, 'tagPrefixList');
  if (tagStatus !== 'tagged') {
    // The guide states this for `untagged`; `any` selects every image, so a tag list cannot apply to it either.
    if (withPatterns || withPrefixes)
      fail(`${path}: tagPatternList and tagPrefixList are only allowed with tagStatus 'tagged'`);
    return {};
  }
  if (withPatterns === withPrefixes) {
    fail(`${path}: tagStatus 'tagged' requires exactly one of tagPatternList and tagPrefixList`);
  }
  if (withPrefixes) return { tagPrefixList: tagList(selection, 'tagPrefixList', path) };
  const tagPatternList = tagList(selection, 'tagPatternList', path);
  tagPatternList.forEach((pattern, index) => {
    const wildcards = pattern.split('*').length - 1;
    if (wildcards > MAX_WILDCARDS_PER_TAG_PATTERN) {
      fail(
        `${path}.tagPatternList[${index}] has ${wildcards} wildcards; at most ${MAX_WILDCARDS_PER_TAG_PATTERN} are allowed`,
      );
    }
  });
  return { tagPatternList };
}

function readCount(selection: JsonObject, path: string) {
  const countType = oneOf(selection, 'countType', path, COUNT_TYPES);
  const countNumber = positiveInteger(selection, 'countNumber', path);
  if (countType === 'imageCountMoreThan') {
    if (has(selection, 'countUnit')) fail(`${path}.countUnit is not allowed with countType 'imageCountMoreThan'`);
    return { countType, countNumber };
  }
  const countUnit = oneOf(selection, 'countUnit', path, ['days'] as const);
  return { countType, countUnit, countNumber };
}

function readSelection(value: unknown, path: string): LifecycleSelection {
  const selection = objectAt(value, path, SELECTION_KEYS);
  const tagStatus = oneOf(selection, 'tagStatus', path, TAG_STATUSES);
  const tags = readTagSelection(selection, path, tagStatus);
  const count = readCount(selection, path);
  const storageClass = has(selection, 'storageClass')
    ? oneOf(selection, 'storageClass', path, STORAGE_CLASSES)
    : 'standard';
  if (count.countType === 'sinceImageTransitioned' && storageClass !== 'archive') {
    fail(`${path}: countType 'sinceImageTransitioned' requires storageClass 'archive'`);
  }
  if (storageClass === 'archive' && count.countType !== 'sinceImageTransitioned') {
    fail(`${path}: storageClass 'archive' is only allowed with countType 'sinceImageTransitioned'`);
  }
  return { tagStatus, ...tags, ...count, storageClass };
}

function readAction(value: unknown, path: string, selection: LifecycleSelection): LifecycleRule['action'] {
  const action = objectAt(value, path, ACTION_KEYS);
  const type = oneOf(action, 'type', path, ACTION_TYPES);
  if (type === 'expire') {
    if (has(action, 'targetStorageClass')) fail(`${path}.targetStorageClass is only allowed with type 'transition'`);
    // [UG-LCP] says images selected by sinceImagePulled "are archived"; expiring on pull time is not offered.
    if (selection.countType === 'sinceImagePulled')
      fail(`${path}: countType 'sinceImagePulled' requires type 'transition'`);
    return { type };
  }
  const targetStorageClass = oneOf(action, 'targetStorageClass', path, ['archive'] as const);
  if (selection.storageClass === 'archive') fail(`${path}: images in storageClass 'archive' can only be expired`);
  return { type, targetStorageClass };
}

function readRule(value: unknown, path: string): LifecycleRule {
  const rule = objectAt(value, path, RULE_KEYS);
  const rulePriority = positiveInteger(rule, 'rulePriority', path);
  const description = rule.description;
  if (description !== undefined && typeof description !== 'string') fail(`${path}.description must be a string`);
  if (!has(rule, 'selection')) fail(`${path} is missing the required property 'selection'`);
  if (!has(rule, 'action')) fail(`${path} is missing the required property 'action'`);
  const selection = readSelection(rule.selection, `${path}.selection`);
  const action = readAction(rule.action, `${path}.action`, selection);
  return {
    rulePriority,
    ...(description === undefined ? {} : { description: description as string }),
    selection,
    action,
  };
}

/**
 * Cross-rule checks. "Highest priority" and "one untagged rule" are applied per storage class, since an archive
 * rule is evaluated over a different set of images (UNCONFIRMED: the guide states them without storage classes).
 */
function checkRuleSet(rules: LifecycleRule[]): void {
  const priorities = new Set<number>();
  for (const rule of rules) {
    if (priorities.has(rule.rulePriority)) fail(`rulePriority ${rule.rulePriority} is used by more than one rule`);
    priorities.add(rule.rulePriority);
  }
  for (const storageClass of STORAGE_CLASSES) {
    const inClass = rules.filter((rule) => rule.selection.storageClass === storageClass);
    const highest = Math.max(...inClass.map((rule) => rule.rulePriority));
    for (const rule of inClass) {
      if (rule.selection.tagStatus === 'any' && rule.rulePriority !== highest) {
        fail(`the rule with tagStatus 'any' (rulePriority ${rule.rulePriority}) must have the highest rulePriority`);
      }
    }
    if (inClass.filter((rule) => rule.selection.tagStatus === 'untagged').length > 1) {
      fail(`only one rule per storage class may select untagged images (storageClass '${storageClass}')`);
    }
  }
}

/** Parses and checks a lifecycle policy document. The reason of an invalid one is the text ECR puts in its message. */
export function checkLifecyclePolicy(text: string): LifecyclePolicyCheck {
  try {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      return fail('the policy is not valid JSON');
    }
    const policy = objectAt(document, 'the policy', POLICY_KEYS);
    const rules = policy.rules;
    if (!Array.isArray(rules) || rules.length === 0) return fail("'rules' must be a non-empty list");
    if (rules.length > MAX_LIFECYCLE_RULES) {
      return fail(`a policy can have at most ${MAX_LIFECYCLE_RULES} rules, got ${rules.length}`);
    }
    const parsed = rules.map((rule, index) => readRule(rule, `rules[${index}]`));
    checkRuleSet(parsed);
    return { valid: true, policy: { rules: parsed } };
  } catch (error) {
    if (error instanceof PolicyProblem)
      return { valid: false, reason: `Lifecycle policy validation failure: ${error.message}` };
    throw error;
  }
}
