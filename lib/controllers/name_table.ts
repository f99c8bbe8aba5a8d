/**
 * One shared copy of each node name. Every CachedImage status lists the nodes that hold its
 * image: with 200 images on 5,000 nodes that is a million names, each parsed from JSON as a
 * string of its own. Pointing them all at one copy per node keeps the informer cache small.
 *
 * @module
 */
import type { RawObject } from "./context.ts";

/** Canonical copies of node names, kept while the node exists. */
export class NameTable {
  readonly #names = new Map<string, string>();

  /** Number of names held. */
  get size(): number {
    return this.#names.size;
  }

  /** Records a node's name; returns the shared copy. */
  add(name: string): string {
    const have = this.#names.get(name);
    if (have !== undefined) return have;
    this.#names.set(name, name);
    return name;
  }

  /** The shared copy of `name`, or `name` itself when the table has none. */
  get(name: string): string {
    return this.#names.get(name) ?? name;
  }

  /** The node is gone. */
  delete(name: string): void {
    this.#names.delete(name);
  }
}

interface NodeLists {
  cachedNodes?: unknown;
  repullPending?: unknown;
  nodeFailures?: unknown;
  nodeDigests?: unknown;
}

/**
 * Replaces, in place, the node names of a CachedImage status by their shared copies. Anything
 * that does not have the expected shape is left alone for validation to report.
 */
export function internStatusNodes<T extends RawObject>(obj: T, table: NameTable): T {
  const status = obj.status as NodeLists | undefined;
  if (!status || typeof status !== "object") return obj;
  for (const list of [status.cachedNodes, status.repullPending]) {
    if (!Array.isArray(list)) continue;
    for (let i = 0; i < list.length; i++) {
      if (typeof list[i] === "string") list[i] = table.get(list[i]);
    }
  }
  for (const list of [status.nodeFailures, status.nodeDigests]) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      if (entry && typeof entry === "object" && typeof entry.node === "string") {
        entry.node = table.get(entry.node);
      }
    }
  }
  return obj;
}
