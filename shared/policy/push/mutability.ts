import type { EnforcementMode, TagMutabilityPolicy } from './policy.ts';

export type MutabilityReason =
  | { readonly code: 'no-mutability-policy' }
  | { readonly code: 'as-policy'; readonly setting: string; readonly exclusions: readonly string[] }
  | {
      readonly code: 'drift';
      readonly found: { readonly setting: string; readonly exclusions: readonly string[] };
      readonly required: { readonly setting: string; readonly exclusions: readonly string[] };
    };

export interface MutabilityDecision {
  readonly reason: MutabilityReason;
  /** The setting to apply with PutImageTagMutability (enforce mode, when the repository differs). */
  readonly change?: TagMutabilityPolicy;
}

const withExclusions = (setting: string) => setting.endsWith('_WITH_EXCLUSION');
/** Both lists sorted (decideMutability sorts them first). */
const sameSorted = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((value, i) => value === b[i]);

/**
 * Compares the repository's tag mutability with the policy's. Exclusion filters count only for the
 * `*_WITH_EXCLUSION` settings, and their order does not matter.
 */
export function decideMutability(input: {
  found: { setting: string; exclusions: readonly string[] };
  policy: TagMutabilityPolicy | null;
  mode: EnforcementMode;
}): MutabilityDecision {
  const { found, policy } = input;
  if (!policy) return { reason: { code: 'no-mutability-policy' } };
  const foundExclusions = withExclusions(found.setting) ? [...found.exclusions].sort() : [];
  const requiredExclusions = withExclusions(policy.setting) ? [...policy.exclusions].sort() : [];
  if (found.setting === policy.setting && sameSorted(foundExclusions, requiredExclusions)) {
    return { reason: { code: 'as-policy', setting: policy.setting, exclusions: requiredExclusions } };
  }
  return {
    reason: {
      code: 'drift',
      found: { setting: found.setting, exclusions: foundExclusions },
      required: { setting: policy.setting, exclusions: requiredExclusions },
    },
    ...(input.mode === 'enforce' ? { change: { setting: policy.setting, exclusions: requiredExclusions } } : {}),
  };
}
