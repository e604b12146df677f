import {
  checkLifecyclePolicy,
  compileTagPattern,
  evaluateLifecyclePolicy,
  type LifecyclePolicy,
  type LifecycleRule,
  tagMatchesPattern,
} from '@ecr-automation/lifecycle';
import type { ImageRecord } from '../../domain/image.ts';
import type { CleanupPlan } from '../cleanup/plan.ts';
import { type BreakCode, compareWithCleanup } from './compare.ts';
import { toLifecycleImages } from './images.ts';

/**
 * The lifecycle policy linter: what a valid ECR lifecycle policy does that its author most likely did not mean
 * (docs/ecr-limits.md#lifecycle-policies; lifecycle/README.md for the semantics), and, given a repository's images
 * and this service's plan for them, what the policy would remove that the service's cleanup keeps. Pure: no AWS, no
 * clock (`now` is part of the context). Bounded: the text is refused past ECR's 30,720 characters before it is
 * parsed, a policy has at most 50 rules, and the repository findings cost one evaluation.
 */

export type LintCode =
  /** The document is not one ECR accepts (the checker's message). */
  | 'invalid-policy'
  /** Longer than ECR's `LifecyclePolicyText` limit. */
  | 'policy-too-large'
  /** A `tagStatus: any` rule that is not the last rule (ECR refuses it). */
  | 'any-rule-not-last'
  /** Several `tagPatternList` / `tagPrefixList` entries: an image must carry tags for all of them. */
  | 'tag-list-is-and'
  /** `imageCountMoreThan` on `any` / `untagged`: platform images, signatures and attestations take places. */
  | 'count-includes-artifacts'
  /** An `untagged` / `any` expire rule selects index children: kept while their index exists, orphans after. */
  | 'expires-index-children'
  /** A tagged rule expires images whose tags look like releases after a short time. */
  | 'releases-expire-by-age'
  /** An `any` expire rule, and no earlier rule that selects release tags to keep them. */
  | 'releases-unprotected'
  /** An expire rule on archived images younger than the archive's 90-day minimum charge. */
  | 'archive-minimum-charge'
  /** The rule selects no image of the repository. */
  | 'rule-matches-nothing'
  /** The policy would remove an image the service's cleanup keeps (the comparison's break codes). */
  | BreakCode;

export interface LintFinding {
  /** The rule's `rulePriority`; null for a finding about the whole policy. */
  rule: number | null;
  code: LintCode;
  message: string;
  /** What to do about it, in one line. */
  fix: string;
}

/** A repository to lint a policy against: its images (with children and subjects), and this service's plan. */
export interface LintContext {
  images: readonly ImageRecord[];
  /** The evaluation's clock, epoch ms. */
  now: number;
  /** The service's cleanup plan for the same images; without it only `rule-matches-nothing` is checked. */
  plan?: CleanupPlan;
}

/** `LifecyclePolicyText`: 100–30,720 characters (docs/ecr-limits.md#api-shapes-and-limits). */
export const MAX_LIFECYCLE_POLICY_CHARS = 30_720;
/** Archived images are charged for at least 90 days (docs/ecr-limits.md#lifecycle-policies). */
export const ARCHIVE_MINIMUM_DAYS = 90;
/** A tagged rule that expires release-like tags sooner than this many days after the push is flagged. */
export const RELEASE_MIN_AGE_DAYS = 180;

/** Tags a release commonly carries: a pattern or prefix that selects one of them selects releases. */
const RELEASE_SAMPLES = ['v1.2.3', '1.2.3', 'v1.2', 'v1', 'release-1.2.3', 'release-2026.01', 'stable', 'latest'];

const ANY_NOT_LAST = /the rule with tagStatus 'any' \(rulePriority (\d+)\) must have the highest rulePriority/;

/**
 * The release tags (of `RELEASE_SAMPLES`) a tagged rule's selection picks, one per list entry; undefined when an
 * entry matches none of them (every entry must match one of an image's tags for the rule to select it).
 */
function releasesSelectedBy(rule: LifecycleRule): string[] | undefined {
  const { tagPatternList, tagPrefixList } = rule.selection;
  if (rule.selection.tagStatus !== 'tagged') return undefined;
  const matches = (tagPatternList ?? tagPrefixList ?? []).map((entry) => {
    if (tagPatternList === undefined) return RELEASE_SAMPLES.find((tag) => tag.startsWith(entry));
    const compiled = compileTagPattern(entry);
    return RELEASE_SAMPLES.find((tag) => tagMatchesPattern(compiled, tag));
  });
  return matches.every((tag) => tag !== undefined) ? [...new Set(matches as string[])] : undefined;
}

const selectsReleases = (rule: LifecycleRule) => releasesSelectedBy(rule) !== undefined;

const listOf = (rule: LifecycleRule) => rule.selection.tagPatternList ?? rule.selection.tagPrefixList ?? [];
const listName = (rule: LifecycleRule) =>
  rule.selection.tagPatternList === undefined ? 'tagPrefixList' : 'tagPatternList';

