import dagre from '@dagrejs/dagre';
import './graph.css';
import { useMemo, useRef, useState } from 'preact/hooks';
import type { GraphEdge, GraphModel, GraphNode } from '../../shared/pictures/model.ts';

/**
 * The image graph of one repository (`GraphModel`, built by `imageGraphPicture` in `shared/pictures/graph.ts`):
 * index → children, subject → referrers, each node with its tags and, when a plan decided, kept or deleted and why.
 * Laid out with dagre, drawn in SVG.
 *
 * Accessible: every node is focusable (Tab, or the arrow keys from node to node); Enter, Space or a click opens it
 * and the panel below says what it is and why it is kept or deleted. Colour is never the only signal: the action is
 * written on the node (KEEP, DELETE, ARCHIVE) and drawn in the border (solid, dashed, dotted) and fill (hatched for
 * a deletion); the kind is the shape (index: double border, referrer: pill, group: stacked). A text version of the
 * whole graph follows it.
 *
 * Props: `graph`; optional `onOpen(node)`, called when a node is opened.
 */
export interface GraphViewProps {
  graph: GraphModel;
  onOpen?: (node: GraphNode) => void;
}

const NODE_WIDTH = 184;
const NODE_HEIGHT = 54;

const ACTION_WORD: Record<GraphNode['action'], string> = {
  keep: 'KEEP',
  delete: 'DELETE',
  archive: 'ARCHIVE',
  unplanned: '',
  mixed: 'MIXED',
};

const KIND_WORD: Record<GraphNode['kind'], string> = {
  index: 'index',
  image: 'image',
  referrer: 'referrer',
  group: 'group',
};

const clip = (text: string, length: number) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

/** What a node is, in one sentence: the screen reader's label and the tooltip. */
export function describeNode(node: GraphNode): string {
  const what = node.kind === 'group' ? `group of ${node.label}` : `${KIND_WORD[node.kind]} ${node.label}`;
  const tags = node.tags.length > 0 ? `, tags ${node.tags.join(', ')}` : '';
  const action = node.action === 'unplanned' ? '' : `, ${ACTION_WORD[node.action].toLowerCase()}`;
  return `${what}${tags}${action}: ${node.reason}`;
}

interface Layout {
  width: number;
  height: number;
  nodes: { node: GraphNode; x: number; y: number }[];
  edges: { edge: GraphEdge; points: { x: number; y: number }[] }[];
}

/** Connected components of the graph (undirected), each a list of node indexes, largest first. */
function components(graph: GraphModel): number[][] {
  const index = new Map(graph.nodes.map((node, i) => [node.id, i]));
  const parent = graph.nodes.map((_, i) => i);
  const find = (i: number): number => {
    let root = i;
    while (parent[root] !== root) root = parent[root] as number;
    while (parent[i] !== root) {
      const next = parent[i] as number;
      parent[i] = root;
      i = next;
    }
    return root;
  };
  for (const edge of graph.edges) {
    const a = index.get(edge.from);
    const b = index.get(edge.to);
    if (a !== undefined && b !== undefined) parent[find(a)] = find(b);
  }
  const groups = new Map<number, number[]>();
  graph.nodes.forEach((_, i) => {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), i]);
  });
  return [...groups.values()].sort((x, y) => y.length - x.length || (x[0] ?? 0) - (y[0] ?? 0));
}

/**
 * Each connected component laid out by dagre (left to right: index → children, subject → referrers), then the
 * components packed in rows up to `maxWidth`, so that a repository of many unrelated images reads like a page.
 */
