import type { TagPattern } from '../push/policy.ts';
import type { Severity } from './findings.ts';

/**
 * The scan policy of one repository: what the `on-scan-result` handler holds an image's findings against, and what it
 * does with an image that fails. Pure types and defaults; the config file's zod schema produces values of these types.
 */

/** `report`: publish the verdict only. `enforce`: also act on a FAIL (quarantine tag, tag removal). */
export type ScanEnforcementMode = 'report' | 'enforce';

export interface ScanPolicy {
  readonly mode: ScanEnforcementMode;
  /** The most findings allowed per severity; a severity not listed is not limited. */
  readonly maxFindings: Readonly<Partial<Record<Severity, number>>>;
  /** Any counted finding whose CVSS score is at least this blocks the image; null: no CVSS threshold. */
  readonly cvssThreshold: number | null;
  /** Count only findings with a fix available (the others are reported as ignored). */
  readonly onlyFixable: boolean;
  /**
   * Enforce mode, on a FAIL: add the tag `<prefix><first 12 hex digits of the digest>` (unique per image, so that it
   * never moves another image's tag), and remove it again once the image passes. null: no quarantine tag.
   */
  readonly quarantineTagPrefix: string | null;
  /**
   * Enforce mode, on a FAIL: remove the image's tags that match these patterns (by tag, never by digest). A removal
   * that would take the image's last tag, and with it the image, is left undone.
   */
  readonly untag: readonly TagPattern[];
}

export const DEFAULT_SCAN_POLICY: ScanPolicy = {
  mode: 'report',
  maxFindings: { CRITICAL: 0, HIGH: 0 },
  cvssThreshold: null,
  onlyFixable: false,
  quarantineTagPrefix: null,
  untag: [],
};

/** Tag characters OCI allows; the quarantine tag is `<prefix><12 hex>`, at most 128 characters. */
export const quarantineTagOf = (prefix: string, digest: string): string =>
  `${prefix}${(digest.split(':')[1] ?? digest).slice(0, 12)}`;
