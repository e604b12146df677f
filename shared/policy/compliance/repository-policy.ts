/**
 * Reads a repository policy document for the two grants compliance forbids: access for everyone (`"Principal": "*"`
 * or `{"AWS": "*"}`) without a condition, and an AWS principal of another account not on the allowed list. Only
 * `Allow` statements grant anything; a `Deny` is never a finding.
 */

export type PolicyFindingReason = 'public-access' | 'cross-account-principal' | 'unreadable-policy';

export interface PolicyFinding {
  reason: PolicyFindingReason;
  /** The statement's `Sid`, or its index. */
  statement: string;
  detail: string;
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** The account of a principal: an account id, `arn:aws:iam::<account>:...` or `arn:aws:sts::<account>:...`. */
export function accountOfPrincipal(principal: string): string | undefined {
  if (/^[0-9]{12}$/.test(principal)) return principal;
  const arn = /^arn:aws[a-z-]*:(?:iam|sts)::([0-9]{12}):/.exec(principal);
  return arn?.[1];
}

/** The findings of one policy text; `ownAccount` and `allowedAccounts` may be named as principals. */
export function repositoryPolicyFindings(
  policyText: string,
  ownAccount: string,
  allowedAccounts: readonly string[],
): PolicyFinding[] {
  let document: unknown;
  try {
    document = JSON.parse(policyText);
  } catch {
    return [{ reason: 'unreadable-policy', statement: '-', detail: 'the repository policy is not JSON' }];
  }
  const statements = asList((document as { Statement?: unknown } | null)?.Statement);
  const allowed = new Set([ownAccount, ...allowedAccounts]);
  const findings: PolicyFinding[] = [];
  statements.forEach((raw, index) => {
    if (raw === null || typeof raw !== 'object') return;
    const statement = raw as { Sid?: unknown; Effect?: unknown; Principal?: unknown; Condition?: unknown };
    if (statement.Effect !== 'Allow') return;
    const name = typeof statement.Sid === 'string' && statement.Sid !== '' ? statement.Sid : `#${index}`;
    const principal = statement.Principal;
    const conditioned =
      statement.Condition !== undefined &&
      statement.Condition !== null &&
      typeof statement.Condition === 'object' &&
      Object.keys(statement.Condition).length > 0;
    const aws =
      principal === '*'
        ? ['*']
        : principal && typeof principal === 'object'
          ? asList((principal as { AWS?: unknown }).AWS)
          : [];
    if (aws.includes('*') && !conditioned) {
      findings.push({
        reason: 'public-access',
        statement: name,
        detail: `statement ${name} grants access to everyone`,
      });
    }
    for (const entry of aws) {
      if (typeof entry !== 'string' || entry === '*') continue;
      const account = accountOfPrincipal(entry);
      if (account !== undefined && !allowed.has(account)) {
        findings.push({
          reason: 'cross-account-principal',
          statement: name,
          detail: `statement ${name} grants to ${entry} (account ${account} is not allowed)`,
        });
      }
    }
  });
  return findings;
}
