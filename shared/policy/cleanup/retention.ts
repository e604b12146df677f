import { type ImageRecord, isConventionTag } from '../../domain/image.ts';
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

/**
 * The selections' judgement of a repository's tagged images (`judgeTags`). Which way each image goes is decided at
 * once; its verdict, with the texts that explain it, is made when asked (`verdict`), since a plan reads only the
 * verdicts of the decisions it makes, and a worker makes only a few hundred of a large repository's.
 */
export interface TagJudgement {
  /** Images with a real tag (every one judged). */
  readonly size: number;
  /** Which way the image's tags go; undefined for an image without a real tag. */
  kind(digest: string): TagVerdict['kind'] | undefined;
  /** The image's verdict with its explanations, made when asked; undefined for an image without a real tag. */
  verdict(image: ImageRecord): TagVerdict | undefined;
}

const daysAgo = (now: number, at: number) => Math.floor((now - at) / DAY_MS);

/** A tag and the selection that claims it (-1: none). */
interface Claim {
  tag: string;
  selection: number;
}

const CONDITIONS: readonly TagKeep['condition'][] = [
  'protect',
  'keepLast',
  'keepNewerThanDays',
  'keepPulledWithinDays',
];
/** Outcomes below 0; an outcome of 0 or more is the kept claim's place × 4 + its condition's place in CONDITIONS. */
const UNCLAIMED = -1;
const RELEASED = -2;

/**
 * Judges the tags of every image: no verdict for an image without a real tag (the untagged rules decide it).
 * Pure and linear in tags × selections (each pattern matched once per tag).
 */
export function judgeTags(
  images: readonly ImageRecord[],
  selections: readonly TagSelection[],
  now: number,
): TagJudgement {
  const matchers = selections.map((selection) => selection.tags.map(selectionMatcher));
  const names = selections.map(selectionName);
  const claimOf = (tag: string): number => {
    for (let index = 0; index < matchers.length; index++) {
      for (const matcher of matchers[index] as NameMatcher[]) if (matcher.test(tag)) return index;
    }
    return -1;
  };

  // Loops rather than filter/map chains: this runs over every tagged image of every repository.
  const claims = new Map<string, Claim[]>();
  const members: ImageRecord[][] = selections.map(() => []);
  for (const image of images) {
    let list: Claim[] | undefined;
    // Indexed: see buildImageGraph.
    const tags = image.tags;
    for (let at = 0; at < tags.length; at++) {
      const tag = tags[at] as string;
      if (isConventionTag(tag)) continue;
      const claim = { tag, selection: claimOf(tag) };
      if (list === undefined) list = [claim];
      else list.push(claim);
    }
    if (list === undefined) continue;
    claims.set(image.digest, list);
    // An unclaimed tag's selection is -1, which has no list; an image counts once per selection.
    for (let i = 0; i < list.length; i++) {
      const selection = (list[i] as Claim).selection;
      let earlier = false;
      for (let j = 0; j < i && !earlier; j++) earlier = (list[j] as Claim).selection === selection;
      if (!earlier) members[selection]?.push(image);
    }
  }
  // Rank per selection, newest push first, ties by digest: the same order every run.
  const ranks = members.map((list) => {
    const sorted = [...list].sort((a, b) => b.pushedAt - a.pushedAt || a.digest.localeCompare(b.digest));
    const rank = new Map<string, number>();
    for (let index = 0; index < sorted.length; index++) rank.set((sorted[index] as ImageRecord).digest, index + 1);
    return rank;
  });
  const rankOf = (selection: number, digest: string) => ranks[selection]?.get(digest) as number;

  /** The condition of `selection` that keeps `image` (its place in CONDITIONS), or -1. */
  const keptBy = (selection: TagSelection, rank: number, image: ImageRecord): number => {
    if (selection.protect === true) return 0;
    if (selection.keepLast !== undefined && rank <= selection.keepLast) return 1;
    if (selection.keepNewerThanDays !== undefined && now - image.pushedAt < selection.keepNewerThanDays * DAY_MS) {
      return 2;
    }
    const lastActivity = image.lastPulledAt ?? image.pushedAt;
    if (selection.keepPulledWithinDays !== undefined && now - lastActivity < selection.keepPulledWithinDays * DAY_MS) {
      return 3;
    }
    return -1;
  };

  // Each image's outcome as a number: no object per image until its verdict is asked for.
  const outcomes = new Map<string, number>();
  for (const image of images) {
    const list = claims.get(image.digest);
    if (list === undefined) continue;
    let outcome = RELEASED;
    for (const claim of list) if (claim.selection < 0) outcome = UNCLAIMED;
    for (let at = 0; at < list.length && outcome === RELEASED; at++) {
      const index = (list[at] as Claim).selection;
      const condition = keptBy(selections[index] as TagSelection, rankOf(index, image.digest), image);
      if (condition >= 0) outcome = at * 4 + condition;
    }
    outcomes.set(image.digest, outcome);
  }

  const keepOf = (claim: Claim, condition: TagKeep['condition'], image: ImageRecord): TagKeep => {
    const { tag, selection: index } = claim;
    const selection = selections[index] as TagSelection;
    const name = names[index] as string;
    switch (condition) {
      case 'protect':
        return { tag, selection: index, condition, explanation: `protect of ${name}` };
      case 'keepLast': {
        const rank = rankOf(index, image.digest);
        return {
          tag,
          selection: index,
          condition,
          rank,
          explanation: `keepLast ${selection.keepLast} of ${name} (rank ${rank})`,
        };
      }
      case 'keepNewerThanDays':
        return {
          tag,
          selection: index,
          condition,
          explanation: `keepNewerThanDays ${selection.keepNewerThanDays} of ${name} (pushed ${daysAgo(now, image.pushedAt)} days ago)`,
        };
      default: {
        const lastActivity = image.lastPulledAt ?? image.pushedAt;
        return {
          tag,
          selection: index,
          condition,
          explanation: `keepPulledWithinDays ${selection.keepPulledWithinDays} of ${name} (${
            image.lastPulledAt === undefined ? 'pushed' : 'pulled'
          } ${daysAgo(now, lastActivity)} days ago)`,
        };
      }
    }
  };

  return {
    size: outcomes.size,
    kind(digest) {
      const outcome = outcomes.get(digest);
      if (outcome === undefined) return undefined;
      return outcome === UNCLAIMED ? 'unclaimed' : outcome === RELEASED ? 'released' : 'kept';
    },
    verdict(image) {
      const outcome = outcomes.get(image.digest);
      const list = claims.get(image.digest);
      if (outcome === undefined || list === undefined) return undefined;
      if (outcome === UNCLAIMED) {
        return { kind: 'unclaimed', tags: list.filter((claim) => claim.selection < 0).map((claim) => claim.tag) };
      }
      if (outcome >= 0) {
        const claim = list[outcome >> 2] as Claim;
        return { kind: 'kept', keep: keepOf(claim, CONDITIONS[outcome & 3] as TagKeep['condition'], image) };
      }
      const explanations = list.map(
        ({ tag, selection: index }) =>
          `${tag}: ${releaseText(selections[index] as TagSelection, names[index] as string, rankOf(index, image.digest), image, now)}`,
      );
      return { kind: 'released', tags: list.map((claim) => claim.tag), explanations };
    },
  };
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
