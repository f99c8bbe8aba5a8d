import type { IndexFunc } from "./indexers.ts";
import { objectKey } from "./object_key.ts";
import type { KubeObject } from "./types.ts";

/** What changed when a store's content was replaced by a fresh list. */
export interface StoreDiff<T> {
  /** Objects not cached before. */
  added: T[];
  /** Objects whose resourceVersion changed, with their previous state. */
  updated: { old: T; obj: T }[];
  /** Objects no longer present, in their last known state. */
  deleted: T[];
}

/**
 * An indexed object cache keyed by "namespace/name". Index values are remembered per key so an
 * update or delete removes exactly the entries the old object had.
 */
export class Store<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers: Map<string, IndexFunc<T>>;
  readonly #indices = new Map<string, Map<string, Set<string>>>();
  readonly #indexedValues = new Map<string, Map<string, string[]>>();

  /** Creates an empty store with the given index functions. */
  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.#indexers = new Map(Object.entries(indexers));
    for (const name of this.#indexers.keys()) {
      this.#indices.set(name, new Map());
      this.#indexedValues.set(name, new Map());
    }
  }

  /** Number of cached objects. */
  get size(): number {
    return this.#items.size;
  }

  /** The object of a key. */
  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  /** Whether a key is cached. */
  has(key: string): boolean {
    return this.#items.has(key);
  }

  /** All keys. */
  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** All objects. */
  list(): T[] {
    return [...this.#items.values()];
  }

  /** Objects whose index `indexName` contains `value`. */
  byIndex(indexName: string, value: string): T[] {
    const index = this.#indices.get(indexName);
    if (!index) throw new Error(`Cannot query index "${indexName}": no such indexer`);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const obj = this.#items.get(k);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** Inserts or replaces an object; returns the previous one. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    this.#reindex(key, obj);
    return old;
  }

  /** Removes an object by key; returns what was cached. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#items.delete(key);
    this.#reindex(key, undefined);
    return old;
  }

  /** Replaces the whole content and reports the difference (updates by resourceVersion change). */
  replace(objs: T[]): StoreDiff<T> {
    const diff: StoreDiff<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const obj of objs) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.upsert(obj);
      if (!old) diff.added.push(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        diff.updated.push({ old, obj });
      }
    }
    for (const key of [...this.#items.keys()]) {
      if (seen.has(key)) continue;
      const old = this.delete(key);
      if (old) diff.deleted.push(old);
    }
    return diff;
  }

  #reindex(key: string, obj: T | undefined): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name)!;
      const remembered = this.#indexedValues.get(name)!;
      for (const v of remembered.get(key) ?? []) {
        const keys = index.get(v);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(v);
      }
      if (!obj) {
        remembered.delete(key);
        continue;
      }
      const values = [...new Set(fn(obj))];
      if (values.length === 0) remembered.delete(key);
      else remembered.set(key, values);
      for (const v of values) {
        let keys = index.get(v);
        if (!keys) index.set(v, keys = new Set());
        keys.add(key);
      }
    }
  }
}
