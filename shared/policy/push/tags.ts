import { isConventionTag } from '../../domain/image.ts';
import { compileGlob, type NameMatcher } from '../glob.ts';
import { compileRegex } from '../regex.ts';
import type { ImageKind } from './classify.ts';
import type { EnforcementMode, TagPattern, TagRules } from './policy.ts';

/**
 * Semantic Versioning 2.0.0 (semver.org's recommended expression), with an optional leading `v` as release tooling
 * often writes it, and without build metadata (`+...`): `+` is not allowed in a tag, so it can never occur.
 */
export const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$/;

/** A tag pattern compiled: the semver form, a glob, or a regex (RE2 syntax, whole tag), all linear in the tag. */
export function matcherOf(pattern: TagPattern): NameMatcher {
  if (typeof pattern === 'string') return compileGlob(pattern);
  return 'form' in pattern ? SEMVER : compileRegex(pattern.regex);
}

/** Whether a tag matches a pattern (a glob, an anchored regex, or the semver form). */
export const tagMatches = (pattern: TagPattern, tag: string): boolean => matcherOf(pattern).test(tag);

/** Readable form of a pattern for reasons and logs: `latest`, `/^v\d+$/`, `semver`. */
export const describePattern = (pattern: TagPattern): string =>
  typeof pattern === 'string' ? pattern : 'form' in pattern ? pattern.form : `/${pattern.regex}/`;

export type TagViolation =
  | { readonly code: 'forbidden'; readonly tag: string; readonly pattern: string }
  | { readonly code: 'not-allowed'; readonly tag: string; readonly allowed: readonly string[] }
  | { readonly code: 'missing-required-tag'; readonly required: string }
  /** `tag` is the pushed tag, the one that went over the limit (absent when the push was untagged). */
  | { readonly code: 'too-many-tags'; readonly count: number; readonly max: number; readonly tag?: string };

/**
 * What enforcement does about a violation:
 * - `remove`: remove the tag (BatchDeleteImage by tag): the image keeps its other tags and its digest;
 * - `undo`: remove the tag although no other tag is left, so the image goes (the policy's `undoPush`);
 * - `left-in-place`: enforce mode, but removing the offending tags would delete the image;
 * - `report`: report mode, or a violation no removal can fix (a missing required tag).
 */
export type TagResolution = 'remove' | 'undo' | 'left-in-place' | 'report';

export type TagsReason =
  | { readonly code: 'untagged-push'; readonly kind: ImageKind }
  | { readonly code: 'referrer' }
  | { readonly code: 'no-violations' }
  | { readonly code: 'violations'; readonly count: number };

export interface TagJudgement {
  readonly reason: TagsReason;
  /** Tags the policy does not judge (convention tags naming another image). */
  readonly exempt: readonly string[];
  readonly violations: readonly { readonly violation: TagViolation; readonly resolution: TagResolution }[];
  /** Tags to remove (BatchDeleteImage by tag), all currently on the image; empty in report mode. */
  readonly toRemove: readonly string[];
  /** True when removing `toRemove` deletes the image (every tag offended and the policy says undo). */
  readonly undo: boolean;
}

/**
 * Judges the tags of a pushed image. `tags` are the tags judged (the image's tags and the pushed tag, see
 * `judgePush`); `currentTags` the ones on the image now: only those can be removed. A tag already gone counts as
 * removed, so a re-delivered event reaches the same judgement. Removal never takes an image's last tag unless the
 * policy says to undo such a push.
 */
export function judgeTags(input: {
  kind: ImageKind;
  tags: readonly string[];
  currentTags: readonly string[];
  pushedTag: string | undefined;
  rules: TagRules;
  mode: EnforcementMode;
  undoPush: boolean;
}): TagJudgement {
  const { rules } = input;
  const exempt = input.tags.filter(isConventionTag);
  const judged = input.tags.filter((tag) => !isConventionTag(tag));
  const nothing = (reason: TagsReason): TagJudgement => ({ reason, exempt, violations: [], toRemove: [], undo: false });
  if (input.kind === 'referrer') return nothing({ code: 'referrer' });
  if (judged.length === 0) return nothing({ code: 'untagged-push', kind: input.kind });

  const violations: TagViolation[] = [];
  const offending = new Set<string>();
  for (const tag of judged) {
    const forbidden = rules.forbidden.find((pattern) => tagMatches(pattern, tag));
    if (forbidden !== undefined) {
      violations.push({ code: 'forbidden', tag, pattern: describePattern(forbidden) });
      offending.add(tag);
    } else if (rules.allowed && !rules.allowed.some((pattern) => tagMatches(pattern, tag))) {
      violations.push({ code: 'not-allowed', tag, allowed: rules.allowed.map(describePattern) });
      offending.add(tag);
    }
  }
  if (rules.required !== undefined && !judged.some((tag) => tagMatches(rules.required as TagPattern, tag))) {
    violations.push({ code: 'missing-required-tag', required: describePattern(rules.required) });
  }
  if (rules.maxTagsPerImage !== undefined && judged.length > rules.maxTagsPerImage) {
    const pushed = input.pushedTag !== undefined && judged.includes(input.pushedTag) ? input.pushedTag : undefined;
    violations.push({
      code: 'too-many-tags',
      count: judged.length,
      max: rules.maxTagsPerImage,
      ...(pushed === undefined ? {} : { tag: pushed }),
    });
    if (pushed !== undefined) offending.add(pushed);
  }
  if (violations.length === 0) return nothing({ code: 'no-violations' });

  const current = new Set(input.currentTags);
  const removable = [...offending].filter((tag) => current.has(tag));
  const keepsATag = input.currentTags.some((tag) => !offending.has(tag));
  let resolution: TagResolution;
  if (input.mode === 'report') resolution = 'report';
  else if (keepsATag || removable.length === 0) resolution = 'remove';
  else resolution = input.undoPush ? 'undo' : 'left-in-place';
  const toRemove = resolution === 'remove' || resolution === 'undo' ? removable : [];
  const resolutionOf = (violation: TagViolation): TagResolution =>
    // Stryker disable next-line ConditionalExpression: every other kind of violation names its tag, so an undefined tag alone already means a too-many-tags violation of a push by digest.
    violation.code === 'missing-required-tag' || (violation.code === 'too-many-tags' && violation.tag === undefined)
      ? 'report'
      : resolution;
  return {
    reason: { code: 'violations', count: violations.length },
    exempt,
    violations: violations.map((violation) => ({ violation, resolution: resolutionOf(violation) })),
    toRemove: [...toRemove].sort(),
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the resolution is undo only when some offending tag is still on the image (removable is not empty), so toRemove is never empty then.
    undo: resolution === 'undo' && toRemove.length > 0,
  };
}
