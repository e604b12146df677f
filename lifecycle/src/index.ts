/** `@ecr-automation/lifecycle`: ECR lifecycle policies, checked and evaluated. Pure: no I/O, no clock. */

export {
  checkLifecyclePolicy,
  type LifecycleActionType,
  type LifecycleCountType,
  type LifecyclePolicy,
  type LifecyclePolicyCheck,
  type LifecycleRule,
  type LifecycleSelection,
  type LifecycleStorageClass,
  type LifecycleTagStatus,
  MAX_LIFECYCLE_RULES,
  MAX_WILDCARDS_PER_TAG_PATTERN,
} from './document.ts';
export {
  evaluateLifecyclePolicy,
  type LifecycleAction,
  type LifecycleEvaluation,
  type LifecycleImage,
  type LifecycleImageAction,
  type LifecycleKeepReason,
  type LifecycleKeptImage,
  type LifecyclePreviewSummary,
} from './evaluate.ts';
export { compileTagPattern, type TagPattern, tagMatchesPattern } from './tag-match.ts';
