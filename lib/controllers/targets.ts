/**
 * Which nodes an image belongs on: label selectors plus taints and tolerations with exactly the
 * scheduler's matching rules. Pull Pods are bound with `spec.nodeName` and so bypass the scheduler;
 * this is where its taint check happens instead.
 *
 * @module
 */
import type { Node, Taint, Toleration } from "kubernetes-types/core/v1.d.ts";
import { indexNames } from "./node_marks.ts";

/** Taints the node lifecycle controller adds for these Ready condition states. */
const CONDITION_TAINTS: Record<string, Taint> = {
  False: { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" },
  Unknown: { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" },
};

/** Whether `toleration` tolerates `taint`, as `v1.Toleration.ToleratesTaint` decides. */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  const operator = toleration.operator ?? "Equal";
  if (operator === "Exists") return !toleration.key || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? "") === (taint.value ?? "");
}

/**
 * The taints that keep pods off a node: NoSchedule and NoExecute. A node whose Ready condition is
 * False or Unknown counts as carrying the matching not-ready/unreachable taint even before the node
 * lifecycle controller adds it, so readiness takes effect at once.
 */
export function blockingTaints(node: Node): Taint[] {
  const taints = (node.spec?.taints ?? []).filter((t) =>
    t.effect === "NoSchedule" || t.effect === "NoExecute"
  );
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  const implied = ready ? CONDITION_TAINTS[ready.status] : undefined;
  if (implied && !taints.some((t) => t.key === implied.key)) taints.push(implied);
  return taints;
}

/** Whether every pair of `selector` is among the node's labels. */
export function matchesSelector(
  node: Node,
  selector: Record<string, string> | undefined,
): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(selector ?? {})) if (labels[k] !== v) return false;
  return true;
}

/** What restricts the nodes of one image: its own settings and its PullPolicy's. */
export interface TargetRules {
  nodeSelectors: (Record<string, string> | undefined)[];
  tolerations: Toleration[];
}

/** Whether `node` should hold the image. */
export function isTarget(node: Node, rules: TargetRules): boolean {
  if (node.metadata?.deletionTimestamp) return false;
  if (!rules.nodeSelectors.every((s) => matchesSelector(node, s))) return false;
  return blockingTaints(node).every((taint) => rules.tolerations.some((t) => tolerates(t, taint)));
}

/** The target nodes, newest first (a node that just joined is the one most likely cold). */
export function selectTargets(nodes: Iterable<Node>, rules: TargetRules): Node[] {
  const out: Node[] = [];
  for (const node of nodes) if (isTarget(node, rules)) out.push(node);
  return sortNewestFirst(out);
}

/** Sorts nodes in place, newest first, then by name. */
function sortNewestFirst(out: Node[]): Node[] {
  // RFC 3339 timestamps in UTC sort as strings, which spares parsing thousands of dates per
  // reconcile; ties go by name in code-unit order, the order the pacing engine uses.
  return out.sort((a, b) => {
    const at = a.metadata?.creationTimestamp ?? "";
    const bt = b.metadata?.creationTimestamp ?? "";
    if (at !== bt) return at < bt ? 1 : -1;
    const an = a.metadata?.name ?? "";
    const bn = b.metadata?.name ?? "";
    return an < bn ? -1 : an > bn ? 1 : 0;
  });
}

/** When the node was created, in ms since the epoch (0 when unknown). */
export function joinedAt(node: Node): number {
  const t = node.metadata?.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** A target node as images see it: its name and when it joined (ms). Shared, never mutated. */
export interface TargetNode {
  readonly name: string;
  readonly joinedAt: number;
}

/** The nodes one set of rules selects. Shared by every image with the same rules. */
export interface TargetSelection {
  /** Target nodes, newest first, then by name. */
  readonly nodes: readonly TargetNode[];
  /** Their names, in the same order. */
  readonly names: readonly string[];
  /** The position of each name in `names` (and `nodes`). */
  readonly index: ReadonlyMap<string, number>;
  /**
   * Nodes that match the selectors but are not targets now (NotReady, an untolerated taint) and
   * are not being deleted: they keep the image.
   */
  readonly held: readonly string[];
}

/**
 * The target nodes of each distinct set of rules, computed once per change of the node set
 * rather than once per reconcile: with thousands of nodes and hundreds of images, selecting and
 * sorting the nodes was most of a reconcile. Call `invalidate` whenever a node is added or
 * deleted or changes in a way that can change targeting (labels, taints, readiness, deletion).
 */
export class TargetCache {
  readonly #list: () => Iterable<Node>;
  readonly #selections = new Map<string, TargetSelection>();

  constructor(list: () => Iterable<Node>) {
    this.#list = list;
  }

  /** The node set changed: every selection is computed again on its next use. */
  invalidate(): void {
    this.#selections.clear();
  }

  /** The nodes `rules` select (see {@linkcode TargetSelection}). */
  select(rules: TargetRules): TargetSelection {
    const key = JSON.stringify(rules);
    let s = this.#selections.get(key);
    if (!s) {
      s = computeSelection(this.#list(), rules);
      this.#selections.set(key, s);
    }
    return s;
  }
}

function computeSelection(all: Iterable<Node>, rules: TargetRules): TargetSelection {
  const targets: Node[] = [];
  const held: string[] = [];
  for (const n of all) {
    if (isTarget(n, rules)) targets.push(n);
    else if (
      !n.metadata?.deletionTimestamp && rules.nodeSelectors.every((s) => matchesSelector(n, s))
    ) {
      held.push(n.metadata!.name!);
    }
  }
  const nodes = sortNewestFirst(targets).map((n) =>
    Object.freeze({ name: n.metadata!.name!, joinedAt: joinedAt(n) })
  );
  const names = nodes.map((n) => n.name);
  return {
    nodes,
    names,
    index: indexNames(names),
    held,
  };
}
