import type { ScanSettings } from '../../domain/settings.ts';

/**
 * The scan policy of one repository: what the `on-scan-result` handler holds an image's findings against, and what it
 * does with an image that fails. Defaults here; the types are inferred from `shared/domain/settings.ts`.
 */

/** `report`: publish the verdict only. `enforce`: also act on a FAIL (quarantine tag, tag removal). */
export type ScanEnforcementMode = ScanSettings['mode'];

/**
 * `mode`, `maxFindings` (the most findings allowed per severity; a severity not listed is not limited),
 * `cvssThreshold` (null: none), `onlyFixable`, `quarantineTagPrefix` (enforce mode, on a FAIL: the tag
 * `<prefix><first 12 hex digits of the digest>`, removed again once the image passes; null: none) and `untag`
 * (enforce mode, on a FAIL: remove the tags matching these, never the image's last one). Inferred from the schema in
 * `shared/domain/settings.ts`.
 */
export type ScanPolicy = ScanSettings;

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