/** Findings about the policy alone. */
function staticFindings(policy: LifecyclePolicy): LintFinding[] {
  const findings: LintFinding[] = [];
  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority);
  for (const rule of rules) {
    const { selection, action, rulePriority } = rule;
    const entries = listOf(rule);
    if (selection.tagStatus === 'tagged' && entries.length > 1) {
      findings.push({
        rule: rulePriority,
        code: 'tag-list-is-and',
        message: `${listName(rule)} [${entries.join(', ')}] selects only images carrying tags for ALL ${entries.length} entries, not any of them`,
        fix: `write one rule per ${listName(rule) === 'tagPatternList' ? 'pattern' : 'prefix'} (${entries.map((entry) => JSON.stringify([entry])).join(', ')})`,
      });
    }
    const wide = selection.tagStatus === 'any' || selection.tagStatus === 'untagged';
    if (wide && selection.countType === 'imageCountMoreThan') {
      findings.push({
        rule: rulePriority,
        code: 'count-includes-artifacts',
        message: `imageCountMoreThan ${selection.countNumber} on tagStatus ${selection.tagStatus} counts every image it selects: the platform images of multi-architecture indexes, and signatures and attestations pushed as images, so fewer than ${selection.countNumber} builds are kept`,
        fix: "count a tagged pattern instead (tagStatus tagged with the build tags), or let the service's cleanup keep the newest untagged builds (keepLatestUntagged)",
      });
    }
    if (wide && action.type === 'expire' && selection.storageClass === 'standard') {
      findings.push({
        rule: rulePriority,
        code: 'expires-index-children',
        message: `tagStatus ${selection.tagStatus} selects the untagged platform images of multi-architecture indexes: ECR keeps them while an index lists them, so the rule's ${selection.countType === 'imageCountMoreThan' ? 'count' : 'age'} is misleading, and when an index expires, those the rule does not reach stay behind as orphans`,
        fix: "expire indexes by their tags and leave untagged images to the service's cleanup, which deletes an index's children with it",
      });
    }
    const releases = releasesSelectedBy(rule);
    if (
      selection.countType === 'sinceImagePushed' &&
      action.type === 'expire' &&
      selection.countNumber < RELEASE_MIN_AGE_DAYS &&
      releases !== undefined
    ) {
      findings.push({
        rule: rulePriority,
        code: 'releases-expire-by-age',
        message: `${listName(rule)} [${entries.join(', ')}] selects release tags (such as ${releases.join(', ')}), and they expire ${selection.countNumber} days after their push, however much they are used`,
        fix: 'keep releases by count (imageCountMoreThan) in a rule of their own before this one, or narrow the patterns to build tags',
      });
    }
    if (
      selection.storageClass === 'archive' &&
      action.type === 'expire' &&
      selection.countType === 'sinceImageTransitioned' &&
      selection.countNumber < ARCHIVE_MINIMUM_DAYS
    ) {
      const archives = rules.some((other) => other.action.type === 'transition');
      findings.push({
        rule: rulePriority,
        code: 'archive-minimum-charge',
        message: `archived images expire ${selection.countNumber} days after the transition${archives ? ' (another rule archives them)' : ''}, but the archive charges at least ${ARCHIVE_MINIMUM_DAYS} days`,
        fix: `set countNumber to ${ARCHIVE_MINIMUM_DAYS} or more, or expire those images instead of archiving them`,
      });
    }
  }
  // Keep intent: an `any` expire rule removes every image it reaches, releases included, unless an earlier rule
  // selects them (an image an earlier rule selects is never acted on by a later one).
  for (const rule of rules) {
    if (rule.selection.tagStatus !== 'any' || rule.action.type !== 'expire') continue;
    const protectedBy = rules.find(
      (other) =>
        other.rulePriority < rule.rulePriority &&
        other.selection.storageClass === rule.selection.storageClass &&
        selectsReleases(other),
    );
    if (protectedBy !== undefined) continue;
    findings.push({
      rule: rule.rulePriority,
      code: 'releases-unprotected',
      message: `tagStatus any expires release images (v1.2.3, release-*) like any other: no earlier rule selects release tags to keep them`,
      fix: 'add an earlier rule selecting the release tags (e.g. tagPatternList ["v*"], imageCountMoreThan 50) so that this rule cannot reach them',
    });
  }
  return findings;
}

/** Whether a rule selects an image, as the evaluator does (storage class, then tags). */
function ruleSelects(rule: LifecycleRule, image: ImageRecord, patterns: ReturnType<typeof compileTagPattern>[]) {
  const archived = image.imageStatus !== undefined;
  if ((rule.selection.storageClass === 'archive') !== archived) return false;
  switch (rule.selection.tagStatus) {
    case 'any':
      return true;
    case 'untagged':
      return image.tags.length === 0;
    default:
      if (image.tags.length === 0) return false;
      if (rule.selection.tagPatternList !== undefined) {
        return patterns.every((pattern) => image.tags.some((tag) => tagMatchesPattern(pattern, tag)));
      }
      return (rule.selection.tagPrefixList ?? []).every((prefix) => image.tags.some((tag) => tag.startsWith(prefix)));
  }
}

