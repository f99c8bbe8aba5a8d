/**
 * Which core Events are due for removal. kube-apiserver stores every Event write with an etcd
 * lease of `--event-ttl` (default 1 h), so an Event goes away that long after its last write;
 * the simulator also caps how many it holds, removing those written longest ago first, as a
 * size-limited etcd would have to.
 *
 * @module
 */

/** Events of one store by time of their last write. */
export class EventRetention {
  /** Key -> time of the last write (ms); iteration order is write order, oldest first. */
  readonly #written = new Map<string, number>();

  /** Number of Events tracked. */
  get size(): number {
    return this.#written.size;
  }

  /** Notes a create or update of an Event at `now` (ms). */
  written(key: string, now: number): void {
    this.#written.delete(key);
    this.#written.set(key, now);
  }

  /** Forgets a removed Event. */
  removed(key: string): void {
    this.#written.delete(key);
  }

  /**
   * Keys of the Events to remove: those last written more than `ttlMs` before `now`, then the
   * oldest beyond `max`, oldest first.
   */
  due(now: number, ttlMs: number, max = Infinity): string[] {
    const out: string[] = [];
    const excess = this.#written.size - max;
    for (const [key, at] of this.#written) {
      if (now - at > ttlMs) out.push(key);
      else if (excess > out.length) out.push(key);
      else break;
    }
    return out;
  }
}
