import { z } from 'zod';
import { MAX_IMAGE_REFERENCE_LENGTH } from './image-ref.ts';

/**
 * The Kubernetes in-use list: the document a cluster exports (to an S3 object or an SSM parameter the config names)
 * listing the images its pods run. Format (version 1), documented in the README:
 *
 * ```json
 * { "version": 1, "cluster": "prod-eks",
 *   "images": [{ "namespace": "shop", "pod": "web-7f9c", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4",
 *                "imageID": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:…" }] }
 * ```
 *
 * The document is hostile input: read at most MAX_KUBERNETES_LIST_BYTES, parsed as JSON, then checked by a strict
 * schema with bounded strings and a bounded number of entries. Anything else fails the provider (fail closed).
 */

/** 8 MiB: about 40,000 entries of 200 bytes; an SSM parameter holds 8 KB at most anyway. */
export const MAX_KUBERNETES_LIST_BYTES = 8 * 1024 * 1024;
export const MAX_KUBERNETES_LIST_ENTRIES = 100_000;

/** A Kubernetes name (namespace, pod): DNS-1123, at most 253 characters. */
const KubernetesName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9][a-z0-9.-]*$/, 'a Kubernetes name (DNS-1123)');

export const KubernetesListEntrySchema = z.strictObject({
  namespace: KubernetesName.describe("The pod's namespace."),
  pod: KubernetesName.describe("The pod's name."),
  image: z.string().min(1).max(MAX_IMAGE_REFERENCE_LENGTH).describe("The container's image as the pod spec names it."),
  imageID: z
    .string()
    .max(MAX_IMAGE_REFERENCE_LENGTH + 32)
    .optional()
    .describe("The container status's imageID: the digest the node resolved (`repo@sha256:…`), when known."),
});

export const KubernetesListSchema = z.strictObject({
  version: z.literal(1).describe('The format version: 1.'),
  cluster: z.string().min(1).max(256).describe('The exporting cluster, for the report.'),
  images: z.array(KubernetesListEntrySchema).max(MAX_KUBERNETES_LIST_ENTRIES).describe('One entry per container.'),
});

export type KubernetesList = z.infer<typeof KubernetesListSchema>;

/** Parses and validates a list; throws an Error naming the first problems when it is not a valid version-1 list. */
export function parseKubernetesList(text: string): KubernetesList {
  if (text.length > MAX_KUBERNETES_LIST_BYTES) {
    throw new Error(`the Kubernetes image list exceeds ${MAX_KUBERNETES_LIST_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('the Kubernetes image list is not JSON');
  }
  const parsed = KubernetesListSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.').slice(0, 80) || '(root)'}: ${issue.message.slice(0, 160)}`)
      .join('; ');
    throw new Error(`the Kubernetes image list is not a valid version-1 list: ${issues}`);
  }
  return parsed.data;
}
