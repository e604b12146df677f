import type {
  PushSettings,
  TagMutabilitySettings,
  TagPatternSettings,
  TagRulesSettings,
} from '../../domain/settings.ts';

/**
 * The push policy of one repository: what the `on-image-push` handler checks and does when an image is pushed.
 * Defaults here; the types are inferred from the settings schemas in `shared/domain/settings.ts`, on which the config
 * file's push section is built.
 */

/**
 * A tag pattern: a glob (`*` any run of characters, `?` one character), `{ regex }` (a regular expression in RE2
 * syntax, matched in linear time, that must match the whole tag), or `{ form: 'semver' }` (Semantic Versioning 2.0.0,
 * with an optional leading `v`).
 */
export type TagPattern = TagPatternSettings;

/** `allowed` (every tag must match one), `forbidden` (none may match), `required` (one must), `maxTagsPerImage`. */
export type TagRules = TagRulesSettings;

/** ECR's `ImageTagMutability` values. */
export type TagMutabilitySetting = TagMutabilitySettings['setting'];

/** The required setting and its `WILDCARD` exclusion filters (1–5 for the `*_WITH_EXCLUSION` settings, else none). */
export type TagMutabilityPolicy = TagMutabilitySettings;

/** `report`: publish the verdict only. `enforce`: also correct the tag mutability and remove offending tags. */
export type EnforcementMode = PushSettings['mode'];

/**
 * `mode`, `scan` (start a basic scan where ECR does not scan on push), `tags`, `tagMutability` (null leaves it as it
 * is) and `undoPush` (enforce mode, when every tag offends: remove them anyway, which deletes the image).
 */
export type PushPolicy = PushSettings;

export const DEFAULT_PUSH_POLICY: PushPolicy = {
  mode: 'report',
  scan: true,
  tags: { forbidden: [] },
  tagMutability: null,
  undoPush: false,
};
