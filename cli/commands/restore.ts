import { childrenOf } from '../../shared/cleanup/gather.ts';
import { conventionTagSubject, type ImageRecord, isIndex } from '../../shared/domain/image.ts';
import type { EcrGateway } from '../../shared/ecr/index.ts';
import { EXIT } from './errors.ts';
import { shortDigest } from './format.ts';

export interface RestoreDeps {
  /** A gateway that may write (UpdateImageStorageClass). */
  gateway: Pick<EcrGateway, 'updateImageStorageClass' | 'listImages' | 'describeImages' | 'getManifests'>;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Waits this long (the registry's time; a test moves the local registry's clock instead). */
  sleep: (ms: number) => Promise<void>;
}

export interface RestoreOptions {
  repositoryName: string;
  /** A digest (`sha256:…`) or a tag. */
  reference: string;
  /** How long to wait for ACTIVE before giving up (the restore goes on in ECR). */
  waitSeconds: number;
  /** How often to look. */
  pollSeconds: number;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Whether `image` refers to `subject`: an OCI referrer, or a cosign convention tag (`sha256-<hex>.sig`). */
const refersTo = (image: ImageRecord, subject: string) =>
  image.subjectDigest === subject || image.tags.some((tag) => conventionTagSubject(tag) === subject);

/**
 * `cleanup restore <repository> <digest|tag>`: brings an archived image back from ECR's archive with what belongs to
 * it, and waits until it can be pulled. The image and its archived referrers (signatures, attestations) are restored
 * at once (UpdateImageStorageClass STANDARD); an index's manifest cannot be read while it is archived, so once the
 * index is ACTIVE its archived children are restored too, and waited for. An image already ACTIVE is left as it is.
 * Exit 0 when everything is ACTIVE, 1 when the wait ran out (the restores go on in ECR) or an image is gone.
 */
export async function restoreImage(deps: RestoreDeps, options: RestoreOptions): Promise<number> {
  const { gateway, out } = deps;
  const { repositoryName } = options;
  const deadline = options.waitSeconds * 1_000;
  let waited = 0;
  const id = DIGEST.test(options.reference) ? { digest: options.reference } : { tag: options.reference };
  const first = await gateway.updateImageStorageClass(repositoryName, id, 'STANDARD');
  out(`${repositoryName}@${shortDigest(first.digest)}: ${first.status === 'ACTIVE' ? 'ACTIVE' : 'restoring'}`);

  const listed: ImageRecord[] = [];
  for await (const page of gateway.listImages(repositoryName, { imageStatus: 'ANY' })) listed.push(...page);
  const referrers = listed.filter((image) => image.imageStatus === 'ARCHIVED' && refersTo(image, first.digest));
  const pending = new Set(first.status === 'ACTIVE' ? [] : [first.digest]);
  const restore = async (digests: readonly string[], what: string) => {
    for (const digest of digests) {
      const { status } = await gateway.updateImageStorageClass(repositoryName, { digest }, 'STANDARD');
      out(`  ${what} ${shortDigest(digest)}: ${status === 'ACTIVE' ? 'ACTIVE' : 'restoring'}`);
      if (status !== 'ACTIVE') pending.add(digest);
    }
  };
  await restore(
    referrers.map((image) => image.digest),
    'referrer',
  );

  /** Waits until every pending image is ACTIVE; false when the wait ran out. */
  const waitForPending = async (): Promise<boolean> => {
    while (pending.size > 0) {
      if (waited >= deadline) return false;
      const step = Math.min(options.pollSeconds * 1_000, deadline - waited);
      await deps.sleep(step);
      waited += step;
      const { images, missing } = await gateway.describeImages(repositoryName, [...pending]);
      if (missing.length > 0) throw new Error(`${missing.map(shortDigest).join(', ')} deleted while restoring`);
      for (const image of images) if (image.imageStatus === undefined) pending.delete(image.digest);
    }
    return true;
  };
  if (!(await waitForPending())) return gaveUp(deps, options, pending);

  const root = listed.find((image) => image.digest === first.digest);
  if (root !== undefined && isIndex(root)) {
    const { manifests } = await gateway.getManifests(repositoryName, [first.digest]);
    const manifest = manifests[0];
    if (manifest !== undefined) {
      const children = new Set(childrenOf(manifest.manifest));
      await restore(
        listed.filter((image) => image.imageStatus === 'ARCHIVED' && children.has(image.digest)).map((i) => i.digest),
        'child',
      );
      if (!(await waitForPending())) return gaveUp(deps, options, pending);
    }
  }
  out(`${repositoryName}@${shortDigest(first.digest)}: ACTIVE, with what belongs to it; it can be pulled`);
  return EXIT.ok;
}

function gaveUp(deps: RestoreDeps, options: RestoreOptions, pending: ReadonlySet<string>): number {
  deps.err(
    `Still restoring after ${options.waitSeconds}s: ${[...pending].map(shortDigest).join(', ')}. ECR finishes on its own (up to 20 minutes); run restore again to wait.`,
  );
  return EXIT.failed;
}
