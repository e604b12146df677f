import type { InUseImage } from '../domain/in-use.ts';
import type { S3Gateway } from '../s3/gateway.ts';
import type { SsmGateway } from '../ssm/gateway.ts';
import { digestOf } from './image-ref.ts';
import { MAX_KUBERNETES_LIST_BYTES, parseKubernetesList } from './kubernetes-list.ts';
import { checkAborted, type InUseProvider, inUseImage } from './provider.ts';

export type KubernetesListSource =
  | { s3: { bucket: string; key: string }; gateway: S3Gateway }
  | { ssm: { parameter: string }; gateway: SsmGateway };

export interface KubernetesProviderOptions {
  repositories?: readonly string[];
  exclude?: readonly string[];
}

/**
 * Kubernetes (EKS or any cluster): the images of the list the cluster exports (`kubernetes-list.ts`), read from the
 * S3 object or SSM parameter the config names, bounded in size and validated; an invalid list fails the provider.
 * Each entry's digest is its `imageID`'s when there is one. `where` is `namespace/pod`.
 */
export function kubernetesProvider(
  source: KubernetesListSource,
  options: KubernetesProviderOptions = {},
): InUseProvider {
  return {
    name: 'k8s',
    ...(options.repositories === undefined ? {} : { repositories: options.repositories }),
    ...(options.exclude === undefined ? {} : { exclude: options.exclude }),
    async gather(signal) {
      const text =
        's3' in source
          ? new TextDecoder('utf-8', { fatal: true }).decode(
              await source.gateway.getObject(source.s3.bucket, source.s3.key, { maxBytes: MAX_KUBERNETES_LIST_BYTES }),
            )
          : await source.gateway.getParameter(source.ssm.parameter);
      checkAborted(signal);
      const list = parseKubernetesList(text);
      const images: InUseImage[] = [];
      for (const entry of list.images) {
        const image = inUseImage(
          entry.image,
          { provider: 'k8s', where: `${entry.namespace}/${entry.pod}` },
          digestOf(entry.imageID),
        );
        if (image !== undefined) images.push(image);
      }
      return images;
    },
  };
}
