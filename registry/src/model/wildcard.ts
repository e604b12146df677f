/**
 * `*` wildcards (ECR's `WILDCARD` filters, EventBridge's `wildcard` matcher), matched in time linear in the text: a
 * filter arrives in a request, so no backtracking `RegExp` is built from it. `pieces` are the filter's literal parts
 * between its `*`s; the first must be a prefix and the last a suffix of the text, and the ones between are found in
 * turn, each at its leftmost place after the one before (for `*` alone the leftmost place is never worse).
 */
export function wildcardMatches(pieces: readonly string[], text: string): boolean {
  const first = pieces[0] ?? '';
  if (pieces.length <= 1) return text === first;
  const last = pieces[pieces.length - 1] as string;
  const end = text.length - last.length;
  if (end < first.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  let at = first.length;
  for (const piece of pieces.slice(1, -1)) {
    const found = text.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}
