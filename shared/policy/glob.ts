/**
 * Repository-name globs: `*` matches within one path segment (no `/`), `**` matches across segments, `?` matches
 * one character. `payments/*` matches `payments/api` but not `payments/api/v2`; `payments/**` matches both.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === '*') {
      if (glob[i + 1] === '*') {
        i++;
        // `**/` also matches no segment at all (`a/**/b` matches `a/b`).
        if (glob[i + 1] === '/') {
          i++;
          source += '(?:.*/)?';
        } else source += '.*';
      } else source += '[^/]*';
    } else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export function matchesAnyGlob(name: string, globs: readonly string[]): boolean {
  return globs.some((glob) => globToRegExp(glob).test(name));
}
