/**
 * Reads a repository policy document for the two grants compliance forbids: access for everyone (`"Principal": "*"`
 * or `{"AWS": "*"}`) without a condition, and an AWS principal of another account not on the allowed list. Only
 * `Allow` statements grant anything; a `Deny` is never a finding.
 */

export type PolicyFindingReason = 'public-access' | 'public-write' | 'cross-account-principal' | 'unreadable-policy';

export interface PolicyFinding {
  reason: PolicyFindingReason;
  /** The statement's `Sid`, or its index. */
  statement: string;
  detail: string;
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** A statement with a non-empty `Condition` narrows whom it grants to: compliance does not judge conditions. */
const isConditioned = (condition: unknown): boolean =>
  condition !== undefined && condition !== null && typeof condition === 'object' && Object.keys(condition).length > 0;

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
    const conditioned = isConditioned(statement.Condition);
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

/**
 * The ECR Public actions that write [M-ECRPUB]: none may be granted to everyone. The others only read (Describe*,
 * Get*, ListTagsForResource, BatchCheckLayerAvailability): granting them to everyone is what a public repository is.
 */
export const PUBLIC_WRITE_ACTIONS: readonly string[] = [
  'ecr-public:BatchDeleteImage',
  'ecr-public:CompleteLayerUpload',
  'ecr-public:CreateRepository',
  'ecr-public:DeleteRepository',
  'ecr-public:DeleteRepositoryPolicy',
  'ecr-public:InitiateLayerUpload',
  'ecr-public:PutImage',
  'ecr-public:PutRegistryCatalogData',
  'ecr-public:PutRepositoryCatalogData',
  'ecr-public:SetRepositoryPolicy',
  'ecr-public:TagResource',
  'ecr-public:UntagResource',
  'ecr-public:UploadLayerPart',
];

/**
 * Whether an IAM action pattern names the action: case-insensitive as IAM is, `*` any run of characters and `?` any
 * one. A two-pointer match with one back-up point: no backtracking beyond the last `*`, so at most the product of
 * the two lengths (both bounded by the 10,240 characters of a policy).
 */
export function actionPatternMatches(pattern: string, action: string): boolean {
  const p = pattern.toLowerCase();
  const a = action.toLowerCase();
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < a.length) {
    if (i < p.length && (p[i] === '?' || p[i] === a[j])) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      mark = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++mark;
    } else return false;
  }
  while (p[i] === '*') i++;
  return i === p.length;
}

/** The principal is everyone: `"*"`, `{"AWS": "*"}` or `{"AWS": [..., "*"]}`. */
const grantsEveryone = (principal: unknown): boolean =>
  principal === '*' ||
  (principal !== null &&
    typeof principal === 'object' &&
    asList((principal as { AWS?: unknown }).AWS).some((entry) => entry === '*'));

/**
 * The write actions an `Allow` statement grants: those its `Action` names (wildcards such as `ecr-public:*` or `*`
 * included), or, for `NotAction`, those it does not exclude.
 */
export function grantedWriteActions(statement: { Action?: unknown; NotAction?: unknown }): string[] {
  const patterns = (value: unknown) => asList(value).filter((entry): entry is string => typeof entry === 'string');
  if (statement.NotAction !== undefined) {
    const excluded = patterns(statement.NotAction);
    return PUBLIC_WRITE_ACTIONS.filter((action) => !excluded.some((p) => actionPatternMatches(p, action)));
  }
  const named = patterns(statement.Action);
  return PUBLIC_WRITE_ACTIONS.filter((action) => named.some((p) => actionPatternMatches(p, action)));
}

/**
 * The findings of an ECR Public repository policy: an `Allow` statement that grants any write action to everyone
 * (`"*"` or `{"AWS": "*"}`) without a condition is `public-write`; read access for everyone is what a public
 * repository is, so it is no finding; a `Deny` never is. A text that is not JSON is `unreadable-policy`.
 */
export function publicWriteFindings(policyText: string): PolicyFinding[] {
  let document: unknown;
  try {
    document = JSON.parse(policyText);
  } catch {
    return [{ reason: 'unreadable-policy', statement: '-', detail: 'the repository policy is not JSON' }];
  }
  const findings: PolicyFinding[] = [];
  asList((document as { Statement?: unknown } | null)?.Statement).forEach((raw, index) => {
    if (raw === null || typeof raw !== 'object') return;
    const statement = raw as {
      Sid?: unknown;
      Effect?: unknown;
      Principal?: unknown;
      Condition?: unknown;
      Action?: unknown;
      NotAction?: unknown;
    };
    if (statement.Effect !== 'Allow' || !grantsEveryone(statement.Principal) || isConditioned(statement.Condition)) {
      return;
    }
    const writes = grantedWriteActions(statement);
    if (writes.length === 0) return;
    const name = typeof statement.Sid === 'string' && statement.Sid !== '' ? statement.Sid : `#${index}`;
    const shown =
      writes.length > 3 ? `${writes.slice(0, 3).join(', ')} and ${writes.length - 3} more` : writes.join(', ');
    findings.push({
      reason: 'public-write',
      statement: name,
      detail: `statement ${name} lets everyone write: ${shown}`,
    });
  });
  return findings;
}