function layout(graph: GraphModel, maxWidth = 1180): Layout {
  const nodes: Layout['nodes'] = [];
  const edges: Layout['edges'] = [];
  const gap = 16;
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let width = NODE_WIDTH;
  const edgesByNode = new Map<string, GraphEdge[]>();
  for (const edge of graph.edges) edgesByNode.set(edge.from, [...(edgesByNode.get(edge.from) ?? []), edge]);
  for (const members of components(graph)) {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: 'LR', nodesep: 12, ranksep: 48, marginx: 0, marginy: 0 });
    g.setDefaultEdgeLabel(() => ({}));
    const own: GraphEdge[] = [];
    for (const i of members) {
      const node = graph.nodes[i] as GraphNode;
      g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
      own.push(...(edgesByNode.get(node.id) ?? []));
    }
    own.forEach((edge, i) => {
      g.setEdge(edge.from, edge.to, {}, `e${i}`);
    });
    dagre.layout(g);
    const size = g.graph();
    const w = size.width ?? NODE_WIDTH;
    const h = size.height ?? NODE_HEIGHT;
    if (x > 0 && x + w > maxWidth) {
      x = 0;
      y += rowHeight + gap;
      rowHeight = 0;
    }
    for (const i of members) {
      const node = graph.nodes[i] as GraphNode;
      const placed = g.node(node.id);
      nodes.push({ node, x: x + placed.x + 8, y: y + placed.y + 14 });
    }
    own.forEach((edge, i) => {
      const points = g.edge({ v: edge.from, w: edge.to, name: `e${i}` })?.points ?? [];
      edges.push({ edge, points: points.map((p) => ({ x: x + p.x + 8, y: y + p.y + 14 })) });
    });
    x += w + gap;
    rowHeight = Math.max(rowHeight, h);
    width = Math.max(width, x);
  }
  return { width: width + 16, height: y + rowHeight + 28, nodes, edges };
}

function Shape({ node }: { node: GraphNode }) {
  const w = NODE_WIDTH;
  const h = NODE_HEIGHT;
  const base = `shape action-${node.action}`;
  switch (node.kind) {
    case 'index':
      return (
        <>
          <rect class={base} x={-w / 2} y={-h / 2} width={w} height={h} rx={3} />
          <rect class="inner" x={-w / 2 + 4} y={-h / 2 + 4} width={w - 8} height={h - 8} rx={2} />
        </>
      );
    case 'referrer':
      return <rect class={base} x={-w / 2} y={-h / 2} width={w} height={h} rx={h / 2} />;
    case 'group':
      return (
        <>
          <rect class={`${base} stack`} x={-w / 2 + 6} y={-h / 2 - 6} width={w} height={h} rx={3} />
          <rect class={base} x={-w / 2} y={-h / 2} width={w} height={h} rx={3} />
        </>
      );
    default:
      return <rect class={base} x={-w / 2} y={-h / 2} width={w} height={h} rx={3} />;
  }
}

/** The image graph, its legend, the opened node's panel and the text version. */
export function GraphView({ graph, onOpen }: GraphViewProps) {
  const placed = useMemo(() => layout(graph), [graph]);
  const [opened, setOpened] = useState<GraphNode | undefined>(undefined);
  const refs = useRef<(SVGGElement | null)[]>([]);
  const open = (node: GraphNode) => {
    setOpened(node);
    onOpen?.(node);
  };
  const focusAt = (index: number) => refs.current[(index + placed.nodes.length) % placed.nodes.length]?.focus();
  const title =
    graph.mode === 'images'
      ? `Image graph of ${graph.repository}: ${graph.images} images`
      : `Image graph of ${graph.repository}: ${graph.images} images in ${graph.nodes.length} groups (kind, action and reason)`;
  return (
    <figure class="graph-view">
      <figcaption class="graph-title">{title}</figcaption>
      <Legend />
      <div class="graph-scroll">
        <svg width={placed.width} height={placed.height} viewBox={`0 0 ${placed.width} ${placed.height}`}>
          <title>{title}</title>
          <defs>
            <pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
              <rect width="8" height="8" class="hatch-bg" />
              <line x1="0" y1="0" x2="0" y2="8" class="hatch-line" />
            </pattern>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
              <path d="M0,0 L10,5 L0,10 z" class="arrow" />
            </marker>
          </defs>
          {placed.edges.map(({ edge, points }) => (
            <path
              key={`${edge.kind} ${edge.from} ${edge.to}`}
              class={`edge edge-${edge.kind}`}
              d={points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}
              marker-end="url(#arrow)"
            >
              <title>{`${edge.kind === 'child' ? 'lists' : 'is referred to by'}${edge.count > 1 ? ` (${edge.count})` : ''}`}</title>
            </path>
          ))}
          {placed.nodes.map(({ node, x, y }, index) => (
            // biome-ignore lint/a11y/useSemanticElements: SVG has no <button>; the node is focusable and answers Enter and Space as one.
            <g
              key={node.id}
              ref={(element) => {
                refs.current[index] = element;
              }}
              class={`node kind-${node.kind} action-${node.action}${opened?.id === node.id ? ' opened' : ''}`}
              transform={`translate(${x.toFixed(1)},${y.toFixed(1)})`}
              tabindex={0}
              role="button"
              aria-label={describeNode(node)}
              aria-pressed={opened?.id === node.id}
              data-id={node.id}
              onClick={() => open(node)}
              onKeyDown={(event) => {
                if (event.key === 'Enter' || event.key === ' ') {
                  event.preventDefault();
                  open(node);
                } else if (event.key === 'ArrowRight' || event.key === 'ArrowDown') {
                  event.preventDefault();
                  focusAt(index + 1);
                } else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') {
                  event.preventDefault();
                  focusAt(index - 1);
                }
              }}
            >
              <title>{describeNode(node)}</title>
              <Shape node={node} />
              <text class="label" x={-NODE_WIDTH / 2 + 10} y={-8}>
                {clip(node.label, 24)}
              </text>
              <text class="tags" x={-NODE_WIDTH / 2 + 10} y={8}>
                {clip(node.kind === 'group' ? node.reason : node.tags.join(', ') || 'untagged', 28)}
              </text>
              {node.action === 'unplanned' ? null : (
                <text class="action-word" x={NODE_WIDTH / 2 - 10} y={22} text-anchor="end">
                  {ACTION_WORD[node.action]}
                </text>
              )}
            </g>
          ))}
        </svg>
      </div>
      <NodePanel node={opened} />
      <GraphText graph={graph} />
    </figure>
  );
}

