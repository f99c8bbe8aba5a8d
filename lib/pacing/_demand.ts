/**
 * One image's wish to pull on some nodes, as the engine stores it between calls.
 *
 * @module
 */

/**
 * A node that needs the image, as the controller reports it. Names should be unique within one
 * demand; a name listed twice is still never granted twice.
 */
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

/** How far `pick` scans before it checks whether any eligible node is left at all. */
const SCAN_BEFORE_COUNT = 64;

/** The stored demand of one image. */
export class DemandState {
  readonly image: string;
  readonly priority: number;
  readonly budget: string;
  readonly blockedUntil: number;
  /** The nodes, newest first, then by name: the caller's array when it came sorted. */
  readonly needs: readonly NodeNeed[];
  /** Nodes granted since this demand was set: in flight, not offered again. */
  readonly taken: Set<string> = new Set();
  /**
   * Nodes granted before this demand was set whose Pods were not in the cache yet: not offered
   * either, even once those Pods are gone. May name nodes the demand does not list; they do not
   * count in `pending`.
   */
  carried?: Set<string>;
  readonly #blockedCount: number;
  /** Earliest node-level backoff end, to answer "all blocked?" without an index. */
  readonly #firstUnblock: number;
  #byName?: Map<string, NodeNeed>;
  #unblockTimes?: number[];

  constructor(
    image: string,
    priority: number,
    budget: string,
    blockedUntil: number,
    needs: readonly NodeNeed[],
    ordered = false,
  ) {
    this.image = image;
    this.priority = priority;
    this.budget = budget;
    this.blockedUntil = blockedUntil;
    // Reconciles of large images call this often: keep the caller's array when it is already in
    // order (the usual case) rather than allocating per node.
    this.needs = ordered || isSorted(needs) ? needs : [...needs].sort(compareNeeds);
    let blocked = 0;
    let first = Infinity;
    for (const n of this.needs) {
      if (n.blockedUntil === undefined) continue;
      blocked++;
      if (n.blockedUntil < first) first = n.blockedUntil;
    }
    this.#blockedCount = blocked;
    this.#firstUnblock = first;
  }

  /** Node names in order (for tests and diagnostics). */
  get nodes(): string[] {
    return this.needs.map((n) => n.name);
  }

  /** Nodes not yet granted under this demand. */
  get pending(): number {
    return this.needs.length - this.taken.size;
  }

  /** Earliest end of a node-level backoff still running at `now` among pending nodes. */
  nextUnblock(now: number): number | undefined {
    if (this.#blockedCount === 0) return undefined;
    let best: number | undefined;
    for (const n of this.needs) {
      const until = n.blockedUntil;
      if (until !== undefined && until > now && (best === undefined || until < best)) {
        if (!this.taken.has(n.name)) best = until;
      }
    }
    return best;
  }

  /**
   * Up to `limit` nodes that may start now, newest first: not granted yet, not blocked, not busy.
   * The scan usually stops within the first few nodes. When it does not and many nodes are in
   * backoff, it first counts whether any node is left at all, so an image whose nodes are all
   * blocked costs O(busy + log n) per pass (after an O(n) index built once per demand) instead
   * of a scan of all its nodes.
   */
  pick(limit: number, now: number, busy: NodeBusy, busyNodes: () => Iterable<string>): string[] {
    if (limit <= 0 || this.pending <= 0) return [];
    const out: string[] = [];
    const needs = this.needs;
    for (let i = 0; i < needs.length; i++) {
      if (i === SCAN_BEFORE_COUNT && this.#blockedCount > 0) {
        if (!this.#mayHaveMore(out.length, now, busy, busyNodes)) break;
      }
      const n = needs[i];
      if (n.blockedUntil !== undefined && n.blockedUntil > now) continue;
      if (this.taken.has(n.name) || this.carried?.has(n.name)) continue;
      if (busy(n.name) || out.includes(n.name)) continue;
      out.push(n.name);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Whether more than `found` nodes could be eligible. Cheap answers first: the nodes not in
   * backoff come from a binary search; only when they could all be busy or granted are those
   * counted, in O(busy + granted).
   */
  #mayHaveMore(
    found: number,
    now: number,
    busy: NodeBusy,
    busyNodes: () => Iterable<string>,
  ): boolean {
    if (this.#blockedCount === this.needs.length && this.#firstUnblock > now) return false;
    const byName = this.#index();
    const times = this.#unblockTimes!;
    const unblocked = this.needs.length - (times.length - upperBound(times, now));
    if (unblocked <= found) return false;
    const isBlocked = (name: string) => {
      const until = byName.get(name)?.blockedUntil;
      return until !== undefined && until > now;
    };
    // Unblocked nodes that are unavailable for another reason, each counted once. The count is
    // an upper bound of the eligible nodes (exact when names are unique).
    const other = new Set<string>();
    for (const node of this.taken) if (!isBlocked(node)) other.add(node);
    for (const node of this.carried ?? []) {
      if (byName.has(node) && !isBlocked(node)) other.add(node);
    }
    for (const node of busyNodes()) {
      if (byName.has(node) && busy(node) && !isBlocked(node)) other.add(node);
    }
    return unblocked - other.size > found;
  }

  /** The nodes by name and the sorted backoff ends, built on first use. */
  #index(): Map<string, NodeNeed> {
    if (!this.#byName) {
      this.#byName = new Map();
      const times: number[] = [];
      for (const n of this.needs) {
        this.#byName.set(n.name, n);
        if (n.blockedUntil !== undefined) times.push(n.blockedUntil);
      }
      this.#unblockTimes = times.sort((a, b) => a - b);
    }
    return this.#byName;
  }
}

function compareNeeds(a: NodeNeed, b: NodeNeed): number {
  return b.joinedAt - a.joinedAt || compareStrings(a.name, b.name);
}

function isSorted(needs: readonly NodeNeed[]): boolean {
  for (let i = 1; i < needs.length; i++) if (compareNeeds(needs[i - 1], needs[i]) > 0) return false;
  return true;
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
