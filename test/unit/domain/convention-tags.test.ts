import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conventionTagSubject, isConventionTag } from '../../../shared/domain/image.ts';

const HEX = '0123456789abcdef';
const hex64 = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);

describe('convention tags', () => {
  it('are the tags that name a subject: sha256-<64 hex> alone or with .sig, .att or .sbom', () => {
    for (const tag of [`sha256-${hex64}`, `sha256-${hex64}.sig`, `sha256-${hex64}.att`, `sha256-${hex64}.sbom`]) {
      expect(isConventionTag(tag)).toBe(true);
      expect(conventionTagSubject(tag)).toBe(`sha256:${hex64}`);
    }
    for (const tag of [
      'latest',
      `sha256-${hex64.slice(1)}`,
      `sha256-${hex64}0`,
      `sha256-${hex64.toUpperCase()}`,
      `sha256-${hex64}.sigs`,
      `sha256-${hex64}.txt`,
      `sha256:${hex64}`,
      `xsha256-${hex64}`,
    ]) {
      expect(isConventionTag(tag)).toBe(false);
      expect(conventionTagSubject(tag)).toBeUndefined();
    }
  });

  it('are told apart by isConventionTag exactly as conventionTagSubject tells them, for near-misses too', () => {
    // Tags built from the convention's pieces, each piece sometimes a little wrong.
    const hex = (length: number) =>
      fc.array(fc.constantFrom(...HEX), { minLength: length, maxLength: length }).map((c) => c.join(''));
    const hexRun = fc.oneof(
      hex(64),
      hex(63),
      hex(65),
      fc.tuple(hex(40), fc.constantFrom('A', 'g', '-', '.'), hex(23)).map((parts) => parts.join('')),
    );
    const tag = fc
      .tuple(
        fc.constantFrom('sha256-', 'sha256:', 'sha512-', ''),
        hexRun,
        fc.constantFrom('', '.sig', '.att', '.sbom', '.si', '.sigx'),
      )
      .map(([prefix, run, suffix]) => `${prefix}${run}${suffix}`);
    fc.assert(
      fc.property(fc.oneof(tag, fc.string()), (candidate) => {
        expect(isConventionTag(candidate)).toBe(conventionTagSubject(candidate) !== undefined);
      }),
      { numRuns: 2_000 },
    );
  });
});
