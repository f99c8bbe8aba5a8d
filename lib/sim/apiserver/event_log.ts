/**
 * The bounded window of recent changes of one resource, as kube-apiserver's watch cache keeps
 * it: watches resume from it, continue tokens rebuild past lists from it, and a version older
 * than the window is answered 410 Gone. Like the watch cache, the window holds at most a number
 * of events and drops those older than its freshness period (75 s in kube-apiserver) once newer
 * ones arrive.
 *
 * @module
 */

/** A stored object version. The object is never mutated once stored. */
export interface Rec {
  readonly obj: Record<string, unknown>;
  /** `JSON.stringify(obj)`, computed once and reused by every reader. */
  readonly json: string;
  readonly rv: number;
  readonly key: string;
  /** Namespace ("" for cluster-scoped objects). */
  readonly ns: string;
}

/**
 * A version as the store keeps it. Once a newer version replaced it, only the window refers to
 * it, so {@linkcode StoredRec.compact} drops the parsed object and keeps the JSON: readers of
 * such an old version (watch replays, paged lists) parse it again.
 */
export class StoredRec implements Rec {
  #obj: Record<string, unknown> | undefined;
  readonly json: string;
  readonly rv: number;
  readonly key: string;
  readonly ns: string;

  constructor(obj: Record<string, unknown>, json: string, rv: number, key: string, ns: string) {
    this.#obj = obj;
    this.json = json;
    this.rv = rv;
    this.key = key;
    this.ns = ns;
  }

  /** The object; a fresh parse of `json` once compacted (not kept, so the window stays small). */
  get obj(): Record<string, unknown> {
    return this.#obj ?? JSON.parse(this.json);
  }

  /** Whether the parsed object was dropped. */
  get compacted(): boolean {
    return this.#obj === undefined;
  }

  /**
   * Drops the parsed object; readers parse `json` again. For versions no longer current, and
   * for current ones of resources held as JSON alone (see `ResourceStore`).
   */
  compact(): void {
    this.#obj = undefined;
  }
}

/** Watch event types. */
export type EventType = "ADDED" | "MODIFIED" | "DELETED";

/** One change: `cur` is the new state (the last state for DELETED), `prev` the one before. */
export interface StoreEvent {
  readonly type: EventType;
  readonly rv: number;
  readonly key: string;
  readonly cur: Rec;
  readonly prev?: Rec;
  /**
   * Encoded watch line in storage form, filled by the first watcher that needs it while the
   * event is dispatched, and dropped afterwards (replays encode again).
   */
  line?: Uint8Array;
}

/** Bounds of an {@linkcode EventLog}. */
export interface EventLogOptions {
  /** Events kept at most. */
  capacity: number;
  /**
   * Events older than this (ms) are dropped when a newer one arrives, as long as more than
   * `minEvents` remain. Default: no age limit.
   */
  maxAgeMs?: number;
  /** Events always kept whatever their age (default 100, the watch cache's lower bound). */
  minEvents?: number;
  /** Clock (ms). */
  now?: () => number;
}

/** A ring buffer of the most recent events of one resource. */
export class EventLog {
  #buf: (StoreEvent | undefined)[];
  #times: Float64Array;
  #start = 0;
  #len = 0;
  #floor = 0;
  readonly #maxAgeMs: number;
  readonly #minEvents: number;
  readonly #now: () => number;

  constructor(opts: number | EventLogOptions) {
    const o = typeof opts === "number" ? { capacity: opts } : opts;
    const capacity = Math.max(1, o.capacity);
    this.#buf = new Array(capacity);
    this.#times = new Float64Array(capacity);
    this.#maxAgeMs = o.maxAgeMs ?? Infinity;
    this.#minEvents = Math.max(1, o.minEvents ?? 100);
    this.#now = o.now ?? Date.now;
  }

  /** Events held now. */
  get size(): number {
    return this.#len;
  }

  /** Events with an rv above this one are all retained. */
  get floor(): number {
    return this.#floor;
  }

  /** Appends an event, evicting the oldest when full and those past the age limit. */
  push(ev: StoreEvent): void {
    const cap = this.#buf.length;
    const now = this.#now();
    if (this.#maxAgeMs !== Infinity) {
      const limit = now - this.#maxAgeMs;
      while (this.#len >= this.#minEvents && this.#times[this.#start] < limit) this.#evict();
    }
    if (this.#len === cap) this.#evict();
    const at = (this.#start + this.#len) % cap;
    this.#buf[at] = ev;
    this.#times[at] = now;
    this.#len++;
  }

  #evict(): void {
    const old = this.#buf[this.#start]!;
    this.#floor = old.rv;
    this.#buf[this.#start] = undefined;
    this.#start = (this.#start + 1) % this.#buf.length;
    this.#len--;
  }

  #at(i: number): StoreEvent {
    return this.#buf[(this.#start + i) % this.#buf.length]!;
  }

  /** Events newer than `rv`, oldest first; undefined when some were already evicted. */
  since(rv: number): StoreEvent[] | undefined {
    if (rv < this.#floor) return undefined;
    let lo = 0;
    let hi = this.#len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#at(mid).rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    const out: StoreEvent[] = [];
    for (let i = lo; i < this.#len; i++) out.push(this.#at(i));
    return out;
  }
}
