import { conventionTagSubject, type ImageRecord } from '../../domain/image.ts';
import type { SelectionPattern, TagSelection } from '../../domain/settings.ts';
import { compileGlob, type NameMatcher } from '../glob.ts';
import { SEMVER } from '../push/tags.ts';
import { compileRegex } from '../regex.ts';

/**
 * Retention of tagged images: which tags a rule's tag selections release. Each tag is claimed by the first selection
 * whose pattern matches it; the claiming selection keeps it when `protect` is set or one of its keep conditions holds
 * (`keepLast` newest N by push time among the images carrying a tag it claims, each image counted once;
 * `keepNewerThanDays`; `keepPulledWithinDays`, push time when never pulled), and releases it otherwise. A tag no
 * selection claims keeps its image; cosign convention tags (`sha256-<hex>.sig`, ...) are never released: they follow
 * their subject. Pure: `now` is a parameter.
 */

const DAY_MS = 86_400_000;
const ANY: NameMatcher = { test: () => true };

/** A selection pattern compiled: a glob, an anchored RE2 regex, the semver form or `any`, all linear in the tag. */
export function selectionMatcher(pattern: SelectionPattern): NameMatcher {
  if (typeof pattern === 'string') return compileGlob(pattern);
  if ('regex' in pattern) return compileRegex(pattern.regex);
  return pattern.form === 'any' ? ANY : SEMVER;
}

/** Readable form of a pattern: `pr-*`, `/^v\d+$/`, `semver`, `any`. */
export const describeSelectionPattern = (pattern: SelectionPattern): string =>
  typeof pattern === 'string' ? pattern : 'regex' in pattern ? `/${pattern.regex}/` : pattern.form;

/** A selection's name in reasons: its patterns, comma-separated. */
export const selectionName = (selection: TagSelection): string =>
  selection.tags.map(describeSelectionPattern).join(',');

/** Why a tag keeps its image. */
export interface TagKeep {
  tag: string;
  /** The selection's place in `tagSelections`. */
  selection: number;
  condition: 'protect' | 'keepLast' | 'keepNewerThanDays' | 'keepPulledWithinDays';
  /** `keepLast 20 of pr-* (rank 7)`. */
  explanation: string;
  /** The image's rank among the selection's images, newest first (keepLast only). */
  rank?: number;
}

/** What the selections say about one image's tags. */
export type TagVerdict =
  /** Tags no selection claims: kept as any tagged image. */
  | { kind: 'unclaimed'; tags: string[] }
  /** A selection keeps one of its tags. */
  | { kind: 'kept'; keep: TagKeep }
  /** Every tag released: the image may go, with these explanations, one per tag. */
  | { kind: 'released'; tags: string[]; explanations: string[] };

const daysAgo = (now: number, at: number) => Math.floor((now - at) / DAY_MS);

/**
 * Judges the tags of every image: undefined for an image without a real tag (the untagged rules decide it).
 * Pure and linear in tags × selections (each pattern matched once per tag).
 */
export function judgeTags(
  images: readonly ImageRecord[],
  selections: readonly TagSelection[],
  now: number,
): Map<string, TagVerdict> {
  const matchers = selections.map((selection) => selection.tags.map(selectionMatcher));
  const claimOf = (tag: string): number => matchers.findIndex((list) => list.some((matcher) => matcher.test(tag)));

  const claims = new Map<string, { tag: string; selection: number }[]>();
  const members: ImageRecord[][] = selections.map(() => []);
  for (const image of images) {
    const tags = image.tags.filter((tag) => conventionTagSubject(tag) === undefined);
    if (tags.length === 0) continue;
    const list = tags.map((tag) => ({ tag, selection: claimOf(tag) }));
    claims.set(image.digest, list);
    // An unclaimed tag's selection is -1, which has no list.
    for (const selection of new Set(list.map((claim) => claim.selection))) members[selection]?.push(image);
  }
  // Rank per selection, newest push first, ties by digest: the same order every run.
  const ranks = members.map((list) => {
    const sorted = [...list].sort((a, b) => b.pushedAt - a.pushedAt || a.digest.localeCompare(b.digest));
    return new Map(sorted.map((image, index) => [image.digest, index + 1]));
  });

  const verdicts = new Map<string, TagVerdict>();
  for (const image of images) {
    const list = claims.get(image.digest);
    if (list === undefined) continue;
    const unclaimed = list.filter((claim) => claim.selection < 0).map((claim) => claim.tag);
    if (unclaimed.length > 0) {
      verdicts.set(image.digest, { kind: 'unclaimed', tags: unclaimed });
      continue;
    }
    const explanations: string[] = [];
    let kept: TagKeep | undefined;
    for (const { tag, selection: index } of list) {
      const selection = selections[index] as TagSelection;
      const name = selectionName(selection);
      const rank = ranks[index]?.get(image.digest) as number;
      const lastActivity = image.lastPulledAt ?? image.pushedAt;
      const base = { tag, selection: index };
      if (selection.protect === true) {
        kept = { ...base, condition: 'protect', explanation: `protect of ${name}` };
      } else if (selection.keepLast !== undefined && rank <= selection.keepLast) {
        kept = {
          ...base,
          condition: 'keepLast',
          rank,
          explanation: `keepLast ${selection.keepLast} of ${name} (rank ${rank})`,
        };
      } else if (
        selection.keepNewerThanDays !== undefined &&
        now - image.pushedAt < selection.keepNewerThanDays * DAY_MS
      ) {
        kept = {
          ...base,
          condition: 'keepNewerThanDays',
          explanation: `keepNewerThanDays ${selection.keepNewerThanDays} of ${name} (pushed ${daysAgo(now, image.pushedAt)} days ago)`,
        };
      } else if (
        selection.keepPulledWithinDays !== undefined &&
        now - lastActivity < selection.keepPulledWithinDays * DAY_MS
      ) {
        kept = {
          ...base,
          condition: 'keepPulledWithinDays',
          explanation: `keepPulledWithinDays ${selection.keepPulledWithinDays} of ${name} (${
            image.lastPulledAt === undefined ? 'pushed' : 'pulled'
          } ${daysAgo(now, lastActivity)} days ago)`,
        };
      }
      if (kept) break;
      explanations.push(`${tag}: ${releaseText(selection, name, rank, image, now)}`);
    }
    verdicts.set(
      image.digest,
      kept ? { kind: 'kept', keep: kept } : { kind: 'released', tags: list.map((claim) => claim.tag), explanations },
    );
  }
  return verdicts;
}

/** `pr-* beyond keepLast 20 (rank 21) and not pulled for 31 days`. */
function releaseText(selection: TagSelection, name: string, rank: number, image: ImageRecord, now: number): string {
  const parts: string[] = [];
  if (selection.keepLast !== undefined) parts.push(`beyond keepLast ${selection.keepLast} (rank ${rank})`);
  if (selection.keepNewerThanDays !== undefined) parts.push(`pushed ${daysAgo(now, image.pushedAt)} days ago`);
  if (selection.keepPulledWithinDays !== undefined) {
    parts.push(
      image.lastPulledAt === undefined
        ? `never pulled (pushed ${daysAgo(now, image.pushedAt)} days ago)`
        : `not pulled for ${daysAgo(now, image.lastPulledAt)} days`,
    );
  }
  return parts.length === 0 ? `${name} keeps nothing` : `${name} ${parts.join(' and ')}`;
}