function Legend() {
  return (
    <ul class="graph-legend" aria-label="Legend">
      <li>
        <span class="swatch action-keep" /> KEEP: solid border
      </li>
      <li>
        <span class="swatch action-delete" /> DELETE: dashed border, hatched
      </li>
      <li>
        <span class="swatch action-archive" /> ARCHIVE: dotted border
      </li>
      <li>Index: double border · Referrer: rounded · Group: stacked</li>
      <li>Arrows: index → image it lists (solid), subject → referrer (dashed)</li>
    </ul>
  );
}

function NodePanel({ node }: { node: GraphNode | undefined }) {
  return (
    <section class="node-panel" aria-live="polite" aria-label="Opened image">
      {node === undefined ? (
        <p>Open a node (click, or Enter on a focused node) to read why it is kept or deleted.</p>
      ) : (
        <dl>
          <dt>{node.kind === 'group' ? 'Group' : 'Digest'}</dt>
          <dd class="digest">{node.digest ?? node.label}</dd>
          <dt>Kind</dt>
          <dd>{node.kind === 'group' ? `${node.of ?? 'image'} (${node.count} images)` : node.kind}</dd>
          <dt>Tags</dt>
          <dd>{node.tags.length > 0 ? node.tags.join(', ') : 'none'}</dd>
          <dt>Action</dt>
          <dd class="node-action">{node.action}</dd>
          <dt>Reason</dt>
          <dd class="node-reason">{node.reason}</dd>
        </dl>
      )}
    </section>
  );
}

/** The graph as a list: each node with what it lists and what refers to it. */
export function GraphText({ graph }: { graph: GraphModel }) {
  const byId = useMemo(() => new Map(graph.nodes.map((node) => [node.id, node])), [graph]);
  const out = useMemo(() => {
    const map = new Map<string, GraphEdge[]>();
    for (const edge of graph.edges) map.set(edge.from, [...(map.get(edge.from) ?? []), edge]);
    return map;
  }, [graph]);
  const name = (id: string) => byId.get(id)?.label ?? id;
  return (
    <details class="graph-text">
      <summary>Text version of the graph</summary>
      <ul>
        {graph.nodes.map((node) => {
          const edges = out.get(node.id) ?? [];
          const lists = edges.filter((edge) => edge.kind === 'child').map((edge) => name(edge.to));
          const referrers = edges.filter((edge) => edge.kind === 'referrer').map((edge) => name(edge.to));
          return (
            <li key={node.id}>
              {describeNode(node)}
              {lists.length > 0 ? `; lists ${lists.join(', ')}` : ''}
              {referrers.length > 0 ? `; referred to by ${referrers.join(', ')}` : ''}
            </li>
          );
        })}
      </ul>
    </details>
  );
}
