import type { InUseImage, InUseReference } from '../domain/in-use.ts';
import { parseImageReference } from './image-ref.ts';

/**
 * A protection provider: something that knows which images run (ECS tasks and services, Lambda functions, a
 * Kubernetes cluster's pods) and where. It gathers read-only; `gatherInUse` runs every provider with a timeout and
 * records a failed one, so that nothing is deleted in the repositories it covers (fail closed).
 */
export interface InUseProvider {
  readonly name: InUseReference['provider'];
  /** The repositories whose images this provider protects (globs); absent: every repository. */
  readonly repositories?: readonly string[];
  readonly exclude?: readonly string[];
  /** The images in use. Stops early, throwing, once `signal` is aborted (the run's timeout). */
  gather(signal: AbortSignal): Promise<InUseImage[]>;
}

/** Throws the signal's reason when the run has given up on this provider. */
export function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/**
 * An image reference in use, resolved to one of this service's registries, with the digest the runtime reported
 * when there is one (it wins over a digest in the reference: it is what runs). Undefined for other registries.
 */
export function inUseImage(image: string, usedBy: InUseReference, resolvedDigest?: string): InUseImage | undefined {
  const parsed = parseImageReference(image);
  if (parsed === undefined) return undefined;
  const digest = resolvedDigest ?? parsed.digest;
  return {
    registry: parsed.registry,
    registryId: parsed.registryId,
    region: parsed.region,
    repositoryName: parsed.repositoryName,
    ...(digest === undefined ? {} : { digest }),
    ...(parsed.tag === undefined ? {} : { tag: parsed.tag }),
    usedBy,
  };
}

/** The last `/`-separated part of an ARN (`arn:aws:ecs:…:cluster/prod` → `prod`). */
export const nameOfArn = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1) || arn;

/** Collects an async iterable, checking the signal between items. */
export async function collect<T>(items: AsyncIterable<T>, signal: AbortSignal): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) {
    checkAborted(signal);
    out.push(item);
  }
  return out;
}
