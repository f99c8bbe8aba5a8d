/**
 * The bounded window of recent changes of one resource, as kube-apiserver's watch cache keeps
 * it: watches resume from it, continue tokens rebuild past lists from it, and a version older
 * than the window is answered 410 Gone.
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

/** Watch event types. */
export type EventType = "ADDED" | "MODIFIED" | "DELETED";

/** One change: `cur` is the new state (the last state for DELETED), `prev` the one before. */
export interface StoreEvent {
  readonly type: EventType;
  readonly rv: number;
  readonly key: string;
  readonly cur: Rec;
  readonly prev?: Rec;
  /** Encoded watch line in storage form, filled by the first watcher that needs it. */
  line?: Uint8Array;
}

/** A ring buffer of the most recent events of one resource. */
export class EventLog {
  #buf: (StoreEvent | undefined)[];
  #start = 0;
  #len = 0;
  #floor = 0;

  constructor(capacity: number) {
    this.#buf = new Array(Math.max(1, capacity));
  }

  /** Events with an rv above this one are all retained. */
  get floor(): number {
    return this.#floor;
  }

  /** Appends an event, evicting the oldest when full. */
  push(ev: StoreEvent): void {
    const cap = this.#buf.length;
    if (this.#len === cap) {
      const old = this.#buf[this.#start]!;
      this.#floor = old.rv;
      this.#buf[this.#start] = ev;
      this.#start = (this.#start + 1) % cap;
    } else {
      this.#buf[(this.#start + this.#len) % cap] = ev;
      this.#len++;
    }
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
