import { checkLifecyclePolicy, type LifecycleImage, type LifecyclePolicy } from '@ecr-automation/lifecycle';

export const DAY = 86_400_000;
export const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

/** A policy document checked by the package's own checker (a test policy must be one ECR accepts). */
export function policyOf(document: { rules: unknown[] }): LifecyclePolicy {
  const check = checkLifecyclePolicy(JSON.stringify(document));
  if (!check.valid) throw new Error(check.reason);
  return check.policy;
}

/** An image named by a letter (its digest is derived from the name), pushed `daysAgo` days before NOW. */
export function image(
  name: string,
  tags: string[],
  daysAgo: number,
  extra: Partial<LifecycleImage> = {},
): LifecycleImage {
  return { digest: digestOf(name), tags, pushedAt: NOW - daysAgo * DAY, storageClass: 'standard', ...extra };
}

export const digestOf = (name: string) => `sha256:${Buffer.from(name).toString('hex').padEnd(64, '0')}`;

export const nameOf = (digest: string) => Buffer.from(digest.slice(7).replace(/(00)+$/, ''), 'hex').toString();

export const rule = (
  rulePriority: number,
  selection: Record<string, unknown>,
  action: Record<string, unknown> = { type: 'expire' },
) => ({
  rulePriority,
  description: `Rule ${rulePriority}`,
  selection,
  action,
});
