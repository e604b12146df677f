import { type ImageRecord, isConventionTag, isIndex } from '../../domain/image.ts';

/**
 * What a pushed manifest is:
 * - `image`: a container image (an index's children are images too: they arrive untagged, before their index);
 * - `index`: a multi-arch index or manifest list;
 * - `referrer`: a signature, attestation or SBOM about another image, either an OCI 1.1 referrer (`subject`) or
 *   stored under cosign's tag convention (`sha256-<hex>.sig|.att|.sbom`, or the referrers fallback `sha256-<hex>`);
 * - `artifact`: any other OCI artifact (a Helm chart, a WASM module): its tags are judged, it is not scanned.
 */
export type ImageKind = 'image' | 'index' | 'referrer' | 'artifact';

/** Config media types of container images; an image whose `artifactMediaType` is anything else is an artifact. */
export const IMAGE_CONFIG_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);

export function classifyImage(
  image: Pick<ImageRecord, 'manifestMediaType' | 'artifactMediaType' | 'subjectDigest'>,
  tags: readonly string[],
): ImageKind {
  if (isIndex(image)) return 'index';
  if (image.subjectDigest !== undefined) return 'referrer';
  if (tags.length > 0 && tags.every(isConventionTag)) return 'referrer';
  if (image.artifactMediaType !== undefined && !IMAGE_CONFIG_MEDIA_TYPES.has(image.artifactMediaType)) {
    return 'artifact';
  }
  return 'image';
}
