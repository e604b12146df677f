import { wildcardMatches } from '../glob.ts';
import type { ImageKind } from './classify.ts';

/**
 * Whether ECR already scans a pushed image, worked out from the registry's scanning configuration and the
 * repository's own scan-on-push flag (docs/ecr-limits.md#registry-scanning):
 *
 * | Registry scan type | ECR scans the pushed image when                                   | Otherwise                     |
 * |--------------------|-------------------------------------------------------------------|-------------------------------|
 * | BASIC (default)    | a SCAN_ON_PUSH rule's filter matches, or the repository's flag    | the service starts a scan     |
 * | ENHANCED           | a CONTINUOUS_SCAN or SCAN_ON_PUSH rule's filter matches (the flag is ignored) | nothing can scan it: manual scans do not exist under ENHANCED |
 */

/** The registry scanning configuration, as the gateway returns it (`GetRegistryScanningConfiguration`). */
export interface RegistryScanning {
  /** `BASIC` or `ENHANCED`. */
  readonly scanType: string;
  readonly rules: readonly {
    /** `SCAN_ON_PUSH`, `CONTINUOUS_SCAN` or `MANUAL`. */
    readonly scanFrequency: string;
    readonly repositoryFilters: readonly { readonly filter: string }[];
  }[];
}

export type ScanReason =
  /** The policy does not ask for scans. */
  | { readonly code: 'scan-not-required' }
  /** An index (its children are images, scanned on their own push) or an artifact or referrer: nothing to scan. */
  | { readonly code: 'not-an-image'; readonly kind: Exclude<ImageKind, 'image'> }
  /** A manifest type basic scanning does not support (Docker schema 1). */
  | { readonly code: 'unsupported-media-type'; readonly mediaType: string }
  /** ECR scans it on push: a registry rule (its filter named) or the repository's own flag (BASIC only). */
  | {
      readonly code: 'ecr-scans-on-push';
      readonly scanType: string;
      readonly via: 'registry-rule' | 'repository-setting';
      readonly filter?: string;
    }
  /** ENHANCED continuous scanning covers the repository. */
  | { readonly code: 'ecr-scans-continuously'; readonly filter: string }
  /** BASIC and not scanned on push: the service starts a basic scan (once per image: ECR allows one a day). */
  | { readonly code: 'service-scans' }
  /** ENHANCED and no rule covers the repository: manual scans are not supported, so nothing scans the image. */
  | { readonly code: 'enhanced-scanning-not-covering' }
  /** The push is undone (the image deleted): nothing left to scan. */
  | { readonly code: 'push-undone' };

export interface ScanDecision {
  readonly reason: ScanReason;
  /** Start a basic scan (StartImageScan). */
  readonly start: boolean;
}

/** Manifest types basic scanning reads (OCI image manifest, Docker image manifest v2). */
export const SCANNABLE_MANIFEST_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);

/**
 * A registry scanning `WILDCARD` repository filter: without `*` it matches names that contain it; with `*` the whole
 * name must match, `*` standing for any run of characters, `/` included ([UG-ENH],
 * docs/ecr-limits.md#registry-scanning).
 */
export function scanFilterMatches(filter: string, repositoryName: string): boolean {
  if (!filter.includes('*')) return repositoryName.includes(filter);
  return wildcardMatches(filter, repositoryName);
}

function firstMatchingFilter(
  registry: RegistryScanning,
  frequency: string,
  repositoryName: string,
): string | undefined {
  for (const rule of registry.rules) {
    if (rule.scanFrequency !== frequency) continue;
    const match = rule.repositoryFilters.find((filter) => scanFilterMatches(filter.filter, repositoryName));
    if (match) return match.filter;
  }
  return undefined;
}

/** Whether the image is one ECR's scanners read (an image manifest of a supported type). */
export function isScannable(kind: ImageKind, manifestMediaType: string | undefined): boolean {
  return kind === 'image' && (manifestMediaType === undefined || SCANNABLE_MANIFEST_TYPES.has(manifestMediaType));
}

/**
 * Decides the scan of one pushed image. `registry` is needed only for a scannable image under a policy that asks for
 * scans (`isScannable`); without it such an image is a broken invariant.
 */
export function decideScan(input: {
  repositoryName: string;
  kind: ImageKind;
  manifestMediaType: string | undefined;
  repositoryScanOnPush: boolean;
  registry: RegistryScanning | undefined;
  policyScans: boolean;
}): ScanDecision {
  const none = (reason: ScanReason): ScanDecision => ({ reason, start: false });
  if (!input.policyScans) return none({ code: 'scan-not-required' });
  if (input.kind !== 'image') return none({ code: 'not-an-image', kind: input.kind });
  if (!isScannable(input.kind, input.manifestMediaType)) {
    // Stryker disable next-line StringLiteral: an image without a manifest type is scannable, so here the type is always set; the fallback only satisfies the type checker.
    return none({ code: 'unsupported-media-type', mediaType: input.manifestMediaType ?? '' });
  }
  const registry = input.registry;
  if (!registry) throw new Error('invariant: deciding the scan of an image needs the registry scanning configuration');
  if (registry.scanType === 'ENHANCED') {
    const continuous = firstMatchingFilter(registry, 'CONTINUOUS_SCAN', input.repositoryName);
    if (continuous !== undefined) return none({ code: 'ecr-scans-continuously', filter: continuous });
    const onPush = firstMatchingFilter(registry, 'SCAN_ON_PUSH', input.repositoryName);
    if (onPush !== undefined) {
      return none({ code: 'ecr-scans-on-push', scanType: 'ENHANCED', via: 'registry-rule', filter: onPush });
    }
    return none({ code: 'enhanced-scanning-not-covering' });
  }
  const onPush = firstMatchingFilter(registry, 'SCAN_ON_PUSH', input.repositoryName);
  if (onPush !== undefined) {
    return none({ code: 'ecr-scans-on-push', scanType: registry.scanType, via: 'registry-rule', filter: onPush });
  }
  if (input.repositoryScanOnPush) {
    return none({ code: 'ecr-scans-on-push', scanType: registry.scanType, via: 'repository-setting' });
  }
  return { reason: { code: 'service-scans' }, start: true };
}
