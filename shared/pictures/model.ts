/**
 * The pictures' view model: what a report or a dashboard draws, as plain data. Pure: no AWS SDK, no DOM, no clock,
 * no I/O, so that the server side builds it, the browser side draws it, and the tests read it. `cleanup.ts`,
 * `reconcile.ts` and `compliance.ts` turn plans into a `Report`; `graph.ts` turns a repository's images into a `GraphModel`.
 */

/** What happens to an image (`unplanned`: a graph drawn without a plan, e.g. the dashboard's). */
export type NodeAction = 'keep' | 'delete' | 'archive' | 'unplanned' | 'mixed';

/** How an image takes part in the graph: an index (lists children), an image manifest, a referrer (names a subject). */
export type NodeKind = 'index' | 'image' | 'referrer' | 'group';

export interface GraphNode {
  /** Unique in its graph: the image's digest, or `group:<key>` for a group. */
  id: string;
  kind: NodeKind;
  /** A group's images' kind. */
  of?: Exclude<NodeKind, 'group'>;
  action: NodeAction;
  /** Short text on the node: a short digest, or a group's description. */
  label: string;
  /** The image's tags (none for a group). */
  tags: string[];
  /** Why it is kept or deleted, in words; a group's lists its reasons with counts. */
  reason: string;
  /** Images the node stands for: 1 for an image, more for a group. */
  count: number;
  /** The full digest of an image node. */
  digest?: string;
  /** Size in bytes (a group's: the sum). */
  sizeInBytes: number;
}

/** `child`: index → image it lists; `referrer`: subject → referrer (signature, attestation, SBOM). */
export interface GraphEdge {
  from: string;
  to: string;
  kind: 'child' | 'referrer';
  /** Edges a group edge stands for. */
  count: number;
}

/**
 * One repository's image graph. `images`: every image is a node. `groups`: the repository is larger than the
 * graph's limit, and each node stands for the images of one kind, action and reason (edges added up between them).
 */
export interface GraphModel {
  repository: string;
  mode: 'images' | 'groups';
  /** Images in the repository (the graph's nodes in `images` mode). */
  images: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** One decision of a plan, a row of the report's table. */
export interface DecisionRow {
  repository: string;
  /** The rule that matched the repository (`rule #0`), or the resource type of a reconcile change. */
  rule: string;
  /** The image's full digest, or a reconcile change's key. */
  subject: string;
  kind: string;
  action: string;
  tags: string[];
  sizeInBytes: number;
  /** ISO time, or empty when unknown. */
  pushedAt: string;
  /** The reason's machine code (`stale-untagged`). */
  reasonCode: string;
  /** The reason in words. */
  reason: string;
}

/** A line of a summary table: per repository or per rule. */
export interface SummaryLine {
  name: string;
  /** Images (or changes) in all. */
  total: number;
  /** Images to delete (or resources changed). */
  toDelete: number;
  toArchive: number;
  kept: number;
  /** Bytes reclaimed by the deletions. */
  bytesToDelete: number;
  /** The safety brake of this line: `held: ...` when it stopped every deletion, else `not reached`. */
  brake: string;
}

export interface Summary {
  total: number;
  toDelete: number;
  toArchive: number;
  kept: number;
  bytesToDelete: number;
  /** `held in N repositories` or `not reached`. */
  brake: string;
  byRepository: SummaryLine[];
  byRule: SummaryLine[];
  /** Column titles of the summary tables, so a reconcile plan names its own. */
  columns: { total: string; toDelete: string; toArchive?: string; kept: string; bytes?: string };
}

/** Everything one HTML report draws. */
export interface Report {
  /** The report format's version, so the browser side refuses what it was not built for. */
  version: 1;
  kind: 'cleanup' | 'reconcile' | 'compliance';
  title: string;
  /** `key: value` facts shown under the title (when, where). */
  facts: { name: string; value: string }[];
  summary: Summary;
  rows: DecisionRow[];
  graphs: GraphModel[];
  /** Remarks worth reading (a problem of the plan, resources left alone). */
  notes: string[];
  /** A compliance plan's settings drift (`compliance.ts`), drawn instead of the decisions table. */
  compliance?: ComplianceDrift;
}

/** One setting of one repository in a compliance plan: a row of the drift table. */
export interface DriftRow {
  repository: string;
  /** `rule #0` */
  rule: string;
  mode: 'report' | 'enforce';
  /** The setting checked: `tag-mutability`, `scan-on-push`, ... */
  check: string;
  status: 'compliant' | 'drift';
  actual: string;
  wanted: string;
  /** The fix enforce mode would make, in words; empty when compliant, `none: ...` when not fixable. */
  fix: string;
  /** The findings' details, joined. */
  detail: string;
}

/** Per check: repositories whose rule checks it, and how many are compliant or drift. */
export interface DriftCheckLine {
  check: string;
  checked: number;
  compliant: number;
  drifting: number;
  fixable: number;
}

export interface ComplianceDrift {
  /** Repositories listed in the registry. */
  listed: number;
  checked: number;
  compliant: number;
  drifting: number;
  checks: DriftCheckLine[];
  rows: DriftRow[];
}

export const REPORT_VERSION = 1;
