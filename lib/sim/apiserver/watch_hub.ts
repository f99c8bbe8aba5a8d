/**
 * Fan-out of one resource's events to its watchers. Watchers that select on a field equality
 * (`spec.nodeName=n`, `metadata.name=x`, or their namespace) are indexed by that value, so an
 * event reaches only candidate watchers even with thousands of them (one per simulated node).
 *
 * @module
 */
import type { StoreEvent } from "./event_log.ts";

/** A watcher as the hub sees it. */
export interface WatchTarget {
  /** Field whose value this watcher requires, with the value (for indexing), if any. */
  readonly index?: {
    field: string;
    value: string;
    extract: (obj: Record<string, unknown>) => string;
  };
  /** Receives an event that may concern it; the watcher applies its full selectors itself. */
  offer(ev: StoreEvent): void;
}

interface FieldIndex {
  extract: (obj: Record<string, unknown>) => string;
  byValue: Map<string, Set<WatchTarget>>;
}

/** The watchers of one resource. */
export class WatcherHub {
  #unindexed = new Set<WatchTarget>();
  #fields = new Map<string, FieldIndex>();
  #size = 0;

  /** Number of registered watchers. */
  get size(): number {
    return this.#size;
  }

  /** Registers a watcher. */
  add(w: WatchTarget): void {
    this.#size++;
    if (!w.index) {
      this.#unindexed.add(w);
      return;
    }
    let idx = this.#fields.get(w.index.field);
    if (!idx) {
      idx = { extract: w.index.extract, byValue: new Map() };
      this.#fields.set(w.index.field, idx);
    }
    let set = idx.byValue.get(w.index.value);
    if (!set) {
      set = new Set();
      idx.byValue.set(w.index.value, set);
    }
    set.add(w);
  }

  /** Unregisters a watcher (no-op when absent). */
  delete(w: WatchTarget): void {
    if (!w.index) {
      if (this.#unindexed.delete(w)) this.#size--;
      return;
    }
    const idx = this.#fields.get(w.index.field);
    const set = idx?.byValue.get(w.index.value);
    if (set?.delete(w)) {
      this.#size--;
      if (set.size === 0) idx!.byValue.delete(w.index.value);
      if (idx!.byValue.size === 0) this.#fields.delete(w.index.field);
    }
  }

  /** Every registered watcher (for shutdown and bookmarks). */
  all(): WatchTarget[] {
    const out = [...this.#unindexed];
    for (const idx of this.#fields.values()) {
      for (const set of idx.byValue.values()) out.push(...set);
    }
    return out;
  }

  /** Offers an event to every watcher that could match it. */
  dispatch(ev: StoreEvent): void {
    if (this.#size === 0) return;
    for (const w of [...this.#unindexed]) w.offer(ev);
    for (const idx of this.#fields.values()) {
      const a = idx.extract(ev.cur.obj);
      const b = ev.prev ? idx.extract(ev.prev.obj) : a;
      const first = idx.byValue.get(a);
      if (first) { for (const w of [...first]) w.offer(ev); }
      if (b !== a) {
        const second = idx.byValue.get(b);
        if (second) { for (const w of [...second]) w.offer(ev); }
      }
    }
  }
}
