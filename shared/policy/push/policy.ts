/**
 * The push policy of one repository: what the `on-image-push` handler checks and does when an image is pushed.
 * Pure types and defaults; the config file's zod schema (`shared/config/schema.ts`) produces values of these types.
 */

/**
 * A tag pattern: a glob (`*` any run of characters, `?` one character), `{ regex }` (a regular expression in RE2
 * syntax, matched in linear time, that must match the whole tag), or `{ form: 'semver' }` (Semantic Versioning 2.0.0,
 * with an optional leading `v`).
 */
export type TagPattern = string | { readonly regex: string } | { readonly form: 'semver' };

export interface TagRules {
  /** When set, every tag must match one of these. */
  readonly allowed?: readonly TagPattern[] | undefined;
  /** No tag may match any of these (for example `latest` in production repositories). */
  readonly forbidden: readonly TagPattern[];
  /** The image must carry at least one tag of this form (for example semver). */
  readonly required?: TagPattern | undefined;
  /** At most this many tags per image (the cosign and referrers convention tags are not counted). */
  readonly maxTagsPerImage?: number | undefined;
}

/** ECR's `ImageTagMutability` values. */
export type TagMutabilitySetting = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

export interface TagMutabilityPolicy {
  readonly setting: TagMutabilitySetting;
  /** `WILDCARD` tag filters for the `*_WITH_EXCLUSION` settings (1–5); empty for the others. */
  readonly exclusions: readonly string[];
}

/** `report`: publish the verdict only. `enforce`: also correct the tag mutability and remove offending tags. */
export type EnforcementMode = 'report' | 'enforce';

export interface PushPolicy {
  readonly mode: EnforcementMode;
  /** Make sure every pushed image is scanned: start a basic scan where ECR does not scan it on push. */
  readonly scan: boolean;
  readonly tags: TagRules;
  /** The repository's required tag mutability; null leaves it as it is. */
  readonly tagMutability: TagMutabilityPolicy | null;
  /**
   * Enforce mode, when every tag of the image offends: remove them anyway, which deletes the image (ECR deletes an
   * image with its last tag). When false, such tags are reported and left in place.
   */
  readonly undoPush: boolean;
}

export const DEFAULT_PUSH_POLICY: PushPolicy = {
  mode: 'report',
  scan: true,
  tags: { forbidden: [] },
  tagMutability: null,
  undoPush: false,
};
