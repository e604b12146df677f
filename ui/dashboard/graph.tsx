import type { ImageNode } from './api.ts';
import { actionText, short } from './text.ts';

/**
 * One image's neighbourhood as a picture: what lists it (its indexes) and what it names (its subject) on the left,
 * the image in the middle, its children and referrers on the right, each edge labelled; the same as a list for
 * screen readers. Colour is never the only signal: each node says its decision in words.
 */
const W = 220;
const H = 46;
const GAP = 14;

interface Placed {
  node: ImageNode | { digest: string; missing: true };
  x: number;
  y: number;
  edge: string;
}

const label = (node: Placed['node']) =>
  'missing' in node ? `${short(node.digest)} (not in repository)` : (node.tags[0] ?? short(node.digest));

export function ImageGraph({ image, neighbours }: { image: ImageNode; neighbours: ImageNode[] }) {
  const byDigest = new Map(neighbours.map((node) => [node.digest, node]));
  const find = (digest: string) => byDigest.get(digest) ?? { digest, missing: true as const };
  const left = [
    ...image.parents.map((digest) => ({ node: find(digest), edge: 'lists it' })),
    ...(image.subject ? [{ node: find(image.subject), edge: 'its subject' }] : []),
  ];
  const right = [
    ...image.children.map((digest) => ({ node: find(digest), edge: 'child' })),
    ...image.referrers.map((digest) => ({ node: find(digest), edge: 'referrer' })),
  ];
  const rows = Math.max(left.length, right.length, 1);
  const height = rows * (H + GAP) + GAP;
  const place = (items: { node: Placed['node']; edge: string }[], x: number): Placed[] =>
    items.map((item, index) => ({ ...item, x, y: GAP + index * (H + GAP) + ((rows - items.length) * (H + GAP)) / 2 }));
  const centre = { x: W + 80, y: (height - H) / 2 };
  const placed = [...place(left, 10), ...place(right, 2 * W + 150)];
  const width = 3 * W + 160;
  return (
    <figure class="graph" aria-label={`Image graph of ${short(image.digest)}`}>
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-labelledby="graph-title">
        <title id="graph-title">{`Image graph of ${label(image)}: ${left.length} above, ${right.length} below`}</title>
        {placed.map((item) => {
          const fromLeft = item.x < centre.x;
          const x1 = fromLeft ? item.x + W : centre.x + W;
          const x2 = fromLeft ? centre.x : item.x;
          const y1 = (fromLeft ? item.y : centre.y) + H / 2;
          const y2 = (fromLeft ? centre.y : item.y) + H / 2;
          return (
            <g key={`${item.edge}-${item.node.digest}`}>
              <line x1={x1} y1={y1} x2={x2} y2={y2} class="edge" />
              <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 4} class="edge-label" text-anchor="middle">
                {item.edge}
              </text>
            </g>
          );
        })}
        <Box x={centre.x} y={centre.y} node={image} current />
        {placed.map((item) => (
          <Box key={item.node.digest} x={item.x} y={item.y} node={item.node} />
        ))}
      </svg>
      <figcaption id="graph-text">
        <ul>
          {left.map((item) => (
            <li key={item.node.digest}>
              {item.edge}: {label(item.node)}
            </li>
          ))}
          {right.map((item) => (
            <li key={item.node.digest}>
              {item.edge}: {label(item.node)}
            </li>
          ))}
          {left.length + right.length === 0 ? (
            <li>no index lists it, it names no subject and nothing refers to it</li>
          ) : null}
        </ul>
      </figcaption>
    </figure>
  );
}

function Box({ x, y, node, current }: { x: number; y: number; node: Placed['node']; current?: boolean }) {
  const action = 'missing' in node ? 'missing' : (node.decision?.action ?? 'none');
  const kind = 'missing' in node ? '' : node.kind;
  return (
    <g class={`node ${action}${current ? ' current' : ''}`}>
      <rect x={x} y={y} width={W} height={H} rx={6} />
      <text x={x + 8} y={y + 18} class="node-title">
        {label(node)}
      </text>
      <text x={x + 8} y={y + 36} class="node-sub">
        {kind} · {'missing' in node ? 'absent' : actionText(node.decision)}
      </text>
    </g>
  );
}
