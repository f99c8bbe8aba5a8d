/**
 * One image's wish to pull on some nodes, as the engine stores it between calls.
 *
 * @module
 */

/** A node that needs the image, as the controller reports it. */
export interface NodeNeed {
  /** Node name. */
  name: string;
  /** When the node joined (its creationTimestamp), in ms: newer nodes are served first. */
  joinedAt: number;
  /** Node-level backoff: the node is not pulled for this image before this time (ms). */
  blockedUntil?: number;
}

/** Tells whether a node is taken by someone else right now. */
export type NodeBusy = (node: string) => boolean;

/** Below this many nodes a plain scan is as cheap as counting, so counting is skipped. */
const COUNT_THRESHOLD = 64;

/** The stored demand of one image. */
export class DemandState {
  readonly image: string;
  readonly priority: number;
  readonly budget: string;
  readonly blockedUntil: number;
  /** Node names, newest first, then by name. */
  readonly nodes: readonly string[];
  /** Nodes granted since this demand was set: in flight, not offered again. */
  readonly taken: Set<string> = new Set();
  readonly #blocked: Map<string, number>;
  #nodeSet?: Set<string>;
  #unblockTimes?: number[];

  constructor(
    image: string,
    priority: number,
    budget: string,
    blockedUntil: number,
    needs: readonly NodeNeed[],
  ) {
    this.image = image;
    this.priority = priority;
    this.budget = budget;
    this.blockedUntil = blockedUntil;
    const seen = new Set<string>();
    const unique: NodeNeed[] = [];
    this.#blocked = new Map();
    for (const n of needs) {
      if (seen.has(n.name)) continue;
      seen.add(n.name);
      unique.push(n);
      if (n.blockedUntil !== undefined) this.#blocked.set(n.name, n.blockedUntil);
    }
    unique.sort((a, b) => b.joinedAt - a.joinedAt || compareStrings(a.name, b.name));
    this.nodes = unique.map((n) => n.name);
  }

  /** Nodes not yet granted under this demand. */
  get pending(): number {
    return this.nodes.length - this.taken.size;
  }

  /** Whether the node is in node-level backoff at `now`. */
  isBlocked(node: string, now: number): boolean {
    const until = this.#blocked.get(node);
    return until !== undefined && until > now;
  }

  /** Earliest end of a node-level backoff still running at `now` among pending nodes. */
  nextUnblock(now: number): number | undefined {
    let best: number | undefined;
    for (const [node, until] of this.#blocked) {
      if (until > now && !this.taken.has(node) && (best === undefined || until < best)) {
        best = until;
      }
    }
    return best;
  }

  /**
   * Up to `limit` nodes that may start now, newest first: not granted yet, not blocked, not busy.
   * When many nodes are in backoff, first counts whether any node is left at all, so an image
   * whose every node is blocked costs O(busy + log n) instead of a scan of all its nodes.
   */
  pick(limit: number, now: number, busy: NodeBusy, busyNodes: () => Iterable<string>): string[] {
    if (limit <= 0 || this.pending <= 0) return [];
    if (this.nodes.length > COUNT_THRESHOLD && this.#blocked.size > 0) {
      if (this.#eligibleCount(now, busy, busyNodes) <= 0) return [];
    }
    const out: string[] = [];
    for (const node of this.nodes) {
      if (this.taken.has(node) || busy(node) || this.isBlocked(node, now)) continue;
      out.push(node);
      if (out.length >= limit) break;
    }
    return out;
  }

  #eligibleCount(now: number, busy: NodeBusy, busyNodes: () => Iterable<string>): number {
    this.#nodeSet ??= new Set(this.nodes);
    this.#unblockTimes ??= [...this.#blocked.values()].sort((a, b) => a - b);
    const blockedNow = this.#unblockTimes.length - upperBound(this.#unblockTimes, now);
    // Nodes unavailable for another reason, counted once and only when not already blocked.
    const other = new Set<string>();
    for (const node of this.taken) if (!this.isBlocked(node, now)) other.add(node);
    for (const node of busyNodes()) {
      if (this.#nodeSet.has(node) && busy(node) && !this.isBlocked(node, now)) other.add(node);
    }
    return this.nodes.length - blockedNow - other.size;
  }
}

/** Index of the first element greater than `value` in an ascending array. */
function upperBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Code-unit order: deterministic and locale-independent. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The global pull order: priority ascending, then image name. */
export function compareDemands(a: DemandState, b: DemandState): number {
  return a.priority - b.priority || compareStrings(a.image, b.image);
}
