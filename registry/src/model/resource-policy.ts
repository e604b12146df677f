/**
 * A small evaluator of resource policies (a repository policy), enough to decide a cross-account call: does the
 * policy allow this account to perform this action? Statements with `Effect: Allow` grant by principal account and
 * action (wildcards `*` and `?` in actions); a matching `Deny` wins; statements with a `Condition`, `NotAction` or
 * `NotPrincipal` are not evaluated and grant nothing (the local registry has no request context to test them on).
 */

type Statement = Record<string, unknown>;

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/**
 * Whether `text` matches the IAM wildcard `pattern` (`*` any run, `?` one character), case-insensitively as IAM
 * matches actions. Greedy two-pointer matching: linear in practice, never exponential.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** Whether a policy principal names `account`: `*`, `{ AWS: "*" }`, the account id, or an ARN in the account. */
function principalMatches(principal: unknown, account: string): boolean {
  if (principal === '*') return true;
  if (principal === null || typeof principal !== 'object' || Array.isArray(principal)) return false;
  return asList((principal as Record<string, unknown>).AWS).some((entry) => {
    if (typeof entry !== 'string') return false;
    if (entry === '*' || entry === account) return true;
    const arn = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(entry);
    return arn?.[1] === account;
  });
}

function statementMatches(statement: Statement, account: string, action: string): boolean {
  if ('Condition' in statement || 'NotAction' in statement || 'NotPrincipal' in statement) return false;
  if (!principalMatches(statement.Principal, account)) return false;
  return asList(statement.Action).some((entry) => typeof entry === 'string' && wildcardMatch(entry, action));
}

/** Whether the policy allows `account` to perform `action` (for example `ecr:BatchGetImage`). */
export function policyAllows(policyText: string | undefined, account: string, action: string): boolean {
  if (policyText === undefined) return false;
  let document: unknown;
  try {
    document = JSON.parse(policyText);
  } catch {
    return false;
  }
  if (document === null || typeof document !== 'object') return false;
  const statements = asList((document as Record<string, unknown>).Statement).filter(
    (statement): statement is Statement =>
      statement !== null && typeof statement === 'object' && !Array.isArray(statement),
  );
  let allowed = false;
  for (const statement of statements) {
    if (!statementMatches(statement, account, action)) continue;
    if (statement.Effect === 'Deny') return false;
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed;
}
