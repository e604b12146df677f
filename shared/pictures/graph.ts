import { conventionTagSubject, type ImageRecord, isIndex } from '../domain/image.ts';
import type { GraphEdge, GraphModel, GraphNode, NodeAction, NodeKind } from './model.ts';

/** Repositories of up to this many images are drawn image by image; larger ones as groups. */
export const GRAPH_IMAGE_LIMIT = 300;

/** Hex digits of a digest on a node: 12, as the CLI's tables show them. */
export const shortDigest = (digest: string): string => {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest.slice(0, 19) : digest.slice(0, colon + 13);
};

/** What the graph knows of one image's fate: the plan's decision, in words. */
export interface NodeFate {
  action: Exclude<NodeAction, 'mixed' | 'unplanned'>;
  reasonCode: string;
  reason: string;
}

/** The subjects an image names: its OCI `subject`, and cosign's `sha256-<hex>.sig` tag convention. */
function subjectsOf(image: ImageRecord): Set<string> {
  const subjects = new Set<string>();
  if (image.subjectDigest !== undefined) subjects.add(image.subjectDigest);
  for (const tag of image.tags) {
    const subject = conventionTagSubject(tag);
    if (subject !== undefined) subjects.add(subject);
  }
  subjects.delete(image.digest);
  return subjects;
}

/** An image's part in the graph: an index, a referrer (names a subject), or an image manifest. */
export const kindOf = (image: ImageRecord): Exclude<NodeKind, 'group'> =>
  isIndex(image) ? 'index' : subjectsOf(image).size > 0 ? 'referrer' : 'image';

/**
 * The image graph of one repository: index → children it lists, subject → referrers that name it, each image with
 * its tags and (given `fates`, the plan's decisions by digest) kept or deleted and why. Up to `limit` images it is
 * drawn image by image; beyond, each node is a group of the images of one kind, action and reason code, and the
 * edges between groups are added up, so that a repository of 100,000 images is still a picture of a few dozen nodes.
 */
export function imageGraphPicture(
  repository: string,
  images: readonly ImageRecord[],
  fates: ReadonlyMap<string, NodeFate> = new Map(),
  limit = GRAPH_IMAGE_LIMIT,
): GraphModel {
  const present = new Set(images.map((image) => image.digest));
  const edges: GraphEdge[] = [];
  for (const image of images) {
    for (const child of new Set(image.childDigests ?? [])) {
      if (child !== image.digest && present.has(child))
        edges.push({ from: image.digest, to: child, kind: 'child', count: 1 });
    }
    for (const subject of subjectsOf(image)) {
      if (present.has(subject)) edges.push({ from: subject, to: image.digest, kind: 'referrer', count: 1 });
    }
  }
  const nodeOf = (image: ImageRecord): GraphNode => {
    const fate = fates.get(image.digest);
    return {
      id: image.digest,
      kind: kindOf(image),
      action: fate?.action ?? 'unplanned',
      label: shortDigest(image.digest),
      tags: [...image.tags],
      reason: fate?.reason ?? 'not planned',
      count: 1,
      digest: image.digest,
      sizeInBytes: image.sizeInBytes,
    };
  };
  if (images.length <= limit) {
    return { repository, mode: 'images', images: images.length, nodes: images.map(nodeOf), edges };
  }

  // Groups: one per kind, action and reason code.
  const plural = (kind: NodeKind, count: number) => (count === 1 ? kind : kind === 'index' ? 'indexes' : `${kind}s`);
  const groups = new Map<string, GraphNode>();
  const groupOf = new Map<string, string>();
  for (const image of images) {
    const kind = kindOf(image);
    const fate = fates.get(image.digest);
    const action = fate?.action ?? 'unplanned';
    const code = fate?.reasonCode ?? 'unplanned';
    const key = `group:${kind}:${action}:${code}`;
    groupOf.set(image.digest, key);
    let group = groups.get(key);
    if (group === undefined) {
      group = { id: key, kind: 'group', of: kind, action, label: '', tags: [], reason: code, count: 0, sizeInBytes: 0 };
      groups.set(key, group);
    }
    group.count++;
    group.sizeInBytes += image.sizeInBytes;
  }
  for (const group of groups.values()) group.label = `${group.count} ${plural(group.of ?? 'image', group.count)}`;
  const grouped = new Map<string, GraphEdge>();
  for (const edge of edges) {
    const from = groupOf.get(edge.from) ?? edge.from;
    const to = groupOf.get(edge.to) ?? edge.to;
    const key = `${edge.kind} ${from} ${to}`;
    const existing = grouped.get(key);
    if (existing) existing.count++;
    else grouped.set(key, { from, to, kind: edge.kind, count: 1 });
  }
  return {
    repository,
    mode: 'groups',
    images: images.length,
    nodes: [...groups.values()],
    edges: [...grouped.values()],
  };
}
