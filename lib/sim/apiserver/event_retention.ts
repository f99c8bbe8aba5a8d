/**
 * Which core Events are due for removal. kube-apiserver stores every Event write with an etcd
 * lease of `--event-ttl` (default 1 h), so an Event goes away that long after its last write;
 * the simulator also caps how many it holds, removing those written longest ago first, as a
 * size-limited etcd would have to.
 *
 * @module
 */

interface Write {
  key: string;
  at: number;
  seq: number;
}

/**
 * Events of one store by time of their last write. Writes are queued in order; a later write of
 * the same Event, or its removal, leaves the earlier entry stale, and stale entries are skipped
 * and dropped as the queue is read. (A Map in write order, re-inserting on each write, made every
 * look at the oldest walk past the slots of all Events removed since the map last rehashed: at
 * thousands of Events a second that was most of an Event create.)
 */
export class EventRetention {
  /** Key -> sequence number of its last write. */
  readonly #latest = new Map<string, number>();
  /** Writes, oldest first, from `#head`. */
  #queue: Write[] = [];
  #head = 0;
  #seq = 0;

  /** Number of Events tracked. */
  get size(): number {
    return this.#latest.size;
  }

  /** Writes queued, stale ones included (bounded by a few times {@linkcode size}). */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Notes a create or update of an Event at `now` (ms). */
  written(key: string, now: number): void {
    const seq = ++this.#seq;
    this.#latest.set(key, seq);
    this.#queue.push({ key, at: now, seq });
    // Rewrites of Events that stay leave stale entries behind the oldest live one: drop them once
    // they outnumber the live ones, so the queue stays within a few times the Events held.
    if (this.queued > 2 * this.#latest.size + 1024) this.#rebuild((w) => this.#isLive(w));
  }

  /** Forgets a removed Event. */
  removed(key: string): void {
    this.#latest.delete(key);
  }

  /**
   * Keys of the Events to remove: those last written more than `ttlMs` before `now`, then the
   * oldest beyond `max`, oldest first.
   */
  due(now: number, ttlMs: number, max = Infinity): string[] {
    const out: string[] = [];
    const excess = this.#latest.size - max;
    const queue = this.#queue;
    for (let i = this.#head; i < queue.length; i++) {
      const w = queue[i];
      if (!this.#isLive(w)) {
        // Stale entries before the first live one are dropped for good.
        if (out.length === 0) this.#head = i + 1;
        continue;
      }
      if (now - w.at > ttlMs || excess > out.length) out.push(w.key);
      else break;
    }
    // Entries before the head are gone; give their room back once they are most of the array.
    if (this.#head > 1024 && this.#head * 2 > queue.length) this.#rebuild();
    return out;
  }

  /** Drops the entries before the head, and those `keep` refuses. */
  #rebuild(keep?: (w: Write) => boolean): void {
    const rest = this.#queue.slice(this.#head);
    this.#queue = keep ? rest.filter(keep) : rest;
    this.#head = 0;
  }

  #isLive(w: Write): boolean {
    return this.#latest.get(w.key) === w.seq;
  }
}
