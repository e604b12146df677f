/**
 * One target of the config's `targets` section: an account in a region. Work items, reports and metrics carry it;
 * absent, they are about the deployment's own account and region.
 */
export interface Target {
  /** 12 digits. */
  readonly account: string;
  readonly region: string;
}

/** `111122223333/eu-west-1`: a target as a map key and in messages. */
export const targetKey = (target: Target): string => `${target.account}/${target.region}`;

/** `{ account, region }` of a record carrying both, or undefined when it carries neither (the own account). */
export function targetOf(record: { account?: string | undefined; region?: string | undefined }): Target | undefined {
  if (record.account === undefined || record.region === undefined) return undefined;
  return { account: record.account, region: record.region };
}

/** The spread of a target's fields into a record: nothing for the own account. */
export const targetFields = (target: Target | undefined): { account?: string; region?: string } =>
  target === undefined ? {} : { account: target.account, region: target.region };