const FIX_OF_BREAK: Readonly<Record<BreakCode, string>> = {
  'in-use-expired':
    'narrow the rule to tags no workload runs, or remove the policy and let the service clean (it keeps what runs)',
  'retained-tag-expired':
    "add an earlier rule selecting these tags, or leave tagged images to the service's tag selections",
  'kept-child-expired': 'expire indexes by their tags only; the platform images go with their index',
  'kept-referrer-expired': 'keep the signed image: signatures and attestations follow their subject',
  'children-left-behind':
    "expire the index's children too (ECR does once the index is gone), or let the service delete an index with its children",
  'referrer-removed-subject-stays':
    'select signatures by their subject\'s tags, not on their own (cosign "sha256-*.sig" tags are ordinary tags to ECR)',
};

/** Findings against a repository: rules that select nothing, and what the policy removes that the service keeps. */
function repositoryFindings(policy: LifecyclePolicy, context: LintContext): LintFinding[] {
  const findings: LintFinding[] = [];
  // A referrer whose subject is in the repository goes with its subject: no rule selects it on its own.
  const digests = new Set(context.images.map((image) => image.digest));
  const candidates = context.images.filter(
    (image) => image.subjectDigest === undefined || !digests.has(image.subjectDigest),
  );
  for (const rule of [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority)) {
    const patterns = (rule.selection.tagPatternList ?? []).map(compileTagPattern);
    if (candidates.some((image) => ruleSelects(rule, image, patterns))) continue;
    findings.push({
      rule: rule.rulePriority,
      code: 'rule-matches-nothing',
      message: `selects none of the repository's ${context.images.length} images (tagStatus ${rule.selection.tagStatus}${listOf(rule).length > 0 ? ` [${listOf(rule).join(', ')}]` : ''}, storageClass ${rule.selection.storageClass})`,
      fix: "check the patterns against the repository's tags, or remove the rule",
    });
  }
  if (context.plan === undefined) return findings;
  const evaluation = evaluateLifecyclePolicy(policy, toLifecycleImages(context.images), context.now);
  const comparison = compareWithCleanup(evaluation, context.plan, context.images);
  const groups = new Map<string, { rule: number; code: BreakCode; messages: string[] }>();
  for (const found of comparison.breaks) {
    const key = `${found.rulePriority} ${found.code}`;
    const group = groups.get(key) ?? { rule: found.rulePriority, code: found.code, messages: [] };
    group.messages.push(found.message);
    groups.set(key, group);
  }
  for (const group of [...groups.values()].sort((a, b) => a.rule - b.rule || a.code.localeCompare(b.code))) {
    const more = group.messages.length > 3 ? ` (and ${group.messages.length - 3} more)` : '';
    findings.push({
      rule: group.rule,
      code: group.code,
      message: `${group.messages.length} image(s) the service's cleanup keeps: ${group.messages.slice(0, 3).join('; ')}${more}`,
      fix: FIX_OF_BREAK[group.code],
    });
  }
  return findings;
}

/**
 * Lints a lifecycle policy document: the checker's verdict on an invalid one (as a finding), else what its rules do
 * that their author most likely did not intend, and, with a `context`, what it would do to that repository that this
 * service's cleanup would not.
 *
 * @example
 * for (const finding of lintLifecyclePolicy(text, { images, plan, now })) console.log(finding.code, finding.fix);
 */
export function lintLifecyclePolicy(text: string, context?: LintContext): LintFinding[] {
  if (text.length > MAX_LIFECYCLE_POLICY_CHARS) {
    return [
      {
        rule: null,
        code: 'policy-too-large',
        message: `the policy has ${text.length} characters; ECR accepts at most ${MAX_LIFECYCLE_POLICY_CHARS}`,
        fix: "merge rules or shorten descriptions to fit ECR's limit",
      },
    ];
  }
  const check = checkLifecyclePolicy(text);
  if (!check.valid) {
    const anyNotLast = ANY_NOT_LAST.exec(check.reason);
    if (anyNotLast !== null) {
      return [
        {
          rule: Number(anyNotLast[1]),
          code: 'any-rule-not-last',
          message: `tagStatus any must be the last rule, or ECR refuses the policy (${check.reason})`,
          fix: 'give the tagStatus any rule the highest rulePriority; put tagged and untagged rules before it',
        },
      ];
    }
    return [
      {
        rule: null,
        code: 'invalid-policy',
        message: check.reason,
        fix: 'correct the document as the message says; ECR would refuse it',
      },
    ];
  }
  const findings = staticFindings(check.policy);
  if (context !== undefined) findings.push(...repositoryFindings(check.policy, context));
  return findings;
}
